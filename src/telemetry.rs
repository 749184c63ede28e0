//! Logging: tracing to stderr and, when `log.dir` is set, to daily rolling
//! files `hdis-sync.YYYY-MM-DD.log` in text or JSON.
//!
//! Retention is done here rather than by tracing-appender's
//! `max_log_files(n)`, which keeps n−1 files after a same-day restart (a
//! timer starting a process every few minutes would lose a day of logs):
//! at start we delete the oldest files so that, with today's, exactly
//! `keep_files` remain.

use std::io::IsTerminal;
use std::path::Path;

use tracing_appender::non_blocking::WorkerGuard;
use tracing_appender::rolling::{RollingFileAppender, Rotation};
use tracing_subscriber::field::RecordFields;
use tracing_subscriber::fmt::FormatFields;
use tracing_subscriber::fmt::format::{DefaultFields, Writer};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer, fmt};

use crate::config::{LogConfig, LogFormat};

pub const FILE_PREFIX: &str = "hdis-sync";
pub const FILE_SUFFIX: &str = "log";

/// Keeps the file writer alive; dropping it flushes the last lines.
pub struct TelemetryGuard {
    _file: Option<WorkerGuard>,
}

#[derive(Debug, thiserror::Error)]
pub enum TelemetryError {
    #[error("log.dir {dir}: {source}")]
    Dir {
        dir: String,
        #[source]
        source: std::io::Error,
    },
    #[error("log file appender: {0}")]
    Appender(String),
}

/// Installs the global subscriber.
pub fn init(config: &LogConfig) -> Result<TelemetryGuard, TelemetryError> {
    let filter = || EnvFilter::try_new(&config.level).unwrap_or_else(|_| EnvFilter::new("info"));
    let json = config.format == LogFormat::Json;
    let stderr = if json {
        fmt::layer()
            .json()
            .with_writer(std::io::stderr)
            .with_filter(filter())
            .boxed()
    } else {
        // ANSI colours only on a terminal (not in the journal), and fields
        // formatted by a type of their own, so the colours never leak into
        // the log file through span fields formatted once and shared.
        fmt::layer()
            .fmt_fields(StderrFields(DefaultFields::new()))
            .with_ansi(std::io::stderr().is_terminal())
            .with_writer(std::io::stderr)
            .with_filter(filter())
            .boxed()
    };
    let (file_layer, guard) = match &config.dir {
        None => (None, None),
        Some(dir) => {
            std::fs::create_dir_all(dir).map_err(|source| TelemetryError::Dir {
                dir: dir.display().to_string(),
                source,
            })?;
            prune(dir, config.keep_files).map_err(|source| TelemetryError::Dir {
                dir: dir.display().to_string(),
                source,
            })?;
            let appender = RollingFileAppender::builder()
                .rotation(Rotation::DAILY)
                .filename_prefix(FILE_PREFIX)
                .filename_suffix(FILE_SUFFIX)
                .build(dir)
                .map_err(|e| TelemetryError::Appender(e.to_string()))?;
            let (writer, guard) = tracing_appender::non_blocking(appender);
            let layer = if json {
                fmt::layer()
                    .json()
                    .with_ansi(false)
                    .with_writer(writer)
                    .with_filter(filter())
                    .boxed()
            } else {
                fmt::layer()
                    .with_ansi(false)
                    .with_writer(writer)
                    .with_filter(filter())
                    .boxed()
            };
            (Some(layer), Some(guard))
        }
    };
    // A second init (tests, the demo inside a process) keeps the first subscriber.
    let _ = tracing_subscriber::registry()
        .with(stderr)
        .with(file_layer)
        .try_init();
    Ok(TelemetryGuard { _file: guard })
}

/// The stderr layer's field formatter: `DefaultFields` under another type.
struct StderrFields(DefaultFields);

impl<'w> FormatFields<'w> for StderrFields {
    fn format_fields<R: RecordFields>(&self, writer: Writer<'w>, fields: R) -> std::fmt::Result {
        self.0.format_fields(writer, fields)
    }
}

/// Deletes the oldest log files so that, counting today's (existing or about
/// to be created), `keep` remain.
pub fn prune(dir: &Path, keep: usize) -> std::io::Result<()> {
    let today = format!(
        "{FILE_PREFIX}.{}.{FILE_SUFFIX}",
        chrono::Utc::now().format("%Y-%m-%d")
    );
    let mut older: Vec<String> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok())
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|n| {
            n.starts_with(&format!("{FILE_PREFIX}."))
                && n.ends_with(&format!(".{FILE_SUFFIX}"))
                && *n != today
        })
        .collect();
    older.sort();
    let allowed_older = keep.saturating_sub(1);
    let excess = older.len().saturating_sub(allowed_older);
    for name in older.into_iter().take(excess) {
        std::fs::remove_file(dir.join(name))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pruning_keeps_exactly_keep_files_counting_today() {
        let dir = tempfile::tempdir().unwrap();
        for day in 1..=9 {
            std::fs::write(
                dir.path().join(format!("hdis-sync.2020-01-0{day}.log")),
                "x",
            )
            .unwrap();
        }
        std::fs::write(dir.path().join("unrelated.txt"), "x").unwrap();
        prune(dir.path(), 5).unwrap();
        let mut left: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        left.sort();
        assert_eq!(
            left,
            vec![
                "hdis-sync.2020-01-06.log",
                "hdis-sync.2020-01-07.log",
                "hdis-sync.2020-01-08.log",
                "hdis-sync.2020-01-09.log",
                "unrelated.txt"
            ]
        );
    }
}
