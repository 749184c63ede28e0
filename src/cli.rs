//! The command line (clap).

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Parser, Subcommand};

pub const EXIT_CODES: &str = "\
Exit codes:
  0   done (per-case errors are recorded and parked, not fatal)
  1   any other failure
  75  the state directory is locked by another hdis-sync, or Lexmark is unreachable or
      temporarily unavailable (timeouts, 429, 5xx after the retries) (EX_TEMPFAIL)
  78  configuration error (EX_CONFIG)";

/// Keeps a customer's ITSM in step with Lexmark HDIS service cases.
///
/// With no command, runs a sync cycle on `sync.schedule`; with --once, runs
/// one cycle and exits.
#[derive(Debug, Parser)]
#[command(name = "hdis-sync", version, after_help = EXIT_CODES)]
pub struct Cli {
    /// Configuration file (TOML). Default: /etc/hdis-sync/hdis-sync.toml if it exists.
    #[arg(long, global = true, env = "HDIS_SYNC_CONFIG")]
    pub config: Option<PathBuf>,

    /// Run one cycle and exit with its outcome.
    #[arg(long)]
    pub once: bool,

    /// Do the reads of one cycle and print what it would create, write back and
    /// forward; write nothing to the ITSM, to Lexmark or to the state.
    #[arg(long)]
    pub dry_run: bool,

    /// Override sync.past_days (NoOfPastDays) for this run, e.g. for a backfill.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub past_days: Option<u32>,

    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Validate the whole configuration (every problem at once), then check
    /// Lexmark and the ITSM with read-only calls; one line per check.
    Check,
    /// Run the HDIS simulator: Lexmark's seven calls over HTTP, plus an admin API under /sim.
    Simulate(SimulateArgs),
    /// A guided tour: simulator + local tickets in a temporary directory, two cycles, a report.
    Demo,
    /// Show the local ticket store (itsm.kind = "local"): all tickets, or one with its notes.
    Tickets {
        /// A ticket number such as LOC0000001.
        number: Option<String>,
    },
    /// Show the state: cases by phase, outbox, dead items, errors, last runs.
    Status {
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Re-queue dead outbox items.
    Replay {
        /// Only this case's items.
        #[arg(long, conflicts_with = "all")]
        case: Option<String>,
        /// Every dead item.
        #[arg(long)]
        all: bool,
    },
}

#[derive(Debug, clap::Args)]
pub struct SimulateArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8787")]
    pub listen: SocketAddr,
    /// Case documents to load: a JSON file (one case or an array) or a directory of them.
    #[arg(long, value_name = "FILE_OR_DIR")]
    pub data: Option<PathBuf>,
    /// Also generate this many synthetic new cases.
    #[arg(long, default_value_t = 0)]
    pub generate: usize,
    /// Basic auth user the simulated API accepts.
    #[arg(long, default_value = "hdis")]
    pub username: String,
    /// Basic auth password the simulated API accepts.
    #[arg(
        long,
        default_value = "hdis",
        env = "HDIS_SIM_PASSWORD",
        hide_env_values = true
    )]
    pub password: String,
}
