//! The ServiceNow connector against the stateful fake.

use std::time::Duration;

use hdis_sync::config::ServiceNowConfig;
use hdis_sync::http::{HttpError, Retry};
use hdis_sync::itsm::servicenow::ServiceNowConnector;
use hdis_sync::itsm::{Connector, ConnectorError, NewTicket, TicketRef, TicketUpdate};
use serde_json::{Value, json};

use crate::servicenow_fake::{FakeServiceNow, Fault, JOURNAL_TABLE, PASSWORD, USERNAME};

const TABLE_PATH: &str = "/api/now/table/incident";

fn connector(config: &ServiceNowConfig) -> ServiceNowConnector {
    ServiceNowConnector::new(config).expect("connector")
}

fn ticket(key: &str, title: &str) -> NewTicket {
    NewTicket {
        correlation_key: key.into(),
        title: title.into(),
        description: "Printer 7528-A1B2 reports a paper jam.".into(),
        lexmark_state: Some("Open".into()),
    }
}

fn note(marker: &str, state: Option<&str>) -> TicketUpdate {
    TicketUpdate {
        marker: marker.into(),
        note: format!("Lexmark changed the case.\n\n[{marker}]"),
        lexmark_state: state.map(Into::into),
    }
}

fn field<'a>(record: &'a serde_json::Map<String, Value>, name: &str) -> &'a str {
    record.get(name).and_then(Value::as_str).unwrap_or_default()
}

fn http_source(e: &ConnectorError) -> &HttpError {
    match e {
        ConnectorError::Http { source, .. } => source,
        other => panic!("expected an HTTP error, got {other:?}"),
    }
}

#[tokio::test]
async fn a_created_ticket_is_found_again_by_its_correlation_key() {
    let fake = FakeServiceNow::start().await;
    let sn = connector(&fake.config());

    assert_eq!(sn.find_by_correlation("10012345").await.unwrap(), None);
    let created = sn.create(&ticket("10012345", "Paper jam")).await.unwrap();

    assert_eq!(created.number, "INC0010001");
    assert_eq!(created.id.len(), 32);
    assert!(created.id.chars().all(|c| c.is_ascii_hexdigit()));
    let found = sn.find_by_correlation("10012345").await.unwrap();
    assert_eq!(found, Some(created.clone()));
    let record = fake.record_by_correlation("10012345").unwrap();
    assert_eq!(field(&record, "sys_id"), created.id);
    assert_eq!(field(&record, "correlation_display"), "Lexmark HDIS");
    assert_eq!(field(&record, "short_description"), "Paper jam");
    assert_eq!(
        field(&record, "description"),
        "Printer 7528-A1B2 reports a paper jam."
    );
}

#[tokio::test]
async fn create_sets_the_configured_fields_and_the_mapped_state() {
    let fake = FakeServiceNow::start().await;
    let mut config = fake.config();
    config
        .create_fields
        .insert("assignment_group".into(), "Printers".into());
    config.state_map.insert("Open".into(), "2".into());
    let sn = connector(&config);

    sn.create(&ticket("10012345", "Paper jam")).await.unwrap();

    let record = fake.record_by_correlation("10012345").unwrap();
    assert_eq!(field(&record, "assignment_group"), "Printers");
    assert_eq!(field(&record, "state"), "2");
}

#[tokio::test]
async fn find_ignores_records_whose_correlation_id_differs_when_servicenow_drops_the_query() {
    let fake = FakeServiceNow::start().await;
    fake.ignore_query_field("correlation_id");
    for key in ["10000001", "10000002", "10000003"] {
        fake.insert("incident", json!({ "correlation_id": key }));
    }
    let sn = connector(&fake.config());

    assert_eq!(sn.find_by_correlation("10012345").await.unwrap(), None);
    let created = sn.create(&ticket("10012345", "Paper jam")).await.unwrap();
    fake.insert("incident", json!({ "correlation_id": "10000004" }));

    assert_eq!(
        sn.find_by_correlation("10012345").await.unwrap(),
        Some(created)
    );
}

#[tokio::test]
async fn a_dropped_query_answering_a_full_page_of_unrelated_records_is_an_error_not_a_miss() {
    let fake = FakeServiceNow::start().await;
    fake.ignore_query_field("correlation_id");
    for n in 0..12 {
        fake.insert(
            "incident",
            json!({ "correlation_id": format!("2000{n:04}") }),
        );
    }
    let sn = connector(&fake.config());

    let e = sn.find_by_correlation("10012345").await.unwrap_err();

    assert_eq!(e.retry(), Retry::Permanent);
    assert!(e.to_string().contains("correlation_id"), "{e}");
}

#[tokio::test]
async fn several_records_with_the_key_give_the_oldest() {
    let fake = FakeServiceNow::start().await;
    let first = fake.insert("incident", json!({ "correlation_id": "10012345" }));
    fake.insert("incident", json!({ "correlation_id": "10012345" }));
    let sn = connector(&fake.config());

    let found = sn.find_by_correlation("10012345").await.unwrap().unwrap();

    assert_eq!(found.id, field(&first, "sys_id"));
    assert_eq!(found.number, "INC0010001");
}

#[tokio::test]
async fn a_key_that_would_change_the_query_is_refused_before_any_request() {
    let fake = FakeServiceNow::start().await;
    let sn = connector(&fake.config());

    for key in ["1^ORactive=true", "", "javascript:gs.getUserID()"] {
        let e = sn.find_by_correlation(key).await.unwrap_err();
        assert!(matches!(e, ConnectorError::Rejected { .. }), "{e:?}");
        let e = sn.create(&ticket(key, "x")).await.unwrap_err();
        assert!(matches!(e, ConnectorError::Rejected { .. }), "{e:?}");
    }
    assert!(fake.requests().is_empty());
}

#[tokio::test]
async fn update_adds_a_work_note() {
    let fake = FakeServiceNow::start().await;
    let sn = connector(&fake.config());
    let t = sn.create(&ticket("10012345", "Paper jam")).await.unwrap();

    sn.update(&t, &note("hdis-sync:00aa", None)).await.unwrap();

    let journal = fake.journal(&t.id);
    assert_eq!(journal.len(), 1);
    assert_eq!(journal[0].element, "work_notes");
    assert_eq!(journal[0].value, note("hdis-sync:00aa", None).note);
    assert_eq!(
        fake.request_count("PATCH", &format!("{TABLE_PATH}/{}", t.id)),
        1
    );
}

#[tokio::test]
async fn update_adds_a_comment_when_work_notes_is_off() {
    let fake = FakeServiceNow::start().await;
    let mut config = fake.config();
    config.work_notes = false;
    let sn = connector(&config);
    let t = sn.create(&ticket("10012345", "Paper jam")).await.unwrap();

    sn.update(&t, &note("hdis-sync:00aa", None)).await.unwrap();

    let journal = fake.journal(&t.id);
    assert_eq!(journal.len(), 1);
    assert_eq!(journal[0].element, "comments");
    assert_eq!(
        sn.has_marker(&t, "hdis-sync:00aa").await.unwrap(),
        Some(true)
    );
}

#[tokio::test]
async fn an_update_with_a_mapped_lexmark_state_moves_the_ticket_state() {
    let fake = FakeServiceNow::start().await;
    let mut config = fake.config();
    // Keys set through the environment arrive lower-cased.
    config.state_map.insert("resolved".into(), "6".into());
    let sn = connector(&config);
    let t = sn.create(&ticket("10012345", "Paper jam")).await.unwrap();

    sn.update(&t, &note("hdis-sync:0001", Some("Waiting")))
        .await
        .unwrap();
    assert_eq!(
        field(&fake.record_by_correlation("10012345").unwrap(), "state"),
        "1"
    );
    sn.update(&t, &note("hdis-sync:0002", Some("Resolved")))
        .await
        .unwrap();

    assert_eq!(
        field(&fake.record_by_correlation("10012345").unwrap(), "state"),
        "6"
    );
    assert_eq!(fake.journal(&t.id).len(), 2);
}

#[tokio::test]
async fn a_resolution_carries_the_fields_servicenow_requires_to_resolve() {
    let fake = FakeServiceNow::start().await;
    let mut config = fake.config();
    config.state_map.insert("Resolved".into(), "6".into());
    config.state_fields.insert(
        "Resolved".into(),
        [
            ("close_code".to_string(), "Solved (Permanently)".to_string()),
            ("close_notes".to_string(), "Resolved by Lexmark".to_string()),
        ]
        .into(),
    );
    let sn = connector(&config);
    let t = sn.create(&ticket("10012346", "Paper jam")).await.unwrap();
    let record = fake.record_by_correlation("10012346").unwrap();
    assert_eq!(
        field(&record, "close_code"),
        "",
        "not set while the case is open"
    );

    sn.update(&t, &note("hdis-sync:0003", Some("Resolved")))
        .await
        .unwrap();

    let record = fake.record_by_correlation("10012346").unwrap();
    assert_eq!(field(&record, "state"), "6");
    assert_eq!(field(&record, "close_code"), "Solved (Permanently)");
    assert_eq!(field(&record, "close_notes"), "Resolved by Lexmark");
}

#[tokio::test]
async fn has_marker_is_false_before_the_update_and_true_after() {
    let fake = FakeServiceNow::start().await;
    let sn = connector(&fake.config());
    let t = sn.create(&ticket("10012345", "Paper jam")).await.unwrap();

    assert_eq!(
        sn.has_marker(&t, "hdis-sync:00aa").await.unwrap(),
        Some(false)
    );
    sn.update(&t, &note("hdis-sync:00aa", None)).await.unwrap();

    assert_eq!(
        sn.has_marker(&t, "hdis-sync:00aa").await.unwrap(),
        Some(true)
    );
    assert_eq!(
        sn.has_marker(&t, "hdis-sync:00bb").await.unwrap(),
        Some(false)
    );
    assert_eq!(
        fake.request_count("GET", "/api/now/table/sys_journal_field"),
        3
    );
}

#[tokio::test]
async fn has_marker_ignores_notes_of_other_tickets_when_servicenow_drops_the_query() {
    let fake = FakeServiceNow::start().await;
    fake.ignore_query_field("element_id");
    let sn = connector(&fake.config());
    let mine = sn.create(&ticket("10000001", "Mine")).await.unwrap();
    let other = sn.create(&ticket("10000002", "Other")).await.unwrap();

    sn.update(&other, &note("hdis-sync:00aa", None))
        .await
        .unwrap();

    assert_eq!(
        sn.has_marker(&mine, "hdis-sync:00aa").await.unwrap(),
        Some(false)
    );
    assert_eq!(fake.records(JOURNAL_TABLE).len(), 1);
}

#[tokio::test]
async fn has_marker_cannot_tell_when_a_full_page_of_unrelated_notes_comes_back() {
    let fake = FakeServiceNow::start().await;
    fake.ignore_query_field("element_id");
    fake.ignore_query_field("value");
    let sn = connector(&fake.config());
    let mine = sn.create(&ticket("10000001", "Mine")).await.unwrap();
    let other = sn.create(&ticket("10000002", "Other")).await.unwrap();
    for n in 0..12 {
        sn.update(&other, &note(&format!("hdis-sync:{n:04}"), None))
            .await
            .unwrap();
    }

    assert_eq!(sn.has_marker(&mine, "hdis-sync:00aa").await.unwrap(), None);
}

#[tokio::test]
async fn has_marker_cannot_tell_when_the_journal_is_forbidden() {
    let fake = FakeServiceNow::start().await;
    let sn = connector(&fake.config());
    let t = sn.create(&ticket("10012345", "Paper jam")).await.unwrap();
    fake.fail(
        Fault::status(403)
            .json(json!({"error": {"message": "Operation Failed",
                "detail": "ACL Exception Update Failed due to security constraints"},
                "status": "failure"}))
            .on("GET", &format!("/api/now/table/{JOURNAL_TABLE}")),
    );

    assert_eq!(sn.has_marker(&t, "hdis-sync:00aa").await.unwrap(), None);
}

#[tokio::test]
async fn a_401_reads_user_not_authenticated_and_is_not_retried() {
    let fake = FakeServiceNow::start().await;
    let mut config = fake.config();
    config.password = Some("wrong-password".to_string().into());
    let sn = connector(&config);

    let e = sn.find_by_correlation("10012345").await.unwrap_err();

    assert!(e.to_string().contains("User Not Authenticated"), "{e}");
    assert!(
        e.to_string()
            .contains("Required to provide Auth information"),
        "{e}"
    );
    assert_eq!(e.retry(), Retry::Permanent);
    assert!(sn.check().await.is_err());
}

#[tokio::test]
async fn check_passes_with_good_credentials() {
    let fake = FakeServiceNow::start().await;
    connector(&fake.config()).check().await.unwrap();
    assert_eq!(fake.request_count("GET", TABLE_PATH), 1);
}

#[tokio::test]
async fn an_html_page_answered_with_200_is_an_error_not_an_empty_answer() {
    let fake = FakeServiceNow::start().await;
    fake.fail(Fault::status(200).body(
        "text/html",
        "<html><body>Your instance is hibernating</body></html>",
    ));
    let sn = connector(&fake.config());

    let e = sn.check().await.unwrap_err();

    assert!(matches!(http_source(&e), HttpError::Decode { .. }), "{e:?}");
    assert!(e.to_string().contains("hibernating"), "{e}");
}

#[tokio::test]
async fn create_fields_may_not_override_the_correlation_key() {
    let fake = FakeServiceNow::start().await;
    let mut config = fake.config();
    config
        .create_fields
        .insert("correlation_id".into(), "fixed".into());

    let e = ServiceNowConnector::new(&config).unwrap_err();

    assert!(
        e.to_string().contains("create_fields.correlation_id"),
        "{e}"
    );
}

#[tokio::test]
async fn updating_a_ticket_that_does_not_exist_is_a_permanent_404() {
    let fake = FakeServiceNow::start().await;
    let sn = connector(&fake.config());
    let gone = TicketRef {
        id: "0123456789abcdef0123456789abcdef".into(),
        number: "INC0099999".into(),
    };

    let e = sn
        .update(&gone, &note("hdis-sync:00aa", None))
        .await
        .unwrap_err();

    assert_eq!(http_source(&e).status().map(|s| s.as_u16()), Some(404));
    assert_eq!(e.retry(), Retry::Permanent);
    assert!(e.to_string().contains("No Record found"), "{e}");
    assert!(e.to_string().contains("ACL restricts"), "{e}");
}

#[tokio::test]
async fn a_429_with_retry_after_and_a_plain_text_body_is_retried_after_a_second() {
    let fake = FakeServiceNow::start().await;
    fake.fail(
        Fault::status(429)
            .body("text/plain", "Too many requests, slow down")
            .retry_after("1")
            .on("GET", TABLE_PATH),
    );
    let sn = connector(&fake.config());

    let e = sn.find_by_correlation("10012345").await.unwrap_err();

    assert!(matches!(http_source(&e), HttpError::Status { .. }), "{e:?}");
    assert_eq!(
        e.retry(),
        Retry::Transient {
            after: Some(Duration::from_secs(1))
        }
    );
    assert!(e.to_string().contains("Too many requests"), "{e}");
    // The fault was used up: the next attempt goes through.
    assert_eq!(sn.find_by_correlation("10012345").await.unwrap(), None);
}

#[tokio::test]
async fn a_503_with_an_html_body_is_retried_and_its_outcome_is_unknown() {
    let fake = FakeServiceNow::start().await;
    fake.fail(
        Fault::status(503)
            .body(
                "text/html",
                "<html><body><h1>Instance hibernating</h1></body></html>",
            )
            .on("POST", TABLE_PATH),
    );
    let sn = connector(&fake.config());

    let e = sn
        .create(&ticket("10012345", "Paper jam"))
        .await
        .unwrap_err();

    assert!(matches!(http_source(&e), HttpError::Status { .. }), "{e:?}");
    assert!(matches!(e.retry(), Retry::Transient { .. }));
    assert!(e.outcome_unknown());
    assert!(fake.records("incident").is_empty());
}

#[tokio::test]
async fn a_long_title_is_cut_on_a_char_boundary_and_kept_whole_in_the_description() {
    let fake = FakeServiceNow::start().await;
    let sn = connector(&fake.config());
    let title = "Imprimante bloquée — café renversé 🖨️☕ ".repeat(8);
    let new = ticket("10012345", &title);

    sn.create(&new).await.unwrap();

    let record = fake.record_by_correlation("10012345").unwrap();
    let short = field(&record, "short_description");
    assert!(short.encode_utf16().count() <= 160, "{short}");
    let kept = short.strip_suffix('…').expect("ends with an ellipsis");
    assert!(title.starts_with(kept));
    assert!(kept.chars().count() > 100);
    let description = field(&record, "description");
    assert_eq!(description, format!("{title}\n\n{}", new.description));
}

#[tokio::test]
async fn the_password_never_appears_in_debug_output_or_error_text() {
    let fake = FakeServiceNow::start().await;
    let mut config = fake.config();
    let sn = connector(&config);
    assert!(!format!("{sn:?}").contains(PASSWORD));
    assert!(format!("{sn:?}").contains(USERNAME));

    config.password = Some("hunter2-wrong-pw".to_string().into());
    let wrong = connector(&config);
    let e = wrong.check().await.unwrap_err();
    for text in [e.to_string(), format!("{e:?}"), format!("{wrong:?}")] {
        assert!(!text.contains("hunter2-wrong-pw"), "{text}");
    }

    drop(fake);
    let e = sn.check().await.unwrap_err();
    assert!(matches!(e.retry(), Retry::Transient { .. }), "{e:?}");
    for text in [e.to_string(), format!("{e:?}")] {
        assert!(!text.contains(PASSWORD), "{text}");
    }
}

#[tokio::test]
async fn an_instance_url_carrying_credentials_is_refused() {
    let fake = FakeServiceNow::start().await;
    let mut config = fake.config();
    config.instance_url = config
        .instance_url
        .replace("http://", &format!("http://{USERNAME}:{PASSWORD}@"));

    let e = ServiceNowConnector::new(&config).unwrap_err();

    assert!(matches!(e, ConnectorError::Config(_)));
    assert!(!e.to_string().contains(PASSWORD));
}

#[tokio::test]
async fn a_held_create_is_stored_before_its_answer_is_released() {
    let fake = FakeServiceNow::start().await;
    let held = fake.hold_next("POST", TABLE_PATH);
    let sn = connector(&fake.config());

    let create = tokio::spawn(async move { sn.create(&ticket("10012345", "Paper jam")).await });
    held.arrived().await;
    assert!(fake.record_by_correlation("10012345").is_some());
    assert!(!create.is_finished());
    held.release();

    let created = create.await.unwrap().unwrap();
    assert_eq!(created.number, "INC0010001");
}

#[tokio::test]
async fn a_create_whose_answer_is_late_times_out_and_is_then_found() {
    let fake = FakeServiceNow::start().await;
    let mut config = fake.config();
    config.timeout_secs = 1;
    let held = fake.delay_next("POST", TABLE_PATH, Duration::from_secs(5));
    let sn = connector(&config);

    let e = sn
        .create(&ticket("10012345", "Paper jam"))
        .await
        .unwrap_err();
    held.arrived().await;

    assert!(e.outcome_unknown(), "{e:?}");
    assert!(matches!(e.retry(), Retry::Transient { .. }));
    let found = sn.find_by_correlation("10012345").await.unwrap().unwrap();
    assert_eq!(found.number, "INC0010001");
    assert_eq!(fake.records("incident").len(), 1);
}

#[tokio::test]
async fn a_custom_table_numbers_its_own_records() {
    let fake = FakeServiceNow::start().await;
    fake.add_table("u_print_case", "PRC");
    let mut config = fake.config();
    config.table = "u_print_case".into();
    let sn = connector(&config);

    let t = sn.create(&ticket("10012345", "Paper jam")).await.unwrap();

    assert_eq!(t.number, "PRC0010001");
    assert!(fake.records("incident").is_empty());
    assert_eq!(fake.request_count("POST", "/api/now/table/u_print_case"), 1);
}

#[tokio::test]
async fn the_fake_answers_like_servicenow_to_bad_requests() {
    let fake = FakeServiceNow::start().await;
    let http = reqwest::Client::new();
    let url = format!("{}{TABLE_PATH}", fake.url());

    let r = http.get(&url).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 401);
    assert_eq!(
        r.json::<Value>().await.unwrap(),
        json!({"error": {"message": "User Not Authenticated",
            "detail": "Required to provide Auth information"}, "status": "failure"})
    );

    let r = http
        .post(&url)
        .basic_auth(USERNAME, Some(PASSWORD))
        .header("Content-Type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 400);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["status"], "failure");
    assert!(body["error"]["message"].is_string());

    let r = http
        .patch(format!("{url}/0123456789abcdef0123456789abcdef"))
        .basic_auth(USERNAME, Some(PASSWORD))
        .json(&json!({"work_notes": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 404);
    assert_eq!(
        r.json::<Value>().await.unwrap()["error"]["message"],
        "No Record found"
    );

    fake.insert(
        "incident",
        json!({"correlation_id": "a", "short_description": "x"}),
    );
    fake.insert(
        "incident",
        json!({"correlation_id": "b", "bogus_field": "y"}),
    );
    let r = http
        .get(&url)
        .basic_auth(USERNAME, Some(PASSWORD))
        .query(&[
            ("sysparm_query", "bogus=1^ORDERBYDESCnumber"),
            ("sysparm_fields", "number,correlation_id,bogus_field"),
            ("sysparm_limit", "1"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["X-Total-Count"], "2");
    assert_eq!(
        r.json::<Value>().await.unwrap(),
        json!({"result": [{"number": "INC0010002", "correlation_id": "b"}]})
    );
    assert_eq!(fake.requests().len(), 4);
}
