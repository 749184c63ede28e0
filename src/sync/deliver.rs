//! Delivering the outbox: per case in order; a failing item blocks only the
//! later items of its own case; permanent errors and items past
//! `max_attempts` are parked as dead (dead items do not block: `replay`
//! re-queues them).
//!
//! Exactly-once creation: every create looks the correlation key up first,
//! so a create whose outcome was unknown (timeout, crash, kill -9) is found
//! instead of repeated. Updates whose previous outcome is unknown are checked
//! for their marker when the connector can search notes.

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};

use chrono::Utc;
use tokio_util::sync::CancellationToken;
use tracing::{error, info, warn};

use super::{CycleReport, Engine, intake};
use crate::http::Retry;
use crate::itsm::{ConnectorError, NewTicket, TicketRef, TicketUpdate};
use crate::store::{ItemKind, OutboxItem, StoreError};

#[derive(Debug, thiserror::Error)]
enum DeliveryError {
    #[error(transparent)]
    Connector(#[from] ConnectorError),
    #[error(transparent)]
    Lexmark(#[from] crate::lexmark::Error),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("outbox item is unusable: {0}")]
    Payload(String),
}

impl super::retry::Retryability for DeliveryError {
    fn retry(&self) -> Retry {
        match self {
            DeliveryError::Connector(e) => e.retry(),
            DeliveryError::Lexmark(e) => e.retry(),
            DeliveryError::Store(e) if e.is_busy() => Retry::Transient { after: None },
            _ => Retry::Permanent,
        }
    }
}

impl DeliveryError {
    /// A failure that would hit every item alike: credentials refused (401),
    /// or the ticket system's table not found (404 on a lookup or create).
    fn systemic(&self) -> bool {
        let (status, action) = match self {
            DeliveryError::Connector(ConnectorError::Http { source, action, .. }) => {
                (source.status(), Some(*action))
            }
            DeliveryError::Lexmark(crate::lexmark::Error::Http { source, .. }) => {
                (source.status(), None)
            }
            _ => return false,
        };
        match status.map(|s| s.as_u16()) {
            Some(401) => true,
            Some(404) => action.is_some_and(|a| a != "update" && a != "journal lookup"),
            _ => false,
        }
    }

    fn outcome_unknown(&self) -> bool {
        match self {
            DeliveryError::Connector(e) => e.outcome_unknown(),
            DeliveryError::Lexmark(e) => e.outcome_unknown(),
            _ => false,
        }
    }
}

enum Delivered {
    Created(TicketRef),
    Found(TicketRef),
    WroteBack,
    Updated,
    AlreadyPresent,
}

/// Delivers every pending item that is not blocked. `blocked` holds the
/// cases whose delivery failed earlier in this cycle: they wait for the next
/// cycle (the schedule is the long backoff), and so do their later items.
pub async fn deliver_pending(
    engine: &Engine,
    report: &mut CycleReport,
    blocked: &mut HashSet<String>,
    shutdown: &CancellationToken,
) {
    if report.deliveries_stopped {
        return;
    }
    let items = match engine.store.pending_items() {
        Ok(items) => items,
        Err(e) => {
            error!(error = %e, "Could not read the outbox.");
            report.failure = Some(e.to_string());
            return;
        }
    };
    for item in items {
        if shutdown.is_cancelled() {
            return;
        }
        if blocked.contains(&item.case_number) {
            continue;
        }
        match deliver_one(engine, &item, report, shutdown).await {
            Next::Proceed => {}
            Next::BlockCase => {
                blocked.insert(item.case_number.clone());
            }
            Next::StopAll => return,
        }
    }
}

/// What may follow a delivery.
enum Next {
    Proceed,
    /// Later items of this case wait for the next cycle.
    BlockCase,
    /// Nothing more can be delivered this cycle (credentials refused, wrong URL).
    StopAll,
}

async fn deliver_one(
    engine: &Engine,
    item: &OutboxItem,
    report: &mut CycleReport,
    shutdown: &CancellationToken,
) -> Next {
    let case = item.case_number.as_str();
    let ticket = item.ticket_number.as_deref().unwrap_or("");
    // A previous attempt that never recorded its outcome: it may have landed.
    let uncertain = AtomicBool::new(item.in_flight);
    if let Err(e) = engine.store.begin_attempt(item.id, Utc::now()) {
        error!(case, ticket, error = %e, "Could not record the delivery attempt; not delivering.");
        return Next::BlockCase;
    }
    let result = engine
        .retry
        .run(item.kind.as_str(), shutdown, || async {
            let r = attempt(engine, item, uncertain.load(Ordering::SeqCst)).await;
            if let Err(e) = &r
                && e.outcome_unknown()
            {
                uncertain.store(true, Ordering::SeqCst);
            }
            r
        })
        .await;
    let now = Utc::now();
    match result {
        Ok(done) => {
            let committed = match &done {
                Delivered::Created(t) | Delivered::Found(t) => {
                    engine
                        .store
                        .complete_create(item, t, &intake::write_back_item(&t.number), now)
                }
                Delivered::WroteBack => engine.store.complete_write_back(item, now),
                Delivered::Updated | Delivered::AlreadyPresent => {
                    engine.store.complete_item(item, now)
                }
            };
            if let Err(e) = committed {
                // Delivered but not recorded: the item stays in flight, and the
                // next attempt finds the ticket or the marker instead of repeating.
                error!(case, ticket, error = %e, "Delivered, but could not record it; it will be checked next cycle.");
                return Next::BlockCase;
            }
            match done {
                Delivered::Created(t) => {
                    report.tickets_created += 1;
                    info!(case, ticket = %t.number, "Ticket created.");
                }
                Delivered::Found(t) => {
                    report.tickets_found_existing += 1;
                    info!(case, ticket = %t.number, "Ticket already existed for this case (an earlier attempt landed); linked it.");
                }
                Delivered::WroteBack => {
                    report.write_backs_done += 1;
                    info!(case, ticket, "Ticket number written back to Lexmark.");
                }
                Delivered::Updated => {
                    report.updates_delivered += 1;
                    info!(
                        case,
                        ticket,
                        item = item.id,
                        "Update delivered to the ticket."
                    );
                }
                Delivered::AlreadyPresent => {
                    report.updates_already_present += 1;
                    info!(
                        case,
                        ticket,
                        item = item.id,
                        "Update was already on the ticket (an earlier attempt landed); not sent again."
                    );
                }
            }
            Next::Proceed
        }
        Err(e) if e.systemic() => {
            // Not this item's fault: keep it as it is (no attempt counted),
            // deliver nothing more this cycle, and fail the run so the
            // operator sees it.
            let message = e.to_string();
            report.delivery_failures += 1;
            let known = !uncertain.load(Ordering::SeqCst);
            if let Err(se) = engine
                .store
                .fail_item(item, &message, known, false, now)
                .and_then(|()| engine.store.undo_attempt(item.id))
            {
                error!(case, ticket, error = %se, "Could not record the failed delivery.");
            }
            error!(case, ticket, error = %message, "The ticket system refused our credentials or the address is wrong; no more deliveries this cycle. Nothing was parked: fix the configuration and the next run goes on.");
            report.failure = Some(message);
            report.deliveries_stopped = true;
            Next::StopAll
        }
        Err(e) => {
            let permanent = matches!(super::retry::Retryability::retry(&e), Retry::Permanent);
            let attempts = item.attempts + 1;
            let dead = permanent || attempts >= engine.settings.max_attempts;
            let message = e.to_string();
            report.delivery_failures += 1;
            if let Err(se) =
                engine
                    .store
                    .fail_item(item, &message, !uncertain.load(Ordering::SeqCst), dead, now)
            {
                error!(case, ticket, error = %se, "Could not record the failed delivery.");
            }
            if dead {
                report.items_parked_dead += 1;
                let why = if permanent {
                    "a permanent error"
                } else {
                    "too many attempts"
                };
                error!(case, ticket, item = item.id, kind = item.kind.as_str(), attempts, error = %message,
                    "Delivery failed with {why}; item parked as dead (see `hdis-sync status`, re-queue with `hdis-sync replay`).");
                Next::Proceed
            } else {
                warn!(case, ticket, item = item.id, kind = item.kind.as_str(), attempts, error = %message,
                    "Delivery failed; it will be retried next cycle and later items of this case wait.");
                Next::BlockCase
            }
        }
    }
}

async fn attempt(
    engine: &Engine,
    item: &OutboxItem,
    uncertain: bool,
) -> Result<Delivered, DeliveryError> {
    match item.kind {
        ItemKind::CreateTicket => {
            let new: NewTicket = serde_json::from_value(item.payload.clone())
                .map_err(|e| DeliveryError::Payload(e.to_string()))?;
            if let Some(existing) = engine
                .connector
                .find_by_correlation(&new.correlation_key)
                .await?
            {
                return Ok(Delivered::Found(existing));
            }
            Ok(Delivered::Created(engine.connector.create(&new).await?))
        }
        ItemKind::WriteBack => {
            let number = item
                .payload
                .get("ticketNumber")
                .and_then(|v| v.as_str())
                .ok_or_else(|| DeliveryError::Payload("write-back without ticketNumber".into()))?;
            engine
                .lexmark
                .update_ticket_number(&item.case_number, number)
                .await?;
            Ok(Delivered::WroteBack)
        }
        ItemKind::TicketUpdate => {
            let update: TicketUpdate =
                serde_json::from_value(item.payload.get("update").cloned().unwrap_or_default())
                    .map_err(|e| DeliveryError::Payload(e.to_string()))?;
            let ticket = match (&item.ticket_id, &item.ticket_number) {
                (Some(id), Some(number)) => TicketRef {
                    id: id.clone(),
                    number: number.clone(),
                },
                _ => return Err(DeliveryError::Payload("the case has no ticket".into())),
            };
            if uncertain
                && engine.connector.has_marker(&ticket, &update.marker).await? == Some(true)
            {
                return Ok(Delivered::AlreadyPresent);
            }
            engine.connector.update(&ticket, &update).await?;
            Ok(Delivered::Updated)
        }
    }
}
