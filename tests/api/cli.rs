//! The `twofold` binary: configuration errors stop the start; API keys from the command line.

use std::process::{Command, Output};

fn twofold(dir: &std::path::Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_twofold"));
    cmd.current_dir(dir).args(args);
    // A clean environment: no TWOFOLD_* from the caller leaks in.
    for (k, _) in std::env::vars() {
        if k.starts_with("TWOFOLD_") {
            cmd.env_remove(k);
        }
    }
    cmd.env("TWOFOLD_DATA_DIR", dir.join("data"));
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("run twofold")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn unknown_database_scheme_stops_the_start() {
    let dir = tempfile::tempdir().unwrap();
    let out = twofold(
        dir.path(),
        &["serve"],
        &[("TWOFOLD_DATABASE_URL", "mysql://x")],
    );
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(
        err.contains("database_url") && err.contains("mysql"),
        "{err}"
    );
    assert!(
        !dir.path().join("data").exists(),
        "nothing created on a refused start"
    );
}

#[test]
fn unknown_key_in_the_config_file_stops_the_start() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("twofold.toml");
    std::fs::write(&file, "listen = \"127.0.0.1:0\"\nlisten_port = 1\n").unwrap();
    let out = twofold(dir.path(), &["--config", file.to_str().unwrap()], &[]);
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(err.contains("listen_port"), "{err}");
}

#[test]
fn production_without_a_master_key_stops_the_start() {
    let dir = tempfile::tempdir().unwrap();
    let out = twofold(
        dir.path(),
        &["serve"],
        &[
            ("TWOFOLD_ENV", "production"),
            ("TWOFOLD_PUBLIC_URL", "https://mfa.example"),
            ("TWOFOLD_REDIS_URL", "redis://127.0.0.1:6379"),
        ],
    );
    assert!(!out.status.success());
    assert!(stderr(&out).contains("master_key"), "{}", stderr(&out));
}

#[test]
fn api_key_create_list_revoke() {
    let dir = tempfile::tempdir().unwrap();
    let out = twofold(
        dir.path(),
        &[
            "api-key",
            "create",
            "--name",
            "shop",
            "--role",
            "client",
            "--tenant",
            "shop",
            "--return-url-prefix",
            "https://shop.example/mfa/",
        ],
        &[],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let key = String::from_utf8(out.stdout).unwrap();
    assert!(
        key.trim().starts_with("tfk_") && key.lines().count() == 1,
        "{key}"
    );

    let out = twofold(dir.path(), &["api-key", "list"], &[]);
    let list = String::from_utf8(out.stdout).unwrap();
    assert!(list.contains("shop") && list.contains("client") && list.contains("active"));
    assert!(!list.contains(key.trim()), "the key itself is never listed");
    let id = list
        .lines()
        .find(|l| l.contains("shop"))
        .and_then(|l| l.split_whitespace().next())
        .unwrap()
        .to_string();

    let out = twofold(dir.path(), &["api-key", "revoke", &id], &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    let out = twofold(dir.path(), &["api-key", "list"], &[]);
    assert!(String::from_utf8(out.stdout).unwrap().contains("revoked"));
    let out = twofold(dir.path(), &["api-key", "revoke", &id], &[]);
    assert!(!out.status.success(), "revoking twice is an error");
}

#[test]
fn api_key_create_refuses_bad_input() {
    let dir = tempfile::tempdir().unwrap();
    let out = twofold(
        dir.path(),
        &[
            "api-key",
            "create",
            "--name",
            "x",
            "--role",
            "client",
            "--return-url-prefix",
            "javascript:alert(1)",
        ],
        &[],
    );
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("return URL prefix"),
        "{}",
        stderr(&out)
    );
    let out = twofold(
        dir.path(),
        &["api-key", "create", "--name", "x", "--role", "root"],
        &[],
    );
    assert!(!out.status.success());
}
