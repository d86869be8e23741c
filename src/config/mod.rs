//! Configuration: defaults < `twofold.toml` < `TWOFOLD_*` environment, validated once at start.
//!
//! Every key is flat and named like its environment variable without the prefix, lowercased
//! (`TWOFOLD_DATABASE_URL` ⇔ `database_url`), so the README's one table serves both sources.
//! Unknown keys are refused (`deny_unknown_fields`), and every error names the offending key.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use figment::Figment;
use figment::providers::{Format, Serialized, Toml};
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

/// The raw, layered configuration as read: every key optional where the contract allows it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawConfig {
    pub env: Environment,
    #[serde(deserialize_with = "text")]
    pub listen: String,
    #[serde(default, deserialize_with = "optional_text")]
    pub public_url: Option<String>,
    pub data_dir: PathBuf,
    #[serde(default, deserialize_with = "optional_text")]
    pub database_url: Option<String>,
    pub database_pool_size: u32,
    #[serde(default, deserialize_with = "optional_text")]
    pub redis_url: Option<String>,
    /// Redis Cluster: a comma-separated list of node URLs (any of them; the rest is learned).
    #[serde(default, deserialize_with = "optional_text")]
    pub redis_cluster: Option<String>,
    #[serde(deserialize_with = "text")]
    pub redis_prefix: String,
    pub trust_forwarded_for: bool,
    #[serde(default, deserialize_with = "optional_text")]
    pub master_key: Option<String>,
    pub master_key_file: Option<PathBuf>,
    #[serde(default, deserialize_with = "optional_text")]
    pub master_key_previous: Option<String>,
    pub dependency_timeout_ms: u64,
    #[serde(deserialize_with = "text")]
    pub totp_issuer: String,
    pub totp_window: u8,
    pub lockout_threshold: u32,
    pub lockout_minutes: u32,
    pub ip_failure_limit: u32,
    pub ip_failure_window_secs: u32,
    pub assertion_ttl_secs: u32,
    pub admin_session_minutes: u32,
    #[serde(deserialize_with = "text")]
    pub log: String,
    pub log_format: LogFormat,
    #[serde(deserialize_with = "text")]
    pub sms_gateway: String,
    #[serde(default, deserialize_with = "optional_text")]
    pub sms_webhook_url: Option<String>,
    #[serde(default, deserialize_with = "optional_text")]
    pub sms_webhook_method: Option<String>,
    #[serde(default, deserialize_with = "optional_text")]
    pub sms_webhook_headers: Option<String>,
    #[serde(default, deserialize_with = "optional_text")]
    pub sms_webhook_body: Option<String>,
    #[serde(default, deserialize_with = "optional_text")]
    pub sms_webhook_success: Option<String>,
    #[serde(default, deserialize_with = "optional_text")]
    pub twilio_account_sid: Option<String>,
    #[serde(default, deserialize_with = "optional_text")]
    pub twilio_auth_token: Option<String>,
    #[serde(default, deserialize_with = "optional_text")]
    pub twilio_api_key_sid: Option<String>,
    #[serde(default, deserialize_with = "optional_text")]
    pub twilio_from: Option<String>,
    #[serde(default, deserialize_with = "optional_text")]
    pub twilio_messaging_service_sid: Option<String>,
    #[serde(default, deserialize_with = "optional_text")]
    pub twilio_base_url: Option<String>,
    pub sms_timeout_ms: u64,
    #[serde(default, deserialize_with = "optional_text")]
    pub sms_template: Option<String>,
    #[serde(deserialize_with = "text")]
    pub sms_countries: String,
    pub sms_per_number_10min: u64,
    pub sms_per_number_day: u64,
    pub sms_per_prefix_hour: u64,
    pub sms_per_ip_hour: u64,
    pub sms_per_user_hour: u64,
    pub sms_per_country_hour: u64,
    pub sms_daily_budget: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Text,
    Json,
}

/// Environment values are parsed like TOML scalars, so `TWOFOLD_REDIS_PREFIX=true` or
/// `TWOFOLD_TOTP_ISSUER=2024` arrive as a bool or a number: a text key takes them as written.
fn text<'de, D: serde::Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    struct Text;
    impl serde::de::Visitor<'_> for Text {
        type Value = String;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("text")
        }
        fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<String, E> {
            Ok(v.to_string())
        }
        fn visit_bool<E: serde::de::Error>(self, v: bool) -> Result<String, E> {
            Ok(v.to_string())
        }
        fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<String, E> {
            Ok(v.to_string())
        }
        fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<String, E> {
            Ok(v.to_string())
        }
        fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<String, E> {
            Ok(v.to_string())
        }
    }
    d.deserialize_any(Text)
}

fn optional_text<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    struct OptionalText;
    impl<'de> serde::de::Visitor<'de> for OptionalText {
        type Value = Option<String>;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("text or nothing")
        }
        fn visit_none<E: serde::de::Error>(self) -> Result<Option<String>, E> {
            Ok(None)
        }
        fn visit_unit<E: serde::de::Error>(self) -> Result<Option<String>, E> {
            Ok(None)
        }
        fn visit_some<D: serde::Deserializer<'de>>(self, d: D) -> Result<Option<String>, D::Error> {
            text(d).map(Some)
        }
    }
    d.deserialize_option(OptionalText)
}

impl Default for RawConfig {
    fn default() -> Self {
        RawConfig {
            env: Environment::Development,
            listen: "127.0.0.1:8080".into(),
            public_url: None,
            data_dir: PathBuf::from("./twofold-data"),
            database_url: None,
            database_pool_size: 10,
            redis_url: None,
            redis_cluster: None,
            redis_prefix: "twofold:".into(),
            trust_forwarded_for: false,
            master_key: None,
            master_key_file: None,
            master_key_previous: None,
            dependency_timeout_ms: 2000,
            totp_issuer: "twofold".into(),
            totp_window: 1,
            lockout_threshold: 10,
            lockout_minutes: 15,
            ip_failure_limit: 1000,
            ip_failure_window_secs: 600,
            assertion_ttl_secs: 300,
            admin_session_minutes: 60,
            log: "info".into(),
            log_format: LogFormat::Text,
            sms_gateway: "log".into(),
            sms_webhook_url: None,
            sms_webhook_method: None,
            sms_webhook_headers: None,
            sms_webhook_body: None,
            sms_webhook_success: None,
            twilio_account_sid: None,
            twilio_auth_token: None,
            twilio_api_key_sid: None,
            twilio_from: None,
            twilio_messaging_service_sid: None,
            twilio_base_url: None,
            sms_timeout_ms: 10_000,
            sms_template: None,
            sms_countries: "*".into(),
            sms_per_number_10min: 3,
            sms_per_number_day: 10,
            sms_per_prefix_hour: 20,
            sms_per_ip_hour: 1000,
            sms_per_user_hour: 10,
            sms_per_country_hour: 500,
            sms_daily_budget: 10_000,
        }
    }
}

/// How TOTP codes are checked and labelled.
#[derive(Debug, Clone)]
pub struct TotpPolicy {
    /// Shown in authenticator apps (label prefix and `issuer` parameter).
    pub issuer: String,
    /// Steps accepted either side of the current one (SEC-8: 0..=2).
    pub window: u8,
}

/// When failed attempts lock a user out (SEC-13), and the coarse per-IP failure limit.
#[derive(Debug, Clone, Copy)]
pub struct LockoutPolicy {
    /// Consecutive failures that lock the user.
    pub threshold: u32,
    /// First lock; each further lock doubles it.
    pub base: Duration,
    /// Failures one client IP may cause (across users) per `ip_window`.
    pub ip_limit: u32,
    pub ip_window: Duration,
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
    /// `None`: `http://<bound address>` (see [`Config::public_url_for`]).
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
    pub totp: TotpPolicy,
    pub lockout: LockoutPolicy,
    pub assertion_ttl: Duration,
    /// Lifetime of an `/admin` console session.
    pub admin_session: Duration,
    pub log: String,
    pub log_format: LogFormat,
    pub sms: SmsConfig,
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

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("configuration: {0}")]
    Load(#[from] Box<figment::Error>),
    #[error("configuration key `{key}`: {message}")]
    Invalid { key: &'static str, message: String },
}

fn invalid(key: &'static str, message: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        key,
        message: message.into(),
    }
}

impl Config {
    /// The public base URL: as configured, else derived from the address actually bound (which
    /// differs from `listen` when that asks for port 0).
    pub fn public_url_for(&self, bound: SocketAddr) -> Url {
        self.public_url.clone().unwrap_or_else(|| {
            Url::parse(&format!("http://{bound}")).expect("an address makes a valid URL")
        })
    }

    /// Reads defaults, then the TOML file (if any), then the process environment.
    pub fn load(file: Option<&Path>) -> Result<Config, ConfigError> {
        let env: Vec<(String, String)> = std::env::vars().collect();
        Config::load_from(file, env)
    }

    /// Like [`Config::load`], with the environment given: tests pass their own.
    pub fn load_from(
        file: Option<&Path>,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Config, ConfigError> {
        let mut figment = Figment::from(Serialized::defaults(RawConfig::default()));
        if let Some(path) = file {
            if !path.is_file() {
                return Err(invalid(
                    "config",
                    format!("file {} does not exist", path.display()),
                ));
            }
            figment = figment.merge(Toml::file_exact(path));
        }
        // The environment layer is built from the given pairs (not by figment reading the process
        // environment) so tests stay hermetic; values are parsed the way figment parses env vars.
        let mut vars = figment::value::Dict::new();
        for (k, v) in env {
            let Some(key) = k.strip_prefix(ENV_PREFIX) else {
                continue;
            };
            if NOT_KEYS.contains(&key) || NOT_KEY_PREFIXES.iter().any(|p| key.starts_with(p)) {
                continue;
            }
            let value: figment::value::Value = v.parse().unwrap_or_else(|never| match never {});
            vars.insert(key.to_ascii_lowercase(), value);
        }
        let raw: RawConfig = figment
            .merge(Serialized::globals(vars))
            .extract()
            .map_err(|e| ConfigError::Load(Box::new(e)))?;
        raw.validate()
    }
}

impl RawConfig {
    pub fn validate(self) -> Result<Config, ConfigError> {
        let listen: SocketAddr = self.listen.parse().map_err(|_| {
            invalid(
                "listen",
                format!("`{}` is not an address like 127.0.0.1:8080", self.listen),
            )
        })?;
        let public_url = match &self.public_url {
            Some(u) => Some({
                let url = Url::parse(u).map_err(|e| invalid("public_url", e.to_string()))?;
                if !matches!(url.scheme(), "http" | "https") {
                    return Err(invalid(
                        "public_url",
                        format!("unknown scheme `{}` (http or https)", url.scheme()),
                    ));
                }
                url
            }),
            None => None,
        };
        let database = match &self.database_url {
            None => DatabaseUrl::Sqlite(self.data_dir.join("twofold.db")),
            Some(u) => parse_database_url(u)?,
        };
        if self.database_pool_size == 0 || self.database_pool_size > 512 {
            return Err(invalid("database_pool_size", "must be between 1 and 512"));
        }
        if self.env == Environment::Production && self.public_url.is_none() {
            return Err(invalid(
                "public_url",
                "production needs TWOFOLD_PUBLIC_URL: it is the assertion issuer and the base of links",
            ));
        }
        if tracing_subscriber::EnvFilter::try_new(&self.log).is_err() {
            return Err(invalid(
                "log",
                format!(
                    "`{}` is not a log filter (e.g. info,twofold=debug)",
                    self.log
                ),
            ));
        }
        let redis_scheme = |key: &'static str, u: &str| {
            let scheme = u.split_once("://").map(|(s, _)| s).unwrap_or("");
            if matches!(scheme, "redis" | "rediss") {
                Ok(())
            } else {
                Err(invalid(
                    key,
                    format!("unknown scheme `{scheme}` (redis:// or rediss://)"),
                ))
            }
        };
        let store = match (&self.redis_url, &self.redis_cluster) {
            (Some(_), Some(_)) => {
                return Err(invalid(
                    "redis_cluster",
                    "set redis_url (one Redis) or redis_cluster (a cluster), not both",
                ));
            }
            (None, Some(list)) => {
                let nodes: Vec<String> = list
                    .split(',')
                    .map(str::trim)
                    .filter(|n| !n.is_empty())
                    .map(str::to_string)
                    .collect();
                if nodes.is_empty() {
                    return Err(invalid("redis_cluster", "names no node"));
                }
                for n in &nodes {
                    redis_scheme("redis_cluster", n)?;
                    // A cluster has one database: a `/1` would be refused at every connect.
                    let path = n.split_once("://").map_or("", |(_, rest)| rest);
                    if path.split_once('/').is_some_and(|(_, db)| !db.is_empty()) {
                        return Err(invalid(
                            "redis_cluster",
                            format!("`{n}`: a cluster node URL names no database"),
                        ));
                    }
                }
                StoreUrl::RedisCluster(nodes)
            }
            (url, None) => match url {
                // Counters, locks and single-use markers must be shared by every node.
                None if self.env == Environment::Production => {
                    return Err(invalid(
                        "redis_url",
                        "production needs Redis (redis_url or redis_cluster): the in-process store \
                     is per node, so locks and single use would not hold across nodes",
                    ));
                }
                None => StoreUrl::InProcess,
                Some(u) => {
                    redis_scheme("redis_url", u)?;
                    StoreUrl::Redis(u.clone())
                }
            },
        };
        // Braces would start a hash tag of their own and scatter a subject's keys over slots.
        if self.redis_prefix.is_empty()
            || self.redis_prefix.len() > 64
            || self.redis_prefix.contains(['{', '}'])
        {
            return Err(invalid(
                "redis_prefix",
                "must be 1 to 64 characters, without braces",
            ));
        }
        let master_key = match (&self.master_key, &self.master_key_file) {
            (Some(_), Some(_)) => {
                return Err(invalid(
                    "master_key",
                    "set either master_key or master_key_file, not both",
                ));
            }
            (Some(v), None) => MasterKeySource::Value(v.clone()),
            (None, Some(p)) => MasterKeySource::File(p.clone()),
            (None, None) if self.env == Environment::Production => {
                return Err(invalid(
                    "master_key",
                    "production needs TWOFOLD_MASTER_KEY or TWOFOLD_MASTER_KEY_FILE; \
                     a generated key is for development only",
                ));
            }
            (None, None) => MasterKeySource::Generated(self.data_dir.join("master.key")),
        };
        let issuer = self.totp_issuer.trim();
        if issuer.is_empty() || issuer.len() > 64 || issuer.contains(':') {
            return Err(invalid(
                "totp_issuer",
                "must be 1 to 64 characters without ':'",
            ));
        }
        if self.totp_window > 2 {
            return Err(invalid("totp_window", "must be 0, 1 or 2 steps"));
        }
        if !(3..=100).contains(&self.lockout_threshold) {
            return Err(invalid("lockout_threshold", "must be between 3 and 100"));
        }
        if !(1..=1440).contains(&self.lockout_minutes) {
            return Err(invalid("lockout_minutes", "must be between 1 and 1440"));
        }
        if self.ip_failure_limit == 0 {
            return Err(invalid("ip_failure_limit", "must be positive"));
        }
        if self.ip_failure_window_secs == 0 {
            return Err(invalid("ip_failure_window_secs", "must be positive"));
        }
        if !(30..=300).contains(&self.assertion_ttl_secs) {
            return Err(invalid(
                "assertion_ttl_secs",
                "must be between 30 and 300 (assertions live at most 5 minutes)",
            ));
        }
        if !(5..=720).contains(&self.admin_session_minutes) {
            return Err(invalid(
                "admin_session_minutes",
                "must be between 5 and 720 (12 hours)",
            ));
        }
        let sms = self.sms_config()?;
        let master_key_previous: Vec<String> = self
            .master_key_previous
            .iter()
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_string)
            .collect();
        if !(100..=60_000).contains(&self.dependency_timeout_ms) {
            return Err(invalid(
                "dependency_timeout_ms",
                "must be between 100 and 60000",
            ));
        }
        Ok(Config {
            env: self.env,
            listen,
            public_url,
            trust_forwarded_for: self.trust_forwarded_for,
            data_dir: self.data_dir,
            database,
            database_pool_size: self.database_pool_size,
            store,
            redis_prefix: self.redis_prefix,
            master_key,
            master_key_previous: PreviousKeys(master_key_previous),
            dependency_timeout: Duration::from_millis(self.dependency_timeout_ms),
            totp: TotpPolicy {
                issuer: issuer.to_string(),
                window: self.totp_window,
            },
            lockout: LockoutPolicy {
                threshold: self.lockout_threshold,
                base: Duration::from_secs(u64::from(self.lockout_minutes) * 60),
                ip_limit: self.ip_failure_limit,
                ip_window: Duration::from_secs(u64::from(self.ip_failure_window_secs)),
            },
            assertion_ttl: Duration::from_secs(u64::from(self.assertion_ttl_secs)),
            admin_session: Duration::from_secs(u64::from(self.admin_session_minutes) * 60),
            log: self.log,
            log_format: self.log_format,
            sms,
        })
    }
}

fn parse_database_url(url: &str) -> Result<DatabaseUrl, ConfigError> {
    let Some((scheme, rest)) = url.split_once("://") else {
        return Err(invalid(
            "database_url",
            "expected sqlite://PATH or postgres://…",
        ));
    };
    match scheme {
        "sqlite" if !rest.is_empty() => Ok(DatabaseUrl::Sqlite(PathBuf::from(rest))),
        "sqlite" => Err(invalid("database_url", "sqlite:// needs a file path")),
        "postgres" | "postgresql" => Ok(DatabaseUrl::Postgres(url.to_string())),
        other => Err(invalid(
            "database_url",
            format!("unknown scheme `{other}` (sqlite:// or postgres://)"),
        )),
    }
}

mod sms;
pub use self::sms::SmsLimits;
// The value types of the adapters they configure live with those adapters (which import no
// config); they are named here too, where the settings are.
pub use crate::crypto::MasterKeySource;
pub use crate::db::DatabaseUrl;
#[cfg(test)]
mod tests;
