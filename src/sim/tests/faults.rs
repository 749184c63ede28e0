//! Planned faults: they answer instead of the call, are recorded, have no
//! effect, and run out.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use super::start;
use crate::sim::Fault;

fn fault(call: &str, status: u16) -> Fault {
    serde_json::from_value(json!({ "call": call, "status": status })).unwrap()
}

#[tokio::test]
async fn a_503_html_fault_answers_once_then_the_call_works_again() {
    let s = start().await;
    s.add(json!({}));
    s.sim.add_fault(Fault {
        body: "<html><body>Service Unavailable</body></html>".into(),
        content_type: "text/html".into(),
        ..fault("GET CASES", 503)
    });

    let faulted = s.get("/cases/").await;
    assert_eq!(faulted.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(faulted.headers()["content-type"], "text/html");
    assert!(faulted.text().await.unwrap().starts_with("<html>"));

    assert_eq!(s.new_cases("").await.len(), 1);
    let statuses: Vec<u16> = s.sim.calls().iter().map(|c| c.status).collect();
    assert_eq!(statuses, vec![503, 200]);
}

#[tokio::test]
async fn a_fault_with_times_hits_that_many_calls() {
    let s = start().await;
    let number = s.add(json!({}));
    s.sim.add_fault(Fault {
        times: 2,
        ..fault("STATUS", 500)
    });

    let mut statuses = Vec::new();
    for _ in 0..3 {
        statuses.push(s.get(&format!("/cases/{number}")).await.status().as_u16());
    }

    assert_eq!(statuses, vec![500, 500, 200]);
}

#[tokio::test]
async fn a_fault_for_one_case_leaves_other_cases_and_calls_alone() {
    let s = start().await;
    let hit = s.add(json!({}));
    let spared = s.add(json!({}));
    s.sim.add_fault(Fault {
        case: Some(hit.clone()),
        times: u32::MAX,
        ..fault("STATUS", 502)
    });

    assert_eq!(
        s.get(&format!("/cases/{spared}")).await.status(),
        StatusCode::OK
    );
    assert_eq!(s.new_cases("").await.len(), 2);
    for _ in 0..2 {
        assert_eq!(
            s.get(&format!("/cases/{hit}")).await.status(),
            StatusCode::BAD_GATEWAY
        );
    }
    s.sim.clear_faults();
    assert_eq!(
        s.get(&format!("/cases/{hit}")).await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn a_fault_can_answer_200_with_a_body_that_is_not_json() {
    let s = start().await;
    let number = s.add(json!({}));
    s.sim.add_fault(Fault {
        body: "“caseNumber”: oops".into(),
        ..fault("STATUS", 200)
    });

    let answer = s.get(&format!("/cases/{number}")).await;

    assert_eq!(answer.status(), StatusCode::OK);
    let text = answer.text().await.unwrap();
    assert_eq!(text, "“caseNumber”: oops");
    assert!(serde_json::from_str::<Value>(&text).is_err());
}

#[tokio::test]
async fn a_faulted_call_has_no_effect_on_the_state() {
    let s = start().await;
    let number = s.add(json!({}));
    s.sim.add_fault(fault("UPDATE TICKET #", 503));
    let path = format!("/cases/{number}/customerTicketNumber");

    let answer = s
        .call(
            Method::PATCH,
            &path,
            Some(json!({ "customerTicketNumber": "INC1" })),
        )
        .await;

    assert_eq!(answer.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(s.new_cases("").await, vec![number.clone()]);
    let call = &s.sim.calls()[0];
    assert_eq!(call.call, "UPDATE TICKET #");
    assert_eq!(call.case.as_deref(), Some(number.as_str()));
    assert_eq!(call.status, 503);
    assert_eq!(call.body, Some(json!({ "customerTicketNumber": "INC1" })));
}

#[tokio::test]
async fn a_429_fault_sends_retry_after() {
    let s = start().await;
    s.sim.add_fault(Fault {
        retry_after: Some("7".into()),
        body: r#"{"message":"slow down"}"#.into(),
        content_type: "application/json".into(),
        ..fault("GET CASES", 429)
    });

    let answer = s.get("/cases/").await;

    assert_eq!(answer.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(answer.headers()["retry-after"], "7");
    assert_eq!(
        answer.json::<Value>().await.unwrap()["message"],
        "slow down"
    );
}

#[tokio::test]
async fn a_delayed_fault_lets_the_client_time_out() {
    let s = start().await;
    s.sim.add_fault(Fault {
        delay_ms: 5_000,
        ..fault("GET CASES", 200)
    });

    let result = s
        .http
        .get(format!("{}/b2b/v1/cases/", s.base))
        .basic_auth("hdis", Some("hdis"))
        .timeout(Duration::from_millis(100))
        .send()
        .await;

    assert!(result.unwrap_err().is_timeout());
    assert_eq!(s.sim.calls()[0].status, 200);
}

#[tokio::test]
async fn admin_faults_are_checked_added_listed_and_cleared() {
    let s = start().await;

    let bad_call = s
        .admin(
            Method::POST,
            "/faults",
            Some(json!({ "call": "DELETE", "status": 503 })),
        )
        .await;
    assert_eq!(bad_call.status(), StatusCode::BAD_REQUEST);
    assert_eq!(bad_call.json::<Value>().await.unwrap()["field"], "call");
    let no_status = s
        .admin(Method::POST, "/faults", Some(json!({ "call": "STATUS" })))
        .await;
    assert_eq!(no_status.status(), StatusCode::BAD_REQUEST);
    assert!(
        no_status.json::<Value>().await.unwrap()["message"]
            .as_str()
            .unwrap()
            .contains("status")
    );

    let added = s
        .admin(
            Method::POST,
            "/faults",
            Some(json!({ "call": "get cases", "status": 503, "times": 3 })),
        )
        .await;
    assert_eq!(added.status(), StatusCode::CREATED);
    let listed: Value = s
        .admin(Method::GET, "/faults", None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(listed[0]["call"], "GET CASES");
    assert_eq!(listed[0]["times"], 3);
    assert_eq!(listed[0]["content_type"], "text/plain");
    assert_eq!(
        s.get("/cases/").await.status(),
        StatusCode::SERVICE_UNAVAILABLE
    );

    let cleared = s.admin(Method::DELETE, "/faults", None).await;
    assert_eq!(cleared.status(), StatusCode::OK);
    assert_eq!(s.get("/cases/").await.status(), StatusCode::OK);
}
