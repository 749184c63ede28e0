//! The customer API under `/b2b/v1`: Lexmark's seven customer-initiated
//! calls, behind HTTP Basic auth, each recorded in the call log and each
//! open to planned faults.

use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{FromRequest, Path, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, patch, post};
use chrono::{TimeDelta, Utc};
use serde_json::{Value, json};

use super::create::create_case;
use super::reply::{self, ApiError, Body, Problem, optional_string, required_string};
use super::state::{
    SimState, created_on, has_ticket_number, now_text, object_mut, prepend_comment,
};
use super::{CallRecord, Fault, Simulator};

/// What a handler's work returns: the status and JSON body of a success.
pub(super) type Outcome = Result<(StatusCode, Value), ApiError>;

pub(super) fn routes() -> Router<Simulator> {
    Router::new()
        .route("/cases/", get(get_cases).post(create))
        .route("/cases", get(get_cases).post(create))
        .route("/cases/{id}", get(status))
        .route("/cases/{id}/customerTicketNumber", patch(update_ticket))
        .route("/cases/{id}/updateCase", patch(update))
        .route("/cases/{id}/escalateRequest", post(escalate))
        .route("/cases/{id}/cancelRequest", post(cancel))
}

/// The parts of a request every call looks at.
pub(super) struct Incoming {
    headers: HeaderMap,
    query: Option<String>,
    body: Bytes,
}

impl<S: Send + Sync> FromRequest<S> for Incoming {
    type Rejection = Response;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let headers = req.headers().clone();
        let query = req.uri().query().map(str::to_string);
        let body = Bytes::from_request(req, state)
            .await
            .map_err(IntoResponse::into_response)?;
        Ok(Incoming {
            headers,
            query,
            body,
        })
    }
}

async fn get_cases(State(sim): State<Simulator>, incoming: Incoming) -> Response {
    let wrapper = sim.options().list_wrapper.clone();
    let query = incoming.query.clone();
    sim.answer("GET CASES", None, incoming, move |state, _| {
        list_new_cases(state, query.as_deref(), wrapper.as_deref())
    })
    .await
}

async fn status(
    State(sim): State<Simulator>,
    Path(id): Path<String>,
    incoming: Incoming,
) -> Response {
    sim.answer("STATUS", Some(id.clone()), incoming, move |state, _| {
        let doc = state.case(&id).ok_or_else(|| ApiError::unknown_case(&id))?;
        Ok((StatusCode::OK, doc.clone()))
    })
    .await
}

async fn update_ticket(
    State(sim): State<Simulator>,
    Path(id): Path<String>,
    incoming: Incoming,
) -> Response {
    sim.answer(
        "UPDATE TICKET #",
        Some(id.clone()),
        incoming,
        move |state, body| {
            let doc = state
                .case_mut(&id)
                .ok_or_else(|| ApiError::unknown_case(&id))?;
            let map = body.object(r#"{"customerTicketNumber": "..."}"#)?;
            let ticket = required_string(map, "customerTicketNumber")?.to_string();
            object_mut(&id, doc)?.insert("customerTicketNumber".into(), json!(ticket));
            Ok((
                StatusCode::OK,
                json!({ "caseNumber": id, "customerTicketNumber": ticket }),
            ))
        },
    )
    .await
}

async fn update(
    State(sim): State<Simulator>,
    Path(id): Path<String>,
    incoming: Incoming,
) -> Response {
    sim.answer("UPDATE", Some(id.clone()), incoming, move |state, body| {
        update_case(state, &id, body)
    })
    .await
}

async fn escalate(
    State(sim): State<Simulator>,
    Path(id): Path<String>,
    incoming: Incoming,
) -> Response {
    sim.answer(
        "ESCALATE",
        Some(id.clone()),
        incoming,
        move |state, body| {
            if state.case(&id).is_none() {
                return Err(ApiError::unknown_case(&id));
            }
            let map = body.object(r#"{"escalateRequestReason": "..."}"#)?;
            let reason = required_string(map, "escalateRequestReason")?;
            let entry = json!({ "reason": reason, "receivedOn": now_text() });
            state.requests_mut(&id).escalations.push(entry);
            Ok((StatusCode::OK, json!({ "caseNumber": id })))
        },
    )
    .await
}

async fn cancel(
    State(sim): State<Simulator>,
    Path(id): Path<String>,
    incoming: Incoming,
) -> Response {
    sim.answer("CANCEL", Some(id.clone()), incoming, move |state, body| {
        let doc = state
            .case_mut(&id)
            .ok_or_else(|| ApiError::unknown_case(&id))?;
        let map = body.object(r#"{"cancelRequestReason": "..."}"#)?;
        let reason = required_string(map, "cancelRequestReason")?;
        object_mut(&id, doc)?.insert("state".into(), json!("Canceled"));
        let entry = json!({ "reason": reason, "receivedOn": now_text() });
        state.requests_mut(&id).cancellations.push(entry);
        Ok((StatusCode::OK, json!({ "caseNumber": id })))
    })
    .await
}

async fn create(State(sim): State<Simulator>, incoming: Incoming) -> Response {
    sim.answer("CREATE", None, incoming, create_case).await
}

impl Simulator {
    /// Checks auth, then answers with a matching fault if there is one, else
    /// with `work`; records the call either way.
    async fn answer<F>(
        &self,
        call: &'static str,
        case: Option<String>,
        incoming: Incoming,
        work: F,
    ) -> Response
    where
        F: FnOnce(&mut SimState, &Body) -> Outcome,
    {
        let body = Body::parse(&incoming.body);
        let mut record = CallRecord {
            call: call.into(),
            case,
            query: incoming.query,
            body: body.record(),
            status: 0,
        };
        if let Err(why) = self.authorize(&incoming.headers) {
            record.status = StatusCode::UNAUTHORIZED.as_u16();
            self.lock().record(record);
            return unauthorized(why);
        }
        let fault = {
            let mut state = self.lock();
            let fault = state.take_fault(call, record.case.as_deref());
            if let Some(f) = &fault {
                record.status = f.status;
                state.record(record.clone());
            }
            fault
        };
        if let Some(fault) = fault {
            if fault.delay_ms > 0 {
                tokio::time::sleep(Duration::from_millis(fault.delay_ms)).await;
            }
            return fault_response(&fault);
        }
        let response = {
            let mut state = self.lock();
            let (status, response) = match work(&mut state, &body) {
                Ok((status, value)) => (status, reply::reply(status, value)),
                Err(e) => (e.status, e.into_response()),
            };
            record.status = status.as_u16();
            state.record(record);
            response
        };
        self.wait_if_held(call).await;
        response
    }

    /// HTTP Basic with the configured user name and password, or a bearer
    /// token issued by `/oauth2/token`; or why not.
    fn authorize(&self, headers: &HeaderMap) -> Result<(), &'static str> {
        let Some(value) = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
        else {
            return Err(
                "credentials are required: HTTP Basic, or a bearer token from /oauth2/token",
            );
        };
        if let Some((scheme, token)) = value.trim().split_once(' ')
            && scheme.eq_ignore_ascii_case("bearer")
        {
            return if self.token_is_valid(token.trim()) {
                Ok(())
            } else {
                Err("unknown or expired bearer token")
            };
        }
        let Some((user, password)) = super::oauth::basic_credentials(headers) else {
            return Err(
                "the Authorization header must be HTTP Basic: \"Basic base64(user:password)\", or \"Bearer <token>\"",
            );
        };
        let options = self.options();
        if user == options.username && password == options.password {
            Ok(())
        } else {
            Err("wrong user name or password")
        }
    }
}

fn unauthorized(message: &str) -> Response {
    let mut response = ApiError::new(StatusCode::UNAUTHORIZED, message).into_response();
    response.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static("Basic realm=\"HDIS\""),
    );
    response
}

/// The planned answer, exactly as the fault says (an invalid status becomes
/// 500, an invalid header value is left out).
fn fault_response(fault: &Fault) -> Response {
    let status = StatusCode::from_u16(fault.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = (status, fault.body.clone()).into_response();
    let headers = response.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&fault.content_type) {
        headers.insert(header::CONTENT_TYPE, v);
    }
    if let Some(v) = fault
        .retry_after
        .as_deref()
        .and_then(|r| HeaderValue::from_str(r).ok())
    {
        headers.insert(header::RETRY_AFTER, v);
    }
    response
}

/// GET CASES: the cases without a customer ticket number, filtered.
fn list_new_cases(state: &SimState, query: Option<&str>, wrapper: Option<&str>) -> Outcome {
    let mut past_days = None;
    let mut origin = None;
    let mut case_type = None;
    for (key, value) in url::form_urlencoded::parse(query.unwrap_or("").as_bytes()) {
        match key.as_ref() {
            "NoOfPastDays" => {
                let days = value.trim().parse::<u32>().map_err(|_| {
                    Problem::new(
                        "NoOfPastDays",
                        format!(
                            "NoOfPastDays must be a non-negative integer (days back from now), not {value:?}"
                        ),
                    )
                })?;
                past_days = Some(days);
            }
            "caseOrigin" if !value.trim().is_empty() => origin = Some(value.trim().to_string()),
            "caseType" if !value.trim().is_empty() => case_type = Some(squash(&value)),
            _ => {}
        }
    }
    let now = Utc::now();
    // None when the window reaches past the calendar: no lower bound then.
    let cutoff = past_days
        .map(|d| TimeDelta::try_days(i64::from(d)).and_then(|delta| now.checked_sub_signed(delta)));
    let text = |doc: &Value, key: &str| doc.get(key).and_then(Value::as_str).map(str::to_string);
    let cases: Vec<Value> = state
        .cases()
        .filter(|doc| !has_ticket_number(doc))
        .filter(|doc| match cutoff {
            None | Some(None) => true,
            Some(Some(cutoff)) => created_on(doc).is_some_and(|t| t >= cutoff),
        })
        .filter(|doc| {
            origin.as_deref().is_none_or(|o| {
                text(doc, "origin").is_some_and(|v| v.trim().eq_ignore_ascii_case(o))
            })
        })
        .filter(|doc| {
            case_type
                .as_deref()
                .is_none_or(|t| text(doc, "type").is_some_and(|v| squash(&v) == t))
        })
        .cloned()
        .collect();
    let body = match wrapper {
        Some(key) => json!({ key: cases }),
        None => Value::Array(cases),
    };
    Ok((StatusCode::OK, body))
}

/// Lower case without whitespace: "Break Fix" and "BreakFix" are the same type.
fn squash(s: &str) -> String {
    s.chars()
        .filter(|c| !c.is_whitespace())
        .flat_map(char::to_lowercase)
        .collect()
}

/// UPDATE: a new customer comment first in `comments`, and the attachments
/// kept for the admin API.
fn update_case(state: &mut SimState, id: &str, body: &Body) -> Outcome {
    if state.case(id).is_none() {
        return Err(ApiError::unknown_case(id));
    }
    let map = body.object(r#"{"comments": "...", "attachment": [{"fileName", "content"}]}"#)?;
    let mut problems = Vec::new();
    let comments = optional_string(map, "comments")
        .map_err(|p| problems.push(p))
        .ok()
        .flatten()
        .filter(|c| !c.trim().is_empty());
    let attachments = reply::attachments(map)
        .map_err(|p| problems.extend(p))
        .unwrap_or_default();
    if problems.is_empty() && comments.is_none() && attachments.is_empty() {
        problems.push(Problem::new(
            "comments",
            "comments is required (a non-empty string) unless an attachment is sent",
        ));
    }
    if !problems.is_empty() {
        return Err(ApiError::invalid(problems));
    }
    let now = now_text();
    if let Some(text) = comments {
        let comment = json!({ "createdOn": now, "createdBy": "Customer", "description": text });
        if let Some(doc) = state.case_mut(id) {
            prepend_comment(id, doc, comment)?;
        }
    }
    record_attachments(state, id, "UPDATE", attachments);
    Ok((StatusCode::OK, json!({ "caseNumber": id })))
}

/// Keeps attachments (with their decoded size) for `GET /sim/cases/{id}/requests`.
pub(super) fn record_attachments(
    state: &mut SimState,
    id: &str,
    call: &str,
    attachments: Vec<(Value, usize)>,
) {
    let now = now_text();
    let kept = &mut state.requests_mut(id).attachments;
    for (attachment, size) in attachments {
        kept.push(json!({
            "call": call,
            "receivedOn": now,
            "fileName": attachment.get("fileName"),
            "content": attachment.get("content"),
            "size": size,
        }));
    }
}
