use super::*;
use serde_json::json;

fn fixture(name: &str) -> Value {
    let path = format!("{}/tests/fixtures/hdis/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn utc(s: &str) -> Timestamp {
    Timestamp::At(DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc))
}

#[test]
fn the_new_case_fixture_reads_with_every_field() {
    let c = parse_case(fixture("case-new.json"), None).unwrap();
    assert_eq!(c.case_number, "CAS-21298-J1Y8W5");
    assert_eq!(
        c.customer_ticket_number, None,
        "an empty ticket number is absent"
    );
    assert_eq!(c.created_on, utc("2022-02-10T14:02:11Z"));
    assert_eq!(c.case_type.as_deref(), Some("Break Fix"));
    assert_eq!(c.detailed_status.as_deref(), Some("Tech Dispatched"));
    assert_eq!(
        c.customer_asset.serial_number.as_deref(),
        Some("451400HH0ABC1")
    );
    assert_eq!(c.customer_asset.crm_address.room.as_deref(), Some("210"));
    assert_eq!(c.customer_asset.crm_address.street2, None);
    assert_eq!(c.requestor_info.first_name.as_deref(), Some("Pat"));
    assert!(c.work_order.is_empty() && c.sales_order.is_empty() && c.comments.is_empty());
}

#[test]
fn the_full_status_fixture_reads_orders_and_comments() {
    let c = parse_case(fixture("case-status-full.json"), None).unwrap();
    assert_eq!(c.state.as_deref(), Some("Resolved"));
    assert_eq!(c.customer_request_date, Timestamp::Absent);
    assert_eq!(c.work_order.len(), 1);
    let w = &c.work_order[0];
    assert_eq!(w.work_order_number.as_deref(), Some("10011468"));
    assert_eq!(
        w.debrief_information.actual_end_date,
        utc("2022-02-11T19:14:02Z"),
        "an end before the start is kept as is"
    );
    assert_eq!(c.sales_order.len(), 3);
    assert_eq!(
        c.sales_order[1].carrier.as_deref(),
        Some("United Parcel Service")
    );
    assert_eq!(
        c.sales_order[2].actual_delivery_date,
        utc("2022-03-30T00:00:00Z")
    );
    assert_eq!(
        c.sales_order[0].order_lines[0].product_number.as_deref(),
        Some("35S0040S")
    );
    assert_eq!(c.comments.len(), 2);
    assert_eq!(
        c.comments[0].description.as_deref(),
        Some("lexmark comments2")
    );
}

#[test]
fn non_case_fixtures_are_rejected_naming_the_missing_case_number() {
    for name in ["create-request.json", "create-response.json"] {
        let v = fixture(name);
        let result = parse_case(v, None);
        if name == "create-response.json" {
            // It has a caseNumber: it reads as a (nearly empty) case document.
            assert!(result.is_ok());
        } else {
            let e = result.unwrap_err();
            assert_eq!(e.field, "caseNumber", "{e}");
        }
    }
}

#[test]
fn arrays_that_are_null_missing_or_empty_all_read_as_empty() {
    for arrays in [json!(null), json!([])] {
        let c = parse_case(json!({"caseNumber": "CAS-1", "workOrder": arrays, "salesOrder": arrays, "comments": arrays}), None).unwrap();
        assert!(c.work_order.is_empty() && c.sales_order.is_empty() && c.comments.is_empty());
    }
    let c = parse_case(json!({"caseNumber": "CAS-1"}), None).unwrap();
    assert!(c.work_order.is_empty() && c.sales_order.is_empty() && c.comments.is_empty());
}

#[test]
fn dates_that_are_empty_or_null_are_absent_and_offsets_are_stored_in_utc() {
    let c = parse_case(
        json!({"caseNumber": "CAS-1", "createdOn": "", "customerRequestDate": null,
               "comments": [{"createdOn": "2022-02-11T20:16:30+01:00", "createdBy": "Lexmark", "description": "x"}]}),
        None,
    )
    .unwrap();
    assert_eq!(c.created_on, Timestamp::Absent);
    assert_eq!(c.customer_request_date, Timestamp::Absent);
    assert_eq!(c.comments[0].created_on, utc("2022-02-11T19:16:30Z"));
    assert_eq!(
        c.comments[0].created_on.to_text().as_deref(),
        Some("2022-02-11T19:16:30Z")
    );
}

#[test]
fn an_unreadable_date_is_kept_as_text_and_reported() {
    let c = parse_case(
        json!({"caseNumber": "CAS-1", "createdOn": "11/02/2022 19:14"}),
        None,
    )
    .unwrap();
    assert_eq!(c.created_on, Timestamp::Unparsed("11/02/2022 19:14".into()));
    assert_eq!(
        c.unparsed_timestamps(),
        vec![("createdOn".to_string(), "11/02/2022 19:14".to_string())]
    );
}

#[test]
fn unknown_fields_are_ignored_and_numbers_where_text_is_expected_are_read_as_text() {
    let c = parse_case(
        json!({"caseNumber": "CAS-1", "brandNewField": {"x": 1}, "workOrder": [{"workOrderNumber": 10011468, "workOrderStatus": "Open", "extra": true}]}),
        None,
    )
    .unwrap();
    assert_eq!(
        c.work_order[0].work_order_number.as_deref(),
        Some("10011468")
    );
}

#[test]
fn a_wrongly_typed_field_is_an_error_naming_the_case_and_the_field() {
    let e = parse_case(
        json!({"caseNumber": "CAS-9", "workOrder": [{"workOrderStatus": {"nested": 1}}]}),
        None,
    )
    .unwrap_err();
    assert_eq!(e.case, "CAS-9");
    assert_eq!(e.field, "workOrder[0].workOrderStatus");
    assert!(e.message.contains("expected text"), "{}", e.message);
    let e = parse_case(
        json!({"caseNumber": "CAS-9", "comments": "not a list"}),
        None,
    )
    .unwrap_err();
    assert_eq!(e.field, "comments");
}

#[test]
fn a_case_without_a_case_number_is_rejected() {
    let e = parse_case(json!({"title": "x"}), Some(3)).unwrap_err();
    assert_eq!(e.case, "(unknown case #3)");
    assert_eq!(e.field, "caseNumber");
    let e = parse_case(json!("a string"), None).unwrap_err();
    assert!(e.message.contains("expected a case object"), "{e}");
}

#[test]
fn get_cases_reads_a_bare_array() {
    let list = parse_case_list(json!([
        fixture("case-new.json"),
        fixture("case-status-full.json")
    ]))
    .unwrap();
    assert_eq!(list.cases.len(), 2);
    assert!(list.rejected.is_empty());
}

#[test]
fn get_cases_reads_an_object_wrapping_the_array() {
    for key in ["cases", "items", "data", "value", "somethingElse"] {
        let list = parse_case_list(json!({ key: [fixture("case-new.json")], "count": 1 })).unwrap();
        assert_eq!(list.cases.len(), 1, "under {key}");
    }
}

#[test]
fn get_cases_rejects_one_bad_case_and_keeps_the_others() {
    let list = parse_case_list(json!([{"caseNumber": "CAS-BAD", "comments": 5}, fixture("case-new.json"), {"no": "number"}])).unwrap();
    assert_eq!(list.cases.len(), 1);
    assert_eq!(list.rejected.len(), 2);
    assert_eq!(list.rejected[0].case, "CAS-BAD");
    assert_eq!(list.rejected[1].case, "(unknown case #2)");
}

#[test]
fn get_cases_with_no_array_is_a_clear_error() {
    let e = parse_case_list(json!({"message": "nothing"})).unwrap_err();
    assert!(e.contains("no array"), "{e}");
    let e = parse_case_list(json!({"a": [], "b": []})).unwrap_err();
    assert!(e.contains("several arrays"), "{e}");
    assert!(parse_case_list(json!(42)).is_err());
    assert!(parse_case_list(json!(null)).unwrap().cases.is_empty());
}

#[test]
fn text_with_emoji_and_accents_is_kept_byte_exact() {
    let title = "Imprimante bloquée — erreur 31.40C 🖨️🔥 «Überprüfen»";
    let c = parse_case(json!({"caseNumber": "CAS-1", "title": title}), None).unwrap();
    assert_eq!(c.title.as_deref(), Some(title));
}

#[test]
fn a_case_number_that_is_not_text_is_rejected() {
    let e = parse_case(json!({"caseNumber": 5}), Some(0)).unwrap_err();
    assert_eq!(e.field, "caseNumber");
    assert!(e.message.contains("got a number"), "{e}");
}
