//! Signed assertions: the short-lived JWT a relying party gets after a successful second factor
//! and verifies offline against our JWKS (`/.well-known/jwks.json`).
//!
//! The compact JWS (EdDSA over Ed25519) is written by hand on ed25519-dalek: a JWT library would
//! pull RSA and ECDSA stacks we never use, and the subset we need is small enough to read in one
//! sitting. The tests check our tokens with jsonwebtoken as an independent implementation.
//!
//! Signing keys live in the `signing_keys` table, private halves sealed under the master key. Every
//! node signs with the newest key published for [`SIGN_AFTER_PUBLISHED`] and accepts every
//! published one; `rotate` retires the active keys, which stay published for
//! [`PUBLISH_AFTER_RETIRE`]. The JWKS is read from the database (cached [`JWKS_CACHE`]), so a new
//! key is served by every node at once, and signs only after a relying party's copy of the JWKS
//! ([`JWKS_MAX_AGE`]) from before it was made has expired, from each node's next refresh (at most
//! [`REFRESH_INTERVAL`] later): a relying party that meets its kid has it, or fetches it.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};

use crate::crypto::{self, CryptoError, Keys};
use crate::db::{Db, DbError};
use crate::error::Error;

/// The longest an assertion lives (DESIGN: `exp` ≤ 5 min).
pub const MAX_TTL: Duration = Duration::from_secs(MAX_TTL_SECS.unsigned_abs());
const MAX_TTL_SECS: i64 = 300;
/// How long a retired key stays published: far longer than it may go on signing (until its
/// successor signs, at every node's next refresh) plus an assertion's life, so every assertion it
/// signed keeps verifying. A node that cannot read the keys stops signing before that runs out.
pub const PUBLISH_AFTER_RETIRE: Duration = Duration::from_secs(3600);
/// How often [`spawn_refresher`] re-reads the keys.
pub const REFRESH_INTERVAL: Duration = Duration::from_secs(60);
/// How long a node serves the JWK Set it read from the database before reading it again.
pub const JWKS_CACHE: Duration = Duration::from_secs(JWKS_CACHE_SECS);
const JWKS_CACHE_SECS: u64 = 5;
/// How long relying parties may cache the JWK Set (its `Cache-Control: max-age`): the 5 minutes
/// JWT libraries commonly keep a JWKS whatever the header says (clients/python does).
pub const JWKS_MAX_AGE: Duration = Duration::from_secs(JWKS_MAX_AGE_SECS);
const JWKS_MAX_AGE_SECS: u64 = 300;
/// How far apart the clocks of the nodes, and of the process that rotates, may be.
pub const CLOCK_SKEW: Duration = Duration::from_secs(CLOCK_SKEW_SECS.unsigned_abs());
/// How long a new key is published before it signs: a JWK Set read from the database just before
/// the key was made is served [`JWKS_CACHE`] more, then kept [`JWKS_MAX_AGE`] by a relying party;
/// twice [`CLOCK_SKEW`] on top: the key's age is reckoned from a time written by the process that
/// made it and read in the clock of the node that signs, and either may be off by the skew.
pub const SIGN_AFTER_PUBLISHED: Duration =
    Duration::from_secs(JWKS_MAX_AGE_SECS + JWKS_CACHE_SECS + 2 * CLOCK_SKEW_SECS.unsigned_abs());

// A retired key signs until its successor has been published SIGN_AFTER_PUBLISHED and each node
// has refreshed, and its last assertion lives MAX_TTL: all of it well inside its publication.
const _: () = assert!(
    SIGN_AFTER_PUBLISHED.as_secs()
        + REFRESH_INTERVAL.as_secs()
        + MAX_TTL.as_secs()
        + 2 * CLOCK_SKEW.as_secs()
        < PUBLISH_AFTER_RETIRE.as_secs()
);

const ALG: &str = "EdDSA";
/// Our tokens are a few hundred bytes; a cap keeps garbage from costing base64 and JSON work.
const MAX_TOKEN_LEN: usize = 4096;
/// Tolerated clock difference between nodes (and between the node that issued and the node
/// that verifies).
const CLOCK_SKEW_SECS: i64 = 60;
const UNKNOWN_KID: &str = "unknown key id";
/// The reason of an [`AssertionError::Invalid`] for a token past its `exp`: step-up says so.
pub const EXPIRED: &str = "expired";

/// How the second factor was proven.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    Totp,
    Sms,
    Recovery,
    Webauthn,
    Hotp,
    YubicoOtp,
}

impl Method {
    pub const ALL: [Method; 6] = [
        Method::Totp,
        Method::Sms,
        Method::Recovery,
        Method::Webauthn,
        Method::Hotp,
        Method::YubicoOtp,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Method::Totp => "totp",
            Method::Sms => "sms",
            Method::Recovery => "recovery",
            Method::Webauthn => "webauthn",
            Method::Hotp => "hotp",
            Method::YubicoOtp => "yubico_otp",
        }
    }

    /// The `amr` values (RFC 8176 where one exists; recovery codes have none registered). A
    /// security key adds `user` and `pin` when the authenticator verified the user; a code from
    /// a hardware token of the inventory adds `hwk`.
    pub fn amr(self, proof: Proof) -> &'static [&'static str] {
        match self {
            Method::Totp | Method::Hotp if proof.hardware => &["hwk", "otp"],
            Method::Totp | Method::Hotp => &["otp"],
            Method::YubicoOtp => &["hwk", "otp"],
            Method::Sms => &["sms"],
            Method::Recovery => &["recovery"],
            Method::Webauthn => crate::factor::webauthn::amr(proof.hardware, proof.user_verified),
        }
    }
}

/// How a value was proven, beyond its method: what the assertion's `amr` adds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Proof {
    /// A security key verified its user (PIN or biometric).
    pub user_verified: bool,
    /// A hardware device: a hardware token of the inventory, or a device-bound security key
    /// (not a backup-eligible, synced passkey).
    pub hardware: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Claims {
    /// Our public URL.
    pub iss: String,
    /// The user (the relying party's opaque id).
    pub sub: String,
    /// The tenant.
    pub aud: String,
    pub amr: Vec<String>,
    /// Absent when no device was involved (a recovery code).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_id: Option<String>,
    pub iat: i64,
    pub exp: i64,
    pub jti: String,
}

#[derive(Debug, thiserror::Error)]
pub enum AssertionError {
    /// The token is malformed, badly signed, signed by an unknown key, not ours or expired. The
    /// reason is for logs; callers answer every case alike.
    #[error("invalid assertion: {0}")]
    Invalid(&'static str),
    #[error(transparent)]
    Db(#[from] DbError),
    #[error("signing key: {0}")]
    Crypto(#[from] CryptoError),
    /// This node has failed to read the keys for so long that the key it holds may leave the JWKS
    /// before an assertion it signs expires.
    #[error("the signing keys could not be read for too long")]
    KeysStale,
}

impl From<AssertionError> for Error {
    fn from(e: AssertionError) -> Self {
        match e {
            AssertionError::Invalid(_) => {
                Error::InvalidRequest("the assertion is not valid".into())
            }
            AssertionError::Db(e) => e.into(),
            AssertionError::Crypto(e) => Error::internal(e),
            e @ AssertionError::KeysStale => Error::unavailable(e),
        }
    }
}

/// The key this node signs with.
struct ActiveKey {
    kid: String,
    key: SigningKey,
}

struct PublishedKey {
    kid: String,
    key: VerifyingKey,
}

/// One consistent snapshot, replaced whole on refresh so readers never see half an update.
struct KeySet {
    signer: ActiveKey,
    /// The latest `exp` the signer may give an assertion: until then it stays published, even if
    /// it was retired just after this set was read.
    sign_until: DateTime<Utc>,
    /// Newest first; includes the signer.
    published: Vec<PublishedKey>,
    /// When this set was read from the database.
    read_at: DateTime<Utc>,
}

struct Inner {
    keys: Arc<Keys>,
    issuer: String,
    ttl_secs: i64,
    set: RwLock<Arc<KeySet>>,
    /// The last refresh failed: `set` may be missing a rotation, and its signer may have been
    /// retired since it was read.
    refresh_failing: AtomicBool,
    /// The JWK Set last read from the database, and when.
    jwks: Mutex<Option<(DateTime<Utc>, serde_json::Value)>>,
    /// Held while one request reads the keys for everyone: the JWKS is public, and an expired
    /// cache must not send every concurrent request to the database.
    jwks_refresh: tokio::sync::Mutex<()>,
}

/// Issues and verifies assertions. Cheap to clone: every clone shares one key set.
#[derive(Clone)]
pub struct Assertions {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Assertions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Assertions")
            .field("issuer", &self.inner.issuer)
            .field("ttl_secs", &self.inner.ttl_secs)
            .field("kid", &self.current().signer.kid)
            .finish_non_exhaustive()
    }
}

#[derive(Serialize)]
struct Header<'a> {
    alg: &'a str,
    typ: &'a str,
    kid: &'a str,
}

#[derive(Deserialize)]
struct ReceivedHeader {
    alg: String,
    kid: Option<String>,
    /// We understand no extension, so any critical one makes the token unusable (RFC 7515 §4.1.11).
    crit: Option<serde_json::Value>,
}

impl Assertions {
    /// Loads the published keys (active + retired within [`PUBLISH_AFTER_RETIRE`]) and opens the
    /// private key that signs (see `keys::fetch`); with no active key, makes, seals and stores
    /// one. Two nodes starting at once may each make one: harmless, both are published.
    pub async fn load(
        db: &Db,
        keys: Arc<Keys>,
        issuer: String,
        ttl: Duration,
        now: DateTime<Utc>,
    ) -> Result<Assertions, AssertionError> {
        let set = fetch(db, &keys, now, None).await?;
        // Clamped to 1..=300: the conversion cannot fail.
        let ttl_secs = i64::try_from(ttl.as_secs().clamp(1, MAX_TTL.as_secs())).unwrap_or(1);
        Ok(Assertions {
            inner: Arc::new(Inner {
                keys,
                issuer,
                ttl_secs,
                set: RwLock::new(Arc::new(set)),
                refresh_failing: AtomicBool::new(false),
                jwks: Mutex::new(None),
                jwks_refresh: tokio::sync::Mutex::new(()),
            }),
        })
    }

    /// Re-reads the keys: another process may have rotated them.
    pub async fn refresh(&self, db: &Db, now: DateTime<Utc>) -> Result<(), AssertionError> {
        let prev = self.current();
        let fetched = fetch(db, &self.inner.keys, now, Some(&prev)).await;
        self.inner
            .refresh_failing
            .store(fetched.is_err(), Ordering::Relaxed);
        let set = fetched?;
        if set.signer.kid != prev.signer.kid {
            tracing::info!(kid = %set.signer.kid, "signing assertions with a new key");
        }
        *self
            .inner
            .set
            .write()
            .unwrap_or_else(PoisonError::into_inner) = Arc::new(set);
        Ok(())
    }

    /// How long the assertions this service issues live.
    pub fn ttl(&self) -> Duration {
        Duration::from_secs(self.inner.ttl_secs.unsigned_abs())
    }

    fn current(&self) -> Arc<KeySet> {
        // A poisoned lock still holds a whole set: it is only ever replaced in one assignment.
        self.inner
            .set
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Signs an assertion that `user` of `tenant` just proved a second factor, valid for the
    /// configured TTL (at most [`MAX_TTL`]) with a fresh `jti` for single use by the caller.
    pub fn issue(
        &self,
        now: DateTime<Utc>,
        tenant: &str,
        user: &str,
        device_id: Option<&str>,
        method: Method,
    ) -> Result<String, AssertionError> {
        self.issue_verified(now, tenant, user, device_id, method, Proof::default())
    }

    /// [`Assertions::issue`], with how the value was proven (a hardware token, a key that verified
    /// its user).
    pub fn issue_verified(
        &self,
        now: DateTime<Utc>,
        tenant: &str,
        user: &str,
        device_id: Option<&str>,
        method: Method,
        proof: Proof,
    ) -> Result<String, AssertionError> {
        let set = self.current();
        let iat = now.timestamp();
        // Only once refreshes fail: a node whose refresher runs has read the keys within a minute.
        if iat + self.inner.ttl_secs > set.sign_until.timestamp()
            && self.inner.refresh_failing.load(Ordering::Relaxed)
        {
            return Err(AssertionError::KeysStale);
        }
        let claims = Claims {
            iss: self.inner.issuer.clone(),
            sub: user.to_string(),
            aud: tenant.to_string(),
            amr: method.amr(proof).iter().map(|a| (*a).to_string()).collect(),
            device_id: device_id.map(str::to_string),
            iat,
            exp: iat + self.inner.ttl_secs,
            jti: crypto::random_id()?,
        };
        let header = Header {
            alg: ALG,
            typ: "JWT",
            kid: &set.signer.kid,
        };
        #[expect(
            clippy::expect_used,
            reason = "plain structs of strings and integers always serialize"
        )]
        let (header, payload) = (
            serde_json::to_vec(&header).expect("header serializes"),
            serde_json::to_vec(&claims).expect("claims serialize"),
        );
        let mut token = URL_SAFE_NO_PAD.encode(header);
        token.push('.');
        URL_SAFE_NO_PAD.encode_string(payload, &mut token);
        let signature = set.signer.key.sign(token.as_bytes());
        token.push('.');
        URL_SAFE_NO_PAD.encode_string(signature.to_bytes(), &mut token);
        Ok(token)
    }

    /// Checks signature (by a published key, `alg` exactly EdDSA), issuer, expiry and `iat` (at
    /// most [`CLOCK_SKEW_SECS`] ahead). Does not check `aud` or `sub`: that is the caller's.
    pub fn verify(&self, token: &str, now: DateTime<Utc>) -> Result<Claims, AssertionError> {
        use AssertionError::Invalid;
        if token.len() > MAX_TOKEN_LEN {
            return Err(Invalid("too long"));
        }
        let mut parts = token.split('.');
        let (Some(header_b64), Some(payload_b64), Some(signature_b64), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(Invalid("not a compact JWS"));
        };
        let header: ReceivedHeader = decode_json(header_b64)?;
        // The alg comes from the attacker, so it is compared, never used to pick an algorithm.
        if header.alg != ALG {
            return Err(Invalid("unsupported alg"));
        }
        if header.crit.is_some() {
            return Err(Invalid("unsupported critical header"));
        }
        let kid = header.kid.ok_or(Invalid("no kid"))?;
        let set = self.current();
        let key = set
            .published
            .iter()
            .find(|k| k.kid == kid)
            .ok_or(Invalid(UNKNOWN_KID))?;
        let signature: [u8; 64] = decode_b64(signature_b64)?
            .try_into()
            .map_err(|_| Invalid("malformed signature"))?;
        let signing_input = &token[..header_b64.len() + 1 + payload_b64.len()];
        key.key
            .verify_strict(signing_input.as_bytes(), &Signature::from_bytes(&signature))
            .map_err(|_| Invalid("bad signature"))?;

        let claims: Claims = decode_json(payload_b64)?;
        let now = now.timestamp();
        if claims.iss != self.inner.issuer {
            return Err(Invalid("wrong issuer"));
        }
        if claims.exp <= now {
            return Err(Invalid(EXPIRED));
        }
        if claims.iat > now + CLOCK_SKEW_SECS {
            return Err(Invalid("issued in the future"));
        }
        // We never sign longer-lived tokens; one that claims to be is not ours to trust.
        if claims.exp.saturating_sub(claims.iat) > MAX_TTL_SECS {
            return Err(Invalid("lifetime too long"));
        }
        Ok(claims)
    }

    /// [`Assertions::verify`], but a token signed by a key we do not know yet (another node
    /// rotated) gets exactly one refresh from the database and a second try.
    pub async fn verify_refreshing(
        &self,
        db: &Db,
        token: &str,
        now: DateTime<Utc>,
    ) -> Result<Claims, AssertionError> {
        match self.verify(token, now) {
            Err(AssertionError::Invalid(reason)) if reason == UNKNOWN_KID => {
                self.refresh(db, now).await?;
                self.verify(token, now)
            }
            other => other,
        }
    }
}

/// One public key as a JWK.
fn jwk(kid: &str, key: &VerifyingKey) -> serde_json::Value {
    serde_json::json!({
        "kty": "OKP",
        "crv": "Ed25519",
        "x": URL_SAFE_NO_PAD.encode(key.as_bytes()),
        "kid": kid,
        "alg": ALG,
        "use": "sig",
    })
}

fn decode_b64(part: &str) -> Result<Vec<u8>, AssertionError> {
    // URL_SAFE_NO_PAD refuses padding and non-canonical trailing bits: one encoding per token.
    URL_SAFE_NO_PAD
        .decode(part)
        .map_err(|_| AssertionError::Invalid("not base64url"))
}

fn decode_json<T: serde::de::DeserializeOwned>(part: &str) -> Result<T, AssertionError> {
    serde_json::from_slice(&decode_b64(part)?).map_err(|_| AssertionError::Invalid("bad JSON"))
}

mod jwks;
mod keys;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_stale;

pub use jwks::Jwks;
use keys::fetch;
pub use keys::{rotate, sealing_context, spawn_refresher};
