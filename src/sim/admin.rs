//! The admin API under `/sim` (no auth; a loopback tool): look at and steer
//! cases, plan faults, read the call log.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post, put};
use serde_json::{Value, json};

use super::reply::{ApiError, Body, reply, required_string};
use super::state::{OrderKind, now_text, object_mut, prepend_comment, upsert_order};
use super::{CALL_NAMES, Fault, SimError, Simulator, error_chain};

/// Most cases one `POST /sim/generate` makes.
const MAX_GENERATE: u64 = 10_000;

type Answer = Result<Response, ApiError>;

pub(super) fn routes() -> Router<Simulator> {
    Router::new()
        .route("/health", get(health))
        .route("/cases", get(list_cases).post(add_case))
        .route(
            "/cases/{id}",
            get(get_case).put(replace_case).patch(merge_case),
        )
        .route("/cases/{id}/comments", post(add_comment))
        .route("/cases/{id}/work-orders/{number}", put(put_work_order))
        .route("/cases/{id}/sales-orders/{number}", put(put_sales_order))
        .route("/cases/{id}/requests", get(requests))
        .route("/generate", post(generate))
        .route(
            "/faults",
            get(list_faults).post(add_fault).delete(clear_faults),
        )
        .route("/calls", get(list_calls).delete(clear_calls))
}

async fn health(State(sim): State<Simulator>) -> Response {
    let cases = sim.lock().case_count();
    reply(StatusCode::OK, json!({ "status": "ok", "cases": cases }))
}

async fn list_cases(State(sim): State<Simulator>) -> Response {
    reply(StatusCode::OK, Value::Array(sim.cases()))
}

async fn add_case(State(sim): State<Simulator>, bytes: Bytes) -> Answer {
    let doc = json_body(&bytes, "a case document (a JSON object)")?;
    match sim.add_case(doc) {
        Ok(number) => Ok(reply(StatusCode::CREATED, json!({ "caseNumber": number }))),
        Err(e @ SimError::DuplicateCase(_)) => {
            Err(ApiError::new(StatusCode::CONFLICT, e.to_string()))
        }
        Err(e) => Err(ApiError::bad_request(error_chain(&e))),
    }
}

async fn get_case(State(sim): State<Simulator>, Path(id): Path<String>) -> Answer {
    let doc = sim.case(&id).ok_or_else(|| ApiError::unknown_case(&id))?;
    Ok(reply(StatusCode::OK, doc))
}

/// PUT: the body replaces the document wholesale, whatever its shape.
async fn replace_case(
    State(sim): State<Simulator>,
    Path(id): Path<String>,
    bytes: Bytes,
) -> Answer {
    let doc = json_body(&bytes, "the whole case document")?;
    sim.replace_case(&id, doc.clone())
        .map_err(|_| ApiError::unknown_case(&id))?;
    Ok(reply(StatusCode::OK, doc))
}

/// PATCH: a shallow merge of the top-level keys (null is stored as null).
async fn merge_case(State(sim): State<Simulator>, Path(id): Path<String>, bytes: Bytes) -> Answer {
    let body = Body::parse(&bytes);
    let fields = body.object("of top-level keys to set, e.g. {\"state\": \"Resolved\"}")?;
    let mut state = sim.lock();
    let doc = state
        .case_mut(&id)
        .ok_or_else(|| ApiError::unknown_case(&id))?;
    object_mut(&id, doc)?.extend(fields.clone());
    Ok(reply(StatusCode::OK, doc.clone()))
}

/// A comment, put first (Lexmark lists the newest first).
async fn add_comment(State(sim): State<Simulator>, Path(id): Path<String>, bytes: Bytes) -> Answer {
    let body = Body::parse(&bytes);
    let fields = body.object(r#"{"description", "createdBy"?, "createdOn"?}"#)?;
    required_string(fields, "description")?;
    let mut comment = fields.clone();
    for (key, default) in [
        ("createdBy", "Lexmark".to_string()),
        ("createdOn", now_text()),
    ] {
        if comment.get(key).is_none_or(Value::is_null) {
            comment.insert(key.into(), Value::String(default));
        }
    }
    let comment = Value::Object(comment);
    let mut state = sim.lock();
    let doc = state
        .case_mut(&id)
        .ok_or_else(|| ApiError::unknown_case(&id))?;
    prepend_comment(&id, doc, comment.clone())?;
    Ok(reply(StatusCode::CREATED, comment))
}

async fn put_work_order(
    State(sim): State<Simulator>,
    Path((id, number)): Path<(String, String)>,
    bytes: Bytes,
) -> Answer {
    put_order(&sim, &id, OrderKind::Work, &number, &bytes)
}

async fn put_sales_order(
    State(sim): State<Simulator>,
    Path((id, number)): Path<(String, String)>,
    bytes: Bytes,
) -> Answer {
    put_order(&sim, &id, OrderKind::Sales, &number, &bytes)
}

/// Adds the order (201) or merges the fields into it (200); answers with the order.
fn put_order(sim: &Simulator, id: &str, kind: OrderKind, number: &str, bytes: &Bytes) -> Answer {
    let body = Body::parse(bytes);
    let fields = match &body {
        Body::Empty => serde_json::Map::new(),
        _ => body
            .object("of the order's fields, e.g. {\"workOrderStatus\": \"Tech En Route\"}")?
            .clone(),
    };
    let mut state = sim.lock();
    let doc = state
        .case_mut(id)
        .ok_or_else(|| ApiError::unknown_case(id))?;
    let (order, added) = upsert_order(id, doc, kind, number, fields)?;
    let status = if added {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok(reply(status, order))
}

/// What the customer asked for that the document does not show.
async fn requests(State(sim): State<Simulator>, Path(id): Path<String>) -> Answer {
    let state = sim.lock();
    if state.case(&id).is_none() {
        return Err(ApiError::unknown_case(&id));
    }
    let r = state.requests(&id);
    Ok(reply(
        StatusCode::OK,
        json!({
            "caseNumber": id,
            "escalations": r.escalations,
            "cancellations": r.cancellations,
            "attachments": r.attachments,
        }),
    ))
}

async fn generate(State(sim): State<Simulator>, bytes: Bytes) -> Answer {
    let body = Body::parse(&bytes);
    let fields = body.object(r#"{"count": N}"#)?;
    let count = fields
        .get("count")
        .and_then(Value::as_u64)
        .filter(|n| *n <= MAX_GENERATE)
        .ok_or_else(|| {
            ApiError::invalid(vec![super::reply::Problem::new(
                "count",
                format!("count is required: an integer from 0 to {MAX_GENERATE}"),
            )])
        })?;
    let numbers = sim.generate(usize::try_from(count).unwrap_or(0));
    Ok(reply(
        StatusCode::CREATED,
        json!({ "caseNumbers": numbers }),
    ))
}

async fn list_faults(State(sim): State<Simulator>) -> Response {
    let faults = sim.lock().faults.clone();
    reply(StatusCode::OK, json!(faults))
}

async fn add_fault(State(sim): State<Simulator>, bytes: Bytes) -> Answer {
    let expected = r#"a fault {"call", "status", "case"?, "body"?, "content_type"?, "retry_after"?, "times"?, "delay_ms"?}"#;
    let value = json_body(&bytes, expected)?;
    let mut fault: Fault = serde_json::from_value(value)
        .map_err(|e| ApiError::bad_request(format!("expected {expected}: {e}")))?;
    let Some(call) = CALL_NAMES
        .iter()
        .find(|c| c.eq_ignore_ascii_case(fault.call.trim()))
    else {
        return Err(super::reply::Problem::new(
            "call",
            format!(
                "call must be one of {}, not {:?}",
                CALL_NAMES.join(", "),
                fault.call
            ),
        )
        .into());
    };
    fault.call = (*call).to_string();
    if StatusCode::from_u16(fault.status).is_err() {
        return Err(super::reply::Problem::new(
            "status",
            format!(
                "status must be an HTTP status from 100 to 999, not {}",
                fault.status
            ),
        )
        .into());
    }
    if fault.times == 0 {
        return Err(super::reply::Problem::new(
            "times",
            "times must be at least 1 (4294967295 = for ever)",
        )
        .into());
    }
    sim.add_fault(fault.clone());
    Ok(reply(StatusCode::CREATED, json!(fault)))
}

async fn clear_faults(State(sim): State<Simulator>) -> Response {
    let cleared = std::mem::take(&mut sim.lock().faults).len();
    reply(StatusCode::OK, json!({ "cleared": cleared }))
}

async fn list_calls(State(sim): State<Simulator>) -> Response {
    reply(StatusCode::OK, json!(sim.calls()))
}

async fn clear_calls(State(sim): State<Simulator>) -> Response {
    let cleared = std::mem::take(&mut sim.lock().calls).len();
    reply(StatusCode::OK, json!({ "cleared": cleared }))
}

/// A body that must be JSON (of any shape).
fn json_body(bytes: &Bytes, expected: &str) -> Result<Value, ApiError> {
    match Body::parse(bytes) {
        Body::Json(v) => Ok(v),
        Body::Empty => Err(ApiError::bad_request(format!(
            "the body is empty; expected {expected}"
        ))),
        Body::NotJson(_) => Err(ApiError::bad_request(format!(
            "the body is not valid JSON; expected {expected}"
        ))),
    }
}
