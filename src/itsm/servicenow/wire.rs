//! ServiceNow's side of the wire: the Table API's answer envelopes, its error
//! envelope, and the few rules about what may go into an encoded query or a
//! `short_description`. Pure functions; no I/O.

use serde::Deserialize;
use serde_json::Value;

use crate::http::HttpError;
use crate::itsm::TicketRef;

/// Length of `short_description` on task tables. ServiceNow measures strings
/// as Java does (UTF-16 code units), so that is what is counted here.
pub const SHORT_DESCRIPTION_MAX: usize = 160;

/// Length of `correlation_id` on task tables; a longer key would be cut by
/// ServiceNow and never found again.
pub const CORRELATION_ID_MAX: usize = 100;

/// Every Table API answer: `{"result": ...}`.
#[derive(Debug, Deserialize)]
pub struct Envelope<T> {
    pub result: T,
}

/// A record as asked for with `sysparm_fields=sys_id,number,correlation_id`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct RecordRow {
    pub sys_id: String,
    pub number: Option<String>,
    pub correlation_id: Option<String>,
}

/// A `sys_journal_field` row (one work note or comment).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct JournalRow {
    pub element_id: String,
    pub value: String,
}

/// The ticket a record is; a table without numbers shows the sys_id.
pub fn ticket_ref(row: RecordRow) -> TicketRef {
    let number = row
        .number
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| row.sys_id.clone());
    TicketRef {
        id: row.sys_id,
        number,
    }
}

/// `{"error": {"message": "...", "detail": "..."}, "status": "failure"}`.
#[derive(Debug, Deserialize)]
struct ErrorEnvelope {
    error: ErrorBody,
}

#[derive(Debug, Deserialize)]
struct ErrorBody {
    #[serde(default)]
    message: Value,
    #[serde(default)]
    detail: Value,
}

/// Rewrites a status error's excerpt as ServiceNow's message and detail.
pub fn readable(error: HttpError) -> HttpError {
    match error {
        HttpError::Status {
            status,
            excerpt,
            retry_after,
        } => HttpError::Status {
            status,
            excerpt: error_text(&excerpt).unwrap_or(excerpt),
            retry_after,
        },
        other => other,
    }
}

/// The readable text of an error envelope ("message: detail"), from the body
/// excerpt `crate::http` kept. A body that is not an envelope (plain text,
/// HTML from a proxy) gives `None` and is quoted as it is.
pub fn error_text(excerpt: &str) -> Option<String> {
    let (message, detail) = match serde_json::from_str::<ErrorEnvelope>(excerpt) {
        Ok(env) => (text_of(env.error.message), text_of(env.error.detail)),
        // The excerpt may be cut short; the strings may still be whole.
        Err(_) => (
            string_after_key(excerpt, "message"),
            string_after_key(excerpt, "detail"),
        ),
    };
    match (message, detail) {
        (Some(m), Some(d)) if m != d => Some(format!("{m}: {d}")),
        (Some(m), _) => Some(m),
        (None, Some(d)) => Some(d),
        (None, None) => None,
    }
}

fn text_of(v: Value) -> Option<String> {
    match v {
        Value::Null => None,
        Value::String(s) => Some(s.trim().to_string()).filter(|s| !s.is_empty()),
        other => Some(other.to_string()),
    }
}

/// The JSON string that follows `"key":` in a (possibly truncated) body.
fn string_after_key(body: &str, key: &str) -> Option<String> {
    if !body.trim_start().starts_with('{') {
        return None;
    }
    let needle = format!("\"{key}\"");
    let rest = &body[body.find(&needle)? + needle.len()..];
    let rest = rest.trim_start().strip_prefix(':')?.trim_start();
    let mut strings = serde_json::Deserializer::from_str(rest).into_iter::<String>();
    text_of(Value::String(strings.next()?.ok()?))
}

/// Checks that `value` can stand on the right of an encoded-query term
/// without changing the query: `^` would start a new term (or `^OR`/`^NQ`),
/// a `javascript:` prefix would be evaluated, and an empty value would match
/// every record whose field is empty. Only plain identifier characters pass.
pub fn query_value<'a>(what: &str, value: &'a str, max_len: usize) -> Result<&'a str, String> {
    if value.is_empty() {
        return Err(format!("the {what} is empty"));
    }
    if let Some(c) = value
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || "-_.:/#".contains(*c)))
    {
        return Err(format!(
            "the {what} {value:?} contains {c:?}; only letters, digits and - _ . : / # \
             can be used in a ServiceNow query without changing it"
        ));
    }
    if value.to_ascii_lowercase().starts_with("javascript:") {
        return Err(format!(
            "the {what} {value:?} would be run as a script by ServiceNow"
        ));
    }
    if value.len() > max_len {
        return Err(format!(
            "the {what} {value:?} is longer than {max_len} characters"
        ));
    }
    Ok(value)
}

/// A record's `sys_id` as used in a path and a query (32 hex digits on every
/// instance; anything alphanumeric is accepted).
pub fn sys_id(id: &str) -> Result<&str, String> {
    if !id.is_empty() && id.len() <= 64 && id.chars().all(|c| c.is_ascii_alphanumeric()) {
        Ok(id)
    } else {
        Err(format!("{id:?} is not a ServiceNow sys_id"))
    }
}

/// The title cut to fit `short_description`, on a character boundary and
/// ending with "…" when cut; `true` when it was cut.
pub fn short_description(title: &str) -> (String, bool) {
    if title.encode_utf16().count() <= SHORT_DESCRIPTION_MAX {
        return (title.to_string(), false);
    }
    let mut units = 0;
    let mut out = String::new();
    for c in title.chars() {
        units += c.len_utf16();
        // Keep one unit for the ellipsis.
        if units > SHORT_DESCRIPTION_MAX - 1 {
            break;
        }
        out.push(c);
    }
    let mut out = out.trim_end().to_string();
    out.push('…');
    (out, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_error_envelope_reads_as_message_and_detail() {
        let body = r#"{"error":{"message":"No Record found","detail":"Record doesn't exist or ACL restricts the record retrieval"},"status":"failure"}"#;
        assert_eq!(
            error_text(body).as_deref(),
            Some("No Record found: Record doesn't exist or ACL restricts the record retrieval")
        );
        let null_detail =
            r#"{"error":{"message":"Invalid table foo","detail":null},"status":"failure"}"#;
        assert_eq!(
            error_text(null_detail).as_deref(),
            Some("Invalid table foo")
        );
    }

    #[test]
    fn a_truncated_envelope_still_gives_its_message() {
        let body = format!(
            r#"{{"error":{{"message":"Operation Failed","detail":"{}…"#,
            "x".repeat(300)
        );
        assert_eq!(error_text(&body).as_deref(), Some("Operation Failed"));
    }

    #[test]
    fn plain_text_and_html_bodies_are_not_envelopes() {
        assert_eq!(error_text("Too Many Requests"), None);
        assert_eq!(
            error_text("<html><body>\"message\": \"x\"</body></html>"),
            None
        );
        assert_eq!(error_text(""), None);
    }

    #[test]
    fn query_values_that_would_change_the_query_are_refused() {
        assert!(query_value("key", "10012345", 100).is_ok());
        assert!(query_value("marker", "hdis-sync:0123abcd", 100).is_ok());
        for bad in [
            "",
            "1^ORactive=true",
            "1^NQactive=true",
            "a b",
            "a=b",
            "a\nb",
            "é",
            "javascript:gs.getUserID()",
            "JavaScript:x",
        ] {
            assert!(query_value("key", bad, 100).is_err(), "{bad:?}");
        }
        assert!(query_value("key", &"1".repeat(101), 100).is_err());
    }

    #[test]
    fn sys_ids_must_be_plain_identifiers() {
        assert!(sys_id("0123456789abcdef0123456789abcdef").is_ok());
        for bad in ["", "../x", "a^b", "a/b"] {
            assert!(sys_id(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn short_titles_are_kept_and_long_ones_cut_on_a_char_boundary() {
        assert_eq!(short_description("Toner low"), ("Toner low".into(), false));
        let exact = "a".repeat(SHORT_DESCRIPTION_MAX);
        assert_eq!(short_description(&exact), (exact.clone(), false));

        let long = "é🖨".repeat(100);
        let (cut, was_cut) = short_description(&long);
        assert!(was_cut);
        assert!(cut.encode_utf16().count() <= SHORT_DESCRIPTION_MAX);
        let body = cut.strip_suffix('…').unwrap();
        assert!(long.starts_with(body));
        assert!(body.encode_utf16().count() >= SHORT_DESCRIPTION_MAX - 2);
    }
}
