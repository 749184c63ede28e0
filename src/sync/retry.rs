//! Retries within a cycle: exponential backoff with jitter (backon), a cap
//! per wait and on attempts, `Retry-After` honoured. Whether an error is
//! worth retrying is decided by the error itself (`crate::http::Retry`);
//! across cycles, the schedule is the long backoff.

use std::future::Future;
use std::time::Duration;

use backon::{ExponentialBuilder, Retryable};
use tokio_util::sync::CancellationToken;

use crate::config::SyncConfig;
use crate::http::Retry;

#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    /// Attempts within one cycle (1 = no retry).
    pub attempts: u32,
    pub base: Duration,
    pub max_wait: Duration,
}

impl RetryPolicy {
    pub fn from_config(c: &SyncConfig) -> RetryPolicy {
        RetryPolicy {
            attempts: c.retries_per_cycle.max(1),
            base: Duration::from_millis(c.retry_base_ms),
            max_wait: Duration::from_secs(c.retry_max_wait_secs),
        }
    }

    /// Runs `op` until it succeeds, fails permanently, or runs out of
    /// attempts. A `Retry-After` longer than `max_wait` ends the retries for
    /// this cycle (the next cycle tries again). Once `shutdown` is cancelled
    /// no retry is started and a backoff wait ends at once.
    pub async fn run<T, E, F, Fut>(
        &self,
        what: &str,
        shutdown: &CancellationToken,
        op: F,
    ) -> Result<T, E>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, E>>,
        E: Retryability + std::fmt::Display,
    {
        let backoff = ExponentialBuilder::default()
            .with_min_delay(self.base)
            .with_max_delay(self.max_wait)
            .with_max_times(self.attempts.saturating_sub(1) as usize)
            .with_jitter();
        let max_wait = self.max_wait;
        op.retry(backoff)
            .sleep({
                let shutdown = shutdown.clone();
                move |wait| {
                    let shutdown = shutdown.clone();
                    async move {
                        tokio::select! {
                            _ = tokio::time::sleep(wait) => {}
                            _ = shutdown.cancelled() => {}
                        }
                    }
                }
            })
            .when(|e: &E| matches!(e.retry(), Retry::Transient { .. }) && !shutdown.is_cancelled())
            .adjust(move |e: &E, planned| match e.retry() {
                Retry::Transient { after: Some(after) } if after > max_wait => None,
                Retry::Transient { after: Some(after) } => planned.map(|_| after),
                _ => planned,
            })
            .notify(|e: &E, wait| {
                tracing::warn!(call = what, error = %e, wait_ms = wait.as_millis() as u64, "Transient failure; retrying.");
            })
            .await
    }
}

/// Errors that know whether they are worth retrying.
pub trait Retryability {
    fn retry(&self) -> Retry;
}

impl Retryability for crate::lexmark::Error {
    fn retry(&self) -> Retry {
        crate::lexmark::Error::retry(self)
    }
}

impl Retryability for crate::itsm::ConnectorError {
    fn retry(&self) -> Retry {
        crate::itsm::ConnectorError::retry(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};

    #[derive(Debug)]
    struct E(Retry);
    impl std::fmt::Display for E {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            write!(f, "{:?}", self.0)
        }
    }
    impl Retryability for E {
        fn retry(&self) -> Retry {
            self.0
        }
    }

    fn policy(attempts: u32) -> RetryPolicy {
        RetryPolicy {
            attempts,
            base: Duration::from_millis(100),
            max_wait: Duration::from_secs(5),
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_transient_error_is_retried_up_to_the_attempt_cap() {
        let calls = AtomicU32::new(0);
        let r: Result<(), E> = policy(3)
            .run("t", &CancellationToken::new(), || async {
                calls.fetch_add(1, Ordering::SeqCst);
                Err(E(Retry::Transient { after: None }))
            })
            .await;
        assert!(r.is_err());
        assert_eq!(calls.load(Ordering::SeqCst), 3);
    }

    #[tokio::test(start_paused = true)]
    async fn a_permanent_error_is_never_retried() {
        let calls = AtomicU32::new(0);
        let _ = policy(5)
            .run("t", &CancellationToken::new(), || async {
                calls.fetch_add(1, Ordering::SeqCst);
                Err::<(), _>(E(Retry::Permanent))
            })
            .await;
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }

    #[tokio::test(start_paused = true)]
    async fn retry_after_sets_the_wait_and_a_long_one_defers_to_the_next_cycle() {
        let calls = AtomicU32::new(0);
        let start = tokio::time::Instant::now();
        let r = policy(3)
            .run("t", &CancellationToken::new(), || async {
                match calls.fetch_add(1, Ordering::SeqCst) {
                    0 => Err(E(Retry::Transient {
                        after: Some(Duration::from_secs(2)),
                    })),
                    _ => Ok(()),
                }
            })
            .await;
        assert!(r.is_ok());
        assert!(start.elapsed() >= Duration::from_secs(2));

        let calls = AtomicU32::new(0);
        let _ = policy(3)
            .run("t", &CancellationToken::new(), || async {
                calls.fetch_add(1, Ordering::SeqCst);
                Err::<(), _>(E(Retry::Transient {
                    after: Some(Duration::from_secs(3600)),
                }))
            })
            .await;
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }
}
