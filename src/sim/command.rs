//! `hdis-sync simulate`: load and generate cases, listen, print how to use
//! it, serve until Ctrl-C or SIGTERM.

use std::net::SocketAddr;

use anyhow::Context;
use tokio::net::TcpListener;
use tracing_subscriber::EnvFilter;

use super::state::has_ticket_number;
use super::{SimOptions, Simulator};
use crate::cli::SimulateArgs;

/// The `hdis-sync simulate` command: loads --data, generates --generate N,
/// binds --listen, prints the base URL, the user name and an admin-API cheat
/// sheet to stdout, and serves until Ctrl-C/SIGTERM. Each call answered is
/// logged to stderr (`RUST_LOG` adjusts the level).
pub async fn run(args: &SimulateArgs) -> anyhow::Result<()> {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    // The first subscriber stays when one is installed already.
    let _ = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(filter)
        .try_init();

    let sim = Simulator::new(SimOptions {
        username: args.username.clone(),
        password: args.password.clone(),
        list_wrapper: None,
    });
    if let Some(path) = &args.data {
        let numbers = sim
            .load_path(path)
            .with_context(|| format!("loading --data {}", path.display()))?;
        println!("Loaded {} case(s) from {}.", numbers.len(), path.display());
    }
    if args.generate > 0 {
        let numbers = sim.generate(args.generate);
        println!("Generated {} new case(s).", numbers.len());
    }
    let listener = TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("cannot listen on {}", args.listen))?;
    let addr = listener
        .local_addr()
        .context("reading the listening address")?;
    let cases = sim.cases();
    let new = cases.iter().filter(|c| !has_ticket_number(c)).count();
    let example = cases
        .iter()
        .find_map(|c| c.get("caseNumber").and_then(|n| n.as_str()))
        .unwrap_or("CAS-10001-XXXXXX")
        .to_string();
    print!(
        "{}",
        cheat_sheet(addr, &args.username, cases.len(), new, &example)
    );
    if !addr.ip().is_loopback() {
        eprintln!(
            "warning: listening on {addr}: the admin API under /sim has no auth and is reachable from the network"
        );
    }
    sim.serve(listener, shutdown_signal())
        .await
        .context("serving the simulator")?;
    println!("Simulator stopped.");
    Ok(())
}

fn cheat_sheet(addr: SocketAddr, username: &str, cases: usize, new: usize, case: &str) -> String {
    let base = format!("http://{addr}");
    format!(
        r#"HDIS simulator listening.
  base URL:   {base}/b2b/v1
  user name:  {username}  (password: --password or HDIS_SIM_PASSWORD; default "hdis")
  cases:      {cases}, of which {new} new (no customer ticket number)

Admin API under {base}/sim (no auth), for example:
  # every case document; one case; add a case document
  curl -s {base}/sim/cases
  curl -s {base}/sim/cases/{case}
  curl -s -X POST {base}/sim/cases -d @case.json
  # change top-level fields (state, status, detailedStatus, …)
  curl -s -X PATCH {base}/sim/cases/{case} -d '{{"state":"Resolved","status":"Completed"}}'
  # add a Lexmark comment; add or update a work order / sales order
  curl -s -X POST {base}/sim/cases/{case}/comments -d '{{"description":"Part ordered"}}'
  curl -s -X PUT {base}/sim/cases/{case}/work-orders/10011468 -d '{{"workOrderStatus":"Tech En Route"}}'
  curl -s -X PUT {base}/sim/cases/{case}/sales-orders/ORD-1 -d '{{"salesOrderStatus":"Shipped","carrier":"UPS"}}'
  # escalations, cancellations and attachments received for a case
  curl -s {base}/sim/cases/{case}/requests
  # more synthetic new cases
  curl -s -X POST {base}/sim/generate -d '{{"count":5}}'
  # make the next 2 GET CASES answer 503 with HTML; remove all faults
  curl -s -X POST {base}/sim/faults -d '{{"call":"GET CASES","status":503,"body":"<html>down</html>","content_type":"text/html","times":2}}'
  curl -s -X DELETE {base}/sim/faults
  # every call received, with the status answered; clear it
  curl -s {base}/sim/calls
  curl -s -X DELETE {base}/sim/calls
Ctrl-C stops it.
"#
    )
}

/// Resolves on Ctrl-C or SIGTERM; never, when no handler can be installed.
async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = term.recv() => {}
                    _ = ctrl_c => {}
                }
            }
            Err(_) => ctrl_c.await,
        }
    }
    #[cfg(not(unix))]
    ctrl_c.await;
}
