//! The tolerant wire model of HDIS case documents (`hdis-api.md`, decisions 1–7).
//!
//! - Arrays that are missing, `null` or `[]` are all empty.
//! - Strings that are missing, `null` or `""` are absent; a number or boolean
//!   where text is expected is taken as its text.
//! - Timestamps are RFC 3339 with any offset, stored in UTC; an unparseable
//!   value is kept as text (see [`Timestamp::Unparsed`]), never fatal.
//! - Unknown fields are ignored. Order of arrays is never relied on.

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CaseDocument {
    #[serde(deserialize_with = "required_text")]
    pub case_number: String,
    #[serde(default, deserialize_with = "text")]
    pub customer_ticket_number: Option<String>,
    #[serde(default)]
    pub created_on: Timestamp,
    #[serde(default, deserialize_with = "text")]
    pub origin: Option<String>,
    #[serde(default, rename = "type", deserialize_with = "text")]
    pub case_type: Option<String>,
    #[serde(default, deserialize_with = "text")]
    pub state: Option<String>,
    #[serde(default, deserialize_with = "text")]
    pub status: Option<String>,
    #[serde(default, deserialize_with = "text")]
    pub detailed_status: Option<String>,
    #[serde(default, deserialize_with = "text")]
    pub title: Option<String>,
    #[serde(default, deserialize_with = "text")]
    pub description: Option<String>,
    #[serde(default, deserialize_with = "object")]
    pub customer_asset: CustomerAsset,
    #[serde(default, deserialize_with = "object")]
    pub requestor_info: RequestorInfo,
    #[serde(default)]
    pub customer_request_date: Timestamp,
    #[serde(default, deserialize_with = "list")]
    pub work_order: Vec<WorkOrder>,
    #[serde(default, deserialize_with = "list")]
    pub sales_order: Vec<SalesOrder>,
    #[serde(default, deserialize_with = "list")]
    pub comments: Vec<Comment>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CustomerAsset {
    #[serde(default, deserialize_with = "text")]
    pub customer_asset_name: Option<String>,
    #[serde(default, deserialize_with = "text")]
    pub serial_number: Option<String>,
    #[serde(default, deserialize_with = "text")]
    pub customer_product_number: Option<String>,
    #[serde(default, deserialize_with = "object")]
    pub crm_address: Address,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Address {
    #[serde(default, deserialize_with = "text")]
    pub store_front_name: Option<String>,
    #[serde(default, deserialize_with = "text")]
    pub street1: Option<String>,
    #[serde(default, deserialize_with = "text")]
    pub street2: Option<String>,
    #[serde(default, deserialize_with = "text")]
    pub street3: Option<String>,
    #[serde(default, deserialize_with = "text")]
    pub city: Option<String>,
    #[serde(default, deserialize_with = "text")]
    pub state: Option<String>,
    #[serde(default, deserialize_with = "text")]
    pub postal_code: Option<String>,
    #[serde(default, deserialize_with = "text")]
    pub country: Option<String>,
    #[serde(default, deserialize_with = "text")]
    pub building: Option<String>,
    #[serde(default, deserialize_with = "text")]
    pub floor: Option<String>,
    #[serde(default, deserialize_with = "text")]
    pub room: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RequestorInfo {
    #[serde(default, deserialize_with = "text")]
    pub first_name: Option<String>,
    #[serde(default, deserialize_with = "text")]
    pub last_name: Option<String>,
    #[serde(default, deserialize_with = "text")]
    pub work_phone: Option<String>,
    #[serde(default, deserialize_with = "text")]
    pub alternate_phone: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WorkOrder {
    #[serde(default, deserialize_with = "text")]
    pub work_order_number: Option<String>,
    #[serde(default, deserialize_with = "text")]
    pub work_order_status: Option<String>,
    #[serde(default, deserialize_with = "text")]
    pub work_order_type: Option<String>,
    #[serde(default)]
    pub created_on: Timestamp,
    #[serde(default, deserialize_with = "object")]
    pub debrief_information: DebriefInformation,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DebriefInformation {
    #[serde(default)]
    pub actual_start_date: Timestamp,
    #[serde(default)]
    pub actual_end_date: Timestamp,
    #[serde(default, deserialize_with = "text")]
    pub resolution_code: Option<String>,
    #[serde(default, deserialize_with = "text")]
    pub action_narrative: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SalesOrder {
    #[serde(default, deserialize_with = "text")]
    pub sales_order_number: Option<String>,
    #[serde(default, deserialize_with = "text")]
    pub sales_order_status: Option<String>,
    #[serde(default, deserialize_with = "text")]
    pub carrier: Option<String>,
    #[serde(default, deserialize_with = "text")]
    pub tracking_number: Option<String>,
    #[serde(default, deserialize_with = "text")]
    pub tracking_link: Option<String>,
    #[serde(default)]
    pub shipped_date: Timestamp,
    #[serde(default)]
    pub actual_delivery_date: Timestamp,
    #[serde(default, deserialize_with = "list")]
    pub order_lines: Vec<OrderLine>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderLine {
    #[serde(default, deserialize_with = "text")]
    pub product_name: Option<String>,
    #[serde(default, deserialize_with = "text")]
    pub product_number: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Comment {
    #[serde(default)]
    pub created_on: Timestamp,
    #[serde(default, deserialize_with = "text")]
    pub created_by: Option<String>,
    #[serde(default, deserialize_with = "text")]
    pub description: Option<String>,
}

/// An HDIS timestamp: absent, a point in time (stored in UTC), or text that
/// could not be read as RFC 3339 (kept as it came, and logged by the caller).
#[derive(Debug, Clone, PartialEq, Eq, Default, Hash, PartialOrd, Ord)]
pub enum Timestamp {
    #[default]
    Absent,
    At(DateTime<Utc>),
    Unparsed(String),
}

impl Timestamp {
    pub fn parse(raw: &str) -> Timestamp {
        let raw = raw.trim();
        if raw.is_empty() {
            return Timestamp::Absent;
        }
        match DateTime::parse_from_rfc3339(raw) {
            Ok(t) => Timestamp::At(t.with_timezone(&Utc)),
            Err(_) => Timestamp::Unparsed(raw.to_string()),
        }
    }

    /// The canonical text: RFC 3339 in UTC with `Z`, or the raw text.
    pub fn to_text(&self) -> Option<String> {
        match self {
            Timestamp::Absent => None,
            Timestamp::At(t) => Some(t.to_rfc3339_opts(SecondsFormat::AutoSi, true)),
            Timestamp::Unparsed(s) => Some(s.clone()),
        }
    }

    pub fn unparsed(&self) -> Option<&str> {
        match self {
            Timestamp::Unparsed(s) => Some(s),
            _ => None,
        }
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.to_text() {
            Some(t) => s.serialize_str(&t),
            None => s.serialize_none(),
        }
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(match Value::deserialize(d)? {
            Value::Null => Timestamp::Absent,
            Value::String(s) => Timestamp::parse(&s),
            other => Timestamp::Unparsed(other.to_string()),
        })
    }
}

impl CaseDocument {
    /// Every timestamp in the document that could not be parsed, with its field path.
    pub fn unparsed_timestamps(&self) -> Vec<(String, String)> {
        let mut out = Vec::new();
        let mut note = |path: String, t: &Timestamp| {
            if let Some(raw) = t.unparsed() {
                out.push((path, raw.to_string()));
            }
        };
        note("createdOn".into(), &self.created_on);
        note("customerRequestDate".into(), &self.customer_request_date);
        for (i, w) in self.work_order.iter().enumerate() {
            note(format!("workOrder[{i}].createdOn"), &w.created_on);
            note(
                format!("workOrder[{i}].debriefInformation.actualStartDate"),
                &w.debrief_information.actual_start_date,
            );
            note(
                format!("workOrder[{i}].debriefInformation.actualEndDate"),
                &w.debrief_information.actual_end_date,
            );
        }
        for (i, s) in self.sales_order.iter().enumerate() {
            note(format!("salesOrder[{i}].shippedDate"), &s.shipped_date);
            note(
                format!("salesOrder[{i}].actualDeliveryDate"),
                &s.actual_delivery_date,
            );
        }
        for (i, c) in self.comments.iter().enumerate() {
            note(format!("comments[{i}].createdOn"), &c.created_on);
        }
        out
    }
}

/// A case document that could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("case {case}: field `{field}`: {message}")]
pub struct CaseParseError {
    /// The case number when it could be read, else `(unknown case #N)`.
    pub case: String,
    pub field: String,
    pub message: String,
}

/// Parses one case document from a JSON value, naming the field on error.
pub fn parse_case(value: Value, position: Option<usize>) -> Result<CaseDocument, CaseParseError> {
    let case = value
        .get("caseNumber")
        .and_then(|v| v.as_str())
        .filter(|s| !s.trim().is_empty())
        .map(str::to_string)
        .unwrap_or_else(|| match position {
            Some(i) => format!("(unknown case #{i})"),
            None => "(unknown case)".into(),
        });
    if !value.is_object() {
        return Err(CaseParseError {
            case,
            field: ".".into(),
            message: format!("expected a case object, got {}", kind_of(&value)),
        });
    }
    let has_number = value
        .get("caseNumber")
        .is_some_and(|v| v.as_str().is_some_and(|s| !s.trim().is_empty()));
    if !has_number {
        let found = value.get("caseNumber").map_or("nothing", kind_of);
        return Err(CaseParseError {
            case,
            field: "caseNumber".into(),
            message: format!(
                "required: expected a case number as text, such as CAS-21298-J1Y8W5, got {found}"
            ),
        });
    }
    serde_path_to_error::deserialize(value).map_err(|e| {
        let mut field = e.path().to_string();
        let mut message = e.into_inner().to_string();
        // Errors inside a list element come back as "[i].inner.path: message"
        // (see `list`); fold that into the field path.
        if let Some(rest) = message.strip_prefix('[')
            && let Some((index, tail)) = rest.split_once(']')
            && let Some((inner, msg)) = tail.split_once(": ")
        {
            let inner = inner.trim_start_matches('.');
            field = match inner {
                "" | "." => format!("{field}[{index}]"),
                _ => format!("{field}[{index}].{inner}"),
            };
            message = msg.to_string();
        }
        CaseParseError {
            case,
            field: if field.is_empty() { ".".into() } else { field },
            message,
        }
    })
}

/// The GET CASES answer, split into readable cases and the ones rejected.
#[derive(Debug, Default)]
pub struct CaseList {
    pub cases: Vec<CaseDocument>,
    pub rejected: Vec<CaseParseError>,
}

/// Reads a GET CASES body: a bare array of case documents, or an object
/// holding one array of them (under `cases`, `items`, `data`, `value`, or its
/// only array-valued field). Each element is parsed on its own: a bad one is
/// rejected without affecting the others.
pub fn parse_case_list(value: Value) -> Result<CaseList, String> {
    let items = match value {
        Value::Array(items) => items,
        Value::Object(mut map) => {
            let known = ["cases", "items", "data", "value", "results", "records"]
                .iter()
                .find(|k| map.get(**k).is_some_and(Value::is_array))
                .map(|k| k.to_string());
            let key = match known {
                Some(k) => k,
                None => {
                    let arrays: Vec<&String> = map
                        .iter()
                        .filter(|(_, v)| v.is_array())
                        .map(|(k, _)| k)
                        .collect();
                    match arrays.as_slice() {
                        [only] => (*only).clone(),
                        [] if map.get("caseNumber").is_some() => {
                            return parse_case_list(Value::Array(vec![Value::Object(map)]));
                        }
                        [] => {
                            return Err(
                                "expected an array of cases, got an object with no array in it"
                                    .into(),
                            );
                        }
                        _ => {
                            return Err(format!(
                                "expected one array of cases, got an object with several arrays ({})",
                                arrays
                                    .iter()
                                    .map(|s| s.as_str())
                                    .collect::<Vec<_>>()
                                    .join(", ")
                            ));
                        }
                    }
                }
            };
            match map.remove(&key) {
                Some(Value::Array(items)) => items,
                _ => Vec::new(),
            }
        }
        Value::Null => Vec::new(),
        other => {
            return Err(format!(
                "expected an array of cases, got {}",
                kind_of(&other)
            ));
        }
    };
    let mut list = CaseList::default();
    for (i, item) in items.into_iter().enumerate() {
        match parse_case(item, Some(i)) {
            Ok(c) => list.cases.push(c),
            Err(e) => list.rejected.push(e),
        }
    }
    Ok(list)
}

/// "an array", "a string"… for messages about JSON values.
pub fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Text: `null`, missing and `""` are absent; numbers and booleans become text.
fn text<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    match Value::deserialize(d)? {
        Value::Null => Ok(None),
        Value::String(s) if s.is_empty() => Ok(None),
        Value::String(s) => Ok(Some(s)),
        Value::Number(n) => Ok(Some(n.to_string())),
        Value::Bool(b) => Ok(Some(b.to_string())),
        other => Err(serde::de::Error::custom(format!(
            "expected text, got {}",
            kind_of(&other)
        ))),
    }
}

fn required_text<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    text(d)?
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .ok_or_else(|| serde::de::Error::custom("expected a non-empty case number"))
}

/// Arrays: missing, `null`, `[]` and `""` are all empty.
fn list<'de, D, T>(d: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: serde::de::DeserializeOwned,
{
    match Value::deserialize(d)? {
        Value::Null => Ok(Vec::new()),
        Value::String(s) if s.trim().is_empty() => Ok(Vec::new()),
        Value::Array(items) => items
            .into_iter()
            .enumerate()
            .map(|(i, item)| {
                serde_path_to_error::deserialize(item).map_err(|e| {
                    serde::de::Error::custom(format!("[{i}].{}: {}", e.path(), e.inner()))
                })
            })
            .collect(),
        other => Err(serde::de::Error::custom(format!(
            "expected a list, got {}",
            kind_of(&other)
        ))),
    }
}

/// Nested objects: missing and `null` are an empty object.
fn object<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

#[cfg(test)]
mod tests;
