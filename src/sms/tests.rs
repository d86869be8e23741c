//! The transport rule shared by the HTTP gateways (REL-3, REL-4), and test helpers.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tracing::instrument::WithSubscriber;
use url::Url;
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

use super::*;

/// A subscriber that writes every event at every level into a buffer, and a reader of it.
pub(super) fn capture_logs() -> (tracing::Dispatch, impl Fn() -> String) {
    struct Capture(Arc<Mutex<Vec<u8>>>);
    impl std::io::Write for Capture {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let buffer = Arc::new(Mutex::new(Vec::new()));
    let writer = buffer.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_ansi(false)
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || Capture(writer.clone()))
        .finish();
    let read = move || String::from_utf8(buffer.lock().unwrap().clone()).unwrap();
    (tracing::Dispatch::new(subscriber), read)
}

fn message() -> Message {
    Message {
        to: "+15551234567".into(),
        body: "Your code: 246810".into(),
        code: "246810".into(),
    }
}

fn webhook(base: &str, transport: Transport) -> Arc<dyn SmsGateway> {
    let url = Url::parse(&format!("{base}/sms")).unwrap();
    let config = WebhookConfig::new(url, r#"{"to":"{to}","text":"{message}"}"#);
    build(GatewayConfig::Webhook(config), transport).unwrap()
}

/// A port nothing listens on (until a test binds it again).
fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

#[tokio::test]
async fn a_hung_provider_times_out_once_within_the_deadline() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(10)))
        .mount(&server)
        .await;
    let timeout = Duration::from_millis(500);
    let gw = webhook(
        &server.uri(),
        Transport {
            timeout,
            ..Transport::default()
        },
    );
    let started = Instant::now();
    let err = gw.send(&message()).await.unwrap_err();
    let took = started.elapsed();
    assert!(matches!(err, SendError::Timeout), "{err:?}");
    assert!(
        took >= timeout && took < timeout + Duration::from_secs(1),
        "{took:?}"
    );
    assert_eq!(server.received_requests().await.unwrap().len(), 1);
}

#[tokio::test]
async fn a_refused_connection_is_retried_with_backoff_then_unreachable() {
    let port = closed_port();
    let transport = Transport {
        timeout: Duration::from_secs(2),
        connect_retries: 3,
        retry_backoff: Duration::from_millis(50),
    };
    let gw = webhook(&format!("http://127.0.0.1:{port}"), transport);
    let (subscriber, logs) = capture_logs();
    let started = Instant::now();
    let result = gw.send(&message()).with_subscriber(subscriber).await;
    let took = started.elapsed();
    assert!(matches!(result, Err(SendError::Unreachable)), "{result:?}");
    // 50 + 100 + 200 ms of backoff, and connections to a closed local port fail at once.
    assert!(took >= Duration::from_millis(350), "{took:?}");
    assert!(took < Duration::from_secs(2), "{took:?}");
    let logs = logs();
    assert_eq!(logs.matches("retrying").count(), 3, "{logs}");
    assert!(
        !logs.contains("5551234567") && !logs.contains("246810"),
        "{logs}"
    );
}

#[tokio::test]
async fn refused_then_up_delivers_exactly_once() {
    let port = closed_port();
    let transport = Transport {
        timeout: Duration::from_secs(2),
        connect_retries: 3,
        retry_backoff: Duration::from_millis(200),
    };
    let gw = webhook(&format!("http://127.0.0.1:{port}"), transport);
    // Attempts at about 0, 200, 600 and 1400 ms; the provider comes up at 250 ms.
    let provider = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(250)).await;
        let listener = std::net::TcpListener::bind(("127.0.0.1", port)).unwrap();
        let server = MockServer::builder().listener(listener).start().await;
        Mock::given(method("POST"))
            .respond_with(ResponseTemplate::new(200))
            .mount(&server)
            .await;
        server
    });
    let started = Instant::now();
    gw.send(&message()).await.unwrap();
    assert!(
        started.elapsed() >= Duration::from_millis(250),
        "delivered by a retry"
    );
    let server = provider.await.unwrap();
    assert_eq!(server.received_requests().await.unwrap().len(), 1);
}

#[test]
fn worst_case_is_the_timeout_plus_every_backoff() {
    let t = Transport {
        timeout: Duration::from_secs(5),
        connect_retries: 3,
        retry_backoff: Duration::from_millis(200),
    };
    assert_eq!(
        t.worst_case(),
        Duration::from_millis(5000 + 200 + 400 + 800)
    );
    let huge = Transport {
        connect_retries: 10,
        retry_backoff: Duration::MAX,
        ..t
    };
    assert_eq!(huge.worst_case(), Duration::MAX);
}

#[test]
fn bad_transport_is_refused() {
    let outbox = GatewayConfig::Log {
        outbox: std::env::temp_dir().join("unused"),
    };
    for t in [
        Transport {
            timeout: Duration::ZERO,
            ..Transport::default()
        },
        Transport {
            connect_retries: 11,
            ..Transport::default()
        },
    ] {
        assert!(matches!(
            build(outbox.clone(), t),
            Err(SendError::Config(_))
        ));
    }
}

#[test]
fn secrets_stay_out_of_debug_and_errors() {
    let m = message();
    let shown = format!("{m:?}");
    assert!(
        !shown.contains("246810") && !shown.contains("5551234567"),
        "{shown}"
    );
    assert_eq!(redact_number("+15551234567"), "…67");
    assert_eq!(redact_number("7"), "…7");

    let mut webhook = WebhookConfig::new(
        Url::parse("https://user:pw@sms.example/send?token=abc").unwrap(),
        "to={to}&text={message}",
    );
    webhook
        .headers
        .push(("Authorization".into(), "Bearer xyz".into()));
    let shown = format!("{:?}", GatewayConfig::Webhook(webhook));
    for secret in ["abc", "xyz", ":pw@"] {
        assert!(!shown.contains(secret), "{shown}");
    }
    let twilio = TwilioConfig {
        account_sid: "AC1".into(),
        auth_token: "hunter2".into(),
        api_key_sid: None,
        from: Some("+15550001111".into()),
        messaging_service_sid: None,
        base_url: TwilioConfig::default_base_url(),
    };
    assert!(!format!("{twilio:?}").contains("hunter2"));
    let failed = SendError::Failed {
        status: Some(400),
        provider_code: Some("21211".into()),
    };
    assert_eq!(
        failed.to_string(),
        "the SMS provider did not accept the message (status 400, provider code 21211)"
    );
}
