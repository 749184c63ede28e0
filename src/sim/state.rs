//! The simulator's in-memory state, and the edits of case documents that the
//! customer API and the admin API share.

use std::collections::HashMap;

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Map, Value};

use super::load::Loaded;
use super::{CallRecord, Fault, SimError};

/// First sequence number of generated case numbers.
const FIRST_CASE_SEQ: u64 = 10_001;

#[derive(Debug, Default)]
pub(super) struct SimState {
    /// (the number the case is reachable under, its document), in the order added.
    cases: Vec<(String, Value)>,
    requests: HashMap<String, CaseRequests>,
    pub(super) calls: Vec<CallRecord>,
    pub(super) faults: Vec<Fault>,
    /// Case numbers generated so far.
    generated: u64,
}

/// What the customer asked for that a case document does not show:
/// escalations, cancellations and attachments.
#[derive(Debug, Default, Clone, serde::Serialize)]
pub(super) struct CaseRequests {
    pub escalations: Vec<Value>,
    pub cancellations: Vec<Value>,
    pub attachments: Vec<Value>,
}

/// A stored document that cannot take an edit (a test stored an odd shape).
#[derive(Debug, thiserror::Error)]
#[error("the stored document of case {case} {problem}")]
pub(super) struct DocError {
    pub case: String,
    pub problem: String,
}

impl SimState {
    pub fn add_case(&mut self, mut doc: Value) -> Result<String, SimError> {
        let number = match case_number_of(&doc)? {
            Some(n) => n,
            None => self.new_case_number(),
        };
        if self.case(&number).is_some() {
            return Err(SimError::DuplicateCase(number));
        }
        fill_defaults(&mut doc, &number)?;
        self.cases.push((number.clone(), doc));
        Ok(number)
    }

    /// Adds documents read from files: all of them, or none when one is not
    /// acceptable (a duplicate, or not an object).
    pub fn add_loaded(&mut self, docs: Vec<Loaded>) -> Result<Vec<String>, SimError> {
        let mut numbers: Vec<String> = Vec::with_capacity(docs.len());
        let mut prepared = Vec::with_capacity(docs.len());
        for Loaded {
            path,
            item,
            number,
            mut doc,
        } in docs
        {
            let in_file = |source: SimError| SimError::InFile {
                path: path.clone(),
                item: item.clone(),
                source: Box::new(source),
            };
            if self.case(&number).is_some() || numbers.contains(&number) {
                return Err(in_file(SimError::DuplicateCase(number)));
            }
            fill_defaults(&mut doc, &number).map_err(in_file)?;
            numbers.push(number.clone());
            prepared.push((number, doc));
        }
        self.cases.extend(prepared);
        Ok(numbers)
    }

    pub fn case(&self, number: &str) -> Option<&Value> {
        self.cases.iter().find(|(n, _)| n == number).map(|(_, d)| d)
    }

    pub fn case_mut(&mut self, number: &str) -> Option<&mut Value> {
        self.cases
            .iter_mut()
            .find(|(n, _)| n == number)
            .map(|(_, d)| d)
    }

    pub fn cases(&self) -> impl Iterator<Item = &Value> {
        self.cases.iter().map(|(_, d)| d)
    }

    pub fn case_count(&self) -> usize {
        self.cases.len()
    }

    /// A fresh number like "CAS-10001-K7Q2ZD", not used by any stored case.
    pub fn new_case_number(&mut self) -> String {
        loop {
            let seq = FIRST_CASE_SEQ + self.generated;
            self.generated += 1;
            let number = format!("CAS-{seq}-{}", suffix(seq));
            if self.case(&number).is_none() {
                return number;
            }
        }
    }

    pub fn requests(&self, number: &str) -> CaseRequests {
        self.requests.get(number).cloned().unwrap_or_default()
    }

    pub fn requests_mut(&mut self, number: &str) -> &mut CaseRequests {
        self.requests.entry(number.to_string()).or_default()
    }

    pub fn record(&mut self, record: CallRecord) {
        tracing::info!(
            call = %record.call,
            case = record.case.as_deref(),
            status = record.status,
            "Simulator answered a call."
        );
        self.calls.push(record);
    }

    /// The first fault that matches this call, counted as used once.
    pub fn take_fault(&mut self, call: &str, case: Option<&str>) -> Option<Fault> {
        let i = self.faults.iter().position(|f| {
            f.call.eq_ignore_ascii_case(call)
                && f.case.as_deref().is_none_or(|wanted| Some(wanted) == case)
        })?;
        let fault = &mut self.faults[i];
        let hit = fault.clone();
        if fault.times != u32::MAX {
            fault.times = fault.times.saturating_sub(1);
            if fault.times == 0 {
                self.faults.remove(i);
            }
        }
        Some(hit)
    }
}

/// The caseNumber a document carries: None when absent, null or empty.
pub(super) fn case_number_of(doc: &Value) -> Result<Option<String>, SimError> {
    let Value::Object(map) = doc else {
        return Err(SimError::NotAnObject { found: kind(doc) });
    };
    match map.get("caseNumber") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(other) => Err(SimError::BadCaseNumber { found: kind(other) }),
    }
}

/// Sets the case number, and createdOn when absent.
fn fill_defaults(doc: &mut Value, number: &str) -> Result<(), SimError> {
    let Value::Object(map) = doc else {
        return Err(SimError::NotAnObject { found: kind(doc) });
    };
    map.insert("caseNumber".into(), Value::String(number.into()));
    if !map.contains_key("createdOn") {
        map.insert("createdOn".into(), Value::String(now_text()));
    }
    Ok(())
}

/// "an array", "a string"… for messages.
pub(super) use crate::lexmark::model::kind_of as kind;

/// Now, as Lexmark writes timestamps: RFC 3339, whole seconds, `Z`.
pub(super) fn now_text() -> String {
    time_text(Utc::now())
}

pub(super) fn time_text(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// True when the document carries a customer ticket number (not absent,
/// null, or blank).
pub(super) fn has_ticket_number(doc: &Value) -> bool {
    match doc.get("customerTicketNumber") {
        None | Some(Value::Null) => false,
        Some(Value::String(s)) => !s.trim().is_empty(),
        Some(_) => true,
    }
}

/// createdOn, when it is an RFC 3339 timestamp (any offset).
pub(super) fn created_on(doc: &Value) -> Option<DateTime<Utc>> {
    let text = doc.get("createdOn")?.as_str()?;
    DateTime::parse_from_rfc3339(text.trim())
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

pub(super) fn object_mut<'a>(
    case: &str,
    doc: &'a mut Value,
) -> Result<&'a mut Map<String, Value>, DocError> {
    let found = kind(doc);
    doc.as_object_mut().ok_or_else(|| DocError {
        case: case.into(),
        problem: format!("is {found}, not an object"),
    })
}

/// The array under `key`, created when absent or null.
fn array_mut<'a>(
    case: &str,
    doc: &'a mut Value,
    key: &str,
) -> Result<&'a mut Vec<Value>, DocError> {
    let map = object_mut(case, doc)?;
    let slot = map.entry(key).or_insert(Value::Null);
    if slot.is_null() {
        *slot = Value::Array(Vec::new());
    }
    let found = kind(slot);
    slot.as_array_mut().ok_or_else(|| DocError {
        case: case.into(),
        problem: format!("has {key} as {found}, not an array"),
    })
}

/// Puts a comment first in `comments` (Lexmark lists the newest first).
pub(super) fn prepend_comment(case: &str, doc: &mut Value, comment: Value) -> Result<(), DocError> {
    array_mut(case, doc, "comments")?.insert(0, comment);
    Ok(())
}

/// Which order array an upsert is about.
#[derive(Debug, Clone, Copy)]
pub(super) enum OrderKind {
    Work,
    Sales,
}

impl OrderKind {
    fn array_key(self) -> &'static str {
        match self {
            OrderKind::Work => "workOrder",
            OrderKind::Sales => "salesOrder",
        }
    }

    fn number_key(self) -> &'static str {
        match self {
            OrderKind::Work => "workOrderNumber",
            OrderKind::Sales => "salesOrderNumber",
        }
    }
}

/// Adds the order with this number, or merges `fields` into it. A new work
/// order gets createdOn = now unless given. Returns the order and whether it
/// was added.
pub(super) fn upsert_order(
    case: &str,
    doc: &mut Value,
    kind: OrderKind,
    number: &str,
    fields: Map<String, Value>,
) -> Result<(Value, bool), DocError> {
    let orders = array_mut(case, doc, kind.array_key())?;
    let number_key = kind.number_key();
    let found = orders
        .iter()
        .position(|o| o.get(number_key).is_some_and(|n| same_number(n, number)));
    let (index, added) = match found {
        Some(i) => (i, false),
        None => {
            let mut fresh = Map::new();
            fresh.insert(number_key.into(), Value::String(number.into()));
            if matches!(kind, OrderKind::Work) {
                fresh.insert("createdOn".into(), Value::String(now_text()));
            }
            orders.push(Value::Object(fresh));
            (orders.len() - 1, true)
        }
    };
    let order = &mut orders[index];
    let map = order.as_object_mut().ok_or_else(|| DocError {
        case: case.into(),
        problem: format!("has a {number_key} {number} that is not an object"),
    })?;
    map.extend(fields);
    map.insert(number_key.into(), Value::String(number.into()));
    Ok((order.clone(), added))
}

fn same_number(stored: &Value, number: &str) -> bool {
    match stored {
        Value::String(s) => s == number,
        Value::Number(n) => n.to_string() == number,
        _ => false,
    }
}

/// Six characters of [A-Z0-9] derived from the sequence number (splitmix64).
fn suffix(seq: u64) -> String {
    const ALPHABET: &[u8; 36] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    let mut x = splitmix(seq);
    (0..6)
        .map(|_| {
            let c = ALPHABET[(x % 36) as usize];
            x /= 36;
            char::from(c)
        })
        .collect()
}

/// A well-mixed 64-bit value from a seed (splitmix64): determinism without `rand`.
pub(super) fn splitmix(seed: u64) -> u64 {
    let mut x = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}
