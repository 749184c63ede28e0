//! The sync: one cycle is intake → deliver → poll → deliver.
//!
//! [`Engine::run_cycle`] is the one place that knows the order of things;
//! [`diff`] and [`intake::decide`] are pure; the store commits every change
//! to the outbox before delivery and marks it done only after delivery.

pub mod deliver;
pub mod diff;
pub mod dry_run;
pub mod intake;
pub mod payload;
pub mod poll;
mod retry;

use chrono::Utc;
use serde::Serialize;
use tokio_util::sync::CancellationToken;
use tracing::{Instrument, info, warn};

use crate::config::{Config, SyncConfig};
use crate::itsm::{self, Connector};
use crate::lexmark::{CasesQuery, LexmarkClient};
use crate::store::Store;

pub use retry::RetryPolicy;

/// Counts of one cycle, logged at its end and stored in `runs`.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct CycleReport {
    pub cases_listed: usize,
    pub cases_rejected: usize,
    pub new_cases: usize,
    pub skipped_linked_elsewhere: usize,
    pub write_backs_queued: usize,
    pub tickets_created: usize,
    pub tickets_found_existing: usize,
    pub write_backs_done: usize,
    pub cases_polled: usize,
    pub poll_errors: usize,
    pub changes_detected: usize,
    pub updates_delivered: usize,
    pub updates_already_present: usize,
    pub delivery_failures: usize,
    pub items_parked_dead: usize,
    /// Why the cycle could not do its job, if it could not.
    pub failure: Option<String>,
    /// Lexmark could not be reached (connection refused, timeout).
    pub lexmark_unreachable: bool,
    /// Deliveries stopped for the rest of the cycle (credentials refused).
    pub deliveries_stopped: bool,
    /// Shutdown was requested before the cycle ended.
    pub interrupted: bool,
}

impl CycleReport {
    pub fn outcome(&self) -> &'static str {
        if self.interrupted {
            "interrupted"
        } else if self.failure.is_some() {
            "failed"
        } else {
            "ok"
        }
    }
}

/// Per-run overrides from the command line.
#[derive(Debug, Clone, Default)]
pub struct CycleOptions {
    /// Overrides `sync.past_days` (`--past-days`).
    pub past_days: Option<u32>,
}

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    #[error(transparent)]
    Lexmark(#[from] crate::lexmark::Error),
    #[error(transparent)]
    Connector(#[from] crate::itsm::ConnectorError),
}

/// Everything a cycle needs.
pub struct Engine {
    pub lexmark: LexmarkClient,
    pub connector: Box<dyn Connector>,
    pub store: Store,
    pub settings: SyncConfig,
    pub retry: RetryPolicy,
}

impl Engine {
    pub fn new(
        lexmark: LexmarkClient,
        connector: Box<dyn Connector>,
        store: Store,
        settings: SyncConfig,
    ) -> Engine {
        let retry = RetryPolicy::from_config(&settings);
        Engine {
            lexmark,
            connector,
            store,
            settings,
            retry,
        }
    }

    /// Builds the engine from a validated configuration.
    pub fn from_config(config: &Config) -> Result<Engine, EngineError> {
        let store = Store::open(&config.state.path)?;
        let connector = itsm::build(&config.itsm, &config.state.dir())?;
        let lexmark = LexmarkClient::new(&config.lexmark, config.sync.max_requests_per_second)?;
        Ok(Engine::new(lexmark, connector, store, config.sync.clone()))
    }

    /// Runs one whole cycle and records it in `runs`. Per-case problems are
    /// recorded on the case and never stop the cycle.
    pub async fn run_cycle(
        &self,
        options: &CycleOptions,
        shutdown: &CancellationToken,
    ) -> CycleReport {
        let started = Utc::now();
        let run_id = self.store.begin_run(started).ok();
        let span = tracing::info_span!("cycle", run = run_id.unwrap_or_default());
        let report = self.cycle(options, shutdown).instrument(span).await;
        if let Some(id) = run_id {
            let counts = serde_json::to_value(&report).unwrap_or_default();
            if let Err(e) = self.store.finish_run(
                id,
                report.outcome(),
                &counts,
                report.failure.as_deref(),
                Utc::now(),
            ) {
                warn!(error = %e, "Could not record the end of the run.");
            }
        }
        let took = (Utc::now() - started).num_milliseconds();
        info!(
            outcome = report.outcome(),
            took_ms = took,
            new_cases = report.new_cases,
            tickets_created = report.tickets_created,
            write_backs = report.write_backs_done,
            polled = report.cases_polled,
            changes = report.changes_detected,
            updates = report.updates_delivered,
            poll_errors = report.poll_errors,
            failures = report.delivery_failures,
            dead = report.items_parked_dead,
            "Cycle finished."
        );
        report
    }

    async fn cycle(&self, options: &CycleOptions, shutdown: &CancellationToken) -> CycleReport {
        let mut report = CycleReport::default();
        let query = CasesQuery {
            past_days: Some(options.past_days.unwrap_or(self.settings.past_days)),
            case_origin: self.settings.case_origin.clone(),
            case_type: self.settings.case_type.clone(),
        };
        poll::intake(self, &query, &mut report, shutdown).await;
        if shutdown.is_cancelled() {
            report.interrupted = true;
            return report;
        }
        let mut blocked = std::collections::HashSet::new();
        deliver::deliver_pending(self, &mut report, &mut blocked, shutdown).await;
        // A bad GET CASES answer must not stop the open cases' updates; an
        // unreachable Lexmark would only make every STATUS fail too.
        if !report.lexmark_unreachable && !shutdown.is_cancelled() {
            poll::poll_open_cases(self, &mut report, shutdown).await;
            deliver::deliver_pending(self, &mut report, &mut blocked, shutdown).await;
        }
        if shutdown.is_cancelled() {
            report.interrupted = true;
        }
        report
    }
}
