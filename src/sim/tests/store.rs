//! The Rust interface without HTTP: adding, loading, generating, replacing.

use serde_json::{Value, json};

use super::{fixture, fixtures};
use crate::sim::state::{created_on, has_ticket_number};
use crate::sim::{SimError, SimOptions, Simulator, error_chain};

fn sim() -> Simulator {
    Simulator::new(SimOptions::default())
}

#[test]
fn add_case_generates_a_case_number_and_created_on_when_missing() {
    let sim = sim();

    let first = sim.add_case(json!({ "title": "a" })).unwrap();
    let second = sim
        .add_case(json!({ "caseNumber": "", "title": "b" }))
        .unwrap();

    for number in [&first, &second] {
        let parts: Vec<&str> = number.split('-').collect();
        assert_eq!(parts.len(), 3, "{number}");
        assert_eq!(parts[0], "CAS");
        assert!(parts[1].parse::<u32>().unwrap() >= 10_001, "{number}");
        assert_eq!(parts[2].len(), 6);
        assert!(
            parts[2]
                .chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
        );
        let doc = sim.case(number).unwrap();
        assert_eq!(doc["caseNumber"], number.as_str());
        assert!(created_on(&doc).is_some(), "{doc}");
    }
    assert_ne!(first, second);
}

#[test]
fn add_case_keeps_a_given_case_number_and_created_on() {
    let sim = sim();
    let doc = fixture("case-new.json");

    let number = sim.add_case(doc.clone()).unwrap();

    assert_eq!(number, "CAS-21298-J1Y8W5");
    assert_eq!(sim.case(&number).unwrap(), doc);
}

#[test]
fn add_case_rejects_non_objects_and_duplicate_numbers() {
    let sim = sim();
    sim.add_case(json!({ "caseNumber": "CAS-1-A" })).unwrap();

    assert!(matches!(
        sim.add_case(json!(["not", "a", "case"])),
        Err(SimError::NotAnObject { .. })
    ));
    assert!(matches!(
        sim.add_case(json!({ "caseNumber": 42 })),
        Err(SimError::BadCaseNumber { .. })
    ));
    let duplicate = sim
        .add_case(json!({ "caseNumber": "CAS-1-A" }))
        .unwrap_err();
    assert_eq!(duplicate.to_string(), "case CAS-1-A already exists");
    assert_eq!(sim.cases().len(), 1);
}

#[test]
fn replace_case_stores_the_document_as_given_and_needs_a_known_case() {
    let sim = sim();
    let number = sim.add_case(fixture("case-status-full.json")).unwrap();

    sim.replace_case(&number, json!({ "caseNumber": number, "comments": null }))
        .unwrap();

    let doc = sim.case(&number).unwrap();
    assert_eq!(doc, json!({ "caseNumber": number, "comments": null }));
    assert!(matches!(
        sim.replace_case("CAS-NOPE", json!({})),
        Err(SimError::UnknownCase(_))
    ));
}

#[test]
fn load_path_reads_a_case_file() {
    let sim = sim();

    let numbers = sim
        .load_path(&fixtures().join("case-status-full.json"))
        .unwrap();

    assert_eq!(numbers, vec!["CAS-123-123213"]);
    assert_eq!(
        sim.case("CAS-123-123213").unwrap(),
        fixture("case-status-full.json")
    );
}

#[test]
fn load_path_on_the_fixtures_directory_rejects_the_create_request_naming_the_file() {
    let sim = sim();

    let error = sim.load_path(&fixtures()).unwrap_err();

    let message = error_chain(&error);
    assert!(message.contains("create-request.json"), "{message}");
    assert!(message.contains("has no caseNumber"), "{message}");
    assert!(message.contains("CREATE request"), "{message}");
    // All or nothing: the case files before it were not added either.
    assert!(sim.cases().is_empty());
}

#[test]
fn load_path_reads_a_directory_of_case_files_and_arrays() {
    let dir = tempfile::tempdir().unwrap();
    for name in ["case-new.json", "case-status-full.json"] {
        std::fs::copy(fixtures().join(name), dir.path().join(name)).unwrap();
    }
    let array = json!([{ "caseNumber": "CAS-9-A" }, { "caseNumber": "CAS-9-B" }]);
    std::fs::write(dir.path().join("more.json"), array.to_string()).unwrap();
    std::fs::write(dir.path().join("notes.txt"), "not read").unwrap();
    let sim = sim();

    let numbers = sim.load_path(dir.path()).unwrap();

    assert_eq!(
        numbers,
        ["CAS-21298-J1Y8W5", "CAS-123-123213", "CAS-9-A", "CAS-9-B"]
    );
    assert!(created_on(&sim.case("CAS-9-A").unwrap()).is_some());
}

#[test]
fn load_path_names_the_file_and_item_of_a_duplicate_or_a_missing_number() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cases.json");
    let sim = sim();
    sim.add_case(json!({ "caseNumber": "CAS-1-A" })).unwrap();

    std::fs::write(
        &path,
        json!([{ "caseNumber": "CAS-2-B" }, { "caseNumber": "CAS-1-A" }]).to_string(),
    )
    .unwrap();
    let duplicate = error_chain(&sim.load_path(&path).unwrap_err());
    assert!(duplicate.contains("cases.json: item 2 of 2"), "{duplicate}");
    assert!(
        duplicate.contains("case CAS-1-A already exists"),
        "{duplicate}"
    );

    std::fs::write(
        &path,
        json!([{ "caseNumber": "CAS-2-B" }, { "title": "x" }]).to_string(),
    )
    .unwrap();
    let missing = error_chain(&sim.load_path(&path).unwrap_err());
    assert!(
        missing.contains("cases.json: item 2 of 2 has no caseNumber"),
        "{missing}"
    );

    assert_eq!(sim.cases().len(), 1);
}

#[test]
fn load_path_names_a_file_that_is_not_json_or_not_there() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("broken.json");
    std::fs::write(&path, "{ “caseNumber”: 1 }").unwrap();
    let sim = sim();

    let broken = error_chain(&sim.load_path(&path).unwrap_err());
    let absent = error_chain(&sim.load_path(&dir.path().join("absent.json")).unwrap_err());
    let empty = tempfile::tempdir().unwrap();
    let no_files = error_chain(&sim.load_path(empty.path()).unwrap_err());

    assert!(broken.contains("broken.json is not valid JSON"), "{broken}");
    assert!(
        absent.contains("cannot read") && absent.contains("absent.json"),
        "{absent}"
    );
    assert!(no_files.contains("holds no *.json files"), "{no_files}");
}

#[test]
fn generate_makes_varied_new_cases_created_within_the_last_day() {
    let sim = sim();

    let numbers = sim.generate(12);

    assert_eq!(numbers.len(), 12);
    let docs: Vec<Value> = numbers.iter().map(|n| sim.case(n).unwrap()).collect();
    let day_ago = chrono::Utc::now() - chrono::TimeDelta::days(1);
    for doc in &docs {
        assert!(!has_ticket_number(doc), "{doc}");
        let created = created_on(doc).unwrap();
        assert!(created > day_ago && created <= chrono::Utc::now(), "{doc}");
        assert_eq!(doc["state"], "Active");
        assert!(doc["customerAsset"]["serialNumber"].as_str().unwrap().len() > 5);
    }
    let distinct = |key: &str| {
        let mut v: Vec<String> = docs.iter().map(|d| d[key].to_string()).collect();
        v.sort();
        v.dedup();
        v.len()
    };
    assert!(distinct("title") >= 8);
    assert!(distinct("origin") >= 4);
    assert!(distinct("requestorInfo") >= 8);
    let text: String = docs.iter().map(|d| d.to_string()).collect();
    assert!(text.chars().any(|c| matches!(c, 'é' | 'ü' | 'ö' | 'ã')));
    assert!(text.chars().any(|c| c as u32 >= 0x1F300), "some emoji");
}

#[test]
fn generate_is_deterministic_given_the_current_count() {
    let (a, b) = (sim(), sim());
    let shape = |sim: &Simulator, numbers: &[String]| -> Vec<Value> {
        numbers
            .iter()
            .map(|n| {
                let d = sim.case(n).unwrap();
                json!([
                    d["caseNumber"],
                    d["title"],
                    d["requestorInfo"],
                    d["customerAsset"]
                ])
            })
            .collect()
    };

    let from_a = a.generate(5);
    let from_b = b.generate(5);
    assert_eq!(shape(&a, &from_a), shape(&b, &from_b));

    let more = a.generate(2);
    assert_eq!(a.cases().len(), 7);
    assert!(more.iter().all(|n| !from_a.contains(n)));
}
