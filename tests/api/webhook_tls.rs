//! An `https://` SMS webhook: the node trusts the gateway's certificate through the system roots
//! (here a private CA given by `SSL_CERT_FILE`, as for `rediss://`), and a certificate it cannot
//! trust fails the send (502 `sms_failed`) without a word of the message leaving in clear.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::json;

use crate::helpers::assert_error;
use crate::nodes::{Cluster, post};
use crate::redis_tls::certificates;

/// `openssl s_server -www`: answers any GET with `200 ok` and a status page.
struct TlsGateway {
    port: u16,
    child: Child,
}

impl Drop for TlsGateway {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl TlsGateway {
    fn start(dir: &Path) -> TlsGateway {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new("openssl")
            .args(["s_server", "-quiet", "-www", "-accept"])
            .arg(format!("127.0.0.1:{port}"))
            .args(["-cert", "srv.pem", "-key", "srv.key"])
            .current_dir(dir)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("openssl must be installed for this test (.ci/run installs it)");
        let until = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < until, "openssl s_server did not start");
            std::thread::sleep(Duration::from_millis(20));
        }
        TlsGateway { port, child }
    }
}

#[tokio::test]
async fn an_https_webhook_with_a_trusted_certificate_sends_and_an_untrusted_one_fails() {
    let certs = tempfile::tempdir().unwrap();
    certificates(certs.path());
    let gateway = TlsGateway::start(certs.path());
    let cluster = Cluster::new();
    let key = cluster.client_key();
    let webhook = [
        ("TWOFOLD_SMS_GATEWAY", "webhook".to_string()),
        (
            "TWOFOLD_SMS_WEBHOOK_URL",
            format!("https://127.0.0.1:{}/sms", gateway.port),
        ),
        ("TWOFOLD_SMS_WEBHOOK_METHOD", "GET".to_string()),
        (
            "TWOFOLD_SMS_WEBHOOK_BODY",
            "to={to}&text={message}".to_string(),
        ),
    ];
    let ca = certs.path().join("ca.pem").to_string_lossy().into_owned();

    let mut trusting_env = webhook.to_vec();
    trusting_env.push(("SSL_CERT_FILE", ca));
    let trusting = cluster.node(&trusting_env).await;
    let enroll = json!({"phone": "+33612345678"});
    let res = post(&trusting, &key, "/v1/users/dave/devices/sms", enroll).await;
    assert_eq!(res.status(), 201, "sent over TLS: {}", trusting.log());

    let doubting = cluster.node(&webhook).await;
    let enroll = json!({"phone": "+33612345679"});
    let res = post(&doubting, &key, "/v1/users/erin/devices/sms", enroll).await;
    assert_error(res, 502, "sms_failed").await;
}
