//! Intake: what GET CASES tells us, turned into stored cases and outbox items.

use super::payload;
use crate::lexmark::CaseDocument;
use crate::store::{CaseRow, NewItem, Phase};

/// What to do with one case returned by GET CASES (pure).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IntakeDecision {
    /// Never seen: store it and queue its ticket's creation.
    New,
    /// Known, ticket not created yet: the pending create will do.
    CreatePending,
    /// Known and ticketed, but Lexmark still lists it as new: the number
    /// has not landed there, so (re)queue the write-back. Never a second ticket.
    WriteBack { ticket_number: String },
}

pub fn decide(known: Option<&CaseRow>) -> IntakeDecision {
    match known {
        None => IntakeDecision::New,
        Some(row) => match (&row.ticket, row.phase) {
            (Some(t), _) => IntakeDecision::WriteBack {
                ticket_number: t.number.clone(),
            },
            (None, Phase::New) | (None, _) => IntakeDecision::CreatePending,
        },
    }
}

/// The `create_ticket` item for a new case.
pub fn create_item(doc: &CaseDocument) -> NewItem {
    NewItem {
        kind: crate::store::ItemKind::CreateTicket,
        change_key: None,
        payload: serde_json::to_value(payload::new_ticket(doc)).unwrap_or_default(),
    }
}

/// The `write_back` item: UPDATE TICKET # with our number.
pub fn write_back_item(ticket_number: &str) -> NewItem {
    NewItem {
        kind: crate::store::ItemKind::WriteBack,
        change_key: None,
        payload: serde_json::json!({ "ticketNumber": ticket_number }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::itsm::TicketRef;
    use crate::sync::diff::Snapshot;

    fn row(phase: Phase, ticket: Option<&str>) -> CaseRow {
        CaseRow {
            case_number: "CAS-1".into(),
            phase,
            ticket: ticket.map(|n| TicketRef {
                id: "1".into(),
                number: n.into(),
            }),
            document: CaseDocument::default(),
            snapshot: Snapshot::default(),
            closed_at: None,
            last_error: None,
        }
    }

    #[test]
    fn an_unknown_case_is_new() {
        assert_eq!(decide(None), IntakeDecision::New);
    }

    #[test]
    fn a_known_case_without_ticket_waits_for_its_pending_create() {
        assert_eq!(
            decide(Some(&row(Phase::New, None))),
            IntakeDecision::CreatePending
        );
    }

    #[test]
    fn a_linked_case_still_listed_as_new_gets_a_write_back_never_a_second_ticket() {
        for phase in [Phase::Ticketed, Phase::Open, Phase::Closed] {
            assert_eq!(
                decide(Some(&row(phase, Some("LOC0000001")))),
                IntakeDecision::WriteBack {
                    ticket_number: "LOC0000001".into()
                }
            );
        }
    }
}
