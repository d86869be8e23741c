//! SMS gateways: one trait, three implementations chosen by config (`log`, `webhook`, `twilio`).
//!
//! Sending an SMS is not idempotent: a provider that answered, or may have received the request,
//! could already have sent the message, so a resend could text the user twice and cost twice
//! (REL-4). The one failure worth retrying is a connection that never opened; [`send_http`] holds
//! that rule for both HTTP gateways. Every call has a deadline (REL-3): the client's timeout per
//! attempt, and [`Transport::worst_case`] for the whole send, retries included.
//!
//! A message's number, body and code go to the provider (or the development outbox) and nowhere
//! else: errors and log lines name the gateway, the status and the provider's error code, and a
//! number only as its last two digits ([`redact_number`]) (SEC-26).

use std::fmt;
use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;
use url::Url;

mod log;
mod twilio;
mod webhook;

pub use self::log::{LogGateway, build_log};
pub use self::twilio::TwilioGateway;
pub use self::webhook::WebhookGateway;

/// One message to send. `to` is E.164 (already validated by the caller); `code` is also given
/// separately for templates that need it.
// No PartialEq outside tests: comparing codes belongs to verify's constant-time check.
#[derive(Clone)]
#[cfg_attr(test, derive(PartialEq, Eq))]
pub struct Message {
    pub to: String,
    pub body: String,
    pub code: String,
}

// A derived Debug would print the code and the number into any log line that formats a Message.
impl fmt::Debug for Message {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Message")
            .field("to", &redact_number(&self.to))
            .field("body", &"<redacted>")
            .field("code", &"<redacted>")
            .finish()
    }
}

/// A number as logs may show it: its last two digits only.
pub fn redact_number(to: &str) -> String {
    let digits: Vec<char> = to.chars().filter(char::is_ascii_digit).collect();
    let tail: String = digits[digits.len().saturating_sub(2)..].iter().collect();
    format!("…{tail}")
}

#[derive(Debug, thiserror::Error)]
pub enum SendError {
    /// The provider answered non-success, or the request may have reached it before the call
    /// broke: NOT retried (sending is not idempotent, REL-4).
    #[error("the SMS provider did not accept the message ({})", failure(.status, .provider_code))]
    Failed {
        status: Option<u16>,
        provider_code: Option<String>,
    },
    /// No answer within the deadline: NOT retried, the provider may still send it.
    #[error("the SMS provider did not answer in time")]
    Timeout,
    /// The connection was refused every time (after bounded retries with backoff).
    #[error("the SMS provider could not be reached")]
    Unreachable,
    #[error("SMS gateway: {0}")]
    Config(String),
}

fn failure(status: &Option<u16>, provider_code: &Option<String>) -> String {
    let status = status.map_or("no status".to_string(), |s| format!("status {s}"));
    match provider_code {
        Some(code) => format!("{status}, provider code {code}"),
        None => status,
    }
}

impl SendError {
    /// A stable label for metrics and logs.
    pub fn kind(&self) -> &'static str {
        match self {
            SendError::Failed { .. } => "failed",
            SendError::Timeout => "timeout",
            SendError::Unreachable => "unreachable",
            SendError::Config(_) => "config",
        }
    }
}

/// What every gateway's `send` returns: a boxed future, so the trait stays object safe without
/// the async-trait crate.
pub type SendFuture<'a> = Pin<Box<dyn Future<Output = Result<(), SendError>> + Send + 'a>>;

pub trait SmsGateway: Send + Sync {
    /// `log`, `webhook` or `twilio`: for metrics and logs.
    fn name(&self) -> &'static str;
    fn send<'a>(&'a self, msg: &'a Message) -> SendFuture<'a>;
}

#[derive(Clone, Debug)]
pub enum GatewayConfig {
    /// Development only: whole messages go to `outbox` (mode 0600), logs get a redacted line.
    Log {
        outbox: PathBuf,
    },
    Webhook(WebhookConfig),
    Twilio(TwilioConfig),
}

#[derive(Clone)]
pub struct WebhookConfig {
    pub url: Url,
    /// POST (default), PUT or GET; a GET carries the rendered (form) template as its query.
    pub method: reqwest::Method,
    /// Sent as given (typically the provider's auth); never shown by `Debug`.
    pub headers: Vec<(String, String)>,
    /// Template with `{to}`, `{message}`, `{code}`. If it starts with `{` it is JSON and values
    /// are JSON-escaped (so placeholders belong inside quotes); else form-urlencoded and values are
    /// percent-encoded.
    pub body: String,
    /// `None` = any 2xx.
    pub success_statuses: Option<Vec<u16>>,
}

impl WebhookConfig {
    /// POST, no extra headers, success = any 2xx.
    pub fn new(url: Url, body: impl Into<String>) -> WebhookConfig {
        WebhookConfig {
            url,
            method: reqwest::Method::POST,
            headers: Vec::new(),
            body: body.into(),
            success_statuses: None,
        }
    }
}

// Header values are credentials, and a webhook URL's query may hold a token too.
impl fmt::Debug for WebhookConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.headers.iter().map(|(n, _)| n.as_str()).collect();
        f.debug_struct("WebhookConfig")
            .field("url", &redact_url(&self.url))
            .field("method", &self.method)
            .field("headers", &names)
            .field("body", &self.body)
            .field("success_statuses", &self.success_statuses)
            .finish()
    }
}

#[derive(Clone)]
pub struct TwilioConfig {
    pub account_sid: String,
    /// The account's auth token, or the API key's secret when `api_key_sid` is set.
    pub auth_token: String,
    /// If set, basic auth is `api_key_sid:auth_token`; else `account_sid:auth_token`.
    pub api_key_sid: Option<String>,
    /// Exactly one of `from` and `messaging_service_sid`.
    pub from: Option<String>,
    pub messaging_service_sid: Option<String>,
    /// [`TwilioConfig::DEFAULT_BASE_URL`]; overridable for tests.
    pub base_url: Url,
}

impl TwilioConfig {
    pub const DEFAULT_BASE_URL: &'static str = "https://api.twilio.com";

    pub fn default_base_url() -> Url {
        #[expect(clippy::expect_used, reason = "a constant, valid URL")]
        Url::parse(Self::DEFAULT_BASE_URL).expect("a constant, valid URL")
    }
}

impl fmt::Debug for TwilioConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TwilioConfig")
            .field("account_sid", &self.account_sid)
            .field("auth_token", &"<redacted>")
            .field("api_key_sid", &self.api_key_sid)
            .field("from", &self.from)
            .field("messaging_service_sid", &self.messaging_service_sid)
            .field("base_url", &self.base_url.as_str())
            .finish()
    }
}

fn redact_url(url: &Url) -> String {
    let mut shown = url.clone();
    if shown.query().is_some() {
        shown.set_query(Some("<redacted>"));
    }
    let _ = shown.set_password(None);
    shown.to_string()
}

/// How HTTP gateways talk to their provider.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Transport {
    /// Per attempt, from connect to the last byte of the answer.
    pub timeout: Duration,
    /// Further attempts after a refused connection.
    pub connect_retries: u32,
    /// Wait before the first retry; doubles for each next one.
    pub retry_backoff: Duration,
}

impl Default for Transport {
    fn default() -> Self {
        Transport {
            timeout: Duration::from_secs(10),
            connect_retries: 3,
            retry_backoff: Duration::from_millis(200),
        }
    }
}

/// More retries than this would only delay the 502 the caller owes its client.
const MAX_CONNECT_RETRIES: u32 = 10;
/// A provider that takes longer than this to accept a connection is treated as hung.
const MAX_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

impl Transport {
    /// The longest one `send` can take: the timeout plus every backoff. `send_http` enforces it.
    pub fn worst_case(&self) -> Duration {
        self.timeout.saturating_add(self.backoff_total())
    }

    fn backoff_total(&self) -> Duration {
        (0..self.connect_retries).fold(Duration::ZERO, |sum, n| {
            sum.saturating_add(backoff(self.retry_backoff, n))
        })
    }

    fn validate(&self) -> Result<(), SendError> {
        if self.timeout.is_zero() {
            return Err(SendError::Config("the timeout must be above zero".into()));
        }
        if self.connect_retries > MAX_CONNECT_RETRIES {
            return Err(SendError::Config(format!(
                "at most {MAX_CONNECT_RETRIES} connect retries"
            )));
        }
        Ok(())
    }
}

fn backoff(first: Duration, retry: u32) -> Duration {
    first.saturating_mul(2u32.saturating_pow(retry))
}

/// Builds the configured gateway; a bad setting is an error here, at start, not at the first send.
pub fn build(
    config: GatewayConfig,
    transport: Transport,
) -> Result<Arc<dyn SmsGateway>, SendError> {
    transport.validate()?;
    Ok(match config {
        GatewayConfig::Log { outbox } => {
            let gateway = build_log(outbox);
            gateway.prepare()?;
            gateway
        }
        GatewayConfig::Webhook(c) => Arc::new(WebhookGateway::new(c, transport)?),
        GatewayConfig::Twilio(c) => Arc::new(TwilioGateway::new(c, transport)?),
    })
}

/// The one HTTP client of a gateway: per-attempt timeout, no redirects (a redirect would carry the
/// message, and any auth header, somewhere the operator did not configure).
fn http_client(transport: &Transport) -> Result<reqwest::Client, SendError> {
    reqwest::Client::builder()
        .timeout(transport.timeout)
        .connect_timeout(transport.timeout.min(MAX_CONNECT_TIMEOUT))
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("twofold/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| SendError::Config(format!("HTTP client: {}", causes(&e))))
}

/// Sends the request `make` builds and returns whatever the provider answered.
///
/// A connection that could not be opened is retried with doubling backoff, up to
/// `connect_retries` times: the request never left, so a retry cannot send twice. Anything else is
/// final: a timeout (the provider may be sending it right now; a connect that timed out counts
/// too, as waiting again would break the deadline), a broken exchange, and any answer.
async fn send_http(
    gateway: &'static str,
    transport: &Transport,
    make: impl Fn() -> reqwest::RequestBuilder,
) -> Result<reqwest::Response, SendError> {
    let deadline = Instant::now() + transport.worst_case();
    let mut retry = 0;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let error = match make().timeout(transport.timeout.min(left)).send().await {
            Ok(response) => return Ok(response),
            Err(e) => e.without_url(),
        };
        if error.is_timeout() {
            tracing::warn!(gateway, error = %causes(&error), "SMS provider timed out; not retried");
            return Err(SendError::Timeout);
        }
        if !error.is_connect() {
            tracing::warn!(gateway, error = %causes(&error), "SMS request failed; not retried");
            return Err(SendError::Failed {
                status: None,
                provider_code: None,
            });
        }
        if retry == transport.connect_retries {
            tracing::warn!(gateway, attempts = retry + 1, error = %causes(&error),
                "SMS provider unreachable");
            return Err(SendError::Unreachable);
        }
        let wait = backoff(transport.retry_backoff, retry);
        retry += 1;
        tracing::info!(gateway, retry, wait_ms = u64::try_from(wait.as_millis()).unwrap_or(u64::MAX), error = %causes(&error),
            "SMS provider refused the connection; retrying");
        tokio::time::sleep(wait).await;
    }
}

/// An error and its sources on one line: reqwest's own text says little ("error sending request").
fn causes(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(e) = source {
        text.push_str(": ");
        text.push_str(&e.to_string());
        source = e.source();
    }
    text
}

/// Up to `cap` bytes of an answer's body: enough for an error document, never a flood. A body
/// that breaks off gives what arrived.
async fn read_capped(mut response: reqwest::Response, cap: usize) -> Vec<u8> {
    let mut body = Vec::new();
    while body.len() < cap {
        match response.chunk().await {
            Ok(Some(chunk)) => body.extend_from_slice(&chunk[..chunk.len().min(cap - body.len())]),
            Ok(None) | Err(_) => break,
        }
    }
    body
}

#[cfg(test)]
mod tests;
