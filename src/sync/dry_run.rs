//! `--dry-run`: the reads of a cycle (GET CASES, STATUS) and everything it
//! would do, computed by the same pure functions, printed, and nothing
//! written: not to the ITSM (it is not even contacted), not to Lexmark, not
//! to the state (opened read-only, or absent).

use chrono::Utc;
use serde::Serialize;
use tokio_util::sync::CancellationToken;

use super::diff::{Snapshot, diff};
use super::intake::{self, IntakeDecision};
use super::{RetryPolicy, payload};
use crate::config::SyncConfig;
use crate::lexmark::{CasesQuery, LexmarkClient};
use crate::store::{ItemKind, Store, StoreError};

/// What a cycle would do.
#[derive(Debug, Default, Serialize)]
pub struct DryRun {
    pub cases_listed: usize,
    /// (case, title) of tickets that would be opened.
    pub would_create: Vec<(String, String)>,
    /// (case, ticket number) of numbers that would be written back.
    pub would_write_back: Vec<(String, String)>,
    /// (case, kind, item id) of outbox items already queued.
    pub queued: Vec<(String, String, i64)>,
    /// (case, ticket number, note) of notes that would be added.
    pub would_forward: Vec<(String, String, String)>,
    /// Problems met while reading (per case, or GET CASES itself).
    pub errors: Vec<String>,
    pub lexmark_unreachable: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum DryRunError {
    #[error(transparent)]
    Store(#[from] StoreError),
}

pub async fn dry_run(
    lexmark: &LexmarkClient,
    store: Option<&Store>,
    settings: &SyncConfig,
    past_days: Option<u32>,
) -> Result<DryRun, DryRunError> {
    let mut out = DryRun::default();
    let retry = RetryPolicy::from_config(settings);
    let never = CancellationToken::new();
    let query = CasesQuery {
        past_days: Some(past_days.unwrap_or(settings.past_days)),
        case_origin: settings.case_origin.clone(),
        case_type: settings.case_type.clone(),
    };
    match retry
        .run("GET CASES", &never, || lexmark.get_cases(&query))
        .await
    {
        Err(e) => {
            out.lexmark_unreachable = e.is_unreachable();
            out.errors.push(e.to_string());
        }
        Ok(list) => {
            out.cases_listed = list.cases.len() + list.rejected.len();
            out.errors
                .extend(list.rejected.iter().map(|r| r.to_string()));
            for doc in list.cases {
                let known = match store {
                    Some(s) => s.case(&doc.case_number)?,
                    None => None,
                };
                match intake::decide(known.as_ref()) {
                    IntakeDecision::New if doc.customer_ticket_number.is_none() => {
                        out.would_create
                            .push((doc.case_number.clone(), payload::new_ticket(&doc).title));
                    }
                    IntakeDecision::New | IntakeDecision::CreatePending => {}
                    IntakeDecision::WriteBack { ticket_number } => out
                        .would_write_back
                        .push((doc.case_number.clone(), ticket_number)),
                }
            }
        }
    }
    let Some(store) = store else { return Ok(out) };
    for item in store.pending_items()? {
        out.queued.push((
            item.case_number.clone(),
            item.kind.as_str().to_string(),
            item.id,
        ));
        if item.kind == ItemKind::WriteBack {
            out.would_write_back.retain(|(c, _)| *c != item.case_number);
        }
    }
    if out.lexmark_unreachable {
        return Ok(out);
    }
    let now = Utc::now();
    for row in store.pollable_cases(now, settings.closed_grace_days)? {
        let ticket = row
            .ticket
            .as_ref()
            .map(|t| t.number.clone())
            .unwrap_or_default();
        match retry
            .run("STATUS", &never, || lexmark.status(&row.case_number))
            .await
        {
            Err(e) => out.errors.push(e.to_string()),
            Ok(doc) => {
                for change in diff(&row.snapshot, &Snapshot::of(&doc)) {
                    out.would_forward.push((
                        row.case_number.clone(),
                        ticket.clone(),
                        change.note(&row.case_number),
                    ));
                }
            }
        }
    }
    Ok(out)
}

impl DryRun {
    pub fn print(&self) {
        println!("Dry run: nothing was written to the ITSM, to Lexmark or to the state.");
        println!("GET CASES listed {} case(s).", self.cases_listed);
        println!("Tickets that would be opened: {}", self.would_create.len());
        for (case, title) in &self.would_create {
            println!("  {case}  \"{title}\"");
        }
        println!(
            "Ticket numbers that would be written back to Lexmark: {}",
            self.would_write_back.len()
        );
        for (case, number) in &self.would_write_back {
            println!("  {case} ← {number} (Lexmark still lists the case as new)");
        }
        println!(
            "Outbox items already queued, delivered by the next run: {}",
            self.queued.len()
        );
        for (case, kind, id) in &self.queued {
            println!("  #{id} {case} {kind}");
        }
        println!(
            "Notes that would be added to tickets: {}",
            self.would_forward.len()
        );
        for (case, ticket, note) in &self.would_forward {
            println!("  {ticket} ({case}): {}", note.replace('\n', "\n      "));
        }
        if !self.errors.is_empty() {
            println!("Problems: {}", self.errors.len());
            for e in &self.errors {
                println!("  {e}");
            }
        }
    }
}
