//! Text that pages and the console show must show as what it is: device labels (enrolled or
//! imported) and API key names refuse Unicode format characters (bidi overrides and isolates,
//! zero-width characters) as they refuse control characters.

use reqwest::header::CONTENT_TYPE;
use serde_json::json;
use twofold::app::api_keys::{self, NewApiKey, Role};
use twofold::audit::Actor;

use crate::helpers::{Backend, assert_error, spawn_app};

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

crate::both_backends!(labels_and_key_names_refuse_format_characters);
