//! Running it like a service: the real binary's --dry-run, check, status,
//! --past-days, exit codes and log files.

use std::process::Stdio;

use serde_json::{Value, json};

use crate::crash::{binary, run_once};
use crate::cycles_servicenow::servicenow_itsm;
use crate::servicenow_fake::FakeServiceNow;
use crate::support::{QUICK_SYNC, World, new_case, sim_options};

async fn output(w: &World, args: &[&str]) -> (i32, String) {
    let out = binary(w, args)
        .stdout(Stdio::piped())
        .output()
        .await
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).unwrap(),
    )
}

fn digest(path: &std::path::Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_default()
}

#[tokio::test]
async fn dry_run_prints_what_it_would_do_and_touches_neither_the_itsm_nor_lexmark_nor_the_state() {
    let fake = FakeServiceNow::start().await;
    let w = World::start_with(sim_options(), &servicenow_itsm(&fake)).await;
    let old = w.add(new_case("CAS-DRY-1", 1));
    w.cycle().await;
    w.patch_case(&old, json!({"status": "Completed"})).await;
    w.add(new_case("CAS-DRY-2", 1));
    let state = &w.config.state.path;
    let wal = state.with_extension("db-wal");
    let (before_db, before_wal) = (digest(state), digest(&wal));
    let (requests, calls) = (fake.requests().len(), w.sim.calls().len());

    let (code, out) = output(&w, &["--dry-run"]).await;
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("Tickets that would be opened: 1") && out.contains("CAS-DRY-2"),
        "{out}"
    );
    assert!(
        out.contains("Notes that would be added to tickets: 1") && out.contains("Completed"),
        "{out}"
    );

    assert_eq!(
        fake.requests().len(),
        requests,
        "the ITSM was not contacted"
    );
    let new_calls: Vec<String> = w.sim.calls()[calls..]
        .iter()
        .map(|c| c.call.clone())
        .collect();
    assert!(
        new_calls.iter().all(|c| c == "GET CASES" || c == "STATUS"),
        "only reads at Lexmark: {new_calls:?}"
    );
    assert_eq!(digest(state), before_db, "state file untouched");
    assert_eq!(digest(&wal), before_wal, "state journal untouched");
    assert!(w.sim.case("CAS-DRY-2").unwrap()["customerTicketNumber"] == json!(""));
}

#[tokio::test]
async fn dry_run_on_a_machine_with_no_state_yet_creates_no_file() {
    let w = World::start().await;
    std::fs::remove_file(&w.config.state.path).ok();
    w.add(new_case("CAS-DRY-3", 1));
    // The World's own engine opened the state; point the binary at a fresh one.
    let fresh = w.config_path.with_file_name("fresh");
    let text = std::fs::read_to_string(&w.config_path).unwrap().replace(
        &format!("{:?}", w.config.state.path),
        &format!("{:?}", fresh.join("state.db")),
    );
    let config = w.config_path.with_file_name("fresh.toml");
    std::fs::write(&config, text).unwrap();
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_hdis-sync"))
        .arg("--config")
        .arg(&config)
        .arg("--dry-run")
        .output()
        .await
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("CAS-DRY-3"));
    assert!(!fresh.exists(), "no state directory was created");
}

#[tokio::test]
async fn check_reports_every_configuration_mistake_in_one_run_and_exits_78() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("bad.toml");
    std::fs::write(
        &config,
        "[lexmark]\nbase_url = \"http://lexmark.example.com/b2b/v1\"\nusername = \"u\"\npassword = \"p\"\n\n\
         [sync]\npoll_concurency = 3\n\n[log]\nkeep_files = \"many\"\n\n[itsm]\nkind = \"servicenow\"\n",
    )
    .unwrap();
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_hdis-sync"))
        .arg("--config")
        .arg(&config)
        .arg("check")
        .output()
        .await
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(78), "{text}");
    for needle in [
        "lexmark.base_url",
        "poll_concurency",
        "keep_files",
        "itsm.servicenow",
    ] {
        assert!(text.contains(needle), "{needle} not reported:\n{text}");
    }
    assert!(
        text.lines().filter(|l| l.starts_with("FAIL")).count() >= 4,
        "{text}"
    );
}

#[tokio::test]
async fn check_on_a_good_configuration_checks_lexmark_the_itsm_and_the_state() {
    let fake = FakeServiceNow::start().await;
    let w = World::start_with(sim_options(), &servicenow_itsm(&fake)).await;
    let (code, out) = output(&w, &["check"]).await;
    assert_eq!(code, 0, "{out}");
    for what in ["config", "lexmark", "itsm", "state"] {
        assert!(
            out.lines().any(|l| l.starts_with("ok") && l.contains(what)),
            "{what}:\n{out}"
        );
    }
    assert!(
        !out.contains(crate::servicenow_fake::PASSWORD) && !out.contains(crate::support::PASSWORD)
    );
}

#[tokio::test]
async fn status_json_parses_and_matches_the_state() {
    let fake = FakeServiceNow::start().await;
    let w = World::start_with(sim_options(), &servicenow_itsm(&fake)).await;
    for i in 1..=3 {
        w.add(new_case(&format!("CAS-ST{i}"), 1));
    }
    w.cycle().await;
    w.patch_case("CAS-ST1", json!({"state": "Resolved"})).await;
    w.cycle().await;
    let (code, out) = output(&w, &["status", "--json"]).await;
    assert_eq!(code, 0);
    let status: Value = serde_json::from_str(&out).unwrap();
    let store = w.store();
    let phases: std::collections::BTreeMap<String, i64> = store
        .phase_counts()
        .unwrap()
        .into_iter()
        .map(|(p, n)| (p.as_str().to_string(), n))
        .collect();
    assert_eq!(status["phases"], json!(phases));
    assert_eq!(status["phases"]["closed"], 1);
    assert_eq!(status["phases"]["open"], 2);
    assert_eq!(status["open_cases"], 3);
    assert_eq!(status["outbox_depth"], json!(store.outbox_depth().unwrap()));
    assert_eq!(
        status["last_runs"].as_array().unwrap().len(),
        store.recent_runs(10).unwrap().len()
    );
    assert_eq!(status["last_runs"][0]["outcome"], "ok");
    assert_eq!(status["last_runs"][1]["counts"]["tickets_created"], 3);
    assert!(status["next_scheduled_run"].is_string());
}

#[tokio::test]
async fn past_days_overrides_no_of_past_days_for_one_run() {
    let w = World::start().await;
    w.add(new_case("CAS-OLDISH", 24 * 20));
    assert_eq!(run_once(&w).await, 0);
    assert!(
        w.tickets()
            .find_by_correlation("CAS-OLDISH")
            .unwrap()
            .is_none()
    );
    let mut child = binary(&w, &["--once", "--past-days", "30"])
        .spawn()
        .unwrap();
    assert_eq!(child.wait().await.unwrap().code(), Some(0));
    assert!(
        w.tickets()
            .find_by_correlation("CAS-OLDISH")
            .unwrap()
            .is_some()
    );
    let queries: Vec<String> = w
        .sim
        .calls()
        .iter()
        .filter(|c| c.call == "GET CASES")
        .filter_map(|c| c.query.clone())
        .collect();
    assert!(
        queries[0].contains("NoOfPastDays=7") && queries[1].contains("NoOfPastDays=30"),
        "{queries:?}"
    );
}

#[tokio::test]
async fn once_exits_75_when_lexmark_is_unreachable_and_78_on_a_configuration_error() {
    let w = World::start().await;
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let text = std::fs::read_to_string(&w.config_path)
        .unwrap()
        .replace(&w.base, &format!("http://127.0.0.1:{port}"));
    std::fs::write(&w.config_path, &text).unwrap();
    assert_eq!(run_once(&w).await, 75);
    std::fs::write(
        &w.config_path,
        text.replace("[sync]", "[sync]\npast_days = 1"),
    )
    .unwrap();
    assert_eq!(run_once(&w).await, 78);
}

fn log_files(dir: &std::path::Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    names
}

#[tokio::test]
async fn after_five_short_runs_exactly_keep_files_log_files_remain_and_the_last_line_is_flushed() {
    let logs = tempfile::tempdir().unwrap();
    for day in 1..=6 {
        std::fs::write(
            logs.path().join(format!("hdis-sync.2026-01-0{day}.log")),
            "old\n",
        )
        .unwrap();
    }
    let sync = format!(
        "{QUICK_SYNC}\n[log]\ndir = {:?}\nkeep_files = 3\nformat = \"json\"\n",
        logs.path()
    );
    let w = World::start_full(sim_options(), "[itsm]\nkind = \"local\"\n", &sync).await;
    w.add(new_case("CAS-LOG", 1));
    for _ in 0..5 {
        assert_eq!(run_once(&w).await, 0);
    }
    let names = log_files(logs.path());
    assert_eq!(names.len(), 3, "{names:?}");
    let today = format!("hdis-sync.{}.log", chrono::Utc::now().format("%Y-%m-%d"));
    assert_eq!(
        names,
        vec![
            "hdis-sync.2026-01-05.log".to_string(),
            "hdis-sync.2026-01-06.log".into(),
            today.clone()
        ]
    );

    let text = std::fs::read_to_string(logs.path().join(&today)).unwrap();
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    let finished = lines
        .iter()
        .filter(|l| l["fields"]["message"] == "Cycle finished.")
        .count();
    assert_eq!(finished, 5, "every run's last line reached the file");
    let created = lines
        .iter()
        .find(|l| l["fields"]["message"] == "Ticket created.")
        .unwrap();
    assert_eq!(created["fields"]["case"], "CAS-LOG");
    assert_eq!(
        created["fields"]["ticket"],
        json!(w.ticket_of("CAS-LOG").number)
    );
    assert!(
        !text.contains('\u{1b}'),
        "no terminal colour codes in the file"
    );
}

#[tokio::test]
async fn the_demo_reports_tickets_write_backs_and_exactly_the_notes_each_ticket_received() {
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_hdis-sync"))
        .arg("demo")
        .output()
        .await
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        out.status.success(),
        "{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    if let Some(dir) = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("state"))
        .map(|p| {
            std::path::Path::new(p.trim())
                .parent()
                .unwrap()
                .to_path_buf()
        })
    {
        std::fs::remove_dir_all(dir).ok();
    }
    for needle in [
        "Cycle 1: 4 new case(s), 4 ticket(s) opened, 4 ticket number(s) written back to Lexmark",
        "Cycle 2: 4 trigger-field change(s) detected, 4 note(s) delivered, 0 new ticket(s), 0 write-back(s)",
        "status changed from In Progress to Pending Requester Input",
        "work order 10020001 added, status Dispatched",
        "Tracking number: 1Z999AA10123456784",
        "technician visit booked",
    ] {
        assert!(text.contains(needle), "{needle:?} missing from:\n{text}");
    }
    let edited = text
        .lines()
        .find(|l| l.contains("description edited"))
        .expect("the description-only edit is listed");
    let case = edited.trim().split(':').next().unwrap();
    assert!(
        text.lines().any(|l| l.contains(&format!("({case}): none"))),
        "the description-only edit sent nothing:\n{text}"
    );
}
