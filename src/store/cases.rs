//! Cases: intake, poll results, phases, errors.

use chrono::{DateTime, Duration, Utc};
use rusqlite::{OptionalExtension, Row, params};

use super::outbox::{NewItem, insert_item};
use super::{Result, Store, StoreError, from_json, parse_ts, to_json, ts, write};
use crate::itsm::TicketRef;
use crate::lexmark::model::CaseDocument;
use crate::sync::diff::Snapshot;

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Phase {
    New,
    Ticketed,
    Open,
    Closed,
    Archived,
}

impl Phase {
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::New => "new",
            Phase::Ticketed => "ticketed",
            Phase::Open => "open",
            Phase::Closed => "closed",
            Phase::Archived => "archived",
        }
    }

    fn parse(s: &str) -> Phase {
        match s {
            "ticketed" => Phase::Ticketed,
            "open" => Phase::Open,
            "closed" => Phase::Closed,
            "archived" => Phase::Archived,
            _ => Phase::New,
        }
    }

    pub const ALL: [Phase; 5] = [
        Phase::New,
        Phase::Ticketed,
        Phase::Open,
        Phase::Closed,
        Phase::Archived,
    ];
}

/// Lexmark states after which a case is closed.
pub fn is_closed_state(state: Option<&str>) -> bool {
    state.is_some_and(|s| {
        s.eq_ignore_ascii_case("resolved")
            || s.eq_ignore_ascii_case("canceled")
            || s.eq_ignore_ascii_case("cancelled")
    })
}

/// A case whose last poll or delivery failed.
#[derive(Debug, Clone, serde::Serialize)]
pub struct CaseError {
    pub case: String,
    pub ticket: Option<String>,
    pub error: String,
    pub at: String,
}

#[derive(Debug, Clone)]
pub struct CaseRow {
    pub case_number: String,
    pub phase: Phase,
    pub ticket: Option<TicketRef>,
    pub document: CaseDocument,
    pub snapshot: Snapshot,
    pub closed_at: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
}

const COLUMNS: &str =
    "case_number, phase, ticket_id, ticket_number, document, snapshot, closed_at, last_error";

fn row_to_case(r: &Row<'_>) -> rusqlite::Result<(CaseRow, String, String)> {
    let ticket = match (
        r.get::<_, Option<String>>(2)?,
        r.get::<_, Option<String>>(3)?,
    ) {
        (Some(id), Some(number)) => Some(TicketRef { id, number }),
        _ => None,
    };
    Ok((
        CaseRow {
            case_number: r.get(0)?,
            phase: Phase::parse(&r.get::<_, String>(1)?),
            ticket,
            document: CaseDocument::default(),
            snapshot: Snapshot::default(),
            closed_at: r.get::<_, Option<String>>(6)?.as_deref().and_then(parse_ts),
            last_error: r.get(7)?,
        },
        r.get(4)?,
        r.get(5)?,
    ))
}

fn finish(raw: (CaseRow, String, String)) -> Result<CaseRow> {
    let (mut row, doc, snap) = raw;
    row.document = from_json(&format!("document of {}", row.case_number), &doc)?;
    row.snapshot = from_json(&format!("snapshot of {}", row.case_number), &snap)?;
    Ok(row)
}

impl Store {
    pub fn case(&self, case_number: &str) -> Result<Option<CaseRow>> {
        let conn = self.conn();
        let raw = conn
            .query_row(
                &format!("SELECT {COLUMNS} FROM cases WHERE case_number = ?1"),
                [case_number],
                row_to_case,
            )
            .optional()?;
        raw.map(finish).transpose()
    }

    pub fn cases_in(&self, phases: &[Phase]) -> Result<Vec<CaseRow>> {
        let conn = self.conn();
        let list = phases
            .iter()
            .map(|p| format!("'{}'", p.as_str()))
            .collect::<Vec<_>>()
            .join(",");
        let mut stmt = conn.prepare(&format!(
            "SELECT {COLUMNS} FROM cases WHERE phase IN ({list}) ORDER BY case_number"
        ))?;
        let raws = stmt
            .query_map([], row_to_case)?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        raws.into_iter().map(finish).collect()
    }

    /// Stores a case seen for the first time together with its
    /// `create_ticket` item, in one transaction.
    pub fn intake_new_case(
        &self,
        doc: &CaseDocument,
        create: &NewItem,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let snapshot = Snapshot::of(doc);
        write(&mut self.conn(), |tx| {
            tx.execute(
                "INSERT INTO cases (case_number, phase, document, snapshot, first_seen_at, updated_at)
                 VALUES (?1, 'new', ?2, ?3, ?4, ?4)",
                params![doc.case_number, to_json(doc), to_json(&snapshot), ts(now)],
            )?;
            insert_item(tx, &doc.case_number, create, now)?;
            Ok(())
        })
    }

    /// Queues a write-back for a linked case unless one is already pending.
    /// Returns whether one was queued.
    pub fn ensure_write_back(
        &self,
        case_number: &str,
        item: &NewItem,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        write(&mut self.conn(), |tx| {
            let pending: i64 = tx.query_row(
                "SELECT COUNT(*) FROM outbox WHERE case_number = ?1 AND kind = 'write_back' AND status = 'pending'",
                [case_number],
                |r| r.get(0),
            )?;
            if pending > 0 {
                return Ok(false);
            }
            insert_item(tx, case_number, item, now)?;
            Ok(true)
        })
    }

    /// Records a STATUS poll: the document, the merged snapshot, the phase
    /// that follows from its state, and the change items, all in ONE
    /// transaction, so a change is never lost and never detected twice.
    pub fn record_poll(
        &self,
        doc: &CaseDocument,
        snapshot: &Snapshot,
        items: &[NewItem],
        now: DateTime<Utc>,
    ) -> Result<()> {
        write(&mut self.conn(), |tx| {
            let phase: String = tx
                .query_row(
                    "SELECT phase FROM cases WHERE case_number = ?1",
                    [&doc.case_number],
                    |r| r.get(0),
                )
                .optional()?
                .ok_or_else(|| StoreError::NotFound(format!("case {}", doc.case_number)))?;
            let phase = Phase::parse(&phase);
            let closed = is_closed_state(snapshot.state.as_deref());
            let next = match (phase, closed) {
                (Phase::Open, true) => Phase::Closed,
                (Phase::Closed | Phase::Archived, false) => Phase::Open,
                (p, _) => p,
            };
            tx.execute(
                "UPDATE cases SET document = ?2, snapshot = ?3, phase = ?4, updated_at = ?5, last_polled_at = ?5,
                        closed_at = CASE WHEN ?6 THEN COALESCE(closed_at, ?5) ELSE NULL END,
                        last_error = NULL, last_error_at = NULL
                 WHERE case_number = ?1",
                params![doc.case_number, to_json(doc), to_json(snapshot), next.as_str(), ts(now), closed],
            )?;
            for item in items {
                insert_item(tx, &doc.case_number, item, now)?;
            }
            Ok(())
        })
    }

    /// Cases whose STATUS should be read now: linked ones, and closed ones
    /// within the grace period. Closed cases past it are archived here.
    pub fn cases_to_poll(&self, now: DateTime<Utc>, grace_days: u32) -> Result<Vec<CaseRow>> {
        let cutoff = now - Duration::days(i64::from(grace_days));
        write(&mut self.conn(), |tx| {
            tx.execute(
                "UPDATE cases SET phase = 'archived', updated_at = ?2 WHERE phase = 'closed' AND closed_at < ?1",
                params![ts(cutoff), ts(now)],
            )?;
            Ok(())
        })?;
        self.pollable_cases(now, grace_days)
    }

    /// The cases [`Store::cases_to_poll`] would poll, without archiving
    /// anything (for `--dry-run`).
    pub fn pollable_cases(&self, now: DateTime<Utc>, grace_days: u32) -> Result<Vec<CaseRow>> {
        let cutoff = now - Duration::days(i64::from(grace_days));
        Ok(self
            .cases_in(&[Phase::Ticketed, Phase::Open, Phase::Closed])?
            .into_iter()
            .filter(|c| c.phase != Phase::Closed || c.closed_at.is_none_or(|t| t >= cutoff))
            .collect())
    }

    pub fn record_case_error(
        &self,
        case_number: &str,
        error: &str,
        now: DateTime<Utc>,
    ) -> Result<()> {
        write(&mut self.conn(), |tx| {
            tx.execute(
                "UPDATE cases SET last_error = ?2, last_error_at = ?3 WHERE case_number = ?1",
                params![case_number, error, ts(now)],
            )?;
            Ok(())
        })
    }

    pub fn phase_counts(&self) -> Result<Vec<(Phase, i64)>> {
        let conn = self.conn();
        let mut stmt = conn.prepare("SELECT phase, COUNT(*) FROM cases GROUP BY phase")?;
        let found: Vec<(String, i64)> = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<rusqlite::Result<_>>()?;
        Ok(Phase::ALL
            .iter()
            .map(|p| {
                (
                    *p,
                    found
                        .iter()
                        .find(|(s, _)| s == p.as_str())
                        .map_or(0, |(_, n)| *n),
                )
            })
            .collect())
    }

    /// Cases with a recorded error, newest first.
    pub fn cases_with_errors(&self) -> Result<Vec<CaseError>> {
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT case_number, ticket_number, last_error, last_error_at FROM cases
             WHERE last_error IS NOT NULL ORDER BY last_error_at DESC",
        )?;
        let rows = stmt
            .query_map([], |r| {
                Ok(CaseError {
                    case: r.get(0)?,
                    ticket: r.get(1)?,
                    error: r.get(2)?,
                    at: r.get::<_, Option<String>>(3)?.unwrap_or_default(),
                })
            })?
            .collect::<rusqlite::Result<_>>()?;
        Ok(rows)
    }
}
