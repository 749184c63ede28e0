//! OAuth2 client credentials, as Lexmark offers besides Basic: `POST
//! /oauth2/token` issues bearer tokens to the client whose id and secret are
//! the simulator's user name and password (HTTP Basic, or form fields), and
//! the customer API then accepts `Authorization: Bearer <token>`.

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::json;

use super::Simulator;

/// Lifetime of an issued token, in seconds.
const TOKEN_LIFETIME: u64 = 3600;

pub(super) fn routes() -> Router<Simulator> {
    Router::new().route("/token", post(token))
}

fn oauth_error(status: StatusCode, error: &str, description: &str) -> Response {
    (
        status,
        axum::Json(json!({ "error": error, "error_description": description })),
    )
        .into_response()
}

/// `user:password` from an HTTP Basic header.
pub(super) fn basic_credentials(headers: &HeaderMap) -> Option<(String, String)> {
    let text = headers
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .trim()
        .split_once(' ')
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("basic"))
        .and_then(|(_, encoded)| STANDARD.decode(encoded.trim()).ok())
        .and_then(|bytes| String::from_utf8(bytes).ok())?;
    text.split_once(':')
        .map(|(u, p)| (u.to_string(), p.to_string()))
}

async fn token(State(sim): State<Simulator>, headers: HeaderMap, body: Bytes) -> Response {
    let form: Vec<(String, String)> = url::form_urlencoded::parse(&body).into_owned().collect();
    let get = |k: &str| {
        form.iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.clone())
    };
    if get("grant_type").as_deref() != Some("client_credentials") {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "grant_type must be client_credentials",
        );
    }
    let client =
        basic_credentials(&headers).or_else(|| Some((get("client_id")?, get("client_secret")?)));
    let options = sim.options();
    match client {
        Some((id, secret)) if id == options.username && secret == options.password => {
            let token = sim.issue_token();
            axum::Json(json!({ "access_token": token, "token_type": "Bearer", "expires_in": TOKEN_LIFETIME })).into_response()
        }
        _ => oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "unknown client or wrong secret",
        ),
    }
}

impl Simulator {
    fn issue_token(&self) -> String {
        let mut tokens = self.tokens();
        let token = format!(
            "sim-{}-{:016x}",
            tokens.len() + 1,
            rand_word(tokens.len() as u64)
        );
        tokens.push(token.clone());
        token
    }

    /// Whether this bearer token was issued here.
    pub(super) fn token_is_valid(&self, token: &str) -> bool {
        self.tokens().iter().any(|t| t == token)
    }

    /// How many tokens `/oauth2/token` has issued.
    pub fn tokens_issued(&self) -> usize {
        self.tokens().len()
    }

    fn tokens(&self) -> std::sync::MutexGuard<'_, Vec<String>> {
        self.shared.tokens.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Not a secret generator: tokens only have to differ from one another.
fn rand_word(seed: u64) -> u64 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    (nanos ^ seed.wrapping_mul(0x9E37_79B9_7F4A_7C15)).rotate_left(17)
}
