//! Retries, dead items and replay, across the two sides.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::crash::binary;
use crate::cycles_servicenow::servicenow_itsm;
use crate::servicenow_fake::{FakeServiceNow, Fault};
use crate::support::{World, new_case, sim_options};

const TABLE: &str = "/api/now/table/incident";

/// Three attempts per cycle with short waits.
const RETRYING: &str = "[sync]\nretries_per_cycle = 3\nretry_base_ms = 10\nretry_max_wait_secs = 5\nmax_requests_per_second = 0\nmax_attempts = 4\n";

async fn world(fake: &FakeServiceNow) -> World {
    World::start_full(sim_options(), &servicenow_itsm(fake), RETRYING).await
}

fn sys_id(fake: &FakeServiceNow, case: &str) -> String {
    fake.record_by_correlation(case).unwrap()["sys_id"]
        .as_str()
        .unwrap()
        .to_string()
}

#[tokio::test]
async fn a_429_with_retry_after_one_second_and_a_plain_text_body_is_waited_out_then_succeeds() {
    let fake = FakeServiceNow::start().await;
    let w = world(&fake).await;
    let case = w.add(new_case("CAS-429", 1));
    fake.fail(
        Fault::status(429)
            .body("text/plain", "Too Many Requests")
            .retry_after("1")
            .on("POST", TABLE),
    );
    let started = Instant::now();
    let report = w.cycle().await;
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "Retry-After was honoured"
    );
    assert_eq!((report.tickets_created, report.delivery_failures), (1, 0));
    assert_eq!(fake.request_count("POST", TABLE), 2);
    assert!(fake.record_by_correlation(&case).is_some());
}

#[tokio::test]
async fn a_503_with_an_html_body_from_lexmark_is_retried_then_succeeds() {
    let fake = FakeServiceNow::start().await;
    let w = world(&fake).await;
    w.add(new_case("CAS-503", 1));
    w.fault(
        "GET CASES",
        None,
        503,
        "<html><head><title>503 Service Unavailable</title></head><body>down</body></html>",
        1,
    );
    let report = w.cycle().await;
    assert_eq!(report.tickets_created, 1);
    assert_eq!(
        w.sim
            .calls()
            .iter()
            .filter(|c| c.call == "GET CASES")
            .count(),
        2
    );
}

#[tokio::test]
async fn a_400_on_one_cases_update_parks_it_as_dead_while_the_others_go_through_and_replay_delivers_it()
 {
    let fake = FakeServiceNow::start().await;
    let w = world(&fake).await;
    let cases: Vec<String> = (1..=3)
        .map(|i| w.add(new_case(&format!("CAS-D{i}"), 1)))
        .collect();
    w.cycle().await;
    for case in &cases {
        w.patch_case(case, json!({"status": "Completed"})).await;
    }
    let bad = &cases[1];
    let error = json!({"error": {"message": "Invalid state transition", "detail": "Incident is locked"}, "status": "failure"});
    fake.fail(
        Fault::status(400)
            .json(error)
            .on("PATCH", &format!("{TABLE}/{}", sys_id(&fake, bad))),
    );
    let report = w.cycle().await;
    assert_eq!((report.updates_delivered, report.items_parked_dead), (2, 1));
    assert!(fake.journal(&sys_id(&fake, bad)).is_empty());
    for good in [&cases[0], &cases[2]] {
        assert_eq!(fake.journal(&sys_id(&fake, good)).len(), 1);
    }

    let status = binary(&w, &["status", "--json"])
        .stdout(std::process::Stdio::piped())
        .output()
        .await
        .unwrap();
    assert!(status.status.success());
    let status: Value = serde_json::from_slice(&status.stdout).unwrap();
    let dead = status["dead_items"].as_array().unwrap();
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0]["case_number"], json!(bad));
    assert!(
        dead[0]["last_error"]
            .as_str()
            .unwrap()
            .contains("Invalid state transition"),
        "{dead:?}"
    );
    assert_eq!(status["cases_with_errors"][0]["case"], json!(bad));

    // Nothing is re-sent by itself...
    w.cycle().await;
    assert!(fake.journal(&sys_id(&fake, bad)).is_empty());
    // ...until an operator replays it.
    let replay = binary(&w, &["replay", "--case", bad])
        .status()
        .await
        .unwrap();
    assert!(replay.success());
    let report = w.cycle().await;
    assert_eq!(report.updates_delivered, 1);
    let journal = fake.journal(&sys_id(&fake, bad));
    assert_eq!(journal.len(), 1);
    assert!(journal[0].value.contains("Completed"));
}

#[tokio::test]
async fn a_transient_failure_that_outlasts_max_attempts_is_parked_as_dead() {
    let fake = FakeServiceNow::start().await;
    let w = world(&fake).await;
    let case = w.add(new_case("CAS-MAX", 1));
    fake.fail(
        Fault::status(502)
            .body("text/html", "<html>Bad Gateway</html>")
            .on("POST", TABLE)
            .times(1000),
    );
    // max_attempts = 4 deliveries across cycles, each with up to 3 tries in the cycle.
    for _ in 0..3 {
        let r = w.cycle().await;
        assert_eq!(r.items_parked_dead, 0, "{r:?}");
    }
    assert_eq!(w.cycle().await.items_parked_dead, 1);
    let dead = w.store().dead_items().unwrap();
    assert_eq!(dead[0].case_number, case);
    assert!(dead[0].last_error.as_deref().unwrap().contains("502"));
    assert_eq!(fake.request_count("POST", TABLE), 12);
}

#[tokio::test]
async fn a_failing_item_blocks_only_the_later_items_of_its_own_case() {
    let fake = FakeServiceNow::start().await;
    let w = world(&fake).await;
    let (a, b) = (w.add(new_case("CAS-B1", 1)), w.add(new_case("CAS-B2", 1)));
    w.cycle().await;
    w.patch_case(&a, json!({"status": "Completed"})).await;
    w.admin(
        reqwest::Method::POST,
        &format!("/cases/{a}/comments"),
        json!({"description": "after the status"}),
    )
    .await;
    w.patch_case(&b, json!({"status": "Completed"})).await;
    fake.fail(
        Fault::status(503)
            .on("PATCH", &format!("{TABLE}/{}", sys_id(&fake, &a)))
            .times(3),
    );
    let report = w.cycle().await;
    assert_eq!(report.updates_delivered, 1, "only the other case's update");
    assert_eq!(fake.journal(&sys_id(&fake, &b)).len(), 1);
    assert!(
        fake.journal(&sys_id(&fake, &a)).is_empty(),
        "the comment waits behind the status change"
    );
    w.cycle().await;
    let notes: Vec<String> = fake
        .journal(&sys_id(&fake, &a))
        .into_iter()
        .map(|e| e.value)
        .collect();
    assert_eq!(notes.len(), 2);
    assert!(
        notes[0].contains("Completed") && notes[1].contains("after the status"),
        "in order: {notes:?}"
    );
}

#[tokio::test]
async fn refused_itsm_credentials_park_nothing_fail_the_run_and_the_next_run_goes_on() {
    let fake = FakeServiceNow::start().await;
    let w = world(&fake).await;
    for i in 1..=3 {
        w.add(new_case(&format!("CAS-401-{i}"), 1));
    }
    let refused = json!({"error": {"message": "User Not Authenticated", "detail": "Required to provide Auth information"}, "status": "failure"});
    fake.fail(Fault::status(401).json(refused));
    let report = w.run_cycle().await;
    assert!(
        report
            .failure
            .as_deref()
            .unwrap_or("")
            .contains("User Not Authenticated"),
        "{report:?}"
    );
    assert_eq!(
        (report.items_parked_dead, report.delivery_failures),
        (0, 1),
        "stopped at the first refusal"
    );
    assert!(w.store().dead_items().unwrap().is_empty());
    assert!(
        w.store()
            .pending_items()
            .unwrap()
            .iter()
            .all(|i| i.attempts == 0),
        "no attempt counted against the items"
    );
    assert_eq!(hdis_sync::app::exit_code(&report), 1);

    // Credentials fixed: the next run delivers everything, once.
    let report = w.cycle().await;
    assert_eq!((report.tickets_created, report.write_backs_done), (3, 3));
    assert_eq!(fake.records("incident").len(), 3);
}

#[tokio::test]
async fn an_unreadable_get_cases_answer_fails_the_run_but_open_cases_still_get_their_updates() {
    let fake = FakeServiceNow::start().await;
    let w = world(&fake).await;
    let case = w.add(new_case("CAS-GC", 1));
    w.cycle().await;
    w.patch_case(&case, json!({"status": "Completed"})).await;
    w.fault("GET CASES", None, 200, "not json at all", 1);
    let report = w.run_cycle().await;
    assert!(
        report
            .failure
            .as_deref()
            .unwrap_or("")
            .contains("GET CASES"),
        "{report:?}"
    );
    assert_eq!(report.updates_delivered, 1);
    assert_eq!(fake.journal(&sys_id(&fake, &case)).len(), 1);
}
