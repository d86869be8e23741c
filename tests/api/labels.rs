//! Text that pages and the console show must show as what it is: device labels (enrolled or
//! imported) and API key names refuse Unicode format characters (bidi overrides and isolates,
//! zero-width characters) as they refuse control characters.

use reqwest::header::CONTENT_TYPE;
use serde_json::{Value, json};
use twofold::app::api_keys::{self, NewApiKey, Role};
use twofold::audit::Actor;

use crate::helpers::{Backend, assert_error, make_key, spawn_app, spawn_app_with};

const DISGUISED: [&str; 4] = [
    "phone\u{202E}gnp.exe",
    "a\u{200B}b",
    "\u{2066}work\u{2069}",
    "x\u{FEFF}",
];

async fn labels_and_key_names_refuse_format_characters(backend: Backend) {
    let app = spawn_app(backend).await;
    let key = Some(app.client_key.as_str());
    for label in DISGUISED {
        let res = app
            .post(
                "/v1/users/alice/devices/totp",
                key,
                &json!({ "label": label }),
            )
            .await;
        assert_error(res, 400, "invalid_request").await;

        let line = json!({"tenant": "default", "user": "bob", "label": label,
                          "secret": "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ",
                          "algorithm": "SHA1", "digits": 6, "period": 30});
        let res = app
            .http
            .post(app.url("/v1/admin/import"))
            .bearer_auth(&app.admin_key)
            .header(CONTENT_TYPE, "application/x-ndjson")
            .body(line.to_string())
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 400, "import {label:?}");
        let body: serde_json::Value = res.json().await.unwrap();
        assert_eq!(body["lines"][0]["line"], 1, "{body}");

        let state = &app.state;
        let new = NewApiKey {
            name: format!("ops {label}"),
            role: Role::Client,
            tenant: Some("default".into()),
            return_url_prefixes: vec![],
            webauthn_origins: vec![],
            webauthn_rp_id: None,
            display_name: None,
        };
        let made = api_keys::create(
            &state.db,
            state.audit.stream(),
            &state.keys,
            state.clock.now(),
            new,
            Actor::Cli,
        )
        .await;
        assert!(made.is_err(), "key name {label:?}");
    }
    // Letters of any script, punctuation and emoji are fine.
    let res = app
        .post(
            "/v1/users/alice/devices/totp",
            key,
            &json!({ "label": "Téléphone d'Alice — ✓ 😀" }),
        )
        .await;
    assert_eq!(res.status(), 201);
}

/// Decodes a QR code PNG (rqrr, as the enrollment tests do).
fn decode_qr(png: &[u8]) -> String {
    let image = image::load_from_memory(png).unwrap().to_luma8();
    let mut prepared = rqrr::PreparedImage::prepare(image);
    let grids = prepared.detect_grids();
    assert_eq!(grids.len(), 1);
    grids[0].decode().unwrap().1
}

/// Issue 16: the authenticator app shows the tenant's issuer and the user's account, not the
/// device label: `twofold:alice%40example.com` with `account_name`, `twofold:alice` without; the
/// QR shown again later carries the same URI; the label stays in the device list.
async fn the_app_shows_the_account_and_the_tenants_issuer(backend: Backend) {
    let app = spawn_app_with(backend, |raw| {
        raw.totp_issuers = Some(twofold::config::RawIssuers::List(
            "shop=Shop Inc,blog=My Blog".into(),
        ));
    })
    .await;
    let key = app.client_key.clone();
    let enroll = |key: String, body: Value| {
        let app = &app;
        async move {
            let res = app
                .post("/v1/users/alice/devices/totp", Some(&key), &body)
                .await;
            assert_eq!(res.status(), 201);
            res.json::<Value>().await.unwrap()
        }
    };
    let with = enroll(
        key.clone(),
        json!({"label": "tablet", "account_name": "alice@example.com"}),
    )
    .await;
    let uri = with["otpauth_uri"].as_str().unwrap();
    assert!(
        uri.starts_with("otpauth://totp/twofold:alice%40example.com?secret="),
        "{uri}"
    );
    assert!(uri.contains("&issuer=twofold&"), "{uri}");
    let without = enroll(key.clone(), json!({"label": "phone"})).await;
    let plain = without["otpauth_uri"].as_str().unwrap();
    assert!(
        plain.starts_with("otpauth://totp/twofold:alice?secret="),
        "{plain}"
    );

    // The QR shown again later is the same URI, account included.
    let id = with["device"]["id"].as_str().unwrap();
    let res = app
        .get(&format!("/v1/users/alice/devices/{id}/qr.png"), Some(&key))
        .await;
    assert_eq!(res.status(), 200);
    assert_eq!(decode_qr(&res.bytes().await.unwrap()), uri);

    // The label is twofold's name for the device.
    let res = app.get("/v1/users/alice/devices", Some(&key)).await;
    let list: Value = res.json().await.unwrap();
    let mut labels: Vec<&str> = list["devices"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["label"].as_str().unwrap())
        .collect();
    labels.sort_unstable();
    assert_eq!(labels, ["phone", "tablet"]);

    // Per tenant: its own issuer, in the label and the parameter.
    let shop = make_key(&app.state, Role::Client, Some("shop")).await;
    let e = enroll(shop.clone(), json!({"account_name": "alice@example.com"})).await;
    let uri = e["otpauth_uri"].as_str().unwrap();
    assert!(
        uri.starts_with("otpauth://totp/Shop%20Inc:alice%40example.com?secret="),
        "{uri}"
    );
    assert!(uri.contains("&issuer=Shop%20Inc&"), "{uri}");
    let id = e["device"]["id"].as_str().unwrap();
    let res = app
        .get(&format!("/v1/users/alice/devices/{id}/qr.png"), Some(&shop))
        .await;
    assert_eq!(decode_qr(&res.bytes().await.unwrap()), uri);

    // The tenant's issuer heads its SMS texts too.
    let phone = json!({"phone": crate::sms::PHONE});
    let res = app
        .post("/v1/users/carol/devices/sms", Some(&shop), &phone)
        .await;
    assert_eq!(res.status(), 201);
    let sent = crate::sms::outbox(&app);
    let text = &sent.last().unwrap().body;
    assert!(text.starts_with("Shop Inc code: "), "{text}");

    // An account name shows as it is: 1 to 128 characters, no control or format character, no
    // `:` (apps split `issuer:account` on it).
    let long = "a".repeat(129);
    for bad in ["", long.as_str(), "a\nb", DISGUISED[0], "alice:admin"] {
        let body = json!({"label": "x", "account_name": bad});
        let res = app
            .post("/v1/users/alice/devices/totp", Some(&key), &body)
            .await;
        assert_error(res, 400, "invalid_request").await;
    }
    let body = json!({"label": "x", "account_name": "a".repeat(128)});
    let res = app
        .post("/v1/users/alice/devices/totp", Some(&key), &body)
        .await;
    assert_eq!(res.status(), 201);
}

crate::both_backends!(
    labels_and_key_names_refuse_format_characters,
    the_app_shows_the_account_and_the_tenants_issuer,
);
