//! The SQLite state: the only place with SQL.
//!
//! One file in WAL mode with a `busy_timeout`; every write transaction is
//! opened IMMEDIATE; the schema (`schema.sql`, embedded) is versioned in
//! `PRAGMA user_version`. Calls are short and synchronous; the connection is
//! behind a mutex so the store can be shared by the tasks of one cycle.

mod cases;
pub mod local_tickets;
mod outbox;
mod runs;

use std::path::Path;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use chrono::{DateTime, SecondsFormat, Utc};
use rusqlite::{Connection, ErrorCode, Transaction, TransactionBehavior};

pub use cases::{CaseError, CaseRow, Phase};
pub use outbox::{ItemKind, NewItem, OutboxItem};
pub use runs::RunRow;

/// The schema, applied on first open.
pub const SCHEMA: &str = include_str!("../../schema.sql");
/// Bumped with every change to `schema.sql`, with a migration step in [`migrate`].
pub const SCHEMA_VERSION: i64 = 1;

const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("SQLite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("cannot create state directory {path}: {source}")]
    Dir {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("stored JSON for {what} is unreadable: {source}")]
    Json {
        what: String,
        #[source]
        source: serde_json::Error,
    },
    #[error(
        "state file schema version {found} is newer than this binary understands ({supported}); upgrade hdis-sync"
    )]
    TooNew { found: i64, supported: i64 },
    #[error(
        "state file schema version {found} is older than this binary's ({supported}); a normal run migrates it, a dry run cannot"
    )]
    NeedsMigration { found: i64, supported: i64 },
    #[error("no such {0}")]
    NotFound(String),
}

impl StoreError {
    /// The database was locked past the busy timeout: worth another try later.
    pub fn is_busy(&self) -> bool {
        matches!(self, StoreError::Sqlite(rusqlite::Error::SqliteFailure(e, _))
            if e.code == ErrorCode::DatabaseBusy || e.code == ErrorCode::DatabaseLocked)
    }
}

pub type Result<T> = std::result::Result<T, StoreError>;

/// Opens a SQLite file with the pragmas every file here uses.
pub(crate) fn open_connection(path: &Path) -> Result<Connection> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|source| StoreError::Dir {
            path: dir.display().to_string(),
            source,
        })?;
    }
    let conn = Connection::open(path)?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    Ok(conn)
}

/// Runs `f` in an IMMEDIATE transaction and commits it.
pub(crate) fn write<T>(
    conn: &mut Connection,
    f: impl FnOnce(&Transaction<'_>) -> Result<T>,
) -> Result<T> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let out = f(&tx)?;
    tx.commit()?;
    Ok(out)
}

pub(crate) fn ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Micros, true)
}

pub(crate) fn parse_ts(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

pub(crate) fn to_json<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_string(v).unwrap_or_else(|_| "null".into())
}

pub(crate) fn from_json<T: serde::de::DeserializeOwned>(what: &str, s: &str) -> Result<T> {
    serde_json::from_str(s).map_err(|source| StoreError::Json {
        what: what.into(),
        source,
    })
}

/// The state file.
pub struct Store {
    conn: Mutex<Connection>,
}

impl Store {
    pub fn open(path: &Path) -> Result<Store> {
        let mut conn = open_connection(path)?;
        migrate(&mut conn)?;
        Ok(Store {
            conn: Mutex::new(conn),
        })
    }

    /// Opens an existing state file for reading only (`--dry-run`, which
    /// must leave it untouched); `None` when there is none yet.
    pub fn open_read_only(path: &Path) -> Result<Option<Store>> {
        if !path.exists() {
            return Ok(None);
        }
        let conn = Connection::open_with_flags(
            path,
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        conn.busy_timeout(BUSY_TIMEOUT)?;
        let found: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
        if found > SCHEMA_VERSION {
            return Err(StoreError::TooNew {
                found,
                supported: SCHEMA_VERSION,
            });
        }
        if found < SCHEMA_VERSION {
            return Err(StoreError::NeedsMigration {
                found,
                supported: SCHEMA_VERSION,
            });
        }
        Ok(Some(Store {
            conn: Mutex::new(conn),
        }))
    }

    fn conn(&self) -> MutexGuard<'_, Connection> {
        // A panic while holding the lock cannot leave SQLite half-written
        // (transactions roll back), so a poisoned lock is still usable.
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn schema_version(&self) -> Result<i64> {
        Ok(self
            .conn()
            .pragma_query_value(None, "user_version", |r| r.get(0))?)
    }
}

/// Brings the file to [`SCHEMA_VERSION`].
fn migrate(conn: &mut Connection) -> Result<()> {
    let found: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    if found > SCHEMA_VERSION {
        return Err(StoreError::TooNew {
            found,
            supported: SCHEMA_VERSION,
        });
    }
    if found < 1 {
        write(conn, |tx| {
            tx.execute_batch(SCHEMA)?;
            tx.pragma_update(None, "user_version", SCHEMA_VERSION)?;
            Ok(())
        })?;
    }
    // Later versions add `if found < N { … }` steps here, in order.
    Ok(())
}

#[cfg(test)]
mod tests;
