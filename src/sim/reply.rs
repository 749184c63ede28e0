//! JSON answers shared by the customer and admin APIs: errors shaped
//! `{"message", "field"?}`, request bodies, and field checks.

use axum::Json;
use axum::body::Bytes;
use axum::extract::OriginalUri;
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD_PAD_INDIFFERENT;
use serde_json::{Map, Value, json};

use super::state::{DocError, kind};

/// What is wrong with one field of a request.
#[derive(Debug, Clone)]
pub(super) struct Problem {
    pub field: String,
    pub message: String,
}

impl Problem {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Problem {
        Problem {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// An error answer: `{"message", "field"?, "fields"?}` with a status.
#[derive(Debug)]
pub(super) struct ApiError {
    pub status: StatusCode,
    pub message: String,
    pub fields: Vec<String>,
}

impl ApiError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            message: message.into(),
            fields: Vec::new(),
        }
    }

    pub fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, message)
    }

    /// 400 naming every field at fault; `problems` must not be empty.
    pub fn invalid(problems: Vec<Problem>) -> ApiError {
        let message = problems
            .iter()
            .map(|p| p.message.as_str())
            .collect::<Vec<_>>()
            .join("; ");
        ApiError {
            status: StatusCode::BAD_REQUEST,
            message,
            fields: problems.into_iter().map(|p| p.field).collect(),
        }
    }

    pub fn unknown_case(number: &str) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, format!("no case {number}"))
    }
}

impl From<Problem> for ApiError {
    fn from(p: Problem) -> ApiError {
        ApiError::invalid(vec![p])
    }
}

impl From<DocError> for ApiError {
    fn from(e: DocError) -> ApiError {
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut body = Map::new();
        body.insert("message".into(), Value::String(self.message));
        if let Some(first) = self.fields.first() {
            body.insert("field".into(), Value::String(first.clone()));
        }
        if self.fields.len() > 1 {
            body.insert("fields".into(), json!(self.fields));
        }
        (self.status, Json(Value::Object(body))).into_response()
    }
}

/// A status and a JSON body.
pub(super) fn reply(status: StatusCode, body: Value) -> Response {
    (status, Json(body)).into_response()
}

pub(super) async fn unknown_route(method: Method, OriginalUri(uri): OriginalUri) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        format!(
            "no such route: {method} {}; the API is under /b2b/v1/cases, the admin API under /sim",
            uri.path()
        ),
    )
}

pub(super) async fn method_not_allowed(method: Method, OriginalUri(uri): OriginalUri) -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        format!("{method} is not allowed on {}", uri.path()),
    )
}

/// A request body as received.
#[derive(Debug)]
pub(super) enum Body {
    Empty,
    Json(Value),
    NotJson(String),
}

impl Body {
    pub fn parse(bytes: &Bytes) -> Body {
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Body::Empty;
        }
        match serde_json::from_slice(bytes) {
            Ok(v) => Body::Json(v),
            Err(_) => Body::NotJson(String::from_utf8_lossy(bytes).into_owned()),
        }
    }

    /// What the call log keeps: the JSON, or the text as a JSON string.
    pub fn record(&self) -> Option<Value> {
        match self {
            Body::Empty => None,
            Body::Json(v) => Some(v.clone()),
            Body::NotJson(text) => Some(Value::String(text.clone())),
        }
    }

    /// The body as a JSON object, or a 400 saying what was expected.
    pub fn object(&self, expected: &str) -> Result<&Map<String, Value>, ApiError> {
        match self {
            Body::Json(Value::Object(map)) => Ok(map),
            Body::Json(other) => Err(ApiError::bad_request(format!(
                "the body must be a JSON object {expected}, not {}",
                kind(other)
            ))),
            Body::Empty => Err(ApiError::bad_request(format!(
                "the body is empty; expected a JSON object {expected}"
            ))),
            Body::NotJson(_) => Err(ApiError::bad_request(format!(
                "the body is not valid JSON; expected a JSON object {expected}"
            ))),
        }
    }
}

/// A string field that must be present and not blank.
pub(super) fn required_string<'a>(
    map: &'a Map<String, Value>,
    field: &str,
) -> Result<&'a str, Problem> {
    match optional_string(map, field)? {
        Some(s) if !s.trim().is_empty() => Ok(s),
        _ => Err(Problem::new(
            field,
            format!("{field} is required: a non-empty string"),
        )),
    }
}

/// A string field that may be absent or null.
pub(super) fn optional_string<'a>(
    map: &'a Map<String, Value>,
    field: &str,
) -> Result<Option<&'a str>, Problem> {
    match map.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(other) => Err(Problem::new(
            field,
            format!("{field} must be a string, not {}", kind(other)),
        )),
    }
}

/// Most attachments a CREATE or UPDATE may carry.
pub(super) const MAX_ATTACHMENTS: usize = 3;

/// `attachment`: absent, null, or an array of at most three
/// `{"fileName", "content"}` with base64 content. Returns the attachments
/// with their decoded sizes.
pub(super) fn attachments(map: &Map<String, Value>) -> Result<Vec<(Value, usize)>, Vec<Problem>> {
    let items = match map.get("attachment") {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(items)) => items,
        Some(other) => {
            return Err(vec![Problem::new(
                "attachment",
                format!(
                    "attachment must be an array of {{\"fileName\", \"content\"}}, not {}",
                    kind(other)
                ),
            )]);
        }
    };
    if items.len() > MAX_ATTACHMENTS {
        return Err(vec![Problem::new(
            "attachment",
            format!(
                "attachment holds {} files; at most {MAX_ATTACHMENTS} are allowed",
                items.len()
            ),
        )]);
    }
    let mut problems = Vec::new();
    let mut good = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let Some(obj) = item.as_object() else {
            problems.push(Problem::new(
                format!("attachment[{i}]"),
                format!(
                    "attachment[{i}] must be an object {{\"fileName\", \"content\"}}, not {}",
                    kind(item)
                ),
            ));
            continue;
        };
        let name = required_string(obj, "fileName").map_err(|p| prefixed(i, p));
        let content = required_string(obj, "content").map_err(|p| prefixed(i, p));
        let size = content.and_then(|c| {
            let compact: String = c.chars().filter(|ch| !ch.is_ascii_whitespace()).collect();
            STANDARD_PAD_INDIFFERENT
                .decode(compact.as_bytes())
                .map(|bytes| bytes.len())
                .map_err(|e| {
                    Problem::new(
                        format!("attachment[{i}].content"),
                        format!("attachment[{i}].content must be base64 (standard alphabet): {e}"),
                    )
                })
        });
        match (name, size) {
            (Ok(_), Ok(size)) => good.push((item.clone(), size)),
            (name, size) => problems.extend(name.err().into_iter().chain(size.err())),
        }
    }
    if problems.is_empty() {
        Ok(good)
    } else {
        Err(problems)
    }
}

fn prefixed(i: usize, p: Problem) -> Problem {
    Problem::new(
        format!("attachment[{i}].{}", p.field),
        format!("attachment[{i}].{}", p.message),
    )
}
