//! Security keys through the API, with a software authenticator: registration, confirmation,
//! challenge and verify; and every forgery the relying party's page or an attacker can make is
//! the same 422, counted like a wrong code.

use serde_json::{Value, json};
use twofold::app::api_keys::{self, NewApiKey, Role};
use twofold::audit::Actor;

use crate::assertions::decode_assertion;
use crate::helpers::{Backend, TestApp, assert_error, spawn_app_with};
use crate::soft_key::{SoftKey, tamper_signature};

/// The hosted pages' origin in these tests (nothing is served there: it names the RP).
pub const ORIGIN: &str = "https://mfa.example";

pub async fn app(backend: Backend) -> TestApp {
    spawn_app_with(backend, |raw| raw.public_url = Some(ORIGIN.into())).await
}

/// Starts a registration; panics unless 201.
pub async fn start(app: &TestApp, key: &str, user: &str, body: Value) -> Value {
    let res = app
        .post(
            &format!("/v1/users/{user}/devices/webauthn"),
            Some(key),
            &body,
        )
        .await;
    assert_eq!(res.status(), 201, "{}", res.text().await.unwrap());
    res.json().await.unwrap()
}

pub async fn confirm(
    app: &TestApp,
    key: &str,
    user: &str,
    id: &str,
    cred: &Value,
) -> reqwest::Response {
    app.post(
        &format!("/v1/users/{user}/devices/{id}/confirm"),
        Some(key),
        &json!({ "credential": cred }),
    )
    .await
}

/// Registers `soft` for `user` with the client key at `origin`; returns the device id.
pub async fn register(app: &TestApp, user: &str, soft: &mut SoftKey) -> String {
    let started = start(app, &app.client_key, user, json!({})).await;
    let cred = soft.register(&started["options"], ORIGIN).unwrap();
    let id = started["device"]["id"].as_str().unwrap().to_string();
    let res = confirm(app, &app.client_key, user, &id, &cred).await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    id
}

pub async fn challenge(app: &TestApp, key: &str, user: &str, body: Value) -> reqwest::Response {
    app.post(
        &format!("/v1/users/{user}/webauthn/challenge"),
        Some(key),
        &body,
    )
    .await
}

pub async fn options(app: &TestApp, user: &str) -> Value {
    let res = challenge(app, &app.client_key, user, json!({})).await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    res.json::<Value>().await.unwrap()["options"].clone()
}

pub async fn verify(app: &TestApp, user: &str, cred: &Value) -> reqwest::Response {
    app.post(
        &format!("/v1/users/{user}/verify"),
        Some(&app.client_key),
        &json!({ "credential": cred }),
    )
    .await
}

async fn a_key_registers_and_signs_in(backend: Backend) {
    let app = app(backend).await;
    app.clock.set(chrono::Utc::now());
    let mut soft = SoftKey::new();
    let started = start(
        &app,
        &app.client_key,
        "alice",
        json!({"display_name": "Alice"}),
    )
    .await;
    assert_eq!(started["device"]["kind"], "webauthn");
    assert_eq!(started["device"]["status"], "pending");
    assert_eq!(started["device"]["label"], "Security key");
    let pk = &started["options"]["publicKey"];
    assert_eq!(pk["rp"]["id"], "mfa.example");
    assert_eq!(pk["user"]["displayName"], "Alice");
    assert_eq!(pk["user"]["name"], "alice");
    // Chromium refuses credProtect "userVerificationRequired" beside UV "preferred".
    assert!(
        pk["extensions"].get("credentialProtectionPolicy").is_none(),
        "{pk}"
    );
    assert_eq!(
        pk["authenticatorSelection"]["userVerification"],
        "preferred"
    );

    // Not usable while pending.
    assert_error(
        challenge(&app, &app.client_key, "alice", json!({})).await,
        404,
        "not_found",
    )
    .await;

    let cred = soft.register(&started["options"], ORIGIN).unwrap();
    let id = started["device"]["id"].as_str().unwrap();
    let res = confirm(&app, &app.client_key, "alice", id, &cred).await;
    assert_eq!(res.status(), 200);
    let confirmed: Value = res.json().await.unwrap();
    assert_eq!(confirmed["device"]["status"], "active");
    let claims = decode_assertion(&app, confirmed["assertion"].as_str().unwrap(), "default")
        .await
        .unwrap();
    assert_eq!(claims["amr"], json!(["hwk", "user", "pin"]));

    let listed: Value = app
        .get("/v1/users/alice/devices", Some(&app.client_key))
        .await
        .json()
        .await
        .unwrap();
    let key = &listed["devices"][0]["security_key"];
    assert_eq!(key["rp_id"], "mfa.example");
    assert_eq!(key["user_verified"], true);
    assert_eq!(key["clone_detected_at"], Value::Null);
    assert_eq!(key["aaguid"].as_str().unwrap().len(), 36);

    let opts = options(&app, "alice").await;
    let allowed = &opts["publicKey"]["allowCredentials"];
    assert_eq!(allowed[0]["id"], soft.credential_id());
    let signed = soft.sign(&opts, ORIGIN).unwrap();
    let res = verify(&app, "alice", &signed).await;
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["method"], "webauthn");
    assert_eq!(body["device_id"], id);
    let claims = decode_assertion(&app, body["assertion"].as_str().unwrap(), "default")
        .await
        .unwrap();
    assert_eq!(claims["amr"], json!(["hwk", "user", "pin"]));
    assert_eq!(claims["sub"], "alice");

    // A key without user verification: only `hwk`.
    let mut plain = SoftKey::without_uv();
    let step = body["assertion"].as_str().unwrap();
    let started = start(&app, &app.client_key, "alice", json!({"step_up": step})).await;
    assert_eq!(started["device"]["label"], "Security key 2");
    let excluded = &started["options"]["publicKey"]["excludeCredentials"];
    assert_eq!(
        excluded[0]["id"],
        soft.credential_id(),
        "the user's keys are excluded"
    );
    let cred = plain.register(&started["options"], ORIGIN).unwrap();
    let id2 = started["device"]["id"].as_str().unwrap();
    assert_eq!(
        confirm(&app, &app.client_key, "alice", id2, &cred)
            .await
            .status(),
        200
    );
    let opts = options(&app, "alice").await;
    assert_eq!(
        opts["publicKey"]["allowCredentials"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    let res = verify(&app, "alice", &plain.sign(&opts, ORIGIN).unwrap()).await;
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["device_id"], id2);
    let claims = decode_assertion(&app, body["assertion"].as_str().unwrap(), "default")
        .await
        .unwrap();
    assert_eq!(claims["amr"], json!(["hwk"]));
}

/// Each forgery is answered like a wrong code, and the honest response after them still works.
async fn forgeries_are_invalid_codes(backend: Backend) {
    let app = app(backend).await;
    let mut soft = SoftKey::new();
    register(&app, "alice", &mut soft).await;

    // A phishing page's origin.
    let signed = soft
        .sign(&options(&app, "alice").await, "https://mfa.example.evil")
        .unwrap();
    assert_error(verify(&app, "alice", &signed).await, 422, "invalid_code").await;
    // Signed for another RP ID.
    let signed = soft
        .sign_for_rp(&options(&app, "alice").await, ORIGIN, "evil.example")
        .unwrap();
    assert_error(verify(&app, "alice", &signed).await, 422, "invalid_code").await;
    // A flipped signature.
    let mut signed = soft.sign(&options(&app, "alice").await, ORIGIN).unwrap();
    tamper_signature(&mut signed);
    assert_error(verify(&app, "alice", &signed).await, 422, "invalid_code").await;
    // A key never registered (answering as a discoverable credential would).
    let mut stranger = SoftKey::new();
    let mut opts = options(&app, "alice").await;
    opts["publicKey"]["allowCredentials"] = json!([]);
    let signed = stranger.sign_for_rp(&opts, ORIGIN, "mfa.example").unwrap();
    assert_error(verify(&app, "alice", &signed).await, 422, "invalid_code").await;
    // A response to no challenge of ours: the honest one, made up.
    let mut opts = options(&app, "alice").await;
    opts["publicKey"]["challenge"] = json!("bm90LWEtY2hhbGxlbmdl");
    let signed = soft.sign(&opts, ORIGIN).unwrap();
    assert_error(verify(&app, "alice", &signed).await, 422, "invalid_code").await;
    // Not JSON of a credential at all: malformed, 400.
    let res = verify(&app, "alice", &json!({"type": "public-key"})).await;
    assert_error(res, 400, "invalid_request").await;

    // The honest answer works, once: the same response again is a replay.
    let signed = soft.sign(&options(&app, "alice").await, ORIGIN).unwrap();
    assert_eq!(verify(&app, "alice", &signed).await.status(), 200);
    assert_error(verify(&app, "alice", &signed).await, 422, "invalid_code").await;

    // Every refusal above counted as a failure, and the success reset the count: the next
    // failures lock the user at the threshold as wrong codes do.
    let threshold = app.raw.lockout_threshold;
    for _ in 0..threshold {
        let mut signed = soft.sign(&options(&app, "alice").await, ORIGIN).unwrap();
        tamper_signature(&mut signed);
        verify(&app, "alice", &signed).await;
    }
    let signed = soft.sign(&options(&app, "alice").await, ORIGIN).unwrap();
    assert_error(verify(&app, "alice", &signed).await, 429, "user_locked").await;
}

/// A challenge belongs to its user and tenant: answered for another, it is nobody's.
async fn a_challenge_is_bound_to_its_user_and_tenant(backend: Backend) {
    let app = app(backend).await;
    let mut alice = SoftKey::new();
    let mut bob = SoftKey::new();
    register(&app, "alice", &mut alice).await;
    register(&app, "bob", &mut bob).await;
    // Bob's challenge answered with alice's key, sent as alice.
    let mut opts = options(&app, "bob").await;
    opts["publicKey"]["allowCredentials"] = json!([]);
    let signed = alice.sign(&opts, ORIGIN).unwrap();
    assert_error(verify(&app, "alice", &signed).await, 422, "invalid_code").await;
    // Alice's own response, sent as bob.
    let signed = alice.sign(&options(&app, "alice").await, ORIGIN).unwrap();
    assert_error(verify(&app, "bob", &signed).await, 422, "invalid_code").await;
    // The same key registered for alice of another tenant too: a response to one tenant's
    // challenge does not pass in the other.
    let other = crate::helpers::make_key(&app.state, Role::Client, Some("other")).await;
    let started = start(&app, &other, "alice", json!({})).await;
    let cred = alice.register(&started["options"], ORIGIN).unwrap();
    let id = started["device"]["id"].as_str().unwrap();
    assert_eq!(
        confirm(&app, &other, "alice", id, &cred).await.status(),
        200
    );
    let verify_other = |signed: Value| {
        let other = other.clone();
        let app = &app;
        async move {
            app.post(
                "/v1/users/alice/verify",
                Some(&other),
                &json!({"credential": signed}),
            )
            .await
        }
    };
    let signed = alice.sign(&options(&app, "alice").await, ORIGIN).unwrap();
    assert_error(verify_other(signed).await, 422, "invalid_code").await;
    let res = challenge(&app, &other, "alice", json!({})).await;
    let opts = res.json::<Value>().await.unwrap()["options"].clone();
    let signed = alice.sign(&opts, ORIGIN).unwrap();
    assert_error(verify(&app, "alice", &signed).await, 422, "invalid_code").await;
    let res = challenge(&app, &other, "alice", json!({})).await;
    let opts = res.json::<Value>().await.unwrap()["options"].clone();
    let signed = alice.sign(&opts, ORIGIN).unwrap();
    assert_eq!(
        verify_other(signed).await.status(),
        200,
        "in its own tenant the key works"
    );
}

/// Two challenges answered out of order: the later answer passes, the earlier one is stale —
/// refused, but no clone.
async fn a_stale_response_is_refused_without_a_clone_mark(backend: Backend) {
    let app = app(backend).await;
    let mut soft = SoftKey::new();
    register(&app, "alice", &mut soft).await;
    let (first, second) = (options(&app, "alice").await, options(&app, "alice").await);
    let early = soft.sign(&first, ORIGIN).unwrap();
    let late = soft.sign(&second, ORIGIN).unwrap();
    assert_eq!(verify(&app, "alice", &late).await.status(), 200);
    assert_error(verify(&app, "alice", &early).await, 422, "invalid_code").await;
    let listed: Value = app
        .get("/v1/users/alice/devices", Some(&app.client_key))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        listed["devices"][0]["security_key"]["clone_detected_at"],
        Value::Null
    );
    let signed = soft.sign(&options(&app, "alice").await, ORIGIN).unwrap();
    assert_eq!(verify(&app, "alice", &signed).await.status(), 200);
}

async fn a_revoked_key_and_a_reused_credential_are_refused(backend: Backend) {
    let app = app(backend).await;
    let mut soft = SoftKey::new();
    let id = register(&app, "alice", &mut soft).await;
    // The same key for another user of the tenant: refused at confirmation.
    let started = start(&app, &app.client_key, "bob", json!({})).await;
    let cred = soft.register(&started["options"], ORIGIN).unwrap();
    let bob_device = started["device"]["id"].as_str().unwrap();
    let res = confirm(&app, &app.client_key, "bob", bob_device, &cred).await;
    assert_error(res, 422, "invalid_code").await;

    // A challenge made before the revocation is answered after it: refused.
    let opts = options(&app, "alice").await;
    let res = app
        .delete(
            &format!("/v1/users/alice/devices/{id}"),
            Some(&app.admin_key),
        )
        .await;
    assert_eq!(res.status(), 204);
    let signed = soft.sign(&opts, ORIGIN).unwrap();
    assert_error(verify(&app, "alice", &signed).await, 422, "invalid_code").await;
    assert_error(
        challenge(&app, &app.client_key, "alice", json!({})).await,
        404,
        "not_found",
    )
    .await;

    // Once revoked, the key can be registered again (for bob, say).
    let started = start(&app, &app.client_key, "bob", json!({})).await;
    let cred = soft.register(&started["options"], ORIGIN).unwrap();
    let res = confirm(
        &app,
        &app.client_key,
        "bob",
        started["device"]["id"].as_str().unwrap(),
        &cred,
    )
    .await;
    assert_eq!(res.status(), 200);
    let signed = soft.sign(&options(&app, "bob").await, ORIGIN).unwrap();
    assert_eq!(verify(&app, "bob", &signed).await.status(), 200);
}

/// A counter that does not increase marks the key as cloned; a key whose counter stays 0 (a
/// synced passkey) is fine.
async fn a_counter_going_backwards_marks_a_clone(backend: Backend) {
    let app = app(backend).await;
    let mut soft = SoftKey::new();
    let id = register(&app, "alice", &mut soft).await;
    for _ in 0..2 {
        let signed = soft.sign(&options(&app, "alice").await, ORIGIN).unwrap();
        assert_eq!(verify(&app, "alice", &signed).await.status(), 200);
    }
    // The copy answers with the counter the original had one use ago.
    let now = soft.counter();
    soft.set_counter(now - 2);
    let signed = soft.sign(&options(&app, "alice").await, ORIGIN).unwrap();
    assert_error(verify(&app, "alice", &signed).await, 422, "invalid_code").await;
    let listed: Value = app
        .get("/v1/users/alice/devices", Some(&app.client_key))
        .await
        .json()
        .await
        .unwrap();
    let device = listed["devices"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["id"] == id.as_str())
        .unwrap();
    assert!(
        device["security_key"]["clone_detected_at"].is_string(),
        "{device}"
    );
    app.state.audit.flush().await;
    let events: Value = app
        .get(
            "/v1/admin/audit?action=security_key_clone_detected",
            Some(&app.admin_key),
        )
        .await
        .json()
        .await
        .unwrap();
    let events = events["events"].as_array().unwrap();
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0]["device"], id.as_str());
    // Which copy answers is unknown: the key is refused from now on, even ahead of the counter.
    soft.set_counter(now + 10);
    let signed = soft.sign(&options(&app, "alice").await, ORIGIN).unwrap();
    assert_error(verify(&app, "alice", &signed).await, 422, "invalid_code").await;

    let mut synced = SoftKey::new().with_zero_counter();
    register(&app, "carol", &mut synced).await;
    for _ in 0..3 {
        let signed = synced.sign(&options(&app, "carol").await, ORIGIN).unwrap();
        assert_eq!(verify(&app, "carol", &signed).await.status(), 200);
    }
}

/// 50 verifies of one response at once: exactly one succeeds.
async fn one_response_succeeds_once_under_a_race(backend: Backend) {
    let app = app(backend).await;
    let mut soft = SoftKey::new();
    register(&app, "alice", &mut soft).await;
    let signed = soft.sign(&options(&app, "alice").await, ORIGIN).unwrap();
    let tries = (0..50).map(|_| verify(&app, "alice", &signed));
    let statuses: Vec<u16> = futures_util::future::join_all(tries)
        .await
        .into_iter()
        .map(|r| r.status().as_u16())
        .collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count(),
        1,
        "{statuses:?}"
    );
    // The failures count: the user may be locked before the last of them is judged.
    assert!(
        statuses.iter().all(|s| [200, 422, 429].contains(s)),
        "{statuses:?}"
    );
}

/// A challenge made on one node is answered on another: the state is in the shared store.
async fn a_challenge_from_one_node_is_answered_on_another(backend: Backend) {
    let a = app(backend).await;
    let mut soft = SoftKey::new();
    register(&a, "alice", &mut soft).await;
    let opts = options(&a, "alice").await;
    let b = a.restart().await;
    let signed = soft.sign(&opts, ORIGIN).unwrap();
    let res = verify(&b, "alice", &signed).await;
    if backend == Backend::Production {
        assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    } else {
        // The in-process store is the node's own: another node never saw the challenge.
        assert_error(res, 422, "invalid_code").await;
    }
}

/// A relying party that runs the ceremony on its own page registers its origins on its key.
async fn a_relying_partys_own_origin(backend: Backend) {
    let app = app(backend).await;
    let (_, secret) = api_keys::create(
        &app.state.db,
        app.state.audit.stream(),
        &app.state.keys,
        app.state.clock.now(),
        NewApiKey {
            name: "shop".into(),
            role: Role::Client,
            tenant: Some("default".into()),
            return_url_prefixes: vec![],
            webauthn_origins: vec!["https://login.shop.example".into()],
            webauthn_rp_id: Some("shop.example".into()),
            display_name: None,
        },
        Actor::System,
    )
    .await
    .unwrap();
    let shop = secret.to_string();
    let origin = "https://login.shop.example";
    let res = app
        .post(
            "/v1/users/alice/devices/webauthn",
            Some(&shop),
            &json!({"origin": "https://evil.example"}),
        )
        .await;
    let body = assert_error(res, 400, "invalid_request").await;
    assert!(
        body["message"].as_str().unwrap().contains("not registered"),
        "{body}"
    );

    let started = start(&app, &shop, "alice", json!({"origin": origin})).await;
    assert_eq!(started["options"]["publicKey"]["rp"]["id"], "shop.example");
    let mut soft = SoftKey::new();
    // Made on twofold's origin, the answer is not the shop's.
    let wrong = soft.register(&started["options"], ORIGIN).unwrap();
    let id = started["device"]["id"].as_str().unwrap();
    assert_error(
        confirm(&app, &shop, "alice", id, &wrong).await,
        422,
        "invalid_code",
    )
    .await;
    let started = start(&app, &shop, "alice", json!({"origin": origin})).await;
    let cred = soft.register(&started["options"], origin).unwrap();
    let id = started["device"]["id"].as_str().unwrap();
    assert_eq!(confirm(&app, &shop, "alice", id, &cred).await.status(), 200);

    // Its keys are listed for its origin, not for the hosted pages.
    assert_error(
        challenge(&app, &shop, "alice", json!({})).await,
        404,
        "not_found",
    )
    .await;
    let res = challenge(&app, &shop, "alice", json!({"origin": origin})).await;
    let opts = res.json::<Value>().await.unwrap()["options"].clone();
    assert_eq!(opts["publicKey"]["rpId"], "shop.example");
    let signed = soft.sign(&opts, origin).unwrap();
    let res = app
        .post(
            "/v1/users/alice/verify",
            Some(&shop),
            &json!({"credential": signed}),
        )
        .await;
    assert_eq!(res.status(), 200);
}

/// Without a public URL on a domain name there is no RP ID for the hosted pages.
async fn an_ip_address_has_no_rp_id(backend: Backend) {
    let app = crate::helpers::spawn_app(backend).await;
    let res = app
        .post(
            "/v1/users/alice/devices/webauthn",
            Some(&app.client_key),
            &json!({}),
        )
        .await;
    let body = assert_error(res, 400, "invalid_request").await;
    assert!(
        body["message"].as_str().unwrap().contains("domain name"),
        "{body}"
    );
}

/// Each challenge is a stored state for 5 minutes: one user gets at most 30 of them at a time.
async fn challenges_are_limited_per_user(backend: Backend) {
    let app = app(backend).await;
    let mut soft = SoftKey::new();
    register(&app, "alice", &mut soft).await;
    let mut bob = SoftKey::new();
    register(&app, "bob", &mut bob).await;
    for _ in 0..30 {
        options(&app, "alice").await;
    }
    let res = challenge(&app, &app.client_key, "alice", json!({})).await;
    assert!(res.headers().contains_key("retry-after"));
    assert_error(res, 429, "rate_limited").await;
    // Another user is not held back.
    options(&app, "bob").await;
}

crate::both_backends!(
    challenges_are_limited_per_user,
    a_stale_response_is_refused_without_a_clone_mark,
    a_key_registers_and_signs_in,
    forgeries_are_invalid_codes,
    a_challenge_is_bound_to_its_user_and_tenant,
    a_revoked_key_and_a_reused_credential_are_refused,
    a_counter_going_backwards_marks_a_clone,
    one_response_succeeds_once_under_a_race,
    a_challenge_from_one_node_is_answered_on_another,
    a_relying_partys_own_origin,
    an_ip_address_has_no_rp_id,
);
