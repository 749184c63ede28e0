//! GET CASES: which cases are "new", and the filters.

use reqwest::StatusCode;
use serde_json::{Value, json};

use super::{days_ago, numbers, start, start_with};
use crate::sim::SimOptions;

#[tokio::test]
async fn get_cases_returns_only_cases_without_a_ticket_number() {
    let s = start().await;
    let with_ticket = s.add(json!({ "customerTicketNumber": "INC1234" }));
    let empty = s.add(json!({ "customerTicketNumber": "" }));
    let null = s.add(json!({ "customerTicketNumber": null }));
    let absent = s.add(json!({}));

    let listed = s.new_cases("").await;

    assert_eq!(listed, vec![empty, null, absent]);
    assert!(!listed.contains(&with_ticket));
}

#[tokio::test]
async fn get_cases_answers_with_and_without_the_trailing_slash() {
    let s = start().await;
    let number = s.add(json!({}));

    for path in ["/cases/", "/cases"] {
        let answer = s.get(path).await;
        assert_eq!(answer.status(), StatusCode::OK, "{path}");
        assert_eq!(numbers(&answer.json().await.unwrap()), vec![number.clone()]);
    }
}

#[tokio::test]
async fn no_of_past_days_keeps_only_cases_created_within_that_many_days() {
    let s = start().await;
    let recent = s.add(json!({ "createdOn": days_ago(2) }));
    let old = s.add(json!({ "createdOn": days_ago(10) }));
    // The same moment as `recent` give or take, written with an offset.
    let offset = (chrono::Utc::now() - chrono::TimeDelta::days(3))
        .with_timezone(&chrono::FixedOffset::east_opt(2 * 3600).unwrap())
        .to_rfc3339();
    let with_offset = s.add(json!({ "createdOn": offset }));
    let unparseable = s.add(json!({ "createdOn": "yesterday-ish" }));

    assert_eq!(
        s.new_cases("?NoOfPastDays=5").await,
        vec![recent.clone(), with_offset.clone()]
    );
    assert_eq!(
        s.new_cases("").await,
        vec![recent, old, with_offset, unparseable]
    );
    assert!(s.new_cases("?NoOfPastDays=1").await.is_empty());
}

#[tokio::test]
async fn case_origin_filter_matches_origin_ignoring_case() {
    let s = start().await;
    let phone = s.add(json!({ "origin": "Phone" }));
    let _email = s.add(json!({ "origin": "Email" }));
    let predictive = s.add(json!({ "origin": "PREDICTIVE" }));

    assert_eq!(s.new_cases("?caseOrigin=phone").await, vec![phone]);
    assert_eq!(
        s.new_cases("?caseOrigin=Predictive").await,
        vec![predictive]
    );
    assert!(s.new_cases("?caseOrigin=Fax").await.is_empty());
}

#[tokio::test]
async fn case_type_filter_ignores_case_and_spaces() {
    let s = start().await;
    let spaced = s.add(json!({ "type": "Break Fix" }));
    let joined = s.add(json!({ "type": "breakfix" }));
    let _other = s.add(json!({ "type": "Install" }));

    let both = vec![spaced, joined];
    assert_eq!(s.new_cases("?caseType=BreakFix").await, both);
    assert_eq!(s.new_cases("?caseType=Break%20Fix").await, both);
    assert_eq!(s.new_cases("?caseType=BREAK+FIX").await, both);
}

#[tokio::test]
async fn filters_combine() {
    let s = start().await;
    let hit = s.add(json!({ "origin": "Phone", "type": "Break Fix", "createdOn": days_ago(1) }));
    s.add(json!({ "origin": "Email", "type": "Break Fix", "createdOn": days_ago(1) }));
    s.add(json!({ "origin": "Phone", "type": "Install", "createdOn": days_ago(1) }));
    s.add(json!({ "origin": "Phone", "type": "Break Fix", "createdOn": days_ago(9) }));

    assert_eq!(
        s.new_cases("?NoOfPastDays=3&caseOrigin=Phone&caseType=BreakFix")
            .await,
        vec![hit]
    );
}

#[tokio::test]
async fn a_bad_no_of_past_days_is_a_400_naming_the_field() {
    let s = start().await;
    for bad in ["-1", "abc", "1.5", ""] {
        let answer = s.get(&format!("/cases/?NoOfPastDays={bad}")).await;
        assert_eq!(answer.status(), StatusCode::BAD_REQUEST, "{bad:?}");
        let body: Value = answer.json().await.unwrap();
        assert_eq!(body["field"], "NoOfPastDays");
        assert!(
            body["message"]
                .as_str()
                .unwrap()
                .contains("non-negative integer")
        );
    }
}

#[tokio::test]
async fn the_list_wrapper_option_wraps_the_array_in_an_object() {
    let s = start_with(SimOptions {
        list_wrapper: Some("cases".into()),
        ..SimOptions::default()
    })
    .await;
    let number = s.add(json!({}));

    let body: Value = s.get("/cases/").await.json().await.unwrap();

    assert_eq!(numbers(&body["cases"]), vec![number]);
    assert_eq!(body.as_object().unwrap().len(), 1);
}

#[tokio::test]
async fn get_cases_is_recorded_with_its_query() {
    let s = start().await;
    s.new_cases("?NoOfPastDays=7&caseType=BreakFix").await;

    let calls = s.sim.calls();
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0].call, "GET CASES");
    assert_eq!(calls[0].case, None);
    assert_eq!(
        calls[0].query.as_deref(),
        Some("NoOfPastDays=7&caseType=BreakFix")
    );
    assert_eq!(calls[0].body, None);
    assert_eq!(calls[0].status, 200);
}
