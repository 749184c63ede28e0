use super::*;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

fn utc(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

fn ticks(expr: &str, zone: &str, from: &str, n: usize) -> Vec<DateTime<Utc>> {
    let cron = parse_schedule(expr).unwrap();
    let tz: Tz = zone.parse().unwrap();
    let mut t = utc(from);
    (0..n)
        .map(|_| {
            t = next_tick(&cron, tz, t).unwrap();
            t
        })
        .collect()
}

#[test]
fn five_and_six_field_expressions_are_both_accepted() {
    assert!(parse_schedule("*/5 * * * *").is_ok());
    assert!(parse_schedule("0 */5 * * * *").is_ok());
    assert!(parse_schedule("not a schedule").is_err());
    assert_eq!(
        ticks("*/5 * * * *", "UTC", "2026-12-03T10:01:00Z", 1),
        vec![utc("2026-12-03T10:05:00Z")]
    );
    assert_eq!(
        ticks("30 */5 * * * *", "UTC", "2026-12-03T10:01:00Z", 1),
        vec![utc("2026-12-03T10:05:30Z")]
    );
}

#[test]
fn day_of_month_and_day_of_week_combine_by_or_as_in_cron() {
    // Fridays at noon, and the 13th at noon: Fri 11 Dec, Sun 13 Dec, Fri 18 Dec 2026.
    assert_eq!(
        ticks("0 12 13 * FRI", "UTC", "2026-12-05T00:00:00Z", 3),
        vec![
            utc("2026-12-11T12:00:00Z"),
            utc("2026-12-13T12:00:00Z"),
            utc("2026-12-18T12:00:00Z")
        ]
    );
}

#[test]
fn a_daily_berlin_job_follows_the_wall_clock_across_the_2026_spring_change() {
    // 29 March 2026, 02:00 CET becomes 03:00 CEST: 04:00 local is 03:00 UTC before, 02:00 UTC after.
    assert_eq!(
        ticks("0 0 4 * * *", "Europe/Berlin", "2026-03-27T12:00:00Z", 3),
        vec![
            utc("2026-03-28T03:00:00Z"),
            utc("2026-03-29T02:00:00Z"),
            utc("2026-03-30T02:00:00Z")
        ]
    );
}

#[test]
fn a_daily_berlin_job_follows_the_wall_clock_across_the_2026_autumn_change() {
    // 25 October 2026, 03:00 CEST becomes 02:00 CET.
    assert_eq!(
        ticks("0 0 4 * * *", "Europe/Berlin", "2026-10-23T12:00:00Z", 3),
        vec![
            utc("2026-10-24T02:00:00Z"),
            utc("2026-10-25T03:00:00Z"),
            utc("2026-10-26T03:00:00Z")
        ]
    );
}

#[test]
fn every_five_minutes_in_berlin_runs_straight_through_both_changes() {
    let spring = ticks("0 */5 * * * *", "Europe/Berlin", "2026-03-29T00:50:00Z", 4);
    assert_eq!(
        spring,
        vec![
            utc("2026-03-29T00:55:00Z"),
            utc("2026-03-29T01:00:00Z"),
            utc("2026-03-29T01:05:00Z"),
            utc("2026-03-29T01:10:00Z")
        ]
    );
    let autumn = ticks("0 */5 * * * *", "Europe/Berlin", "2026-10-25T00:50:00Z", 4);
    assert_eq!(
        autumn,
        vec![
            utc("2026-10-25T00:55:00Z"),
            utc("2026-10-25T01:00:00Z"),
            utc("2026-10-25T01:05:00Z"),
            utc("2026-10-25T01:10:00Z")
        ]
    );
}

#[test]
fn a_new_york_job_in_the_missing_spring_hour_runs_at_the_next_valid_time() {
    // 8 March 2026, 02:00 EST becomes 03:00 EDT: 02:30 does not exist that day.
    assert_eq!(
        ticks(
            "0 30 2 * * *",
            "America/New_York",
            "2026-03-06T12:00:00Z",
            3
        ),
        vec![
            utc("2026-03-07T07:30:00Z"), // 02:30 EST
            utc("2026-03-08T07:00:00Z"), // 03:00 EDT: the first valid time after the gap, still that day
            utc("2026-03-09T06:30:00Z"), // 02:30 EDT
        ]
    );
}

#[test]
fn an_hourly_new_york_job_keeps_its_minute_across_the_spring_change() {
    assert_eq!(
        ticks(
            "0 30 * * * *",
            "America/New_York",
            "2026-03-08T06:00:00Z",
            3
        ),
        vec![
            utc("2026-03-08T06:30:00Z"),
            utc("2026-03-08T07:30:00Z"),
            utc("2026-03-08T08:30:00Z")
        ]
    );
}

#[test]
fn a_daily_new_york_job_in_the_repeated_autumn_hour_runs_once_that_day() {
    // 1 November 2026, 02:00 EDT becomes 01:00 EST: 01:30 happens twice.
    assert_eq!(
        ticks(
            "0 30 1 * * *",
            "America/New_York",
            "2026-10-30T12:00:00Z",
            3
        ),
        vec![
            utc("2026-10-31T05:30:00Z"), // 01:30 EDT
            utc("2026-11-01T05:30:00Z"), // the first 01:30 (EDT); the repeat at 06:30Z is not run
            utc("2026-11-02T06:30:00Z"), // 01:30 EST
        ]
    );
}

#[test]
fn a_daily_new_york_job_follows_the_wall_clock_across_both_changes() {
    assert_eq!(
        ticks("0 0 9 * * *", "America/New_York", "2026-03-07T20:00:00Z", 2),
        vec![utc("2026-03-08T13:00:00Z"), utc("2026-03-09T13:00:00Z")]
    );
    assert_eq!(
        ticks("0 0 9 * * *", "America/New_York", "2026-10-31T20:00:00Z", 2),
        vec![utc("2026-11-01T14:00:00Z"), utc("2026-11-02T14:00:00Z")]
    );
}

/// Wall-clock time that moves with tokio's (paused) clock.
struct TokioClock {
    base: DateTime<Utc>,
    start: tokio::time::Instant,
}

impl Clock for TokioClock {
    fn now(&self) -> DateTime<Utc> {
        self.base + chrono::Duration::from_std(self.start.elapsed()).unwrap()
    }
}

#[tokio::test(start_paused = true)]
async fn a_cycle_that_outlasts_the_interval_is_never_overlapped_and_its_missed_ticks_are_skipped() {
    let clock = Arc::new(TokioClock {
        base: utc("2026-12-03T10:00:00.500Z"),
        start: tokio::time::Instant::now(),
    });
    let cron = parse_schedule("* * * * * *").unwrap();
    let shutdown = CancellationToken::new();
    let running = Arc::new(AtomicUsize::new(0));
    let max_running = Arc::new(AtomicUsize::new(0));
    let starts = Arc::new(Mutex::new(Vec::new()));
    let skipped = run_on_schedule(
        cron,
        chrono_tz::UTC,
        clock.as_ref(),
        shutdown.clone(),
        || {
            let (running, max_running, starts, clock, shutdown) = (
                running.clone(),
                max_running.clone(),
                starts.clone(),
                clock.clone(),
                shutdown.clone(),
            );
            async move {
                let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                max_running.fetch_max(now, Ordering::SeqCst);
                let n = {
                    let mut s = starts.lock().unwrap();
                    s.push(clock.now());
                    s.len()
                };
                tokio::time::sleep(Duration::from_millis(2500)).await;
                running.fetch_sub(1, Ordering::SeqCst);
                if n == 3 {
                    shutdown.cancel();
                }
            }
        },
    )
    .await;
    assert_eq!(max_running.load(Ordering::SeqCst), 1);
    assert_eq!(
        *starts.lock().unwrap(),
        vec![
            utc("2026-12-03T10:00:01Z"),
            utc("2026-12-03T10:00:04Z"),
            utc("2026-12-03T10:00:07Z")
        ]
    );
    assert_eq!(skipped, 4, "ticks 2, 3, 5 and 6 fell inside cycles");
}

#[tokio::test(start_paused = true)]
async fn cancelling_while_waiting_for_a_tick_returns_at_once() {
    let clock = TokioClock {
        base: utc("2026-12-03T10:00:00Z"),
        start: tokio::time::Instant::now(),
    };
    let shutdown = CancellationToken::new();
    shutdown.cancel();
    let ran = AtomicUsize::new(0);
    run_on_schedule(
        parse_schedule("0 0 * * * *").unwrap(),
        chrono_tz::UTC,
        &clock,
        shutdown,
        || async {
            ran.fetch_add(1, Ordering::SeqCst);
        },
    )
    .await;
    assert_eq!(ran.load(Ordering::SeqCst), 0);
}
