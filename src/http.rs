//! The HTTP plumbing shared by the Lexmark client and every HTTP connector:
//! sending a request, reading a size-capped body, and deciding once, in one
//! place, whether a failure is worth retrying.

use std::time::Duration;

use chrono::{DateTime, Utc};
use reqwest::{RequestBuilder, Response, StatusCode, header::HeaderMap};

/// Largest response body we read (bytes). Past this the call fails clearly.
pub const DEFAULT_BODY_CAP: usize = 8 * 1024 * 1024;

/// How many characters of a body an error message quotes.
const EXCERPT_CHARS: usize = 200;

/// What went wrong on one HTTP exchange.
#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    #[error("timed out")]
    Timeout(#[source] reqwest::Error),
    #[error("could not connect")]
    Connect(#[source] reqwest::Error),
    #[error("transport error")]
    Transport(#[source] reqwest::Error),
    #[error("HTTP {status}: {excerpt}")]
    Status {
        status: StatusCode,
        excerpt: String,
        retry_after: Option<Duration>,
    },
    #[error("response body larger than {cap} bytes")]
    TooLarge { cap: usize },
    #[error("response is not the JSON expected ({source}); body starts: {excerpt}")]
    Decode {
        excerpt: String,
        #[source]
        source: serde_json::Error,
    },
}

/// Whether an error is worth another attempt, and how long to wait at least.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Retry {
    /// Timeouts, connection failures, 408, 429 and 5xx.
    Transient { after: Option<Duration> },
    /// Everything else: another attempt would fail the same way.
    Permanent,
}

impl HttpError {
    /// The single place that decides retryability (408/429/5xx and transport
    /// failures retry; other statuses and bad bodies do not).
    pub fn retry(&self) -> Retry {
        match self {
            HttpError::Timeout(_) | HttpError::Connect(_) | HttpError::Transport(_) => {
                Retry::Transient { after: None }
            }
            HttpError::Status {
                status,
                retry_after,
                ..
            } => classify_status(*status, *retry_after),
            HttpError::TooLarge { .. } | HttpError::Decode { .. } => Retry::Permanent,
        }
    }

    /// True when the request may have reached the server and been acted on
    /// although we saw no answer (the outcome is unknown).
    pub fn outcome_unknown(&self) -> bool {
        match self {
            HttpError::Timeout(_) | HttpError::Transport(_) => true,
            HttpError::Status { status, .. } => status.is_server_error(),
            HttpError::Connect(_) | HttpError::TooLarge { .. } | HttpError::Decode { .. } => false,
        }
    }

    pub fn status(&self) -> Option<StatusCode> {
        match self {
            HttpError::Status { status, .. } => Some(*status),
            _ => None,
        }
    }
}

/// Retryability of an HTTP status.
pub fn classify_status(status: StatusCode, retry_after: Option<Duration>) -> Retry {
    if status == StatusCode::REQUEST_TIMEOUT
        || status == StatusCode::TOO_MANY_REQUESTS
        || status.is_server_error()
    {
        Retry::Transient { after: retry_after }
    } else {
        Retry::Permanent
    }
}

/// Parses `Retry-After` as delay-seconds or as an HTTP date (RFC 9110 §10.2.3).
pub fn parse_retry_after(headers: &HeaderMap, now: DateTime<Utc>) -> Option<Duration> {
    let value = headers
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = DateTime::parse_from_rfc2822(value)
        .ok()?
        .with_timezone(&Utc);
    Some((at - now).to_std().unwrap_or(Duration::ZERO))
}

/// A short, single-line, char-boundary-safe excerpt of a body for messages.
pub fn excerpt(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let flat: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(EXCERPT_CHARS)
        .collect();
    if text.chars().count() > EXCERPT_CHARS {
        format!("{}…", flat.trim_end())
    } else {
        flat.trim_end().to_string()
    }
}

fn from_reqwest(err: reqwest::Error) -> HttpError {
    if err.is_timeout() {
        HttpError::Timeout(err)
    } else if err.is_connect() {
        HttpError::Connect(err)
    } else {
        HttpError::Transport(err)
    }
}

/// Sends a request and returns the body of a 2xx answer, read up to `cap`
/// bytes. Non-2xx answers become [`HttpError::Status`] with an excerpt of
/// their body (plain text and HTML bodies are fine: nothing is decoded).
pub async fn send(request: RequestBuilder, cap: usize) -> Result<(StatusCode, Vec<u8>), HttpError> {
    let response = request.send().await.map_err(from_reqwest)?;
    let status = response.status();
    let retry_after = parse_retry_after(response.headers(), Utc::now());
    let body = read_capped(response, cap).await?;
    if status.is_success() {
        Ok((status, body))
    } else {
        Err(HttpError::Status {
            status,
            excerpt: excerpt(&body),
            retry_after,
        })
    }
}

/// Decodes a JSON body, keeping an excerpt for the error.
pub fn decode<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, HttpError> {
    serde_json::from_slice(body).map_err(|source| HttpError::Decode {
        excerpt: excerpt(body),
        source,
    })
}

async fn read_capped(mut response: Response, cap: usize) -> Result<Vec<u8>, HttpError> {
    if let Some(len) = response.content_length()
        && len > cap as u64
    {
        return Err(HttpError::TooLarge { cap });
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(from_reqwest)? {
        if body.len() + chunk.len() > cap {
            return Err(HttpError::TooLarge { cap });
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::{HeaderValue, RETRY_AFTER};

    #[test]
    fn retry_after_in_seconds_is_read() {
        let mut h = HeaderMap::new();
        h.insert(RETRY_AFTER, HeaderValue::from_static("7"));
        assert_eq!(
            parse_retry_after(&h, Utc::now()),
            Some(Duration::from_secs(7))
        );
    }

    #[test]
    fn retry_after_as_an_http_date_is_read_relative_to_now() {
        let mut h = HeaderMap::new();
        h.insert(
            RETRY_AFTER,
            HeaderValue::from_static("Wed, 21 Oct 2026 07:28:30 GMT"),
        );
        let now = DateTime::parse_from_rfc3339("2026-10-21T07:28:00Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(parse_retry_after(&h, now), Some(Duration::from_secs(30)));
    }

    #[test]
    fn statuses_408_429_and_5xx_retry_and_other_4xx_do_not() {
        for code in [408, 429, 500, 502, 503, 504] {
            let s = StatusCode::from_u16(code).unwrap();
            assert!(
                matches!(classify_status(s, None), Retry::Transient { .. }),
                "{code}"
            );
        }
        for code in [400, 401, 403, 404, 409, 422] {
            let s = StatusCode::from_u16(code).unwrap();
            assert_eq!(classify_status(s, None), Retry::Permanent, "{code}");
        }
    }

    #[test]
    fn excerpt_is_short_single_line_and_safe_on_multibyte_text() {
        let body = "é".repeat(500) + "\n<html>";
        let e = excerpt(body.as_bytes());
        assert!(e.chars().count() <= EXCERPT_CHARS + 1);
        assert!(!e.contains('\n'));
    }
}
