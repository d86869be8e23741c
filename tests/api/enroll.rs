//! TOTP enrollment: the answer, its options, interop with oathtool, QR codes, confirmation and
//! expiry, step-up, revocation and secrets at rest (SEC-1..7, SEC-20..22).

use std::io::Write;
use std::process::Command;

use chrono::{DateTime, TimeDelta, Utc};
use diesel::prelude::*;
use serde_json::{Value, json};
use twofold::app::api_keys::Role;
use twofold::clock::Clock;
use twofold::db::schema::devices;

use crate::helpers::{Backend, Enrollment, TestApp, assert_error, make_key, spawn_app};

fn uri(label: &str, secret: &str, params: &str) -> String {
    format!("otpauth://totp/twofold:{label}?secret={secret}&issuer=twofold&{params}")
}

/// `ALG/digits/period` of a device in an answer.
fn params(d: &Value) -> String {
    let alg = d["algorithm"].as_str().unwrap_or("?");
    format!("{alg}/{}/{}", d["digits"], d["period"])
}

pub(crate) async fn enroll_with(
    app: &TestApp,
    user: &str,
    key: &str,
    body: Value,
) -> reqwest::Response {
    let path = format!("/v1/users/{user}/devices/totp");
    app.post(&path, Some(key), &body).await
}

/// The ids of the devices the list shows, sorted.
async fn listed(app: &TestApp, user: &str, key: &str) -> Vec<String> {
    let path = format!("/v1/users/{user}/devices");
    let res = app.get(&path, Some(key)).await;
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    let devices = body["devices"].as_array().unwrap().iter();
    let mut ids: Vec<String> = devices.map(|d| d["id"].as_str().unwrap().into()).collect();
    ids.sort();
    ids
}

pub(crate) async fn assertion_of(app: &TestApp, user: &str, device: &Enrollment) -> String {
    let res = verify_now(app, user, device).await;
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    body["assertion"].as_str().unwrap().to_string()
}

pub(crate) async fn invalid_code(res: reqwest::Response) {
    assert_error(res, 422, "invalid_code").await;
}

pub(crate) async fn step_up_required(res: reqwest::Response) {
    assert_error(res, 403, "step_up_required").await;
}

async fn not_found(res: reqwest::Response) {
    assert_error(res, 404, "not_found").await;
}

/// Every object key anywhere in `v`.
fn field_names(v: &Value) -> Vec<String> {
    match v {
        Value::Object(o) => o
            .iter()
            .flat_map(|(k, v)| [vec![k.clone()], field_names(v)].concat())
            .collect(),
        Value::Array(a) => a.iter().flat_map(field_names).collect(),
        _ => vec![],
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// The trimmed output of a tool that must succeed.
fn run(cmd: &mut Command) -> String {
    let out = cmd.output().expect("the tool is installed");
    assert!(out.status.success(), "{cmd:?}: {out:?}");
    String::from_utf8(out.stdout)
        .unwrap()
        .trim_end()
        .to_string()
}

/// A verify with `device`'s code of the current step.
pub(crate) async fn verify_now(
    app: &TestApp,
    user: &str,
    device: &Enrollment,
) -> reqwest::Response {
    app.verify(user, json!(app.code(device, 0))).await
}

async fn enroll_answer_is_a_pending_device_with_a_fresh_160_bit_secret(backend: Backend) {
    let app = spawn_app(backend).await;
    let e = app.enroll("alice", json!({})).await;
    let d = &e.json["device"];
    assert_eq!(d["status"], "pending");
    assert_eq!(d["kind"], "totp");
    let added = twofold::clock::Clock::now(&*app.clock).format("%-d %b");
    assert_eq!(
        d["label"],
        format!("Authenticator app, added {added}"),
        "the label defaults to what a person recognises"
    );
    assert_eq!(params(d), "SHA1/6/30");
    // SEC-3: 160 bits, RFC 4648 base32 without padding.
    let secret = e.json["secret"].as_str().unwrap();
    assert_eq!(secret.len(), 32, "{secret}");
    let base32 = |b: u8| b.is_ascii_uppercase() || (b'2'..=b'7').contains(&b);
    assert!(secret.bytes().all(base32), "{secret}");
    assert_eq!(e.secret.len(), 20);
    // SEC-2
    let expected = uri("alice", secret, "algorithm=SHA1&digits=6&period=30");
    assert_eq!(e.json["otpauth_uri"], expected.as_str());
    assert!(e.json["qr_svg"].as_str().unwrap().starts_with("<svg"));
    let expires: DateTime<Utc> = e.json["expires_at"].as_str().unwrap().parse().unwrap();
    assert_eq!(expires, app.clock.now() + TimeDelta::minutes(10));

    let other = app.enroll("alice", json!({"label": "second"})).await;
    assert_ne!(other.secret, e.secret, "SEC-3: unique per device");
    let mut both = vec![e.id, other.id];
    both.sort();
    assert_eq!(listed(&app, "alice", &app.client_key).await, both);
}

/// SEC-2, issue 16: the URI names the account (the user id unless the relying party names
/// another), percent-encoded; the label is twofold's own name for the device, not the app's.
async fn the_uri_names_the_account_not_the_label(backend: Backend) {
    let app = spawn_app(backend).await;
    let user = "bob@example.com";
    let params = "algorithm=SHA1&digits=6&period=30";
    for (body, account) in [
        (json!({"label": "Work phone: A"}), "bob%40example.com"),
        (json!({}), "bob%40example.com"),
        (
            json!({"label": "tablet", "account_name": "Bob B. <b@example.com>"}),
            "Bob%20B.%20%3Cb%40example.com%3E",
        ),
    ] {
        let e = app.enroll(user, body).await;
        let secret = e.json["secret"].as_str().unwrap();
        assert_eq!(e.json["otpauth_uri"], uri(account, secret, params).as_str());
    }
}

async fn code_options_are_echoed_and_validated(backend: Backend) {
    let app = spawn_app(backend).await;
    for (label, alg, digits, period) in [("a", "SHA256", 8, 60), ("b", "SHA512", 6, 30)] {
        let mut body = json!({"label": label, "algorithm": alg});
        if label == "a" {
            (body["digits"], body["period"]) = (json!(digits), json!(period));
        }
        let e = app.enroll("carol", body).await;
        let want = format!("{alg}/{digits}/{period}");
        assert_eq!(params(&e.json["device"]), want);
        let tail = format!("algorithm={alg}&digits={digits}&period={period}");
        let secret = e.json["secret"].as_str().unwrap();
        assert_eq!(e.json["otpauth_uri"], uri("carol", secret, &tail).as_str());
    }
    for bad in [
        json!({"label": "c", "digits": 7}),
        json!({"label": "c", "period": 45}),
        json!({"label": "c", "algorithm": "MD5"}),
        json!({"label": "c", "algorithm": "sha256"}),
        json!({"label": "c", "colour": "blue"}),
    ] {
        let res = enroll_with(&app, "carol", &app.client_key, bad.clone()).await;
        assert_eq!(res.status(), 400, "{bad}");
        assert_error(res, 400, "invalid_request").await;
    }
    assert_eq!(listed(&app, "carol", &app.client_key).await.len(), 2);
}

/// SEC-1: codes of an independent implementation confirm every supported parameter set.
async fn oathtool_codes_confirm_every_parameter_set(backend: Backend) {
    let app = spawn_app(backend).await;
    // Mid-step, not on a round boundary.
    app.clock.advance(TimeDelta::seconds(1_234_567));
    let sets = [
        ("SHA1", 6, 30),
        ("SHA256", 8, 30),
        ("SHA512", 6, 60),
        ("SHA1", 8, 60),
    ];
    for (i, (alg, digits, period)) in sets.into_iter().enumerate() {
        let user = format!("interop-{i}");
        let body = json!({"algorithm": alg, "digits": digits, "period": period});
        let e = app.enroll(&user, body).await;
        let now = app.clock.now().format("%Y-%m-%d %H:%M:%S UTC");
        let code = run(Command::new("oathtool").args([
            format!("--totp={alg}"),
            format!("--digits={digits}"),
            format!("--time-step-size={period}s"),
            format!("--now={now}"),
            "--base32".into(),
            e.json["secret"].as_str().unwrap().into(),
        ]));
        assert_eq!(code.len(), digits, "{code}");
        let res = app.confirm(&user, &e, &code).await;
        assert_eq!(res.status(), 200, "{alg}/{digits}/{period}");
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["device"]["status"], "active");
        assert_eq!(params(&body["device"]), format!("{alg}/{digits}/{period}"));
    }
}

/// SEC-2, SEC-4, SEC-22: the QR is the URI, for the user's tenant only, and it is gone, like the
/// secret, once the device is active.
async fn qr_codes_show_the_uri_only_while_pending(backend: Backend) {
    let app = spawn_app(backend).await;
    let key = &app.client_key;
    let other = make_key(&app.state, Role::Client, Some("other")).await;
    let e = app.enroll("dana", json!({})).await;
    let uri = e.json["otpauth_uri"].as_str().unwrap();
    let qr = |ext: &str| format!("/v1/users/dana/devices/{}/qr.{ext}", e.id);

    let res = app.get(&qr("png"), Some(key)).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "image/png");
    assert_eq!(
        res.headers()["cache-control"],
        "no-store",
        "it carries the secret"
    );
    let png = res.bytes().await.unwrap();
    let mut file = tempfile::Builder::new().suffix(".png").tempfile().unwrap();
    file.write_all(&png).unwrap();
    let zbar = run(Command::new("zbarimg")
        .arg("-q")
        .arg("--raw")
        .arg(file.path()));
    assert_eq!(zbar, uri);
    let image = image::load_from_memory(&png).unwrap().to_luma8();
    let mut prepared = rqrr::PreparedImage::prepare(image);
    let grids = prepared.detect_grids();
    assert_eq!(grids.len(), 1);
    assert_eq!(grids[0].decode().unwrap().1, uri);

    let res = app.get(&qr("svg"), Some(key)).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "image/svg+xml");
    assert_eq!(res.headers()["cache-control"], "no-store");
    let svg = res.text().await.unwrap();
    assert_eq!(svg, e.json["qr_svg"], "the answer's drawing");

    not_found(app.get(&qr("png"), Some(&other)).await).await;
    let path = format!("/v1/users/dana/devices/{}/confirm", e.id);
    let code = app.code(&e, 0);
    let body = json!({ "code": code });
    invalid_code(app.post(&path, Some(&other), &body).await).await;

    assert_eq!(app.confirm("dana", &e, &code).await.status(), 200);
    for ext in ["png", "svg"] {
        not_found(app.get(&qr(ext), Some(key)).await).await;
    }
    let res = app.get("/v1/users/dana/devices", Some(key)).await;
    let text = res.text().await.unwrap();
    let body: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(body["devices"][0]["status"], "active");
    for leak in [e.json["secret"].as_str().unwrap(), "otpauth", "<svg"] {
        assert!(!text.contains(leak), "{leak} in {text}");
    }
    let bad = |n: &String| ["secret", "otpauth", "qr"].iter().any(|b| n.contains(b));
    assert!(!field_names(&body).iter().any(bad), "{body}");
}

/// SEC-5: a pending device is no factor, and after 10 minutes it is gone with its label.
async fn pending_devices_cannot_verify_and_expire_after_ten_minutes(backend: Backend) {
    let app = spawn_app(backend).await;
    let key = Some(app.client_key.as_str());
    let e = app.enroll("erin", json!({"label": "phone"})).await;
    invalid_code(verify_now(&app, "erin", &e).await).await;
    let qr = format!("/v1/users/erin/devices/{}/qr.png", e.id);
    app.clock.advance(TimeDelta::seconds(599));
    assert_eq!(app.get(&qr, key).await.status(), 200, "still pending");
    app.clock.advance(TimeDelta::seconds(2));
    invalid_code(app.confirm("erin", &e, &app.code(&e, 0)).await).await;
    not_found(app.get(&qr, key).await).await;
    assert!(listed(&app, "erin", &app.client_key).await.is_empty());
    let again = app.enroll("erin", json!({"label": "phone"})).await;
    assert_ne!(again.id, e.id);
}

/// SEC-6: the confirming code is spent, and so are the steps before it.
async fn the_confirming_code_cannot_then_verify(backend: Backend) {
    let app = spawn_app(backend).await;
    let e = app.enroll("finn", json!({})).await;
    let code = app.code(&e, 0);
    assert_eq!(app.confirm("finn", &e, &code).await.status(), 200);
    invalid_code(app.verify("finn", json!(code)).await).await;
    invalid_code(app.verify("finn", json!(app.code(&e, -1))).await).await;
    // Control: the device does verify a fresh code.
    app.clock.advance(TimeDelta::seconds(30));
    assert_eq!(verify_now(&app, "finn", &e).await.status(), 200);
}

async fn labels_are_unique_per_user(backend: Backend) {
    let app = spawn_app(backend).await;
    app.enroll("gail", json!({"label": "phone"})).await;
    let res = enroll_with(&app, "gail", &app.client_key, json!({"label": "phone"})).await;
    assert_error(res, 409, "conflict").await;
    let res = enroll_with(&app, "hank", &app.client_key, json!({"label": "phone"})).await;
    assert_eq!(res.status(), 201, "another user may use the label");
    assert_eq!(
        res.headers()["cache-control"],
        "no-store",
        "the answer holds a secret"
    );
    assert_eq!(listed(&app, "gail", &app.client_key).await.len(), 1);
}

/// SEC-21, SEC-22: revoke works at once, and only inside the key's tenant.
async fn revoked_devices_stop_at_once_and_other_tenants_cannot_touch_them(backend: Backend) {
    let app = spawn_app(backend).await;
    let key = &app.client_key;
    let other = make_key(&app.state, Role::Client, Some("other")).await;
    let e = app.active_device("kim").await;
    let path = format!("/v1/users/kim/devices/{}", e.id);
    assert!(listed(&app, "kim", &other).await.is_empty());
    not_found(app.delete(&path, Some(&other)).await).await;
    // Control: still active in its own tenant.
    assert_eq!(verify_now(&app, "kim", &e).await.status(), 200);

    app.clock.advance(TimeDelta::seconds(30));
    // Beside an active device, removing one takes the user's step-up (the device's own code);
    // the next step's code is the one the revoke must stop.
    let step_up = json!({"step_up": assertion_of(&app, "kim", &e).await});
    app.clock.advance(TimeDelta::seconds(30));
    assert_eq!(app.delete_with(&path, key, &step_up).await.status(), 204);
    invalid_code(verify_now(&app, "kim", &e).await).await;
    assert!(listed(&app, "kim", key).await.is_empty());
    not_found(app.delete(&path, Some(key)).await).await;
}

/// SEC-20: a dump of the database holds the seed neither raw nor in base32.
async fn secrets_are_sealed_at_rest(backend: Backend) {
    let app = spawn_app(backend).await;
    let e = app.enroll("lena", json!({})).await;
    let b32 = e.json["secret"].as_str().unwrap().as_bytes().to_vec();
    // Halves: a seed split or partly re-encoded is still found.
    let needles = [&e.secret[..10], &e.secret[10..], &b32[..16], &b32[16..]];
    let id = e.id.clone();
    let (sealed, key_id): (Option<Vec<u8>>, Option<String>) = app
        .state
        .db
        .run(move |c| {
            let columns = (devices::secret_sealed, devices::key_id);
            Ok(devices::table.find(id).select(columns).first(c)?)
        })
        .await
        .unwrap();
    let sealed = sealed.expect("a sealed secret");
    assert!(key_id.is_some_and(|k| !k.is_empty()), "key id per row");
    assert!(sealed.len() >= 20 + 16, "ciphertext and GCM tag");
    assert!(!needles.iter().any(|n| contains(&sealed, n)));
    // Sealed with its device id as associated data: moved onto another row, it does not open.
    let other = app.enroll("lena", json!({"label": "other"})).await;
    let (to, moved) = (other.id.clone(), sealed.clone());
    let set = devices::secret_sealed.eq(Some(moved));
    let row = devices::table.find(to);
    let update = move |c: &mut _| Ok(diesel::update(row).set(set).execute(c)?);
    assert_eq!(app.state.db.run(update).await.unwrap(), 1);
    let qr = format!("/v1/users/lena/devices/{}/qr.svg", other.id);
    assert_error(app.get(&qr, Some(&app.client_key)).await, 500, "internal").await;

    if backend == Backend::Embedded {
        // The SQLite file, its WAL and anything else there: what a stolen disk holds.
        let (mut dirs, mut sealed_seen) = (vec![app.raw.data_dir.clone()], false);
        while let Some(dir) = dirs.pop() {
            for entry in std::fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    dirs.push(path);
                    continue;
                }
                let bytes = std::fs::read(&path).unwrap();
                sealed_seen |= contains(&bytes, &sealed);
                let leaked = needles.iter().any(|n| contains(&bytes, n));
                assert!(!leaked, "seed in {}", path.display());
            }
        }
        // Control: the files read do hold the device row.
        assert!(sealed_seen, "the sealed secret is in the files read");
    }
}

crate::both_backends!(
    enroll_answer_is_a_pending_device_with_a_fresh_160_bit_secret,
    the_uri_names_the_account_not_the_label,
    code_options_are_echoed_and_validated,
    oathtool_codes_confirm_every_parameter_set,
    qr_codes_show_the_uri_only_while_pending,
    pending_devices_cannot_verify_and_expire_after_ten_minutes,
    the_confirming_code_cannot_then_verify,
    labels_are_unique_per_user,
    revoked_devices_stop_at_once_and_other_tenants_cannot_touch_them,
    secrets_are_sealed_at_rest,
);
