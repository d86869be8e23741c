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
mod tests;
