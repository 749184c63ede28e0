//! The HDIS simulator: Lexmark's seven customer-initiated calls over HTTP
//! (under `/b2b/v1`, HTTP Basic auth), plus an admin API under `/sim` to
//! inspect and steer it. Integrators rehearse against it before Lexmark QA;
//! our integration tests and `hdis-sync demo` run against it.
//!
//! Case documents are kept as `serde_json::Value`, not as our typed model, so
//! a test can store any shape Lexmark might send, odd ones included.
//!
//! - [`state`]: the in-memory state (cases, requests, calls, faults) and the
//!   document edits shared by both APIs.
//! - [`api`]: the customer API; [`admin`]: the `/sim` admin API;
//!   [`reply`]: JSON error answers shared by both.
//! - [`load`]: `--data` files; [`generate`]: synthetic new cases;
//!   [`command`]: the `hdis-sync simulate` command.

mod admin;
mod api;
mod command;
mod create;
mod generate;
mod hold;
mod load;
mod oauth;
mod reply;
mod state;
#[cfg(test)]
mod tests;

use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use axum::Router;
use axum::extract::DefaultBodyLimit;
use serde_json::Value;

pub use command::run;
pub use hold::SimHold;
use state::SimState;

/// Largest request body the simulator accepts (attachments are base64 inline).
const BODY_LIMIT: usize = 32 * 1024 * 1024;

/// The names of the customer-initiated calls, as used in [`CallRecord`] and [`Fault`].
pub const CALL_NAMES: [&str; 7] = [
    "CREATE",
    "UPDATE",
    "ESCALATE",
    "CANCEL",
    "STATUS",
    "GET CASES",
    "UPDATE TICKET #",
];

/// How the simulator behaves.
#[derive(Debug, Clone)]
pub struct SimOptions {
    /// HTTP Basic user name the customer API accepts.
    pub username: String,
    /// HTTP Basic password the customer API accepts.
    pub password: String,
    /// GET CASES wraps the array in an object under this key when Some (e.g.
    /// "cases"); bare array when None.
    pub list_wrapper: Option<String>,
}

impl Default for SimOptions {
    fn default() -> Self {
        SimOptions {
            username: "hdis".into(),
            password: "hdis".into(),
            list_wrapper: None,
        }
    }
}

/// One customer-initiated call the simulator received, and what it answered.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct CallRecord {
    /// One of [`CALL_NAMES`].
    pub call: String,
    /// The case number from the path, when the call names one.
    pub case: Option<String>,
    /// The raw query string, when there was one.
    pub query: Option<String>,
    /// The request body: its JSON, or its text as a JSON string when it was
    /// not JSON; None when empty.
    pub body: Option<Value>,
    /// The status the simulator answered with.
    pub status: u16,
}

/// A planned misbehaviour: when a call matches, this answers instead of the
/// normal handler (the call is still recorded, with this status) and the
/// call has no effect on the state. Auth is checked first: a call answered
/// 401 does not use up a fault.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Fault {
    /// Which call it hits, one of [`CALL_NAMES`].
    pub call: String,
    /// Only calls about this case (None = any call of that name). A fault
    /// with a case never hits GET CASES or CREATE, which name none.
    #[serde(default)]
    pub case: Option<String>,
    /// The status to answer, e.g. 503, 429, 400, or 200 with a bad body.
    pub status: u16,
    /// The body, sent as-is.
    #[serde(default)]
    pub body: String,
    /// The `Content-Type` of the body.
    #[serde(default = "default_content_type")]
    pub content_type: String,
    /// A `Retry-After` header value.
    #[serde(default)]
    pub retry_after: Option<String>,
    /// How many matching calls it hits, then it is gone; `u32::MAX` = for ever.
    #[serde(default = "one")]
    pub times: u32,
    /// How long to wait before answering (to provoke client timeouts).
    #[serde(default)]
    pub delay_ms: u64,
}

fn default_content_type() -> String {
    "text/plain".into()
}

fn one() -> u32 {
    1
}

/// What can go wrong when cases are added, loaded or replaced.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    #[error("a case document must be a JSON object, not {found}")]
    NotAnObject { found: &'static str },
    #[error("caseNumber must be a string, not {found}")]
    BadCaseNumber { found: &'static str },
    #[error("case {0} already exists")]
    DuplicateCase(String),
    #[error("no case {0}")]
    UnknownCase(String),
    #[error("cannot read {}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{} is not valid JSON", path.display())]
    Json {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    #[error("{}: {item} {problem}", path.display())]
    NotACase {
        path: PathBuf,
        /// "the object" or "item 2 of 5".
        item: String,
        problem: String,
    },
    #[error("{}: {item}", path.display())]
    InFile {
        path: PathBuf,
        item: String,
        #[source]
        source: Box<SimError>,
    },
    #[error("{} holds no *.json files", path.display())]
    EmptyDirectory { path: PathBuf },
}

/// The simulator: cheap to clone, every clone shares the same state.
#[derive(Clone)]
pub struct Simulator {
    shared: Arc<Shared>,
}

struct Shared {
    options: SimOptions,
    state: Mutex<SimState>,
    holds: Mutex<Vec<hold::PendingHold>>,
    /// Bearer tokens issued by `/oauth2/token`.
    tokens: Mutex<Vec<String>>,
}

impl std::fmt::Debug for Simulator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Simulator")
            .field("username", &self.shared.options.username)
            .field("list_wrapper", &self.shared.options.list_wrapper)
            .finish_non_exhaustive()
    }
}

impl Simulator {
    pub fn new(options: SimOptions) -> Simulator {
        Simulator {
            shared: Arc::new(Shared {
                options,
                state: Mutex::new(SimState::default()),
                holds: Mutex::new(Vec::new()),
                tokens: Mutex::new(Vec::new()),
            }),
        }
    }

    /// Adds a case document (a JSON object). Missing/empty caseNumber → a
    /// generated one like "CAS-10001-K7Q2ZD"; missing createdOn → now
    /// (RFC 3339, Z). Err if not an object or the number already exists.
    pub fn add_case(&self, doc: Value) -> Result<String, SimError> {
        self.lock().add_case(doc)
    }

    /// A JSON file holding one case object or an array of them, or a
    /// directory of such `*.json` files (not recursive, in name order).
    /// Returns the case numbers added.
    ///
    /// Every object must carry a non-empty `caseNumber`: a file holding
    /// anything else (a CREATE request, say) is an error naming the file, as
    /// is a number already present. Nothing is added unless everything loads.
    pub fn load_path(&self, path: &Path) -> Result<Vec<String>, SimError> {
        let docs = load::read_path(path)?;
        self.lock().add_loaded(docs)
    }

    /// N synthetic, realistic new cases (varied printer models, errors,
    /// addresses, requestors; createdOn within the last day; no
    /// customerTicketNumber — absent, null or "" in turn; some text with
    /// accents and emoji). Deterministic given the current count.
    pub fn generate(&self, n: usize) -> Vec<String> {
        let mut state = self.lock();
        generate::generate(&mut state, n, chrono::Utc::now())
    }

    /// The stored document of a case, as stored.
    pub fn case(&self, number: &str) -> Option<Value> {
        self.lock().case(number).cloned()
    }

    /// Every stored document, in the order added.
    pub fn cases(&self) -> Vec<Value> {
        self.lock().cases().cloned().collect()
    }

    /// Replaces a stored document wholesale (keys may be removed or set to
    /// null this way). The document is stored as given, whatever its shape
    /// or caseNumber; the case stays reachable under `number`.
    pub fn replace_case(&self, number: &str, doc: Value) -> Result<(), SimError> {
        let mut state = self.lock();
        let slot = state
            .case_mut(number)
            .ok_or_else(|| SimError::UnknownCase(number.into()))?;
        *slot = doc;
        Ok(())
    }

    /// Every customer-initiated call received, in order.
    pub fn calls(&self) -> Vec<CallRecord> {
        self.lock().calls.clone()
    }

    /// Plans a fault; faults are tried in the order added and the first that
    /// matches a call answers it. A fault with `times` 0 is ignored.
    pub fn add_fault(&self, fault: Fault) {
        if fault.times > 0 {
            self.lock().faults.push(fault);
        }
    }

    /// Removes every planned fault.
    pub fn clear_faults(&self) {
        self.lock().faults.clear();
    }

    /// The customer API under `/b2b/v1`, OAuth2 tokens at `/oauth2/token`,
    /// and the admin API under `/sim`.
    pub fn router(&self) -> Router {
        Router::new()
            .nest("/b2b/v1", api::routes())
            .nest("/sim", admin::routes())
            .nest("/oauth2", oauth::routes())
            .fallback(reply::unknown_route)
            .method_not_allowed_fallback(reply::method_not_allowed)
            .layer(DefaultBodyLimit::max(BODY_LIMIT))
            .with_state(self.clone())
    }

    /// Serves on an already-bound listener until `shutdown` resolves.
    pub async fn serve(
        self,
        listener: tokio::net::TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        axum::serve(listener, self.router())
            .with_graceful_shutdown(shutdown)
            .await
    }

    fn options(&self) -> &SimOptions {
        &self.shared.options
    }

    /// The state lock. It is never held across an await; a panic while
    /// holding it leaves plain data behind, so a poisoned lock is still usable.
    fn lock(&self) -> MutexGuard<'_, SimState> {
        self.shared
            .state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

/// The error and its sources, joined: "outer: inner: innermost".
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}
