//! Thin entry point: parse the command line, hand over to `app`, exit with its code.

use clap::Parser;

fn main() -> std::process::ExitCode {
    let cli = hdis_sync::cli::Cli::parse();
    // `status` and `tickets` only print: piped into `head` and closed early,
    // they end quietly as any Unix tool does. Everything else keeps Rust's
    // ignored SIGPIPE, so a peer closing a socket or a journald restart never
    // kills a sync or the simulator.
    #[cfg(unix)]
    if matches!(
        cli.command,
        Some(hdis_sync::cli::Command::Status { .. } | hdis_sync::cli::Command::Tickets { .. })
    ) {
        // SAFETY: restoring the default disposition of SIGPIPE before any thread starts.
        unsafe {
            libc::signal(libc::SIGPIPE, libc::SIG_DFL);
        }
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("hdis-sync: cannot start the async runtime: {e}");
            return std::process::ExitCode::from(1);
        }
    };
    let code = runtime.block_on(hdis_sync::app::run(cli));
    std::process::ExitCode::from(code)
}
