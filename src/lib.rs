//! hdis-sync keeps a customer's ITSM in step with Lexmark's HDIS service cases.
//!
//! A map of the crate:
//! - [`config`]: figment configuration (defaults < TOML < `HDIS_SYNC_*` env), validation, secrets.
//! - [`lexmark`]: the HDIS client (every call, auth, pacing) and the tolerant case model.
//! - [`itsm`]: the `Connector` trait and one module per ticket system (`local`, `servicenow`).
//! - [`store`]: the SQLite state (cases, outbox, runs) and the local ticket store; the only SQL.
//! - [`sync`]: intake, poll, the pure `diff`, outbox delivery, and `run_cycle`, the one place
//!   that knows the order of things.
//! - [`scheduler`]: when cycles run (cron, no overlap, cancellable).
//! - [`sim`]: the HDIS simulator (axum) used by tests, the demo and integrators.
//! - [`http`]: the shared HTTP helper: capped bodies, `Retry-After`, retryability.
//! - [`telemetry`]: tracing to stderr and to daily rolling log files.
//! - [`cli`], [`app`]: the command line and what each command does.

pub mod app;
pub mod check;
pub mod cli;
pub mod config;
pub mod demo;
pub mod http;
pub mod itsm;
pub mod lexmark;
pub mod lock;
pub mod scheduler;
pub mod sim;
pub mod status;
pub mod store;
pub mod sync;
pub mod telemetry;
