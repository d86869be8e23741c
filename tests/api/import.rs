//! Importing TOTP seeds (`POST /v1/admin/import`, `twofold import`): active at once and sealed,
//! every line checked, one bad line and nothing imported, each bad line named.

use reqwest::header::CONTENT_TYPE;
use serde_json::{Value, json};
use twofold::app::api_keys::Role;
use twofold::clock::Clock;
use twofold::factor::totp::{self, Algorithm, Params};

use crate::admin::audit_of;
use crate::audit_cli::twofold;
use crate::helpers::{Backend, TestApp, assert_error, base32_decode, make_key, spawn_app};

const SEED: &str = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";

fn line(user: &str, label: &str, secret: &str) -> String {
    json!({"tenant": "default", "user": user, "label": label, "secret": secret,
           "algorithm": "SHA1", "digits": 6, "period": 30})
    .to_string()
}

async fn import(app: &TestApp, key: &str, content_type: &str, body: String) -> reqwest::Response {
    app.http
        .post(app.url("/v1/admin/import"))
        .bearer_auth(key)
        .header(CONTENT_TYPE, content_type)
        .body(body)
        .send()
        .await
        .unwrap()
}

/// A refused import: 400 `invalid_request` with the bad lines named, and nothing else.
async fn refused(res: reqwest::Response) -> Value {
    assert_eq!(res.status(), 400);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"], "invalid_request");
    let mut keys: Vec<&String> = body.as_object().unwrap().keys().collect();
    keys.sort();
    assert_eq!(keys, ["error", "lines", "message"], "{body}");
    body
}

/// The code of an imported seed at the app's clock.
fn code(app: &TestApp, secret: &str, params: Params, offset: i64) -> String {
    let step = totp::step_at(app.clock.now().timestamp(), params.period) as i64 + offset;
    totp::code_at_step(&base32_decode(secret), params, step as u64)
}

async fn devices(app: &TestApp, user: &str) -> Vec<Value> {
    let res = app
        .get(&format!("/v1/users/{user}/devices"), Some(&app.client_key))
        .await;
    assert_eq!(res.status(), 200);
    res.json::<Value>().await.unwrap()["devices"]
        .as_array()
        .unwrap()
        .clone()
}

async fn json_lines_are_active_at_once_and_verify(backend: Backend) {
    let app = spawn_app(backend).await;
    let sha256 = "MFRGGZDFMZTWQ2LKNNWG23TPOBYXE43UOV3HO6DZPIYTEMZUGU3DOOBZ";
    let body = [
        line("alice", "phone", SEED),
        // Lower case, grouped, padded: as other servers export.
        line(
            "bob",
            "tablet",
            "gezd gnbv gy3t qojq gezd gnbv gy3t qojq====",
        ),
        json!({"tenant": "default", "user": "alice", "label": "yubikey", "secret": sha256,
               "algorithm": "SHA256", "digits": 8, "period": 60})
        .to_string(),
        String::new(),
    ]
    .join("\n");
    let res = import(&app, &app.admin_key, "application/x-ndjson", body).await;
    assert_eq!(res.status(), 201);
    assert_eq!(res.json::<Value>().await.unwrap(), json!({"imported": 3}));

    let listed = devices(&app, "alice").await;
    assert_eq!(listed.len(), 2);
    assert!(listed.iter().all(|d| d["status"] == "active"));
    let text = serde_json::to_string(&listed).unwrap();
    assert!(
        !text.contains(SEED) && !text.contains(sha256),
        "no secret shown"
    );

    let sha1 = Params::default();
    let c = code(&app, SEED, sha1, 0);
    assert_eq!(app.verify("alice", json!(c)).await.status(), 200);
    assert_eq!(app.verify("alice", json!(c)).await.status(), 422, "replay");
    let long = Params::new(Algorithm::Sha256, 8, 60).unwrap();
    let c = code(&app, sha256, long, 0);
    assert_eq!(app.verify("alice", json!(c)).await.status(), 200);
    let c = code(&app, SEED, sha1, 0);
    assert_eq!(app.verify("bob", json!(c)).await.status(), 200);

    // Sealed at rest like any device: the seed is not in the row.
    let rows = app
        .state
        .db
        .run(|c| {
            use diesel::prelude::*;
            use twofold::db::schema::devices::dsl as d;
            Ok(d::devices
                .select(d::secret_sealed)
                .load::<Option<Vec<u8>>>(c)?)
        })
        .await
        .unwrap();
    for sealed in rows.into_iter().flatten() {
        assert!(!sealed.windows(20).any(|w| w == b"12345678901234567890"));
    }
    let events = audit_of(&app, "devices_imported").await;
    assert_eq!(events.len(), 1);
    assert!(events[0].detail.as_deref().unwrap().contains("\"count\":3"));
}

async fn csv_with_a_header_and_quoted_fields(backend: Backend) {
    let app = spawn_app(backend).await;
    let body = format!(
        "tenant,user,label,secret,algorithm,digits,period\n\
         default,carol,\"Work phone, old\",{SEED},SHA1,6,30\n"
    );
    let res = import(&app, &app.admin_key, "text/csv; charset=utf-8", body).await;
    assert_eq!(res.status(), 201);
    let listed = devices(&app, "carol").await;
    assert_eq!(listed[0]["label"], "Work phone, old");
    let c = code(&app, SEED, Params::default(), 0);
    assert_eq!(app.verify("carol", json!(c)).await.status(), 200);
}

async fn one_bad_line_and_nothing_is_imported(backend: Backend) {
    let app = spawn_app(backend).await;
    app.active_device("dave").await;
    // The label an unnamed app device gets.
    let added = twofold::clock::Clock::now(&*app.clock).format("%-d %b");
    let daves = format!("Authenticator app, added {added}");
    let body = [
        line("erin", "phone", SEED),                          // 1: good
        line("erin", "phone", SEED),                          // 2: same label as line 1
        line("frank", "phone", "GEZDGNBVGY3TQOJQ"),           // 3: 80 bits
        line("dave", &daves, SEED),                           // 4: dave's enrolled label
        line("grace", "phone", "not base32!"),                // 5
        r#"{"tenant":"default","user":"heidi"}"#.to_string(), // 6: fields missing
        line("ivan", "phone", SEED).replace("SHA1", "MD5"),   // 7
        line("a/b", "phone", SEED),                           // 8: not a user id
        line("judy", "phone", SEED),                          // 9: good
        // 10: the seed in a number field: named, never quoted back.
        format!(r#"{{"tenant":"default","user":"olga","label":"x","secret":"{SEED}","algorithm":"SHA1","digits":"{SEED}","period":30}}"#),
    ]
    .join("\n");
    let res = import(&app, &app.admin_key, "application/x-ndjson", body).await;
    let err = refused(res).await;
    let lines: Vec<u64> = err["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["line"].as_u64().unwrap())
        .collect();
    assert_eq!(lines, [2, 3, 4, 5, 6, 7, 8, 10]);
    let text = err.to_string();
    for expected in [
        "line 1",
        "16 to 64",
        "already has a device",
        "base32",
        "missing field",
        "SHA1",
    ] {
        assert!(text.contains(expected), "{expected} in {text}");
    }
    assert!(!text.contains(SEED), "the seed is not echoed");
    for user in ["erin", "judy"] {
        assert!(devices(&app, user).await.is_empty(), "{user} imported");
    }
    assert!(audit_of(&app, "devices_imported").await.is_empty());
}

/// More lines than one chunk: a clash at the end still undoes the chunks already inserted.
async fn a_large_import_is_all_or_nothing(backend: Backend) {
    let app = spawn_app(backend).await;
    let seeds: Vec<String> = (0..6_000)
        .map(|i| line(&format!("user{i:05}"), "phone", SEED))
        .collect();
    let mut body = seeds.clone();
    body.push(line("user00007", "phone", SEED));
    let res = import(
        &app,
        &app.admin_key,
        "application/x-ndjson",
        body.join("\n"),
    )
    .await;
    let err = refused(res).await;
    assert_eq!(err["lines"][0]["line"], 6_001);
    assert!(devices(&app, "user00007").await.is_empty());

    let res = import(
        &app,
        &app.admin_key,
        "application/x-ndjson",
        seeds.join("\n"),
    )
    .await;
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["imported"], 6_000, "{body}");
    let c = code(&app, SEED, Params::default(), 0);
    assert_eq!(app.verify("user05999", json!(c)).await.status(), 200);
}

async fn keys_content_types_and_tenants(backend: Backend) {
    let app = spawn_app(backend).await;
    let body = line("kim", "phone", SEED);
    let res = import(&app, &app.client_key, "application/x-ndjson", body.clone()).await;
    assert_error(res, 403, "forbidden").await;
    let res = import(&app, "tfk_nope", "application/x-ndjson", body.clone()).await;
    assert_error(res, 401, "invalid_api_key").await;
    let res = import(&app, &app.admin_key, "application/json", body.clone()).await;
    assert_error(res, 400, "invalid_request").await;
    let res = import(&app, &app.admin_key, "application/x-ndjson", "\n\n".into()).await;
    assert_error(res, 400, "invalid_request").await;
    // An admin of tenant acme imports into acme only.
    let acme = make_key(&app.state, Role::Admin, Some("acme")).await;
    let res = import(&app, &acme, "application/x-ndjson", body).await;
    let err = refused(res).await;
    assert!(
        err["lines"][0]["message"]
            .as_str()
            .unwrap()
            .contains("outside")
    );
    let res = import(
        &app,
        &acme,
        "application/x-ndjson",
        line("kim", "phone", SEED).replace("\"default\"", "\"acme\""),
    )
    .await;
    assert_eq!(res.status(), 201);
    assert!(
        devices(&app, "kim").await.is_empty(),
        "not in tenant default"
    );
}

/// The real binary, against the app's database: a file of JSON lines, then a bad CSV.
async fn the_cli_imports_a_file_or_names_its_bad_lines(backend: Backend) {
    let app = spawn_app(backend).await;
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("seeds.jsonl");
    std::fs::write(
        &good,
        [line("lena", "a", SEED), line("mona", "b", SEED)].join("\n"),
    )
    .unwrap();
    let out = twofold(&app, &["import", good.to_str().unwrap()]).await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.starts_with("imported 2 devices"), "{stdout}");
    let c = code(&app, SEED, Params::default(), 0);
    assert_eq!(app.verify("mona", json!(c)).await.status(), 200);

    let bad = dir.path().join("seeds.csv");
    std::fs::write(
        &bad,
        format!("tenant,user,label,secret,algorithm,digits,period\ndefault,nina,x,{SEED},SHA1,6,30\ndefault,otto,x,{SEED},SHA1,7,30\n"),
    )
    .unwrap();
    let out = twofold(&app, &["import", bad.to_str().unwrap()]).await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("line 3: digits must be 6 or 8"), "{stderr}");
    assert!(devices(&app, "nina").await.is_empty());
}

crate::both_backends!(
    json_lines_are_active_at_once_and_verify,
    csv_with_a_header_and_quoted_fields,
    one_bad_line_and_nothing_is_imported,
    a_large_import_is_all_or_nothing,
    keys_content_types_and_tenants,
    the_cli_imports_a_file_or_names_its_bad_lines,
);
