//! When cycles run: a cancellable loop that sleeps until the next cron tick
//! in the configured time zone, runs one cycle, and never overlaps itself
//! (a tick that passes while a cycle runs is skipped and logged).
//!
//! Next ticks are computed afresh from the wall clock in the configured zone
//! before every sleep, so daylight-saving changes move them correctly.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use croner::Cron;
use croner::parser::{CronParser, Seconds};
use tokio_util::sync::CancellationToken;

/// Parses a cron expression with seconds (6 fields) or without (5 fields).
/// Day-of-month and day-of-week combine by OR, as in classic cron.
pub fn parse_schedule(expr: &str) -> Result<Cron, croner::errors::CronError> {
    CronParser::builder()
        .seconds(Seconds::Optional)
        .build()
        .parse(expr)
}

/// The first tick strictly after `now`, in `tz`.
pub fn next_tick(cron: &Cron, tz: Tz, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    cron.find_next_occurrence(&now.with_timezone(&tz), false)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// Runs `cycle` on every tick until `shutdown` is cancelled. A cycle in
/// progress is allowed to finish (it watches the same token itself).
pub async fn run_on_schedule<F, Fut>(cron: Cron, tz: Tz, shutdown: CancellationToken, mut cycle: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    loop {
        let now = Utc::now();
        let Some(next) = next_tick(&cron, tz, now) else {
            tracing::error!(schedule = %cron.pattern.to_string(), "The schedule has no future tick; stopping.");
            return;
        };
        tracing::info!(next_run = %next.with_timezone(&tz).to_rfc3339(), "Waiting for the next scheduled run.");
        let wait = (next - now).to_std().unwrap_or_default();
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tokio::time::sleep(wait) => {}
        }
        let started = Utc::now();
        cycle().await;
        if shutdown.is_cancelled() {
            return;
        }
        let finished = Utc::now();
        if let Some(missed) = next_tick(&cron, tz, started).filter(|t| *t <= finished) {
            tracing::warn!(
                missed_tick = %missed.with_timezone(&tz).to_rfc3339(),
                "A scheduled tick passed while the previous cycle was still running; it was skipped, not run in parallel."
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn five_and_six_field_expressions_are_both_accepted() {
        assert!(parse_schedule("*/5 * * * *").is_ok());
        assert!(parse_schedule("0 */5 * * * *").is_ok());
        assert!(parse_schedule("not a schedule").is_err());
    }

    #[test]
    fn next_tick_follows_the_wall_clock_across_the_berlin_spring_change() {
        // 2026-03-29: 02:00 CET jumps to 03:00 CEST. A daily 04:00 job runs at
        // 02:00 UTC after the change, not 03:00 UTC.
        let cron = parse_schedule("0 0 4 * * *").unwrap();
        let tz: Tz = "Europe/Berlin".parse().unwrap();
        let next = next_tick(&cron, tz, utc("2026-03-28T05:00:00Z")).unwrap();
        assert_eq!(next, utc("2026-03-29T02:00:00Z"));
    }
}
