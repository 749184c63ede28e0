use super::*;
use crate::lexmark::model::parse_case;
use proptest::prelude::*;
use serde_json::{Value, json};

fn case(v: Value) -> CaseDocument {
    parse_case(v, None).unwrap()
}

fn snap(v: Value) -> Snapshot {
    Snapshot::of(&case(v))
}

fn fixture(name: &str) -> Value {
    let path = format!("{}/tests/fixtures/hdis/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn base() -> Value {
    json!({"caseNumber": "CAS-1", "state": "Active", "status": "In Progress", "detailedStatus": "Tech Dispatched"})
}

fn with(mut v: Value, key: &str, value: Value) -> Value {
    v[key] = value;
    v
}

#[test]
fn the_same_document_twice_gives_no_change() {
    for name in ["case-new.json", "case-status-full.json"] {
        let s = snap(fixture(name));
        assert!(diff(&s, &s).is_empty(), "{name}");
    }
}

#[test]
fn each_scalar_trigger_field_gives_exactly_one_change() {
    let old = snap(base());
    let cases = [
        (
            "state",
            "Resolved",
            Change::StateChanged {
                from: Some("Active".into()),
                to: "Resolved".into(),
            },
        ),
        (
            "status",
            "Completed",
            Change::StatusChanged {
                from: Some("In Progress".into()),
                to: "Completed".into(),
            },
        ),
        (
            "detailedStatus",
            "Tech En Route",
            Change::DetailedStatusChanged {
                from: Some("Tech Dispatched".into()),
                to: "Tech En Route".into(),
            },
        ),
    ];
    for (field, value, expected) in cases {
        let new = snap(with(base(), field, json!(value)));
        assert_eq!(diff(&old, &new), vec![expected], "{field}");
    }
}

#[test]
fn non_trigger_fields_give_no_change() {
    let old = snap(fixture("case-status-full.json"));
    let mut v = fixture("case-status-full.json");
    v["description"] = json!("something else entirely");
    v["title"] = json!("new title");
    v["customerAsset"]["serialNumber"] = json!("999");
    v["workOrder"][0]["debriefInformation"]["actionNarrative"] = json!("changed");
    v["salesOrder"][1]["trackingNumber"] = json!("1Z-other");
    assert!(diff(&old, &snap(v)).is_empty());
}

#[test]
fn a_field_missing_from_the_new_document_is_no_news() {
    let old = snap(base());
    let mut v = base();
    v.as_object_mut().unwrap().remove("status");
    v["state"] = Value::Null;
    let new = snap(v);
    assert!(diff(&old, &new).is_empty());
    assert_eq!(old.merge(&new), old);
}

#[test]
fn work_orders_are_keyed_by_number_added_changed_and_vanished() {
    let old = snap(with(
        base(),
        "workOrder",
        json!([{"workOrderNumber": "1", "workOrderStatus": "Open"}, {"workOrderNumber": "2", "workOrderStatus": "Open"}]),
    ));
    let new = snap(with(
        base(),
        "workOrder",
        json!([{"workOrderNumber": "3", "workOrderStatus": "Dispatched"}, {"workOrderNumber": "1", "workOrderStatus": "Closed"}]),
    ));
    assert_eq!(
        diff(&old, &new),
        vec![
            Change::WorkOrderStatusChanged {
                number: "1".into(),
                from: Some("Open".into()),
                to: "Closed".into()
            },
            Change::WorkOrderAdded {
                number: "3".into(),
                status: Some("Dispatched".into())
            },
        ]
    );
    assert_eq!(vanished(&old, &new), vec!["work order 2".to_string()]);
    let merged = old.merge(&new);
    assert_eq!(
        merged.work_orders.len(),
        3,
        "a vanished order is remembered, so its return is not news"
    );
    let back = snap(with(
        base(),
        "workOrder",
        json!([{"workOrderNumber": "2", "workOrderStatus": "Open"}]),
    ));
    assert!(diff(&merged, &back).is_empty());
}

#[test]
fn a_shipped_sales_order_carries_its_carrier_and_tracking() {
    let old = snap(with(
        base(),
        "salesOrder",
        json!([{"salesOrderNumber": "ORD-1", "salesOrderStatus": "In Progress"}]),
    ));
    let new = snap(with(
        base(),
        "salesOrder",
        json!([{"salesOrderNumber": "ORD-1", "salesOrderStatus": "Shipped", "carrier": "UPS", "trackingNumber": "1Z1", "trackingLink": "https://t/1Z1"}]),
    ));
    let changes = diff(&old, &new);
    assert_eq!(changes.len(), 1);
    let note = changes[0].note("CAS-1");
    for needle in [
        "ORD-1",
        "In Progress",
        "Shipped",
        "UPS",
        "1Z1",
        "https://t/1Z1",
    ] {
        assert!(note.contains(needle), "{needle} missing from {note}");
    }
}

#[test]
fn new_comments_are_forwarded_oldest_first_whatever_the_array_order() {
    let old = snap(base());
    let comments = json!([
        {"createdOn": "2022-02-11T19:16:30Z", "createdBy": "Lexmark", "description": "second"},
        {"createdOn": "2022-02-11T18:16:30Z", "createdBy": "Lexmark", "description": "first"}
    ]);
    let new = snap(with(base(), "comments", comments));
    let texts: Vec<String> = diff(&old, &new)
        .into_iter()
        .map(|c| match c {
            Change::CommentAdded { comment } => comment.description.unwrap(),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(texts, vec!["first", "second"]);
}

#[test]
fn a_comment_seen_once_is_never_news_again_even_if_it_disappears_and_returns() {
    let c = json!([{"createdOn": "2022-02-11T19:16:30Z", "createdBy": "Lexmark", "description": "hello"}]);
    let s1 = snap(with(base(), "comments", c.clone()));
    let s2 = s1.merge(&snap(with(base(), "comments", Value::Null)));
    assert!(diff(&s2, &snap(with(base(), "comments", c))).is_empty());
}

#[test]
fn the_same_comment_with_another_offset_is_the_same_comment() {
    let a = snap(with(
        base(),
        "comments",
        json!([{"createdOn": "2022-02-11T19:16:30Z", "createdBy": "L", "description": "x"}]),
    ));
    let b = snap(with(
        base(),
        "comments",
        json!([{"createdOn": "2022-02-11T20:16:30+01:00", "createdBy": "L", "description": "x"}]),
    ));
    assert!(diff(&a, &b).is_empty());
}

#[test]
fn notes_contain_the_new_value() {
    let changes = diff(
        &snap(base()),
        &snap(with(
            with(base(), "status", json!("Completed")),
            "state",
            json!("Resolved"),
        )),
    );
    assert!(changes[0].note("CAS-1").contains("Resolved"));
    assert_eq!(changes[0].new_state(), Some("Resolved"));
    assert!(changes[1].note("CAS-1").contains("Completed"));
}

#[test]
fn the_same_transition_detected_at_two_moments_has_two_keys() {
    let c = Change::StateChanged {
        from: Some("Active".into()),
        to: "Resolved".into(),
    };
    let t1 = chrono::Utc::now();
    let t2 = t1 + chrono::Duration::seconds(1);
    assert_eq!(c.key("CAS-1", t1), c.key("CAS-1", t1));
    assert_ne!(c.key("CAS-1", t1), c.key("CAS-1", t2));
    assert_ne!(c.key("CAS-1", t1), c.key("CAS-2", t1));
}

// ---- properties -------------------------------------------------------------

fn opt_word() -> impl Strategy<Value = Option<String>> {
    prop::option::of(
        prop::sample::select(vec![
            "Active",
            "Resolved",
            "In Progress",
            "Completed",
            "Tech Dispatched",
            "Ünïcødé 🖨️",
        ])
        .prop_map(String::from),
    )
}

fn comment() -> impl Strategy<Value = Value> {
    (0u32..5, prop::sample::select(vec!["Lexmark", "Tech", "Customer"]), prop::sample::select(vec!["a", "b", "é🔥", ""]))
        .prop_map(|(h, by, d)| json!({"createdOn": format!("2022-02-11T1{h}:00:00Z"), "createdBy": by, "description": d}))
}

fn document() -> impl Strategy<Value = Value> {
    (
        opt_word(),
        opt_word(),
        opt_word(),
        prop::collection::vec((0u8..4, opt_word()), 0..4),
        prop::collection::vec((0u8..3, opt_word(), opt_word()), 0..3),
        prop::collection::vec(comment(), 0..5),
        prop::sample::select(vec![0u8, 1, 2]),
    )
        .prop_map(|(state, status, detailed, wos, sos, comments, empty_as)| {
            let empty = |v: Vec<Value>| match (v.is_empty(), empty_as) {
                (true, 0) => Value::Null,
                _ => Value::Array(v),
            };
            json!({
                "caseNumber": "CAS-P",
                "state": state, "status": status, "detailedStatus": detailed,
                "workOrder": empty(wos.into_iter().map(|(n, s)| json!({"workOrderNumber": format!("W{n}"), "workOrderStatus": s})).collect()),
                "salesOrder": empty(sos.into_iter().map(|(n, s, c)| json!({"salesOrderNumber": format!("S{n}"), "salesOrderStatus": s, "carrier": c})).collect()),
                "comments": empty(comments),
            })
        })
}

fn reversed_arrays(mut v: Value) -> Value {
    for key in ["workOrder", "salesOrder", "comments"] {
        if let Some(a) = v[key].as_array_mut() {
            a.reverse();
        }
    }
    v
}

proptest! {
    #[test]
    fn diff_of_a_snapshot_with_itself_is_empty(doc in document()) {
        let s = snap(doc);
        prop_assert!(diff(&s, &s).is_empty());
    }

    #[test]
    fn changes_do_not_depend_on_array_order(old in document(), new in document()) {
        let o = snap(old.clone());
        prop_assert_eq!(diff(&o, &snap(new.clone())), diff(&snap(reversed_arrays(old)), &snap(reversed_arrays(new))));
    }

    #[test]
    fn applying_the_changes_to_the_old_snapshot_yields_the_new_one_wherever_it_speaks(old in document(), new in document()) {
        let (o, n) = (snap(old), snap(new));
        let mut applied = o.clone();
        apply(&mut applied, &diff(&o, &n));
        for (field, got, want) in [("state", &applied.state, &n.state), ("status", &applied.status, &n.status), ("detailedStatus", &applied.detailed_status, &n.detailed_status)] {
            if want.is_some() {
                prop_assert_eq!(got, want, "{}", field);
            }
        }
        for (number, status) in &n.work_orders {
            if status.is_some() {
                prop_assert_eq!(applied.work_orders.get(number), Some(status));
            } else {
                prop_assert!(applied.work_orders.contains_key(number));
            }
        }
        for (number, order) in &n.sales_orders {
            let got = applied.sales_orders.get(number).map(|o| &o.status);
            if order.status.is_some() {
                prop_assert_eq!(got, Some(&order.status));
            } else {
                prop_assert!(got.is_some());
            }
        }
        prop_assert!(n.comments.is_subset(&applied.comments));
        prop_assert_eq!(&applied, &o.merge(&n));
        // once stored, the same observation is no longer news
        prop_assert!(diff(&applied, &n).is_empty());
    }
}
