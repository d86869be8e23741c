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
    #[serde(deserialize_with = "text")]
    pub log: String,
    pub log_format: LogFormat,
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
            log: "info".into(),
            log_format: LogFormat::Text,
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

/// Where durable state lives, decided from the URL scheme (never guessed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    /// A file path for SQLite.
    Sqlite(PathBuf),
    /// A libpq connection URL, kept as given.
    Postgres(String),
}

/// Where ephemeral state lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreUrl {
    InProcess,
    Redis(String),
}

/// Where the master key comes from.
#[derive(Clone)]
pub enum MasterKeySource {
    Value(String),
    File(PathBuf),
    /// Development only: generated into the data dir on first start.
    Generated(PathBuf),
}

impl std::fmt::Debug for MasterKeySource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            MasterKeySource::Value(_) => f.write_str("Value(<redacted>)"),
            MasterKeySource::File(p) => f.debug_tuple("File").field(p).finish(),
            MasterKeySource::Generated(p) => f.debug_tuple("Generated").field(p).finish(),
        }
    }
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
    pub log: String,
    pub log_format: LogFormat,
}

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
        let store = match &self.redis_url {
            // Counters, locks and single-use markers must be shared by every node.
            None if self.env == Environment::Production => {
                return Err(invalid(
                    "redis_url",
                    "production needs Redis: the in-process store is per node, so locks and \
                     single use would not hold across nodes",
                ));
            }
            None => StoreUrl::InProcess,
            Some(u) => {
                let scheme = u.split_once("://").map(|(s, _)| s).unwrap_or("");
                if !matches!(scheme, "redis" | "rediss") {
                    return Err(invalid(
                        "redis_url",
                        format!("unknown scheme `{scheme}` (redis:// or rediss://)"),
                    ));
                }
                StoreUrl::Redis(u.clone())
            }
        };
        if self.redis_prefix.is_empty() || self.redis_prefix.len() > 64 {
            return Err(invalid("redis_prefix", "must be 1 to 64 characters"));
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
            log: self.log,
            log_format: self.log_format,
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

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn defaults_are_the_embedded_development_setup() {
        let c = Config::load_from(None, env(&[])).unwrap();
        assert_eq!(c.listen.to_string(), "127.0.0.1:8080");
        assert_eq!(
            c.public_url_for(c.listen).as_str(),
            "http://127.0.0.1:8080/"
        );
        assert_eq!(
            c.database,
            DatabaseUrl::Sqlite(PathBuf::from("./twofold-data/twofold.db"))
        );
        assert_eq!(c.store, StoreUrl::InProcess);
        assert!(matches!(c.master_key, MasterKeySource::Generated(_)));
    }

    #[test]
    fn environment_overrides_and_unrelated_prefixed_vars_are_ignored() {
        let c = Config::load_from(
            None,
            env(&[
                ("TWOFOLD_LISTEN", "0.0.0.0:9000"),
                ("TWOFOLD_DATABASE_URL", "postgres://u@h/db"),
                ("TWOFOLD_TEST_DATABASE_URL", "whatever"),
                ("TWOFOLD_CONFIG", "/nowhere"),
                ("PATH", "/bin"),
            ]),
        )
        .unwrap();
        assert_eq!(c.listen.port(), 9000);
        assert_eq!(
            c.database,
            DatabaseUrl::Postgres("postgres://u@h/db".into())
        );
    }

    #[test]
    fn unknown_database_scheme_is_refused_by_name() {
        let err = Config::load_from(None, env(&[("TWOFOLD_DATABASE_URL", "mysql://x")]))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("database_url") && err.contains("mysql"),
            "{err}"
        );
    }

    #[test]
    fn unknown_redis_scheme_is_refused() {
        let err = Config::load_from(None, env(&[("TWOFOLD_REDIS_URL", "memcached://x")]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("redis_url"), "{err}");
    }

    #[test]
    fn unknown_env_key_is_refused_by_name() {
        let err = Config::load_from(None, env(&[("TWOFOLD_LISTN", "1.2.3.4:1")]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("listn"), "{err}");
    }

    #[test]
    fn unknown_file_key_is_refused_by_name() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("twofold.toml");
        std::fs::write(&path, "listen = \"127.0.0.1:1\"\nfrobnicate = true\n").unwrap();
        let err = Config::load_from(Some(&path), env(&[]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("frobnicate"), "{err}");
    }

    #[test]
    fn file_then_env_precedence() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("twofold.toml");
        std::fs::write(&path, "listen = \"127.0.0.1:1111\"\nlog = \"debug\"\n").unwrap();
        let c = Config::load_from(Some(&path), env(&[("TWOFOLD_LOG", "warn")])).unwrap();
        assert_eq!(c.listen.port(), 1111);
        assert_eq!(c.log, "warn");
    }

    #[test]
    fn production_needs_redis_and_a_public_url() {
        let base = [
            ("TWOFOLD_ENV", "production"),
            (
                "TWOFOLD_MASTER_KEY",
                "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
            ),
        ];
        let err = Config::load_from(None, env(&base)).unwrap_err().to_string();
        assert!(err.contains("public_url"), "{err}");
        let with_url = [&base[..], &[("TWOFOLD_PUBLIC_URL", "https://mfa.example")]].concat();
        let err = Config::load_from(None, env(&with_url))
            .unwrap_err()
            .to_string();
        assert!(err.contains("redis_url"), "{err}");
        let full = [&with_url[..], &[("TWOFOLD_REDIS_URL", "redis://r:6379")]].concat();
        assert!(Config::load_from(None, env(&full)).is_ok());
    }

    #[test]
    fn a_bad_log_filter_is_refused() {
        let err = Config::load_from(None, env(&[("TWOFOLD_LOG", "info,=x=y")]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("log"), "{err}");
    }

    #[test]
    fn production_refuses_a_generated_master_key() {
        let production = env(&[
            ("TWOFOLD_ENV", "production"),
            ("TWOFOLD_PUBLIC_URL", "https://mfa.example"),
            ("TWOFOLD_REDIS_URL", "redis://r:6379"),
        ]);
        let err = Config::load_from(None, production).unwrap_err().to_string();
        assert!(err.contains("master_key"), "{err}");
    }

    #[test]
    fn text_keys_take_values_that_look_like_other_types() {
        let c = Config::load_from(
            None,
            env(&[
                ("TWOFOLD_REDIS_PREFIX", "true"),
                ("TWOFOLD_TOTP_ISSUER", "2024"),
            ]),
        )
        .unwrap();
        assert_eq!(c.redis_prefix, "true");
        assert_eq!(c.totp.issuer, "2024");
    }

    #[test]
    fn bad_values_name_their_key() {
        let err = Config::load_from(None, env(&[("TWOFOLD_DATABASE_POOL_SIZE", "lots")]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("database_pool_size"), "{err}");
    }
}
