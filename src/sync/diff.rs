//! The pure heart of the sync: trigger snapshots and the changes between them.
//!
//! A [`Snapshot`] holds only the trigger fields of a case, normalised so that
//! array order, `null` vs `[]` vs missing, and timestamp offsets do not matter.
//! [`diff`] lists what the ticket must hear about; [`Snapshot::merge`] gives
//! the snapshot to store afterwards. Nothing here does I/O.
//!
//! Rules (hdis-api.md):
//! - A field that is absent in the new document is "no news", not a change to
//!   nothing: the last known value is kept and nothing is forwarded.
//! - Work and sales orders are keyed by number: a new number is an addition, a
//!   changed status a change; one that vanishes is kept in the snapshot (so its
//!   return is not news) and reported by [`vanished`] for logging only.
//! - A comment's identity is (createdOn, createdBy, description). Comments
//!   once seen are remembered forever; new ones are forwarded oldest first.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::lexmark::model::{CaseDocument, Timestamp};

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Snapshot {
    pub state: Option<String>,
    pub status: Option<String>,
    pub detailed_status: Option<String>,
    /// Work order number → status.
    pub work_orders: BTreeMap<String, Option<String>>,
    /// Sales order number → status and shipping details.
    pub sales_orders: BTreeMap<String, SalesOrderSnap>,
    pub comments: BTreeSet<CommentKey>,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Default, Serialize, Deserialize)]
pub struct SalesOrderSnap {
    pub status: Option<String>,
    pub carrier: Option<String>,
    pub tracking_number: Option<String>,
    pub tracking_link: Option<String>,
}

/// The identity of a comment. Ordering is chronological (unreadable and
/// absent times last), then by author and text, so a set iterates oldest first.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct CommentKey {
    /// `0` for a readable time, `1` for unreadable text, `2` for absent:
    /// keeps readable times first when ordering.
    rank: u8,
    pub created_on: Option<String>,
    pub created_by: Option<String>,
    pub description: Option<String>,
}

impl CommentKey {
    pub fn new(
        created_on: &Timestamp,
        created_by: Option<String>,
        description: Option<String>,
    ) -> Self {
        let rank = match created_on {
            Timestamp::At(_) => 0,
            Timestamp::Unparsed(_) => 1,
            Timestamp::Absent => 2,
        };
        CommentKey {
            rank,
            created_on: created_on.to_text(),
            created_by,
            description,
        }
    }
}

impl Snapshot {
    /// The trigger fields of a case document.
    pub fn of(case: &CaseDocument) -> Snapshot {
        let mut s = Snapshot {
            state: case.state.clone(),
            status: case.status.clone(),
            detailed_status: case.detailed_status.clone(),
            ..Snapshot::default()
        };
        // A number listed twice keeps the greater entry, so that the result
        // never depends on array order.
        for w in &case.work_order {
            if let Some(n) = &w.work_order_number {
                let entry = s.work_orders.entry(n.clone()).or_default();
                *entry = entry.clone().max(w.work_order_status.clone());
            }
        }
        for o in &case.sales_order {
            if let Some(n) = &o.sales_order_number {
                let snap = SalesOrderSnap {
                    status: o.sales_order_status.clone(),
                    carrier: o.carrier.clone(),
                    tracking_number: o.tracking_number.clone(),
                    tracking_link: o.tracking_link.clone(),
                };
                let entry = s.sales_orders.entry(n.clone()).or_default();
                *entry = entry.clone().max(snap);
            }
        }
        for c in &case.comments {
            s.comments.insert(CommentKey::new(
                &c.created_on,
                c.created_by.clone(),
                c.description.clone(),
            ));
        }
        s
    }

    /// What to store after observing `new`: the new values where present,
    /// the old ones where the document is silent. Equals `apply(self, diff(self, new))`.
    pub fn merge(&self, new: &Snapshot) -> Snapshot {
        let mut out = self.clone();
        apply(&mut out, &diff(self, new));
        out
    }
}

/// One change to forward to the ticket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Change {
    StateChanged {
        from: Option<String>,
        to: String,
    },
    StatusChanged {
        from: Option<String>,
        to: String,
    },
    DetailedStatusChanged {
        from: Option<String>,
        to: String,
    },
    WorkOrderAdded {
        number: String,
        status: Option<String>,
    },
    WorkOrderStatusChanged {
        number: String,
        from: Option<String>,
        to: String,
    },
    SalesOrderAdded {
        number: String,
        order: SalesOrderSnap,
    },
    SalesOrderChanged {
        number: String,
        from: Option<String>,
        order: SalesOrderSnap,
    },
    CommentAdded {
        comment: CommentKey,
    },
}

/// The changes from `old` to `new`, in a stable order: state, status,
/// detailed status, work orders and sales orders by number, then comments
/// oldest first.
pub fn diff(old: &Snapshot, new: &Snapshot) -> Vec<Change> {
    let mut out = Vec::new();
    let scalar = |from: &Option<String>, to: &Option<String>| match to {
        Some(t) if from.as_ref() != Some(t) => Some((from.clone(), t.clone())),
        _ => None,
    };
    if let Some((from, to)) = scalar(&old.state, &new.state) {
        out.push(Change::StateChanged { from, to });
    }
    if let Some((from, to)) = scalar(&old.status, &new.status) {
        out.push(Change::StatusChanged { from, to });
    }
    if let Some((from, to)) = scalar(&old.detailed_status, &new.detailed_status) {
        out.push(Change::DetailedStatusChanged { from, to });
    }
    for (number, status) in &new.work_orders {
        match old.work_orders.get(number) {
            None => out.push(Change::WorkOrderAdded {
                number: number.clone(),
                status: status.clone(),
            }),
            Some(before) => {
                if let Some((from, to)) = scalar(before, status) {
                    out.push(Change::WorkOrderStatusChanged {
                        number: number.clone(),
                        from,
                        to,
                    });
                }
            }
        }
    }
    for (number, order) in &new.sales_orders {
        match old.sales_orders.get(number) {
            None => out.push(Change::SalesOrderAdded {
                number: number.clone(),
                order: order.clone(),
            }),
            Some(before) => {
                // Only a status change is news; shipping details ride along
                // with it (kept from before when the new document omits them).
                if let Some((from, to)) = scalar(&before.status, &order.status) {
                    let order = SalesOrderSnap {
                        status: Some(to),
                        carrier: order.carrier.clone().or_else(|| before.carrier.clone()),
                        tracking_number: order
                            .tracking_number
                            .clone()
                            .or_else(|| before.tracking_number.clone()),
                        tracking_link: order
                            .tracking_link
                            .clone()
                            .or_else(|| before.tracking_link.clone()),
                    };
                    out.push(Change::SalesOrderChanged {
                        number: number.clone(),
                        from,
                        order,
                    });
                }
            }
        }
    }
    for comment in new.comments.difference(&old.comments) {
        out.push(Change::CommentAdded {
            comment: comment.clone(),
        });
    }
    out
}

/// Applies changes to a snapshot (the inverse view of [`diff`]).
pub fn apply(s: &mut Snapshot, changes: &[Change]) {
    for c in changes {
        match c {
            Change::StateChanged { to, .. } => s.state = Some(to.clone()),
            Change::StatusChanged { to, .. } => s.status = Some(to.clone()),
            Change::DetailedStatusChanged { to, .. } => s.detailed_status = Some(to.clone()),
            Change::WorkOrderAdded { number, status } => {
                s.work_orders.insert(number.clone(), status.clone());
            }
            Change::WorkOrderStatusChanged { number, to, .. } => {
                s.work_orders.insert(number.clone(), Some(to.clone()));
            }
            Change::SalesOrderAdded { number, order }
            | Change::SalesOrderChanged { number, order, .. } => {
                s.sales_orders.insert(number.clone(), order.clone());
            }
            Change::CommentAdded { comment } => {
                s.comments.insert(comment.clone());
            }
        }
    }
}

/// Work and sales order numbers known before but missing now (logged only).
pub fn vanished(old: &Snapshot, new: &Snapshot) -> Vec<String> {
    let wo = old
        .work_orders
        .keys()
        .filter(|n| !new.work_orders.contains_key(*n))
        .map(|n| format!("work order {n}"));
    let so = old
        .sales_orders
        .keys()
        .filter(|n| !new.sales_orders.contains_key(*n))
        .map(|n| format!("sales order {n}"));
    wo.chain(so).collect()
}

impl Change {
    /// The key of this change as detected on this case at this moment: the
    /// marker its note carries. (The time is part of it: the same transition
    /// can legitimately happen twice, e.g. Active → Resolved → Active → Resolved.)
    pub fn key(&self, case_number: &str, detected_at: DateTime<Utc>) -> String {
        let canonical = serde_json::to_string(self).unwrap_or_default();
        let mut h = Sha256::new();
        h.update(case_number.as_bytes());
        h.update([0]);
        h.update(canonical.as_bytes());
        h.update([0]);
        h.update(
            detected_at
                .timestamp_nanos_opt()
                .unwrap_or_default()
                .to_le_bytes(),
        );
        hex::encode(&h.finalize()[..8])
    }

    /// The new Lexmark state when this change is a state change.
    pub fn new_state(&self) -> Option<&str> {
        match self {
            Change::StateChanged { to, .. } => Some(to),
            _ => None,
        }
    }

    /// The human-readable note for the ticket.
    pub fn note(&self, case_number: &str) -> String {
        let from_to = |from: &Option<String>, to: &str| match from {
            Some(f) => format!("from {f} to {to}"),
            None => format!("to {to}"),
        };
        let or_unknown = |s: &Option<String>| s.clone().unwrap_or_else(|| "(none)".into());
        match self {
            Change::StateChanged { from, to } => format!(
                "Lexmark case {case_number}: state changed {}.",
                from_to(from, to)
            ),
            Change::StatusChanged { from, to } => format!(
                "Lexmark case {case_number}: status changed {}.",
                from_to(from, to)
            ),
            Change::DetailedStatusChanged { from, to } => {
                format!(
                    "Lexmark case {case_number}: detailed status changed {}.",
                    from_to(from, to)
                )
            }
            Change::WorkOrderAdded { number, status } => {
                format!(
                    "Lexmark case {case_number}: work order {number} added, status {}.",
                    or_unknown(status)
                )
            }
            Change::WorkOrderStatusChanged { number, from, to } => {
                format!(
                    "Lexmark case {case_number}: work order {number} status changed {}.",
                    from_to(from, to)
                )
            }
            Change::SalesOrderAdded { number, order } => format!(
                "Lexmark case {case_number}: sales order {number} added, status {}.{}",
                or_unknown(&order.status),
                shipping(order)
            ),
            Change::SalesOrderChanged {
                number,
                from,
                order,
            } => format!(
                "Lexmark case {case_number}: sales order {number} status changed {}.{}",
                from_to(from, order.status.as_deref().unwrap_or("(none)")),
                shipping(order)
            ),
            Change::CommentAdded { comment } => format!(
                "Lexmark case {case_number}: comment from {} at {}:\n{}",
                comment.created_by.as_deref().unwrap_or("(unknown)"),
                comment.created_on.as_deref().unwrap_or("(no time)"),
                comment.description.as_deref().unwrap_or("")
            ),
        }
    }
}

fn shipping(o: &SalesOrderSnap) -> String {
    let mut parts = Vec::new();
    if let Some(c) = &o.carrier {
        parts.push(format!("Carrier: {c}"));
    }
    if let Some(t) = &o.tracking_number {
        parts.push(format!("Tracking number: {t}"));
    }
    if let Some(l) = &o.tracking_link {
        parts.push(format!("Tracking link: {l}"));
    }
    if parts.is_empty() {
        String::new()
    } else {
        format!("\n{}", parts.join("\n"))
    }
}

#[cfg(test)]
mod tests;
