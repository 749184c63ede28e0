//! `hdis-sync demo`: the whole job end to end on one machine, over real HTTP.
//!
//! Starts the simulator on an ephemeral loopback port seeded with the
//! fixture cases, runs a cycle with the local ticket store in a fresh
//! directory, changes cases through the simulator's admin API, runs a second
//! cycle, and prints what happened: tickets opened, numbers written back,
//! and exactly which notes each ticket received.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use chrono::{Duration, SecondsFormat, Utc};
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

use crate::config::Config;
use crate::sim::{SimOptions, Simulator};
use crate::store::local_tickets::LocalTickets;
use crate::sync::{CycleOptions, CycleReport, Engine};

const CASE_NEW: &str = include_str!("../tests/fixtures/hdis/case-new.json");
const CASE_FULL: &str = include_str!("../tests/fixtures/hdis/case-status-full.json");

pub async fn run() -> Result<()> {
    let dir = tempfile::Builder::new()
        .prefix("hdis-sync-demo-")
        .tempdir()?
        .keep();
    let sim = Simulator::new(SimOptions {
        username: "demo".into(),
        password: "demo-password".into(),
        list_wrapper: None,
    });
    let seeded = seed(&sim)?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let stop = CancellationToken::new();
    let server = tokio::spawn(sim.clone().serve(listener, stop.clone().cancelled_owned()));

    let base = format!("http://{addr}");
    let config = demo_config(&dir, &format!("{base}/b2b/v1"))?;
    let _log = crate::telemetry::init(&config.log)?;
    let engine = Engine::from_config(&config)?;
    let tickets = LocalTickets::open(&config.itsm.local.resolve_path(&config.state.dir()))?;
    let never = CancellationToken::new();

    println!("hdis-sync demo");
    println!("  simulator  {base}/b2b/v1 (admin API under {base}/sim)");
    println!("  state      {}", config.state.path.display());
    println!(
        "  tickets    {}",
        config
            .itsm
            .local
            .resolve_path(&config.state.dir())
            .display()
    );
    println!("  logs       {}", dir.join("log").display());
    println!(
        "  {} case(s) waiting at Lexmark with no ticket number\n",
        seeded.len()
    );

    let first = engine.run_cycle(&CycleOptions::default(), &never).await;
    ensure_ok(&first, 1)?;
    println!(
        "Cycle 1: {} new case(s), {} ticket(s) opened, {} ticket number(s) written back to Lexmark",
        first.new_cases, first.tickets_created, first.write_backs_done
    );
    for case in &seeded {
        let doc = sim.case(case).context("case vanished from the simulator")?;
        let ticket = tickets.find_by_correlation(case)?;
        let at_lexmark = doc
            .get("customerTicketNumber")
            .and_then(Value::as_str)
            .unwrap_or("");
        match ticket {
            Some(t) => println!(
                "  {case} → {}  \"{}\"  (Lexmark now shows ticket {})",
                t.number,
                t.title,
                if at_lexmark.is_empty() {
                    "—"
                } else {
                    at_lexmark
                }
            ),
            None => println!("  {case} → no ticket"),
        }
    }

    println!("\nChanges made at Lexmark (through the simulator's admin API):");
    let client = reqwest::Client::new();
    for (case, what, method, path, body) in changes(&seeded) {
        let url = format!("{base}/sim/cases/{case}{path}");
        let response = client.request(method, &url).json(&body).send().await?;
        anyhow::ensure!(
            response.status().is_success(),
            "admin call {url} answered {}",
            response.status()
        );
        println!("  {case}: {what}");
    }

    let second = engine.run_cycle(&CycleOptions::default(), &never).await;
    ensure_ok(&second, 2)?;
    println!(
        "\nCycle 2: {} trigger-field change(s) detected, {} note(s) delivered, {} new ticket(s), {} write-back(s)",
        second.changes_detected,
        second.updates_delivered,
        second.tickets_created,
        second.write_backs_done
    );
    println!("\nNotes each ticket received:");
    for case in &seeded {
        let Some(t) = tickets.find_by_correlation(case)? else {
            continue;
        };
        let notes = tickets.notes(t.id)?;
        println!(
            "  {} ({case}): {}",
            t.number,
            if notes.is_empty() { "none" } else { "" }
        );
        for note in notes {
            let text: Vec<&str> = note
                .body
                .lines()
                .filter(|l| !l.trim().is_empty() && !l.starts_with("[hdis-sync:"))
                .collect();
            println!("    - {}", text.join("\n      "));
        }
    }
    println!(
        "\nLook around: hdis-sync --config {} tickets   (or: status)",
        dir.join("hdis-sync.toml").display()
    );
    stop.cancel();
    server.await??;
    Ok(())
}

fn ensure_ok(report: &CycleReport, n: u32) -> Result<()> {
    match &report.failure {
        Some(f) => anyhow::bail!("cycle {n} failed: {f}"),
        None => Ok(()),
    }
}

/// The two fixtures as new cases created in the last hours, plus two synthetic ones.
fn seed(sim: &Simulator) -> Result<Vec<String>> {
    let hours_ago =
        |h| (Utc::now() - Duration::hours(h)).to_rfc3339_opts(SecondsFormat::Secs, true);
    let mut new: Value = serde_json::from_str(CASE_NEW)?;
    new["createdOn"] = json!(hours_ago(3));
    // The full fixture is a resolved case; reopen it as an active one that is
    // waiting for parts, with its orders and comments.
    let mut full: Value = serde_json::from_str(CASE_FULL)?;
    full["customerTicketNumber"] = json!("");
    full["createdOn"] = json!(hours_ago(2));
    full["state"] = json!("Active");
    full["status"] = json!("In Progress");
    full["detailedStatus"] = json!("Waiting for Parts");
    let mut numbers = vec![sim.add_case(new)?, sim.add_case(full)?];
    numbers.extend(sim.generate(2));
    Ok(numbers)
}

type AdminChange = (String, &'static str, reqwest::Method, &'static str, Value);

fn changes(seeded: &[String]) -> Vec<AdminChange> {
    use reqwest::Method;
    let (a, b, c) = (seeded[0].clone(), seeded[1].clone(), seeded[2].clone());
    vec![
        (
            a.clone(),
            "status In Progress → Pending Requester Input",
            Method::PATCH,
            "",
            json!({"status": "Pending Requester Input"}),
        ),
        (
            a,
            "work order 10020001 dispatched",
            Method::PUT,
            "/work-orders/10020001",
            json!({"workOrderStatus": "Dispatched", "workOrderType": "Break/Fix Repair"}),
        ),
        (
            b.clone(),
            "sales order ORD-735006-L9Y0Z7 shipped, with tracking",
            Method::PUT,
            "/sales-orders/ORD-735006-L9Y0Z7",
            json!({"salesOrderStatus": "Shipped", "carrier": "United Parcel Service", "trackingNumber": "1Z999AA10123456784",
                   "trackingLink": "https://www.ups.com/track?tracknum=1Z999AA10123456784"}),
        ),
        (
            b,
            "new comment from Lexmark",
            Method::POST,
            "/comments",
            json!({"createdBy": "Lexmark", "description": "Replacement fuser shipped; technician visit booked for tomorrow 9–11am."}),
        ),
        (
            c,
            "description edited (not a trigger field: nothing is forwarded)",
            Method::PATCH,
            "",
            json!({"description": "Caller added: the error appears only on tray 2."}),
        ),
    ]
}

fn demo_config(dir: &Path, base_url: &str) -> Result<Config> {
    let text = format!(
        "# Written by `hdis-sync demo`; points at a simulator that is gone now.\n\
         [lexmark]\nbase_url = {base_url:?}\nusername = \"demo\"\npassword = \"demo-password\"\n\n\
         [sync]\nretries_per_cycle = 2\nretry_base_ms = 100\n\n\
         [state]\npath = {:?}\n\n[log]\ndir = {:?}\nlevel = \"warn\"\n",
        dir.join("state.db"),
        dir.join("log"),
    );
    let path: PathBuf = dir.join("hdis-sync.toml");
    std::fs::write(&path, text)?;
    let mut config = Config::extract_from(Some(&path), std::iter::empty())?;
    let problems = config.prepare();
    anyhow::ensure!(problems.is_empty(), "demo configuration: {problems:?}");
    Ok(config)
}
