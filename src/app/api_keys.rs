//! API keys: how relying parties and admins authenticate.
//!
//! A key is shown once, when made; the database keeps only its keyed hash (SEC-26), so a dump of
//! the table authenticates nobody. Keys are looked up by that hash, which is as fast as by id and
//! reveals nothing about other keys.

use chrono::{DateTime, NaiveDateTime, Utc};
use zeroize::Zeroizing;

use crate::audit::{self, Action, Actor, Event};
use crate::crypto::{self, CryptoError, Keys};
use crate::db::models::ApiKeyRow;
use crate::db::{self, Db, DbError};
use crate::error::Error;
use crate::factor::webauthn;

/// Every key starts with this, so leaked keys are easy to grep for in code and logs.
pub const KEY_PREFIX: &str = "tfk_";
const HASH_DOMAIN: &str = "api-key";
/// The tenant of a client key made without `--tenant`.
pub const DEFAULT_TENANT: &str = "default";
const TENANT_RULE: &str = "a tenant is 1 to 64 of A-Z a-z 0-9 . _ -";

/// Why a key could not be made or revoked.
#[derive(Debug, thiserror::Error)]
pub enum ApiKeyError {
    #[error("a key name is 1 to 100 printable characters, without format characters")]
    BadName,
    #[error("a display name is 1 to 64 printable characters, without `:`")]
    BadDisplayName,
    #[error("{TENANT_RULE}")]
    BadTenant,
    #[error("return URL prefix `{prefix}`: {source}")]
    UnparsableReturnUrl {
        prefix: String,
        #[source]
        source: url::ParseError,
    },
    #[error("return URL prefix `{0}` must be an http(s) URL with a host")]
    BadReturnUrl(String),
    #[error("WebAuthn origin {0}")]
    BadWebauthnOrigin(String),
    /// No such key in the caller's reach, or revoked already.
    #[error("not found")]
    NotFound,
    /// A stored row this version cannot read (an unknown role).
    #[error("API key {id}: {reason}")]
    BadRow { id: String, reason: String },
    #[error("cannot make a key")]
    Random(#[from] CryptoError),
    #[error(transparent)]
    Db(#[from] DbError),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// A relying party: acts on the users of its tenant.
    Client,
    /// Also the admin routes; without a tenant, on every tenant.
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Client => "client",
            Role::Admin => "admin",
        }
    }
}

impl std::str::FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Role, String> {
        match s {
            "client" => Ok(Role::Client),
            "admin" => Ok(Role::Admin),
            other => Err(format!("unknown role `{other}` (client or admin)")),
        }
    }
}

/// A key as listed and as attached to an authenticated request; never the key itself.
#[derive(Debug, Clone)]
pub struct ApiKey {
    pub id: String,
    pub name: String,
    pub role: Role,
    /// `null` for an admin key that acts on every tenant.
    pub tenant: Option<String>,
    pub return_url_prefixes: Vec<String>,
    /// Origins where the relying party runs security-key ceremonies on its own pages.
    pub webauthn_origins: Vec<String>,
    /// Their RP ID; `None`: each origin's host.
    pub webauthn_rp_id: Option<String>,
    /// What its hosted pages call the site; `None`: the tenant's name.
    pub display_name: Option<String>,
    pub created_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
}

impl ApiKey {
    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }

    pub fn actor(&self) -> Actor {
        Actor::ApiKey(self.id.clone())
    }

    /// The tenant a request acts in: a key's own tenant, or for an all-tenant admin key the one
    /// named by `?tenant=` (default `default`). A client key never leaves its tenant (SEC-22).
    pub fn tenant_for(&self, requested: Option<&str>) -> Result<String, Error> {
        match (&self.tenant, requested) {
            (Some(own), _) => Ok(own.clone()),
            (None, Some(t)) => {
                validate_tenant(t)?;
                Ok(t.to_string())
            }
            (None, None) => Ok(DEFAULT_TENANT.to_string()),
        }
    }
}

fn utc(t: NaiveDateTime) -> DateTime<Utc> {
    DateTime::from_naive_utc_and_offset(t, Utc)
}

impl TryFrom<ApiKeyRow> for ApiKey {
    type Error = ApiKeyError;
    fn try_from(row: ApiKeyRow) -> Result<ApiKey, ApiKeyError> {
        Ok(ApiKey {
            role: row.role.parse().map_err(|reason| ApiKeyError::BadRow {
                id: row.id.clone(),
                reason,
            })?,
            return_url_prefixes: row
                .return_url_prefixes
                .lines()
                .filter(|l| !l.is_empty())
                .map(str::to_string)
                .collect(),
            webauthn_origins: row
                .webauthn_origins
                .lines()
                .filter(|l| !l.is_empty())
                .map(str::to_string)
                .collect(),
            webauthn_rp_id: row.webauthn_rp_id,
            display_name: row.display_name,
            id: row.id,
            name: row.name,
            tenant: row.tenant,
            created_at: utc(row.created_at),
            revoked_at: row.revoked_at.map(utc),
        })
    }
}

/// What a new key should be.
#[derive(Debug, Clone)]
pub struct NewApiKey {
    pub name: String,
    pub role: Role,
    pub tenant: Option<String>,
    pub return_url_prefixes: Vec<String>,
    /// Origins of the relying party's own pages that run security-key ceremonies.
    pub webauthn_origins: Vec<String>,
    /// The RP ID for those origins: a parent domain of each; `None`: each origin's host.
    pub webauthn_rp_id: Option<String>,
    /// What its hosted pages call the site, where it differs from the tenant's name.
    pub display_name: Option<String>,
}

fn tenant_ok(t: &str) -> bool {
    (1..=64).contains(&t.len())
        && t.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

/// A tenant id: 1–64 of `[A-Za-z0-9._-]`; a bad one is a bad request of any route.
pub fn validate_tenant(t: &str) -> Result<(), Error> {
    if tenant_ok(t) {
        Ok(())
    } else {
        Err(Error::InvalidRequest(TENANT_RULE.into()))
    }
}

impl NewApiKey {
    fn validate(&mut self) -> Result<(), ApiKeyError> {
        let name = self.name.trim();
        if name.is_empty() || name.len() > 100 || !crate::factor::text::is_displayable(name) {
            return Err(ApiKeyError::BadName);
        }
        self.name = name.to_string();
        if let Some(d) = &mut self.display_name {
            *d = crate::factor::text::display_name(d).ok_or(ApiKeyError::BadDisplayName)?;
        }
        if self.tenant.is_none() && self.role == Role::Client {
            self.tenant = Some(DEFAULT_TENANT.to_string());
        }
        if self.tenant.as_deref().is_some_and(|t| !tenant_ok(t)) {
            return Err(ApiKeyError::BadTenant);
        }
        for p in &self.return_url_prefixes {
            let url = url::Url::parse(p).map_err(|source| ApiKeyError::UnparsableReturnUrl {
                prefix: p.clone(),
                source,
            })?;
            if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
                return Err(ApiKeyError::BadReturnUrl(p.clone()));
            }
        }
        for o in &mut self.webauthn_origins {
            *o = webauthn::parse_origin(o).map_err(ApiKeyError::BadWebauthnOrigin)?;
        }
        if let Some(rp_id) = &mut self.webauthn_rp_id {
            *rp_id = rp_id.trim().to_ascii_lowercase();
            if self.webauthn_origins.is_empty() {
                return Err(ApiKeyError::BadWebauthnOrigin(
                    "an RP ID is given with the origins it serves (--webauthn-origin)".into(),
                ));
            }
            for o in &self.webauthn_origins {
                let host = webauthn::origin_host(o).unwrap_or_default();
                if !webauthn::rp_id_covers(rp_id, &host) {
                    return Err(ApiKeyError::BadWebauthnOrigin(format!(
                        "RP ID `{rp_id}` is not the host of {o} nor a parent domain of it"
                    )));
                }
            }
        }
        Ok(())
    }
}

/// Makes a key and records it in the audit trail, in one transaction. Returns the key's record
/// and the key itself, which exists nowhere else from then on.
pub async fn create(
    db: &Db,
    stream: &audit::Stream,
    keys: &Keys,
    now: DateTime<Utc>,
    mut new: NewApiKey,
    actor: Actor,
) -> Result<(ApiKey, Zeroizing<String>), ApiKeyError> {
    new.validate()?;
    let secret = Zeroizing::new(format!(
        "{KEY_PREFIX}{}",
        base64::Engine::encode(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD,
            crypto::random_bytes::<32>()?
        )
    ));
    let row = ApiKeyRow {
        id: crypto::random_id()?,
        name: new.name,
        role: new.role.as_str().to_string(),
        tenant: new.tenant,
        return_url_prefixes: new.return_url_prefixes.join("\n"),
        webauthn_origins: new.webauthn_origins.join("\n"),
        webauthn_rp_id: new.webauthn_rp_id,
        display_name: new.display_name,
        key_hash: keys.hash(HASH_DOMAIN, secret.as_bytes()),
        created_at: now.naive_utc(),
        revoked_at: None,
    };
    let event = Event::new(
        row.tenant.clone().unwrap_or_else(|| "*".into()),
        Action::ApiKeyCreated,
        actor,
    )
    .detail(serde_json::json!({"api_key_id": row.id, "name": row.name, "role": row.role}));
    let stored = row.clone();
    let stream = stream.clone();
    db.run(move |conn| {
        crate::db::write_transaction(conn, |c| {
            db::api_keys::insert(c, &stored)?;
            stream.record(c, now, event)
        })
    })
    .await?;
    Ok((ApiKey::try_from(row)?, secret))
}

/// Whether `presented` can be one of our keys at all: checked before any hash or query.
pub fn well_formed(presented: &str) -> bool {
    presented.starts_with(KEY_PREFIX) && presented.len() <= 128
}

/// The keyed hash a presented key is remembered by in this node's [`KeyCache`].
///
/// [`KeyCache`]: crate::app::key_cache::KeyCache
pub fn cache_hash(keys: &Keys, presented: &str) -> Vec<u8> {
    keys.hash(HASH_DOMAIN, presented.as_bytes())
}

/// Whether the key is still active (one statement): for a key taken from the cache on a path
/// that has no query of its own to check it in.
pub async fn still_active(db: &Db, id: String) -> Result<bool, Error> {
    let row = db.run(move |conn| db::api_keys::find(conn, &id)).await?;
    Ok(row.is_some_and(|r| r.revoked_at.is_none()))
}

/// The active key presented, if any. Unknown, malformed and revoked keys are all `None`.
pub async fn authenticate(db: &Db, keys: &Keys, presented: &str) -> Result<Option<ApiKey>, Error> {
    // Cheap shape check first: garbage never costs a database round trip.
    if !well_formed(presented) {
        return Ok(None);
    }
    let hashes = keys.hashes(HASH_DOMAIN, presented.as_bytes());
    let row = db
        .run(move |conn| db::api_keys::find_by_hash(conn, &hashes))
        .await?;
    match row {
        Some(row) if row.revoked_at.is_none() => {
            Ok(Some(ApiKey::try_from(row).map_err(Error::internal)?))
        }
        _ => Ok(None),
    }
}

pub async fn list(db: &Db, tenant: Option<String>) -> Result<Vec<ApiKey>, Error> {
    let rows = db
        .run(move |conn| db::api_keys::list(conn, tenant.as_deref()))
        .await?;
    rows.into_iter()
        .map(|r| ApiKey::try_from(r).map_err(Error::internal))
        .collect()
}

pub async fn count(db: &Db) -> Result<i64, DbError> {
    db.run(db::api_keys::count).await
}

/// Revokes a key (at once: the next request with it gets 401) and audits it in one transaction.
/// `tenant` limits which keys the caller may revoke; `None` means any. Not found if it does not
/// exist, is outside `tenant`, or was revoked already.
pub async fn revoke(
    db: &Db,
    stream: &audit::Stream,
    now: DateTime<Utc>,
    id: String,
    tenant: Option<String>,
    actor: Actor,
    ip: Option<String>,
) -> Result<(), ApiKeyError> {
    let stream = stream.clone();
    let revoked = db
        .run(move |conn| {
            crate::db::write_transaction(conn, |c| {
                let Some(row) = db::api_keys::find(c, &id)? else {
                    return Ok(false);
                };
                if tenant.is_some() && row.tenant != tenant {
                    return Ok(false);
                }
                if !db::api_keys::revoke(c, &id, now.naive_utc())? {
                    return Ok(false);
                }
                let event = Event::new(
                    row.tenant.unwrap_or_else(|| "*".into()),
                    Action::ApiKeyRevoked,
                    actor,
                )
                .ip(ip)
                .detail(serde_json::json!({"api_key_id": id}));
                stream.record(c, now, event)?;
                Ok(true)
            })
        })
        .await?;
    if revoked {
        Ok(())
    } else {
        Err(ApiKeyError::NotFound)
    }
}
