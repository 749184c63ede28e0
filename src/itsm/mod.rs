//! The customer's ticket system, seen at the level of tickets.
//!
//! A connector knows nothing of Lexmark: it finds a ticket by correlation key,
//! creates one, adds a note (optionally moving the ticket's state), tells
//! whether a note carrying a marker is already there, and checks that it can
//! reach the system. Each connector keeps its own wire types.

pub mod local;
pub mod servicenow;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::config::{ItsmConfig, ItsmKind};
use crate::http::{HttpError, Retry};

/// A ticket in the customer's system: its internal id and the number people see.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TicketRef {
    pub id: String,
    pub number: String,
}

/// What to open for a new Lexmark case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewTicket {
    /// The Lexmark case number, stamped on the ticket so it can be found again.
    pub correlation_key: String,
    pub title: String,
    pub description: String,
    /// The Lexmark state at creation (mapped by connectors that map states).
    pub lexmark_state: Option<String>,
}

/// One note for an existing ticket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TicketUpdate {
    /// Unique key of the change; the note text ends with it, so a connector
    /// that can search notes can tell whether it was already delivered.
    pub marker: String,
    pub note: String,
    /// Set when the change is a Lexmark state change (for state mappings).
    pub lexmark_state: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum ConnectorError {
    #[error("{system} {action} failed: {source}")]
    Http {
        system: &'static str,
        action: &'static str,
        #[source]
        source: HttpError,
    },
    #[error("{system} {action}: {message}")]
    Rejected {
        system: &'static str,
        action: &'static str,
        message: String,
    },
    #[error("local ticket store: {0}")]
    Local(#[from] crate::store::StoreError),
    #[error("connector configuration: {0}")]
    Config(String),
}

impl ConnectorError {
    pub fn retry(&self) -> Retry {
        match self {
            ConnectorError::Http { source, .. } => source.retry(),
            ConnectorError::Local(e) if e.is_busy() => Retry::Transient { after: None },
            _ => Retry::Permanent,
        }
    }

    pub fn outcome_unknown(&self) -> bool {
        match self {
            ConnectorError::Http { source, .. } => source.outcome_unknown(),
            _ => false,
        }
    }
}

#[async_trait]
pub trait Connector: Send + Sync {
    /// Short name for logs ("local", "servicenow").
    fn name(&self) -> &'static str;

    /// The ticket stamped with this correlation key, if any.
    async fn find_by_correlation(&self, key: &str) -> Result<Option<TicketRef>, ConnectorError>;

    /// Opens a ticket stamped with `ticket.correlation_key`.
    async fn create(&self, ticket: &NewTicket) -> Result<TicketRef, ConnectorError>;

    /// Adds the update's note to the ticket (and moves its state when mapped).
    async fn update(&self, ticket: &TicketRef, update: &TicketUpdate)
    -> Result<(), ConnectorError>;

    /// Whether a note with this marker is already on the ticket; `None` when
    /// this system cannot tell.
    async fn has_marker(
        &self,
        ticket: &TicketRef,
        marker: &str,
    ) -> Result<Option<bool>, ConnectorError>;

    /// A read-only call proving reachability and credentials.
    async fn check(&self) -> Result<(), ConnectorError>;
}

/// Builds the configured connector (config-as-factory, a plain match).
pub fn build(
    config: &ItsmConfig,
    state_dir: &std::path::Path,
) -> Result<Box<dyn Connector>, ConnectorError> {
    match config.kind {
        ItsmKind::Local => Ok(Box::new(local::LocalConnector::open(
            &config.local.resolve_path(state_dir),
        )?)),
        ItsmKind::Servicenow => {
            let sn = config
                .servicenow
                .as_ref()
                .ok_or_else(|| ConnectorError::Config("[itsm.servicenow] is missing".into()))?;
            Ok(Box::new(servicenow::ServiceNowConnector::new(sn)?))
        }
    }
}
