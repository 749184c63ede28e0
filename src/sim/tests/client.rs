//! Our own Lexmark client against the simulator: every call, end to end.

use secrecy::SecretString;

use super::{fixture, start_with};
use crate::config::LexmarkConfig;
use crate::lexmark::client::Attachment;
use crate::lexmark::{CasesQuery, LexmarkClient};
use crate::sim::SimOptions;

#[tokio::test]
async fn our_lexmark_client_gets_a_2xx_for_each_of_the_seven_calls() {
    let s = start_with(SimOptions {
        list_wrapper: Some("cases".into()),
        ..SimOptions::default()
    })
    .await;
    let number = s.sim.add_case(fixture("case-new.json")).unwrap();
    let config = LexmarkConfig {
        base_url: Some(format!("{}/b2b/v1", s.base)),
        username: Some("hdis".into()),
        password: Some(SecretString::from("hdis")),
        ..LexmarkConfig::default()
    };
    let client = LexmarkClient::new(&config, 0).unwrap();

    let query = CasesQuery {
        past_days: None,
        case_origin: Some("Phone".into()),
        case_type: Some("BreakFix".into()),
    };
    let list = client.get_cases(&query).await.unwrap();
    assert_eq!(list.cases.len(), 1);
    assert_eq!(list.cases[0].case_number, number);
    assert_eq!(client.status(&number).await.unwrap().case_number, number);
    client
        .update_ticket_number(&number, "INC0001")
        .await
        .unwrap();
    let attachment = Attachment {
        file_name: "note.txt".into(),
        content: "aGVsbG8=".into(),
    };
    client
        .update_case(&number, "From the ITSM", &[attachment])
        .await
        .unwrap();
    client.escalate(&number, "Urgent").await.unwrap();
    client.cancel(&number, "Fixed by the user").await.unwrap();
    let created = client
        .create_case(&fixture("create-request.json"))
        .await
        .unwrap();

    let calls = s.sim.calls();
    let names: Vec<&str> = calls.iter().map(|c| c.call.as_str()).collect();
    assert_eq!(
        names,
        [
            "GET CASES",
            "STATUS",
            "UPDATE TICKET #",
            "UPDATE",
            "ESCALATE",
            "CANCEL",
            "CREATE"
        ]
    );
    assert!(
        calls.iter().all(|c| (200..300).contains(&c.status)),
        "{calls:?}"
    );
    let doc = s.sim.case(&number).unwrap();
    assert_eq!(doc["customerTicketNumber"], "INC0001");
    assert_eq!(doc["state"], "Canceled");
    assert_eq!(doc["comments"][0]["description"], "From the ITSM");
    assert_eq!(
        s.sim.case(&created).unwrap()["customerTicketNumber"],
        "INC00123"
    );
    assert!(
        client
            .get_cases(&CasesQuery::default())
            .await
            .unwrap()
            .cases
            .is_empty()
    );
}
