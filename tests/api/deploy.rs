//! The systemd recipe (`deploy/twofold.service`, `deploy/twofold.env.example`) against the code:
//! every `TWOFOLD_*` name they use is a configuration key, the example is a configuration the
//! service accepts in production, the subcommands the unit runs exist, and the master key reaches
//! the service as a file (`TWOFOLD_MASTER_KEY_FILE`) the way `LoadCredential=` hands it over.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::Command;

use twofold::config::{Config, RawConfig};
use twofold::crypto::Keys;

const UNIT: &str = include_str!("../../deploy/twofold.service");
const ENV_EXAMPLE: &str = include_str!("../../deploy/twofold.env.example");
/// A prefixed variable that is no key: the CLI's `--config` file.
const NOT_KEYS: &[&str] = &["TWOFOLD_CONFIG"];
/// A valid master key (32 bytes of 0x07, base64).
const MASTER_KEY: &str = "BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc=";

/// Every configuration key as its environment variable, from the configuration type itself.
fn known_variables() -> BTreeSet<String> {
    let raw = serde_json::to_value(RawConfig::default()).unwrap();
    let mut names: BTreeSet<String> = raw
        .as_object()
        .unwrap()
        .keys()
        .map(|k| format!("TWOFOLD_{}", k.to_ascii_uppercase()))
        .collect();
    names.extend(NOT_KEYS.iter().map(|n| (*n).to_string()));
    names
}

/// Every `TWOFOLD_*` word of a text, comments included: a stale name in a comment misleads too.
fn variables_in(text: &str) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    let mut rest = text;
    while let Some(at) = rest.find("TWOFOLD_") {
        let tail = &rest[at..];
        let end = tail
            .find(|c: char| !(c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_'))
            .unwrap_or(tail.len());
        found.insert(tail[..end].to_string());
        rest = &tail[end..];
    }
    found
}

/// The assignments the example makes (comment lines left out), quotes removed the way systemd
/// reads a single-quoted value.
fn example_assignments() -> Vec<(String, String)> {
    ENV_EXAMPLE
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| {
            let (k, v) = l
                .split_once('=')
                .unwrap_or_else(|| panic!("not KEY=value: {l}"));
            let v = v
                .strip_prefix('\'')
                .and_then(|v| v.strip_suffix('\''))
                .unwrap_or(v);
            (k.to_string(), v.to_string())
        })
        .collect()
}

/// The value of the unit's `Environment=NAME=…` line.
fn unit_environment(name: &str) -> String {
    let prefix = format!("Environment={name}=");
    UNIT.lines()
        .find_map(|l| l.strip_prefix(&prefix))
        .unwrap_or_else(|| panic!("the unit sets no {name}"))
        .to_string()
}

#[test]
fn the_unit_and_the_env_example_name_only_configuration_keys() {
    let known = known_variables();
    for (file, text) in [
        ("deploy/twofold.service", UNIT),
        ("deploy/twofold.env.example", ENV_EXAMPLE),
    ] {
        let names = variables_in(text);
        assert!(!names.is_empty(), "{file} names no variable");
        let unknown: Vec<_> = names.difference(&known).collect();
        assert!(
            unknown.is_empty(),
            "{file} names unknown variables {unknown:?}"
        );
    }
}

#[test]
fn the_env_example_is_a_production_configuration_the_service_accepts() {
    let dir = tempfile::tempdir().unwrap();
    let key_file = dir.path().join("master-key");
    std::fs::write(&key_file, format!("{MASTER_KEY}\n")).unwrap();
    let mut env = example_assignments();
    assert!(
        env.contains(&("TWOFOLD_ENV".into(), "production".into())),
        "the example is for production"
    );
    for set_by_the_unit in ["TWOFOLD_MASTER_KEY_FILE", "TWOFOLD_DATA_DIR"] {
        assert!(
            env.iter().all(|(k, _)| k != set_by_the_unit),
            "the unit sets {set_by_the_unit}: the env file would override it"
        );
    }
    // What the unit adds: the credential's path and the state directory.
    env.push((
        "TWOFOLD_MASTER_KEY_FILE".into(),
        key_file.display().to_string(),
    ));
    env.push(("TWOFOLD_DATA_DIR".into(), dir.path().display().to_string()));
    let config = Config::load_from(None, env).unwrap();
    Keys::load(&config.master_key, &[]).unwrap();
}

#[test]
fn the_unit_passes_the_master_key_as_a_credential_file_and_keeps_data_in_its_state_directory() {
    assert!(UNIT.contains("\nLoadCredential=master-key:/etc/twofold/master-key\n"));
    assert_eq!(unit_environment("TWOFOLD_MASTER_KEY_FILE"), "%d/master-key");
    assert!(UNIT.contains("\nStateDirectory=twofold\n"));
    assert_eq!(unit_environment("TWOFOLD_DATA_DIR"), "%S/twofold");
    assert!(UNIT.contains("\nEnvironmentFile=/etc/twofold/twofold.env\n"));
}

#[test]
fn the_subcommands_the_unit_runs_exist() {
    let binary = PathBuf::from(env!("CARGO_BIN_EXE_twofold"));
    for (directive, subcommand) in [("ExecStartPre", "migrate"), ("ExecStart", "serve")] {
        let line = format!("\n{directive}=/usr/local/bin/twofold {subcommand}\n");
        assert!(UNIT.contains(&line), "the unit has no `{}`", line.trim());
        let help = Command::new(&binary)
            .args([subcommand, "--help"])
            .env_clear()
            .output()
            .unwrap();
        assert!(
            help.status.success(),
            "`twofold {subcommand} --help`: {}",
            String::from_utf8_lossy(&help.stderr)
        );
    }
}

/// A credential is the file as written: `openssl rand -base64 32 > file` ends it with a newline.
#[test]
fn a_master_key_file_with_a_trailing_newline_is_the_same_key_and_not_both_ways() {
    let dir = tempfile::tempdir().unwrap();
    let key_file = dir.path().join("master-key");
    std::fs::write(&key_file, format!("{MASTER_KEY}\n")).unwrap();
    let base = [(
        "TWOFOLD_DATA_DIR".to_string(),
        dir.path().display().to_string(),
    )];
    let file_var = (
        "TWOFOLD_MASTER_KEY_FILE".to_string(),
        key_file.display().to_string(),
    );
    let value_var = ("TWOFOLD_MASTER_KEY".to_string(), MASTER_KEY.to_string());

    let from_file =
        Config::load_from(None, base.iter().cloned().chain([file_var.clone()])).unwrap();
    let from_value =
        Config::load_from(None, base.iter().cloned().chain([value_var.clone()])).unwrap();
    assert_eq!(
        Keys::load(&from_file.master_key, &[]).unwrap().key_id(),
        Keys::load(&from_value.master_key, &[]).unwrap().key_id()
    );

    let both = Config::load_from(None, base.iter().cloned().chain([file_var, value_var]))
        .unwrap_err()
        .to_string();
    assert!(
        both.contains("TWOFOLD_MASTER_KEY: TWOFOLD_MASTER_KEY_FILE is set too"),
        "{both}"
    );
}
