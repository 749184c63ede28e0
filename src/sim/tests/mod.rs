//! Tests of the simulator: each starts it on 127.0.0.1 port 0 (bound before
//! it serves, so no waiting) and talks to it with reqwest.

mod admin;
mod calls;
mod client;
mod faults;
mod get_cases;
mod store;

use std::path::PathBuf;

use reqwest::{Method, Response, StatusCode};
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use super::{SimOptions, Simulator};

/// A simulator serving on a local port, stopped when dropped.
struct Running {
    sim: Simulator,
    base: String,
    http: reqwest::Client,
    _stop: oneshot::Sender<()>,
    _task: JoinHandle<std::io::Result<()>>,
}

async fn start() -> Running {
    start_with(SimOptions::default()).await
}

async fn start_with(options: SimOptions) -> Running {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = oneshot::channel::<()>();
    let sim = Simulator::new(options);
    let task = tokio::spawn(sim.clone().serve(listener, async {
        let _ = stopped.await;
    }));
    Running {
        sim,
        base: format!("http://{addr}"),
        http: reqwest::Client::new(),
        _stop: stop,
        _task: task,
    }
}

impl Running {
    /// A customer call with the default credentials.
    async fn call(&self, method: Method, path: &str, body: Option<Value>) -> Response {
        let mut req = self
            .http
            .request(method, format!("{}/b2b/v1{path}", self.base))
            .basic_auth("hdis", Some("hdis"));
        if let Some(b) = body {
            req = req.json(&b);
        }
        req.send().await.unwrap()
    }

    async fn get(&self, path: &str) -> Response {
        self.call(Method::GET, path, None).await
    }

    /// GET CASES with a query string; the case numbers listed, in order.
    async fn new_cases(&self, query: &str) -> Vec<String> {
        let answer = self.get(&format!("/cases/{query}")).await;
        assert_eq!(answer.status(), StatusCode::OK);
        numbers(&answer.json::<Value>().await.unwrap())
    }

    /// An admin call.
    async fn admin(&self, method: Method, path: &str, body: Option<Value>) -> Response {
        let mut req = self
            .http
            .request(method, format!("{}/sim{path}", self.base));
        if let Some(b) = body {
            req = req.json(&b);
        }
        req.send().await.unwrap()
    }

    /// Adds a minimal case document with these fields over the defaults.
    fn add(&self, fields: Value) -> String {
        let mut doc = json!({
            "origin": "Phone",
            "type": "Break Fix",
            "state": "Active",
            "status": "In Progress",
            "title": "Lexmark MS521DN 31.40C error",
            "comments": [],
        });
        doc.as_object_mut()
            .unwrap()
            .extend(fields.as_object().unwrap().clone());
        self.sim.add_case(doc).unwrap()
    }
}

/// The caseNumber of every document in a JSON array.
fn numbers(list: &Value) -> Vec<String> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|c| c["caseNumber"].as_str().unwrap().to_string())
        .collect()
}

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/hdis")
}

fn fixture(name: &str) -> Value {
    serde_json::from_slice(&std::fs::read(fixtures().join(name)).unwrap()).unwrap()
}

/// RFC 3339 (Z) `days` days before now.
fn days_ago(days: i64) -> String {
    super::state::time_text(chrono::Utc::now() - chrono::TimeDelta::days(days))
}
