//! Reading the layers: defaults < `twofold.toml` < `TWOFOLD_*` environment. Unknown keys, values
//! of the wrong type and refused values are all collected, so one failed start names them all.

use std::collections::BTreeSet;
use std::path::Path;

use figment::Figment;
use figment::providers::{Format, Serialized, Toml};
use figment::value::{Dict, Value};

use super::problems::{Problem, Problems, Sources, closest, expected, written};
use super::{Config, ConfigError, ENV_PREFIX, NOT_KEY_PREFIXES, NOT_KEYS, RawConfig};

impl Config {
    /// Reads defaults, then the TOML file (if any), then the process environment.
    pub fn load(file: Option<&Path>) -> Result<Config, ConfigError> {
        let env: Vec<(String, String)> = std::env::vars().collect();
        Config::load_from(file, env)
    }

    /// Like [`Config::load`], with the environment given: tests pass their own.
    pub fn load_from(
        file: Option<&Path>,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Config, ConfigError> {
        let mut sources = Sources {
            file,
            file_keys: BTreeSet::new(),
            env_keys: BTreeSet::new(),
        };
        let mut set = Dict::new();
        if let Some(path) = file {
            let from_file = read_file(path)?;
            sources.file_keys = from_file.keys().cloned().collect();
            set.extend(from_file);
        }
        // The environment layer is built from the given pairs (not by figment reading the process
        // environment) so tests stay hermetic; values are parsed the way figment parses env vars.
        for (k, v) in env {
            let Some(key) = k.strip_prefix(ENV_PREFIX) else {
                continue;
            };
            if NOT_KEYS.contains(&key) || NOT_KEY_PREFIXES.iter().any(|p| key.starts_with(p)) {
                continue;
            }
            let value: Value = v.parse().unwrap_or_else(|never| match never {});
            let key = key.to_ascii_lowercase();
            sources.env_keys.insert(key.clone());
            set.insert(key, value);
        }
        let result = check(set);
        result.map_err(|e| sources.name_all(e))
    }
}

/// The file's keys and values; a missing or malformed file is the one problem reported.
fn read_file(path: &Path) -> Result<Dict, ConfigError> {
    if !path.is_file() {
        return Err(Problem::general(format!(
            "the configuration file {} does not exist",
            path.display()
        ))
        .into());
    }
    Figment::from(Toml::file_exact(path))
        .extract::<Dict>()
        .map_err(|e| {
            Problem::general(format!(
                "the configuration file {} is not valid TOML: {}",
                path.display(),
                one_line(&e.kind.to_string())
            ))
            .into()
        })
}

/// The TOML parser's message without its drawing of the line, on one line: one problem a line.
fn one_line(message: &str) -> String {
    message
        .lines()
        .map(str::trim)
        .filter(|l| {
            let drawing = l
                .trim_start_matches(|c: char| c.is_ascii_digit())
                .trim_start();
            !l.is_empty() && !drawing.starts_with('|')
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// Every key the settings know, from the settings themselves (so a new field is known at once).
fn known_keys() -> Vec<String> {
    match serde_json::to_value(RawConfig::default()) {
        Ok(serde_json::Value::Object(map)) => map.keys().cloned().collect(),
        _ => Vec::new(),
    }
}

/// From the keys the operator set to a checked configuration, or every problem found.
fn check(mut set: Dict) -> Result<Config, ConfigError> {
    let mut problems = Problems::default();
    let known = known_keys();
    set.retain(|key, _| {
        let is_known = known.iter().any(|k| k == key);
        if !is_known {
            problems.push(Problem::unknown(key, closest(key, &known)));
        }
        is_known
    });
    // Serde stops at the first value of the wrong type: take each bad key out (its default
    // stands in) and read again, so the later checks still run and every bad value is named.
    let raw = loop {
        let figment = Figment::from(Serialized::defaults(RawConfig::default()))
            .merge(Serialized::defaults(set.clone()));
        match figment.extract::<RawConfig>() {
            Ok(raw) => break raw,
            Err(errors) => {
                let before = set.len();
                for e in errors {
                    let Some(key) = e.path.first().cloned() else {
                        continue;
                    };
                    problems.push(Problem::refused(&key, type_problem(&e.kind)));
                    set.remove(&key);
                }
                if set.len() == before {
                    // Nothing left to take out: report what is known rather than loop.
                    problems.push(Problem::general("the configuration cannot be read"));
                    return Err(problems.into_error());
                }
            }
        }
    };
    match raw.validate() {
        Ok(config) if problems.is_empty() => Ok(config),
        Ok(_) => Err(problems.into_error()),
        Err(more) => {
            problems.extend(more);
            Err(problems.into_error())
        }
    }
}

fn type_problem(kind: &figment::error::Kind) -> String {
    use figment::error::Kind;
    match kind {
        Kind::InvalidType(actual, expects) | Kind::InvalidValue(actual, expects) => {
            format!("{}, not {}", expected(expects), written(actual))
        }
        Kind::UnknownVariant(actual, variants) => {
            format!("expects one of {}, not `{actual}`", variants.join(", "))
        }
        Kind::Message(m) => m.clone(),
        _ => "is not a value this setting takes".into(),
    }
}
