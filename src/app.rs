//! What each command does, and the exit code it ends with.

use anyhow::Context;
use sd_notify::NotifyState;
use tokio_util::sync::CancellationToken;
use tracing::{error, info};

use crate::cli::{Cli, Command};
use crate::config::Config;
use crate::lock::StateLock;
use crate::store::Store;
use crate::store::local_tickets::LocalTickets;
use crate::sync::{CycleOptions, CycleReport, Engine};

pub const EXIT_OK: u8 = 0;
pub const EXIT_FAILURE: u8 = 1;
/// EX_TEMPFAIL: the lock is held, or Lexmark is unreachable.
pub const EXIT_TEMPFAIL: u8 = 75;
/// EX_CONFIG: the configuration is wrong; systemd should not restart.
pub const EXIT_CONFIG: u8 = 78;

pub async fn run(cli: Cli) -> u8 {
    match &cli.command {
        Some(Command::Simulate(args)) => return report_error(crate::sim::run(args).await),
        Some(Command::Demo) => return report_error(crate::demo::run().await),
        Some(Command::Tickets { .. } | Command::Status { .. } | Command::Replay { .. }) => {
            return inspect(&cli);
        }
        Some(Command::Check) => return crate::check::run(cli.config.as_deref()).await,
        _ => {}
    }
    let config = match Config::load(cli.config.as_deref()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("hdis-sync: {e}");
            return EXIT_CONFIG;
        }
    };
    let _log = match crate::telemetry::init(&config.log) {
        Ok(g) => g,
        Err(e) => {
            eprintln!("hdis-sync: {e}");
            return EXIT_CONFIG;
        }
    };
    if cli.dry_run {
        return dry_run(&config, &cli).await;
    }
    run_sync(&config, &cli).await
}

/// `--dry-run`: no lock (nothing is written), no connector (the ITSM is not
/// contacted), the state opened read-only.
async fn dry_run(config: &Config, cli: &Cli) -> u8 {
    let result = async {
        let lexmark = crate::lexmark::LexmarkClient::new(
            &config.lexmark,
            config.sync.max_requests_per_second,
        )?;
        let store = Store::open_read_only(&config.state.path)?;
        let report =
            crate::sync::dry_run::dry_run(&lexmark, store.as_ref(), &config.sync, cli.past_days)
                .await?;
        anyhow::Ok(report)
    }
    .await;
    match result {
        Ok(report) => {
            report.print();
            if report.lexmark_unreachable {
                EXIT_TEMPFAIL
            } else {
                EXIT_OK
            }
        }
        Err(e) => {
            eprintln!("hdis-sync: {e:#}");
            EXIT_FAILURE
        }
    }
}

/// `tickets`, `status` and `replay` read the files only: they need neither
/// the secrets nor the log files (an operator running them as root must not
/// create today's log file under root's name, or leave the service unable
/// to write it).
fn inspect(cli: &Cli) -> u8 {
    let config = match Config::extract(cli.config.as_deref()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("hdis-sync: {e}");
            return EXIT_CONFIG;
        }
    };
    let stderr_only = crate::config::LogConfig {
        dir: None,
        ..config.log.clone()
    };
    let _log = crate::telemetry::init(&stderr_only);
    match &cli.command {
        Some(Command::Tickets { number }) => report_error(show_tickets(&config, number.as_deref())),
        Some(Command::Status { json }) => report_error(crate::status::show(&config, *json)),
        Some(Command::Replay { case, all }) => report_error(replay(&config, case.as_deref(), *all)),
        _ => EXIT_OK,
    }
}

fn report_error(r: anyhow::Result<()>) -> u8 {
    match r {
        Ok(()) => EXIT_OK,
        Err(e) => {
            eprintln!("hdis-sync: {e:#}");
            EXIT_FAILURE
        }
    }
}

/// The exit code of a cycle: 0 when it did its job (per-case errors are
/// parked), 75 when Lexmark was unreachable, 1 otherwise.
pub fn exit_code(report: &CycleReport) -> u8 {
    if report.lexmark_unreachable {
        EXIT_TEMPFAIL
    } else if report.failure.is_some() {
        EXIT_FAILURE
    } else {
        EXIT_OK
    }
}

async fn run_sync(config: &Config, cli: &Cli) -> u8 {
    let _lock = match StateLock::acquire(&config.state.dir()) {
        Ok(l) => l,
        Err(e) => {
            error!("{e}");
            eprintln!("hdis-sync: {e}");
            return match e {
                crate::lock::LockError::Held { .. } => EXIT_TEMPFAIL,
                crate::lock::LockError::Io { .. } => EXIT_FAILURE,
            };
        }
    };
    let engine = match Engine::from_config(config) {
        Ok(e) => e,
        Err(e) => {
            error!(error = %e, "Cannot start.");
            eprintln!("hdis-sync: {e}");
            return EXIT_FAILURE;
        }
    };
    let shutdown = CancellationToken::new();
    spawn_signal_handler(shutdown.clone());
    let grace = shutdown_grace(config);
    tokio::select! {
        code = run_engine(&engine, config, cli, &shutdown) => code,
        _ = async { shutdown.cancelled().await; tokio::time::sleep(grace).await } => {
            error!(grace_secs = grace.as_secs(), "Shutdown did not finish in time; exiting now. The outbox records what was in flight, and the next run checks it.");
            EXIT_FAILURE
        }
    }
}

/// How long the work in flight may take after SIGTERM: one request's
/// timeout on either side, plus a margin to commit.
fn shutdown_grace(config: &Config) -> std::time::Duration {
    let itsm = config
        .itsm
        .servicenow
        .as_ref()
        .map_or(0, |s| s.timeout_secs);
    std::time::Duration::from_secs(config.lexmark.timeout_secs.max(itsm) + 5)
}

async fn run_engine(
    engine: &Engine,
    config: &Config,
    cli: &Cli,
    shutdown: &CancellationToken,
) -> u8 {
    let options = CycleOptions {
        past_days: cli.past_days,
    };
    if cli.once {
        let report = engine.run_cycle(&options, shutdown).await;
        return exit_code(&report);
    }
    let (cron, tz) = match (
        crate::scheduler::parse_schedule(&config.sync.schedule),
        config.sync.timezone.parse(),
    ) {
        (Ok(c), Ok(tz)) => (c, tz),
        _ => return EXIT_CONFIG,
    };
    info!(schedule = %config.sync.schedule, timezone = %config.sync.timezone, "Running on schedule.");
    notify_systemd(&[
        NotifyState::Ready,
        NotifyState::Status("waiting for the first scheduled run"),
    ]);
    spawn_watchdog(shutdown.clone());
    crate::scheduler::run_on_schedule(
        cron,
        tz,
        &crate::scheduler::SystemClock,
        shutdown.clone(),
        || async {
            notify_systemd(&[NotifyState::Status("running a cycle")]);
            let report = engine.run_cycle(&options, shutdown).await;
            let status = format!(
                "last cycle {} at {}: {} new, {} updates, {} failures",
                report.outcome(),
                chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                report.new_cases,
                report.updates_delivered,
                report.delivery_failures
            );
            notify_systemd(&[NotifyState::Status(&status)]);
        },
    )
    .await;
    notify_systemd(&[NotifyState::Stopping]);
    info!("Stopped.");
    EXIT_OK
}

/// Tells systemd (Type=notify) how we are; a no-op outside systemd.
fn notify_systemd(state: &[NotifyState<'_>]) {
    if let Err(e) = sd_notify::notify(state) {
        tracing::warn!(error = %e, "Could not notify systemd.");
    }
}

/// Feeds systemd's watchdog (WatchdogSec=) at half its period while the
/// runtime is alive; a hung process stops feeding it and is restarted.
fn spawn_watchdog(shutdown: CancellationToken) {
    let Some(period) = sd_notify::watchdog_enabled() else {
        return;
    };
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(period / 2);
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = tick.tick() => notify_systemd(&[NotifyState::Watchdog]),
            }
        }
    });
}

/// SIGTERM and SIGINT cancel the token: no new work starts, the item in
/// flight finishes and is committed.
fn spawn_signal_handler(token: CancellationToken) {
    tokio::spawn(async move {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            let Ok(mut term) = signal(SignalKind::terminate()) else {
                return;
            };
            tokio::select! {
                _ = term.recv() => {}
                _ = tokio::signal::ctrl_c() => {}
            }
        }
        #[cfg(not(unix))]
        let _ = tokio::signal::ctrl_c().await;
        info!("Shutdown requested; finishing the item in flight.");
        token.cancel();
    });
}

fn show_tickets(config: &Config, number: Option<&str>) -> anyhow::Result<()> {
    let path = config.itsm.local.resolve_path(&config.state.dir());
    anyhow::ensure!(
        path.exists(),
        "no local ticket store at {} yet",
        path.display()
    );
    let tickets =
        LocalTickets::open(&path).with_context(|| format!("opening {}", path.display()))?;
    match number {
        None => {
            let list = tickets.list()?;
            if list.is_empty() {
                println!("No tickets.");
            }
            for (t, notes) in list {
                println!(
                    "{}  {}  {}  [{}]  {} note(s)",
                    t.number,
                    t.correlation_key,
                    t.title,
                    t.state.as_deref().unwrap_or("-"),
                    notes
                );
            }
        }
        Some(n) => {
            let t = tickets
                .by_number(n)?
                .with_context(|| format!("no ticket {n}"))?;
            println!(
                "{} — {}\ncase: {}\nstate: {}\ncreated: {}\n\n{}",
                t.number,
                t.title,
                t.correlation_key,
                t.state.as_deref().unwrap_or("-"),
                t.created_at,
                t.description
            );
            for note in tickets.notes(t.id)? {
                println!("--- note {}\n{}", note.created_at, note.body);
            }
        }
    }
    Ok(())
}

fn replay(config: &Config, case: Option<&str>, all: bool) -> anyhow::Result<()> {
    anyhow::ensure!(
        case.is_some() || all,
        "say which dead items to re-queue: --case CAS-… or --all"
    );
    let store = Store::open(&config.state.path)
        .with_context(|| format!("opening {}", config.state.path.display()))?;
    let n = store.replay(case, chrono::Utc::now())?;
    if n == 0 {
        println!(
            "No dead items{}; nothing re-queued.",
            case.map(|c| format!(" for case {c}")).unwrap_or_default()
        );
    } else {
        println!("Re-queued {n} dead item(s); the next cycle delivers them.");
    }
    Ok(())
}
