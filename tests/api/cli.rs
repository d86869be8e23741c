//! The `twofold` binary: configuration errors stop the start (every problem, exit status 2); API
//! keys from the command line.

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
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert_eq!(
        err,
        "twofold: TWOFOLD_DATABASE_URL: expects sqlite://PATH or postgres://…, not `mysql://`\n"
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
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert_eq!(
        err,
        format!(
            "twofold: unknown key `listen_port` in {} (did you mean `listen`?)\n",
            file.display()
        )
    );
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
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("TWOFOLD_MASTER_KEY"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn every_configuration_problem_is_reported_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let out = twofold(
        dir.path(),
        &["serve"],
        &[
            ("TWOFOLD_ENV", "production"),
            ("TWOFOLD_LISTN", "x"),
            ("TWOFOLD_PUBLIC_URL", "ftp://a"),
            ("TWOFOLD_DATABASE_POOL_SIZE", "lots"),
            ("TWOFOLD_SMS_GATEWAY", "webhook"),
        ],
    );
    assert_eq!(
        out.status.code(),
        Some(2),
        "configuration errors exit with 2"
    );
    assert!(out.stdout.is_empty());
    let err = stderr(&out);
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(
        lines,
        [
            "twofold: unknown variable TWOFOLD_LISTN (did you mean TWOFOLD_LISTEN?)",
            "twofold: TWOFOLD_DATABASE_POOL_SIZE: expects a whole number, not `lots`",
            "twofold: TWOFOLD_PUBLIC_URL: expects an http:// or https:// URL, not `ftp://`",
            "twofold: TWOFOLD_REDIS_URL: production needs Redis (TWOFOLD_REDIS_URL or \
             TWOFOLD_REDIS_CLUSTER): the in-process store is per node, so locks and single use \
             would not hold across nodes",
            "twofold: TWOFOLD_MASTER_KEY: production needs TWOFOLD_MASTER_KEY or \
             TWOFOLD_MASTER_KEY_FILE; a generated key is for development only",
            "twofold: TWOFOLD_SMS_WEBHOOK_URL: must be set for this SMS gateway",
        ],
        "{err}"
    );
    assert!(!dir.path().join("data").exists(), "nothing created");
}

#[test]
fn api_key_create_list_revoke() {
    let dir = tempfile::tempdir().unwrap();
    let out = twofold(dir.path(), &["api-key", "list"], &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(out.stdout.is_empty(), "no key: nothing on stdout");
    assert!(
        stderr(&out).lines().last() == Some("twofold: there is no API key"),
        "{}",
        stderr(&out)
    );

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
    let key = String::from_utf8(out.stdout.clone()).unwrap();
    assert!(
        key.trim().starts_with("tfk_") && key.lines().count() == 1,
        "{key}"
    );
    let note = stderr(&out);
    let note = note.lines().last().unwrap();
    assert!(
        note.starts_with("twofold: made a client key for tenant shop (id ")
            && note.ends_with("); it is shown once:"),
        "{note}"
    );
    let out = twofold(
        dir.path(),
        &["api-key", "create", "--name", "ops", "--role", "admin"],
        &[],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out)
            .lines()
            .any(|l| l.starts_with("twofold: made an admin key for every tenant (id ")),
        "{}",
        stderr(&out)
    );

    let out = twofold(dir.path(), &["api-key", "list"], &[]);
    let list = String::from_utf8(out.stdout).unwrap();
    let header = list.lines().next().unwrap();
    assert!(
        header.starts_with("ID ") && header.contains(" CREATED (UTC) ") && header.ends_with("NAME"),
        "{header}"
    );
    let shop = list.lines().find(|l| l.ends_with(" shop")).unwrap();
    assert!(shop.contains(" client ") && shop.contains(" shop ") && shop.contains(" active "));
    let ops = list.lines().find(|l| l.ends_with(" ops")).unwrap();
    assert!(
        ops.contains(" admin ") && ops.contains(" every tenant "),
        "{ops}"
    );
    assert!(!list.contains(key.trim()), "the key itself is never listed");
    let id = shop.split_whitespace().next().unwrap().to_string();

    let out = twofold(dir.path(), &["api-key", "revoke", &id], &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).lines().last() == Some(format!("twofold: revoked key {id}").as_str()),
        "{}",
        stderr(&out)
    );
    let out = twofold(dir.path(), &["api-key", "list"], &[]);
    let list = String::from_utf8(out.stdout).unwrap();
    let shop = list.lines().find(|l| l.ends_with(" shop")).unwrap();
    assert!(shop.contains(" revoked "), "{shop}");
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

/// `twofold import --format pskc`: a password-protected file written by python-pskc, into a
/// tenant's inventory; a wrong password imports nothing.
#[test]
fn import_pskc_tokens_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let data = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/pskc/pypskc-pbkdf2.xml"
    );
    let wrong = dir.path().join("wrong");
    std::fs::write(&wrong, "not it\n").unwrap();
    let args = |pw: &str| {
        vec![
            "import".to_string(),
            "--format".into(),
            "pskc".into(),
            "--tenant".into(),
            "shop".into(),
            "--password-file".into(),
            pw.to_string(),
            data.to_string(),
        ]
    };
    let run = |pw: &std::path::Path| {
        let a = args(pw.to_str().unwrap());
        let a: Vec<&str> = a.iter().map(String::as_str).collect();
        twofold(dir.path(), &a, &[])
    };
    let out = run(&wrong);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("does not open this file"),
        "{}",
        stderr(&out)
    );
    let right = dir.path().join("right");
    std::fs::write(&right, "correct horse battery staple\n").unwrap();
    let out = run(&right);
    assert!(out.status.success(), "{}", stderr(&out));
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        said.starts_with("imported 3 tokens into tenant shop"),
        "{said}"
    );
    // The same file again: every serial named, nothing added.
    let out = run(&right);
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(
        err.contains("PP-0001") && err.contains("nothing was imported"),
        "{err}"
    );
}
