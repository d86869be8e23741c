//! Signed links to the hosted pages (SEC-36): a relying party asks for one, sends its user's
//! browser there, and gets the browser back at its `return_url` with `state` and an assertion.
//!
//! A token is `base64url(claims) "." base64url(MAC)`, the MAC a keyed hash under the master key:
//! nobody without it makes or alters one. It names tenant, user, purpose, the return URL (under a
//! prefix registered on the key that asked: no open redirect), the relying party's `state`, and
//! expires after ten minutes. It is single use: the first browser to open it claims it.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq;

use crate::app::api_keys::ApiKey;
use crate::app::users::Subject;
use crate::crypto::{self, CryptoError, Keys};
use crate::db::Db;
use crate::error::Error;

pub const VALID_FOR: TimeDelta = TimeDelta::minutes(10);
const HASH_DOMAIN: &str = "link-token";
const MAX_STATE: usize = 512;
const MAX_URL: usize = 2048;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Purpose {
    Enroll,
    Verify,
}

impl Purpose {
    pub fn as_str(self) -> &'static str {
        match self {
            Purpose::Enroll => "enroll",
            Purpose::Verify => "verify",
        }
    }
}

/// What a relying party asks a link for.
#[derive(Debug, Clone)]
pub struct LinkRequest {
    pub purpose: Purpose,
    /// Where the browser goes back to; must start with a prefix registered on the API key.
    pub return_url: String,
    /// Handed back unchanged with the assertion.
    pub state: Option<String>,
    /// Enroll: the account name the authenticator app shows (default the user id).
    pub account_name: Option<String>,
}

/// A link made: where to send the browser, and until when it opens.
#[derive(Debug, Clone)]
pub struct Link {
    pub url: String,
    pub expires_at: DateTime<Utc>,
}

/// Why no link was made.
#[derive(Debug, thiserror::Error)]
pub enum LinkError {
    /// `return_url` is not under a prefix registered on the key (or is no plain URL).
    #[error("return_url is not under a prefix registered on this API key")]
    ReturnUrlNotAllowed,
    #[error("state is at most {MAX_STATE} characters")]
    StateTooLong,
    #[error("{0}")]
    BadAccountName(String),
    #[error("cannot make a link nonce")]
    Random(#[from] CryptoError),
    #[error("cannot encode the link's claims")]
    Encode(#[from] serde_json::Error),
    #[error("cannot make the link's URL")]
    Url(#[from] url::ParseError),
}

/// What a token says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// A random id: what single use is kept on.
    pub nonce: String,
    pub tenant: String,
    pub user: String,
    pub purpose: Purpose,
    pub return_url: String,
    pub state: Option<String>,
    /// Enroll: the Key URI's account name. Absent from links made before it existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_name: Option<String>,
    /// Expiry, seconds since the epoch.
    pub exp: i64,
    /// The API key that asked for the link: the pages act on its behalf (and the audit says so).
    pub key_id: String,
    /// That key's display name, when it has one: the pages name the site by it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub site: Option<String>,
}

/// Whether `url` lies under `prefix`: same scheme, host and port, and the path below the
/// prefix's. Compared as parsed URLs, so `https://rp.example.evil.com` is not under
/// `https://rp.example`.
fn under(prefix: &str, url: &url::Url) -> bool {
    let Ok(p) = url::Url::parse(prefix) else {
        return false;
    };
    let (base, path) = (p.path(), url.path());
    // At a segment boundary: `/app` admits `/app` and `/app/…`, not `/application`.
    let below = path == base
        || base.ends_with('/') && path.starts_with(base)
        || path.starts_with(base) && path[base.len()..].starts_with('/');
    // Encoded separators and dots could turn into `..` or `/` at the relying party.
    let lower = path.to_ascii_lowercase();
    let plain = !["%2f", "%5c", "%2e"].iter().any(|e| lower.contains(e));
    p.scheme() == url.scheme()
        && p.host_str() == url.host_str()
        && p.port_or_known_default() == url.port_or_known_default()
        && below
        && plain
}

fn check_return_url(key: &ApiKey, return_url: &str) -> Result<url::Url, LinkError> {
    let url = url::Url::parse(return_url).map_err(|_| LinkError::ReturnUrlNotAllowed)?;
    let plain = url.username().is_empty() && url.password().is_none();
    if return_url.len() > MAX_URL
        || !plain
        || !key.return_url_prefixes.iter().any(|p| under(p, &url))
    {
        return Err(LinkError::ReturnUrlNotAllowed);
    }
    Ok(url)
}

fn mac(keys: &Keys, payload: &str) -> Vec<u8> {
    keys.hash(HASH_DOMAIN, payload.as_bytes())
}

/// Makes a link for `subject` on behalf of `key`.
pub fn create(
    keys: &Keys,
    public_url: &url::Url,
    key: &ApiKey,
    subject: &Subject,
    req: LinkRequest,
    now: DateTime<Utc>,
) -> Result<Link, LinkError> {
    check_return_url(key, &req.return_url)?;
    if req
        .state
        .as_ref()
        .is_some_and(|s| s.chars().count() > MAX_STATE)
    {
        return Err(LinkError::StateTooLong);
    }
    if let Some(account) = &req.account_name {
        if req.purpose != Purpose::Enroll {
            return Err(LinkError::BadAccountName(
                "account_name is for enroll links only".into(),
            ));
        }
        crate::app::factors::totp::validate_account_name(account)
            .map_err(|e| LinkError::BadAccountName(e.to_string()))?;
    }
    let expires_at = now + VALID_FOR;
    let claims = Claims {
        nonce: crypto::random_id()?,
        tenant: subject.tenant.clone(),
        user: subject.user.clone(),
        purpose: req.purpose,
        return_url: req.return_url,
        state: req.state,
        account_name: req.account_name,
        exp: expires_at.timestamp(),
        key_id: key.id.clone(),
        site: key.display_name.clone(),
    };
    let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims)?);
    let token = format!("{payload}.{}", URL_SAFE_NO_PAD.encode(mac(keys, &payload)));
    let url = public_url.join(&format!("{}/{token}", req.purpose.as_str()))?;
    Ok(Link {
        url: url.to_string(),
        expires_at,
    })
}

/// Why a token is refused; each gets its own page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// Not one of ours, altered, or for the other page.
    Invalid,
    Expired,
}

/// The claims of a token for `purpose`, if it is ours, unaltered and unexpired. Says nothing of
/// single use: that is the claim's business.
pub fn open(
    keys: &Keys,
    token: &str,
    purpose: Purpose,
    now: DateTime<Utc>,
) -> Result<Claims, Refused> {
    let (payload, tag) = token.split_once('.').ok_or(Refused::Invalid)?;
    let tag = URL_SAFE_NO_PAD.decode(tag).map_err(|_| Refused::Invalid)?;
    let genuine = keys
        .hashes(HASH_DOMAIN, payload.as_bytes())
        .iter()
        .any(|m| bool::from(m.as_slice().ct_eq(&tag)));
    if !genuine {
        return Err(Refused::Invalid);
    }
    let bytes = URL_SAFE_NO_PAD
        .decode(payload)
        .map_err(|_| Refused::Invalid)?;
    let claims: Claims = serde_json::from_slice(&bytes).map_err(|_| Refused::Invalid)?;
    if claims.purpose != purpose {
        return Err(Refused::Invalid);
    }
    if claims.exp <= now.timestamp() {
        return Err(Refused::Expired);
    }
    Ok(claims)
}

/// Whether the key that asked for a link still stands behind it: not revoked, and (a key of one
/// tenant) of the link's tenant. Asked on every step of a flow, not only at the opening, so a key
/// revoked mid-way ends its flows before they issue an assertion.
pub async fn key_stands(db: &Db, claims: &Claims) -> Result<bool, Error> {
    let id = claims.key_id.clone();
    let row = db.run(move |c| crate::db::api_keys::find(c, &id)).await?;
    Ok(row.is_some_and(|k| k.revoked_at.is_none() && k.tenant.is_none_or(|t| t == claims.tenant)))
}

/// `return_url` with `state` and `assertion` added to its query.
pub fn back_to(claims: &Claims, assertion: &str) -> Result<String, Error> {
    back_with(claims, ("assertion", assertion))
}

/// `return_url` with `state` and `error=cancelled`: the user chose to go back without a second
/// factor (the relying party decides what that means; it carries no assertion).
pub fn cancelled(claims: &Claims) -> Result<String, Error> {
    back_with(claims, ("error", "cancelled"))
}

fn back_with(claims: &Claims, (name, value): (&str, &str)) -> Result<String, Error> {
    let mut url = url::Url::parse(&claims.return_url).map_err(Error::internal)?;
    {
        let mut q = url.query_pairs_mut();
        if let Some(s) = &claims.state {
            q.append_pair("state", s);
        }
        q.append_pair(name, value);
    }
    Ok(url.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn return_urls_must_lie_under_a_prefix() {
        let prefix = "https://rp.example/app/";
        let ok = ["https://rp.example/app/", "https://rp.example/app/done?x=1"];
        let bad = [
            "https://rp.example/other",
            "https://rp.example/app/..%2fadmin",
            "https://rp.example/app/%2E%2E/admin",
            "https://rp.example.evil.com/app/",
            "http://rp.example/app/",
            "https://rp.example:444/app/",
            "https://evil.example/app/",
        ];
        for u in ok {
            assert!(under(prefix, &url::Url::parse(u).unwrap()), "{u}");
        }
        for u in bad {
            assert!(!under(prefix, &url::Url::parse(u).unwrap()), "{u}");
        }
        // A prefix without a path slash does not open the door to other hosts either.
        let bare = "https://rp.example";
        assert!(!under(
            bare,
            &url::Url::parse("https://rp.example.evil.com/").unwrap()
        ));
        // A prefix ends at a segment boundary.
        let app = "https://rp.example/app";
        for (u, ok) in [
            ("https://rp.example/app", true),
            ("https://rp.example/app/cb", true),
            ("https://rp.example/application", false),
            ("https://rp.example/app-admin/x", false),
        ] {
            assert_eq!(under(app, &url::Url::parse(u).unwrap()), ok, "{u}");
        }
    }
}
