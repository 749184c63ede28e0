//! Never twice, never lost: the real binary killed with SIGKILL at the
//! dangerous points of a cycle, then run again to completion. Each kill waits
//! for a fake to report that the request arrived (and, for writes, that it
//! was stored): nothing here is timed.

use std::process::Stdio;
use std::time::Duration;

use serde_json::json;
use tokio::process::{Child, Command};

use crate::cycles_servicenow::world;
use crate::servicenow_fake::{FakeServiceNow, field};
use crate::support::{World, new_case};

const TABLE: &str = "/api/now/table/incident";
/// Upper bound on any wait here, so a broken build fails instead of hanging.
const PATIENCE: Duration = Duration::from_secs(60);

pub fn binary(w: &World, args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_hdis-sync"));
    cmd.arg("--config").arg(&w.config_path).args(args);
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(w.config_path.with_file_name("stderr.log"))
        .unwrap();
    cmd.stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(log)
        .kill_on_drop(true);
    cmd
}

pub fn start_once(w: &World) -> Child {
    binary(w, &["--once"]).spawn().unwrap()
}

pub async fn exit_code(child: &mut Child) -> i32 {
    let status = tokio::time::timeout(PATIENCE, child.wait())
        .await
        .expect("hdis-sync did not exit")
        .unwrap();
    status.code().unwrap_or(-1)
}

pub async fn run_once(w: &World) -> i32 {
    exit_code(&mut start_once(w)).await
}

async fn within<F: std::future::Future>(what: &str, f: F) -> F::Output {
    tokio::time::timeout(PATIENCE, f)
        .await
        .unwrap_or_else(|_| panic!("waited too long for {what}"))
}

async fn kill(mut child: Child) {
    child.kill().await.unwrap(); // SIGKILL
    child.wait().await.unwrap();
}

/// Exactly one incident per case, and Lexmark holds each incident's number.
fn assert_one_ticket_each_and_written_back(w: &World, fake: &FakeServiceNow, cases: &[String]) {
    let records = fake.records("incident");
    assert_eq!(records.len(), cases.len(), "incidents: {records:?}");
    for case in cases {
        let mine: Vec<_> = records
            .iter()
            .filter(|r| field(r, "correlation_id") == *case)
            .collect();
        assert_eq!(mine.len(), 1, "incidents for {case}");
        assert_eq!(
            w.sim.case(case).unwrap()["customerTicketNumber"],
            json!(field(mine[0], "number")),
            "write-back of {case}"
        );
    }
}

/// The journal of a case's incident.
fn notes(fake: &FakeServiceNow, case: &str) -> Vec<String> {
    let sys_id = field(&fake.record_by_correlation(case).unwrap(), "sys_id");
    fake.journal(&sys_id).into_iter().map(|e| e.value).collect()
}

async fn three_new_cases(fake: &FakeServiceNow) -> (World, Vec<String>) {
    let w = world(fake).await;
    let cases = (1..=3)
        .map(|i| w.add(new_case(&format!("CAS-K{i}"), i)))
        .collect();
    (w, cases)
}

/// Three ticketed cases, each with a status change waiting to be forwarded.
async fn three_completed_cases(fake: &FakeServiceNow) -> (World, Vec<String>) {
    let (w, cases) = three_new_cases(fake).await;
    w.cycle().await;
    for case in &cases {
        w.patch_case(case, json!({"status": "Completed"})).await;
    }
    (w, cases)
}

async fn finish_and_check(w: &World, fake: &FakeServiceNow, cases: &[String]) {
    assert_eq!(run_once(w).await, 0);
    assert_eq!(run_once(w).await, 0);
    assert_one_ticket_each_and_written_back(w, fake, cases);
    assert!(w.store().pending_items().unwrap().is_empty());
}

#[tokio::test]
async fn killed_after_get_cases_the_next_run_opens_each_ticket_once() {
    let fake = FakeServiceNow::start().await;
    let (w, cases) = three_new_cases(&fake).await;
    let lookup = fake.hold_next("GET", TABLE);
    let child = start_once(&w);
    within("the first lookup", lookup.arrived()).await;
    kill(child).await;
    drop(lookup);
    assert_eq!(fake.records("incident").len(), 0);
    finish_and_check(&w, &fake, &cases).await;
}

#[tokio::test]
async fn killed_while_the_create_is_in_flight_and_already_stored_the_ticket_is_found_not_duplicated()
 {
    let fake = FakeServiceNow::start().await;
    let (w, cases) = three_new_cases(&fake).await;
    let create = fake.hold_next("POST", TABLE);
    let child = start_once(&w);
    within("the create", create.arrived()).await;
    kill(child).await;
    drop(create);
    assert_eq!(
        fake.records("incident").len(),
        1,
        "the server kept the first ticket"
    );
    finish_and_check(&w, &fake, &cases).await;
    assert_eq!(fake.request_count("POST", TABLE), 3);
}

#[tokio::test]
async fn killed_after_the_create_was_committed_the_write_back_still_happens_once_per_ticket() {
    let fake = FakeServiceNow::start().await;
    let (w, cases) = three_new_cases(&fake).await;
    let write_back = w.sim.hold_next("UPDATE TICKET #");
    let child = start_once(&w);
    within("the write-back", write_back.arrived()).await;
    kill(child).await;
    drop(write_back);
    finish_and_check(&w, &fake, &cases).await;
    assert_eq!(fake.request_count("POST", TABLE), 3);
}

#[tokio::test]
async fn killed_while_a_ticket_update_is_in_flight_the_note_is_delivered_exactly_once() {
    let fake = FakeServiceNow::start().await;
    let (w, cases) = three_completed_cases(&fake).await;
    let update = fake.hold_next("PATCH", TABLE);
    let child = start_once(&w);
    within("the update", update.arrived()).await;
    kill(child).await;
    drop(update);
    finish_and_check(&w, &fake, &cases).await;
    for case in &cases {
        let n = notes(&fake, case);
        assert_eq!(n.len(), 1, "{case}: {n:?}");
        assert!(n[0].contains("Completed"));
    }
}

#[tokio::test]
async fn killed_during_status_polling_every_change_is_delivered_exactly_once() {
    let fake = FakeServiceNow::start().await;
    let (w, cases) = three_new_cases(&fake).await;
    w.cycle().await;
    for case in &cases {
        w.admin(
            reqwest::Method::POST,
            &format!("/cases/{case}/comments"),
            json!({"createdBy": "Lexmark", "description": format!("note for {case}")}),
        )
        .await;
    }
    let status = w.sim.hold_next("STATUS");
    let child = start_once(&w);
    within("a STATUS call", status.arrived()).await;
    kill(child).await;
    drop(status);
    finish_and_check(&w, &fake, &cases).await;
    for case in &cases {
        let n = notes(&fake, case);
        assert_eq!(n.len(), 1, "{case}: {n:?}");
        assert!(n[0].contains(&format!("note for {case}")));
    }
}

#[tokio::test]
async fn two_processes_started_together_on_one_state_directory_create_each_ticket_once() {
    let fake = FakeServiceNow::start().await;
    let (w, cases) = three_new_cases(&fake).await;
    let (mut a, mut b) = (start_once(&w), start_once(&w));
    let (ca, cb) = (exit_code(&mut a).await, exit_code(&mut b).await);
    let mut codes = [ca, cb];
    codes.sort();
    assert!(codes == [0, 0] || codes == [0, 75], "exit codes {codes:?}");
    assert_one_ticket_each_and_written_back(&w, &fake, &cases);
}

#[tokio::test]
async fn a_second_process_on_a_locked_state_directory_exits_75_and_creates_nothing() {
    let fake = FakeServiceNow::start().await;
    let (w, _cases) = three_new_cases(&fake).await;
    let lookup = fake.hold_next("GET", TABLE);
    let first = start_once(&w);
    within("the first lookup", lookup.arrived()).await;
    let posts = fake.request_count("POST", TABLE);
    assert_eq!(run_once(&w).await, 75);
    assert_eq!(fake.request_count("POST", TABLE), posts);
    let stderr = std::fs::read_to_string(w.config_path.with_file_name("stderr.log")).unwrap();
    assert!(stderr.contains("another hdis-sync is running"), "{stderr}");
    drop(lookup);
    kill(first).await;
}

#[tokio::test]
async fn sigterm_lets_the_update_in_flight_finish_and_be_recorded_then_stops() {
    let fake = FakeServiceNow::start().await;
    let (w, cases) = three_completed_cases(&fake).await;
    let update = fake.hold_next("PATCH", TABLE);
    let mut child = start_once(&w);
    within("the update", update.arrived()).await;
    let pid = child.id().unwrap() as libc::pid_t;
    // SAFETY: sending a signal to our own child process.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGTERM) }, 0);
    // Wait for the process to register the request to stop before letting
    // the answer go: its log says so.
    let log = w.config_path.with_file_name("stderr.log");
    within("the shutdown log line", async {
        // Polls a file for an event (not a timed wait): the answer stays held until then.
        while !std::fs::read_to_string(&log)
            .unwrap_or_default()
            .contains("Shutdown requested")
        {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await;
    update.release();
    assert_eq!(exit_code(&mut child).await, 0);
    let items = w.store().items_of_case(&cases[0]).unwrap();
    let done_updates = w.store().pending_items().unwrap();
    assert!(
        items.iter().all(|i| !i.in_flight),
        "the update in flight was recorded: {items:?}"
    );
    assert_eq!(
        done_updates.len(),
        cases.len() - 1,
        "no new delivery started after SIGTERM"
    );
    let total_notes: usize = cases.iter().map(|c| notes(&fake, c).len()).sum();
    assert_eq!(total_notes, 1);
}
