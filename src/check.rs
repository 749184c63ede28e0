//! `hdis-sync check`: the whole configuration validated at once (exit 78 on
//! any problem), then read-only reachability and credential checks of
//! Lexmark, the ITSM and the state, one line per check.

use std::path::Path;

use crate::app::{EXIT_CONFIG, EXIT_FAILURE, EXIT_OK, EXIT_TEMPFAIL};
use crate::config::{Config, ItsmKind};
use crate::lexmark::{CasesQuery, LexmarkClient};
use crate::store::Store;

/// One line: `ok`/`FAIL`, what was checked, and what was found.
fn line(ok: bool, what: &str, detail: &str) {
    println!("{:<4}  {what:<10} {detail}", if ok { "ok" } else { "FAIL" });
}

pub async fn run(path: Option<&Path>) -> u8 {
    let (config, problems) = match Config::check(path) {
        Ok(found) => found,
        Err(e) => {
            line(false, "config", &e.to_string());
            return EXIT_CONFIG;
        }
    };
    if !problems.is_empty() {
        for p in &problems {
            line(false, "config", &p.to_string());
        }
        println!(
            "{} configuration problem(s); fix them and run check again.",
            problems.len()
        );
        return EXIT_CONFIG;
    }
    line(true, "config", "every key is valid; secrets resolved");
    let mut code = EXIT_OK;

    match check_lexmark(&config).await {
        Ok(detail) => line(true, "lexmark", &detail),
        Err((unreachable, detail)) => {
            line(false, "lexmark", &detail);
            code = if unreachable {
                EXIT_TEMPFAIL
            } else {
                EXIT_FAILURE
            };
        }
    }
    match check_itsm(&config).await {
        Ok(detail) => line(true, "itsm", &detail),
        Err(detail) => {
            line(false, "itsm", &detail);
            code = code.max(EXIT_FAILURE);
        }
    }
    match check_state(&config) {
        Ok(detail) => line(true, "state", &detail),
        Err(detail) => {
            line(false, "state", &detail);
            code = code.max(EXIT_FAILURE);
        }
    }
    code
}

/// GET CASES over the shortest window: read-only, proves reachability and credentials.
async fn check_lexmark(config: &Config) -> Result<String, (bool, String)> {
    let client = LexmarkClient::new(&config.lexmark, 0).map_err(|e| (false, e.to_string()))?;
    let query = CasesQuery {
        past_days: Some(2),
        case_origin: config.sync.case_origin.clone(),
        case_type: config.sync.case_type.clone(),
    };
    match client.get_cases(&query).await {
        Ok(list) => Ok(format!(
            "{} answered GET CASES ({} new case(s) in the last 2 days)",
            client.base_url(),
            list.cases.len() + list.rejected.len()
        )),
        Err(e) => Err((e.is_unreachable(), e.to_string())),
    }
}

async fn check_itsm(config: &Config) -> Result<String, String> {
    match config.itsm.kind {
        ItsmKind::Local => {
            let path = config.itsm.local.resolve_path(&config.state.dir());
            if !path.exists() {
                return Ok(format!(
                    "local ticket store {} will be created by the first run",
                    path.display()
                ));
            }
            let tickets = crate::store::local_tickets::LocalTickets::open(&path)
                .map_err(|e| e.to_string())?;
            let n = tickets.list().map_err(|e| e.to_string())?.len();
            Ok(format!(
                "local ticket store {} holds {n} ticket(s)",
                path.display()
            ))
        }
        ItsmKind::Servicenow => {
            let connector =
                crate::itsm::build(&config.itsm, &config.state.dir()).map_err(|e| e.to_string())?;
            connector.check().await.map_err(|e| e.to_string())?;
            let url = config
                .itsm
                .servicenow
                .as_ref()
                .map(|s| s.instance_url.as_str())
                .unwrap_or_default();
            Ok(format!(
                "ServiceNow {url} answered a read of the table with these credentials"
            ))
        }
    }
}

fn check_state(config: &Config) -> Result<String, String> {
    let path = &config.state.path;
    match Store::open_read_only(path) {
        Ok(None) => {
            let dir = config.state.dir();
            if dir.exists()
                && std::fs::metadata(&dir)
                    .map(|m| m.permissions().readonly())
                    .unwrap_or(false)
            {
                return Err(format!("{} is read-only", dir.display()));
            }
            Ok(format!(
                "{} will be created by the first run",
                path.display()
            ))
        }
        Ok(Some(store)) => {
            let cases: i64 = store
                .phase_counts()
                .map_err(|e| e.to_string())?
                .iter()
                .map(|(_, n)| n)
                .sum();
            Ok(format!(
                "{} readable, schema {}, {cases} case(s)",
                path.display(),
                store.schema_version().map_err(|e| e.to_string())?
            ))
        }
        Err(e) => Err(format!("{}: {e}", path.display())),
    }
}
