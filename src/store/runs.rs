//! Runs: one row per cycle, for `status` and monitoring.

use chrono::{DateTime, Utc};
use rusqlite::params;

use super::{Result, Store, parse_ts, ts, write};

#[derive(Debug, Clone, serde::Serialize)]
pub struct RunRow {
    pub id: i64,
    pub started_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    pub outcome: Option<String>,
    pub counts: Option<serde_json::Value>,
    pub error: Option<String>,
}

impl Store {
    pub fn begin_run(&self, now: DateTime<Utc>) -> Result<i64> {
        write(&mut self.conn(), |tx| {
            tx.execute("INSERT INTO runs (started_at) VALUES (?1)", [ts(now)])?;
            Ok(tx.last_insert_rowid())
        })
    }

    pub fn finish_run(
        &self,
        id: i64,
        outcome: &str,
        counts: &serde_json::Value,
        error: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<()> {
        write(&mut self.conn(), |tx| {
            tx.execute(
                "UPDATE runs SET finished_at = ?2, outcome = ?3, counts = ?4, error = ?5 WHERE id = ?1",
                params![id, ts(now), outcome, counts.to_string(), error],
            )?;
            Ok(())
        })
    }

    pub fn recent_runs(&self, limit: usize) -> Result<Vec<RunRow>> {
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT id, started_at, finished_at, outcome, counts, error FROM runs ORDER BY id DESC LIMIT ?1",
        )?;
        let rows = stmt
            .query_map([limit as i64], |r| {
                Ok(RunRow {
                    id: r.get(0)?,
                    started_at: parse_ts(&r.get::<_, String>(1)?).unwrap_or_default(),
                    finished_at: r.get::<_, Option<String>>(2)?.as_deref().and_then(parse_ts),
                    outcome: r.get(3)?,
                    counts: r
                        .get::<_, Option<String>>(4)?
                        .and_then(|s| serde_json::from_str(&s).ok()),
                    error: r.get(5)?,
                })
            })?
            .collect::<rusqlite::Result<_>>()?;
        Ok(rows)
    }
}
