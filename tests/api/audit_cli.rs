//! `twofold audit verify` and `twofold audit export`, the real binary against a test app's
//! database (and, on the production backends, its Redis).

use std::process::{Command, Output};

use chrono::TimeDelta;
use diesel::prelude::*;
use serde_json::Value;
use twofold::db::schema::audit_events as a;

use crate::admin::audit_rows;
use crate::audit_chain::workload;
use crate::helpers::{Backend, TestApp, spawn_app, start_time};

/// Runs `twofold <args>` with the app's storage and master key and nothing else from the
/// environment.
pub(crate) async fn twofold(app: &TestApp, args: &[&str]) -> Output {
    let raw = app.raw.clone();
    let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    tokio::task::spawn_blocking(move || {
        // With PostgreSQL the app's data dir is already gone: the binary gets a fresh one.
        let scratch = tempfile::tempdir().unwrap();
        let data_dir = match raw.data_dir.exists() {
            true => raw.data_dir.clone(),
            false => scratch.path().to_path_buf(),
        };
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_twofold"));
        cmd.current_dir(scratch.path()).args(&args);
        for (k, _) in std::env::vars() {
            if k.starts_with("TWOFOLD_") {
                cmd.env_remove(k);
            }
        }
        cmd.env("TWOFOLD_DATA_DIR", &data_dir);
        cmd.env("TWOFOLD_MASTER_KEY", raw.master_key.as_deref().unwrap());
        if let Some(url) = &raw.database_url {
            cmd.env("TWOFOLD_DATABASE_URL", url);
        }
        if let Some(url) = &raw.redis_url {
            cmd.env("TWOFOLD_REDIS_URL", url);
            cmd.env("TWOFOLD_REDIS_PREFIX", &raw.redis_prefix);
        }
        cmd.output().expect("run twofold")
    })
    .await
    .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).unwrap()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The exported events of one run, parsed.
fn lines(out: &Output) -> Vec<Value> {
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    text(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

async fn cli_verifies_exports_and_names_a_broken_link(backend: Backend) {
    let app = spawn_app(backend).await;
    let secrets = workload(&app).await;
    let rows = audit_rows(&app).await;

    let out = twofold(&app, &["audit", "verify"]).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "", "nothing broken to print");
    assert!(
        text(&out.stderr).contains("intact"),
        "{}",
        text(&out.stderr)
    );

    // Export: one JSON line per event, oldest first, each its stored row; no secret.
    let out = twofold(&app, &["audit", "export", "--since", "2000-01-01"]).await;
    let events = lines(&out);
    assert_eq!(events.len(), rows.len());
    for (e, r) in events.iter().zip(&rows) {
        assert_eq!(e["id"], r.id.to_string());
        assert_eq!(
            (&e["action"], &e["actor"]),
            (
                &Value::from(r.action.clone()),
                &Value::from(r.actor.clone())
            )
        );
        assert_eq!(e["hash"], hex(r.hash.as_deref().unwrap()));
        assert_eq!(
            (&e["stream"], &e["seq"]),
            (&Value::from(r.stream.clone()), &Value::from(r.seq))
        );
        let mut fields = e.clone();
        fields.as_object_mut().unwrap().remove("hash");
        let fields = fields.to_string();
        for s in &secrets {
            assert!(!fields.contains(s.as_str()), "a secret in {fields}");
        }
    }
    let stdout = text(&out.stdout);
    for s in secrets.iter().filter(|s| s.len() > 8) {
        assert!(!stdout.contains(s.as_str()), "a secret in the export");
    }

    // A window: `--since` inclusive, `--until` exclusive.
    let (from, to) = (
        start_time() + TimeDelta::seconds(30),
        start_time() + TimeDelta::seconds(60),
    );
    let fmt = |t: chrono::DateTime<chrono::Utc>| t.format("%Y-%m-%dT%H:%M:%SZ").to_string();
    let out = twofold(
        &app,
        &[
            "audit",
            "export",
            "--since",
            &fmt(from),
            "--until",
            &fmt(to),
        ],
    )
    .await;
    let window: Vec<String> = lines(&out)
        .iter()
        .map(|e| e["id"].as_str().unwrap().to_string())
        .collect();
    let want: Vec<String> = rows
        .iter()
        .filter(|r| r.at >= from.naive_utc() && r.at < to.naive_utc())
        .map(|r| r.id.to_string())
        .collect();
    assert!(!want.is_empty() && want.len() < rows.len());
    assert_eq!(window, want);
    let out = twofold(&app, &["audit", "export", "--since", "yesterday"]).await;
    assert!(!out.status.success());
    assert_eq!(text(&out.stdout), "");

    // One edited event: exit 1, and stdout names it.
    let target = rows
        .iter()
        .find(|r| r.action == "user_unlocked")
        .unwrap()
        .clone();
    let id = target.id;
    let n = app
        .state
        .db
        .run(move |c| {
            Ok(diesel::update(a::table.find(id))
                .set(a::ip.eq("203.0.113.9"))
                .execute(c)?)
        })
        .await
        .unwrap();
    assert_eq!(n, 1);
    let out = twofold(&app, &["audit", "verify"]).await;
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    let want = format!(
        "BROKEN stream {}: event id {id} (seq {}): ",
        target.stream, target.seq
    );
    assert_eq!(stdout.lines().count(), 1, "{stdout}");
    assert!(stdout.starts_with(&want), "{stdout}");
}

crate::both_backends!(cli_verifies_exports_and_names_a_broken_link);
