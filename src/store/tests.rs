use super::*;
use crate::itsm::TicketRef;
use crate::lexmark::model::parse_case;
use crate::sync::diff::Snapshot;
use crate::sync::intake;
use serde_json::json;

fn doc(number: &str, state: &str) -> crate::lexmark::CaseDocument {
    parse_case(
        json!({"caseNumber": number, "state": state, "title": "t"}),
        None,
    )
    .unwrap()
}

fn open() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("state.db")).unwrap();
    (dir, store)
}

fn ticket() -> TicketRef {
    TicketRef {
        id: "1".into(),
        number: "LOC0000001".into(),
    }
}

#[test]
fn a_new_file_gets_the_schema_version_and_wal_mode() {
    let (_d, store) = open();
    assert_eq!(store.schema_version().unwrap(), SCHEMA_VERSION);
    let mode: String = store
        .conn()
        .pragma_query_value(None, "journal_mode", |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
}

#[test]
fn a_file_from_a_newer_version_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.db");
    Store::open(&path)
        .unwrap()
        .conn()
        .pragma_update(None, "user_version", 99)
        .unwrap();
    let e = Store::open(&path).err().unwrap();
    assert!(e.to_string().contains("newer"), "{e}");
}

#[test]
fn intake_stores_the_case_and_its_create_item_together() {
    let (_d, store) = open();
    let d = doc("CAS-1", "Active");
    store
        .intake_new_case(&d, &intake::create_item(&d), chrono::Utc::now())
        .unwrap();
    let row = store.case("CAS-1").unwrap().unwrap();
    assert_eq!(row.phase, Phase::New);
    assert_eq!(row.snapshot, Snapshot::of(&d));
    let items = store.pending_items().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0].kind, ItemKind::CreateTicket);
}

#[test]
fn a_case_moves_from_new_to_ticketed_to_open_and_closes_with_its_state() {
    let (_d, store) = open();
    let now = chrono::Utc::now();
    let d = doc("CAS-1", "Active");
    store
        .intake_new_case(&d, &intake::create_item(&d), now)
        .unwrap();
    let create = store.pending_items().unwrap().remove(0);
    store
        .complete_create(
            &create,
            &ticket(),
            &intake::write_back_item("LOC0000001"),
            now,
        )
        .unwrap();
    assert_eq!(store.case("CAS-1").unwrap().unwrap().phase, Phase::Ticketed);
    let wb = store.pending_items().unwrap().remove(0);
    assert_eq!(wb.kind, ItemKind::WriteBack);
    assert_eq!(wb.ticket_number.as_deref(), Some("LOC0000001"));
    store.complete_write_back(&wb, now).unwrap();
    assert_eq!(store.case("CAS-1").unwrap().unwrap().phase, Phase::Open);
    let resolved = doc("CAS-1", "Resolved");
    store
        .record_poll(&resolved, &Snapshot::of(&resolved), &[], now)
        .unwrap();
    let row = store.case("CAS-1").unwrap().unwrap();
    assert_eq!(row.phase, Phase::Closed);
    assert!(row.closed_at.is_some());
    // past the grace period it is archived and no longer polled
    let later = now + chrono::Duration::days(15);
    assert!(store.cases_to_poll(later, 14).unwrap().is_empty());
    assert_eq!(store.case("CAS-1").unwrap().unwrap().phase, Phase::Archived);
}

#[test]
fn only_one_write_back_is_pending_at_a_time() {
    let (_d, store) = open();
    let now = chrono::Utc::now();
    let d = doc("CAS-1", "Active");
    store
        .intake_new_case(&d, &intake::create_item(&d), now)
        .unwrap();
    let item = intake::write_back_item("LOC1");
    assert!(store.ensure_write_back("CAS-1", &item, now).unwrap());
    assert!(!store.ensure_write_back("CAS-1", &item, now).unwrap());
}

#[test]
fn a_failed_item_stays_in_flight_when_its_outcome_is_unknown_and_replay_requeues_dead_ones() {
    let (_d, store) = open();
    let now = chrono::Utc::now();
    let d = doc("CAS-1", "Active");
    store
        .intake_new_case(&d, &intake::create_item(&d), now)
        .unwrap();
    let item = store.pending_items().unwrap().remove(0);
    store.begin_attempt(item.id, now).unwrap();
    store
        .fail_item(&item, "timed out", false, false, now)
        .unwrap();
    let again = store.pending_items().unwrap().remove(0);
    assert!(again.in_flight);
    assert_eq!(again.attempts, 1);
    store
        .fail_item(&again, "HTTP 400", true, true, now)
        .unwrap();
    assert!(store.pending_items().unwrap().is_empty());
    let dead = store.dead_items().unwrap();
    assert_eq!(dead[0].last_error.as_deref(), Some("HTTP 400"));
    assert!(!dead[0].in_flight);
    assert_eq!(store.cases_with_errors().unwrap()[0].error, "HTTP 400");
    assert_eq!(store.replay(Some("CAS-OTHER"), now).unwrap(), 0);
    assert_eq!(store.replay(Some("CAS-1"), now).unwrap(), 1);
    assert_eq!(store.pending_items().unwrap()[0].attempts, 0);
}

#[test]
fn runs_are_recorded_with_their_counts() {
    let (_d, store) = open();
    let id = store.begin_run(chrono::Utc::now()).unwrap();
    store
        .finish_run(id, "ok", &json!({"new_cases": 2}), None, chrono::Utc::now())
        .unwrap();
    let runs = store.recent_runs(5).unwrap();
    assert_eq!(runs[0].outcome.as_deref(), Some("ok"));
    assert_eq!(runs[0].counts.as_ref().unwrap()["new_cases"], 2);
}

#[test]
fn the_local_ticket_store_never_creates_two_tickets_for_one_key() {
    let dir = tempfile::tempdir().unwrap();
    let t = local_tickets::LocalTickets::open(&dir.path().join("tickets.db")).unwrap();
    let now = chrono::Utc::now();
    let a = t
        .create("CAS-1", "title", "desc", Some("Active"), now)
        .unwrap();
    let b = t
        .create("CAS-1", "title", "desc", Some("Active"), now)
        .unwrap();
    assert_eq!(a, b);
    assert_eq!(a.number, "LOC0000001");
    assert_eq!(
        t.create("CAS-2", "x", "y", None, now).unwrap().number,
        "LOC0000002"
    );
    assert!(
        t.add_note(a.id, "hello [hdis-sync:abc]", Some("Resolved"), now)
            .unwrap()
    );
    assert!(t.has_note_containing(a.id, "hdis-sync:abc").unwrap());
    assert!(!t.has_note_containing(a.id, "hdis-sync:zzz").unwrap());
    assert_eq!(
        t.by_number("LOC0000001").unwrap().unwrap().state.as_deref(),
        Some("Resolved")
    );
}
