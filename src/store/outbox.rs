//! The outbox: every delivery is committed here before it is attempted and
//! marked done only after it succeeded.

use chrono::{DateTime, Utc};
use rusqlite::{Transaction, params};

use super::{Result, Store, StoreError, from_json, to_json, ts, write};
use crate::itsm::TicketRef;

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ItemKind {
    CreateTicket,
    WriteBack,
    TicketUpdate,
}

impl ItemKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ItemKind::CreateTicket => "create_ticket",
            ItemKind::WriteBack => "write_back",
            ItemKind::TicketUpdate => "ticket_update",
        }
    }

    fn parse(s: &str) -> Option<ItemKind> {
        match s {
            "create_ticket" => Some(ItemKind::CreateTicket),
            "write_back" => Some(ItemKind::WriteBack),
            "ticket_update" => Some(ItemKind::TicketUpdate),
            _ => None,
        }
    }
}

/// An item to queue.
#[derive(Debug, Clone)]
pub struct NewItem {
    pub kind: ItemKind,
    pub change_key: Option<String>,
    pub payload: serde_json::Value,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct OutboxItem {
    pub id: i64,
    pub case_number: String,
    pub kind: ItemKind,
    pub change_key: Option<String>,
    pub payload: serde_json::Value,
    pub status: String,
    pub attempts: u32,
    /// A previous attempt started and its outcome was never recorded.
    pub in_flight: bool,
    pub last_error: Option<String>,
    pub ticket_id: Option<String>,
    pub ticket_number: Option<String>,
}

pub(super) fn insert_item(
    tx: &Transaction<'_>,
    case_number: &str,
    item: &NewItem,
    now: DateTime<Utc>,
) -> Result<()> {
    tx.execute(
        "INSERT INTO outbox (case_number, kind, change_key, payload, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?5)",
        params![
            case_number,
            item.kind.as_str(),
            item.change_key,
            to_json(&item.payload),
            ts(now)
        ],
    )?;
    Ok(())
}

const ITEM_COLUMNS: &str =
    "o.id, o.case_number, o.kind, o.change_key, o.payload, o.status, o.attempts, o.in_flight,
     o.last_error, c.ticket_id, c.ticket_number";

impl Store {
    fn items_where(&self, filter: &str, args: &[&dyn rusqlite::ToSql]) -> Result<Vec<OutboxItem>> {
        let conn = self.conn();
        let mut stmt = conn.prepare(&format!(
            "SELECT {ITEM_COLUMNS} FROM outbox o JOIN cases c ON c.case_number = o.case_number
             WHERE {filter} ORDER BY o.id"
        ))?;
        let raws = stmt.query_map(args, |r| {
            let item = OutboxItem {
                id: r.get(0)?,
                case_number: r.get(1)?,
                kind: ItemKind::CreateTicket,
                change_key: r.get(3)?,
                payload: serde_json::Value::Null,
                status: r.get(5)?,
                attempts: r.get(6)?,
                in_flight: r.get(7)?,
                last_error: r.get(8)?,
                ticket_id: r.get(9)?,
                ticket_number: r.get(10)?,
            };
            Ok((item, r.get::<_, String>(2)?, r.get::<_, String>(4)?))
        })?;
        raws.map(|raw| {
            let (mut item, kind, payload) = raw?;
            item.kind = ItemKind::parse(&kind)
                .ok_or_else(|| StoreError::NotFound(format!("outbox kind {kind}")))?;
            item.payload = from_json(&format!("outbox item {}", item.id), &payload)?;
            Ok(item)
        })
        .collect()
    }

    /// Pending items in the order they were queued (so per case, too).
    pub fn pending_items(&self) -> Result<Vec<OutboxItem>> {
        self.items_where("o.status = 'pending'", &[])
    }

    pub fn dead_items(&self) -> Result<Vec<OutboxItem>> {
        self.items_where("o.status = 'dead'", &[])
    }

    pub fn items_of_case(&self, case_number: &str) -> Result<Vec<OutboxItem>> {
        self.items_where("o.case_number = ?1", &[&case_number])
    }

    /// Marks an attempt as started (committed before the request goes out).
    pub fn begin_attempt(&self, id: i64, now: DateTime<Utc>) -> Result<()> {
        write(&mut self.conn(), |tx| {
            tx.execute(
                "UPDATE outbox SET in_flight = 1, attempts = attempts + 1, updated_at = ?2 WHERE id = ?1",
                params![id, ts(now)],
            )?;
            Ok(())
        })
    }

    /// A delivered item: done. Clears the case's error.
    pub fn complete_item(&self, item: &OutboxItem, now: DateTime<Utc>) -> Result<()> {
        write(&mut self.conn(), |tx| {
            mark_done(tx, item.id, now)?;
            clear_case_error(tx, &item.case_number)
        })
    }

    /// A created (or found) ticket: the item is done, the ticket is linked
    /// to the case and the write-back is queued, all in one transaction.
    pub fn complete_create(
        &self,
        item: &OutboxItem,
        ticket: &TicketRef,
        write_back: &NewItem,
        now: DateTime<Utc>,
    ) -> Result<()> {
        write(&mut self.conn(), |tx| {
            mark_done(tx, item.id, now)?;
            tx.execute(
                "UPDATE cases SET ticket_id = ?2, ticket_number = ?3, phase = 'ticketed', updated_at = ?4,
                        last_error = NULL, last_error_at = NULL
                 WHERE case_number = ?1",
                params![item.case_number, ticket.id, ticket.number, ts(now)],
            )?;
            insert_item(tx, &item.case_number, write_back, now)
        })
    }

    /// Lexmark has the ticket number: the case becomes open (or closed).
    pub fn complete_write_back(&self, item: &OutboxItem, now: DateTime<Utc>) -> Result<()> {
        write(&mut self.conn(), |tx| {
            mark_done(tx, item.id, now)?;
            tx.execute(
                "UPDATE cases SET phase = CASE WHEN closed_at IS NULL THEN 'open' ELSE 'closed' END,
                        updated_at = ?2, last_error = NULL, last_error_at = NULL
                 WHERE case_number = ?1 AND phase = 'ticketed'",
                params![item.case_number, ts(now)],
            )?;
            clear_case_error(tx, &item.case_number)
        })
    }

    /// A failed attempt. `outcome_known` clears the in-flight mark (the
    /// request certainly had no effect); `dead` parks the item.
    pub fn fail_item(
        &self,
        item: &OutboxItem,
        error: &str,
        outcome_known: bool,
        dead: bool,
        now: DateTime<Utc>,
    ) -> Result<()> {
        write(&mut self.conn(), |tx| {
            tx.execute(
                "UPDATE outbox SET last_error = ?2, updated_at = ?3,
                        in_flight = CASE WHEN ?4 THEN 0 ELSE in_flight END,
                        status = CASE WHEN ?5 THEN 'dead' ELSE status END
                 WHERE id = ?1",
                params![item.id, error, ts(now), outcome_known, dead],
            )?;
            tx.execute(
                "UPDATE cases SET last_error = ?2, last_error_at = ?3 WHERE case_number = ?1",
                params![item.case_number, error, ts(now)],
            )?;
            Ok(())
        })
    }

    /// Takes back the attempt counted by [`Store::begin_attempt`] (a failure
    /// that was not the item's own, such as refused credentials).
    pub fn undo_attempt(&self, id: i64) -> Result<()> {
        write(&mut self.conn(), |tx| {
            tx.execute(
                "UPDATE outbox SET attempts = MAX(attempts - 1, 0) WHERE id = ?1",
                [id],
            )?;
            Ok(())
        })
    }

    /// Re-queues dead items (of one case, or all) with a fresh attempt count.
    pub fn replay(&self, case_number: Option<&str>, now: DateTime<Utc>) -> Result<usize> {
        write(&mut self.conn(), |tx| {
            let n = tx.execute(
                "UPDATE outbox SET status = 'pending', attempts = 0, updated_at = ?2
                 WHERE status = 'dead' AND (?1 IS NULL OR case_number = ?1)",
                params![case_number, ts(now)],
            )?;
            Ok(n)
        })
    }

    pub fn outbox_depth(&self) -> Result<i64> {
        Ok(self.conn().query_row(
            "SELECT COUNT(*) FROM outbox WHERE status = 'pending'",
            [],
            |r| r.get(0),
        )?)
    }
}

fn mark_done(tx: &Transaction<'_>, id: i64, now: DateTime<Utc>) -> Result<()> {
    tx.execute(
        "UPDATE outbox SET status = 'done', in_flight = 0, last_error = NULL, updated_at = ?2, done_at = ?2 WHERE id = ?1",
        params![id, ts(now)],
    )?;
    Ok(())
}

fn clear_case_error(tx: &Transaction<'_>, case_number: &str) -> Result<()> {
    tx.execute(
        "UPDATE cases SET last_error = NULL, last_error_at = NULL WHERE case_number = ?1",
        [case_number],
    )?;
    Ok(())
}
