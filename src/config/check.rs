//! `hdis-sync check`: every configuration problem at once.

use figment::{Figment, Provider};
use serde::de::DeserializeOwned;

use super::{Config, ConfigError, Problem, format_figment_error, problem};

const SECTIONS: [&str; 5] = ["lexmark", "sync", "state", "log", "itsm"];

pub(super) fn check(figment: Figment) -> Result<(Config, Vec<Problem>), ConfigError> {
    let mut problems = Vec::new();
    let mut failed: Vec<&str> = Vec::new();
    match figment.data() {
        Ok(data) => {
            for dict in data.values() {
                for key in dict.keys().filter(|k| !SECTIONS.contains(&k.as_str())) {
                    problems.push(problem(
                        key,
                        &format!("unknown section; expected one of {}", SECTIONS.join(", ")),
                    ));
                }
            }
        }
        Err(e) => return Err(ConfigError::Parse(format_figment_error(e))),
    }
    let mut config = Config {
        lexmark: section(&figment, "lexmark", &mut problems, &mut failed),
        sync: section(&figment, "sync", &mut problems, &mut failed),
        state: section(&figment, "state", &mut problems, &mut failed),
        log: section(&figment, "log", &mut problems, &mut failed),
        itsm: section(&figment, "itsm", &mut problems, &mut failed),
    };
    // Validate what could be read; a section that could not be read has
    // already said why, and its defaults would only add noise.
    problems.extend(config.prepare().into_iter().filter(|p| {
        !failed
            .iter()
            .any(|s| p.key.starts_with(&format!("{s}.")) || p.key == *s)
    }));
    Ok((config, problems))
}

fn section<T: DeserializeOwned + Default>(
    figment: &Figment,
    name: &'static str,
    problems: &mut Vec<Problem>,
    failed: &mut Vec<&'static str>,
) -> T {
    if !figment.contains(name) {
        return T::default();
    }
    match figment.extract_inner::<T>(name) {
        Ok(v) => v,
        Err(e) => {
            failed.push(name);
            for one in e {
                // figment gives the path inside the section, sometimes with
                // the section again at its end: say `section.key`.
                let inner: Vec<&str> = one
                    .path
                    .iter()
                    .map(String::as_str)
                    .filter(|p| *p != name)
                    .collect();
                let key = if inner.is_empty() {
                    name.to_string()
                } else {
                    format!("{name}.{}", inner.join("."))
                };
                problems.push(problem(
                    &key,
                    &super::without_source_lines(&one.kind.to_string()),
                ));
            }
            T::default()
        }
    }
}
