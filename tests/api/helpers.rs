//! Starting an isolated twofold for one test.

use std::sync::Arc;

use chrono::{DateTime, TimeZone, Utc};
use diesel::{Connection, PgConnection, RunQueryDsl};
use twofold::app::api_keys::{self, NewApiKey, Role};
use twofold::app::state::AppState;
use twofold::audit::Actor;
use twofold::clock::{Clock, ManualClock};
use twofold::config::{Config, RawConfig};
use twofold::factor::totp::{self, Params};
use twofold::startup::Application;

/// Runs each named `async fn(Backend)` once per backend pair, as `sqlite::name` and `postgres::name`.
#[macro_export]
macro_rules! both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(#[tokio::test]
            async fn $name() {
                super::$name($crate::helpers::Backend::Embedded).await
            })*
        }
        mod postgres {
            $(#[tokio::test]
            async fn $name() {
                super::$name($crate::helpers::Backend::Production).await
            })*
        }
    };
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// A temporary SQLite file + the in-process store.
    Embedded,
    /// A fresh PostgreSQL database + a fresh Redis key prefix.
    Production,
}

pub fn test_database_url() -> String {
    std::env::var("TWOFOLD_TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

pub fn test_redis_url() -> String {
    std::env::var("TWOFOLD_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into())
}

pub fn random_suffix() -> String {
    twofold::crypto::hex(&twofold::crypto::random_bytes::<6>().unwrap())
}

/// A throw-away PostgreSQL database, dropped (with its connections) when this is dropped.
pub struct PgDatabase {
    admin_url: String,
    name: String,
    pub url: String,
}

impl PgDatabase {
    pub fn create() -> PgDatabase {
        let admin_url = test_database_url();
        let name = format!("twofold_test_{}", random_suffix());
        let mut conn = PgConnection::establish(&admin_url).unwrap_or_else(|e| {
            panic!(
                "PostgreSQL for tests is not reachable ({e}); run scripts/test.sh, or set \
                 TWOFOLD_TEST_DATABASE_URL"
            )
        });
        diesel::sql_query(format!("CREATE DATABASE {name}"))
            .execute(&mut conn)
            .expect("create test database");
        let mut url = url::Url::parse(&admin_url).expect("TWOFOLD_TEST_DATABASE_URL is a URL");
        url.set_path(&format!("/{name}"));
        PgDatabase {
            admin_url,
            name,
            url: url.to_string(),
        }
    }
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        let (admin_url, name) = (self.admin_url.clone(), self.name.clone());
        // Drop may run inside the async runtime: do the blocking work on a plain thread.
        let _ = std::thread::spawn(move || {
            if let Ok(mut conn) = PgConnection::establish(&admin_url) {
                let _ = diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .execute(&mut conn);
            }
        })
        .join();
    }
}

/// Storage that lives as long as the test.
pub enum Storage {
    Embedded(#[allow(dead_code)] tempfile::TempDir),
    Production(#[allow(dead_code)] PgDatabase),
}

pub struct TestApp {
    /// The configuration it started with: a restart starts another app on the same storage.
    pub raw: RawConfig,
    pub base: String,
    pub http: reqwest::Client,
    pub state: AppState,
    pub clock: Arc<ManualClock>,
    /// An admin key of every tenant.
    pub admin_key: String,
    /// A client key of tenant `default`.
    pub client_key: String,
    pub storage: Storage,
}

/// A fixed, round start time: tests move the clock themselves.
pub fn start_time() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 1, 12, 0, 0).unwrap()
}

/// The configuration a test app starts from: port 0, its own data dir, quiet.
pub fn test_config(backend: Backend) -> (RawConfig, Storage) {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut raw = RawConfig {
        listen: "127.0.0.1:0".into(),
        data_dir: dir.path().to_path_buf(),
        master_key: Some(twofold::crypto::generate_master_key().unwrap().to_string()),
        ..RawConfig::default()
    };
    let storage = match backend {
        Backend::Embedded => Storage::Embedded(dir),
        Backend::Production => {
            let db = PgDatabase::create();
            raw.database_url = Some(db.url.clone());
            raw.redis_url = Some(test_redis_url());
            raw.redis_prefix = format!("twofold-test:{}:", random_suffix());
            Storage::Production(db)
        }
    };
    (raw, storage)
}

pub async fn spawn_app(backend: Backend) -> TestApp {
    spawn_app_with(backend, |_| {}).await
}

pub async fn spawn_app_with(backend: Backend, tweak: impl FnOnce(&mut RawConfig)) -> TestApp {
    if std::env::var_os("TEST_LOG").is_some() {
        twofold::telemetry::init("debug", twofold::config::LogFormat::Text);
    }
    let (mut raw, storage) = test_config(backend);
    tweak(&mut raw);
    let clock = Arc::new(ManualClock::new(start_time()));
    start(raw, storage, clock).await
}

/// Starts an app; the admin and client keys are made anew.
async fn start(raw: RawConfig, storage: Storage, clock: Arc<ManualClock>) -> TestApp {
    let config: Config = raw.clone().validate().expect("valid test config");
    let app = Application::build(config, clock.clone())
        .await
        .expect("application starts");
    let base = format!("http://{}", app.addr());
    let state = app.state().clone();
    tokio::spawn(app.run());
    let admin_key = make_key(&state, Role::Admin, None).await;
    let client_key = make_key(&state, Role::Client, Some("default")).await;
    TestApp {
        raw,
        base,
        http: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap(),
        state,
        clock,
        admin_key,
        client_key,
        storage,
    }
}

pub async fn make_key(state: &AppState, role: Role, tenant: Option<&str>) -> String {
    let (_, secret) = api_keys::create(
        &state.db,
        state.audit.stream(),
        &state.keys,
        state.clock.now(),
        NewApiKey {
            name: format!("test {}", role.as_str()),
            role,
            tenant: tenant.map(str::to_string),
            return_url_prefixes: vec!["https://rp.example/".into()],
            webauthn_origins: vec![],
            webauthn_rp_id: None,
            display_name: None,
        },
        Actor::System,
    )
    .await
    .expect("make key");
    secret.to_string()
}

impl TestApp {
    /// Another app on the same database, store and clock, as after a restart (the old one keeps
    /// running; it shares nothing in memory with the new one).
    pub async fn restart(self) -> TestApp {
        self.restart_with(|_| {}).await
    }

    /// A restart with a changed configuration (e.g. another master key).
    pub async fn restart_with(self, tweak: impl FnOnce(&mut RawConfig)) -> TestApp {
        let TestApp {
            mut raw,
            storage,
            clock,
            ..
        } = self;
        tweak(&mut raw);
        start(raw, storage, clock).await
    }

    pub async fn post(
        &self,
        path: &str,
        key: Option<&str>,
        body: &serde_json::Value,
    ) -> reqwest::Response {
        let mut req = self.http.post(self.url(path)).json(body);
        if let Some(k) = key {
            req = req.bearer_auth(k);
        }
        req.send().await.expect("request")
    }

    /// Starts a TOTP enrollment with the client key; panics unless 201.
    pub async fn enroll(&self, user: &str, body: serde_json::Value) -> Enrollment {
        let res = self
            .post(
                &format!("/v1/users/{user}/devices/totp"),
                Some(&self.client_key),
                &body,
            )
            .await;
        assert_eq!(res.status(), 201, "enroll");
        let json: serde_json::Value = res.json().await.unwrap();
        Enrollment {
            id: json["device"]["id"].as_str().unwrap().to_string(),
            secret: base32_decode(json["secret"].as_str().unwrap()),
            params: Params::new(
                json["device"]["algorithm"]
                    .as_str()
                    .unwrap()
                    .parse()
                    .unwrap(),
                json["device"]["digits"].as_u64().unwrap() as u8,
                json["device"]["period"].as_u64().unwrap() as u32,
            )
            .unwrap(),
            json,
        }
    }

    /// The code of `device` at the app's clock, `offset` steps away.
    pub fn code(&self, device: &Enrollment, offset: i64) -> String {
        let step =
            totp::step_at(self.clock.now().timestamp(), device.params.period) as i64 + offset;
        totp::code_at_step(&device.secret, device.params, step as u64)
    }

    pub async fn confirm(&self, user: &str, device: &Enrollment, code: &str) -> reqwest::Response {
        self.post(
            &format!("/v1/users/{user}/devices/{}/confirm", device.id),
            Some(&self.client_key),
            &serde_json::json!({ "code": code }),
        )
        .await
    }

    pub async fn verify(&self, user: &str, code: serde_json::Value) -> reqwest::Response {
        self.post(
            &format!("/v1/users/{user}/verify"),
            Some(&self.client_key),
            &serde_json::json!({ "code": code }),
        )
        .await
    }

    /// A verify with the client key that passes the end user's address as `client_ip`.
    pub async fn verify_from(&self, user: &str, code: &str, client_ip: &str) -> reqwest::Response {
        self.post(
            &format!("/v1/users/{user}/verify"),
            Some(&self.client_key),
            &serde_json::json!({ "code": code, "client_ip": client_ip }),
        )
        .await
    }

    /// An active TOTP device for `user` (default parameters), confirmed at the current step;
    /// the clock then moves on one step so the next code is fresh.
    pub async fn active_device(&self, user: &str) -> Enrollment {
        let device = self.enroll(user, serde_json::json!({})).await;
        let res = self.confirm(user, &device, &self.code(&device, 0)).await;
        assert_eq!(res.status(), 200, "confirm");
        self.clock.advance(chrono::TimeDelta::seconds(30));
        device
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub async fn get(&self, path: &str, key: Option<&str>) -> reqwest::Response {
        let mut req = self.http.get(self.url(path));
        if let Some(k) = key {
            req = req.bearer_auth(k);
        }
        req.send().await.expect("request")
    }

    pub async fn delete_with(
        &self,
        path: &str,
        key: &str,
        body: &serde_json::Value,
    ) -> reqwest::Response {
        let req = self.http.delete(self.url(path)).bearer_auth(key).json(body);
        req.send().await.expect("request")
    }

    pub async fn delete(&self, path: &str, key: Option<&str>) -> reqwest::Response {
        let mut req = self.http.delete(self.url(path));
        if let Some(k) = key {
            req = req.bearer_auth(k);
        }
        req.send().await.expect("request")
    }
}

/// A device as enrolled: its id, raw secret and parameters, and the whole answer.
pub struct Enrollment {
    pub id: String,
    pub secret: Vec<u8>,
    pub params: Params,
    pub json: serde_json::Value,
}

/// RFC 4648 base32 (no padding), as the enroll answer gives the secret.
pub fn base32_decode(s: &str) -> Vec<u8> {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let (mut bits, mut acc, mut out) = (0u32, 0u64, Vec::new());
    for c in s.bytes() {
        let v = ALPHABET.iter().position(|&a| a == c).expect("base32") as u64;
        acc = (acc << 5) | v;
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    out
}

/// `HH:MM` of `at` rounded up to the minute, as a lock's end is shown (a try at the time shown
/// is never refused).
pub fn minute_up(at: chrono::DateTime<chrono::Utc>) -> String {
    use chrono::Timelike;
    let up = if at.second() == 0 && at.nanosecond() == 0 {
        at
    } else {
        at + chrono::TimeDelta::seconds(60 - i64::from(at.second()))
    };
    up.format("%H:%M").to_string()
}

/// The label an app device enrolled through the API without one gets today (in English).
pub fn default_app_label(app: &TestApp) -> String {
    let now = twofold::clock::Clock::now(&*app.clock);
    format!("Authenticator app, added {}", now.format("%-d %b"))
}

/// Asserts the status and the `{"error": code, "message": …}` body of an error answer.
pub async fn assert_error(res: reqwest::Response, status: u16, code: &str) -> serde_json::Value {
    assert_eq!(res.status().as_u16(), status, "status");
    let body: serde_json::Value = res.json().await.expect("JSON error body");
    assert_eq!(body["error"], code, "error code in {body}");
    assert!(body["message"].is_string(), "message in {body}");
    assert_eq!(
        body.as_object().map(|o| o.len()),
        Some(2),
        "only error and message: {body}"
    );
    body
}
