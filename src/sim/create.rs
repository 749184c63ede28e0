//! CREATE: checks a create request and stores the case document it makes.

use axum::http::StatusCode;
use serde_json::{Map, Value, json};

use super::api::{Outcome, record_attachments};
use super::reply::{self, ApiError, Body, Problem, optional_string, required_string};
use super::state::{SimState, kind, now_text};

const REQUIRED: [&str; 6] = [
    "contactFirstName",
    "contactLastName",
    "contactEmail",
    "contactPhone",
    "title",
    "customerTicketNumber",
];

const OPTIONAL: [&str; 5] = [
    "contactSecondaryPhone",
    "description",
    "serialNumber",
    "customerProductNumber",
    "comments",
];

/// The request's address keys and the case document's, where they differ.
const ADDRESS_KEYS: [(&str, &str); 11] = [
    ("storeFrontName", "storeFrontName"),
    ("street1", "street1"),
    ("street2", "street2"),
    ("street3", "street3"),
    ("city", "city"),
    ("stateProvince", "state"),
    ("zipPostalCode", "postalCode"),
    ("country", "country"),
    ("building", "building"),
    ("floor", "floor"),
    ("room", "room"),
];

/// Validates a CREATE request (naming every field at fault) and stores the
/// new case: Active, In Progress, origin Web, type Break Fix.
pub(super) fn create_case(state: &mut SimState, body: &Body) -> Outcome {
    let map = body.object("shaped like a CREATE request (contactFirstName, title, …)")?;
    let mut problems: Vec<Problem> = REQUIRED
        .iter()
        .filter_map(|f| required_string(map, f).err())
        .collect();
    problems.extend(
        OPTIONAL
            .iter()
            .filter_map(|f| optional_string(map, f).err()),
    );
    let has = |f: &str| {
        map.get(f)
            .and_then(Value::as_str)
            .is_some_and(|s| !s.trim().is_empty())
    };
    if !has("serialNumber") && !has("customerProductNumber") {
        problems.push(Problem::new(
            "serialNumber",
            "serialNumber or customerProductNumber (asset tag) is required: a non-empty string",
        ));
    }
    let address = match map.get("address") {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(address)) => {
            for (key, _) in ADDRESS_KEYS {
                if let Err(p) = optional_string(address, key) {
                    problems.push(Problem::new(
                        format!("address.{key}"),
                        format!("address.{}", p.message),
                    ));
                }
            }
            address.clone()
        }
        Some(other) => {
            problems.push(Problem::new(
                "address",
                format!("address must be an object, not {}", kind(other)),
            ));
            Map::new()
        }
    };
    let attachments = reply::attachments(map).unwrap_or_else(|p| {
        problems.extend(p);
        Vec::new()
    });
    if !problems.is_empty() {
        return Err(ApiError::invalid(problems));
    }

    let text = |m: &Map<String, Value>, key: &str| {
        m.get(key)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    };
    let now = now_text();
    let crm_address: Map<String, Value> = ADDRESS_KEYS
        .iter()
        .map(|(from, to)| (to.to_string(), Value::String(text(&address, from))))
        .collect();
    let comments = match text(map, "comments") {
        c if c.trim().is_empty() => json!([]),
        c => json!([{ "createdOn": now, "createdBy": "Customer", "description": c }]),
    };
    let ticket = text(map, "customerTicketNumber");
    let number = state.new_case_number();
    let doc = json!({
        "caseNumber": number,
        "customerTicketNumber": ticket,
        "createdOn": now,
        "origin": "Web",
        "type": "Break Fix",
        "state": "Active",
        "status": "In Progress",
        "detailedStatus": "",
        "title": text(map, "title"),
        "description": text(map, "description"),
        "customerAsset": {
            "customerAssetName": "",
            "serialNumber": text(map, "serialNumber"),
            "customerProductNumber": text(map, "customerProductNumber"),
            "crmAddress": crm_address,
        },
        "requestorInfo": {
            "firstName": text(map, "contactFirstName"),
            "lastName": text(map, "contactLastName"),
            "workPhone": text(map, "contactPhone"),
            "alternatePhone": text(map, "contactSecondaryPhone"),
        },
        "customerRequestDate": now,
        "workOrder": [],
        "salesOrder": [],
        "comments": comments,
    });
    let number = state.add_case(doc).map_err(|e| {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("cannot store the new case: {e}"),
        )
    })?;
    record_attachments(state, &number, "CREATE", attachments);
    Ok((
        StatusCode::CREATED,
        json!({ "caseNumber": number, "customerTicketNumber": ticket }),
    ))
}
