//! hdis-sync benchmark: whole cycles over real HTTP against the simulator on
//! loopback with the local ticket store, plus the pure diff. Prints a report
//! with the targets. `cargo bench --bench cycle` runs the full size;
//! `-- --short` a small one (CI), where targets are shown but not enforced.
//!
//! Targets (full size, 2-core machine): a first cycle opening 2,000 tickets
//! under 60 s; a quiet cycle polling 2,000 cases under 20 s; parse and diff
//! of a full STATUS body under 100 µs; peak memory under 200 MiB.

use std::time::{Duration, Instant};

use hdis_sync::config::Config;
use hdis_sync::lexmark::model::parse_case;
use hdis_sync::sim::{SimOptions, Simulator};
use hdis_sync::sync::diff::{Snapshot, diff};
use hdis_sync::sync::{CycleOptions, CycleReport, Engine};
use serde_json::json;
use tokio_util::sync::CancellationToken;

struct Target {
    name: &'static str,
    measured: f64,
    limit: f64,
    unit: &'static str,
}

fn peak_rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

async fn timed(engine: &Engine) -> (CycleReport, Duration) {
    let start = Instant::now();
    let report = engine
        .run_cycle(&CycleOptions::default(), &CancellationToken::new())
        .await;
    assert_eq!(report.failure, None, "{report:?}");
    (report, start.elapsed())
}

fn diff_bench(rounds: u32) -> Duration {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/hdis/case-status-full.json"
    );
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).expect("fixture")).expect("json");
    let old = Snapshot::of(&parse_case(doc.clone(), None).expect("case"));
    let mut changed = doc;
    changed["status"] = json!("In Progress");
    changed["comments"].as_array_mut().expect("comments").push(
        json!({"createdOn": "2022-02-12T10:00:00Z", "createdBy": "Lexmark", "description": "new"}),
    );
    let start = Instant::now();
    let mut n = 0;
    for _ in 0..rounds {
        let new =
            Snapshot::of(&parse_case(std::hint::black_box(changed.clone()), None).expect("case"));
        n += diff(&old, &new).len();
    }
    assert_eq!(n, 2 * rounds as usize);
    start.elapsed() / rounds
}

#[tokio::main]
async fn main() {
    let short = std::env::args().any(|a| a == "--short");
    let cases: usize = if short { 200 } else { 2000 };
    let scale = cases as f64 / 2000.0;

    let sim = Simulator::new(SimOptions::default());
    sim.generate(cases);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let base = format!("http://{}/b2b/v1", listener.local_addr().expect("addr"));
    let stop = CancellationToken::new();
    tokio::spawn(sim.clone().serve(listener, stop.clone().cancelled_owned()));

    let dir = tempfile::tempdir().expect("tempdir");
    let text = format!(
        "[lexmark]\nbase_url = {base:?}\nusername = \"hdis\"\npassword = \"hdis\"\n[sync]\nmax_requests_per_second = 0\npoll_concurrency = 8\n[state]\npath = {:?}\n",
        dir.path().join("state.db")
    );
    let path = dir.path().join("bench.toml");
    std::fs::write(&path, text).expect("config");
    let mut config = Config::extract_from(Some(&path), std::iter::empty()).expect("config");
    assert!(config.prepare().is_empty());
    let engine = Engine::from_config(&config).expect("engine");

    let (first, first_took) = timed(&engine).await;
    assert_eq!(first.tickets_created, cases);
    let (quiet, quiet_took) = timed(&engine).await;
    assert_eq!(quiet.updates_delivered, 0);
    let changed: Vec<String> = sim
        .cases()
        .iter()
        .step_by(10)
        .filter_map(|c| c["caseNumber"].as_str().map(String::from))
        .collect();
    for case in &changed {
        let mut doc = sim.case(case).expect("case");
        doc["status"] = json!("Completed");
        sim.replace_case(case, doc).expect("replace");
    }
    let (busy, busy_took) = timed(&engine).await;
    assert_eq!(busy.updates_delivered, changed.len());
    let per_diff = diff_bench(if short { 2_000 } else { 50_000 });

    let targets = [
        Target {
            name: "first cycle (intake, create, write-back, poll)",
            measured: first_took.as_secs_f64(),
            limit: 60.0 * scale,
            unit: "s",
        },
        Target {
            name: "quiet cycle (poll only)",
            measured: quiet_took.as_secs_f64(),
            limit: 20.0 * scale,
            unit: "s",
        },
        Target {
            name: "parse + diff of a full STATUS body",
            measured: per_diff.as_secs_f64() * 1e6,
            limit: 100.0,
            unit: "µs",
        },
        Target {
            name: "peak memory",
            measured: peak_rss_mib(),
            limit: 200.0,
            unit: "MiB",
        },
    ];
    println!(
        "hdis-sync bench ({} mode, {cases} cases, simulator on loopback, local tickets)",
        if short { "short" } else { "full" }
    );
    println!(
        "  first cycle   {:>8.2} s  {:>7.0} cases/s",
        first_took.as_secs_f64(),
        cases as f64 / first_took.as_secs_f64()
    );
    println!(
        "  quiet cycle   {:>8.2} s  {:>7.0} cases/s",
        quiet_took.as_secs_f64(),
        cases as f64 / quiet_took.as_secs_f64()
    );
    println!(
        "  {} changes   {:>8.2} s",
        changed.len(),
        busy_took.as_secs_f64()
    );
    println!(
        "  diff          {:>8.2} µs per case",
        per_diff.as_secs_f64() * 1e6
    );
    if cfg!(debug_assertions) {
        println!(
            "  (a debug build: the numbers are not comparable with the targets; `cargo bench` measures)"
        );
    }
    let mut missed = 0;
    for t in &targets {
        let ok = t.measured <= t.limit;
        missed += usize::from(!ok);
        println!(
            "  target {:<48} {:>9.2} {} (limit {:.2}) {}",
            t.name,
            t.measured,
            t.unit,
            t.limit,
            if ok { "ok" } else { "OVER" }
        );
    }
    stop.cancel();
    if missed > 0 && !short {
        eprintln!("{missed} target(s) missed");
        std::process::exit(1);
    }
}
