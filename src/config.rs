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
use figment::value::{Dict, Map, Value};
use figment::{Figment, Metadata, Profile, Provider};
use secrecy::SecretString;
use serde::{Deserialize, Deserializer};
use url::Url;

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

    /// Resolves secrets from files and credentials and validates every key;
    /// returns every problem found.
    pub fn prepare(&mut self) -> Vec<Problem> {
        let mut p = Vec::new();
        let l = &mut self.lexmark;
        match &l.base_url {
            None => p.push(problem(
                "lexmark.base_url",
                "required: the HDIS API base URL, e.g. https://qa-api.lexmark.com/b2b/v1",
            )),
            Some(u) => check_url(&mut p, "lexmark.base_url", u, l.allow_insecure_http),
        }
        resolve_secret(
            &mut p,
            "lexmark.password",
            &mut l.password,
            &l.password_file,
            &l.password_credential,
        );
        resolve_secret(
            &mut p,
            "lexmark.client_secret",
            &mut l.client_secret,
            &l.client_secret_file,
            &l.client_secret_credential,
        );
        match l.auth {
            LexmarkAuth::Basic => {
                if l.username.is_none() {
                    p.push(problem(
                        "lexmark.username",
                        "required with auth = \"basic\"",
                    ));
                }
                if l.password.is_none() {
                    p.push(problem(
                        "lexmark.password",
                        "required with auth = \"basic\" (or password_file / password_credential)",
                    ));
                }
            }
            LexmarkAuth::Oauth2 => {
                match &l.token_url {
                    None => p.push(problem(
                        "lexmark.token_url",
                        "required with auth = \"oauth2\"",
                    )),
                    Some(u) => check_url(&mut p, "lexmark.token_url", u, l.allow_insecure_http),
                }
                if l.client_id.is_none() {
                    p.push(problem(
                        "lexmark.client_id",
                        "required with auth = \"oauth2\"",
                    ));
                }
                if l.client_secret.is_none() {
                    p.push(problem("lexmark.client_secret", "required with auth = \"oauth2\" (or client_secret_file / client_secret_credential)"));
                }
            }
        }
        if l.timeout_secs == 0 {
            p.push(problem(
                "lexmark.timeout_secs",
                "expected a number of seconds above 0",
            ));
        }

        let s = &self.sync;
        if let Err(e) = crate::scheduler::parse_schedule(&s.schedule) {
            p.push(problem(
                "sync.schedule",
                &format!("expected a cron expression (6 fields with seconds, or 5): {e}"),
            ));
        }
        if s.timezone.parse::<chrono_tz::Tz>().is_err() {
            p.push(problem(
                "sync.timezone",
                &format!(
                    "expected an IANA time zone name such as Europe/Berlin, got {:?}",
                    s.timezone
                ),
            ));
        }
        if s.past_days < 2 {
            p.push(problem(
                "sync.past_days",
                "expected 2 or more, so that successive windows overlap",
            ));
        }
        if s.poll_concurrency == 0 {
            p.push(problem("sync.poll_concurrency", "expected 1 or more"));
        }
        if s.max_attempts == 0 {
            p.push(problem("sync.max_attempts", "expected 1 or more"));
        }
        if s.retries_per_cycle == 0 {
            p.push(problem("sync.retries_per_cycle", "expected 1 or more"));
        }

        if self.state.path.as_os_str().is_empty() {
            p.push(problem(
                "state.path",
                "expected the path of the SQLite state file",
            ));
        }
        if tracing_subscriber::EnvFilter::try_new(&self.log.level).is_err() {
            p.push(problem("log.level", "expected a level (error, warn, info, debug, trace) or a filter such as hdis_sync=debug"));
        }
        if self.log.keep_files == 0 {
            p.push(problem("log.keep_files", "expected 1 or more"));
        }

        match (&self.itsm.kind, &mut self.itsm.servicenow) {
            (ItsmKind::Servicenow, None) => p.push(problem(
                "itsm.servicenow",
                "required with itsm.kind = \"servicenow\"",
            )),
            (ItsmKind::Servicenow, Some(sn)) => {
                check_url(
                    &mut p,
                    "itsm.servicenow.instance_url",
                    &sn.instance_url,
                    sn.allow_insecure_http,
                );
                resolve_secret(
                    &mut p,
                    "itsm.servicenow.password",
                    &mut sn.password,
                    &sn.password_file,
                    &sn.password_credential,
                );
                if sn.username.is_none() {
                    p.push(problem("itsm.servicenow.username", "required"));
                }
                if sn.password.is_none() {
                    p.push(problem(
                        "itsm.servicenow.password",
                        "required (or password_file / password_credential)",
                    ));
                }
                if sn.table.is_empty()
                    || !sn
                        .table
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '_')
                {
                    p.push(problem(
                        "itsm.servicenow.table",
                        "expected a table name such as incident",
                    ));
                }
            }
            _ => {}
        }
        p
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

/// `http://` is refused unless the host is loopback or explicitly allowed.
fn check_url(p: &mut Vec<Problem>, key: &str, value: &str, allow_insecure: bool) {
    match Url::parse(value) {
        Err(e) => p.push(problem(
            key,
            &format!("expected an http(s) URL, got {value:?} ({e})"),
        )),
        Ok(u) if u.scheme() == "https" => {}
        Ok(u) if u.scheme() == "http" => {
            let loopback = match u.host() {
                Some(url::Host::Domain(d)) => d == "localhost",
                Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
                Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
                None => false,
            };
            if !loopback && !allow_insecure {
                p.push(problem(key, "http:// is refused for non-loopback hosts; use https:// or set allow_insecure_http = true"));
            }
        }
        Ok(_) => p.push(problem(
            key,
            &format!("expected an http(s) URL, got {value:?}"),
        )),
    }
}

fn resolve_secret(
    p: &mut Vec<Problem>,
    key: &str,
    value: &mut Option<SecretString>,
    file: &Option<PathBuf>,
    credential: &Option<String>,
) {
    let sources = value.is_some() as u8 + file.is_some() as u8 + credential.is_some() as u8;
    if sources > 1 {
        p.push(problem(
            key,
            "set only one of the value, *_file and *_credential",
        ));
        return;
    }
    let path = match (file, credential) {
        (Some(f), _) => f.clone(),
        (_, Some(name)) => match std::env::var_os("CREDENTIALS_DIRECTORY") {
            Some(dir) => PathBuf::from(dir).join(name),
            None => {
                p.push(problem(key, &format!("credential {name:?} named, but $CREDENTIALS_DIRECTORY is not set (use LoadCredential= in the unit)")));
                return;
            }
        },
        _ => return,
    };
    match std::fs::read_to_string(&path) {
        Ok(text) => {
            *value = Some(SecretString::from(
                text.trim_end_matches(['\r', '\n']).to_string(),
            ))
        }
        Err(e) => p.push(problem(
            key,
            &format!("cannot read secret from {}: {e}", path.display()),
        )),
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
                .map(|m| format!(" (from {})", m.name))
                .unwrap_or_default();
            format!("{key}{}{source}", e.kind)
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The `HDIS_SYNC_SECTION__KEY` provider. Unlike figment's own, a value that
/// looks like a number but would not print back the same (`0012345`, `+1`)
/// stays a string, so passwords and ticket prefixes keep their leading zeros.
struct EnvStrings {
    vars: Vec<(String, String)>,
}

impl EnvStrings {
    fn new(
        prefix: &str,
        env: impl IntoIterator<Item = (std::ffi::OsString, std::ffi::OsString)>,
    ) -> Self {
        let vars = env
            .into_iter()
            .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
            .filter_map(|(k, v)| {
                // Only SECTION__KEY names are configuration: every key lives in
                // a section, and HDIS_SYNC_CONFIG (the file's path) is not one.
                let rest = k.strip_prefix(prefix)?;
                rest.contains("__").then(|| (rest.to_ascii_lowercase(), v))
            })
            .collect();
        EnvStrings { vars }
    }
}

fn env_value(raw: &str) -> Value {
    let parsed: Value = raw.parse().unwrap_or_else(|_| Value::from(raw.to_string()));
    match &parsed {
        Value::Num(_, n) => {
            let back = n
                .to_u128()
                .map(|x| x.to_string())
                .or_else(|| n.to_i128().map(|x| x.to_string()));
            match back {
                Some(b) if b == raw.trim() => parsed,
                _ if n.to_f64().is_some_and(|f| f.to_string() == raw.trim()) => parsed,
                _ => Value::from(raw.to_string()),
            }
        }
        Value::Bool(..) => parsed,
        _ => Value::from(raw.to_string()),
    }
}

impl Provider for EnvStrings {
    fn metadata(&self) -> Metadata {
        Metadata::named("HDIS_SYNC_ environment variable(s)")
    }

    fn data(&self) -> Result<Map<Profile, Dict>, figment::Error> {
        let mut root = Dict::new();
        for (key, raw) in &self.vars {
            let parts: Vec<&str> = key.split("__").filter(|s| !s.is_empty()).collect();
            let Some((last, parents)) = parts.split_last() else {
                continue;
            };
            let mut dict = &mut root;
            for part in parents {
                let entry = dict
                    .entry(part.to_string())
                    .or_insert_with(|| Value::from(Dict::new()));
                if entry.as_dict().is_none() {
                    *entry = Value::from(Dict::new());
                }
                let Value::Dict(_, d) = entry else {
                    unreachable!("just made a dict")
                };
                dict = d;
            }
            dict.insert(last.to_string(), env_value(raw));
        }
        Ok(Profile::Default.collect(root))
    }
}

/// Accepts a string, or a number/bool written without quotes, as text.
fn lenient_string<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    lenient_opt_string(d)?.ok_or_else(|| serde::de::Error::custom("expected a string"))
}

fn lenient_opt_string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Lenient {
        S(String),
        U(u64),
        I(i64),
        F(f64),
        B(bool),
    }
    Ok(Option::<Lenient>::deserialize(d)?.map(|v| match v {
        Lenient::S(s) => s,
        Lenient::U(n) => n.to_string(),
        Lenient::I(n) => n.to_string(),
        Lenient::F(n) => n.to_string(),
        Lenient::B(b) => b.to_string(),
    }))
}

fn lenient_opt_secret<'de, D: Deserializer<'de>>(d: D) -> Result<Option<SecretString>, D::Error> {
    Ok(lenient_opt_string(d)?.map(SecretString::from))
}

mod check;
#[cfg(test)]
mod tests;
