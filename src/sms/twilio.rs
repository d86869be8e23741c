//! The `twilio` gateway: Programmable Messaging, `POST /2010-04-01/Accounts/{sid}/Messages.json`,
//! form-encoded, basic auth with the account's auth token or an API key.
//!
//! Twilio's error `message` can quote the `To` number, so only its numeric `code` is kept.

use serde::Deserialize;
use url::Url;

use super::{Message, SendError, SendFuture, SmsGateway, Transport, TwilioConfig};

/// Enough for Twilio's error document; more is not read.
const ERROR_BODY_CAP: usize = 16 * 1024;

enum Sender {
    From(String),
    MessagingService(String),
}

pub struct TwilioGateway {
    client: reqwest::Client,
    url: Url,
    user: String,
    password: String,
    sender: Sender,
    transport: Transport,
}

/// The part of Twilio's error answer that is safe to keep.
#[derive(Deserialize)]
struct TwilioError {
    code: Option<serde_json::Value>,
}

/// A provider code as logs may show it: short, and only characters a code has.
fn provider_code(body: &[u8]) -> Option<String> {
    let code = match serde_json::from_slice::<TwilioError>(body).ok()?.code? {
        serde_json::Value::Number(n) => n.to_string(),
        serde_json::Value::String(s) => s,
        _ => return None,
    };
    let plain = !code.is_empty()
        && code.len() <= 32
        && code
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c));
    plain.then_some(code)
}

/// SIDs go into the URL path and the auth header: letters and digits only.
fn sid(what: &str, value: &str) -> Result<String, SendError> {
    if value.is_empty() || !value.chars().all(|c| c.is_ascii_alphanumeric()) {
        return Err(SendError::Config(format!(
            "twilio: {what} must be letters and digits"
        )));
    }
    Ok(value.to_string())
}

impl TwilioGateway {
    pub fn new(config: TwilioConfig, transport: Transport) -> Result<TwilioGateway, SendError> {
        let bad = |what: &str| SendError::Config(format!("twilio: {what}"));
        let account_sid = sid("the account SID", &config.account_sid)?;
        if config.auth_token.is_empty() {
            return Err(bad("the auth token is empty"));
        }
        let sender = match (config.from, config.messaging_service_sid) {
            (Some(from), None) if !from.is_empty() => Sender::From(from),
            (None, Some(service)) => {
                Sender::MessagingService(sid("the messaging service SID", &service)?)
            }
            _ => {
                return Err(bad(
                    "set exactly one of `from` and the messaging service SID",
                ));
            }
        };
        let user = match &config.api_key_sid {
            Some(key) => sid("the API key SID", key)?,
            None => account_sid.clone(),
        };
        if !matches!(config.base_url.scheme(), "http" | "https") {
            return Err(bad("the base URL must be http or https"));
        }
        let mut url = config.base_url;
        url.path_segments_mut()
            .map_err(|_| bad("the base URL cannot take a path"))?
            .pop_if_empty()
            .extend(["2010-04-01", "Accounts", &account_sid, "Messages.json"]);
        Ok(TwilioGateway {
            client: super::http_client(&transport)?,
            url,
            user,
            password: config.auth_token,
            sender,
            transport,
        })
    }

    async fn deliver(&self, msg: &Message) -> Result<(), SendError> {
        let (sender_field, sender) = match &self.sender {
            Sender::From(from) => ("From", from),
            Sender::MessagingService(sid) => ("MessagingServiceSid", sid),
        };
        let form = [
            ("To", msg.to.as_str()),
            (sender_field, sender.as_str()),
            ("Body", msg.body.as_str()),
        ];
        let response = super::send_http(self.name(), &self.transport, || {
            self.client
                .post(self.url.clone())
                .basic_auth(&self.user, Some(&self.password))
                .form(&form)
        })
        .await?;
        let status = response.status().as_u16();
        if matches!(status, 200 | 201) {
            return Ok(());
        }
        let code = provider_code(&super::read_capped(response, ERROR_BODY_CAP).await);
        tracing::warn!(
            gateway = self.name(),
            status,
            provider_code = code.as_deref(),
            "Twilio refused the message"
        );
        Err(SendError::Failed {
            status: Some(status),
            provider_code: code,
        })
    }
}

impl SmsGateway for TwilioGateway {
    fn name(&self) -> &'static str {
        "twilio"
    }

    fn send<'a>(&'a self, msg: &'a Message) -> SendFuture<'a> {
        Box::pin(self.deliver(msg))
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use tracing::instrument::WithSubscriber;
    use wiremock::matchers::{basic_auth, header, method, path};
    use wiremock::{Mock, MockServer, ResponseTemplate};

    use super::*;
    use crate::sms::tests::capture_logs;

    const PATH: &str = "/2010-04-01/Accounts/AC0123abcd/Messages.json";

    fn message() -> Message {
        Message {
            to: "+15551234567".into(),
            body: "Your code: 987654 & more".into(),
            code: "987654".into(),
        }
    }

    fn config(server: &MockServer) -> TwilioConfig {
        TwilioConfig {
            account_sid: "AC0123abcd".into(),
            auth_token: "tok3n".into(),
            api_key_sid: None,
            from: Some("+15550001111".into()),
            messaging_service_sid: None,
            base_url: Url::parse(&server.uri()).unwrap(),
        }
    }

    fn gateway(config: TwilioConfig) -> TwilioGateway {
        let transport = Transport {
            connect_retries: 0,
            ..Transport::default()
        };
        TwilioGateway::new(config, transport).unwrap()
    }

    async fn fields(server: &MockServer) -> BTreeMap<String, String> {
        let received = server.received_requests().await.unwrap();
        assert_eq!(received.len(), 1);
        url::form_urlencoded::parse(&received[0].body)
            .into_owned()
            .collect()
    }

    fn expected(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[tokio::test]
    async fn account_sid_auth_and_from() {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path(PATH))
            .and(basic_auth("AC0123abcd", "tok3n"))
            .and(header("content-type", "application/x-www-form-urlencoded"))
            .respond_with(ResponseTemplate::new(201).set_body_string(r#"{"sid":"SM1"}"#))
            .expect(1)
            .mount(&server)
            .await;
        gateway(config(&server)).send(&message()).await.unwrap();
        let raw = server.received_requests().await.unwrap()[0].body.clone();
        assert_eq!(
            String::from_utf8(raw).unwrap(),
            "To=%2B15551234567&From=%2B15550001111&Body=Your+code%3A+987654+%26+more"
        );
        let want = [
            ("To", "+15551234567"),
            ("From", "+15550001111"),
            ("Body", "Your code: 987654 & more"),
        ];
        assert_eq!(fields(&server).await, expected(&want));
    }

    #[tokio::test]
    async fn api_key_auth_and_messaging_service() {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path(PATH))
            .and(basic_auth("SK99", "tok3n"))
            .respond_with(ResponseTemplate::new(201))
            .expect(1)
            .mount(&server)
            .await;
        let mut c = config(&server);
        c.api_key_sid = Some("SK99".into());
        c.from = None;
        c.messaging_service_sid = Some("MG42".into());
        gateway(c).send(&message()).await.unwrap();
        let want = [
            ("To", "+15551234567"),
            ("MessagingServiceSid", "MG42"),
            ("Body", "Your code: 987654 & more"),
        ];
        assert_eq!(fields(&server).await, expected(&want));
    }

    #[tokio::test]
    async fn error_code_is_mapped_and_nothing_personal_is_logged() {
        let server = MockServer::start().await;
        let answer = serde_json::json!({
            "code": 21211,
            "message": "The 'To' number +15551234567 is not a valid phone number.",
            "more_info": "https://www.twilio.com/docs/errors/21211",
            "status": 400
        });
        Mock::given(method("POST"))
            .respond_with(ResponseTemplate::new(400).set_body_json(answer))
            .mount(&server)
            .await;
        let (subscriber, logs) = capture_logs();
        let gw = gateway(config(&server));
        let err = gw
            .send(&message())
            .with_subscriber(subscriber)
            .await
            .unwrap_err();
        assert!(
            matches!(&err, SendError::Failed { status: Some(400), provider_code: Some(c) } if c == "21211"),
            "{err:?}"
        );
        let logs = logs();
        assert!(logs.contains("21211"), "{logs}");
        for secret in ["5551234567", "987654", "tok3n"] {
            assert!(
                !logs.contains(secret) && !err.to_string().contains(secret),
                "{logs}"
            );
        }
        assert_eq!(server.received_requests().await.unwrap().len(), 1);
    }

    #[tokio::test]
    async fn ok_answer_is_success() {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .respond_with(ResponseTemplate::new(200))
            .mount(&server)
            .await;
        gateway(config(&server)).send(&message()).await.unwrap();
    }

    #[test]
    fn provider_code_keeps_codes_only() {
        assert_eq!(provider_code(br#"{"code":"E-1"}"#), Some("E-1".into()));
        assert_eq!(provider_code(br#"{"code":"+15551234567 bad"}"#), None);
        assert_eq!(provider_code(b"<html>"), None);
    }

    #[test]
    fn bad_settings_are_refused_at_build() {
        let base = TwilioConfig {
            account_sid: "AC1".into(),
            auth_token: "t".into(),
            api_key_sid: None,
            from: Some("+15550001111".into()),
            messaging_service_sid: None,
            base_url: TwilioConfig::default_base_url(),
        };
        let refused: [fn(&mut TwilioConfig); 5] = [
            |c| c.messaging_service_sid = Some("MG1".into()),
            |c| c.from = None,
            |c| c.account_sid = "AC1/../x".into(),
            |c| c.auth_token.clear(),
            |c| c.api_key_sid = Some(String::new()),
        ];
        for f in refused {
            let mut c = base.clone();
            f(&mut c);
            assert!(matches!(
                TwilioGateway::new(c, Transport::default()),
                Err(SendError::Config(_))
            ));
        }
        let gw = TwilioGateway::new(base, Transport::default()).unwrap();
        assert_eq!(
            gw.url.as_str(),
            "https://api.twilio.com/2010-04-01/Accounts/AC1/Messages.json"
        );
    }
}
