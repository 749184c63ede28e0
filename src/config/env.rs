//! The environment provider and the lenient string deserializers.

use figment::value::{Dict, Map, Value};
use figment::{Metadata, Profile, Provider};
use secrecy::SecretString;
use serde::{Deserialize, Deserializer};

/// The `HDIS_SYNC_SECTION__KEY` provider. Unlike figment's own, a value that
/// looks like a number but would not print back the same (`0012345`, `+1`)
/// stays a string, so passwords and ticket prefixes keep their leading zeros.
pub(super) struct EnvStrings {
    vars: Vec<(String, String)>,
}

impl EnvStrings {
    pub(super) fn new(
        prefix: &str,
        env: impl IntoIterator<Item = (std::ffi::OsString, std::ffi::OsString)>,
    ) -> Self {
        let vars = env
            .into_iter()
            .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
            .filter_map(|(k, v)| {
                // Only SECTION__KEY names are configuration: every key lives in
                // a section, and HDIS_SYNC_CONFIG (the file's path) is not one.
                let rest = k.strip_prefix(prefix)?;
                rest.contains("__").then(|| (rest.to_ascii_lowercase(), v))
            })
            .collect();
        EnvStrings { vars }
    }
}

fn env_value(raw: &str) -> Value {
    let parsed: Value = raw.parse().unwrap_or_else(|_| Value::from(raw.to_string()));
    match &parsed {
        Value::Num(_, n) => {
            let back = n
                .to_u128()
                .map(|x| x.to_string())
                .or_else(|| n.to_i128().map(|x| x.to_string()));
            match back {
                Some(b) if b == raw.trim() => parsed,
                _ if n.to_f64().is_some_and(|f| f.to_string() == raw.trim()) => parsed,
                _ => Value::from(raw.to_string()),
            }
        }
        Value::Bool(..) => parsed,
        _ => Value::from(raw.to_string()),
    }
}

impl Provider for EnvStrings {
    fn metadata(&self) -> Metadata {
        Metadata::named("HDIS_SYNC_ environment variable(s)")
    }

    fn data(&self) -> Result<Map<Profile, Dict>, figment::Error> {
        let mut root = Dict::new();
        for (key, raw) in &self.vars {
            let parts: Vec<&str> = key.split("__").filter(|s| !s.is_empty()).collect();
            let Some((last, parents)) = parts.split_last() else {
                continue;
            };
            let mut dict = &mut root;
            for part in parents {
                let entry = dict
                    .entry(part.to_string())
                    .or_insert_with(|| Value::from(Dict::new()));
                if entry.as_dict().is_none() {
                    *entry = Value::from(Dict::new());
                }
                let Value::Dict(_, d) = entry else {
                    unreachable!("just made a dict")
                };
                dict = d;
            }
            dict.insert(last.to_string(), env_value(raw));
        }
        Ok(Profile::Default.collect(root))
    }
}

/// Accepts a string, or a number/bool written without quotes, as text.
pub(super) fn lenient_string<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    lenient_opt_string(d)?.ok_or_else(|| serde::de::Error::custom("expected a string"))
}

pub(super) fn lenient_opt_string<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Lenient {
        S(String),
        U(u64),
        I(i64),
        F(f64),
        B(bool),
    }
    Ok(Option::<Lenient>::deserialize(d)?.map(|v| match v {
        Lenient::S(s) => s,
        Lenient::U(n) => n.to_string(),
        Lenient::I(n) => n.to_string(),
        Lenient::F(n) => n.to_string(),
        Lenient::B(b) => b.to_string(),
    }))
}

pub(super) fn lenient_opt_secret<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<SecretString>, D::Error> {
    Ok(lenient_opt_string(d)?.map(SecretString::from))
}
