//! Whole cycles with the ServiceNow connector against the stateful fake.

use serde_json::json;

use crate::servicenow_fake::{FakeServiceNow, PASSWORD, USERNAME, field};
use crate::support::{World, new_case, sim_options};

const TABLE: &str = "/api/now/table/incident";

pub fn servicenow_itsm(fake: &FakeServiceNow) -> String {
    format!(
        "[itsm]\nkind = \"servicenow\"\n\n[itsm.servicenow]\ninstance_url = {:?}\nusername = {USERNAME:?}\npassword = {PASSWORD:?}\n\
         timeout_secs = 5\nstate_map = {{ Resolved = \"6\", Canceled = \"8\" }}\n",
        fake.url()
    )
}

pub async fn world(fake: &FakeServiceNow) -> World {
    World::start_with(sim_options(), &servicenow_itsm(fake)).await
}

#[tokio::test]
async fn new_cases_become_one_incident_each_stamped_with_the_case_number_and_written_back() {
    let fake = FakeServiceNow::start().await;
    let w = world(&fake).await;
    let cases: Vec<String> = (1..=3)
        .map(|i| w.add(new_case(&format!("CAS-{i}-SN"), i)))
        .collect();
    let report = w.cycle().await;
    assert_eq!((report.tickets_created, report.write_backs_done), (3, 3));
    assert_eq!(fake.records("incident").len(), 3);
    for case in &cases {
        let record = fake.record_by_correlation(case).unwrap();
        assert_eq!(field(&record, "correlation_id"), *case);
        assert_eq!(
            field(&record, "short_description"),
            format!("Printer error on {case}")
        );
        assert!(field(&record, "description").contains(case));
        assert_eq!(
            w.sim.case(case).unwrap()["customerTicketNumber"],
            json!(field(&record, "number"))
        );
    }
}

#[tokio::test]
async fn a_quiet_second_cycle_sends_servicenow_no_writes_and_lexmark_no_write_backs() {
    let fake = FakeServiceNow::start().await;
    let w = world(&fake).await;
    w.add(new_case("CAS-Q-SN", 1));
    w.cycle().await;
    let (posts, patches) = (
        fake.request_count("POST", TABLE),
        fake.requests()
            .iter()
            .filter(|r| r.method == "PATCH")
            .count(),
    );
    let write_backs = w.calls("UPDATE TICKET #");
    let report = w.cycle().await;
    assert_eq!(report.updates_delivered, 0);
    assert_eq!(fake.request_count("POST", TABLE), posts);
    assert_eq!(
        fake.requests()
            .iter()
            .filter(|r| r.method == "PATCH")
            .count(),
        patches
    );
    assert_eq!(w.calls("UPDATE TICKET #"), write_backs);
}

#[tokio::test]
async fn a_trigger_change_becomes_one_work_note_and_a_resolution_moves_the_incident_state() {
    let fake = FakeServiceNow::start().await;
    let w = world(&fake).await;
    let case = w.add(new_case("CAS-N-SN", 1));
    w.cycle().await;
    let sys_id = field(&fake.record_by_correlation(&case).unwrap(), "sys_id");
    w.patch_case(&case, json!({"detailedStatus": "Tech En Route"}))
        .await;
    w.cycle().await;
    let journal = fake.journal(&sys_id);
    assert_eq!(journal.len(), 1);
    assert_eq!(journal[0].element, "work_notes");
    assert!(
        journal[0].value.contains("Tech En Route") && journal[0].value.contains("[hdis-sync:"),
        "{}",
        journal[0].value
    );
    w.patch_case(&case, json!({"state": "Resolved"})).await;
    w.cycle().await;
    assert_eq!(fake.journal(&sys_id).len(), 2);
    assert_eq!(
        field(&fake.record_by_correlation(&case).unwrap(), "state"),
        "6"
    );
    w.cycle().await;
    assert_eq!(fake.journal(&sys_id).len(), 2, "nothing is sent twice");
}

#[tokio::test]
async fn an_incident_already_stamped_with_the_case_number_is_linked_not_duplicated() {
    let fake = FakeServiceNow::start().await;
    let w = world(&fake).await;
    let case = w.add(new_case("CAS-PRE-SN", 1));
    // An earlier attempt created it, but its answer was lost.
    fake.insert(
        "incident",
        json!({"correlation_id": case, "short_description": "created before the crash"}),
    );
    let report = w.cycle().await;
    assert_eq!(
        (
            report.tickets_created,
            report.tickets_found_existing,
            report.write_backs_done
        ),
        (0, 1, 1)
    );
    assert_eq!(fake.records("incident").len(), 1);
}
