//! The configuration as read from the layers, before any check: every key optional where the
//! contract allows it, text keys taking values that look like bools or numbers as written.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::{Environment, LogFormat};

/// The raw, layered configuration as read: every key optional where the contract allows it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawConfig {
    pub env: Environment,
    #[serde(deserialize_with = "text")]
    pub listen: String,
    #[serde(default, deserialize_with = "optional_text")]
    pub public_url: Option<String>,
    /// Production accepts an `http://` public URL on a host other than loopback only with this.
    pub allow_insecure_public_url: bool,
    #[serde(deserialize_with = "path")]
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
    #[serde(default, deserialize_with = "optional_path")]
    pub master_key_file: Option<PathBuf>,
    #[serde(default, deserialize_with = "optional_text")]
    pub master_key_previous: Option<String>,
    pub dependency_timeout_ms: u64,
    /// How long after SIGTERM or SIGINT the process has exited at the latest.
    pub shutdown_grace_secs: u64,
    #[serde(deserialize_with = "text")]
    pub totp_issuer: String,
    pub totp_window: u8,
    /// HOTP look-ahead: codes accepted past the next expected counter.
    pub hotp_window: u32,
    /// HOTP resync look-ahead (two consecutive codes).
    pub hotp_resync_window: u32,
    /// Issuers per tenant: `tenant=Issuer,…`, or a table in `twofold.toml`.
    #[serde(default)]
    pub totp_issuers: Option<super::totp::RawIssuers>,
    /// Display names per tenant (pages, authenticator apps, texts): `tenant=Name,…` or a table.
    #[serde(default)]
    pub tenant_names: Option<super::totp::RawIssuers>,
    /// The hosted pages' language per tenant when the browser asks for none shipped.
    #[serde(default)]
    pub tenant_languages: Option<super::totp::RawIssuers>,
    pub lockout_threshold: u32,
    pub lockout_minutes: u32,
    pub ip_failure_limit: u32,
    pub ip_failure_window_secs: u32,
    pub key_failure_limit: u32,
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
    pub sms_tenant_daily_budget: u64,
    /// The hosted pages' WebAuthn RP ID (a parent domain of the public host); unset: the host.
    #[serde(default, deserialize_with = "optional_text")]
    pub webauthn_rp_id: Option<String>,
    /// `preferred` or `required`, for tenants without a policy of their own.
    #[serde(deserialize_with = "text")]
    pub webauthn_user_verification: String,
    /// Per-tenant security-key policies: a table in `twofold.toml`.
    #[serde(default)]
    pub webauthn_policies:
        Option<std::collections::BTreeMap<String, super::webauthn::RawWebauthnPolicy>>,
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

/// A path that looks like a number (`TWOFOLD_DATA_DIR=2024`) is still a path.
fn path<'de, D: serde::Deserializer<'de>>(d: D) -> Result<PathBuf, D::Error> {
    text(d).map(PathBuf::from)
}

fn optional_path<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<PathBuf>, D::Error> {
    optional_text(d).map(|p| p.map(PathBuf::from))
}

impl Default for RawConfig {
    fn default() -> Self {
        RawConfig {
            env: Environment::Development,
            listen: "127.0.0.1:8080".into(),
            public_url: None,
            allow_insecure_public_url: false,
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
            shutdown_grace_secs: 30,
            totp_issuer: "twofold".into(),
            totp_window: 1,
            hotp_window: crate::factor::hotp::DEFAULT_WINDOW,
            hotp_resync_window: crate::factor::hotp::DEFAULT_RESYNC_WINDOW,
            totp_issuers: None,
            tenant_names: None,
            tenant_languages: None,
            lockout_threshold: 10,
            lockout_minutes: 15,
            ip_failure_limit: 1000,
            ip_failure_window_secs: 600,
            key_failure_limit: 5000,
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
            sms_tenant_daily_budget: 1_000,
            webauthn_rp_id: None,
            webauthn_user_verification: "preferred".into(),
            webauthn_policies: None,
        }
    }
}
