//! Starting an isolated twofold for one test.

use std::sync::Arc;

use chrono::{DateTime, TimeZone, Utc};
use diesel::{Connection, PgConnection, RunQueryDsl};
use twofold::api_keys::{self, NewApiKey, Role};
use twofold::audit::Actor;
use twofold::clock::ManualClock;
use twofold::config::{Config, RawConfig};
use twofold::startup::Application;
use twofold::state::AppState;

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
    pub base: String,
    pub http: reqwest::Client,
    pub state: AppState,
    #[allow(dead_code)] // for the time-dependent tests of later features
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
    let config: Config = raw.validate().expect("valid test config");
    let clock = Arc::new(ManualClock::new(start_time()));
    let app = Application::build(config, clock.clone())
        .await
        .expect("application starts");
    let base = format!("http://{}", app.addr());
    let state = app.state().clone();
    tokio::spawn(app.run());
    let admin_key = make_key(&state, Role::Admin, None).await;
    let client_key = make_key(&state, Role::Client, Some("default")).await;
    TestApp {
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
        &state.keys,
        state.clock.now(),
        NewApiKey {
            name: format!("test {}", role.as_str()),
            role,
            tenant: tenant.map(str::to_string),
            return_url_prefixes: vec!["https://rp.example/".into()],
        },
        Actor::System,
    )
    .await
    .expect("make key");
    secret.to_string()
}

impl TestApp {
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

    pub async fn delete(&self, path: &str, key: Option<&str>) -> reqwest::Response {
        let mut req = self.http.delete(self.url(path));
        if let Some(k) = key {
            req = req.bearer_auth(k);
        }
        req.send().await.expect("request")
    }
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
