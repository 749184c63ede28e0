//! A stateful fake of ServiceNow's Table API on 127.0.0.1 port 0.
//!
//! It keeps records per table and the `sys_journal_field` journal, checks
//! Basic auth, answers with ServiceNow's envelopes, and, like the real thing,
//! silently drops a query term naming a field it does not know (so a bad
//! query returns every row). Tests inspect its state, count its requests,
//! inject faults, and hold an answer back after its effect is stored (the
//! "request reached the server but the answer was lost" case).
//!
//! Query support: `^`-joined terms `field=v`, `field!=v`, `fieldLIKEv`,
//! `fieldSTARTSWITHv`, `fieldISEMPTY`, `fieldISNOTEMPTY`, `ORDERBYfield`,
//! `ORDERBYDESCfield`; comparisons ignore case, as on most instances.
//! `^OR` and `^NQ` are not supported (such terms are dropped).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use hdis_sync::config::ServiceNowConfig;
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};
use tokio::sync::{oneshot, watch};

pub const USERNAME: &str = "hdis.integration";
pub const PASSWORD: &str = "Sn0w-s3cret-pa55";
pub const JOURNAL_TABLE: &str = "sys_journal_field";

/// A record as the fake stores it: every value a string, as the API shows.
pub type Record = Map<String, Value>;

/// A record's field as text ("" when absent).
pub fn field(record: &Record, name: &str) -> String {
    record
        .get(name)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

const TASK_FIELDS: &[&str] = &[
    "sys_id",
    "number",
    "correlation_id",
    "correlation_display",
    "short_description",
    "description",
    "state",
    "active",
    "priority",
    "impact",
    "urgency",
    "category",
    "subcategory",
    "assignment_group",
    "assigned_to",
    "caller_id",
    "contact_type",
    "close_code",
    "close_notes",
    "opened_at",
    "sys_class_name",
    "sys_created_on",
    "sys_created_by",
    "sys_updated_on",
    "sys_updated_by",
    "work_notes",
    "comments",
];
const JOURNAL_FIELDS: &[&str] = &[
    "sys_id",
    "element_id",
    "element",
    "name",
    "value",
    "sys_created_on",
    "sys_created_by",
];
/// Journal fields: written to `sys_journal_field`, never stored on the record.
const JOURNAL_ELEMENTS: &[&str] = &["work_notes", "comments"];

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JournalEntry {
    pub sys_id: String,
    pub element_id: String,
    pub element: String,
    pub value: String,
}

#[derive(Debug, Clone)]
pub struct LoggedRequest {
    pub method: String,
    pub path: String,
    /// The raw query string (still percent-encoded).
    pub query: String,
    pub body: String,
}

/// An answer given instead of the real one (no effect is stored), `times`
/// times, to requests matching `on(method, path)` (all requests by default).
#[derive(Debug, Clone)]
pub struct Fault {
    method: Option<String>,
    path: Option<String>,
    times: usize,
    status: u16,
    content_type: String,
    body: String,
    retry_after: Option<String>,
}

impl Fault {
    pub fn status(status: u16) -> Fault {
        Fault {
            method: None,
            path: None,
            times: 1,
            status,
            content_type: "text/plain".into(),
            body: String::new(),
            retry_after: None,
        }
    }
    pub fn body(mut self, content_type: &str, body: impl Into<String>) -> Fault {
        self.content_type = content_type.into();
        self.body = body.into();
        self
    }
    pub fn json(self, body: Value) -> Fault {
        self.body("application/json", body.to_string())
    }
    pub fn retry_after(mut self, value: &str) -> Fault {
        self.retry_after = Some(value.into());
        self
    }
    pub fn times(mut self, n: usize) -> Fault {
        self.times = n;
        self
    }
    /// Only requests with this method whose path is `path` or below it.
    pub fn on(mut self, method: &str, path: &str) -> Fault {
        self.method = Some(method.into());
        self.path = Some(path.into());
        self
    }
}

/// A request whose effect the fake stores but whose answer it holds back
/// until [`Held::release`] (or drop), or until its delay has passed.
pub struct Held {
    arrived: watch::Receiver<bool>,
    release: Option<oneshot::Sender<()>>,
}

impl Held {
    /// Returns once the held request has arrived and its effect is stored.
    pub async fn arrived(&self) {
        let mut rx = self.arrived.clone();
        let _ = rx.wait_for(|a| *a).await;
    }
    /// Lets the answer go.
    pub fn release(mut self) {
        if let Some(tx) = self.release.take() {
            let _ = tx.send(());
        }
    }
}

struct HoldSpec {
    method: String,
    path: String,
    delay: Option<Duration>,
    arrived: watch::Sender<bool>,
    release: oneshot::Receiver<()>,
}

struct Table {
    fields: BTreeSet<String>,
    number_prefix: Option<String>,
    next_number: u64,
    rows: Vec<Record>,
}

impl Table {
    fn new(fields: &[&str], number_prefix: Option<&str>) -> Table {
        Table {
            fields: fields.iter().map(|f| f.to_string()).collect(),
            number_prefix: number_prefix.map(Into::into),
            next_number: 10001,
            rows: Vec::new(),
        }
    }
}

#[derive(Default)]
struct Inner {
    tables: BTreeMap<String, Table>,
    ignored_query_fields: BTreeSet<String>,
    faults: Vec<Fault>,
    holds: Vec<HoldSpec>,
    log: Vec<LoggedRequest>,
    seq: u64,
}

type Shared = Arc<Mutex<Inner>>;

pub struct FakeServiceNow {
    url: String,
    inner: Shared,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for FakeServiceNow {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl FakeServiceNow {
    /// Binds 127.0.0.1:0, then serves in a task; ready when this returns.
    pub async fn start() -> FakeServiceNow {
        let mut inner = Inner::default();
        inner
            .tables
            .insert("incident".into(), Table::new(TASK_FIELDS, Some("INC")));
        inner
            .tables
            .insert(JOURNAL_TABLE.into(), Table::new(JOURNAL_FIELDS, None));
        let inner = Arc::new(Mutex::new(inner));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("local addr");
        let app = Router::new().fallback(handle).with_state(inner.clone());
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        FakeServiceNow {
            url: format!("http://{addr}"),
            inner,
            server,
        }
    }

    pub fn url(&self) -> String {
        self.url.clone()
    }

    /// A connector configuration pointing here with the right credentials.
    pub fn config(&self) -> ServiceNowConfig {
        ServiceNowConfig {
            instance_url: self.url(),
            username: Some(USERNAME.into()),
            password: Some(PASSWORD.to_string().into()),
            password_file: None,
            password_credential: None,
            table: "incident".into(),
            work_notes: true,
            state_map: BTreeMap::new(),
            state_fields: BTreeMap::new(),
            create_fields: BTreeMap::new(),
            timeout_secs: 5,
            allow_insecure_http: false,
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Adds a task-like table (numbers `{prefix}0010001`, …).
    pub fn add_table(&self, name: &str, number_prefix: &str) {
        self.lock()
            .tables
            .insert(name.into(), Table::new(TASK_FIELDS, Some(number_prefix)));
    }

    /// Stores a record directly, as if someone had created it.
    pub fn insert(&self, table: &str, fields: Value) -> Record {
        let Value::Object(fields) = fields else {
            panic!("insert takes a JSON object")
        };
        self.lock()
            .insert(table, &fields, USERNAME)
            .expect("known table")
    }

    /// From now on, query terms naming `field` are dropped, as ServiceNow
    /// does with a term it finds invalid (the field is still stored).
    pub fn ignore_query_field(&self, field: &str) {
        self.lock().ignored_query_fields.insert(field.into());
    }

    pub fn records(&self, table: &str) -> Vec<Record> {
        self.lock()
            .tables
            .get(table)
            .map(|t| t.rows.clone())
            .unwrap_or_default()
    }

    /// The first record of any ticket table whose `correlation_id` is `key`.
    pub fn record_by_correlation(&self, key: &str) -> Option<Record> {
        let inner = self.lock();
        inner
            .tables
            .iter()
            .filter(|(name, _)| name.as_str() != JOURNAL_TABLE)
            .flat_map(|(_, t)| t.rows.iter())
            .find(|r| r.get("correlation_id").and_then(Value::as_str) == Some(key))
            .cloned()
    }

    /// The journal entries (work notes and comments) of a record, oldest first.
    pub fn journal(&self, sys_id: &str) -> Vec<JournalEntry> {
        let s = |r: &Record, k: &str| {
            r.get(k)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string()
        };
        self.records(JOURNAL_TABLE)
            .iter()
            .filter(|r| s(r, "element_id") == sys_id)
            .map(|r| JournalEntry {
                sys_id: s(r, "sys_id"),
                element_id: s(r, "element_id"),
                element: s(r, "element"),
                value: s(r, "value"),
            })
            .collect()
    }

    pub fn requests(&self) -> Vec<LoggedRequest> {
        self.lock().log.clone()
    }

    /// How many requests came with this method to exactly this path.
    pub fn request_count(&self, method: &str, path: &str) -> usize {
        self.lock()
            .log
            .iter()
            .filter(|r| r.method.eq_ignore_ascii_case(method) && r.path == path)
            .count()
    }

    pub fn fail(&self, fault: Fault) {
        self.lock().faults.push(fault);
    }

    /// Holds the answer to the next request with `method` to `path` (or
    /// below it) until the returned [`Held`] is released or dropped.
    pub fn hold_next(&self, method: &str, path: &str) -> Held {
        self.hold(method, path, None)
    }

    /// Like [`hold_next`](Self::hold_next), but answers after `delay`.
    pub fn delay_next(&self, method: &str, path: &str, delay: Duration) -> Held {
        self.hold(method, path, Some(delay))
    }

    fn hold(&self, method: &str, path: &str, delay: Option<Duration>) -> Held {
        let (arrived_tx, arrived) = watch::channel(false);
        let (release, release_rx) = oneshot::channel();
        self.lock().holds.push(HoldSpec {
            method: method.into(),
            path: path.into(),
            delay,
            arrived: arrived_tx,
            release: release_rx,
        });
        Held {
            arrived,
            release: Some(release),
        }
    }
}

/// `path` is `want` or below it.
fn under(path: &str, want: &str) -> bool {
    path == want || path.starts_with(&format!("{}/", want.trim_end_matches('/')))
}

fn as_text(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn now() -> String {
    chrono::Utc::now().format("%Y-%m-%d %H:%M:%S").to_string()
}

impl Inner {
    fn new_sys_id(&mut self, table: &str) -> String {
        self.seq += 1;
        let nanos = chrono::Utc::now().timestamp_nanos_opt().unwrap_or_default();
        let digest = Sha256::digest(format!("{table}:{}:{nanos}", self.seq).as_bytes());
        hex::encode(&digest[..16])
    }

    fn insert(&mut self, table: &str, fields: &Map<String, Value>, user: &str) -> Option<Record> {
        let sys_id = self.new_sys_id(table);
        let t = self.tables.get_mut(table)?;
        let stamp = now();
        let mut r: Record = t
            .fields
            .iter()
            .map(|f| (f.clone(), Value::from("")))
            .collect();
        for f in JOURNAL_ELEMENTS {
            r.remove(*f);
        }
        if let Some(prefix) = &t.number_prefix {
            r.insert(
                "number".into(),
                format!("{prefix}{:07}", t.next_number).into(),
            );
            r.insert("state".into(), "1".into());
            r.insert("active".into(), "true".into());
            r.insert("sys_class_name".into(), table.into());
            r.insert("opened_at".into(), stamp.clone().into());
            t.next_number += 1;
        }
        r.insert("sys_id".into(), sys_id.clone().into());
        r.insert("sys_created_on".into(), stamp.into());
        r.insert("sys_created_by".into(), user.into());
        t.rows.push(r);
        self.update(table, &sys_id, fields, user)
    }

    /// Sets known fields (unknown ones are dropped, as ServiceNow does) and
    /// turns journal fields into `sys_journal_field` entries.
    fn update(
        &mut self,
        table: &str,
        sys_id: &str,
        fields: &Map<String, Value>,
        user: &str,
    ) -> Option<Record> {
        let mut notes = Vec::new();
        let t = self.tables.get_mut(table)?;
        let r = t
            .rows
            .iter_mut()
            .find(|r| r.get("sys_id").and_then(Value::as_str) == Some(sys_id))?;
        for (k, v) in fields {
            let protected = matches!(
                k.as_str(),
                "sys_id" | "number" | "sys_created_on" | "sys_created_by"
            );
            if JOURNAL_ELEMENTS.contains(&k.as_str()) && t.fields.contains(k) {
                if !as_text(v).is_empty() {
                    notes.push((k.clone(), as_text(v)));
                }
            } else if t.fields.contains(k) && !protected {
                r.insert(k.clone(), as_text(v).into());
            }
        }
        r.insert("sys_updated_on".into(), now().into());
        r.insert("sys_updated_by".into(), user.into());
        let record = r.clone();
        for (element, value) in notes {
            let entry =
                json!({"element_id": sys_id, "element": element, "name": table, "value": value});
            if let Value::Object(entry) = entry {
                self.insert(JOURNAL_TABLE, &entry, user);
            }
        }
        Some(record)
    }

    /// Rows of `table` matching an encoded query; unknown terms are dropped.
    fn select(&self, table: &Table, query: &str) -> Vec<Record> {
        let known = |f: &str| table.fields.contains(f) && !self.ignored_query_fields.contains(f);
        let mut conditions = Vec::new();
        let mut order: Vec<(String, bool)> = Vec::new();
        for term in query.split('^').filter(|t| !t.is_empty()) {
            let descending = term.strip_prefix("ORDERBYDESC").map(|f| (f, true));
            if let Some((f, desc)) = descending.or(term.strip_prefix("ORDERBY").map(|f| (f, false)))
            {
                if known(f) {
                    order.push((f.into(), desc));
                }
                continue;
            }
            let split = term
                .find(|c: char| !(c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'))
                .unwrap_or(term.len());
            let (field, rest) = term.split_at(split);
            let op = [
                "!=",
                "=",
                "NOTLIKE",
                "LIKE",
                "STARTSWITH",
                "ISNOTEMPTY",
                "ISEMPTY",
            ]
            .into_iter()
            .find(|op| rest.starts_with(op));
            if let (true, Some(op)) = (known(field), op) {
                conditions.push((field.to_string(), op, rest[op.len()..].to_lowercase()));
            }
        }
        let mut rows: Vec<Record> = table
            .rows
            .iter()
            .filter(|r| {
                conditions.iter().all(|(f, op, v)| {
                    let have = r.get(f).map(as_text).unwrap_or_default().to_lowercase();
                    match *op {
                        "=" => have == *v,
                        "!=" => have != *v,
                        "LIKE" => have.contains(v.as_str()),
                        "NOTLIKE" => !have.contains(v.as_str()),
                        "STARTSWITH" => have.starts_with(v.as_str()),
                        "ISEMPTY" => have.is_empty(),
                        _ => !have.is_empty(),
                    }
                })
            })
            .cloned()
            .collect();
        for (field, desc) in order.iter().rev() {
            rows.sort_by(|a, b| {
                let (x, y) = (a.get(field).map(as_text), b.get(field).map(as_text));
                if *desc { y.cmp(&x) } else { x.cmp(&y) }
            });
        }
        rows
    }
}

fn envelope(status: StatusCode, message: &str, detail: Option<&str>) -> Response {
    let body = json!({"error": {"message": message, "detail": detail}, "status": "failure"});
    (
        status,
        [(header::CONTENT_TYPE, "application/json;charset=UTF-8")],
        body.to_string(),
    )
        .into_response()
}

fn result(status: StatusCode, result: Value, total: Option<usize>) -> Response {
    let mut response = (
        status,
        [(header::CONTENT_TYPE, "application/json;charset=UTF-8")],
        json!({ "result": result }).to_string(),
    )
        .into_response();
    if let Some(n) = total {
        response
            .headers_mut()
            .insert("X-Total-Count", HeaderValue::from(n));
    }
    response
}

fn project(record: &Record, fields: Option<&str>) -> Value {
    match fields {
        None => Value::Object(record.clone()),
        Some(list) => Value::Object(
            list.split(',')
                .map(str::trim)
                .filter_map(|f| record.get(f).map(|v| (f.to_string(), v.clone())))
                .collect(),
        ),
    }
}

fn authorized(headers: &HeaderMap) -> bool {
    let Some(value) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let Some(encoded) = value.strip_prefix("Basic ") else {
        return false;
    };
    base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .is_some_and(|creds| creds == format!("{USERNAME}:{PASSWORD}"))
}

async fn handle(
    State(shared): State<Shared>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = uri.path().to_string();
    let (response, hold) = {
        let mut inner = shared.lock().unwrap_or_else(|e| e.into_inner());
        inner.log.push(LoggedRequest {
            method: method.to_string(),
            path: path.clone(),
            query: uri.query().unwrap_or_default().to_string(),
            body: String::from_utf8_lossy(&body).into_owned(),
        });
        let fault = inner.faults.iter_mut().position(|f| {
            f.times > 0
                && f.method
                    .as_ref()
                    .is_none_or(|m| m.eq_ignore_ascii_case(method.as_str()))
                && f.path.as_ref().is_none_or(|p| under(&path, p))
        });
        let response = match fault {
            Some(i) => {
                let f = &mut inner.faults[i];
                f.times -= 1;
                let mut r = (
                    StatusCode::from_u16(f.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
                    [(header::CONTENT_TYPE, f.content_type.clone())],
                    f.body.clone(),
                )
                    .into_response();
                if let Some(ra) = f
                    .retry_after
                    .as_deref()
                    .and_then(|v| HeaderValue::from_str(v).ok())
                {
                    r.headers_mut().insert(header::RETRY_AFTER, ra);
                }
                r
            }
            None if !authorized(&headers) => {
                let mut r = envelope(
                    StatusCode::UNAUTHORIZED,
                    "User Not Authenticated",
                    Some("Required to provide Auth information"),
                );
                r.headers_mut().insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static("BASIC realm=\"Service-now\""),
                );
                r
            }
            None => route(
                &mut inner,
                &method,
                &path,
                uri.query().unwrap_or_default(),
                &body,
            ),
        };
        let hold = inner
            .holds
            .iter()
            .position(|h| h.method.eq_ignore_ascii_case(method.as_str()) && under(&path, &h.path));
        (response, hold.map(|i| inner.holds.remove(i)))
    };
    if let Some(h) = hold {
        let _ = h.arrived.send(true);
        match h.delay {
            Some(d) => {
                tokio::select! { _ = h.release => {}, _ = tokio::time::sleep(d) => {} }
            }
            None => {
                let _ = h.release.await;
            }
        }
    }
    response
}

fn route(inner: &mut Inner, method: &Method, path: &str, query: &str, body: &[u8]) -> Response {
    let params: BTreeMap<String, String> = url::form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect();
    let fields = params.get("sysparm_fields").map(String::as_str);
    let segments: Vec<&str> = match path.strip_prefix("/api/now/table/") {
        Some(rest) => rest.split('/').filter(|s| !s.is_empty()).collect(),
        None => Vec::new(),
    };
    let (table, sys_id) = match segments.as_slice() {
        [t] => (*t, None),
        [t, id] => (*t, Some(*id)),
        _ => {
            return envelope(
                StatusCode::BAD_REQUEST,
                "Requested URI does not represent any resource",
                None,
            );
        }
    };
    if !inner.tables.contains_key(table) {
        return envelope(
            StatusCode::BAD_REQUEST,
            &format!("Invalid table {table}"),
            None,
        );
    }
    let not_found = || {
        envelope(
            StatusCode::NOT_FOUND,
            "No Record found",
            Some("Record doesn't exist or ACL restricts the record retrieval"),
        )
    };
    let bad_json = || {
        envelope(
            StatusCode::BAD_REQUEST,
            "Exception while reading request",
            Some("The payload is not valid JSON."),
        )
    };
    let input = || match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(m)) => Some(m),
        _ => None,
    };
    let lookup = |inner: &Inner, id: &str| {
        inner.tables[table]
            .rows
            .iter()
            .find(|r| r.get("sys_id").and_then(Value::as_str) == Some(id))
            .cloned()
    };
    match (method.as_str(), sys_id) {
        ("GET", None) => {
            let rows = inner.select(
                &inner.tables[table],
                params
                    .get("sysparm_query")
                    .map(String::as_str)
                    .unwrap_or(""),
            );
            let limit = params
                .get("sysparm_limit")
                .and_then(|l| l.parse().ok())
                .unwrap_or(10_000);
            let offset = params
                .get("sysparm_offset")
                .and_then(|o| o.parse().ok())
                .unwrap_or(0);
            let page = rows
                .iter()
                .skip(offset)
                .take(limit)
                .map(|r| project(r, fields))
                .collect();
            result(StatusCode::OK, Value::Array(page), Some(rows.len()))
        }
        ("GET", Some(id)) => match lookup(inner, id) {
            Some(r) => result(StatusCode::OK, project(&r, fields), None),
            None => not_found(),
        },
        ("POST", None) => match input() {
            None => bad_json(),
            Some(m) => inner
                .insert(table, &m, USERNAME)
                .map_or_else(not_found, |r| {
                    result(StatusCode::CREATED, project(&r, fields), None)
                }),
        },
        ("PATCH" | "PUT", Some(id)) => match (lookup(inner, id), input()) {
            (None, _) => not_found(),
            (_, None) => bad_json(),
            (Some(_), Some(m)) => inner
                .update(table, id, &m, USERNAME)
                .map_or_else(not_found, |r| {
                    result(StatusCode::OK, project(&r, fields), None)
                }),
        },
        ("DELETE", Some(id)) => {
            let rows = &mut inner.tables.get_mut(table).expect("checked above").rows;
            let before = rows.len();
            rows.retain(|r| r.get("sys_id").and_then(Value::as_str) != Some(id));
            if rows.len() == before {
                not_found()
            } else {
                StatusCode::NO_CONTENT.into_response()
            }
        }
        _ => envelope(
            StatusCode::METHOD_NOT_ALLOWED,
            "Method not Supported",
            Some("The HTTP method is not supported by this resource"),
        ),
    }
}
