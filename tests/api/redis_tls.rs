//! `rediss://`: a node reaches Redis over TLS, trusting the server's certificate through the
//! system roots (here a private CA given by `SSL_CERT_FILE`), and fails closed on a certificate
//! it cannot trust.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::helpers::base32_decode;
use crate::nodes::{Cluster, code, post};

/// A private CA and a server certificate for 127.0.0.1 it signed, made with the openssl CLI.
pub(crate) fn certificates(dir: &Path) {
    let run = |args: &[&str]| {
        let out = Command::new("openssl")
            .args(args)
            .current_dir(dir)
            .output()
            .expect("openssl must be installed for this test (.ci/run installs it)");
        assert!(out.status.success(), "openssl {args:?}: {out:?}");
    };
    let ec = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
    ];
    run(&[
        &["req", "-x509"],
        &ec[..],
        &[
            "-keyout",
            "ca.key",
            "-out",
            "ca.pem",
            "-days",
            "1",
            "-subj",
            "/CN=twofold test CA",
        ],
    ]
    .concat());
    run(&[
        &["req"],
        &ec[..],
        &[
            "-keyout",
            "srv.key",
            "-out",
            "srv.csr",
            "-subj",
            "/CN=127.0.0.1",
        ],
    ]
    .concat());
    std::fs::write(
        dir.join("ext"),
        "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n",
    )
    .unwrap();
    run(&[
        "x509",
        "-req",
        "-in",
        "srv.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        "srv.pem",
        "-days",
        "1",
        "-extfile",
        "ext",
    ]);
}

struct TlsRedis {
    port: u16,
    child: Child,
}

impl Drop for TlsRedis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl TlsRedis {
    fn start(dir: &Path) -> TlsRedis {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new("redis-server")
            .args(["--port", "0", "--tls-port", &port.to_string()])
            .args(["--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
            .args(["--tls-cert-file", "srv.pem", "--tls-key-file", "srv.key"])
            .args(["--tls-ca-cert-file", "ca.pem", "--tls-auth-clients", "no"])
            .current_dir(dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server must be installed for this test");
        let until = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < until, "TLS redis-server did not start");
            std::thread::sleep(Duration::from_millis(20));
        }
        TlsRedis { port, child }
    }

    /// Keys in the server, read with redis-cli over TLS.
    fn dbsize(&self, dir: &Path) -> u64 {
        let out = Command::new("redis-cli")
            .args(["--tls", "--cacert", "ca.pem", "-p", &self.port.to_string()])
            .arg("dbsize")
            .current_dir(dir)
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).trim().parse().unwrap()
    }
}

#[tokio::test]
async fn rediss_with_a_trusted_certificate_serves_and_an_untrusted_one_fails_closed() {
    let certs = tempfile::tempdir().unwrap();
    certificates(certs.path());
    let redis = TlsRedis::start(certs.path());
    let cluster = Cluster::new();
    let key = cluster.client_key();
    let url = format!("rediss://127.0.0.1:{}", redis.port);
    let ca = certs.path().join("ca.pem").to_string_lossy().into_owned();

    let trusting = cluster
        .node(&[("TWOFOLD_REDIS_URL", url.clone()), ("SSL_CERT_FILE", ca)])
        .await;
    let res = post(&trusting, &key, "/v1/users/alice/devices/totp", json!({})).await;
    assert_eq!(res.status(), 201);
    let enrolled: Value = res.json().await.unwrap();
    let id = enrolled["device"]["id"].as_str().unwrap();
    let secret = base32_decode(enrolled["secret"].as_str().unwrap());
    let confirm = format!("/v1/users/alice/devices/{id}/confirm");
    let first = code(&secret, 0);
    let res = post(&trusting, &key, &confirm, json!({"code": first})).await;
    assert_eq!(res.status(), 200);
    let verify = "/v1/users/alice/verify";
    let next = json!({"code": code(&secret, 1)});
    assert_eq!(post(&trusting, &key, verify, next).await.status(), 200);
    // A replay of an older step: counted, so the failure counters live in Redis.
    let older = json!({"code": first});
    assert_eq!(
        post(&trusting, &key, verify, older).await.status(),
        422,
        "replay"
    );
    assert!(
        redis.dbsize(certs.path()) > 0,
        "the markers live in the TLS Redis"
    );

    // Without the CA among its roots the node cannot trust the server: never ready, and a code
    // is answered 503, not judged.
    let mut doubting = cluster.spawn(&[("TWOFOLD_REDIS_URL", url)]);
    assert_eq!(doubting.wait_readyz().await, 503);
    let res = post(&doubting, &key, verify, json!({"code": code(&secret, 2)})).await;
    assert_eq!(res.status(), 503);
    assert!(
        doubting.log().contains("UnknownIssuer"),
        "the cause is logged: {}",
        doubting.log()
    );
}
