//! The customer calls other than GET CASES: auth, STATUS, UPDATE TICKET #,
//! UPDATE, ESCALATE, CANCEL, CREATE.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use super::{fixture, start};

#[tokio::test]
async fn calls_without_or_with_wrong_credentials_get_401_with_a_basic_challenge() {
    let s = start().await;
    let url = format!("{}/b2b/v1/cases/", s.base);
    let missing = s.http.get(&url).send().await.unwrap();
    let wrong = s
        .http
        .get(&url)
        .basic_auth("hdis", Some("nope"))
        .send()
        .await
        .unwrap();

    for answer in [missing, wrong] {
        assert_eq!(answer.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(
            answer.headers()["www-authenticate"],
            r#"Basic realm="HDIS""#
        );
        let body: Value = answer.json().await.unwrap();
        assert!(body["message"].is_string());
    }
    let statuses: Vec<u16> = s.sim.calls().iter().map(|c| c.status).collect();
    assert_eq!(statuses, vec![401, 401]);
}

#[tokio::test]
async fn status_returns_the_stored_document_as_is() {
    let s = start().await;
    let number = s.add(json!({}));
    let odd = json!({ "caseNumber": number, "comments": null, "surprise": { "nested": [1, 2] } });
    s.sim.replace_case(&number, odd.clone()).unwrap();

    let answer = s.get(&format!("/cases/{number}")).await;

    assert_eq!(answer.status(), StatusCode::OK);
    assert_eq!(answer.json::<Value>().await.unwrap(), odd);
}

#[tokio::test]
async fn status_of_an_unknown_case_is_a_404_with_a_json_message() {
    let s = start().await;
    let answer = s.get("/cases/CAS-0-NOPE").await;

    assert_eq!(answer.status(), StatusCode::NOT_FOUND);
    let body: Value = answer.json().await.unwrap();
    assert!(body["message"].as_str().unwrap().contains("CAS-0-NOPE"));
    assert_eq!(s.sim.calls()[0].status, 404);
}

#[tokio::test]
async fn update_ticket_number_removes_the_case_from_get_cases() {
    let s = start().await;
    let number = s.add(json!({ "customerTicketNumber": "" }));
    assert_eq!(s.new_cases("").await, vec![number.clone()]);

    let path = format!("/cases/{number}/customerTicketNumber");
    let answer = s
        .call(
            Method::PATCH,
            &path,
            Some(json!({ "customerTicketNumber": "INC0042" })),
        )
        .await;

    assert_eq!(answer.status(), StatusCode::OK);
    assert_eq!(
        answer.json::<Value>().await.unwrap(),
        json!({ "caseNumber": number, "customerTicketNumber": "INC0042" })
    );
    assert!(s.new_cases("").await.is_empty());
    assert_eq!(
        s.sim.case(&number).unwrap()["customerTicketNumber"],
        "INC0042"
    );
}

#[tokio::test]
async fn update_ticket_number_without_a_ticket_is_a_400_naming_the_field() {
    let s = start().await;
    let number = s.add(json!({}));
    let path = format!("/cases/{number}/customerTicketNumber");
    for body in [
        json!({}),
        json!({ "customerTicketNumber": "" }),
        json!({ "customerTicketNumber": 7 }),
    ] {
        let answer = s.call(Method::PATCH, &path, Some(body.clone())).await;
        assert_eq!(answer.status(), StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(
            answer.json::<Value>().await.unwrap()["field"],
            "customerTicketNumber"
        );
    }
    assert_eq!(s.new_cases("").await, vec![number]);
}

#[tokio::test]
async fn update_prepends_a_customer_comment_and_keeps_attachments() {
    let s = start().await;
    let number = s.add(json!({ "comments": [
        { "createdOn": "2022-02-11T19:16:30Z", "createdBy": "Lexmark", "description": "older" }
    ] }));
    let body = json!({
        "comments": "Still jamming after the reset.",
        "attachment": [{ "fileName": "panel.txt", "content": "UGFwZXIgamFtIDIwMi4wMw==" }],
    });

    let answer = s
        .call(
            Method::PATCH,
            &format!("/cases/{number}/updateCase"),
            Some(body),
        )
        .await;

    assert_eq!(answer.status(), StatusCode::OK);
    let doc = s.sim.case(&number).unwrap();
    let comments = doc["comments"].as_array().unwrap();
    assert_eq!(comments.len(), 2);
    assert_eq!(comments[0]["createdBy"], "Customer");
    assert_eq!(comments[0]["description"], "Still jamming after the reset.");
    assert!(comments[0]["createdOn"].as_str().unwrap().ends_with('Z'));
    assert_eq!(comments[1]["description"], "older");

    let requests: Value = s
        .admin(Method::GET, &format!("/cases/{number}/requests"), None)
        .await
        .json()
        .await
        .unwrap();
    let attachment = &requests["attachments"][0];
    assert_eq!(attachment["fileName"], "panel.txt");
    assert_eq!(attachment["size"], 16);
    assert_eq!(attachment["call"], "UPDATE");
}

#[tokio::test]
async fn update_rejects_bad_base64_too_many_attachments_and_an_empty_update() {
    let s = start().await;
    let number = s.add(json!({}));
    let path = format!("/cases/{number}/updateCase");
    let file = |content: &str| json!({ "fileName": "a.txt", "content": content });
    let cases = [
        (
            json!({ "comments": "x", "attachment": [file("not base64!")] }),
            "attachment[0].content",
        ),
        (
            json!({ "comments": "x", "attachment": [file("QQ=="), file("QQ=="), file("QQ=="), file("QQ==")] }),
            "attachment",
        ),
        (json!({ "comments": "" }), "comments"),
        (json!({ "comments": 3 }), "comments"),
    ];
    for (body, field) in cases {
        let answer = s.call(Method::PATCH, &path, Some(body.clone())).await;
        assert_eq!(answer.status(), StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(
            answer.json::<Value>().await.unwrap()["field"],
            field,
            "{body}"
        );
    }
    assert_eq!(s.sim.case(&number).unwrap()["comments"], json!([]));
}

#[tokio::test]
async fn cancel_sets_the_state_to_canceled_and_keeps_the_reason() {
    let s = start().await;
    let number = s.add(json!({ "state": "Active" }));
    let body = json!({ "cancelRequestReason": "Closed in our ITSM" });

    let answer = s
        .call(
            Method::POST,
            &format!("/cases/{number}/cancelRequest"),
            Some(body.clone()),
        )
        .await;

    assert_eq!(answer.status(), StatusCode::OK);
    assert_eq!(s.sim.case(&number).unwrap()["state"], "Canceled");
    let requests: Value = s
        .admin(Method::GET, &format!("/cases/{number}/requests"), None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(requests["cancellations"][0]["reason"], "Closed in our ITSM");
    let call = &s.sim.calls()[0];
    assert_eq!(
        (call.call.as_str(), call.case.as_deref()),
        ("CANCEL", Some(number.as_str()))
    );
    assert_eq!(call.body, Some(body));
}

#[tokio::test]
async fn escalate_keeps_the_reason_and_needs_one() {
    let s = start().await;
    let number = s.add(json!({}));
    let path = format!("/cases/{number}/escalateRequest");

    let empty = s
        .call(
            Method::POST,
            &path,
            Some(json!({ "escalateRequestReason": " " })),
        )
        .await;
    let good = s
        .call(
            Method::POST,
            &path,
            Some(json!({ "escalateRequestReason": "Down for 3 days" })),
        )
        .await;

    assert_eq!(empty.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        empty.json::<Value>().await.unwrap()["field"],
        "escalateRequestReason"
    );
    assert_eq!(good.status(), StatusCode::OK);
    let requests: Value = s
        .admin(Method::GET, &format!("/cases/{number}/requests"), None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(requests["escalations"].as_array().unwrap().len(), 1);
    assert_eq!(requests["escalations"][0]["reason"], "Down for 3 days");
}

#[tokio::test]
async fn create_names_every_missing_field() {
    let s = start().await;
    let answer = s
        .call(
            Method::POST,
            "/cases/",
            Some(json!({ "contactFirstName": "Pat", "title": 5 })),
        )
        .await;

    assert_eq!(answer.status(), StatusCode::BAD_REQUEST);
    let body: Value = answer.json().await.unwrap();
    let fields: Vec<&str> = body["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f.as_str().unwrap())
        .collect();
    assert_eq!(
        fields,
        [
            "contactLastName",
            "contactEmail",
            "contactPhone",
            "title",
            "customerTicketNumber",
            "serialNumber"
        ]
    );
    assert_eq!(body["field"], "contactLastName");
    let message = body["message"].as_str().unwrap();
    assert!(
        message.contains("title must be a string, not a number"),
        "{message}"
    );
    assert!(
        message.contains("serialNumber or customerProductNumber"),
        "{message}"
    );
    assert!(s.sim.cases().is_empty());
}

#[tokio::test]
async fn create_stores_a_case_document_mapped_from_the_request() {
    let s = start().await;
    let request = fixture("create-request.json");

    let answer = s.call(Method::POST, "/cases/", Some(request)).await;

    assert_eq!(answer.status(), StatusCode::CREATED);
    let body: Value = answer.json().await.unwrap();
    assert_eq!(body["customerTicketNumber"], "INC00123");
    let number = body["caseNumber"].as_str().unwrap();
    assert!(number.starts_with("CAS-"), "{number}");

    let doc: Value = s
        .get(&format!("/cases/{number}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(doc["state"], "Active");
    assert_eq!(doc["status"], "In Progress");
    assert_eq!(doc["origin"], "Web");
    assert_eq!(doc["type"], "Break Fix");
    assert_eq!(doc["title"], "Paper jam on every print job");
    assert_eq!(doc["customerTicketNumber"], "INC00123");
    assert_eq!(doc["customerAsset"]["serialNumber"], "451400HH0ABC1");
    let address = &doc["customerAsset"]["crmAddress"];
    assert_eq!(address["state"], "KY");
    assert_eq!(address["postalCode"], "12345");
    assert_eq!(address["room"], "210");
    assert!(address.get("stateProvince").is_none());
    assert_eq!(doc["requestorInfo"]["firstName"], "Pat");
    assert_eq!(doc["requestorInfo"]["workPhone"], "555-0100");
    assert_eq!(doc["comments"], json!([]));
    // It has a ticket number, so it is not "new".
    assert!(s.new_cases("").await.is_empty());
    let requests: Value = s
        .admin(Method::GET, &format!("/cases/{number}/requests"), None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(requests["attachments"][0]["fileName"], "panel.txt");
}

#[tokio::test]
async fn create_accepts_an_asset_tag_instead_of_a_serial_and_keeps_comments() {
    let s = start().await;
    let mut request = fixture("create-request.json");
    request["serialNumber"] = json!("");
    request["customerProductNumber"] = json!("AssetTag01");
    request["comments"] = json!("Café on the 2nd floor ☕");
    request.as_object_mut().unwrap().remove("address");

    let answer = s.call(Method::POST, "/cases", Some(request)).await;

    assert_eq!(answer.status(), StatusCode::CREATED);
    let number = answer.json::<Value>().await.unwrap()["caseNumber"]
        .as_str()
        .unwrap()
        .to_string();
    let doc = s.sim.case(&number).unwrap();
    assert_eq!(doc["customerAsset"]["customerProductNumber"], "AssetTag01");
    assert_eq!(doc["comments"][0]["createdBy"], "Customer");
    assert_eq!(
        doc["comments"][0]["description"],
        "Café on the 2nd floor ☕"
    );
}

#[tokio::test]
async fn a_body_that_is_not_json_is_a_400_and_is_recorded_as_text() {
    let s = start().await;
    let number = s.add(json!({}));
    let answer = s
        .http
        .patch(format!(
            "{}/b2b/v1/cases/{number}/customerTicketNumber",
            s.base
        ))
        .basic_auth("hdis", Some("hdis"))
        .body("customerTicketNumber=INC1")
        .send()
        .await
        .unwrap();

    assert_eq!(answer.status(), StatusCode::BAD_REQUEST);
    assert!(
        answer.json::<Value>().await.unwrap()["message"]
            .as_str()
            .unwrap()
            .contains("not valid JSON")
    );
    assert_eq!(
        s.sim.calls()[0].body,
        Some(json!("customerTicketNumber=INC1"))
    );
}

#[tokio::test]
async fn a_wrong_method_is_a_405_and_an_unknown_path_a_404_both_json() {
    let s = start().await;
    let number = s.add(json!({}));

    let wrong_method = s.get(&format!("/cases/{number}/updateCase")).await;
    let unknown = s.get("/tickets").await;

    assert_eq!(wrong_method.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert!(wrong_method.json::<Value>().await.unwrap()["message"].is_string());
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
    assert!(unknown.json::<Value>().await.unwrap()["message"].is_string());
}
