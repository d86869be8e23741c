//! Several real `twofold` processes on one PostgreSQL + Redis (REL-9 and the scale-out claim):
//! replay protection, the lockout, SMS cooldowns and link single use hold across nodes; and a
//! node asked to stop (SIGTERM) finishes the requests it is serving.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::{Value, json};
use twofold::factor::totp::{self, Params};

use crate::helpers::{PgDatabase, base32_decode, random_suffix, test_redis_url};

/// What the nodes of one deployment share.
pub struct Cluster {
    db: PgDatabase,
    prefix: String,
    master_key: String,
    dir: tempfile::TempDir,
}

/// One running `twofold serve`.
pub struct Node {
    child: Child,
    pub base: String,
    log: std::path::PathBuf,
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

impl Cluster {
    pub fn new() -> Cluster {
        Cluster {
            db: PgDatabase::create(),
            prefix: format!("twofold-nodes:{}:", random_suffix()),
            master_key: twofold::crypto::generate_master_key().unwrap().to_string(),
            dir: tempfile::tempdir().unwrap(),
        }
    }

    /// The deployment's database, for a node that reaches it another way (through a proxy).
    pub fn database_url(&self) -> &str {
        &self.db.url
    }

    pub fn command(&self, extra: &[(&str, String)]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_twofold"));
        for (k, _) in std::env::vars() {
            if k.starts_with("TWOFOLD_") || k.starts_with("SSL_CERT_") {
                cmd.env_remove(k);
            }
        }
        cmd.env("TWOFOLD_DATA_DIR", self.dir.path())
            .env("TWOFOLD_DATABASE_URL", &self.db.url)
            .env("TWOFOLD_REDIS_URL", test_redis_url())
            .env("TWOFOLD_REDIS_PREFIX", &self.prefix)
            .env("TWOFOLD_MASTER_KEY", &self.master_key)
            .env("TWOFOLD_LOG", "warn");
        for (k, v) in extra {
            cmd.env(k, v);
        }
        cmd
    }

    /// A client key allowed to send hosted-page users back to `https://rp.example/`.
    pub fn client_key(&self) -> String {
        let out = self
            .command(&[])
            .args(["api-key", "create", "--name", "rp", "--role", "client"])
            .args(["--return-url-prefix", "https://rp.example/"])
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
        String::from_utf8(out.stdout).unwrap().trim().to_string()
    }

    /// A node that is serving and ready.
    pub async fn node(&self, extra: &[(&str, String)]) -> Node {
        let mut node = self.spawn(extra);
        assert_eq!(
            node.wait_readyz().await,
            200,
            "node {} never got ready",
            node.base
        );
        node
    }

    /// A node that is started; it may or may not get ready.
    pub fn spawn(&self, extra: &[(&str, String)]) -> Node {
        let port = free_port();
        let mut env = vec![("TWOFOLD_LISTEN", format!("127.0.0.1:{port}"))];
        env.extend_from_slice(extra);
        let log = self.dir.path().join(format!("node-{port}.log"));
        let child = self
            .command(&env)
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap();
        Node {
            child,
            base: format!("http://127.0.0.1:{port}"),
            log,
        }
    }
}

impl Node {
    /// Polls `/readyz` until 200 or 10 s; answers the last status seen (0: no answer).
    pub async fn wait_readyz(&mut self) -> u16 {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(2))
            .build()
            .unwrap();
        let mut last = 0;
        let until = std::time::Instant::now() + Duration::from_secs(10);
        while std::time::Instant::now() < until {
            // A node that could not start (its port taken meanwhile, say) says why.
            if let Ok(Some(status)) = self.child.try_wait() {
                let said = std::fs::read_to_string(&self.log).unwrap_or_default();
                panic!("node {} exited ({status}): {said}", self.base);
            }
            if let Ok(r) = client.get(format!("{}/readyz", self.base)).send().await {
                last = r.status().as_u16();
                if last == 200 {
                    break;
                }
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        last
    }

    /// Sends the node a signal (`TERM`, `INT`).
    pub fn signal(&self, name: &str) {
        let kill = Command::new("kill")
            .args([format!("-{name}"), self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(kill.success(), "kill -{name}");
    }

    /// Its exit status once it has exited, polling for at most `within`; `None` if still running.
    pub async fn exit_within(&mut self, within: Duration) -> Option<std::process::ExitStatus> {
        let until = std::time::Instant::now() + within;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return Some(status);
            }
            if std::time::Instant::now() >= until {
                return None;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// What the node wrote to stderr so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

pub async fn post(node: &Node, key: &str, path: &str, body: Value) -> reqwest::Response {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap()
        .post(format!("{}{path}", node.base))
        .bearer_auth(key)
        .json(&body)
        .send()
        .await
        .unwrap()
}

/// The code of a default secret at the real clock (the nodes run on it), `offset` steps away.
pub fn code(secret: &[u8], offset: i64) -> String {
    let now = chrono::Utc::now().timestamp();
    let step = totp::step_at(now, 30) as i64 + offset;
    totp::code_at_step(secret, Params::default(), step as u64)
}

#[tokio::test]
async fn replay_lockout_cooldown_and_links_hold_across_two_nodes() {
    let cluster = Cluster::new();
    let key = cluster.client_key();
    let (a, b) = (cluster.node(&[]).await, cluster.node(&[]).await);

    // Enrolled on A, confirmed on B; a code accepted on A is refused on B.
    let res = post(&a, &key, "/v1/users/alice/devices/totp", json!({})).await;
    assert_eq!(res.status(), 201);
    let enrolled: Value = res.json().await.unwrap();
    let id = enrolled["device"]["id"].as_str().unwrap();
    let secret = base32_decode(enrolled["secret"].as_str().unwrap());
    let confirm = format!("/v1/users/alice/devices/{id}/confirm");
    // Codes of the current step and the next: both inside the window across a step boundary.
    let res = post(&b, &key, &confirm, json!({"code": code(&secret, 0)})).await;
    assert_eq!(res.status(), 200);
    let next = code(&secret, 1);
    let verify = "/v1/users/alice/verify";
    assert_eq!(
        post(&a, &key, verify, json!({"code": next})).await.status(),
        200
    );
    assert_eq!(
        post(&b, &key, verify, json!({"code": next})).await.status(),
        422
    );

    // Ten failures spread over both nodes (the replay above, of the last accepted code, is not
    // counted) lock the user on both, a right code included.
    for i in 0..10 {
        let node = if i % 2 == 0 { &a } else { &b };
        let res = post(node, &key, verify, json!({"code": "000000"})).await;
        assert_eq!(res.status(), 422, "failure {i}");
    }
    for node in [&a, &b] {
        let res = post(node, &key, verify, json!({"code": code(&secret, 1)})).await;
        assert_eq!(res.status(), 429);
    }

    // A texted code on A; an immediate resend on B waits out the same cooldown.
    let phone = json!({"phone": "+33612345678"});
    let res = post(&a, &key, "/v1/users/bob/devices/sms", phone).await;
    assert_eq!(res.status(), 201);
    let pending: Value = res.json().await.unwrap();
    let resend = json!({"device_id": pending["device"]["id"]});
    let res = post(&b, &key, "/v1/users/bob/sms", resend).await;
    assert_eq!(res.status(), 429);
    assert!(res.headers().contains_key("retry-after"));

    // A link opened through A is used up for B.
    let res = post(
        &a,
        &key,
        "/v1/users/carol/links",
        json!({"purpose": "verify", "return_url": "https://rp.example/back"}),
    )
    .await;
    assert_eq!(res.status(), 201);
    let url: Value = res.json().await.unwrap();
    let path = url::Url::parse(url["url"].as_str().unwrap()).unwrap();
    let path = path.path();
    let first = reqwest::get(format!("{}{path}", a.base)).await.unwrap();
    assert_eq!(first.status(), 200);
    let second = reqwest::get(format!("{}{path}", b.base)).await.unwrap();
    assert_eq!(second.status(), 410);
}

/// REL-11: SIGTERM stops accepting, and the request in flight (here a text to a slow gateway)
/// still gets its normal answer; then the node exits cleanly.
#[tokio::test]
async fn sigterm_lets_the_request_in_flight_finish() {
    use wiremock::matchers::method;
    use wiremock::{Mock, MockServer, ResponseTemplate};
    let gateway = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_millis(1500)))
        .mount(&gateway)
        .await;
    let cluster = Cluster::new();
    let key = cluster.client_key();
    let mut node = cluster
        .node(&[
            ("TWOFOLD_SMS_GATEWAY", "webhook".into()),
            ("TWOFOLD_SMS_WEBHOOK_URL", format!("{}/sms", gateway.uri())),
            (
                "TWOFOLD_SMS_WEBHOOK_BODY",
                r#"{"to":"{to}","text":"{message}"}"#.into(),
            ),
        ])
        .await;
    let in_flight = {
        let (base, key) = (node.base.clone(), key.clone());
        tokio::spawn(async move {
            reqwest::Client::new()
                .post(format!("{base}/v1/users/dave/devices/sms"))
                .bearer_auth(key)
                .json(&json!({"phone": "+33612345678"}))
                .send()
                .await
        })
    };
    // The request has reached the gateway (and waits on it) before the signal.
    for _ in 0..500 {
        if !gateway
            .received_requests()
            .await
            .unwrap_or_default()
            .is_empty()
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(gateway.received_requests().await.unwrap().len(), 1);
    let pid = node.child.id().to_string();
    let kill = Command::new("sh")
        .args(["-c", &format!("kill -TERM {pid}")])
        .status()
        .unwrap();
    assert!(kill.success());

    let res = tokio::time::timeout(Duration::from_secs(20), in_flight)
        .await
        .expect("the answer arrives in time")
        .unwrap()
        .expect("the answer arrives");
    assert_eq!(res.status(), 201, "the normal answer");
    let status = tokio::task::spawn_blocking(move || {
        let status = node.child.wait();
        (status, node)
    })
    .await
    .unwrap()
    .0
    .unwrap();
    assert!(status.success(), "a clean exit: {status}");
}
