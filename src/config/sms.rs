//! The SMS part of the configuration: gateway, transport, message, countries and limits.

use std::time::Duration;

use url::Url;

use super::{ConfigError, DEFAULT_SMS_TEMPLATE, Environment, RawConfig, SmsConfig, invalid};

impl RawConfig {
    pub(super) fn sms_config(&self) -> Result<SmsConfig, ConfigError> {
        use crate::sms::{GatewayConfig, TwilioConfig, WebhookConfig};
        let need = |key: &'static str, v: &Option<String>| {
            v.clone()
                .filter(|v| !v.is_empty())
                .ok_or_else(|| invalid(key, "must be set for this SMS gateway"))
        };
        let url = |key: &'static str, v: &str| {
            let u = Url::parse(v).map_err(|e| invalid(key, e.to_string()))?;
            if matches!(u.scheme(), "http" | "https") {
                Ok(u)
            } else {
                Err(invalid(
                    key,
                    format!("unknown scheme `{}` (http or https)", u.scheme()),
                ))
            }
        };
        let gateway = match self.sms_gateway.as_str() {
            "log" if self.env == Environment::Production => {
                return Err(invalid(
                    "sms_gateway",
                    "`log` writes whole messages to disk: development only; use webhook or twilio",
                ));
            }
            "log" => GatewayConfig::Log {
                outbox: self.data_dir.join("sms-outbox.log"),
            },
            "webhook" => {
                let target = url(
                    "sms_webhook_url",
                    &need("sms_webhook_url", &self.sms_webhook_url)?,
                )?;
                let mut w =
                    WebhookConfig::new(target, need("sms_webhook_body", &self.sms_webhook_body)?);
                if let Some(m) = &self.sms_webhook_method {
                    w.method = m.to_ascii_uppercase().parse().map_err(|_| {
                        invalid("sms_webhook_method", format!("`{m}` is not a method"))
                    })?;
                }
                if let Some(h) = &self.sms_webhook_headers {
                    let map: std::collections::BTreeMap<String, String> = serde_json::from_str(h)
                        .map_err(|_| {
                        invalid(
                            "sms_webhook_headers",
                            "a JSON object of header names to values",
                        )
                    })?;
                    w.headers = map.into_iter().collect();
                }
                if let Some(list) = &self.sms_webhook_success {
                    let codes = list
                        .split(',')
                        .map(|c| c.trim().parse::<u16>())
                        .collect::<Result<Vec<_>, _>>()
                        .map_err(|_| {
                            invalid(
                                "sms_webhook_success",
                                "a comma-separated list of HTTP statuses",
                            )
                        })?;
                    w.success_statuses = Some(codes);
                }
                GatewayConfig::Webhook(w)
            }
            "twilio" => GatewayConfig::Twilio(TwilioConfig {
                account_sid: need("twilio_account_sid", &self.twilio_account_sid)?,
                auth_token: need("twilio_auth_token", &self.twilio_auth_token)?,
                api_key_sid: self.twilio_api_key_sid.clone(),
                from: self.twilio_from.clone(),
                messaging_service_sid: self.twilio_messaging_service_sid.clone(),
                base_url: match &self.twilio_base_url {
                    Some(u) => url("twilio_base_url", u)?,
                    None => TwilioConfig::default_base_url(),
                },
            }),
            other => {
                return Err(invalid(
                    "sms_gateway",
                    format!("unknown gateway `{other}` (log, webhook or twilio)"),
                ));
            }
        };
        if !(1000..=60_000).contains(&self.sms_timeout_ms) {
            return Err(invalid("sms_timeout_ms", "must be between 1000 and 60000"));
        }
        let template = self
            .sms_template
            .clone()
            .unwrap_or_else(|| DEFAULT_SMS_TEMPLATE.to_string());
        if !template.contains("{code}") {
            return Err(invalid("sms_template", "must contain {code}"));
        }
        let countries = crate::factor::phone::Allowed::parse(&self.sms_countries)
            .map_err(|e| invalid("sms_countries", e))?;
        let limits = SmsLimits {
            per_number_10min: self.sms_per_number_10min,
            per_number_day: self.sms_per_number_day,
            per_prefix_hour: self.sms_per_prefix_hour,
            per_ip_hour: self.sms_per_ip_hour,
            per_user_hour: self.sms_per_user_hour,
            per_country_hour: self.sms_per_country_hour,
            daily_budget: self.sms_daily_budget,
            tenant_daily_budget: self.sms_tenant_daily_budget,
        };
        // A budget of 0 would refuse every message from the first on, with a breaker to show for it.
        for (key, value) in [
            ("sms_daily_budget", self.sms_daily_budget),
            ("sms_tenant_daily_budget", self.sms_tenant_daily_budget),
        ] {
            if value == 0 {
                return Err(invalid(key, "must be positive"));
            }
        }
        Ok(SmsConfig {
            gateway,
            transport: crate::sms::Transport {
                timeout: Duration::from_millis(self.sms_timeout_ms),
                ..crate::sms::Transport::default()
            },
            template,
            countries,
            limits,
        })
    }
}

/// Every send limit; the defaults are those of issue 4.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SmsLimits {
    pub per_number_10min: u64,
    pub per_number_day: u64,
    /// Per number minus its last 4 digits (`Phone::prefix`): pumping through sequential numbers.
    pub per_prefix_hour: u64,
    pub per_ip_hour: u64,
    pub per_user_hour: u64,
    pub per_country_hour: u64,
    /// Messages per UTC day across all tenants; exceeding it trips the breaker.
    pub daily_budget: u64,
    /// Messages per UTC day of each tenant; exceeding it trips that tenant's breaker only. At or
    /// above `daily_budget`, only the global ceiling applies.
    pub tenant_daily_budget: u64,
}

impl Default for SmsLimits {
    fn default() -> SmsLimits {
        SmsLimits {
            per_number_10min: 3,
            per_number_day: 10,
            per_prefix_hour: 20,
            per_ip_hour: 1000,
            per_user_hour: 10,
            per_country_hour: 500,
            daily_budget: 10_000,
            tenant_daily_budget: 1_000,
        }
    }
}
