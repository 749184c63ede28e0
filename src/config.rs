//! Configuration: defaults < TOML file < `HDIS_SYNC_SECTION__KEY` environment.
//!
//! Unknown keys are an error. Every problem found by validation is reported at
//! once, each naming its key and what was expected. Secrets are held in
//! `secrecy` types and may come from the file, the environment, a file named
//! by `*_file`, or systemd's `$CREDENTIALS_DIRECTORY` via `*_credential`.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use figment::providers::{Format, Toml};

use figment::Figment;
use secrecy::SecretString;
use serde::Deserialize;

pub const DEFAULT_CONFIG_PATH: &str = "/etc/hdis-sync/hdis-sync.toml";
pub const ENV_PREFIX: &str = "HDIS_SYNC_";

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct Config {
    #[serde(default)]
    pub lexmark: LexmarkConfig,
    #[serde(default)]
    pub sync: SyncConfig,
    #[serde(default)]
    pub state: StateConfig,
    #[serde(default)]
    pub log: LogConfig,
    #[serde(default)]
    pub itsm: ItsmConfig,
}

#[derive(Debug, Clone, Copy, Deserialize, Default, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum LexmarkAuth {
    #[default]
    Basic,
    Oauth2,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LexmarkConfig {
    #[serde(default, deserialize_with = "lenient_opt_string")]
    pub base_url: Option<String>,
    #[serde(default)]
    pub auth: LexmarkAuth,
    #[serde(default, deserialize_with = "lenient_opt_string")]
    pub username: Option<String>,
    #[serde(default, deserialize_with = "lenient_opt_secret")]
    pub password: Option<SecretString>,
    pub password_file: Option<PathBuf>,
    pub password_credential: Option<String>,
    #[serde(default, deserialize_with = "lenient_opt_string")]
    pub token_url: Option<String>,
    #[serde(default, deserialize_with = "lenient_opt_string")]
    pub client_id: Option<String>,
    #[serde(default, deserialize_with = "lenient_opt_secret")]
    pub client_secret: Option<SecretString>,
    pub client_secret_file: Option<PathBuf>,
    pub client_secret_credential: Option<String>,
    #[serde(default, deserialize_with = "lenient_opt_string")]
    pub scope: Option<String>,
    #[serde(default = "d_timeout")]
    pub timeout_secs: u64,
    #[serde(default)]
    pub allow_insecure_http: bool,
}

impl Default for LexmarkConfig {
    fn default() -> Self {
        LexmarkConfig {
            base_url: None,
            auth: LexmarkAuth::Basic,
            username: None,
            password: None,
            password_file: None,
            password_credential: None,
            token_url: None,
            client_id: None,
            client_secret: None,
            client_secret_file: None,
            client_secret_credential: None,
            scope: None,
            timeout_secs: d_timeout(),
            allow_insecure_http: false,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SyncConfig {
    #[serde(default = "d_schedule", deserialize_with = "lenient_string")]
    pub schedule: String,
    #[serde(default = "d_timezone", deserialize_with = "lenient_string")]
    pub timezone: String,
    #[serde(default = "d_past_days")]
    pub past_days: u32,
    #[serde(default, deserialize_with = "lenient_opt_string")]
    pub case_origin: Option<String>,
    #[serde(default, deserialize_with = "lenient_opt_string")]
    pub case_type: Option<String>,
    #[serde(default = "d_poll_concurrency")]
    pub poll_concurrency: usize,
    /// Client-side cap on Lexmark requests per second; 0 means no cap.
    #[serde(default = "d_rps")]
    pub max_requests_per_second: u32,
    #[serde(default = "d_grace")]
    pub closed_grace_days: u32,
    /// Attempts across cycles before an outbox item is parked as dead.
    #[serde(default = "d_max_attempts")]
    pub max_attempts: u32,
    /// Attempts within one cycle for a transient failure.
    #[serde(default = "d_retries_per_cycle")]
    pub retries_per_cycle: u32,
    /// First backoff wait within a cycle, in milliseconds (doubles, with jitter).
    #[serde(default = "d_retry_base_ms")]
    pub retry_base_ms: u64,
    /// Cap on one backoff wait within a cycle, in seconds.
    #[serde(default = "d_retry_max_wait")]
    pub retry_max_wait_secs: u64,
}

impl Default for SyncConfig {
    fn default() -> Self {
        SyncConfig {
            schedule: d_schedule(),
            timezone: d_timezone(),
            past_days: d_past_days(),
            case_origin: None,
            case_type: None,
            poll_concurrency: d_poll_concurrency(),
            max_requests_per_second: d_rps(),
            closed_grace_days: d_grace(),
            max_attempts: d_max_attempts(),
            retries_per_cycle: d_retries_per_cycle(),
            retry_base_ms: d_retry_base_ms(),
            retry_max_wait_secs: d_retry_max_wait(),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StateConfig {
    /// The SQLite state file; its directory holds the lock and local tickets.
    #[serde(default = "d_state_path")]
    pub path: PathBuf,
}

impl Default for StateConfig {
    fn default() -> Self {
        StateConfig {
            path: d_state_path(),
        }
    }
}

impl StateConfig {
    pub fn dir(&self) -> PathBuf {
        match self.path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        }
    }
}

#[derive(Debug, Clone, Copy, Deserialize, Default, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogConfig {
    /// Directory of the daily rolling log files; unset means stderr only.
    pub dir: Option<PathBuf>,
    #[serde(default = "d_level", deserialize_with = "lenient_string")]
    pub level: String,
    #[serde(default)]
    pub format: LogFormat,
    #[serde(default = "d_keep_files")]
    pub keep_files: usize,
}

impl Default for LogConfig {
    fn default() -> Self {
        LogConfig {
            dir: None,
            level: d_level(),
            format: LogFormat::Text,
            keep_files: d_keep_files(),
        }
    }
}

#[derive(Debug, Clone, Copy, Deserialize, Default, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum ItsmKind {
    #[default]
    Local,
    Servicenow,
}

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct ItsmConfig {
    #[serde(default)]
    pub kind: ItsmKind,
    #[serde(default)]
    pub local: LocalConfig,
    pub servicenow: Option<ServiceNowConfig>,
}

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct LocalConfig {
    /// The local ticket store; default `tickets.db` beside the state file.
    pub path: Option<PathBuf>,
}

impl LocalConfig {
    pub fn resolve_path(&self, state_dir: &Path) -> PathBuf {
        self.path
            .clone()
            .unwrap_or_else(|| state_dir.join("tickets.db"))
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceNowConfig {
    #[serde(deserialize_with = "lenient_string")]
    pub instance_url: String,
    #[serde(default, deserialize_with = "lenient_opt_string")]
    pub username: Option<String>,
    #[serde(default, deserialize_with = "lenient_opt_secret")]
    pub password: Option<SecretString>,
    pub password_file: Option<PathBuf>,
    pub password_credential: Option<String>,
    /// Table the tickets live in.
    #[serde(default = "d_sn_table", deserialize_with = "lenient_string")]
    pub table: String,
    /// Updates go to `work_notes` (true) or customer-visible `comments` (false).
    #[serde(default = "d_true")]
    pub work_notes: bool,
    /// Lexmark state → value of the record's `state` field, e.g. Resolved = "6".
    #[serde(default)]
    pub state_map: BTreeMap<String, String>,
    /// Fields set together with a mapped state, by Lexmark state; e.g.
    /// `[itsm.servicenow.state_fields.Resolved] close_code = "Solved (Permanently)"`.
    #[serde(default)]
    pub state_fields: BTreeMap<String, BTreeMap<String, String>>,
    /// Extra fields set on every created record (e.g. assignment_group, caller_id).
    #[serde(default)]
    pub create_fields: BTreeMap<String, String>,
    #[serde(default = "d_timeout")]
    pub timeout_secs: u64,
    #[serde(default)]
    pub allow_insecure_http: bool,
}

fn d_timeout() -> u64 {
    30
}
fn d_schedule() -> String {
    "0 */5 * * * *".into()
}
fn d_timezone() -> String {
    "UTC".into()
}
fn d_past_days() -> u32 {
    7
}
fn d_poll_concurrency() -> usize {
    4
}
fn d_rps() -> u32 {
    10
}
fn d_grace() -> u32 {
    14
}
fn d_max_attempts() -> u32 {
    10
}
fn d_retries_per_cycle() -> u32 {
    3
}
fn d_retry_base_ms() -> u64 {
    500
}
fn d_retry_max_wait() -> u64 {
    30
}
fn d_state_path() -> PathBuf {
    PathBuf::from("/var/lib/hdis-sync/state.db")
}
fn d_level() -> String {
    "info".into()
}
fn d_keep_files() -> usize {
    14
}
fn d_sn_table() -> String {
    "incident".into()
}
fn d_true() -> bool {
    true
}

/// One thing wrong with the configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub key: String,
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.key, self.message)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("configuration file {0} does not exist")]
    Missing(PathBuf),
    #[error("{0}")]
    Parse(String),
    #[error("{} configuration problem(s):\n{}", .0.len(), .0.iter().map(|p| format!("  - {p}")).collect::<Vec<_>>().join("\n"))]
    Invalid(Vec<Problem>),
}

impl Config {
    /// Loads the file (when given or present at the default path) and the
    /// environment, then validates and resolves secrets.
    pub fn load(path: Option<&Path>) -> Result<Config, ConfigError> {
        let mut config = Config::extract(path)?;
        let problems = config.prepare();
        if problems.is_empty() {
            Ok(config)
        } else {
            Err(ConfigError::Invalid(problems))
        }
    }

    /// Parses file + environment without semantic validation.
    pub fn extract(path: Option<&Path>) -> Result<Config, ConfigError> {
        Config::extract_from(path, std::env::vars_os())
    }

    /// As [`Config::extract`], with the environment given.
    pub fn extract_from(
        path: Option<&Path>,
        env: impl IntoIterator<Item = (std::ffi::OsString, std::ffi::OsString)>,
    ) -> Result<Config, ConfigError> {
        figment(path, env)?
            .extract::<Config>()
            .map_err(|e| ConfigError::Parse(format_figment_error(e)))
    }

    /// Everything wrong with the configuration, at once (`hdis-sync check`):
    /// each section is read on its own, so a wrong type or unknown key in one
    /// section does not hide the problems of the others; then every key is
    /// validated and secrets resolved. `Err` only when the file is missing.
    pub fn check(path: Option<&Path>) -> Result<(Config, Vec<Problem>), ConfigError> {
        check::check(figment(path, std::env::vars_os())?)
    }
}

fn figment(
    path: Option<&Path>,
    env: impl IntoIterator<Item = (std::ffi::OsString, std::ffi::OsString)>,
) -> Result<Figment, ConfigError> {
    let mut figment = Figment::new();
    match path {
        Some(p) if !p.exists() => return Err(ConfigError::Missing(p.to_path_buf())),
        Some(p) => figment = figment.merge(Toml::file_exact(p)),
        None if Path::new(DEFAULT_CONFIG_PATH).exists() => {
            figment = figment.merge(Toml::file_exact(DEFAULT_CONFIG_PATH))
        }
        None => {}
    }
    Ok(figment.merge(EnvStrings::new(ENV_PREFIX, env)))
}

fn problem(key: &str, message: &str) -> Problem {
    Problem {
        key: key.into(),
        message: message.into(),
    }
}

fn format_figment_error(e: figment::Error) -> String {
    e.into_iter()
        .map(|e| {
            let key = if e.path.is_empty() {
                String::new()
            } else {
                format!("{}: ", e.path.join("."))
            };
            let source = e
                .metadata
                .as_ref()
                .map(|m| match &m.source {
                    Some(figment::Source::File(path)) => format!(" (in {})", path.display()),
                    _ => format!(" (from {})", m.name),
                })
                .unwrap_or_default();
            format!("{key}{}{source}", without_source_lines(&e.kind.to_string()))
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// A TOML syntax error quotes the offending line, which may hold a secret
/// (`password = "…" x`): keep the position and the reason, drop the quote.
pub(crate) fn without_source_lines(message: &str) -> String {
    message
        .lines()
        .filter(|l| {
            let t = l.trim_start();
            !(t.starts_with('|')
                || t.split_once('|').is_some_and(|(n, _)| {
                    !n.trim().is_empty() && n.trim().chars().all(|c| c.is_ascii_digit())
                }))
        })
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(": ")
}

mod check;
mod env;
mod validate;

use env::{EnvStrings, lenient_opt_secret, lenient_opt_string, lenient_string};

#[cfg(test)]
mod tests;
