//! The test world: the HDIS simulator on port 0, a state directory, a
//! configuration pointing at them, and helpers to change cases through the
//! simulator's admin API and to look at the tickets.

use hdis_sync::config::Config;
use hdis_sync::sim::{Fault, SimOptions, Simulator};
use hdis_sync::store::Store;
use hdis_sync::store::local_tickets::{LocalNote, LocalTicket, LocalTickets};
use hdis_sync::sync::{CycleOptions, CycleReport, Engine};
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

pub const USER: &str = "it-user";
pub const PASSWORD: &str = "it-pässword-0012";

/// One attempt per cycle, no pacing: failures show up in the cycle they happen.
pub const QUICK_SYNC: &str =
    "[sync]\nretries_per_cycle = 1\nretry_base_ms = 10\nmax_requests_per_second = 0\n";

pub fn sim_options() -> SimOptions {
    SimOptions {
        username: USER.into(),
        password: PASSWORD.into(),
        list_wrapper: None,
    }
}

pub struct World {
    pub sim: Simulator,
    pub base: String,
    _dir: tempfile::TempDir,
    /// The configuration file, for running the real binary.
    pub config_path: std::path::PathBuf,
    pub config: Config,
    pub engine: Engine,
    stop: CancellationToken,
    http: reqwest::Client,
}

/// A case document created `hours` ago with no ticket number.
pub fn new_case(number: &str, hours: i64) -> Value {
    let created = (chrono::Utc::now() - chrono::Duration::hours(hours)).to_rfc3339();
    json!({
        "caseNumber": number, "customerTicketNumber": "", "createdOn": created,
        "origin": "Phone", "type": "Break Fix", "state": "Active", "status": "In Progress",
        "detailedStatus": "Tech Dispatched", "title": format!("Printer error on {number}"),
        "description": "31.40C on the front panel", "workOrder": [], "salesOrder": [], "comments": []
    })
}

pub fn fixture(name: &str) -> Value {
    let path = format!("{}/tests/fixtures/hdis/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

impl World {
    /// The simulator and the local connector.
    pub async fn start() -> World {
        World::start_with(
            SimOptions {
                username: USER.into(),
                password: PASSWORD.into(),
                list_wrapper: None,
            },
            "[itsm]\nkind = \"local\"\n",
        )
        .await
    }

    /// The simulator with the given options and `[itsm]` configuration text.
    pub async fn start_with(options: SimOptions, itsm: &str) -> World {
        World::start_full(options, itsm, QUICK_SYNC).await
    }

    /// The simulator with the given options, `[itsm]` and `[sync]` text.
    pub async fn start_full(options: SimOptions, itsm: &str, sync: &str) -> World {
        let sim = Simulator::new(options);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let stop = CancellationToken::new();
        tokio::spawn(sim.clone().serve(listener, stop.clone().cancelled_owned()));
        let dir = tempfile::tempdir().unwrap();
        let text = format!(
            "[lexmark]\nbase_url = \"{base}/b2b/v1\"\nusername = {USER:?}\npassword = {PASSWORD:?}\ntimeout_secs = 5\n\n\
             {sync}\n[state]\npath = {:?}\n\n{itsm}",
            dir.path().join("state.db"),
        );
        let path = dir.path().join("hdis-sync.toml");
        std::fs::write(&path, text).unwrap();
        let config_path = path.clone();
        let mut config = Config::extract_from(Some(&path), std::iter::empty()).unwrap();
        assert_eq!(config.prepare(), vec![]);
        let engine = Engine::from_config(&config).unwrap();
        World {
            sim,
            base,
            _dir: dir,
            config_path,
            config,
            engine,
            stop,
            http: reqwest::Client::new(),
        }
    }

    pub fn add(&self, doc: Value) -> String {
        self.sim.add_case(doc).unwrap()
    }

    /// One cycle that must succeed.
    pub async fn cycle(&self) -> CycleReport {
        let report = self.run_cycle().await;
        assert_eq!(report.failure, None, "{report:?}");
        report
    }

    /// One cycle, whatever its outcome.
    pub async fn run_cycle(&self) -> CycleReport {
        self.engine
            .run_cycle(&CycleOptions::default(), &CancellationToken::new())
            .await
    }

    /// A call to the simulator's admin API; panics unless it succeeds.
    pub async fn admin(&self, method: reqwest::Method, path: &str, body: Value) -> Value {
        let r = self
            .http
            .request(method, format!("{}/sim{path}", self.base))
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = r.status();
        let text = r.text().await.unwrap();
        assert!(status.is_success(), "admin {path}: {status} {text}");
        serde_json::from_str(&text).unwrap_or(Value::Null)
    }

    pub async fn patch_case(&self, case: &str, body: Value) {
        self.admin(reqwest::Method::PATCH, &format!("/cases/{case}"), body)
            .await;
    }

    pub fn fault(&self, call: &str, case: Option<&str>, status: u16, body: &str, times: u32) {
        let fault: Fault = serde_json::from_value(
            json!({"call": call, "case": case, "status": status, "body": body, "times": times}),
        )
        .unwrap();
        self.sim.add_fault(fault);
    }

    pub fn calls(&self, call: &str) -> usize {
        self.sim
            .calls()
            .iter()
            .filter(|c| c.call == call && c.status < 300)
            .count()
    }

    pub fn tickets(&self) -> LocalTickets {
        LocalTickets::open(
            &self
                .config
                .itsm
                .local
                .resolve_path(&self.config.state.dir()),
        )
        .unwrap()
    }

    pub fn ticket_of(&self, case: &str) -> LocalTicket {
        self.tickets()
            .find_by_correlation(case)
            .unwrap()
            .unwrap_or_else(|| panic!("no ticket for {case}"))
    }

    pub fn notes_of(&self, case: &str) -> Vec<LocalNote> {
        let t = self.ticket_of(case);
        self.tickets().notes(t.id).unwrap()
    }

    pub fn total_notes(&self) -> usize {
        self.tickets()
            .list()
            .unwrap()
            .iter()
            .map(|(_, n)| *n as usize)
            .sum()
    }

    pub fn store(&self) -> Store {
        Store::open(&self.config.state.path).unwrap()
    }
}

impl Drop for World {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}
