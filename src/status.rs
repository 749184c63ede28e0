//! `hdis-sync status`: what the state says, as text or JSON.

use anyhow::Context;
use serde::Serialize;

use crate::config::Config;
use crate::store::{CaseError, OutboxItem, RunRow, Store};

#[derive(Debug, Serialize)]
pub struct Status {
    pub phases: std::collections::BTreeMap<String, i64>,
    /// Cases still polled: ticketed, open, and closed within the grace period.
    pub open_cases: i64,
    /// The next tick of `sync.schedule` in `sync.timezone` (daemon mode; under
    /// the systemd timer, `systemctl list-timers` tells).
    pub next_scheduled_run: Option<String>,
    pub outbox_depth: i64,
    pub dead_items: Vec<OutboxItem>,
    pub cases_with_errors: Vec<CaseError>,
    pub last_runs: Vec<RunRow>,
}

pub fn collect(store: &Store, config: &Config) -> anyhow::Result<Status> {
    let now = chrono::Utc::now();
    let next_scheduled_run = match (
        crate::scheduler::parse_schedule(&config.sync.schedule),
        config.sync.timezone.parse::<chrono_tz::Tz>(),
    ) {
        (Ok(cron), Ok(tz)) => {
            crate::scheduler::next_tick(&cron, tz, now).map(|t| t.with_timezone(&tz).to_rfc3339())
        }
        _ => None,
    };
    Ok(Status {
        phases: store
            .phase_counts()?
            .into_iter()
            .map(|(p, n)| (p.as_str().to_string(), n))
            .collect(),
        open_cases: store
            .pollable_cases(now, config.sync.closed_grace_days)?
            .len() as i64,
        next_scheduled_run,
        outbox_depth: store.outbox_depth()?,
        dead_items: store.dead_items()?,
        cases_with_errors: store.cases_with_errors()?,
        last_runs: store.recent_runs(10)?,
    })
}

pub fn show(config: &Config, json: bool) -> anyhow::Result<()> {
    anyhow::ensure!(
        config.state.path.exists(),
        "no state file at {} yet: no cycle has run",
        config.state.path.display()
    );
    let store = Store::open(&config.state.path)
        .with_context(|| format!("opening {}", config.state.path.display()))?;
    let s = collect(&store, config)?;
    if json {
        println!("{}", serde_json::to_string_pretty(&s)?);
        return Ok(());
    }
    println!("Cases by phase:");
    for (p, n) in &s.phases {
        println!("  {p:<9} {n}");
    }
    println!("Open cases (polled): {}", s.open_cases);
    println!(
        "Outbox: {} pending, {} dead",
        s.outbox_depth,
        s.dead_items.len()
    );
    for d in &s.dead_items {
        println!(
            "  dead #{} {} {} ({} attempts): {}",
            d.id,
            d.case_number,
            d.kind.as_str(),
            d.attempts,
            d.last_error.as_deref().unwrap_or("-")
        );
    }
    println!("Cases with errors: {}", s.cases_with_errors.len());
    for e in &s.cases_with_errors {
        println!(
            "  {} [{}] at {}: {}",
            e.case,
            e.ticket.as_deref().unwrap_or("no ticket"),
            e.at,
            e.error
        );
    }
    println!("Last runs:");
    for r in &s.last_runs {
        let took = r
            .finished_at
            .map(|f| format!("{} ms", (f - r.started_at).num_milliseconds()))
            .unwrap_or_else(|| "running".into());
        println!(
            "  #{} {} {} {} {}",
            r.id,
            r.started_at.to_rfc3339(),
            took,
            r.outcome.as_deref().unwrap_or("-"),
            r.counts.as_ref().map(summary).unwrap_or_default()
        );
    }
    println!(
        "Next scheduled run (daemon mode): {}",
        s.next_scheduled_run.as_deref().unwrap_or("-")
    );
    Ok(())
}

/// The non-zero counts of a run, e.g. "new_cases=2 tickets_created=2".
fn summary(counts: &serde_json::Value) -> String {
    counts
        .as_object()
        .map(|m| {
            m.iter()
                .filter(|(_, v)| v.as_u64().is_some_and(|n| n > 0))
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join(" ")
        })
        .unwrap_or_default()
}
