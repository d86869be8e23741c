//! Configuration: defaults < `twofold.toml` < `TWOFOLD_*` environment, validated once at start.
//!
//! Every key is flat and named like its environment variable without the prefix, lowercased
//! (`TWOFOLD_DATABASE_URL` ⇔ `database_url`), so the one table of docs/configuration.md serves both sources.
//! Unknown keys are refused with the closest known one, and every problem of a configuration is
//! reported at once, naming the variable as the operator wrote it (see `problems`).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use url::Url;

/// Environment variables with this prefix are configuration keys.
const ENV_PREFIX: &str = "TWOFOLD_";
/// Variables that share the prefix but are not keys: where the file is, and the test harness's.
const NOT_KEYS: &[&str] = &["CONFIG"];
const NOT_KEY_PREFIXES: &[&str] = &["TEST_"];

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Environment {
    Development,
    Production,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Text,
    Json,
}

/// How TOTP codes are checked and labelled.
#[derive(Debug, Clone)]
pub struct TotpPolicy {
    /// Shown in authenticator apps (label prefix and `issuer` parameter).
    pub issuer: String,
    /// Per tenant, instead of `issuer`: the tenant's display name (`TWOFOLD_TENANT_NAMES`, or
    /// the older `TWOFOLD_TOTP_ISSUERS`).
    pub issuers: std::collections::BTreeMap<String, String>,
    /// Steps accepted either side of the current one (SEC-8: 0..=2).
    pub window: u8,
    /// HOTP: counters accepted ahead of the next expected one.
    pub hotp_window: u32,
    /// HOTP: how far a resync (two consecutive codes) looks ahead.
    pub hotp_resync_window: u32,
}

impl TotpPolicy {
    /// The issuer an authenticator app shows for `tenant`'s accounts.
    pub fn issuer_for(&self, tenant: &str) -> &str {
        self.issuers.get(tenant).unwrap_or(&self.issuer)
    }

    /// The tenant's display name, when one is configured.
    pub fn name_of(&self, tenant: &str) -> Option<&str> {
        self.issuers.get(tenant).map(String::as_str)
    }
}

/// When failed attempts lock a user out (SEC-13), and the coarse per-IP failure limit.
#[derive(Debug, Clone, Copy)]
pub struct LockoutPolicy {
    /// Consecutive failures that lock the user.
    pub threshold: u32,
    /// First lock; each further lock doubles it.
    pub base: Duration,
    /// Failures one client IP may cause (across users) per `ip_window`: a browser's address on
    /// the hosted pages, the end user's address (`client_ip`, per tenant) on API calls.
    pub ip_limit: u32,
    pub ip_window: Duration,
    /// Failures one API key may cause per `ip_window` on calls that pass no `client_ip`.
    pub key_limit: u32,
}

/// Where ephemeral state lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreUrl {
    InProcess,
    Redis(String),
    /// Redis Cluster nodes.
    RedisCluster(Vec<String>),
}

/// Earlier master keys; never shown by `Debug`.
#[derive(Clone, Default)]
pub struct PreviousKeys(pub Vec<String>);

impl std::fmt::Debug for PreviousKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PreviousKeys(<{} redacted>)", self.0.len())
    }
}

/// The validated configuration the application runs with.
#[derive(Debug, Clone)]
pub struct Config {
    pub env: Environment,
    pub listen: SocketAddr,
    /// `None`: `http://<bound address>` (see [`Config::public_url_for`]). Normalised: http or
    /// https, host lowercased, no user info, query or fragment, and a path ending in `/` so
    /// links join under it; [`public_url_text`] is the form shown and signed.
    pub public_url: Option<Url>,
    /// Take the client IP from the last `X-Forwarded-For` entry (set only behind a proxy you run).
    pub trust_forwarded_for: bool,
    pub data_dir: PathBuf,
    pub database: DatabaseUrl,
    pub database_pool_size: u32,
    pub store: StoreUrl,
    pub redis_prefix: String,
    pub master_key: MasterKeySource,
    /// Earlier master keys (base64): opened, never sealed with; `keys rotate` re-wraps their rows.
    pub master_key_previous: PreviousKeys,
    pub dependency_timeout: Duration,
    /// SIGTERM or SIGINT to exit, at most: requests in flight, then the queued audit events.
    pub shutdown_grace: Duration,
    pub totp: TotpPolicy,
    /// The hosted pages' language per tenant, when the browser asks for none shipped.
    pub tenant_languages: std::collections::BTreeMap<String, String>,
    pub lockout: LockoutPolicy,
    pub assertion_ttl: Duration,
    /// Lifetime of an `/admin` console session.
    pub admin_session: Duration,
    pub log: String,
    pub log_format: LogFormat,
    pub sms: SmsConfig,
    /// Security keys: the hosted pages' RP ID and the policy per tenant.
    pub webauthn: WebauthnSettings,
}

/// SMS: which gateway, how to reach it, what to say, where, and how much.
#[derive(Debug, Clone)]
pub struct SmsConfig {
    pub gateway: crate::sms::GatewayConfig,
    pub transport: crate::sms::Transport,
    /// `{issuer}`, `{code}` and `{host}` are filled in.
    pub template: String,
    pub countries: crate::factor::phone::Allowed,
    pub limits: SmsLimits,
}

/// The default message: the code for people, then the WebOTP line (`@host #code`) so browsers
/// can offer it for autofill on the page of that host.
pub const DEFAULT_SMS_TEMPLATE: &str = "{issuer} code: {code}\n\n@{host} #{code}";

/// The public URL as shown and as the assertion issuer (`iss`): without the trailing slash that
/// the base of links keeps (`https://mfa.example`, `https://example.com/mfa`).
pub fn public_url_text(url: &Url) -> &str {
    url.as_str().trim_end_matches('/')
}

impl Config {
    /// The public base URL: as configured, else derived from the address actually bound (which
    /// differs from `listen` when that asks for port 0).
    pub fn public_url_for(&self, bound: SocketAddr) -> Url {
        #[expect(
            clippy::expect_used,
            reason = "http:// and a socket address make a valid URL"
        )]
        self.public_url.clone().unwrap_or_else(|| {
            Url::parse(&format!("http://{bound}")).expect("an address makes a valid URL")
        })
    }
}

mod load;
mod problems;
mod raw;
mod redis_url;
mod sms;
mod totp;
mod validate;
mod webauthn;
pub use self::problems::{ConfigError, Problem, env_name};
pub use self::raw::RawConfig;
pub use self::sms::SmsLimits;
pub use self::totp::RawIssuers;
pub use self::webauthn::{RawWebauthnPolicy, WebauthnPolicy, WebauthnSettings};
// The value types of the adapters they configure live with those adapters (which import no
// config); they are named here too, where the settings are.
pub use crate::crypto::MasterKeySource;
pub use crate::db::DatabaseUrl;
#[cfg(test)]
mod problem_tests;
#[cfg(test)]
mod tests;
