//! When cycles run: a cancellable loop that sleeps until the next cron tick
//! in the configured time zone, runs one cycle, and never overlaps itself (a
//! tick that passes while a cycle runs is skipped and logged).
//!
//! Why not tokio-cron-scheduler (the first choice): its `Job::new_async_tz`
//! reads the zone's UTC offset once, when the job is created
//! (`offset_from_utc_datetime(&Utc::now())`, job/mod.rs in 0.15.1) and keeps
//! that fixed offset, so after a daylight-saving change every tick is an hour
//! off until the process restarts; it also lets a job overlap itself, wants
//! 6-field cron, and combines day-of-month and day-of-week by AND. Working
//! around all four takes more than the loop below, which computes each next
//! tick afresh with `croner` (the parser tokio-cron-scheduler itself uses) in
//! the zone's rules at that moment.

use std::future::Future;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use croner::Cron;
use croner::parser::{CronParser, Seconds};
use tokio_util::sync::CancellationToken;

/// Parses a cron expression with seconds (6 fields) or without (5 fields).
/// Day-of-month and day-of-week combine by OR, as in classic cron.
pub fn parse_schedule(expr: &str) -> Result<Cron, croner::errors::CronError> {
    CronParser::builder()
        .seconds(Seconds::Optional)
        .build()
        .parse(expr)
}

/// The first tick strictly after `now`, in `tz`.
pub fn next_tick(cron: &Cron, tz: Tz, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    cron.find_next_occurrence(&now.with_timezone(&tz), false)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// Where "now" comes from: the wall clock, or a test's clock tied to tokio's
/// (pausable) time.
pub trait Clock: Send + Sync {
    fn now(&self) -> DateTime<Utc>;
}

pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// Runs `cycle` on every tick until `shutdown` is cancelled. A cycle in
/// progress is allowed to finish (it watches the same token itself). Returns
/// the number of ticks skipped because a cycle was still running.
pub async fn run_on_schedule<F, Fut>(
    cron: Cron,
    tz: Tz,
    clock: &dyn Clock,
    shutdown: CancellationToken,
    mut cycle: F,
) -> u64
where
    F: FnMut() -> Fut,
    Fut: Future<Output = ()>,
{
    let mut skipped = 0;
    loop {
        let now = clock.now();
        let Some(next) = next_tick(&cron, tz, now) else {
            tracing::error!(schedule = %cron.pattern.to_string(), "The schedule has no future tick; stopping.");
            return skipped;
        };
        tracing::info!(next_run = %next.with_timezone(&tz).to_rfc3339(), "Waiting for the next scheduled run.");
        let wait = (next - now).to_std().unwrap_or_default();
        tokio::select! {
            _ = shutdown.cancelled() => return skipped,
            _ = tokio::time::sleep(wait) => {}
        }
        cycle().await;
        if shutdown.is_cancelled() {
            return skipped;
        }
        // Ticks that fell inside the cycle are not run late, nor in parallel.
        let finished = clock.now();
        let (mut t, mut missed, mut first) = (next, 0u64, None);
        while let Some(m) = next_tick(&cron, tz, t).filter(|m| *m <= finished) {
            missed += 1;
            first.get_or_insert(m);
            t = m;
        }
        if let Some(first) = first {
            skipped += missed;
            tracing::warn!(
                missed,
                first_missed = %first.with_timezone(&tz).to_rfc3339(),
                "Scheduled tick(s) passed while the previous cycle was still running; skipped, not run late or in parallel."
            );
        }
    }
}

#[cfg(test)]
mod tests;
