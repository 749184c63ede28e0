//! Fuzzes the case parser and the diff: any bytes as a GET CASES or STATUS
//! body must give a value or a clear error, never a panic; and any two
//! parsed documents must diff consistently.
#![no_main]

use hdis_sync::lexmark::model::{parse_case, parse_case_list};
use hdis_sync::sync::diff::{Snapshot, apply, diff};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(data) else { return };
    let _ = parse_case(value.clone(), None);
    let Ok(list) = parse_case_list(value) else { return };
    let snaps: Vec<Snapshot> = list.cases.iter().map(Snapshot::of).collect();
    for old in &snaps {
        assert!(diff(old, old).is_empty());
        for new in &snaps {
            let mut applied = old.clone();
            apply(&mut applied, &diff(old, new));
            assert_eq!(applied, old.merge(new));
            assert!(diff(&applied, new).is_empty());
        }
    }
});
