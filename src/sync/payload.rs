//! What a ticket says: the text of a new ticket built from a case document,
//! and the update built from a change. Pure.

use chrono::{DateTime, Utc};

use super::diff::Change;
use crate::itsm::{NewTicket, TicketUpdate};
use crate::lexmark::CaseDocument;

/// The ticket to open for a case: its title, and a description holding the
/// case details (the only time non-trigger fields reach the ticket).
pub fn new_ticket(doc: &CaseDocument) -> NewTicket {
    let title = doc
        .title
        .as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_string)
        .unwrap_or_else(|| format!("Lexmark case {}", doc.case_number));
    NewTicket {
        correlation_key: doc.case_number.clone(),
        title,
        description: describe(doc),
        lexmark_state: doc.state.clone(),
    }
}

fn describe(doc: &CaseDocument) -> String {
    let mut out = String::new();
    let mut line = |label: &str, value: Option<&str>| {
        if let Some(v) = value.map(str::trim).filter(|v| !v.is_empty()) {
            out.push_str(label);
            out.push_str(": ");
            out.push_str(v);
            out.push('\n');
        }
    };
    line("Lexmark case", Some(&doc.case_number));
    line("Created", doc.created_on.to_text().as_deref());
    line("Origin", doc.origin.as_deref());
    line("Type", doc.case_type.as_deref());
    line("State", doc.state.as_deref());
    line("Status", doc.status.as_deref());
    line("Detailed status", doc.detailed_status.as_deref());
    let a = &doc.customer_asset;
    line("Asset", a.customer_asset_name.as_deref());
    line("Serial number", a.serial_number.as_deref());
    line("Asset tag", a.customer_product_number.as_deref());
    let ad = &a.crm_address;
    let street = [&ad.street1, &ad.street2, &ad.street3]
        .iter()
        .filter_map(|s| s.as_deref())
        .collect::<Vec<_>>()
        .join(", ");
    let city = [&ad.city, &ad.state, &ad.postal_code, &ad.country]
        .iter()
        .filter_map(|s| s.as_deref())
        .collect::<Vec<_>>()
        .join(" ");
    let place = [
        ad.building.as_deref().map(|b| format!("building {b}")),
        ad.floor.as_deref().map(|f| format!("floor {f}")),
        ad.room.as_deref().map(|r| format!("room {r}")),
    ]
    .into_iter()
    .flatten()
    .collect::<Vec<_>>()
    .join(", ");
    let address = [
        ad.store_front_name.clone().unwrap_or_default(),
        street,
        city,
        place,
    ]
    .into_iter()
    .filter(|s| !s.is_empty())
    .collect::<Vec<_>>()
    .join("; ");
    line("Address", Some(&address));
    let r = &doc.requestor_info;
    let name = [&r.first_name, &r.last_name]
        .iter()
        .filter_map(|s| s.as_deref())
        .collect::<Vec<_>>()
        .join(" ");
    line("Requestor", Some(&name));
    line("Requestor phone", r.work_phone.as_deref());
    line("Requestor alternate phone", r.alternate_phone.as_deref());
    line(
        "Customer request date",
        doc.customer_request_date.to_text().as_deref(),
    );
    for w in &doc.work_order {
        let desc = format!(
            "{} ({}){}",
            w.work_order_number.as_deref().unwrap_or("?"),
            w.work_order_status.as_deref().unwrap_or("no status"),
            w.work_order_type
                .as_deref()
                .map(|t| format!(", {t}"))
                .unwrap_or_default()
        );
        line("Work order", Some(&desc));
    }
    for s in &doc.sales_order {
        let desc = format!(
            "{} ({}){}{}",
            s.sales_order_number.as_deref().unwrap_or("?"),
            s.sales_order_status.as_deref().unwrap_or("no status"),
            s.carrier
                .as_deref()
                .map(|c| format!(", carrier {c}"))
                .unwrap_or_default(),
            s.tracking_number
                .as_deref()
                .map(|t| format!(", tracking {t}"))
                .unwrap_or_default()
        );
        line("Sales order", Some(&desc));
    }
    if let Some(d) = doc
        .description
        .as_deref()
        .map(str::trim)
        .filter(|d| !d.is_empty())
    {
        out.push('\n');
        out.push_str(d);
        out.push('\n');
    }
    let mut comments: Vec<_> = doc.comments.iter().collect();
    comments.sort_by(|a, b| a.created_on.cmp(&b.created_on));
    for c in comments {
        out.push_str(&format!(
            "\nComment from {} at {}:\n{}\n",
            c.created_by.as_deref().unwrap_or("(unknown)"),
            c.created_on.to_text().as_deref().unwrap_or("(no time)"),
            c.description.as_deref().unwrap_or("")
        ));
    }
    out
}

/// The update for one change. The marker line makes the note findable.
pub fn ticket_update(
    case_number: &str,
    change: &Change,
    detected_at: DateTime<Utc>,
) -> TicketUpdate {
    let marker = format!("hdis-sync:{}", change.key(case_number, detected_at));
    TicketUpdate {
        note: format!("{}\n\n[{marker}]", change.note(case_number)),
        marker,
        lexmark_state: change.new_state().map(str::to_string),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> CaseDocument {
        let path = format!("{}/tests/fixtures/hdis/{name}", env!("CARGO_MANIFEST_DIR"));
        let v = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        crate::lexmark::model::parse_case(v, None).unwrap()
    }

    #[test]
    fn a_new_ticket_carries_the_case_number_title_and_the_details_an_engineer_needs() {
        let t = new_ticket(&fixture("case-new.json"));
        assert_eq!(t.correlation_key, "CAS-21298-J1Y8W5");
        assert_eq!(t.title, "Lexmark MS521DN 31.40C error");
        for needle in [
            "451400HH0ABC1",
            "AssetTag01",
            "100 Test Street",
            "Pat Example",
            "555-0100",
            "31.40C error on the front panel",
            "room 210",
        ] {
            assert!(
                t.description.contains(needle),
                "{needle} missing from:\n{}",
                t.description
            );
        }
    }

    #[test]
    fn existing_comments_go_into_the_description_oldest_first() {
        let t = new_ticket(&fixture("case-status-full.json"));
        let first = t.description.find("lexmark comments1").unwrap();
        let second = t.description.find("lexmark comments2").unwrap();
        assert!(first < second);
    }

    #[test]
    fn an_update_note_ends_with_its_marker() {
        let change = Change::StatusChanged {
            from: None,
            to: "Completed".into(),
        };
        let u = ticket_update("CAS-1", &change, Utc::now());
        assert!(u.note.contains("Completed"));
        assert!(u.note.ends_with(&format!("[{}]", u.marker)));
        assert_eq!(u.lexmark_state, None);
    }
}
