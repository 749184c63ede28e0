use super::*;
use std::ffi::OsString;
use std::io::Write;

fn env(pairs: &[(&str, &str)]) -> Vec<(OsString, OsString)> {
    pairs
        .iter()
        .map(|(k, v)| (OsString::from(k), OsString::from(v)))
        .collect()
}

fn toml(text: &str) -> tempfile::NamedTempFile {
    let mut f = tempfile::NamedTempFile::new().unwrap();
    f.write_all(text.as_bytes()).unwrap();
    f
}

const MINIMAL: &str = r#"
[lexmark]
base_url = "https://qa-api.lexmark.com/b2b/v1"
username = "acme"
password = "s3cret"
"#;

fn load(text: &str, vars: &[(&str, &str)]) -> Result<Config, Vec<Problem>> {
    let f = toml(text);
    let mut c = Config::extract_from(Some(f.path()), env(vars))
        .map_err(|e| vec![problem("parse", &e.to_string())])?;
    let p = c.prepare();
    if p.is_empty() { Ok(c) } else { Err(p) }
}

#[test]
fn a_minimal_file_gets_the_documented_defaults() {
    let c = load(MINIMAL, &[]).unwrap();
    assert_eq!(c.sync.past_days, 7);
    assert_eq!(c.sync.poll_concurrency, 4);
    assert_eq!(c.sync.schedule, "0 */5 * * * *");
    assert_eq!(c.itsm.kind, ItsmKind::Local);
    assert_eq!(c.state.path, PathBuf::from("/var/lib/hdis-sync/state.db"));
    assert_eq!(
        c.itsm.local.resolve_path(&c.state.dir()),
        PathBuf::from("/var/lib/hdis-sync/tickets.db")
    );
}

#[test]
fn environment_overrides_the_file_with_section_double_underscore_key() {
    let c = load(
        MINIMAL,
        &[
            ("HDIS_SYNC_SYNC__PAST_DAYS", "30"),
            ("HDIS_SYNC_LEXMARK__USERNAME", "other"),
            ("HDIS_SYNC_CONFIG", "/x.toml"),
        ],
    )
    .unwrap();
    assert_eq!(c.sync.past_days, 30);
    assert_eq!(c.lexmark.username.as_deref(), Some("other"));
}

#[test]
fn a_secret_with_leading_zeros_from_the_environment_keeps_them() {
    use secrecy::ExposeSecret;
    let c = load(
        MINIMAL,
        &[
            ("HDIS_SYNC_LEXMARK__PASSWORD", "0012345"),
            ("HDIS_SYNC_LEXMARK__USERNAME", "12345"),
        ],
    )
    .unwrap();
    assert_eq!(
        c.lexmark.password.as_ref().unwrap().expose_secret(),
        "0012345"
    );
    assert_eq!(c.lexmark.username.as_deref(), Some("12345"));
}

#[test]
fn unknown_keys_are_an_error_naming_the_key() {
    let e = Config::extract_from(
        Some(toml(&format!("{MINIMAL}\npassword_typo = 1\n")).path()),
        env(&[]),
    )
    .unwrap_err();
    assert!(e.to_string().contains("password_typo"), "{e}");
    let e = Config::extract_from(
        Some(toml(MINIMAL).path()),
        env(&[("HDIS_SYNC_SYNC__POLL_CONCURENCY", "3")]),
    )
    .unwrap_err();
    assert!(e.to_string().contains("poll_concurency"), "{e}");
}

#[test]
fn every_problem_is_reported_at_once_with_its_key() {
    let p = load(
        r#"
[lexmark]
base_url = "http://lexmark.example.com/b2b/v1"
[sync]
past_days = 1
timezone = "Mars/Olympus"
schedule = "every five minutes"
[itsm]
kind = "servicenow"
"#,
        &[],
    )
    .unwrap_err();
    let keys: Vec<&str> = p.iter().map(|p| p.key.as_str()).collect();
    for k in [
        "lexmark.base_url",
        "lexmark.username",
        "lexmark.password",
        "sync.past_days",
        "sync.timezone",
        "sync.schedule",
        "itsm.servicenow",
    ] {
        assert!(keys.contains(&k), "{k} not in {keys:?}");
    }
}

#[test]
fn plain_http_is_accepted_only_for_loopback_or_when_allowed() {
    let loopback = MINIMAL.replace("https://qa-api.lexmark.com", "http://127.0.0.1:8787");
    assert!(load(&loopback, &[]).is_ok());
    let remote = MINIMAL.replace("https://", "http://");
    assert!(load(&remote, &[]).is_err());
    assert!(load(&format!("{remote}allow_insecure_http = true\n"), &[]).is_ok());
}

#[test]
fn a_secret_can_come_from_a_file_and_never_shows_in_debug_output() {
    use secrecy::ExposeSecret;
    let secret = toml("from-a-file\n");
    let text = MINIMAL.replace(
        "password = \"s3cret\"",
        &format!("password_file = {:?}", secret.path()),
    );
    let c = load(&text, &[]).unwrap();
    assert_eq!(
        c.lexmark.password.as_ref().unwrap().expose_secret(),
        "from-a-file"
    );
    let debug = format!("{c:?}");
    assert!(
        !debug.contains("from-a-file") && !debug.contains("s3cret"),
        "{debug}"
    );
}

#[test]
fn two_sources_for_one_secret_are_refused() {
    let p = load(&format!("{MINIMAL}password_file = \"/nonexistent\"\n"), &[]).unwrap_err();
    assert!(
        p.iter()
            .any(|p| p.key == "lexmark.password" && p.message.contains("only one")),
        "{p:?}"
    );
}

#[test]
fn every_example_config_parses() {
    let dir = format!("{}/config", env!("CARGO_MANIFEST_DIR"));
    let mut seen = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "toml") {
            Config::extract_from(Some(&path), env(&[]))
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            seen += 1;
        }
    }
    assert!(seen >= 2, "expected example configs in config/");
}

#[test]
fn a_toml_syntax_error_never_quotes_the_line_with_the_secret() {
    let f = toml("[lexmark]\nbase_url = \"https://x/b2b/v1\"\npassword = \"Zq9SecretLex\" x\n");
    let e = Config::extract_from(Some(f.path()), env(&[]))
        .unwrap_err()
        .to_string();
    assert!(!e.contains("Zq9SecretLex"), "{e}");
    assert!(e.contains("line 3"), "{e}");
    assert!(
        e.contains(&f.path().display().to_string()),
        "names the file: {e}"
    );
}

#[test]
fn an_empty_or_missing_secret_file_is_one_clear_problem() {
    let empty = toml("\n");
    let text = MINIMAL.replace(
        "password = \"s3cret\"",
        &format!("password_file = {:?}", empty.path()),
    );
    let p = load(&text, &[]).unwrap_err();
    assert_eq!(p.len(), 1, "{p:?}");
    assert!(p[0].message.contains("is empty"), "{p:?}");
    let text = MINIMAL.replace(
        "password = \"s3cret\"",
        "password_file = \"/nonexistent/secret\"",
    );
    let p = load(&text, &[]).unwrap_err();
    assert_eq!(p.len(), 1, "{p:?}");
    assert!(p[0].message.contains("cannot read secret"), "{p:?}");
}
