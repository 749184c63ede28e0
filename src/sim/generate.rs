//! Synthetic, realistic new cases: varied printers, errors, sites and
//! requestors, some text with accents and emoji. Deterministic given the
//! number of cases already stored (no randomness), relative to `now`.

use chrono::{DateTime, TimeDelta, Utc};
use serde_json::{Value, json};

use super::state::{SimState, splitmix, time_text};

const MODELS: [&str; 10] = [
    "MS521dn",
    "MX622adhe",
    "CX725de",
    "MS821dn",
    "C3326dw",
    "MX931dse",
    "CS943de",
    "B2865dw",
    "MX432adwe",
    "CX943adxse",
];

/// (title after the model, description).
const PROBLEMS: [(&str, &str); 10] = [
    (
        "31.40C cartridge error",
        "Front panel shows 31.40C right after a new toner cartridge was installed.",
    ),
    (
        "200.03 paper jam",
        "Paper jams in tray 1 on every job; we cleared it twice already.",
    ),
    (
        "900.43 system software error",
        "Stuck on 900.43 after last night's firmware update, a power cycle did not help.",
    ),
    (
        "121.01 fuser error",
        "Fuser error 121.01 — pages came out smudged for a day before it stopped completely.",
    ),
    (
        "grinding noise when printing",
        "Loud grinding noise from the back of the unit, sounds like a stripped gear 😬",
    ),
    (
        "280.06 scanner jam",
        "The ADF jams on every multi-page scan; the scanner glass is clean.",
    ),
    (
        "vertical streaks on every page",
        "Streaks on all pages, even after replacing the imaging unit. Sample attached on site.",
    ),
    (
        "not reachable on the network",
        "Dropped off the network overnight; the panel shows no IP address 🔌",
    ),
    (
        "toner smears on labels",
        "Étiquettes : le toner bave sur les étiquettes depuis ce matin, merci de passer ☕",
    ),
    (
        "paper feed error in tray 2",
        "Fach 2 zieht kein Papier ein — tray 2 does not pick up paper, trays 1 and 3 are fine.",
    ),
];

const REQUESTORS: [(&str, &str); 11] = [
    ("José", "García"),
    ("Zoë", "Müller"),
    ("Siobhán", "O'Brien"),
    ("Łukasz", "Nowak"),
    ("Anaïs", "Lefèvre"),
    ("Pat", "Example"),
    ("Chidi", "Okafor"),
    ("Mei", "Tanaka"),
    ("Björn", "Ångström"),
    ("Priya", "Raman"),
    ("Renée", "Dubois"),
];

/// (storeFrontName, street1, city, state, postalCode, country).
const SITES: [(&str, &str, &str, &str, &str, &str); 8] = [
    (
        "Store #100",
        "100 Test Street",
        "Lexington",
        "KY",
        "40511",
        "USA",
    ),
    (
        "Warehouse 7",
        "4500 Industrial Pkwy",
        "Columbus",
        "OH",
        "43219",
        "USA",
    ),
    (
        "Clinic – North Wing",
        "22 Harbor View Dr",
        "San Diego",
        "CA",
        "92101",
        "USA",
    ),
    (
        "Succursale Montréal",
        "1200 rue Sainte-Catherine O",
        "Montréal",
        "QC",
        "H3B 1K1",
        "Canada",
    ),
    (
        "Filiale Köln",
        "Hohe Straße 52",
        "Köln",
        "NW",
        "50667",
        "Germany",
    ),
    (
        "Agence Lyon Part-Dieu",
        "17 rue de la Villette",
        "Lyon",
        "ARA",
        "69003",
        "France",
    ),
    (
        "Loja São Paulo",
        "Av. Paulista 1000",
        "São Paulo",
        "SP",
        "01310-100",
        "Brazil",
    ),
    (
        "Store #214",
        "88 Main St",
        "Springfield",
        "IL",
        "62701",
        "USA",
    ),
];

const ORIGINS: [&str; 5] = ["Phone", "Email", "Predictive", "Web", "HDIS"];

const DETAILED_STATUSES: [&str; 4] = ["", "New", "Awaiting Dispatch", "Tech Dispatched"];

/// Adds `n` synthetic new cases; returns their numbers.
pub(super) fn generate(state: &mut SimState, n: usize, now: DateTime<Utc>) -> Vec<String> {
    let first = state.case_count();
    let mut numbers = Vec::with_capacity(n);
    for i in first..first + n {
        let number = state.new_case_number();
        let doc = synthetic_case(i, &number, now);
        // A fresh number and an object: adding cannot fail.
        if let Ok(n) = state.add_case(doc) {
            numbers.push(n);
        }
    }
    numbers
}

/// The `i`-th synthetic case.
fn synthetic_case(i: usize, number: &str, now: DateTime<Utc>) -> Value {
    let pick = |stride: usize, offset: usize, len: usize| (i * stride + offset) % len;
    let model = MODELS[pick(1, 0, MODELS.len())];
    let (problem, description) = PROBLEMS[pick(3, 1, PROBLEMS.len())];
    let (first_name, last_name) = REQUESTORS[pick(7, 2, REQUESTORS.len())];
    let (store, street, city, region, postal, country) = SITES[pick(5, 3, SITES.len())];
    let origin = ORIGINS[pick(2, 1, ORIGINS.len())];
    let kind = if i % 7 == 6 {
        "Preventive Maintenance"
    } else {
        "Break Fix"
    };
    let even = i.is_multiple_of(2);
    let mix = splitmix(i as u64);
    // Between 5 minutes and about 23.7 hours ago: always within the last day.
    let age = TimeDelta::seconds(300 + (mix % 85_000) as i64);
    let created = now - age;
    let created_on = time_text(created);
    let comments = if i.is_multiple_of(3) {
        json!([{
            "createdOn": time_text(created + TimeDelta::seconds(60)),
            "createdBy": "Lexmark",
            "description": "Case received; a technician will call to troubleshoot before dispatch.",
        }])
    } else {
        json!([])
    };
    let mut doc = json!({
        "caseNumber": number,
        "createdOn": created_on,
        "origin": origin,
        "type": kind,
        "state": "Active",
        "status": "In Progress",
        "detailedStatus": DETAILED_STATUSES[pick(3, 0, DETAILED_STATUSES.len())],
        "title": format!("Lexmark {model} {problem}"),
        "description": description,
        "customerAsset": {
            "customerAssetName": format!("{model} – {store}"),
            "serialNumber": format!("45{:011}", mix % 100_000_000_000),
            "customerProductNumber": if i % 4 == 3 { String::new() } else { format!("AssetTag{:04}", i + 1) },
            "crmAddress": {
                "storeFrontName": store,
                "street1": street,
                "street2": if even { "Suite 200" } else { "" },
                "street3": "",
                "city": city,
                "state": region,
                "postalCode": postal,
                "country": country,
                "building": if i % 3 == 1 { "B" } else { "" },
                "floor": format!("{}", i % 5),
                "room": if i % 2 == 1 { format!("{}", 100 + i % 50) } else { String::new() },
            },
        },
        "requestorInfo": {
            "firstName": first_name,
            "lastName": last_name,
            "workPhone": format!("+1 555-01{:02}", i % 100),
            "alternatePhone": if even { String::new() } else { format!("+1 555-02{:02}", i % 100) },
        },
        "customerRequestDate": if even { created_on.clone() } else { String::new() },
        "workOrder": [],
        "salesOrder": [],
        "comments": comments,
    });
    // "No ticket number yet" comes in all three spellings Lexmark may use.
    if let Some(map) = doc.as_object_mut() {
        match i % 3 {
            0 => {}
            1 => {
                map.insert("customerTicketNumber".into(), json!(""));
            }
            _ => {
                map.insert("customerTicketNumber".into(), Value::Null);
            }
        }
    }
    doc
}
