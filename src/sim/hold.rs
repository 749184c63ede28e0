//! Holding an answer: the call's effect is stored, then the answer waits
//! until released. Crash tests use it to kill hdis-sync at a precise point
//! ("the request arrived, the server acted, the answer has not left yet")
//! without timing anything.

use tokio::sync::{oneshot, watch};

use super::Simulator;

/// A hold armed with [`Simulator::hold_next`]. Dropping it releases the answer.
#[derive(Debug)]
pub struct SimHold {
    arrived: watch::Receiver<bool>,
    release: Option<oneshot::Sender<()>>,
}

impl SimHold {
    /// Resolves once the held call has arrived and its effect is stored.
    pub async fn arrived(&self) {
        let mut rx = self.arrived.clone();
        // An error means the simulator is gone: nothing will arrive any more.
        let _ = rx.wait_for(|arrived| *arrived).await;
    }

    /// Lets the held answer go.
    pub fn release(mut self) {
        if let Some(tx) = self.release.take() {
            let _ = tx.send(());
        }
    }
}

pub(super) struct PendingHold {
    call: String,
    arrived: watch::Sender<bool>,
    release: oneshot::Receiver<()>,
}

impl Simulator {
    /// Holds the answer to the next call named `call` (as in `CallRecord`).
    pub fn hold_next(&self, call: &str) -> SimHold {
        let (arrived_tx, arrived_rx) = watch::channel(false);
        let (release_tx, release_rx) = oneshot::channel();
        self.holds().push(PendingHold {
            call: call.to_string(),
            arrived: arrived_tx,
            release: release_rx,
        });
        SimHold {
            arrived: arrived_rx,
            release: Some(release_tx),
        }
    }

    /// If a hold waits for this call, signals its arrival and waits for release.
    pub(super) async fn wait_if_held(&self, call: &str) {
        let pending = {
            let mut holds = self.holds();
            let i = holds.iter().position(|h| h.call.eq_ignore_ascii_case(call));
            i.map(|i| holds.remove(i))
        };
        if let Some(hold) = pending {
            let _ = hold.arrived.send(true);
            let _ = hold.release.await;
        }
    }

    fn holds(&self) -> std::sync::MutexGuard<'_, Vec<PendingHold>> {
        self.shared.holds.lock().unwrap_or_else(|p| p.into_inner())
    }
}
