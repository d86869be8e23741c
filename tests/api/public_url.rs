//! The public URL has one form: the start-up line prints it, assertions carry it as `iss`, and
//! links are built under it.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use chrono::Utc;
use serde_json::json;

use crate::assertions::decode_assertion;
use crate::helpers::{Backend, spawn_app_with};
use crate::pages_links::{RETURN_URL, request_link};

/// As configured below, normalised: scheme and host lowercased, no default port, no trailing
/// slash.
const CONFIGURED: &str = "HTTPS://MFA.Example:443/";
const SHOWN: &str = "https://mfa.example";

/// The `twofold is serving` line of a real start, and whether any log line had colour codes.
fn serving_line(env: &[(&str, &str)]) -> (String, bool) {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_twofold"));
    for (k, _) in std::env::vars() {
        if k.starts_with("TWOFOLD_") {
            cmd.env_remove(k);
        }
    }
    let mut child = cmd
        .current_dir(dir.path())
        .env("TWOFOLD_DATA_DIR", dir.path().join("data"))
        .env("TWOFOLD_LISTEN", "127.0.0.1:0")
        .env("TWOFOLD_PUBLIC_URL", CONFIGURED)
        .envs(env.iter().copied())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut coloured = false;
    let line = loop {
        let Ok(line) = rx.recv_timeout(Duration::from_secs(60)) else {
            child.kill().unwrap();
            panic!("no start-up line within a minute");
        };
        coloured |= line.contains('\u{1b}');
        if line.contains("twofold is serving") {
            break line;
        }
    };
    child.kill().unwrap();
    child.wait().unwrap();
    (line, coloured)
}

#[test]
fn the_start_up_line_shows_the_normalised_public_url_without_colour() {
    let (line, coloured) = serving_line(&[]);
    assert!(
        line.contains(&format!("public_url={SHOWN} ")),
        "the public URL as normalised: {line}"
    );
    assert!(!coloured, "stderr is a pipe here: no colour codes");
}

async fn the_issuer_is_the_public_url_as_shown(backend: Backend) {
    let app = spawn_app_with(backend, |raw| raw.public_url = Some(CONFIGURED.into())).await;
    app.clock.set(Utc::now());
    assert_eq!(
        twofold::config::public_url_text(&app.state.public_url),
        SHOWN
    );
    let device = app.active_device("alice").await;
    let res = app.verify("alice", json!(app.code(&device, 0))).await;
    assert_eq!(res.status(), 200);
    let answer: serde_json::Value = res.json().await.unwrap();
    let token = answer["assertion"].as_str().unwrap();
    let claims = decode_assertion(&app, token, "default").await.unwrap();
    assert_eq!(claims["iss"], SHOWN);

    // Links are built under the public URL, with one slash between.
    let body = json!({"purpose": "verify", "return_url": RETURN_URL});
    let res = request_link(&app, "alice", Some(&app.client_key), &body).await;
    assert_eq!(res.status(), 201);
    let body: serde_json::Value = res.json().await.unwrap();
    let url = body["url"].as_str().unwrap_or_default();
    assert!(url.starts_with(&format!("{SHOWN}/verify/")), "{body}");
}

crate::both_backends!(the_issuer_is_the_public_url_as_shown);
