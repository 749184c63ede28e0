//! The ServiceNow connector: the Table API (`/api/now/table/{table}`) with
//! HTTP Basic auth.
//!
//! A ticket is a record of the configured table (default `incident`); its
//! `sys_id` is the ticket id and its `number` the ticket number. The
//! correlation key goes into `correlation_id`, notes into the `work_notes`
//! (or `comments`) journal, and a note's marker is looked up in
//! `sys_journal_field`. ServiceNow drops a query term it does not understand
//! and may then answer with every row, so every answer to a query is checked
//! here rather than trusted.

mod wire;

use std::collections::BTreeMap;
use std::time::Duration;

use async_trait::async_trait;
use reqwest::{Client, Method, StatusCode, header::ACCEPT};
use secrecy::{ExposeSecret, SecretString};
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};
use tracing::warn;
use url::Url;

use self::wire::{Envelope, JournalRow, RecordRow};
use super::{Connector, ConnectorError, NewTicket, TicketRef, TicketUpdate};
use crate::config::ServiceNowConfig;
use crate::http;

const SYSTEM: &str = "ServiceNow";

/// Rows asked for by a lookup. Only one is expected; more leave room to see
/// that ServiceNow ignored the query.
const LOOKUP_LIMIT: usize = 10;

/// Fields of a created record that the connector owns.
const OWN_FIELDS: [&str; 4] = [
    "correlation_id",
    "correlation_display",
    "short_description",
    "description",
];

pub struct ServiceNowConnector {
    http: Client,
    instance: Url,
    table: String,
    username: String,
    password: SecretString,
    /// `work_notes` or `comments`.
    journal: &'static str,
    state_map: BTreeMap<String, String>,
    state_fields: BTreeMap<String, BTreeMap<String, String>>,
    create_fields: BTreeMap<String, String>,
    body_cap: usize,
}

impl std::fmt::Debug for ServiceNowConnector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServiceNowConnector")
            .field("instance", &self.instance.as_str())
            .field("table", &self.table)
            .field("username", &self.username)
            .field("journal", &self.journal)
            .field("state_map", &self.state_map)
            .finish_non_exhaustive()
    }
}

impl ServiceNowConnector {
    pub fn new(config: &ServiceNowConfig) -> Result<Self, ConnectorError> {
        let bad = |m: String| ConnectorError::Config(format!("itsm.servicenow.{m}"));
        let mut instance = Url::parse(&config.instance_url)
            .map_err(|e| bad(format!("instance_url {:?}: {e}", config.instance_url)))?;
        if !matches!(instance.scheme(), "http" | "https") || instance.cannot_be_a_base() {
            return Err(bad(format!(
                "instance_url {:?}: expected an http(s) URL",
                config.instance_url
            )));
        }
        if !instance.username().is_empty() || instance.password().is_some() {
            return Err(bad(
                "instance_url must not carry credentials; use username and password".into(),
            ));
        }
        instance.set_query(None);
        instance.set_fragment(None);
        if config.table.is_empty()
            || !config
                .table
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_')
        {
            return Err(bad(format!("table {:?} is not a table name", config.table)));
        }
        if let Some(k) = config
            .create_fields
            .keys()
            .find(|k| OWN_FIELDS.contains(&k.as_str()))
        {
            return Err(bad(format!(
                "create_fields.{k}: this field is set by hdis-sync itself"
            )));
        }
        let username = config
            .username
            .clone()
            .ok_or_else(|| bad("username is required".into()))?;
        let password = config
            .password
            .clone()
            .ok_or_else(|| bad("password is required".into()))?;
        if config.timeout_secs == 0 {
            return Err(bad("timeout_secs must be above 0".into()));
        }
        let http = Client::builder()
            .timeout(Duration::from_secs(config.timeout_secs))
            .connect_timeout(Duration::from_secs(config.timeout_secs.min(10)))
            .user_agent(concat!("hdis-sync/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| ConnectorError::Config(format!("HTTP client: {e}")))?;
        Ok(ServiceNowConnector {
            http,
            instance,
            table: config.table.clone(),
            username,
            password,
            journal: if config.work_notes {
                "work_notes"
            } else {
                "comments"
            },
            state_map: config.state_map.clone(),
            state_fields: config.state_fields.clone(),
            create_fields: config.create_fields.clone(),
            body_cap: http::DEFAULT_BODY_CAP,
        })
    }

    /// `{instance}/api/now/table/{table}[/{sys_id}]` with query parameters.
    fn url(&self, table: &str, sys_id: Option<&str>, params: &[(&str, &str)]) -> Url {
        let mut url = self.instance.clone();
        if let Ok(mut segments) = url.path_segments_mut() {
            segments
                .pop_if_empty()
                .extend(["api", "now", "table", table]);
            if let Some(id) = sys_id {
                segments.push(id);
            }
        }
        if !params.is_empty() {
            url.query_pairs_mut().extend_pairs(params);
        }
        url
    }

    /// One exchange; a non-2xx answer keeps its status and `Retry-After`
    /// (so `crate::http` decides retryability) and reads as ServiceNow's
    /// error message and detail when the body is an error envelope.
    async fn call<T: DeserializeOwned>(
        &self,
        action: &'static str,
        method: Method,
        url: Url,
        body: Option<&Value>,
    ) -> Result<T, ConnectorError> {
        let mut request = self
            .http
            .request(method, url)
            .basic_auth(&self.username, Some(self.password.expose_secret()))
            .header(ACCEPT, "application/json");
        if let Some(b) = body {
            request = request.json(b);
        }
        let fail = |source| ConnectorError::Http {
            system: SYSTEM,
            action,
            source,
        };
        let (_, bytes) = http::send(request, self.body_cap)
            .await
            .map_err(|e| fail(wire::readable(e)))?;
        http::decode(&bytes).map_err(fail)
    }

    fn map_state(&self, lexmark_state: Option<&str>) -> Option<&str> {
        lookup(&self.state_map, lexmark_state?).map(String::as_str)
    }

    /// Sets the mapped `state` of a Lexmark state on a record body, with the
    /// fields that go with it (e.g. `close_code`, `close_notes` for Resolved).
    fn apply_state(&self, body: &mut Map<String, Value>, lexmark_state: Option<&str>) {
        let Some(state) = self.map_state(lexmark_state) else {
            return;
        };
        body.insert("state".into(), state.into());
        let fields = lexmark_state.and_then(|s| lookup(&self.state_fields, s));
        for (k, v) in fields.into_iter().flatten() {
            body.insert(k.clone(), v.as_str().into());
        }
    }
}

/// A Lexmark-state-keyed value: exact match first, then ignoring case (keys
/// set through the environment arrive lower-cased).
fn lookup<'a, V>(map: &'a BTreeMap<String, V>, key: &str) -> Option<&'a V> {
    map.get(key).or_else(|| {
        map.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v)
    })
}

fn rejected(action: &'static str, message: String) -> ConnectorError {
    ConnectorError::Rejected {
        system: SYSTEM,
        action,
        message,
    }
}

#[async_trait]
impl Connector for ServiceNowConnector {
    fn name(&self) -> &'static str {
        "servicenow"
    }

    async fn find_by_correlation(&self, key: &str) -> Result<Option<TicketRef>, ConnectorError> {
        const ACTION: &str = "lookup by correlation_id";
        let key = wire::query_value("correlation key", key, wire::CORRELATION_ID_MAX)
            .map_err(|m| rejected(ACTION, m))?;
        let limit = LOOKUP_LIMIT.to_string();
        let url = self.url(
            &self.table,
            None,
            &[
                (
                    "sysparm_query",
                    &format!("correlation_id={key}^ORDERBYsys_created_on"),
                ),
                ("sysparm_fields", "sys_id,number,correlation_id"),
                ("sysparm_limit", &limit),
            ],
        );
        let rows: Envelope<Vec<RecordRow>> = self.call(ACTION, Method::GET, url, None).await?;
        let returned = rows.result.len();
        let (matching, others): (Vec<RecordRow>, Vec<RecordRow>) = rows
            .result
            .into_iter()
            .filter(|r| !r.sys_id.is_empty())
            .partition(|r| r.correlation_id.as_deref() == Some(key));
        // ServiceNow compares without regard to case; other keys are unrelated.
        let unrelated = others
            .iter()
            .filter(|r| {
                !r.correlation_id
                    .as_deref()
                    .is_some_and(|c| c.eq_ignore_ascii_case(key))
            })
            .count();
        if unrelated > 0 {
            warn!(key, table = %self.table, unrelated,
                "ServiceNow answered a correlation_id lookup with unrelated records; \
                 it did not apply the query (does the table have a correlation_id field?).");
        }
        if matching.len() > 1 {
            warn!(key, table = %self.table, count = matching.len(),
                ticket = matching[0].number.as_deref().unwrap_or_default(),
                "Several ServiceNow records carry this correlation key; using the oldest.");
        }
        match matching.into_iter().next() {
            Some(row) => Ok(Some(wire::ticket_ref(row))),
            // A full page of unrelated rows proves nothing about the rest.
            None if unrelated > 0 && returned >= LOOKUP_LIMIT => Err(rejected(
                ACTION,
                format!(
                    "the query correlation_id={key} was ignored on table {} (unrelated records \
                     came back), so whether a ticket exists cannot be told; check that the \
                     table has a correlation_id field readable by {}",
                    self.table, self.username
                ),
            )),
            None => Ok(None),
        }
    }

    async fn create(&self, ticket: &NewTicket) -> Result<TicketRef, ConnectorError> {
        const ACTION: &str = "create";
        let key = wire::query_value(
            "correlation key",
            &ticket.correlation_key,
            wire::CORRELATION_ID_MAX,
        )
        .map_err(|m| rejected(ACTION, m))?;
        let (short, cut) = wire::short_description(&ticket.title);
        let description = if cut {
            format!("{}\n\n{}", ticket.title, ticket.description)
        } else {
            ticket.description.clone()
        };
        let mut body: Map<String, Value> = self
            .create_fields
            .iter()
            .map(|(k, v)| (k.clone(), Value::from(v.as_str())))
            .collect();
        body.insert("correlation_id".into(), key.into());
        body.insert("correlation_display".into(), "Lexmark HDIS".into());
        body.insert("short_description".into(), short.into());
        body.insert("description".into(), description.into());
        self.apply_state(&mut body, ticket.lexmark_state.as_deref());
        let url = self.url(
            &self.table,
            None,
            &[("sysparm_fields", "sys_id,number,correlation_id")],
        );
        let created: Envelope<RecordRow> = self
            .call(ACTION, Method::POST, url, Some(&Value::Object(body)))
            .await?;
        let row = created.result;
        if row.sys_id.is_empty() {
            return Err(rejected(
                ACTION,
                "ServiceNow answered without the new record's sys_id".into(),
            ));
        }
        if row.correlation_id.as_deref() != Some(key) {
            warn!(key, table = %self.table, ticket = row.number.as_deref().unwrap_or_default(),
                "ServiceNow created the record but did not keep its correlation_id; \
                 it cannot be found again, so a retry could open a duplicate.");
        }
        Ok(wire::ticket_ref(row))
    }

    async fn update(
        &self,
        ticket: &TicketRef,
        update: &TicketUpdate,
    ) -> Result<(), ConnectorError> {
        const ACTION: &str = "update";
        let id = wire::sys_id(&ticket.id).map_err(|m| rejected(ACTION, m))?;
        let mut body = Map::new();
        body.insert(self.journal.into(), update.note.as_str().into());
        self.apply_state(&mut body, update.lexmark_state.as_deref());
        let url = self.url(&self.table, Some(id), &[("sysparm_fields", "sys_id")]);
        let _: Envelope<Value> = self
            .call(ACTION, Method::PATCH, url, Some(&Value::Object(body)))
            .await?;
        Ok(())
    }

    async fn has_marker(
        &self,
        ticket: &TicketRef,
        marker: &str,
    ) -> Result<Option<bool>, ConnectorError> {
        const ACTION: &str = "journal lookup";
        let id = wire::sys_id(&ticket.id).map_err(|m| rejected(ACTION, m))?;
        let marker = wire::query_value("marker", marker, 200).map_err(|m| rejected(ACTION, m))?;
        let limit = LOOKUP_LIMIT.to_string();
        let url = self.url(
            "sys_journal_field",
            None,
            &[
                (
                    "sysparm_query",
                    &format!("element_id={id}^element={}^valueLIKE{marker}", self.journal),
                ),
                ("sysparm_fields", "sys_id,element_id,value"),
                ("sysparm_limit", &limit),
            ],
        );
        let rows: Envelope<Vec<JournalRow>> = match self.call(ACTION, Method::GET, url, None).await
        {
            Ok(rows) => rows,
            Err(ConnectorError::Http { source, .. })
                if source.status() == Some(StatusCode::FORBIDDEN) =>
            {
                warn!(ticket = %ticket.number, user = %self.username, error = %source,
                    "ServiceNow does not let this user read sys_journal_field; \
                     whether the note is already there cannot be told.");
                return Ok(None);
            }
            Err(e) => return Err(e),
        };
        let returned = rows.result.len();
        let mut unrelated = 0;
        for row in &rows.result {
            if row.element_id == id && row.value.contains(marker) {
                return Ok(Some(true));
            }
            if row.element_id != id || !row.value.to_lowercase().contains(&marker.to_lowercase()) {
                unrelated += 1;
            }
        }
        if unrelated > 0 && returned >= LOOKUP_LIMIT {
            warn!(ticket = %ticket.number, marker,
                "ServiceNow answered a journal lookup with unrelated rows; \
                 whether the note is already there cannot be told.");
            return Ok(None);
        }
        Ok(Some(false))
    }

    async fn check(&self) -> Result<(), ConnectorError> {
        let url = self.url(
            &self.table,
            None,
            &[("sysparm_limit", "1"), ("sysparm_fields", "sys_id")],
        );
        let _: Envelope<Vec<Value>> = self.call("check", Method::GET, url, None).await?;
        Ok(())
    }
}
