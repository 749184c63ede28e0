//! Semantic validation of a parsed configuration, and secret resolution.

use std::path::PathBuf;

use secrecy::SecretString;
use url::Url;

use super::{Config, ItsmKind, LexmarkAuth, Problem, problem};

impl Config {
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
                p.push(problem(key, &format!("credential {name:?} named, but $CREDENTIALS_DIRECTORY is not set (use LoadCredential= in the unit, or set it by hand to the directory holding {name:?})")));
                // Reported here, and not again as "required".
                *value = Some(SecretString::from(String::new()));
                return;
            }
        },
        _ => return,
    };
    match std::fs::read_to_string(&path) {
        Ok(text) if text.trim_end_matches(['\r', '\n']).is_empty() => {
            // Reported here, and not again as "required": the file is named, it is empty.
            *value = Some(SecretString::from(String::new()));
            p.push(problem(
                key,
                &format!("the secret file {} is empty", path.display()),
            ));
        }
        Ok(text) => {
            *value = Some(SecretString::from(
                text.trim_end_matches(['\r', '\n']).to_string(),
            ))
        }
        Err(e) => {
            // Reported here, and not again as "required".
            *value = Some(SecretString::from(String::new()));
            p.push(problem(
                key,
                &format!("cannot read secret from {}: {e}", path.display()),
            ));
        }
    }
}
