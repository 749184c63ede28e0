//! Every HDIS call we make, with Basic or OAuth2 (client credentials) auth,
//! a request timeout, a client-side request rate, and size-capped bodies.

use std::time::Duration;

use reqwest::{Client, Method, RequestBuilder};
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;
use serde_json::Value;
use tokio::sync::Mutex;
use tokio::time::Instant;
use url::Url;

use super::model::{CaseDocument, CaseList, CaseParseError, parse_case, parse_case_list};
use crate::config::{LexmarkAuth, LexmarkConfig};
use crate::http::{self, HttpError, Retry};

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("Lexmark {call}{}: {source}", case_suffix(.case))]
    Http {
        call: &'static str,
        case: Option<String>,
        #[source]
        source: HttpError,
    },
    #[error("Lexmark {call}{}: {message}", case_suffix(.case))]
    Body {
        call: &'static str,
        case: Option<String>,
        message: String,
    },
    #[error("Lexmark STATUS: {0}")]
    Case(#[from] CaseParseError),
    #[error("Lexmark OAuth2 token: {0}")]
    Token(String),
    #[error("Lexmark client configuration: {0}")]
    Config(String),
}

fn case_suffix(case: &Option<String>) -> String {
    case.as_deref()
        .map(|c| format!(" for case {c}"))
        .unwrap_or_default()
}

impl Error {
    pub fn retry(&self) -> Retry {
        match self {
            Error::Http { source, .. } => source.retry(),
            _ => Retry::Permanent,
        }
    }

    pub fn outcome_unknown(&self) -> bool {
        matches!(self, Error::Http { source, .. } if source.outcome_unknown())
    }

    /// Lexmark could not be reached or is temporarily unavailable (connection
    /// refused, timeout, 429, 5xx after the retries): exit 75, try later.
    pub fn is_unreachable(&self) -> bool {
        matches!(self.retry(), Retry::Transient { .. })
    }
}

/// Filters of GET CASES.
#[derive(Debug, Clone, Default)]
pub struct CasesQuery {
    pub past_days: Option<u32>,
    pub case_origin: Option<String>,
    pub case_type: Option<String>,
}

/// An attachment for UPDATE and CREATE (`content` is base64).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Attachment {
    pub file_name: String,
    pub content: String,
}

enum Auth {
    Basic {
        username: String,
        password: SecretString,
    },
    OAuth2 {
        token_url: Url,
        client_id: String,
        client_secret: SecretString,
        scope: Option<String>,
        token: Mutex<Option<(SecretString, Instant)>>,
    },
}

pub struct LexmarkClient {
    http: Client,
    base: Url,
    auth: Auth,
    body_cap: usize,
    /// Earliest moment the next request may start (client-side rate limit).
    next_slot: Mutex<Instant>,
    interval: Duration,
}

impl std::fmt::Debug for LexmarkClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LexmarkClient")
            .field("base", &self.base.as_str())
            .finish_non_exhaustive()
    }
}

impl LexmarkClient {
    pub fn new(
        config: &LexmarkConfig,
        max_requests_per_second: u32,
    ) -> Result<LexmarkClient, Error> {
        let missing = |k: &str| Error::Config(format!("lexmark.{k} is required"));
        let raw = config
            .base_url
            .as_deref()
            .ok_or_else(|| missing("base_url"))?;
        let mut base =
            Url::parse(raw).map_err(|e| Error::Config(format!("lexmark.base_url {raw:?}: {e}")))?;
        if !base.path().ends_with('/') {
            base.set_path(&format!("{}/", base.path()));
        }
        let auth = match config.auth {
            LexmarkAuth::Basic => Auth::Basic {
                username: config.username.clone().ok_or_else(|| missing("username"))?,
                password: config.password.clone().ok_or_else(|| missing("password"))?,
            },
            LexmarkAuth::Oauth2 => {
                let raw = config
                    .token_url
                    .as_deref()
                    .ok_or_else(|| missing("token_url"))?;
                Auth::OAuth2 {
                    token_url: Url::parse(raw)
                        .map_err(|e| Error::Config(format!("lexmark.token_url {raw:?}: {e}")))?,
                    client_id: config
                        .client_id
                        .clone()
                        .ok_or_else(|| missing("client_id"))?,
                    client_secret: config
                        .client_secret
                        .clone()
                        .ok_or_else(|| missing("client_secret"))?,
                    scope: config.scope.clone(),
                    token: Mutex::new(None),
                }
            }
        };
        let http = Client::builder()
            .timeout(Duration::from_secs(config.timeout_secs))
            .connect_timeout(Duration::from_secs(config.timeout_secs.min(10)))
            .user_agent(concat!("hdis-sync/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| Error::Config(format!("HTTP client: {e}")))?;
        let interval = match max_requests_per_second {
            0 => Duration::ZERO,
            n => Duration::from_secs(1) / n,
        };
        Ok(LexmarkClient {
            http,
            base,
            auth,
            body_cap: http::DEFAULT_BODY_CAP,
            next_slot: Mutex::new(Instant::now()),
            interval,
        })
    }

    pub fn base_url(&self) -> &Url {
        &self.base
    }

    /// GET CASES: the "new" cases (no customer ticket number yet).
    pub async fn get_cases(&self, q: &CasesQuery) -> Result<CaseList, Error> {
        let mut url = self.url(&["cases", ""]);
        {
            let mut pairs = url.query_pairs_mut();
            if let Some(d) = q.past_days {
                pairs.append_pair("NoOfPastDays", &d.to_string());
            }
            if let Some(o) = &q.case_origin {
                pairs.append_pair("caseOrigin", o);
            }
            if let Some(t) = &q.case_type {
                pairs.append_pair("caseType", t);
            }
        }
        let value: Value = self
            .call_json("GET CASES", None, Method::GET, url, None::<&()>)
            .await?;
        parse_case_list(value).map_err(|message| Error::Body {
            call: "GET CASES",
            case: None,
            message,
        })
    }

    /// STATUS: the current case document.
    pub async fn status(&self, case: &str) -> Result<CaseDocument, Error> {
        let value: Value = self
            .call_json(
                "STATUS",
                Some(case),
                Method::GET,
                self.url(&["cases", case]),
                None::<&()>,
            )
            .await?;
        let doc = parse_case(value, None)?;
        if doc.case_number != case {
            return Err(Error::Body {
                call: "STATUS",
                case: Some(case.into()),
                message: format!("answered with a different case, {}", doc.case_number),
            });
        }
        Ok(doc)
    }

    /// UPDATE TICKET #: tells Lexmark our ticket number.
    pub async fn update_ticket_number(&self, case: &str, ticket_number: &str) -> Result<(), Error> {
        let body = serde_json::json!({ "customerTicketNumber": ticket_number });
        self.case_call(
            "UPDATE TICKET #",
            Method::PATCH,
            case,
            "customerTicketNumber",
            &body,
        )
        .await
    }

    /// UPDATE: adds comments and attachments to a case.
    pub async fn update_case(
        &self,
        case: &str,
        comments: &str,
        attachments: &[Attachment],
    ) -> Result<(), Error> {
        let body = serde_json::json!({ "comments": comments, "attachment": attachments });
        self.case_call("UPDATE", Method::PATCH, case, "updateCase", &body)
            .await
    }

    /// ESCALATE.
    pub async fn escalate(&self, case: &str, reason: &str) -> Result<(), Error> {
        let body = serde_json::json!({ "escalateRequestReason": reason });
        self.case_call("ESCALATE", Method::POST, case, "escalateRequest", &body)
            .await
    }

    /// CANCEL.
    pub async fn cancel(&self, case: &str, reason: &str) -> Result<(), Error> {
        let body = serde_json::json!({ "cancelRequestReason": reason });
        self.case_call("CANCEL", Method::POST, case, "cancelRequest", &body)
            .await
    }

    /// A write to `/cases/{case}/{action}` whose answer body does not matter.
    async fn case_call(
        &self,
        call: &'static str,
        method: Method,
        case: &str,
        action: &str,
        body: &Value,
    ) -> Result<(), Error> {
        self.call(
            call,
            Some(case),
            method,
            self.url(&["cases", case, action]),
            Some(body),
        )
        .await?;
        Ok(())
    }

    /// CREATE: opens a case at Lexmark; returns Lexmark's case number.
    pub async fn create_case(&self, request: &Value) -> Result<String, Error> {
        let v: Value = self
            .call_json(
                "CREATE",
                None,
                Method::POST,
                self.url(&["cases", ""]),
                Some(request),
            )
            .await?;
        v.get("caseNumber")
            .and_then(Value::as_str)
            .map(str::to_string)
            .ok_or_else(|| Error::Body {
                call: "CREATE",
                case: None,
                message: format!(
                    "no caseNumber in the answer: {}",
                    http::excerpt(v.to_string().as_bytes())
                ),
            })
    }

    fn url(&self, segments: &[&str]) -> Url {
        let mut url = self.base.clone();
        if let Ok(mut s) = url.path_segments_mut() {
            s.pop_if_empty().extend(segments);
        }
        url
    }

    async fn call_json<T: serde::de::DeserializeOwned, B: Serialize>(
        &self,
        call: &'static str,
        case: Option<&str>,
        method: Method,
        url: Url,
        body: Option<&B>,
    ) -> Result<T, Error> {
        let bytes = self.call(call, case, method, url, body).await?;
        http::decode(&bytes).map_err(|source| Error::Http {
            call,
            case: case.map(Into::into),
            source,
        })
    }

    async fn call<B: Serialize>(
        &self,
        call: &'static str,
        case: Option<&str>,
        method: Method,
        url: Url,
        body: Option<&B>,
    ) -> Result<Vec<u8>, Error> {
        self.pace().await;
        let mut req = self
            .http
            .request(method, url)
            .header("Accept", "application/json");
        if let Some(b) = body {
            req = req.json(b);
        }
        let req = self.authorize(req).await?;
        let (_, bytes) = http::send(req, self.body_cap)
            .await
            .map_err(|source| Error::Http {
                call,
                case: case.map(Into::into),
                source,
            })?;
        Ok(bytes)
    }

    /// Waits for this request's slot under `max_requests_per_second`.
    async fn pace(&self) {
        if self.interval.is_zero() {
            return;
        }
        let start = {
            let mut next = self.next_slot.lock().await;
            let start = (*next).max(Instant::now());
            *next = start + self.interval;
            start
        };
        tokio::time::sleep_until(start).await;
    }

    async fn authorize(&self, req: RequestBuilder) -> Result<RequestBuilder, Error> {
        match &self.auth {
            Auth::Basic { username, password } => {
                Ok(req.basic_auth(username, Some(password.expose_secret())))
            }
            Auth::OAuth2 {
                token_url,
                client_id,
                client_secret,
                scope,
                token,
            } => {
                let mut cached = token.lock().await;
                if let Some((t, until)) = cached.as_ref()
                    && Instant::now() < *until
                {
                    return Ok(req.bearer_auth(t.expose_secret()));
                }
                let mut form = vec![("grant_type", "client_credentials".to_string())];
                if let Some(s) = scope {
                    form.push(("scope", s.clone()));
                }
                let token_req = self
                    .http
                    .post(token_url.clone())
                    .basic_auth(client_id, Some(client_secret.expose_secret()))
                    .form(&form);
                let (_, body) = http::send(token_req, 64 * 1024)
                    .await
                    .map_err(|e| Error::Token(e.to_string()))?;
                #[derive(serde::Deserialize)]
                struct TokenAnswer {
                    access_token: String,
                    expires_in: Option<u64>,
                }
                let answer: TokenAnswer = serde_json::from_slice(&body)
                    .map_err(|e| Error::Token(format!("unreadable token answer: {e}")))?;
                // Renew a minute early so a token never expires mid-request.
                let life =
                    Duration::from_secs(answer.expires_in.unwrap_or(300).saturating_sub(60).max(1));
                let secret = SecretString::from(answer.access_token);
                let req = req.bearer_auth(secret.expose_secret());
                *cached = Some((secret, Instant::now() + life));
                Ok(req)
            }
        }
    }
}
