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
