//! Signed assertions as a relying party sees them: checked offline with an independent JWT
//! library (jsonwebtoken) against the published JWKS only.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{TimeDelta, Utc};
use jsonwebtoken::errors::{Error as JwtError, ErrorKind};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, spawn_app};

/// Checks `token` as a relying party of `audience` would: signature by the JWKS key named in its
/// header, issuer, audience and expiry. jsonwebtoken checks `exp` against the system clock, so
/// callers first set the app's clock to the real time.
pub(crate) async fn decode_assertion(
    app: &TestApp,
    token: &str,
    audience: &str,
) -> Result<Value, JwtError> {
    let jwks: Value = app
        .get("/.well-known/jwks.json", None)
        .await
        .json()
        .await
        .unwrap();
    let kid = jsonwebtoken::decode_header(token)?
        .kid
        .expect("the header names its key");
    let jwk = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["kid"] == kid.as_str())
        .unwrap_or_else(|| panic!("kid {kid} is published in {jwks}"));
    let key = DecodingKey::from_ed_components(jwk["x"].as_str().unwrap()).unwrap();
    let mut validation = Validation::new(Algorithm::EdDSA);
    validation.set_issuer(&[app.state.public_url.as_str().trim_end_matches('/')]);
    validation.set_audience(&[audience]);
    Ok(jsonwebtoken::decode::<Value>(token, &key, &validation)?.claims)
}

/// A verify of `user`'s active device at the current step; the answer's JSON.
async fn verified(app: &TestApp, user: &str, device: &crate::helpers::Enrollment) -> Value {
    let res = app.verify(user, json!(app.code(device, 0))).await;
    assert_eq!(res.status(), 200);
    res.json().await.unwrap()
}

async fn assertion_verifies_offline_against_the_jwks(backend: Backend) {
    let app = spawn_app(backend).await;
    app.clock.set(Utc::now());
    let device = app.active_device("alice").await;
    let answer = verified(&app, "alice", &device).await;
    assert_eq!(answer["verified"], true);
    assert_eq!(answer["method"], "totp");
    assert_eq!(answer["device_id"], device.id.as_str());
    let token = answer["assertion"].as_str().unwrap();

    let claims = decode_assertion(&app, token, "default").await.unwrap();
    assert_eq!(claims["sub"], "alice");
    assert_eq!(claims["aud"], "default");
    assert_eq!(
        claims["iss"],
        app.state.public_url.as_str().trim_end_matches('/')
    );
    assert_eq!(claims["amr"], json!(["otp"]));
    assert_eq!(claims["device_id"], device.id.as_str());
    let (iat, exp) = (
        claims["iat"].as_i64().unwrap(),
        claims["exp"].as_i64().unwrap(),
    );
    assert!(exp - iat > 0 && exp - iat <= 300, "lifetime {}", exp - iat);
    let jti = claims["jti"].as_str().unwrap();
    assert!(!jti.is_empty());

    app.clock.advance(TimeDelta::seconds(30));
    let again = verified(&app, "alice", &device).await;
    let claims2 = decode_assertion(&app, again["assertion"].as_str().unwrap(), "default")
        .await
        .unwrap();
    assert_ne!(claims2["jti"].as_str().unwrap(), jti, "jti is unique");
}

async fn tampered_or_misaddressed_assertions_fail(backend: Backend) {
    let app = spawn_app(backend).await;
    app.clock.set(Utc::now());
    let device = app.active_device("alice").await;
    let answer = verified(&app, "alice", &device).await;
    let token = answer["assertion"].as_str().unwrap();
    // Control: the untouched token passes, so every failure below is the tampering's doing.
    decode_assertion(&app, token, "default").await.unwrap();
    let parts: Vec<&str> = token.split('.').collect();
    assert_eq!(parts.len(), 3);

    // One character of the payload changed, still valid base64url.
    let mut payload = parts[1].to_string();
    let mid = payload.len() / 2;
    let swapped = if &payload[mid..=mid] == "A" { "B" } else { "A" };
    payload.replace_range(mid..=mid, swapped);
    let one_char = format!("{}.{payload}.{}", parts[0], parts[2]);

    // A meaningful forgery: another subject, re-encoded, old signature.
    let mut claims: Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
    claims["sub"] = "mallory".into();
    let forged = format!(
        "{}.{}.{}",
        parts[0],
        URL_SAFE_NO_PAD.encode(claims.to_string()),
        parts[2]
    );

    let mut signature = URL_SAFE_NO_PAD.decode(parts[2]).unwrap();
    signature[10] ^= 0x01;
    let flipped = format!(
        "{}.{}.{}",
        parts[0],
        parts[1],
        URL_SAFE_NO_PAD.encode(signature)
    );

    for bad in [one_char, forged, flipped] {
        let err = decode_assertion(&app, &bad, "default").await.unwrap_err();
        assert!(matches!(err.kind(), ErrorKind::InvalidSignature), "{err:?}");
    }
    let err = decode_assertion(&app, token, "other-tenant")
        .await
        .unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::InvalidAudience), "{err:?}");
}

async fn jwks_publishes_public_ed25519_keys_and_may_be_cached(backend: Backend) {
    let app = spawn_app(backend).await;
    let res = app.get("/.well-known/jwks.json", None).await;
    assert_eq!(res.status(), 200);
    let header = |name: &str| {
        res.headers()
            .get(name)
            .map(|v| v.to_str().unwrap().to_string())
            .unwrap_or_default()
    };
    assert!(header("content-type").starts_with("application/json"));
    let cache = header("cache-control");
    let directives: Vec<&str> = cache.split(',').map(str::trim).collect();
    assert!(directives.contains(&"public"), "{cache}");
    assert!(
        !directives.contains(&"no-store") && !directives.contains(&"private"),
        "{cache}"
    );
    let max_age = directives
        .iter()
        .find_map(|d| d.strip_prefix("max-age="))
        .and_then(|s| s.parse::<u64>().ok())
        .unwrap_or_else(|| panic!("max-age in {cache}"));
    assert!(max_age > 0);
    // A rotated key must be in every cached copy before it signs.
    let held = std::time::Duration::from_secs(max_age) + twofold::app::assertion::JWKS_CACHE;
    assert!(
        held < twofold::app::assertion::SIGN_AFTER_PUBLISHED,
        "a JWK Set may be held {held:?}, a new key signs after {:?}",
        twofold::app::assertion::SIGN_AFTER_PUBLISHED
    );

    let jwks: Value = res.json().await.unwrap();
    let keys = jwks["keys"].as_array().unwrap();
    assert!(!keys.is_empty());
    for key in keys {
        assert_eq!(key["kty"], "OKP");
        assert_eq!(key["crv"], "Ed25519");
        assert_eq!(key["alg"], "EdDSA");
        assert_eq!(key["use"], "sig");
        assert!(key["kid"].as_str().is_some_and(|k| !k.is_empty()));
        let x = URL_SAFE_NO_PAD.decode(key["x"].as_str().unwrap()).unwrap();
        assert_eq!(x.len(), 32, "an Ed25519 public key");
        // Only the public half is ever published.
        assert!(key.get("d").is_none(), "private key material: {key}");
    }
}

async fn openapi_describes_jwks_and_user_routes(backend: Backend) {
    let app = spawn_app(backend).await;
    let doc: Value = app.get("/openapi.json", None).await.json().await.unwrap();
    let paths = doc["paths"].as_object().unwrap();
    for (path, method) in [
        ("/.well-known/jwks.json", "get"),
        ("/v1/users/{user}/verify", "post"),
        ("/v1/users/{user}/devices/totp", "post"),
        ("/v1/users/{user}/devices/{id}/qr.png", "get"),
        ("/v1/users/{user}/devices/{id}/qr.svg", "get"),
        ("/v1/users/{user}/devices/{id}/confirm", "post"),
        ("/v1/users/{user}/devices", "get"),
        ("/v1/users/{user}/devices/{id}", "delete"),
        ("/v1/users/{user}/recovery-codes", "post"),
    ] {
        assert!(
            paths.get(path).and_then(|p| p.get(method)).is_some(),
            "{method} {path} in {:?}",
            paths.keys().collect::<Vec<_>>()
        );
    }
}

crate::both_backends!(
    assertion_verifies_offline_against_the_jwks,
    tampered_or_misaddressed_assertions_fail,
    jwks_publishes_public_ed25519_keys_and_may_be_cached,
    openapi_describes_jwks_and_user_routes,
);
