//! Whole cycles with the local connector.

use reqwest::Method;
use serde_json::{Value, json};

use crate::support::{World, fixture, new_case};

#[tokio::test]
async fn new_cases_become_one_ticket_each_and_their_numbers_are_written_back() {
    let w = World::start().await;
    let cases: Vec<String> = (1..=3)
        .map(|i| w.add(new_case(&format!("CAS-{i}000-NEW"), i)))
        .collect();
    let report = w.cycle().await;
    assert_eq!(
        (
            report.new_cases,
            report.tickets_created,
            report.write_backs_done
        ),
        (3, 3, 3)
    );
    for case in &cases {
        let ticket = w.ticket_of(case);
        assert_eq!(&ticket.correlation_key, case);
        let at_lexmark = w.sim.case(case).unwrap()["customerTicketNumber"].clone();
        assert_eq!(at_lexmark, json!(ticket.number), "write-back of {case}");
    }
    assert_eq!(w.tickets().list().unwrap().len(), 3);
    assert_eq!(w.calls("UPDATE TICKET #"), 3);
}

#[tokio::test]
async fn a_second_cycle_without_changes_writes_nothing() {
    let w = World::start().await;
    w.add(fixture_as_new("case-new.json"));
    w.add(new_case("CAS-2000-NEW", 1));
    w.cycle().await;
    let notes_before = w.total_notes();
    let report = w.cycle().await;
    assert_eq!(report.tickets_created + report.tickets_found_existing, 0);
    assert_eq!(report.write_backs_done, 0);
    assert_eq!(report.updates_delivered, 0);
    assert_eq!(report.cases_polled, 2);
    assert_eq!(w.total_notes(), notes_before);
    assert_eq!(w.tickets().list().unwrap().len(), 2);
    assert_eq!(w.calls("UPDATE TICKET #"), 2);
}

/// The fixture as a case created an hour ago with no ticket number.
fn fixture_as_new(name: &str) -> Value {
    let mut v = fixture(name);
    v["customerTicketNumber"] = json!("");
    v["createdOn"] = json!((chrono::Utc::now() - chrono::Duration::hours(1)).to_rfc3339());
    v
}

#[tokio::test]
async fn each_trigger_field_change_gives_exactly_one_note_with_the_new_value() {
    let w = World::start().await;
    let case = w.add(fixture_as_new("case-new.json"));
    w.cycle().await;
    let steps: Vec<(Method, String, Value, &str)> = vec![
        (
            Method::PATCH,
            String::new(),
            json!({"state": "Resolved"}),
            "Resolved",
        ),
        (
            Method::PATCH,
            String::new(),
            json!({"status": "Pending Requester Input"}),
            "Pending Requester Input",
        ),
        (
            Method::PATCH,
            String::new(),
            json!({"detailedStatus": "Tech En Route"}),
            "Tech En Route",
        ),
        (
            Method::PUT,
            "/work-orders/10011468".into(),
            json!({"workOrderStatus": "Dispatched"}),
            "Dispatched",
        ),
        (
            Method::PUT,
            "/work-orders/10011468".into(),
            json!({"workOrderStatus": "Service Action Complete"}),
            "Service Action Complete",
        ),
        (
            Method::PUT,
            "/sales-orders/ORD-1".into(),
            json!({"salesOrderStatus": "Order Accepted"}),
            "Order Accepted",
        ),
        (
            Method::PUT,
            "/sales-orders/ORD-1".into(),
            json!({"salesOrderStatus": "Shipped", "carrier": "Purolator", "trackingNumber": "ShipTrack1234512"}),
            "ShipTrack1234512",
        ),
        (
            Method::POST,
            "/comments".into(),
            json!({"createdBy": "Lexmark", "description": "Part ordered"}),
            "Part ordered",
        ),
    ];
    for (method, path, body, expected) in steps {
        let before = w.notes_of(&case).len();
        w.admin(method, &format!("/cases/{case}{path}"), body.clone())
            .await;
        let report = w.cycle().await;
        let notes = w.notes_of(&case);
        assert_eq!(notes.len(), before + 1, "one note for {body}");
        assert!(
            notes.last().unwrap().body.contains(expected),
            "{expected} not in {:?}",
            notes.last().unwrap().body
        );
        assert_eq!(report.updates_delivered, 1);
    }
    let ticket = w.ticket_of(&case);
    assert_eq!(
        ticket.state.as_deref(),
        Some("Resolved"),
        "the state change moved the local ticket's state"
    );
}

#[tokio::test]
async fn a_change_to_a_non_trigger_field_sends_nothing() {
    let w = World::start().await;
    let case = w.add(fixture_as_new("case-status-full.json"));
    w.cycle().await;
    w.patch_case(&case, json!({"description": "Edited", "title": "New title", "customerRequestDate": "2026-01-01T00:00:00Z"})).await;
    w.admin(
        Method::PUT,
        &format!("/cases/{case}/sales-orders/ORD-734233-N9T4X3"),
        json!({"trackingNumber": "1Z-NEW"}),
    )
    .await;
    let report = w.cycle().await;
    assert_eq!(report.changes_detected, 0);
    assert!(w.notes_of(&case).is_empty());
}

#[tokio::test]
async fn new_comments_arriving_newest_first_are_forwarded_oldest_first_and_never_again() {
    let w = World::start().await;
    let case = w.add(new_case("CAS-C", 1));
    w.cycle().await;
    let comments = json!([
        {"createdOn": "2026-11-30T10:00:00Z", "createdBy": "Lexmark", "description": "second"},
        {"createdOn": "2026-11-30T09:00:00Z", "createdBy": "Lexmark", "description": "first"}
    ]);
    w.patch_case(&case, json!({"comments": comments})).await;
    w.cycle().await;
    let notes = w.notes_of(&case);
    assert_eq!(notes.len(), 2);
    assert!(
        notes[0].body.contains("first") && notes[1].body.contains("second"),
        "{notes:?}"
    );
    let mut flipped = comments.as_array().unwrap().clone();
    flipped.reverse();
    w.patch_case(&case, json!({"comments": flipped})).await;
    w.cycle().await;
    w.patch_case(&case, json!({"comments": Value::Null})).await;
    w.cycle().await;
    w.patch_case(&case, json!({"comments": comments})).await;
    w.cycle().await;
    assert_eq!(w.notes_of(&case).len(), 2);
}

#[tokio::test]
async fn arrays_flipping_between_null_empty_and_missing_send_nothing() {
    let w = World::start().await;
    let case = w.add(new_case("CAS-A", 1));
    w.cycle().await;
    for shape in ["null", "empty", "missing", "empty", "null"] {
        let mut doc = w.sim.case(&case).unwrap();
        for key in ["workOrder", "salesOrder", "comments"] {
            match shape {
                "null" => doc[key] = Value::Null,
                "empty" => doc[key] = json!([]),
                _ => {
                    doc.as_object_mut().unwrap().remove(key);
                }
            }
        }
        w.sim.replace_case(&case, doc).unwrap();
        let report = w.cycle().await;
        assert_eq!(report.changes_detected, 0, "{shape}");
    }
    assert!(w.notes_of(&case).is_empty());
}

#[tokio::test]
async fn a_write_back_that_fails_once_is_retried_next_cycle_with_still_one_ticket() {
    let w = World::start().await;
    let case = w.add(new_case("CAS-WB", 1));
    w.fault(
        "UPDATE TICKET #",
        Some(&case),
        503,
        "<html><body>Service Unavailable</body></html>",
        1,
    );
    let first = w.cycle().await;
    assert_eq!(
        (
            first.tickets_created,
            first.write_backs_done,
            first.delivery_failures
        ),
        (1, 0, 1)
    );
    assert_eq!(
        w.sim.case(&case).unwrap()["customerTicketNumber"],
        json!("")
    );
    let second = w.cycle().await;
    assert_eq!(
        (
            second.tickets_created,
            second.tickets_found_existing,
            second.write_backs_done
        ),
        (0, 0, 1)
    );
    assert_eq!(w.tickets().list().unwrap().len(), 1);
    assert_eq!(
        w.sim.case(&case).unwrap()["customerTicketNumber"],
        json!(w.ticket_of(&case).number)
    );
}

#[tokio::test]
async fn a_write_back_rejected_for_good_is_queued_again_while_lexmark_still_lists_the_case() {
    let w = World::start().await;
    let case = w.add(new_case("CAS-WB4", 1));
    w.fault(
        "UPDATE TICKET #",
        Some(&case),
        400,
        r#"{"message":"temporarily refused"}"#,
        1,
    );
    let first = w.cycle().await;
    assert_eq!(first.items_parked_dead, 1);
    let second = w.cycle().await;
    assert_eq!(
        (
            second.write_backs_queued,
            second.write_backs_done,
            second.tickets_created
        ),
        (1, 1, 0)
    );
    assert_eq!(w.tickets().list().unwrap().len(), 1);
}

#[tokio::test]
async fn text_with_emoji_and_accents_arrives_byte_exact() {
    let w = World::start().await;
    let title = "Imprimante bloquée — «Überprüfen» 🖨️🔥 ñ 日本語";
    let description = "Ligne 1 ✓\nLigne 2: café crème, naïve façade 👍🏽";
    let mut doc = new_case("CAS-UTF8", 1);
    doc["title"] = json!(title);
    doc["description"] = json!(description);
    let case = w.add(doc);
    w.cycle().await;
    let ticket = w.ticket_of(&case);
    assert_eq!(ticket.title, title);
    assert!(ticket.description.contains(description));
    let comment = "Técnico llegará mañana 🚚 — «ok»";
    w.admin(
        Method::POST,
        &format!("/cases/{case}/comments"),
        json!({"createdBy": "Lexmark", "description": comment}),
    )
    .await;
    w.cycle().await;
    assert!(w.notes_of(&case)[0].body.contains(comment));
}

#[tokio::test]
async fn a_case_whose_status_body_is_invalid_is_skipped_and_the_others_go_on() {
    let w = World::start().await;
    let bad = w.add(new_case("CAS-BAD", 1));
    let good = w.add(new_case("CAS-GOOD", 1));
    w.cycle().await;
    w.fault(
        "STATUS",
        Some(&bad),
        200,
        "{“caseNumber”: “CAS-BAD”, trackingLink: http://x}",
        u32::MAX,
    );
    w.patch_case(&bad, json!({"status": "Completed"})).await;
    w.patch_case(&good, json!({"status": "Completed"})).await;
    let report = w.cycle().await;
    assert_eq!(report.poll_errors, 1);
    assert_eq!(report.updates_delivered, 1);
    assert_eq!(w.notes_of(&good).len(), 1);
    assert!(w.notes_of(&bad).is_empty());
    let errors = w.store().cases_with_errors().unwrap();
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].case, bad);
    assert!(
        errors[0].error.contains("STATUS") && errors[0].error.contains(&bad),
        "{}",
        errors[0].error
    );
    w.sim.clear_faults();
    w.cycle().await;
    assert_eq!(
        w.notes_of(&bad).len(),
        1,
        "once readable again, the change goes through"
    );
}

#[tokio::test]
async fn a_case_with_a_wrongly_typed_field_is_rejected_by_name_and_the_others_are_taken() {
    let w = World::start().await;
    let mut odd = new_case("CAS-ODD", 1);
    odd["comments"] = json!(42);
    w.add(odd);
    w.add(new_case("CAS-FINE", 1));
    let report = w.cycle().await;
    assert_eq!(
        (
            report.cases_rejected,
            report.new_cases,
            report.tickets_created
        ),
        (1, 1, 1)
    );
}

#[tokio::test]
async fn get_cases_wrapped_in_an_object_works_the_same() {
    let options = hdis_sync::sim::SimOptions {
        list_wrapper: Some("cases".into()),
        ..crate::support::sim_options()
    };
    let w = World::start_with(options, "").await;
    w.add(new_case("CAS-W1", 1));
    w.add(new_case("CAS-W2", 1));
    assert_eq!(w.cycle().await.tickets_created, 2);
}

#[tokio::test]
async fn cases_older_than_past_days_are_not_taken() {
    let w = World::start().await;
    w.add(new_case("CAS-OLD", 24 * 30));
    w.add(new_case("CAS-RECENT", 1));
    let report = w.cycle().await;
    assert_eq!(report.new_cases, 1);
    assert!(
        w.tickets()
            .find_by_correlation("CAS-OLD")
            .unwrap()
            .is_none()
    );
}

#[tokio::test]
async fn a_resolved_case_is_polled_through_its_grace_period_and_then_left_alone() {
    let w = World::start().await;
    let case = w.add(new_case("CAS-R", 1));
    w.cycle().await;
    w.patch_case(&case, json!({"state": "Resolved", "status": "Completed"}))
        .await;
    w.cycle().await;
    let store = w.store();
    assert_eq!(
        store.case(&case).unwrap().unwrap().phase,
        hdis_sync::store::Phase::Closed
    );
    let later =
        chrono::Utc::now() + chrono::Duration::days(i64::from(w.config.sync.closed_grace_days) + 1);
    assert!(
        store
            .cases_to_poll(later, w.config.sync.closed_grace_days)
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        store.case(&case).unwrap().unwrap().phase,
        hdis_sync::store::Phase::Archived
    );
}

#[tokio::test]
async fn wrong_lexmark_credentials_fail_the_cycle_without_touching_anything() {
    let w = World::start().await;
    w.add(new_case("CAS-AUTH", 1));
    let mut config = w.config.clone();
    config.lexmark.password = Some("Wr0ng-Pa55-7x".to_string().into());
    let engine = hdis_sync::sync::Engine::from_config(&config).unwrap();
    let report = engine
        .run_cycle(&Default::default(), &Default::default())
        .await;
    let failure = report.failure.clone().unwrap();
    assert!(failure.contains("401"), "{failure}");
    assert!(
        !failure.contains("Wr0ng-Pa55-7x"),
        "the password must not appear: {failure}"
    );
    assert!(!report.lexmark_unreachable);
    assert_eq!(hdis_sync::app::exit_code(&report), 1);
    assert!(w.tickets().list().unwrap().is_empty());
}

#[tokio::test]
async fn an_oversized_status_body_is_a_clear_error_for_that_case_only() {
    let w = World::start().await;
    let big = w.add(new_case("CAS-BIG", 1));
    let fine = w.add(new_case("CAS-FINE2", 1));
    w.cycle().await;
    w.fault("STATUS", Some(&big), 200, &"x".repeat(9 * 1024 * 1024), 1);
    w.patch_case(&fine, json!({"status": "Completed"})).await;
    let report = w.cycle().await;
    assert_eq!((report.poll_errors, report.updates_delivered), (1, 1));
    let errors = w.store().cases_with_errors().unwrap();
    assert_eq!(errors[0].case, big);
    assert!(
        errors[0].error.contains("larger than"),
        "{}",
        errors[0].error
    );
}

#[tokio::test]
async fn oauth2_client_credentials_fetch_one_token_that_serves_the_whole_cycle() {
    use hdis_sync::config::LexmarkAuth;
    let w = World::start().await;
    w.add(new_case("CAS-OA1", 1));
    w.add(new_case("CAS-OA2", 1));
    let mut config = w.config.clone();
    config.lexmark.auth = LexmarkAuth::Oauth2;
    config.lexmark.token_url = Some(format!("{}/oauth2/token", w.base));
    config.lexmark.client_id = Some(crate::support::USER.into());
    config.lexmark.client_secret = Some(crate::support::PASSWORD.to_string().into());
    config.lexmark.username = None;
    config.lexmark.password = None;
    let engine = hdis_sync::sync::Engine::from_config(&config).unwrap();
    let report = engine
        .run_cycle(&Default::default(), &Default::default())
        .await;
    assert_eq!(report.failure, None);
    assert_eq!((report.tickets_created, report.write_backs_done), (2, 2));
    assert_eq!(
        w.sim.tokens_issued(),
        1,
        "the token is cached for its lifetime"
    );

    config.lexmark.client_secret = Some("N0t-the-s3cret".to_string().into());
    let engine = hdis_sync::sync::Engine::from_config(&config).unwrap();
    let failure = engine
        .run_cycle(&Default::default(), &Default::default())
        .await
        .failure
        .unwrap();
    assert!(
        failure.contains("OAuth2") && failure.contains("401"),
        "{failure}"
    );
    assert!(!failure.contains("N0t-the-s3cret"));
}
