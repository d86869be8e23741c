//! The `webhook` gateway: one HTTP call per message to a URL the operator configures, with their
//! headers and a body template. Fits most providers without code for each.

use std::borrow::Cow;

use reqwest::Method;
use reqwest::header::{CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue};
use url::Url;
use url::form_urlencoded::byte_serialize;

use super::{Message, SendError, SendFuture, SmsGateway, Transport, WebhookConfig};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Encoding {
    Json,
    Form,
}

impl Encoding {
    fn of(template: &str) -> Encoding {
        if template.trim_start().starts_with('{') {
            Encoding::Json
        } else {
            Encoding::Form
        }
    }

    fn content_type(self) -> &'static str {
        match self {
            Encoding::Json => "application/json",
            Encoding::Form => "application/x-www-form-urlencoded",
        }
    }

    fn escape(self, value: &str) -> Cow<'_, str> {
        match self {
            // A JSON string literal without its quotes: the template supplies them.
            Encoding::Json => {
                let quoted = serde_json::Value::from(value).to_string();
                Cow::Owned(quoted[1..quoted.len() - 1].to_string())
            }
            Encoding::Form => Cow::Owned(byte_serialize(value.as_bytes()).collect()),
        }
    }
}

/// Replaces `{to}`, `{message}` and `{code}` in one pass, so a placeholder inside a value (a
/// message that contains `{code}`) stays text.
fn render(template: &str, encoding: Encoding, msg: &Message) -> String {
    let mut out = String::with_capacity(template.len() + msg.body.len() + 32);
    let mut rest = template;
    while let Some(at) = rest.find('{') {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        let value = [
            ("{to}", &msg.to),
            ("{message}", &msg.body),
            ("{code}", &msg.code),
        ]
        .into_iter()
        .find(|(placeholder, _)| rest.starts_with(placeholder));
        match value {
            Some((placeholder, value)) => {
                out.push_str(&encoding.escape(value));
                rest = &rest[placeholder.len()..];
            }
            None => {
                out.push('{');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// The body without `TWOFOLD_SMS_WEBHOOK_BODY`: JSON, its values JSON-escaped by [`render`].
pub const DEFAULT_JSON_BODY: &str = r#"{"to":"{to}","message":"{message}"}"#;
/// The query of a GET without `TWOFOLD_SMS_WEBHOOK_BODY`, its values percent-encoded.
pub const DEFAULT_QUERY: &str = "to={to}&message={message}";

impl WebhookConfig {
    /// What is sent when the operator gives no template: `to` (E.164) and `message` (the whole
    /// text), as JSON in a POST or PUT body, as the query of a GET.
    pub fn default_body(method: &Method) -> &'static str {
        if *method == Method::GET {
            DEFAULT_QUERY
        } else {
            DEFAULT_JSON_BODY
        }
    }
}

pub struct WebhookGateway {
    client: reqwest::Client,
    url: Url,
    method: Method,
    headers: HeaderMap,
    template: String,
    encoding: Encoding,
    success_statuses: Option<Vec<u16>>,
    transport: Transport,
}

/// The template's encoding, once it is known to carry the message and to fill in correctly.
fn check_template(template: &str, method: &Method) -> Result<Encoding, String> {
    let encoding = Encoding::of(template);
    if *method == Method::GET && encoding == Encoding::Json {
        return Err("a GET sends the template as its query: it cannot be JSON".into());
    }
    if !template.contains("{to}")
        || !(template.contains("{message}") || template.contains("{code}"))
    {
        return Err("the body template needs {to} and {message} or {code}".into());
    }
    if encoding == Encoding::Json {
        let sample = Message {
            to: "+15550000000".into(),
            body: "\"quoted\"\nnext line".into(),
            code: "000000".into(),
        };
        let filled = render(template, encoding, &sample);
        serde_json::from_str::<serde_json::Value>(&filled)
            .map_err(|e| format!("the body template is not JSON once filled in ({e})"))?;
    }
    Ok(encoding)
}

fn header_map(headers: &[(String, String)]) -> Result<HeaderMap, String> {
    let mut map = HeaderMap::new();
    for (name, value) in headers {
        let name = HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| format!("invalid header name `{name}`"))?;
        // The value is likely a credential: errors name the header only, Debug hides it.
        let mut value = HeaderValue::from_str(value)
            .map_err(|_| format!("invalid value for header `{name}`"))?;
        value.set_sensitive(true);
        map.append(name, value);
    }
    Ok(map)
}

impl WebhookGateway {
    pub fn new(config: WebhookConfig, transport: Transport) -> Result<WebhookGateway, SendError> {
        let bad = |what: String| SendError::Config(format!("webhook: {what}"));
        if !matches!(config.url.scheme(), "http" | "https") {
            return Err(bad("the URL must be http or https".into()));
        }
        if ![Method::POST, Method::PUT, Method::GET].contains(&config.method) {
            return Err(bad(format!(
                "method {} (use POST, PUT or GET)",
                config.method
            )));
        }
        let encoding = check_template(&config.body, &config.method).map_err(bad)?;
        if let Some(statuses) = &config.success_statuses
            && (statuses.is_empty() || statuses.iter().any(|s| !(100..=599).contains(s)))
        {
            return Err(bad(
                "success statuses must be a non-empty list of HTTP statuses".into(),
            ));
        }
        let mut headers = header_map(&config.headers).map_err(bad)?;
        // The operator's Content-Type wins: some providers want a vendor type.
        if !headers.contains_key(CONTENT_TYPE) && config.method != Method::GET {
            headers.insert(
                CONTENT_TYPE,
                HeaderValue::from_static(encoding.content_type()),
            );
        }
        Ok(WebhookGateway {
            client: super::http_client(&transport)?,
            url: config.url,
            method: config.method,
            headers,
            template: config.body,
            encoding,
            success_statuses: config.success_statuses,
            transport,
        })
    }

    fn is_success(&self, status: u16) -> bool {
        match &self.success_statuses {
            Some(statuses) => statuses.contains(&status),
            None => (200..300).contains(&status),
        }
    }

    async fn deliver(&self, msg: &Message) -> Result<(), SendError> {
        let rendered = render(&self.template, self.encoding, msg);
        let (url, body) = if self.method == Method::GET {
            let mut url = self.url.clone();
            let query = match url.query() {
                Some(q) if !q.is_empty() => format!("{q}&{rendered}"),
                _ => rendered,
            };
            url.set_query(Some(&query));
            (url, None)
        } else {
            (self.url.clone(), Some(rendered))
        };
        let response = super::send_http(self.name(), &self.transport, || {
            let request = self
                .client
                .request(self.method.clone(), url.clone())
                .headers(self.headers.clone());
            match &body {
                Some(body) => request.body(body.clone()),
                None => request,
            }
        })
        .await?;
        let status = response.status().as_u16();
        if self.is_success(status) {
            return Ok(());
        }
        tracing::warn!(
            gateway = self.name(),
            status,
            "SMS webhook answered non-success"
        );
        Err(SendError::Failed {
            status: Some(status),
            provider_code: None,
        })
    }
}

impl SmsGateway for WebhookGateway {
    fn name(&self) -> &'static str {
        "webhook"
    }

    fn send<'a>(&'a self, msg: &'a Message) -> SendFuture<'a> {
        Box::pin(self.deliver(msg))
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::time::Duration;

    use wiremock::matchers::{header, method, path};
    use wiremock::{Mock, MockServer, ResponseTemplate};

    use super::*;

    fn message() -> Message {
        Message {
            to: "+15551234567".into(),
            body: "Your \"twofold\" code: 123456 {code}\n@example.com #123456".into(),
            code: "123456".into(),
        }
    }

    fn transport() -> Transport {
        Transport {
            timeout: Duration::from_secs(5),
            connect_retries: 0,
            retry_backoff: Duration::from_millis(10),
        }
    }

    fn gateway(server: &MockServer, config: impl FnOnce(&mut WebhookConfig)) -> WebhookGateway {
        let url = Url::parse(&format!("{}/sms", server.uri())).unwrap();
        let mut c = WebhookConfig::new(url, r#"{"to":"{to}","text":"{message}","otp":"{code}"}"#);
        config(&mut c);
        WebhookGateway::new(c, transport()).unwrap()
    }

    fn form(body: &[u8]) -> HashMap<String, String> {
        url::form_urlencoded::parse(body).into_owned().collect()
    }

    #[tokio::test]
    async fn json_template_is_escaped_and_headers_and_method_arrive() {
        let server = MockServer::start().await;
        Mock::given(method("PUT"))
            .and(path("/sms"))
            .and(header("content-type", "application/json"))
            .and(header("authorization", "Bearer s3cret"))
            .and(header("x-tenant", "acme"))
            .respond_with(ResponseTemplate::new(200))
            .expect(1)
            .mount(&server)
            .await;
        let gw = gateway(&server, |c| {
            c.method = Method::PUT;
            c.headers = vec![
                ("Authorization".into(), "Bearer s3cret".into()),
                ("X-Tenant".into(), "acme".into()),
            ];
        });
        gw.send(&message()).await.unwrap();
        let received = server.received_requests().await.unwrap();
        let json: serde_json::Value = received[0].body_json().unwrap();
        let m = message();
        assert_eq!(
            json,
            serde_json::json!({"to": m.to, "text": m.body, "otp": m.code})
        );
    }

    #[tokio::test]
    async fn form_template_is_percent_encoded() {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .and(header("content-type", "application/x-www-form-urlencoded"))
            .respond_with(ResponseTemplate::new(204))
            .mount(&server)
            .await;
        let gw = gateway(&server, |c| {
            c.body = "To={to}&Body={message}&Code={code}".into()
        });
        gw.send(&message()).await.unwrap();
        let received = server.received_requests().await.unwrap();
        let raw = String::from_utf8(received[0].body.clone()).unwrap();
        assert!(
            raw.starts_with("To=%2B15551234567&Body=Your+%22twofold%22"),
            "{raw}"
        );
        let fields = form(&received[0].body);
        assert_eq!(fields.len(), 3);
        assert_eq!(fields["To"], "+15551234567");
        assert_eq!(fields["Body"], message().body);
        assert_eq!(fields["Code"], "123456");
    }

    #[tokio::test]
    async fn get_carries_the_template_as_its_query() {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .respond_with(ResponseTemplate::new(200))
            .mount(&server)
            .await;
        let url = Url::parse(&format!("{}/sms?key=k", server.uri())).unwrap();
        let mut c = WebhookConfig::new(url, "to={to}&text={message}");
        c.method = Method::GET;
        WebhookGateway::new(c, transport())
            .unwrap()
            .send(&message())
            .await
            .unwrap();
        let received = server.received_requests().await.unwrap();
        let query = form(received[0].url.query().unwrap_or_default().as_bytes());
        assert_eq!(query["key"], "k");
        assert_eq!(query["to"], "+15551234567");
        assert_eq!(query["text"], message().body);
        assert!(received[0].body.is_empty());
    }

    #[tokio::test]
    async fn the_default_body_is_json_with_to_and_message() {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path("/sms"))
            .and(header("content-type", "application/json"))
            .respond_with(ResponseTemplate::new(200))
            .expect(1)
            .mount(&server)
            .await;
        let url = Url::parse(&format!("{}/sms", server.uri())).unwrap();
        let body = WebhookConfig::default_body(&Method::POST);
        WebhookGateway::new(WebhookConfig::new(url, body), transport())
            .unwrap()
            .send(&message())
            .await
            .unwrap();
        let received = server.received_requests().await.unwrap();
        // Quotes, braces and the line break of the message arrive intact.
        let json: serde_json::Value = received[0].body_json().unwrap();
        assert_eq!(
            json,
            serde_json::json!({"to": "+15551234567", "message": message().body})
        );
    }

    #[tokio::test]
    async fn the_default_get_query_has_to_and_message() {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .respond_with(ResponseTemplate::new(200))
            .mount(&server)
            .await;
        let url = Url::parse(&format!("{}/sms", server.uri())).unwrap();
        let mut c = WebhookConfig::new(url, WebhookConfig::default_body(&Method::GET));
        c.method = Method::GET;
        WebhookGateway::new(c, transport())
            .unwrap()
            .send(&message())
            .await
            .unwrap();
        let received = server.received_requests().await.unwrap();
        let query = form(received[0].url.query().unwrap_or_default().as_bytes());
        assert_eq!(query.len(), 2, "{query:?}");
        assert_eq!(query["to"], "+15551234567");
        assert_eq!(query["message"], message().body);
    }

    #[tokio::test]
    async fn server_error_fails_once_without_retry() {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .respond_with(ResponseTemplate::new(500))
            .mount(&server)
            .await;
        let gw = gateway(&server, |_| {});
        let err = gw.send(&message()).await.unwrap_err();
        assert!(
            matches!(
                err,
                SendError::Failed {
                    status: Some(500),
                    provider_code: None
                }
            ),
            "{err:?}"
        );
        assert_eq!(server.received_requests().await.unwrap().len(), 1);
        assert!(!err.to_string().contains("4567"));
    }

    #[tokio::test]
    async fn configured_success_statuses_are_honoured() {
        let server = MockServer::start().await;
        Mock::given(path("/sms"))
            .respond_with(ResponseTemplate::new(202))
            .mount(&server)
            .await;
        let only_202 = gateway(&server, |c| c.success_statuses = Some(vec![202]));
        only_202.send(&message()).await.unwrap();
        let only_201 = gateway(&server, |c| c.success_statuses = Some(vec![201]));
        let err = only_201.send(&message()).await.unwrap_err();
        assert!(
            matches!(
                err,
                SendError::Failed {
                    status: Some(202),
                    ..
                }
            ),
            "{err:?}"
        );
    }

    #[test]
    fn bad_settings_are_refused_at_build() {
        let url = Url::parse("http://127.0.0.1:9/sms").unwrap();
        let with = |f: fn(&mut WebhookConfig)| {
            let mut c = WebhookConfig::new(url.clone(), r#"{"to":"{to}","text":"{message}"}"#);
            f(&mut c);
            WebhookGateway::new(c, transport()).err()
        };
        assert!(with(|_| {}).is_none());
        let refused: [fn(&mut WebhookConfig); 7] = [
            |c| c.method = Method::DELETE,
            |c| c.method = Method::GET,
            |c| c.body = r#"{"to":{to},"text":"{message}"}"#.into(),
            |c| c.body = r#"{"text":"{message}"}"#.into(),
            |c| c.headers = vec![("Bad Name".into(), "x".into())],
            |c| c.success_statuses = Some(vec![]),
            |c| c.url = Url::parse("ftp://example.com/").unwrap(),
        ];
        for f in refused {
            assert!(matches!(with(f), Some(SendError::Config(_))));
        }
    }

    #[test]
    fn render_is_single_pass() {
        let m = Message {
            to: "{code}".into(),
            body: "b".into(),
            code: "1".into(),
        };
        assert_eq!(
            render("{x}{to}{code}{", Encoding::Form, &m),
            "{x}%7Bcode%7D1{"
        );
        assert_eq!(
            render(r#"{"a":"{message}"}"#, Encoding::Json, &m),
            r#"{"a":"b"}"#
        );
    }
}
