//! The SMS part of the configuration: gateway, transport, message, countries and limits.

use std::time::Duration;

use url::Url;

use super::problems::{Problem, Problems};
use super::{ConfigError, DEFAULT_SMS_TEMPLATE, Environment, RawConfig, SmsConfig};
use crate::sms::{GatewayConfig, TwilioConfig, WebhookConfig};

impl RawConfig {
    /// The SMS settings, or every problem with them.
    pub(super) fn sms_config(&self) -> Result<SmsConfig, ConfigError> {
        let mut problems = Problems::default();
        let gateway = self.gateway(&mut problems);
        if !(1000..=60_000).contains(&self.sms_timeout_ms) {
            problems.refuse("sms_timeout_ms", "expects a number from 1000 to 60000");
        }
        let template = self
            .sms_template
            .clone()
            .unwrap_or_else(|| DEFAULT_SMS_TEMPLATE.to_string());
        if !template.contains("{code}") {
            problems.refuse("sms_template", "expects a message that contains {code}");
        }
        let countries = problems.take(
            crate::factor::phone::Allowed::parse(&self.sms_countries)
                .map_err(|e| Problem::refused("sms_countries", e)),
        );
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
                problems.refuse(key, "expects a positive number");
            }
        }
        let (gateway, countries) = problems.finish((|| Some((gateway?, countries?)))())?;
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

    fn gateway(&self, problems: &mut Problems) -> Option<GatewayConfig> {
        match self.sms_gateway.as_str() {
            "log" if self.env == Environment::Production => {
                problems.refuse(
                    "sms_gateway",
                    "`log` writes whole messages to disk and is for development only; production \
                     needs webhook or twilio",
                );
                None
            }
            "log" => Some(GatewayConfig::Log {
                outbox: self.data_dir.join("sms-outbox.log"),
            }),
            "webhook" => self.webhook(problems).map(GatewayConfig::Webhook),
            "twilio" => {
                let account_sid =
                    problems.take(need("twilio_account_sid", &self.twilio_account_sid));
                let auth_token = problems.take(need("twilio_auth_token", &self.twilio_auth_token));
                let base_url = match &self.twilio_base_url {
                    Some(u) => problems.take(http_url("twilio_base_url", u)),
                    None => Some(TwilioConfig::default_base_url()),
                };
                Some(GatewayConfig::Twilio(TwilioConfig {
                    account_sid: account_sid?,
                    auth_token: auth_token?,
                    api_key_sid: self.twilio_api_key_sid.clone(),
                    from: self.twilio_from.clone(),
                    messaging_service_sid: self.twilio_messaging_service_sid.clone(),
                    base_url: base_url?,
                }))
            }
            other => {
                problems.refuse(
                    "sms_gateway",
                    format!("expects log, webhook or twilio, not `{other}`"),
                );
                None
            }
        }
    }

    fn webhook(&self, problems: &mut Problems) -> Option<WebhookConfig> {
        let target = problems.take(
            need("sms_webhook_url", &self.sms_webhook_url)
                .and_then(|u| http_url("sms_webhook_url", &u)),
        );
        // The method is kept as text here: the HTTP types belong to the gateway.
        let method = match &self.sms_webhook_method {
            None => Some("POST".to_string()),
            Some(m) => {
                let upper = m.to_ascii_uppercase();
                problems.take(if matches!(upper.as_str(), "POST" | "PUT" | "GET") {
                    Ok(upper)
                } else {
                    Err(Problem::refused(
                        "sms_webhook_method",
                        format!("expects POST, PUT or GET, not `{m}`"),
                    ))
                })
            }
        };
        let headers = match &self.sms_webhook_headers {
            None => Some(Vec::new()),
            Some(h) => problems.take(
                serde_json::from_str::<std::collections::BTreeMap<String, String>>(h)
                    .map(|map| map.into_iter().collect())
                    .map_err(|_| {
                        Problem::refused(
                            "sms_webhook_headers",
                            "expects a JSON object of header names to values",
                        )
                    }),
            ),
        };
        let success_statuses = match &self.sms_webhook_success {
            None => Some(None),
            Some(list) => problems.take(
                list.split(',')
                    .map(|c| c.trim().parse::<u16>())
                    .collect::<Result<Vec<_>, _>>()
                    .map(Some)
                    .map_err(|_| {
                        Problem::refused(
                            "sms_webhook_success",
                            "expects a comma-separated list of HTTP statuses",
                        )
                    }),
            ),
        };
        let mut w = WebhookConfig::new(target?, String::new());
        w.method = method?.parse().ok()?;
        // Without a body of their own, operators get the documented default for the method.
        w.body = match &self.sms_webhook_body {
            Some(b) if !b.is_empty() => b.clone(),
            _ => WebhookConfig::default_body(&w.method).to_string(),
        };
        w.headers = headers?;
        w.success_statuses = success_statuses?;
        Some(w)
    }
}

fn need(key: &str, v: &Option<String>) -> Result<String, Problem> {
    v.clone()
        .filter(|v| !v.is_empty())
        .ok_or_else(|| Problem::refused(key, "must be set for this SMS gateway"))
}

fn http_url(key: &str, v: &str) -> Result<Url, Problem> {
    // The value is not repeated: a webhook URL may carry a token.
    let u =
        Url::parse(v).map_err(|_| Problem::refused(key, "expects an http:// or https:// URL"))?;
    if matches!(u.scheme(), "http" | "https") {
        Ok(u)
    } else {
        Err(Problem::refused(
            key,
            format!(
                "expects an http:// or https:// URL, not `{}://`",
                u.scheme()
            ),
        ))
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
