//! Unit tests of signing, verification, storage and rotation of assertion keys.

use chrono::TimeDelta;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};

use super::keys::spawn_refresher_every;
use super::*;
use crate::clock::Clock;
use crate::config::DatabaseUrl;
use crate::db::signing_keys as queries;

const ISS: &str = "https://mfa.example.com";
const TTL: Duration = Duration::from_secs(120);

pub(super) async fn test_db() -> (tempfile::TempDir, Db) {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::new(
        &DatabaseUrl::Sqlite(dir.path().join("t.db")),
        2,
        Duration::from_secs(5),
    )
    .unwrap();
    db.migrate().await.unwrap();
    (dir, db)
}

pub(super) fn keys() -> Arc<Keys> {
    Arc::new(Keys::from_master(&[7u8; 32]))
}

pub(super) async fn load(db: &Db, now: DateTime<Utc>) -> Assertions {
    Assertions::load(db, keys(), ISS.into(), TTL, now)
        .await
        .unwrap()
}

fn kids(a: &Assertions) -> Vec<String> {
    a.jwks()["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap().to_string())
        .collect()
}

pub(super) fn header_of(token: &str) -> serde_json::Value {
    let h = token.split('.').next().unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(h).unwrap()).unwrap()
}

/// Signs arbitrary header and payload JSON with the node's real key: tests the checks that
/// come after (or instead of) the signature.
fn sign_raw(a: &Assertions, header: &serde_json::Value, payload: &serde_json::Value) -> String {
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(payload.to_string())
    );
    let sig = a.current().signer.key.sign(input.as_bytes());
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(sig.to_bytes()))
}

fn invalid(r: Result<Claims, AssertionError>) -> &'static str {
    match r {
        Err(AssertionError::Invalid(reason)) => reason,
        other => panic!("expected Invalid, got {other:?}"),
    }
}

#[tokio::test]
async fn issue_verify_round_trip() {
    let (_dir, db) = test_db().await;
    let now = Utc::now();
    let a = load(&db, now).await;
    let token = a
        .issue(
            now,
            "acme",
            "alice@example.com",
            Some("dev-1"),
            Method::Totp,
        )
        .unwrap();
    let header = header_of(&token);
    assert_eq!(header["alg"], "EdDSA");
    assert_eq!(header["typ"], "JWT");
    assert_eq!(header["kid"], kids(&a)[0].as_str());

    let claims = a.verify(&token, now + TimeDelta::seconds(10)).unwrap();
    assert_eq!(claims.iss, ISS);
    assert_eq!(claims.sub, "alice@example.com");
    assert_eq!(claims.aud, "acme");
    assert_eq!(claims.amr, vec!["otp"]);
    assert_eq!(claims.device_id.as_deref(), Some("dev-1"));
    assert_eq!(claims.iat, now.timestamp());
    assert_eq!(
        claims.exp - claims.iat,
        i64::try_from(TTL.as_secs()).unwrap()
    );
    assert_eq!(claims.jti.len(), 22);

    let other = a.issue(now, "acme", "bob", None, Method::Recovery).unwrap();
    let claims2 = a.verify(&other, now).unwrap();
    assert_ne!(claims.jti, claims2.jti);
    assert_eq!(claims2.amr, vec!["recovery"]);
    assert_eq!(claims2.device_id, None);
    let sms = a.issue(now, "acme", "bob", Some("d"), Method::Sms).unwrap();
    assert_eq!(a.verify(&sms, now).unwrap().amr, vec!["sms"]);
}

#[tokio::test]
async fn ttl_is_capped_at_five_minutes() {
    let (_dir, db) = test_db().await;
    let now = Utc::now();
    let a = Assertions::load(&db, keys(), ISS.into(), Duration::from_secs(3600), now)
        .await
        .unwrap();
    let claims = a
        .verify(&a.issue(now, "t", "u", None, Method::Totp).unwrap(), now)
        .unwrap();
    assert_eq!(claims.exp - claims.iat, 300);
}

#[tokio::test]
async fn jsonwebtoken_verifies_independently() {
    let (_dir, db) = test_db().await;
    // jsonwebtoken checks exp against the system clock.
    let now = Utc::now();
    let a = load(&db, now).await;
    let token = a
        .issue(now, "acme", "alice", Some("dev-1"), Method::Sms)
        .unwrap();
    let jwks = a.jwks();
    let x = jwks["keys"][0]["x"].as_str().unwrap();

    let key = DecodingKey::from_ed_components(x).unwrap();
    let mut validation = Validation::new(Algorithm::EdDSA);
    validation.set_issuer(&[ISS]);
    validation.set_audience(&["acme"]);
    let data = jsonwebtoken::decode::<Claims>(&token, &key, &validation).unwrap();
    assert_eq!(data.claims, a.verify(&token, now).unwrap());
    assert_eq!(data.header.kid.as_deref(), Some(kids(&a)[0].as_str()));

    // The JWK Set parses as RFC 7517 and its key works too.
    let set: jsonwebtoken::jwk::JwkSet = serde_json::from_value(jwks.clone()).unwrap();
    let from_jwk = DecodingKey::from_jwk(&set.keys[0]).unwrap();
    assert!(jsonwebtoken::decode::<Claims>(&token, &from_jwk, &validation).is_ok());
    assert_eq!(jwks["keys"][0]["kty"], "OKP");
    assert_eq!(jwks["keys"][0]["crv"], "Ed25519");
    assert_eq!(jwks["keys"][0]["use"], "sig");
    assert_eq!(jwks["keys"][0]["alg"], "EdDSA");

    let mut wrong_aud = validation.clone();
    wrong_aud.set_audience(&["other-tenant"]);
    assert!(jsonwebtoken::decode::<Claims>(&token, &key, &wrong_aud).is_err());
    let mut wrong_iss = validation;
    wrong_iss.set_issuer(&["https://evil.example"]);
    assert!(jsonwebtoken::decode::<Claims>(&token, &key, &wrong_iss).is_err());
}

#[tokio::test]
async fn tampered_tokens_are_refused() {
    let (_dir, db) = test_db().await;
    let now = Utc::now();
    let a = load(&db, now).await;
    let token = a.issue(now, "acme", "alice", None, Method::Totp).unwrap();
    let parts: Vec<&str> = token.split('.').collect();

    let mut claims: serde_json::Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
    claims["sub"] = "mallory".into();
    let forged_payload = URL_SAFE_NO_PAD.encode(claims.to_string());
    let t = format!("{}.{forged_payload}.{}", parts[0], parts[2]);
    assert_eq!(invalid(a.verify(&t, now)), "bad signature");

    let mut sig = URL_SAFE_NO_PAD.decode(parts[2]).unwrap();
    sig[5] ^= 1;
    let t = format!("{}.{}.{}", parts[0], parts[1], URL_SAFE_NO_PAD.encode(sig));
    assert_eq!(invalid(a.verify(&t, now)), "bad signature");

    // Malformed shapes.
    assert_eq!(invalid(a.verify(&"a".repeat(5000), now)), "too long");
    for bad in [
        format!("{}.{}", parts[0], parts[1]),
        format!("{token}.x"),
        String::new(),
    ] {
        assert_eq!(invalid(a.verify(&bad, now)), "not a compact JWS");
    }
    let padded = format!("{}=.{}.{}", parts[0], parts[1], parts[2]);
    assert_eq!(invalid(a.verify(&padded, now)), "not base64url");
    let plus = format!("{}.{}.{}+", parts[0], parts[1], parts[2]);
    assert_eq!(invalid(a.verify(&plus, now)), "not base64url");
    let not_json = format!("{}.{}.{}", URL_SAFE_NO_PAD.encode("{"), parts[1], parts[2]);
    assert_eq!(invalid(a.verify(&not_json, now)), "bad JSON");
    let short_sig = format!(
        "{}.{}.{}",
        parts[0],
        parts[1],
        URL_SAFE_NO_PAD.encode([0u8; 10])
    );
    assert_eq!(invalid(a.verify(&short_sig, now)), "malformed signature");
}

#[tokio::test]
async fn only_eddsa_is_accepted() {
    let (_dir, db) = test_db().await;
    let now = Utc::now();
    let a = load(&db, now).await;
    let kid = kids(&a)[0].clone();
    let claims = serde_json::json!({
        "iss": ISS, "sub": "alice", "aud": "acme", "amr": ["otp"],
        "iat": now.timestamp(), "exp": now.timestamp() + 60, "jti": "j",
    });
    let ok = sign_raw(
        &a,
        &serde_json::json!({"alg": "EdDSA", "kid": kid}),
        &claims,
    );
    assert!(
        a.verify(&ok, now).is_ok(),
        "control: the forging helper works"
    );

    for alg in [
        "none", "None", "HS256", "RS256", "ES256", "eddsa", "Ed25519",
    ] {
        let t = sign_raw(&a, &serde_json::json!({"alg": alg, "kid": kid}), &claims);
        assert_eq!(invalid(a.verify(&t, now)), "unsupported alg", "{alg}");
    }
    // The classic `alg: none` shape: empty signature.
    let none = sign_raw(&a, &serde_json::json!({"alg": "none", "kid": kid}), &claims);
    let unsigned = format!("{}.", none.rsplit_once('.').unwrap().0);
    assert_eq!(invalid(a.verify(&unsigned, now)), "unsupported alg");
    // Duplicate alg members: serde refuses rather than picking one.
    let dup = format!(
        "{}.{}.x",
        URL_SAFE_NO_PAD.encode(format!(r#"{{"alg":"none","alg":"EdDSA","kid":"{kid}"}}"#)),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    assert_eq!(invalid(a.verify(&dup, now)), "bad JSON");
    let crit = sign_raw(
        &a,
        &serde_json::json!({"alg": "EdDSA", "kid": kid, "crit": ["b64"], "b64": false}),
        &claims,
    );
    assert_eq!(invalid(a.verify(&crit, now)), "unsupported critical header");
    let no_kid = sign_raw(&a, &serde_json::json!({"alg": "EdDSA"}), &claims);
    assert_eq!(invalid(a.verify(&no_kid, now)), "no kid");
    let unknown = sign_raw(
        &a,
        &serde_json::json!({"alg": "EdDSA", "kid": "nope"}),
        &claims,
    );
    assert_eq!(invalid(a.verify(&unknown, now)), UNKNOWN_KID);
    // Still unknown after the one refresh.
    assert_eq!(
        invalid(a.verify_refreshing(&db, &unknown, now).await),
        UNKNOWN_KID
    );

    let mut long = claims.clone();
    long["exp"] = (now.timestamp() + 301).into();
    let t = sign_raw(&a, &serde_json::json!({"alg": "EdDSA", "kid": kid}), &long);
    assert_eq!(invalid(a.verify(&t, now)), "lifetime too long");
}

#[tokio::test]
async fn expiry_issuer_and_future_iat_are_checked() {
    let (_dir, db) = test_db().await;
    let now = Utc::now();
    let a = load(&db, now).await;
    let token = a.issue(now, "acme", "alice", None, Method::Totp).unwrap();
    let ttl = i64::try_from(TTL.as_secs()).unwrap();
    assert!(a.verify(&token, now + TimeDelta::seconds(ttl - 1)).is_ok());
    assert_eq!(
        invalid(a.verify(&token, now + TimeDelta::seconds(ttl))),
        "expired"
    );
    assert_eq!(
        invalid(a.verify(&token, now + TimeDelta::seconds(ttl + 3600))),
        "expired"
    );

    // Issued by a node whose clock runs ahead: 60 s is tolerated, more is not.
    let ahead = a
        .issue(
            now + TimeDelta::seconds(60),
            "acme",
            "alice",
            None,
            Method::Totp,
        )
        .unwrap();
    assert!(a.verify(&ahead, now).is_ok());
    let far = a
        .issue(
            now + TimeDelta::seconds(61),
            "acme",
            "alice",
            None,
            Method::Totp,
        )
        .unwrap();
    assert_eq!(invalid(a.verify(&far, now)), "issued in the future");

    // Same keys, other issuer: our signature, but not our token.
    let other = Assertions::load(&db, keys(), "https://other.example".into(), TTL, now)
        .await
        .unwrap();
    assert_eq!(kids(&other), kids(&a));
    let foreign = other
        .issue(now, "acme", "alice", None, Method::Totp)
        .unwrap();
    assert_eq!(invalid(a.verify(&foreign, now)), "wrong issuer");
}

#[tokio::test]
async fn load_reuses_the_sealed_key() {
    let (_dir, db) = test_db().await;
    let now = Utc::now();
    let a = load(&db, now).await;
    let b = load(&db, now + TimeDelta::seconds(5)).await;
    assert_eq!(kids(&a).len(), 1);
    assert_eq!(kids(&a), kids(&b));
    let token = b.issue(now, "acme", "alice", None, Method::Totp).unwrap();
    assert!(a.verify(&token, now).is_ok());

    let rows = db.run(queries::list_all).await.unwrap();
    assert_eq!(rows.len(), 1);
    let row = &rows[0];
    let secret = a.current().signer.key.to_bytes();
    assert_eq!(row.algorithm, "EdDSA");
    assert_eq!(row.key_id, keys().key_id());
    assert!(row.private_sealed.len() > 32);
    assert!(!row.private_sealed.windows(32).any(|w| w == secret));
    let opened = keys()
        .open(&row.key_id, &row.private_sealed, &sealing_context(&row.kid))
        .unwrap();
    assert_eq!(&opened[..], &secret[..]);
    // Bound to its kid: the sealed key moved onto another row does not open.
    assert!(
        keys()
            .open(&row.key_id, &row.private_sealed, b"other")
            .is_err()
    );
    // Another master key cannot load it.
    let stranger = Arc::new(Keys::from_master(&[8u8; 32]));
    assert!(matches!(
        Assertions::load(&db, stranger, ISS.into(), TTL, now).await,
        Err(AssertionError::Crypto(_))
    ));
}

#[tokio::test]
async fn rotation_publishes_old_keys_for_an_hour() {
    let (_dir, db) = test_db().await;
    let t0 = Utc::now();
    let a = load(&db, t0).await;
    let old_kid = kids(&a)[0].clone();
    let old_token = a.issue(t0, "acme", "alice", None, Method::Totp).unwrap();

    let t1 = t0 + TimeDelta::seconds(10);
    let new_kid = rotate(&db, &keys(), t1).await.unwrap();
    assert_ne!(new_kid, old_kid);
    // Until it refreshes, the node signs with the old (still published) key.
    let before = a.issue(t1, "acme", "alice", None, Method::Totp).unwrap();
    assert_eq!(header_of(&before)["kid"], old_kid.as_str());

    // Published at once, but it signs only once the JWKS has served it past its cache.
    a.refresh(&db, t1).await.unwrap();
    assert_eq!(kids(&a), vec![new_kid.clone(), old_kid.clone()]);
    let early = a.issue(t1, "acme", "alice", None, Method::Totp).unwrap();
    assert_eq!(header_of(&early)["kid"], old_kid.as_str());
    let t2 = t1 + TimeDelta::from_std(SIGN_AFTER_PUBLISHED).unwrap();
    let just_before = t2 - TimeDelta::seconds(1);
    a.refresh(&db, just_before).await.unwrap();
    let last_old = a
        .issue(just_before, "acme", "alice", None, Method::Totp)
        .unwrap();
    assert_eq!(header_of(&last_old)["kid"], old_kid.as_str());
    a.refresh(&db, t2).await.unwrap();
    let after = a.issue(t2, "acme", "alice", None, Method::Totp).unwrap();
    assert_eq!(header_of(&after)["kid"], new_kid.as_str());
    // Switched: what the old key signed verifies until it expires.
    let last_second =
        |at: DateTime<Utc>| at + TimeDelta::from_std(TTL).unwrap() - TimeDelta::seconds(1);
    assert!(a.verify(&old_token, last_second(t0)).is_ok());
    assert!(a.verify(&before, last_second(t1)).is_ok());
    assert!(a.verify(&last_old, last_second(just_before)).is_ok());
    assert!(a.verify(&after, t2 + TimeDelta::seconds(20)).is_ok());

    a.refresh(&db, t1 + TimeDelta::minutes(59)).await.unwrap();
    assert_eq!(kids(&a), vec![new_kid.clone(), old_kid.clone()]);
    a.refresh(&db, t1 + TimeDelta::minutes(60) + TimeDelta::seconds(1))
        .await
        .unwrap();
    assert_eq!(kids(&a), vec![new_kid.clone()]);
    let rows = db.run(queries::list_all).await.unwrap();
    assert_eq!(rows.len(), 2, "retired keys stay in the table");
}

#[tokio::test]
async fn verify_refreshing_learns_a_key_rotated_elsewhere() {
    let (_dir, db) = test_db().await;
    let now = Utc::now();
    let node_a = load(&db, now).await;
    let node_b = load(&db, now).await;
    let new_kid = rotate(&db, &keys(), now).await.unwrap();
    let now = now + TimeDelta::from_std(SIGN_AFTER_PUBLISHED).unwrap();
    node_b.refresh(&db, now).await.unwrap();
    let token = node_b
        .issue(now, "acme", "alice", None, Method::Totp)
        .unwrap();
    assert_eq!(header_of(&token)["kid"], new_kid.as_str());

    assert_eq!(invalid(node_a.verify(&token, now)), UNKNOWN_KID);
    let claims = node_a.verify_refreshing(&db, &token, now).await.unwrap();
    assert_eq!(claims.sub, "alice");
    assert!(node_a.verify(&token, now).is_ok(), "the refresh stuck");
}

#[tokio::test]
async fn refresher_follows_rotation_and_stops_with_its_owner() {
    let (_dir, db) = test_db().await;
    let now = Utc::now();
    let a = load(&db, now).await;
    let later = now + TimeDelta::from_std(SIGN_AFTER_PUBLISHED).unwrap();
    let clock: Arc<dyn Clock> = Arc::new(crate::clock::ManualClock::new(later));
    let handle = spawn_refresher_every(a.clone(), db.clone(), clock, Duration::from_millis(20));
    let new_kid = rotate(&db, &keys(), now).await.unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while a.current().signer.kid != new_kid {
        assert!(tokio::time::Instant::now() < deadline, "never refreshed");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    drop(a);
    tokio::time::timeout(Duration::from_secs(10), handle)
        .await
        .expect("the task ends once the keys are dropped")
        .unwrap();
}

/// Issue 16: the JWKS is read from the database, so a key rotated by another process is served
/// within [`JWKS_CACHE`] — before any node signs with it.
#[tokio::test]
async fn the_jwks_serves_a_rotated_key_within_its_cache() {
    let (_dir, db) = test_db().await;
    let t0 = Utc::now();
    let node = load(&db, t0).await;
    let served = |v: serde_json::Value| -> Vec<String> {
        v["keys"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| k["kid"].as_str().unwrap().to_string())
            .collect()
    };
    let old = served(node.published_jwks(&db, t0).await.keys);
    assert_eq!(old, kids(&node));
    let new_kid = rotate(&db, &keys(), t0 + TimeDelta::seconds(1))
        .await
        .unwrap();
    // Within the cache: the set read at t0.
    let cached = t0 + TimeDelta::from_std(JWKS_CACHE).unwrap() - TimeDelta::milliseconds(1);
    assert_eq!(served(node.published_jwks(&db, cached).await.keys), old);
    let t1 = t0 + TimeDelta::from_std(JWKS_CACHE).unwrap();
    let now_served = served(node.published_jwks(&db, t1).await.keys);
    assert_eq!(now_served, vec![new_kid.clone(), old[0].clone()]);
    // The node has not refreshed: it signs with the old key, which is served too.
    let token = node.issue(t1, "acme", "alice", None, Method::Totp).unwrap();
    assert_eq!(header_of(&token)["kid"], old[0].as_str());
    assert!(JWKS_CACHE < SIGN_AFTER_PUBLISHED);
}

#[test]
fn errors_map_to_api_errors() {
    let e: Error = AssertionError::Invalid("expired").into();
    assert_eq!(crate::http::error::code(&e), "invalid_request");
    assert_eq!(e.to_string(), "the assertion is not valid");
    let e: Error = AssertionError::Db(DbError::Timeout(Duration::from_secs(1))).into();
    assert_eq!(crate::http::error::code(&e), "unavailable");
    let e: Error = AssertionError::Crypto(CryptoError::Open).into();
    assert_eq!(crate::http::error::code(&e), "internal");
}
