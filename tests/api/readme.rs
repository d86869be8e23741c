//! The README's walk-through, run as written against a started server, so that it cannot go
//! stale: every ```sh block of its "Walk-through" section, in order, in one `bash -euo pipefail`.
//!
//! Three things differ from a newcomer's terminal, none of them in the README's text:
//! - `localhost:8080` becomes a free port of this test (a developer may have twofold running);
//! - `cargo` on PATH is a stand-in that runs the binary this test build made (`cargo run
//!   --release -- ARGS` → `twofold ARGS`) rather than building a release;
//! - a `.curlrc` makes curl fail on an error status, so a call that answers 4xx or 5xx stops the
//!   run: every call of the walk-through must succeed.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const README: &str = include_str!("../../README.md");
/// The walk-through sleeps 30 s once (the wait before a new SMS code).
const RUN_DEADLINE: Duration = Duration::from_secs(240);

/// The shell blocks of the README section named `heading`, joined in order.
pub fn shell_blocks(readme: &str, heading: &str) -> String {
    let mut in_section = false;
    let mut in_block = false;
    let mut script = String::new();
    for line in readme.lines() {
        if line.starts_with("## ") {
            in_section = line.trim_end() == heading;
            continue;
        }
        if !in_section {
            continue;
        }
        if in_block {
            if line.trim_start().starts_with("```") {
                in_block = false;
            } else {
                script.push_str(line);
                script.push('\n');
            }
        } else if line.trim_start() == "```sh" {
            in_block = true;
        }
    }
    script
}

const CARGO_STAND_IN: &str = r#"#!/bin/sh
# `cargo run [--release] [-q] [--] ARGS...` runs the twofold binary the test build made.
[ "$1" = run ] || { echo "cargo stand-in: only 'cargo run' is supported, not: $*" >&2; exit 2; }
shift
while [ $# -gt 0 ] && [ "$1" != -- ]; do
  case "$1" in
    --release|-q|--quiet) shift ;;
    *) echo "cargo stand-in: unexpected argument $1" >&2; exit 2 ;;
  esac
done
[ "$1" = -- ] && shift
exec "$WALKTHROUGH_BIN" "$@"
"#;

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn require_tools() {
    for tool in ["bash", "curl", "jq", "oathtool"] {
        let found = Command::new("sh")
            .args(["-c", &format!("command -v {tool}")])
            .stdout(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        assert!(
            found,
            "the README walk-through needs {tool}: apt install curl jq oathtool (.ci/run does)"
        );
    }
}

/// A command with no TWOFOLD_* of the caller's, run in `dir` (the walk-through's directory).
fn clean(program: impl AsRef<std::ffi::OsStr>, dir: &Path) -> Command {
    let mut cmd = Command::new(program);
    cmd.current_dir(dir);
    for (k, _) in std::env::vars() {
        if k.starts_with("TWOFOLD_") {
            cmd.env_remove(k);
        }
    }
    cmd
}

fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

fn start_server(dir: &Path, port: u16) -> Server {
    let log = std::fs::File::create(dir.join("server.log")).unwrap();
    let child = clean(env!("CARGO_BIN_EXE_twofold"), dir)
        .env("TWOFOLD_LISTEN", format!("127.0.0.1:{port}"))
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .unwrap();
    let server = Server(child);
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return server;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!(
        "twofold did not start: {}",
        std::fs::read_to_string(dir.join("server.log")).unwrap_or_default()
    );
}

fn stand_ins(dir: &Path) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let bin = dir.join("stand-ins");
    std::fs::create_dir(&bin).unwrap();
    let cargo = bin.join("cargo");
    std::fs::write(&cargo, CARGO_STAND_IN).unwrap();
    std::fs::set_permissions(&cargo, std::fs::Permissions::from_mode(0o755)).unwrap();
    // Any error status fails the call (and, under pipefail, the run), with the body shown.
    std::fs::write(dir.join(".curlrc"), "fail-with-body\nshow-error\n").unwrap();
    bin
}

#[test]
fn the_walkthrough_runs_as_written() {
    require_tools();
    let script = shell_blocks(README, "## Walk-through");
    assert!(
        script.contains("curl") && script.contains("api-key create"),
        "no walk-through found in README.md"
    );
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let _server = start_server(dir.path(), port);
    let bin = stand_ins(dir.path());
    let script = script.replace("localhost:8080", &format!("127.0.0.1:{port}"));
    std::fs::write(dir.path().join("walkthrough.sh"), &script).unwrap();

    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut child = clean("bash", dir.path())
        .args(["-euxo", "pipefail", "walkthrough.sh"])
        .env("PATH", path)
        .env("HOME", dir.path())
        .env("CURL_HOME", dir.path())
        .env("WALKTHROUGH_BIN", env!("CARGO_BIN_EXE_twofold"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (mut out, mut err) = (child.stdout.take().unwrap(), child.stderr.take().unwrap());
    let out_reader = std::thread::spawn(move || {
        let mut s = String::new();
        out.read_to_string(&mut s).map(|_| s)
    });
    let err_reader = std::thread::spawn(move || {
        let mut s = String::new();
        err.read_to_string(&mut s).map(|_| s)
    });
    let deadline = Instant::now() + RUN_DEADLINE;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break Some(status);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    let stdout = out_reader.join().unwrap().unwrap();
    let stderr = err_reader.join().unwrap().unwrap();
    let server_log = std::fs::read_to_string(dir.path().join("server.log")).unwrap_or_default();
    let report = format!(
        "--- stdout\n{stdout}\n--- stderr (bash -x trace)\n{stderr}\n--- server log\n{server_log}"
    );
    let status = status.unwrap_or_else(|| panic!("the walk-through hung\n{report}"));
    assert!(status.success(), "the walk-through failed\n{report}");

    // What the journeys promise, beyond every call succeeding.
    for expected in [
        r#""status":"active""#,
        r#""method":"totp""#,
        r#""method":"sms""#,
        r#""method":"recovery""#,
        "otpauth://totp/twofold:alice%40example.com?",
    ] {
        assert!(stdout.contains(expected), "no {expected} in\n{report}");
    }
    assert_eq!(
        stdout.lines().filter(|l| l.trim() == "204").count(),
        3,
        "revoke, unlock and revoke-all each answer 204\n{report}"
    );
    let list = clean(env!("CARGO_BIN_EXE_twofold"), dir.path())
        .args(["api-key", "list"])
        .output()
        .unwrap();
    let keys = String::from_utf8_lossy(&list.stdout);
    assert!(
        keys.lines()
            .any(|l| l.contains("shop") && l.contains("revoked")),
        "the walk-through revokes the shop key: {keys}"
    );
}

#[test]
fn shell_blocks_are_taken_from_the_named_section_only() {
    let md = "## A\n```sh\nnot this\n```\n## Walk-through\ntext\n```sh\none\n```\n\
              ```json\n{}\n```\n```sh\ntwo\n```\n## B\n```sh\nnor this\n```\n";
    assert_eq!(shell_blocks(md, "## Walk-through"), "one\ntwo\n");
}
