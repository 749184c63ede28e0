//! Lexmark's HDIS B2B cases API: the client (every call we make) and the
//! tolerant wire model of case documents.

pub mod client;
pub mod model;

pub use client::{CasesQuery, Error, LexmarkClient};
pub use model::CaseDocument;
