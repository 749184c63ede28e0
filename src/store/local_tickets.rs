//! The embedded local ticket system: tickets and their notes in a SQLite
//! file of their own, numbered `LOC0000001`, `LOC0000002`, …
//! The `local` connector is its only writer; `hdis-sync tickets` reads it.

use std::path::Path;
use std::sync::Mutex;

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, params};

use super::{Result, open_connection, ts, write};

const LOCAL_SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS tickets (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    number          TEXT NOT NULL UNIQUE,
    correlation_key TEXT NOT NULL UNIQUE,
    title           TEXT NOT NULL,
    description     TEXT NOT NULL,
    state           TEXT,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS notes (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    ticket_id  INTEGER NOT NULL REFERENCES tickets (id),
    body       TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS notes_by_ticket ON notes (ticket_id, id);
";

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct LocalTicket {
    pub id: i64,
    pub number: String,
    pub correlation_key: String,
    pub title: String,
    pub description: String,
    pub state: Option<String>,
    pub created_at: String,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct LocalNote {
    pub body: String,
    pub created_at: String,
}

pub struct LocalTickets {
    conn: Mutex<Connection>,
}

const TICKET_COLUMNS: &str = "id, number, correlation_key, title, description, state, created_at";

fn row_to_ticket(r: &rusqlite::Row<'_>) -> rusqlite::Result<LocalTicket> {
    Ok(LocalTicket {
        id: r.get(0)?,
        number: r.get(1)?,
        correlation_key: r.get(2)?,
        title: r.get(3)?,
        description: r.get(4)?,
        state: r.get(5)?,
        created_at: r.get(6)?,
    })
}

impl LocalTickets {
    pub fn open(path: &Path) -> Result<LocalTickets> {
        let mut conn = open_connection(path)?;
        write(&mut conn, |tx| Ok(tx.execute_batch(LOCAL_SCHEMA)?))?;
        Ok(LocalTickets {
            conn: Mutex::new(conn),
        })
    }

    fn conn(&self) -> std::sync::MutexGuard<'_, Connection> {
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn find_by_correlation(&self, key: &str) -> Result<Option<LocalTicket>> {
        Ok(self
            .conn()
            .query_row(
                &format!("SELECT {TICKET_COLUMNS} FROM tickets WHERE correlation_key = ?1"),
                [key],
                row_to_ticket,
            )
            .optional()?)
    }

    pub fn by_number(&self, number: &str) -> Result<Option<LocalTicket>> {
        Ok(self
            .conn()
            .query_row(
                &format!("SELECT {TICKET_COLUMNS} FROM tickets WHERE number = ?1"),
                [number],
                row_to_ticket,
            )
            .optional()?)
    }

    /// Creates a ticket, or returns the one already stamped with the key
    /// (the unique correlation key makes a second one impossible).
    pub fn create(
        &self,
        key: &str,
        title: &str,
        description: &str,
        state: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<LocalTicket> {
        write(&mut self.conn(), |tx| {
            let existing = tx
                .query_row(
                    &format!("SELECT {TICKET_COLUMNS} FROM tickets WHERE correlation_key = ?1"),
                    [key],
                    row_to_ticket,
                )
                .optional()?;
            if let Some(t) = existing {
                return Ok(t);
            }
            let next: i64 =
                tx.query_row("SELECT COALESCE(MAX(id), 0) + 1 FROM tickets", [], |r| {
                    r.get(0)
                })?;
            let number = format!("LOC{next:07}");
            tx.execute(
                "INSERT INTO tickets (id, number, correlation_key, title, description, state, created_at, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7)",
                params![next, number, key, title, description, state, ts(now)],
            )?;
            Ok(tx.query_row(
                &format!("SELECT {TICKET_COLUMNS} FROM tickets WHERE id = ?1"),
                [next],
                row_to_ticket,
            )?)
        })
    }

    /// Adds a note, and sets the ticket's state when given.
    pub fn add_note(
        &self,
        ticket_id: i64,
        body: &str,
        state: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        write(&mut self.conn(), |tx| {
            let n = tx.execute(
                "UPDATE tickets SET updated_at = ?2, state = COALESCE(?3, state) WHERE id = ?1",
                params![ticket_id, ts(now), state],
            )?;
            if n == 0 {
                return Ok(false);
            }
            tx.execute(
                "INSERT INTO notes (ticket_id, body, created_at) VALUES (?1, ?2, ?3)",
                params![ticket_id, body, ts(now)],
            )?;
            Ok(true)
        })
    }

    pub fn has_note_containing(&self, ticket_id: i64, text: &str) -> Result<bool> {
        let n: i64 = self.conn().query_row(
            "SELECT COUNT(*) FROM notes WHERE ticket_id = ?1 AND instr(body, ?2) > 0",
            params![ticket_id, text],
            |r| r.get(0),
        )?;
        Ok(n > 0)
    }

    pub fn list(&self) -> Result<Vec<(LocalTicket, i64)>> {
        let conn = self.conn();
        let mut stmt = conn.prepare(&format!(
            "SELECT {TICKET_COLUMNS}, (SELECT COUNT(*) FROM notes n WHERE n.ticket_id = t.id) FROM tickets t ORDER BY id"
        ))?;
        let rows = stmt
            .query_map([], |r| Ok((row_to_ticket(r)?, r.get(7)?)))?
            .collect::<rusqlite::Result<_>>()?;
        Ok(rows)
    }

    pub fn notes(&self, ticket_id: i64) -> Result<Vec<LocalNote>> {
        let conn = self.conn();
        let mut stmt =
            conn.prepare("SELECT body, created_at FROM notes WHERE ticket_id = ?1 ORDER BY id")?;
        let rows = stmt
            .query_map([ticket_id], |r| {
                Ok(LocalNote {
                    body: r.get(0)?,
                    created_at: r.get(1)?,
                })
            })?
            .collect::<rusqlite::Result<_>>()?;
        Ok(rows)
    }
}
