//! The admin API under /sim.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use super::start;

#[tokio::test]
async fn admin_health_answers_ok() {
    let s = start().await;
    let answer = s.admin(Method::GET, "/health", None).await;
    assert_eq!(answer.status(), StatusCode::OK);
    assert_eq!(answer.json::<Value>().await.unwrap()["status"], "ok");
}

#[tokio::test]
async fn admin_adds_lists_and_gets_cases() {
    let s = start().await;

    let added = s
        .admin(
            Method::POST,
            "/cases",
            Some(json!({ "title": "Jam", "origin": "Email" })),
        )
        .await;
    assert_eq!(added.status(), StatusCode::CREATED);
    let number = added.json::<Value>().await.unwrap()["caseNumber"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(number.starts_with("CAS-10001-"), "{number}");

    let all: Value = s
        .admin(Method::GET, "/cases", None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(all.as_array().unwrap().len(), 1);
    let one: Value = s
        .admin(Method::GET, &format!("/cases/{number}"), None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(one["title"], "Jam");
    assert!(one["createdOn"].as_str().unwrap().ends_with('Z'));

    let duplicate = s
        .admin(
            Method::POST,
            "/cases",
            Some(json!({ "caseNumber": number })),
        )
        .await;
    assert_eq!(duplicate.status(), StatusCode::CONFLICT);
    let not_an_object = s.admin(Method::POST, "/cases", Some(json!([1]))).await;
    assert_eq!(not_an_object.status(), StatusCode::BAD_REQUEST);
    assert!(
        not_an_object.json::<Value>().await.unwrap()["message"]
            .as_str()
            .unwrap()
            .contains("JSON object")
    );
}

#[tokio::test]
async fn admin_patch_merges_top_level_keys_and_stores_null() {
    let s = start().await;
    let number = s.add(json!({ "detailedStatus": "Tech Dispatched", "description": "x" }));

    let answer = s
        .admin(
            Method::PATCH,
            &format!("/cases/{number}"),
            Some(json!({ "state": "Resolved", "status": "Completed", "description": null })),
        )
        .await;

    assert_eq!(answer.status(), StatusCode::OK);
    let doc = s.sim.case(&number).unwrap();
    assert_eq!(doc["state"], "Resolved");
    assert_eq!(doc["status"], "Completed");
    assert_eq!(doc["detailedStatus"], "Tech Dispatched");
    assert_eq!(doc.get("description"), Some(&Value::Null));
}

#[tokio::test]
async fn admin_put_replaces_the_document_wholesale() {
    let s = start().await;
    let number = s.add(json!({ "title": "old", "comments": [] }));
    let replacement = json!({ "caseNumber": number, "title": "new" });

    let answer = s
        .admin(
            Method::PUT,
            &format!("/cases/{number}"),
            Some(replacement.clone()),
        )
        .await;

    assert_eq!(answer.status(), StatusCode::OK);
    assert_eq!(s.sim.case(&number).unwrap(), replacement);
}

#[tokio::test]
async fn admin_comments_are_prepended_newest_first() {
    let s = start().await;
    let number = s.add(json!({}));
    let path = format!("/cases/{number}/comments");

    let first = s
        .admin(Method::POST, &path, Some(json!({ "description": "first" })))
        .await;
    let second = s
        .admin(
            Method::POST,
            &path,
            Some(json!({
                "description": "second",
                "createdBy": "Tech",
                "createdOn": "2030-01-01T00:00:00Z",
            })),
        )
        .await;

    assert_eq!(first.status(), StatusCode::CREATED);
    assert_eq!(second.status(), StatusCode::CREATED);
    let comments = s.sim.case(&number).unwrap()["comments"].clone();
    assert_eq!(comments[0]["description"], "second");
    assert_eq!(comments[0]["createdBy"], "Tech");
    assert_eq!(comments[0]["createdOn"], "2030-01-01T00:00:00Z");
    assert_eq!(comments[1]["description"], "first");
    assert_eq!(comments[1]["createdBy"], "Lexmark");
    assert!(comments[1]["createdOn"].as_str().unwrap().ends_with('Z'));
}

#[tokio::test]
async fn admin_work_orders_are_added_then_merged() {
    let s = start().await;
    let number = s.add(json!({ "workOrder": null }));
    let path = format!("/cases/{number}/work-orders/10011468");

    let added = s
        .admin(
            Method::PUT,
            &path,
            Some(json!({ "workOrderStatus": "Tech Dispatched", "workOrderType": "Break/Fix Repair" })),
        )
        .await;
    let merged = s
        .admin(
            Method::PUT,
            &path,
            Some(json!({ "workOrderStatus": "Tech En Route" })),
        )
        .await;

    assert_eq!(added.status(), StatusCode::CREATED);
    assert_eq!(merged.status(), StatusCode::OK);
    let orders = s.sim.case(&number).unwrap()["workOrder"].clone();
    assert_eq!(orders.as_array().unwrap().len(), 1);
    assert_eq!(orders[0]["workOrderNumber"], "10011468");
    assert_eq!(orders[0]["workOrderStatus"], "Tech En Route");
    assert_eq!(orders[0]["workOrderType"], "Break/Fix Repair");
    assert!(orders[0]["createdOn"].as_str().unwrap().ends_with('Z'));
}

#[tokio::test]
async fn admin_sales_orders_are_added_then_merged() {
    let s = start().await;
    let number = s.add(json!({}));
    let path = format!("/cases/{number}/sales-orders/ORD-735006-L9Y0Z7");

    s.admin(
        Method::PUT,
        &path,
        Some(json!({ "salesOrderStatus": "In Progress" })),
    )
    .await;
    let shipped = s
        .admin(
            Method::PUT,
            &path,
            Some(json!({
                "salesOrderStatus": "Shipped",
                "carrier": "United Parcel Service",
                "trackingNumber": "1Z1234123",
                "shippedDate": "2022-03-16T00:00:00Z",
            })),
        )
        .await;

    assert_eq!(shipped.status(), StatusCode::OK);
    let order = &s.sim.case(&number).unwrap()["salesOrder"][0];
    assert_eq!(order["salesOrderNumber"], "ORD-735006-L9Y0Z7");
    assert_eq!(order["salesOrderStatus"], "Shipped");
    assert_eq!(order["carrier"], "United Parcel Service");
    assert_eq!(order["trackingNumber"], "1Z1234123");
}

#[tokio::test]
async fn admin_generate_answers_the_new_case_numbers() {
    let s = start().await;
    let answer = s
        .admin(Method::POST, "/generate", Some(json!({ "count": 3 })))
        .await;
    assert_eq!(answer.status(), StatusCode::CREATED);
    let numbers = answer.json::<Value>().await.unwrap()["caseNumbers"].clone();
    assert_eq!(numbers.as_array().unwrap().len(), 3);
    assert_eq!(s.new_cases("").await.len(), 3);

    let bad = s
        .admin(Method::POST, "/generate", Some(json!({ "count": "three" })))
        .await;
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
    assert_eq!(bad.json::<Value>().await.unwrap()["field"], "count");
}

#[tokio::test]
async fn admin_calls_can_be_listed_and_cleared() {
    let s = start().await;
    s.new_cases("").await;
    s.get("/cases/CAS-NOPE").await;

    let calls: Value = s
        .admin(Method::GET, "/calls", None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(calls[0]["call"], "GET CASES");
    assert_eq!(calls[1]["call"], "STATUS");
    assert_eq!(calls[1]["case"], "CAS-NOPE");
    assert_eq!(calls[1]["status"], 404);

    let cleared = s.admin(Method::DELETE, "/calls", None).await;
    assert_eq!(cleared.status(), StatusCode::OK);
    assert!(s.sim.calls().is_empty());
}

#[tokio::test]
async fn admin_answers_404_for_an_unknown_case_and_400_naming_what_was_expected() {
    let s = start().await;
    let number = s.add(json!({}));

    for (method, path) in [
        (Method::GET, "/cases/CAS-NOPE"),
        (Method::GET, "/cases/CAS-NOPE/requests"),
    ] {
        let answer = s.admin(method, path, None).await;
        assert_eq!(answer.status(), StatusCode::NOT_FOUND, "{path}");
    }
    let missing = s
        .admin(
            Method::PUT,
            "/cases/CAS-NOPE/work-orders/1",
            Some(json!({})),
        )
        .await;
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);

    let patch_array = s
        .admin(
            Method::PATCH,
            &format!("/cases/{number}"),
            Some(json!([1, 2])),
        )
        .await;
    assert_eq!(patch_array.status(), StatusCode::BAD_REQUEST);
    assert!(
        patch_array.json::<Value>().await.unwrap()["message"]
            .as_str()
            .unwrap()
            .contains("JSON object")
    );
    let no_description = s
        .admin(
            Method::POST,
            &format!("/cases/{number}/comments"),
            Some(json!({ "createdBy": "X" })),
        )
        .await;
    assert_eq!(no_description.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        no_description.json::<Value>().await.unwrap()["field"],
        "description"
    );
}
