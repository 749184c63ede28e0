//! Reading Lexmark: GET CASES (intake) and STATUS of open cases (poll).

use chrono::Utc;
use futures::StreamExt;
use tokio_util::sync::CancellationToken;
use tracing::{error, info, warn};

use super::diff::{Snapshot, diff, vanished};
use super::intake::{self, IntakeDecision};
use super::{CycleReport, Engine, payload};
use crate::lexmark::{CaseDocument, CasesQuery};
use crate::store::{ItemKind, NewItem};

fn log_unparsed_timestamps(doc: &CaseDocument) {
    for (field, raw) in doc.unparsed_timestamps() {
        warn!(case = %doc.case_number, field = %field, value = %crate::http::excerpt(raw.as_bytes()), "Timestamp is not RFC 3339; kept as text.");
    }
}

/// GET CASES, then store every new case with its create item, and re-queue
/// the write-back of linked cases Lexmark still lists as new.
pub async fn intake(
    engine: &Engine,
    query: &CasesQuery,
    report: &mut CycleReport,
    shutdown: &CancellationToken,
) {
    let list = match engine
        .retry
        .run("GET CASES", shutdown, || engine.lexmark.get_cases(query))
        .await
    {
        Ok(list) => list,
        Err(e) => {
            error!(error = %e, "GET CASES failed; no new cases this cycle.");
            report.lexmark_unreachable = e.is_unreachable();
            report.failure = Some(e.to_string());
            return;
        }
    };
    report.cases_listed = list.cases.len() + list.rejected.len();
    for rejected in &list.rejected {
        report.cases_rejected += 1;
        error!(case = %rejected.case, field = %rejected.field, error = %crate::http::excerpt(rejected.message.as_bytes()), "GET CASES returned a case that cannot be read; skipped.");
        if let Ok(Some(_)) = engine.store.case(&rejected.case) {
            let _ =
                engine
                    .store
                    .record_case_error(&rejected.case, &rejected.to_string(), Utc::now());
        }
    }
    for doc in list.cases {
        if let Err(e) = intake_one(engine, &doc, report) {
            error!(case = %doc.case_number, error = %e, "Could not store the new case; it will be retried next cycle.");
        }
    }
}

fn intake_one(
    engine: &Engine,
    doc: &CaseDocument,
    report: &mut CycleReport,
) -> Result<(), crate::store::StoreError> {
    let known = engine.store.case(&doc.case_number)?;
    match intake::decide(known.as_ref()) {
        IntakeDecision::New => {
            if let Some(theirs) = &doc.customer_ticket_number {
                report.skipped_linked_elsewhere += 1;
                warn!(case = %doc.case_number, ticket = %theirs, "Case is listed as new but already carries a ticket number we did not write; not opening a ticket.");
                return Ok(());
            }
            log_unparsed_timestamps(doc);
            engine
                .store
                .intake_new_case(doc, &intake::create_item(doc), Utc::now())?;
            report.new_cases += 1;
            info!(case = %doc.case_number, "New case stored; ticket creation queued.");
        }
        IntakeDecision::CreatePending => {}
        IntakeDecision::WriteBack { ticket_number } => {
            if engine.store.ensure_write_back(
                &doc.case_number,
                &intake::write_back_item(&ticket_number),
                Utc::now(),
            )? {
                report.write_backs_queued += 1;
                warn!(case = %doc.case_number, ticket = %ticket_number, "Lexmark still lists the case as new; write-back queued again.");
            }
        }
    }
    Ok(())
}

/// STATUS for every open case with bounded concurrency; changes to trigger
/// fields become outbox items, committed with the new snapshot.
pub async fn poll_open_cases(
    engine: &Engine,
    report: &mut CycleReport,
    shutdown: &CancellationToken,
) {
    let cases = match engine
        .store
        .cases_to_poll(Utc::now(), engine.settings.closed_grace_days)
    {
        Ok(c) => c,
        Err(e) => {
            error!(error = %e, "Could not list the cases to poll.");
            report.failure = Some(e.to_string());
            return;
        }
    };
    let mut results = futures::stream::iter(cases)
        .map(|row| async move {
            let doc = engine
                .retry
                .run("STATUS", shutdown, || {
                    engine.lexmark.status(&row.case_number)
                })
                .await;
            (row, doc)
        })
        .buffer_unordered(engine.settings.poll_concurrency.max(1));
    while let Some((row, result)) = results.next().await {
        let ticket = row.ticket.as_ref().map(|t| t.number.as_str()).unwrap_or("");
        report.cases_polled += 1;
        let doc = match result {
            Ok(doc) => doc,
            Err(e) => {
                report.poll_errors += 1;
                error!(case = %row.case_number, ticket = %ticket, error = %e, "STATUS failed; case skipped this cycle.");
                let _ =
                    engine
                        .store
                        .record_case_error(&row.case_number, &e.to_string(), Utc::now());
                continue;
            }
        };
        log_unparsed_timestamps(&doc);
        let observed = Snapshot::of(&doc);
        for gone in vanished(&row.snapshot, &observed) {
            info!(case = %row.case_number, ticket = %ticket, "The {gone} is no longer in the case document; not forwarded.");
        }
        let now = Utc::now();
        let changes = diff(&row.snapshot, &observed);
        let items: Vec<NewItem> = changes
            .iter()
            .map(|c| {
                let update = payload::ticket_update(&row.case_number, c, now);
                NewItem {
                    kind: ItemKind::TicketUpdate,
                    change_key: Some(update.marker.clone()),
                    payload: serde_json::json!({ "change": c, "update": update }),
                }
            })
            .collect();
        let merged = row.snapshot.merge(&observed);
        match engine.store.record_poll(&doc, &merged, &items, now) {
            Ok(()) => {
                report.changes_detected += items.len();
                for c in &changes {
                    info!(case = %row.case_number, ticket = %ticket, change = %crate::http::excerpt(c.note(&row.case_number).as_bytes()), "Change detected; queued for the ticket.");
                }
            }
            Err(e) => {
                error!(case = %row.case_number, ticket = %ticket, error = %e, "Could not record the poll; it will be repeated next cycle.")
            }
        }
        if shutdown.is_cancelled() {
            break;
        }
    }
}
