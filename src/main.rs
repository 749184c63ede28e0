//! Thin entry point: parse the command line, hand over to `app`, exit with its code.

use clap::Parser;

fn main() -> std::process::ExitCode {
    // Output piped into `head` and closed early ends the process quietly, as
    // for any Unix tool, instead of panicking on the broken pipe.
    #[cfg(unix)]
    // SAFETY: restoring the default disposition of SIGPIPE before any thread starts.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    let cli = hdis_sync::cli::Cli::parse();
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
