//! Reading case documents from `--data` files: a JSON file holding one case
//! object or an array of them, or a directory of such `*.json` files.

use std::path::{Path, PathBuf};

use serde_json::Value;

use super::SimError;
use super::state::{case_number_of, kind};

/// A case document read from a file, with where it came from.
#[derive(Debug)]
pub(super) struct Loaded {
    pub path: PathBuf,
    /// "the object" or "item 2 of 5", for messages.
    pub item: String,
    pub number: String,
    pub doc: Value,
}

/// Every case document under `path`. A directory is read one level deep,
/// `*.json` files only, in name order. Every object must carry a non-empty
/// `caseNumber`; anything else is an error naming the file.
pub(super) fn read_path(path: &Path) -> Result<Vec<Loaded>, SimError> {
    let read_error = |source| SimError::Read {
        path: path.to_path_buf(),
        source,
    };
    let meta = std::fs::metadata(path).map_err(read_error)?;
    if !meta.is_dir() {
        return read_file(path);
    }
    let mut files = Vec::new();
    for entry in std::fs::read_dir(path).map_err(read_error)? {
        let entry = entry.map_err(read_error)?;
        let file = entry.path();
        let is_json = file
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("json"));
        if is_json && file.is_file() {
            files.push(file);
        }
    }
    if files.is_empty() {
        return Err(SimError::EmptyDirectory {
            path: path.to_path_buf(),
        });
    }
    files.sort();
    let mut loaded = Vec::new();
    for file in files {
        loaded.extend(read_file(&file)?);
    }
    Ok(loaded)
}

fn read_file(path: &Path) -> Result<Vec<Loaded>, SimError> {
    let bytes = std::fs::read(path).map_err(|source| SimError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let value: Value = serde_json::from_slice(&bytes).map_err(|source| SimError::Json {
        path: path.to_path_buf(),
        source,
    })?;
    let (items, single) = match value {
        Value::Array(items) => (items, false),
        Value::Object(_) => (vec![value], true),
        other => {
            return Err(SimError::NotACase {
                path: path.to_path_buf(),
                item: "the content".into(),
                problem: format!("is {}, not a case object or an array of them", kind(&other)),
            });
        }
    };
    let count = items.len();
    let mut loaded = Vec::with_capacity(count);
    for (i, doc) in items.into_iter().enumerate() {
        let item = if single {
            "the object".to_string()
        } else {
            format!("item {} of {count}", i + 1)
        };
        let not_a_case = |problem: String| SimError::NotACase {
            path: path.to_path_buf(),
            item: item.clone(),
            problem,
        };
        if !doc.is_object() {
            return Err(not_a_case(format!(
                "is {}, not a case document (a JSON object)",
                kind(&doc)
            )));
        }
        let number = match case_number_of(&doc) {
            Ok(Some(n)) => n,
            Ok(None) => {
                let hint = if doc.get("contactFirstName").is_some() {
                    " (it looks like a CREATE request)"
                } else {
                    ""
                };
                return Err(not_a_case(format!(
                    "has no caseNumber, so it is not a case document{hint}"
                )));
            }
            Err(source) => {
                return Err(SimError::InFile {
                    path: path.to_path_buf(),
                    item,
                    source: Box::new(source),
                });
            }
        };
        loaded.push(Loaded {
            path: path.to_path_buf(),
            item,
            number,
            doc,
        });
    }
    Ok(loaded)
}
