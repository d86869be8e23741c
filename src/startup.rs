//! Building the application: one [`Application::build`] used by `main` and by the tests.

use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;
use std::time::Duration;

use actix_web::dev::Server;
use actix_web::middleware::{DefaultHeaders, from_fn};
use actix_web::{App, HttpServer, web};
use tracing_actix_web::TracingLogger;
use utoipa_actix_web::AppExt;

use crate::app::assertion::{self, Assertions};
use crate::app::limiter::Limiter;
use crate::app::state::AppState;
use crate::audit;
use crate::clock::Clock;
use crate::config::{Config, StoreUrl};
use crate::crypto::Keys;
use crate::db::Db;
use crate::http;
use crate::http::error::path_error_handler;
use crate::http::ops::OpenApiJson;
use crate::http::telemetry::RequestSpan;
use crate::metrics::Metrics;
use crate::store::Store;

/// The last part of the shutdown grace period, kept for writing the queued audit events.
const AUDIT_SHARE: Duration = Duration::from_secs(1);

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error("signing keys: {0}")]
    Assertion(#[from] crate::app::assertion::AssertionError),
    #[error("SMS gateway: {0}")]
    Sms(#[from] crate::sms::SendError),
    #[error(transparent)]
    Crypto(#[from] crate::crypto::CryptoError),
    #[error(transparent)]
    Db(#[from] crate::db::DbError),
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("cannot serialize the OpenAPI document: {0}")]
    OpenApi(String),
    #[error("the pages' words: {0}")]
    Words(String),
}

/// Connects the dependencies the configuration names and runs the migrations (the signing keys
/// live in the database); serves nothing.
pub async fn state(
    config: Config,
    clock: Arc<dyn Clock>,
    bound: SocketAddr,
) -> Result<AppState, StartupError> {
    let words = crate::i18n::Catalogue::load().map_err(StartupError::Words)?;
    let keys = Arc::new(Keys::load(
        &config.master_key,
        &config.master_key_previous.0,
    )?);
    let db = Db::new(
        &config.database,
        config.database_pool_size,
        config.dependency_timeout,
    )?;
    let store = match &config.store {
        StoreUrl::InProcess => Store::memory(config.dependency_timeout),
        StoreUrl::Redis(url) => Store::redis(url, &config.redis_prefix, config.dependency_timeout)?,
        StoreUrl::RedisCluster(nodes) => {
            Store::redis_cluster(nodes, &config.redis_prefix, config.dependency_timeout)?
        }
    };
    let applied = db.migrate_with(audit::legacy::sealer(keys.clone())).await?;
    if applied > 0 {
        tracing::info!(applied, "database migrations applied");
    }
    let public_url = config.public_url_for(bound);
    // The issuer is the public URL as the start-up line shows it: without the trailing slash
    // that the base of links keeps.
    let issuer = crate::config::public_url_text(&public_url).to_string();
    let assertions =
        Assertions::load(&db, keys.clone(), issuer, config.assertion_ttl, clock.now()).await?;
    let (sms, sms_outbox): (Arc<dyn crate::sms::SmsGateway>, _) = match &config.sms.gateway {
        crate::sms::GatewayConfig::Log { outbox } => {
            let log = crate::sms::build_log(outbox.clone());
            (log.clone(), Some(log))
        }
        other => (
            crate::sms::build(other.clone(), config.sms.transport)?,
            None,
        ),
    };
    Ok(AppState {
        public_url,
        limiter: Limiter::new(store.clone(), config.lockout, clock.clone()),
        audit: audit::Writer::spawn(db.clone(), audit::Stream::new(keys.clone())?),
        config: Arc::new(config),
        db,
        store,
        keys,
        clock,
        metrics: Metrics::new(),
        assertions,
        sms,
        sms_outbox,
        key_cache: Arc::default(),
        words,
        readiness: Arc::default(),
    })
}

/// A bound, migrated, ready-to-run server.
pub struct Application {
    addr: SocketAddr,
    state: AppState,
    server: Server,
    refresher: tokio::task::JoinHandle<()>,
}

impl Application {
    /// Binds the listener, loads keys, connects the database and store, runs migrations, and
    /// builds the server. Listening on port 0 picks a free port (see [`Application::addr`]).
    pub async fn build(config: Config, clock: Arc<dyn Clock>) -> Result<Application, StartupError> {
        let listener = TcpListener::bind(config.listen).map_err(|source| StartupError::Bind {
            addr: config.listen,
            source,
        })?;
        let addr = listener.local_addr().map_err(|source| StartupError::Bind {
            addr: config.listen,
            source,
        })?;
        // actix's own timer cuts requests still in flight at the end of their share of the
        // grace period (see `run_until`).
        let drain = config.shutdown_grace.saturating_sub(AUDIT_SHARE).as_secs();
        let state = state(config, clock, addr).await?;
        let refresher = assertion::spawn_refresher(
            state.assertions.clone(),
            state.db.clone(),
            state.clock.clone(),
        );
        let openapi = http::openapi()
            .to_json()
            .map_err(|e| StartupError::OpenApi(e.to_string()))?;
        let data = web::Data::new(state.clone());
        let openapi = web::Data::new(OpenApiJson(openapi));
        let server = HttpServer::new(move || {
            App::new()
                .app_data(data.clone())
                .app_data(openapi.clone())
                .app_data(web::PathConfig::default().error_handler(path_error_handler))
                .wrap(from_fn(http::middleware::observe))
                .wrap(from_fn(http::middleware::opaque_500))
                .wrap(
                    DefaultHeaders::new()
                        .add(("X-Content-Type-Options", "nosniff"))
                        .add(("Cache-Control", "no-store"))
                        .add(("Referrer-Policy", "no-referrer"))
                        .add(("X-Frame-Options", "DENY")),
                )
                .wrap(TracingLogger::<RequestSpan>::new())
                .into_utoipa_app()
                .configure(http::register)
                .into_app()
                .configure(http::console::register)
                .configure(http::pages::register)
                .default_service(web::to(http::methods::fallback))
        })
        .listen(listener)
        .map_err(|source| StartupError::Bind { addr, source })?
        // Signals are `run_until`'s: actix would cut every request in flight on SIGINT.
        .disable_signals()
        .shutdown_timeout(drain)
        .run();
        Ok(Application {
            addr,
            state,
            server,
            refresher,
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves until the server stops, then writes the queued audit events (within the grace
    /// period).
    pub async fn run(self) -> std::io::Result<()> {
        let served = self.server.await;
        self.refresher.abort();
        let deadline = tokio::time::Instant::now() + self.state.config.shutdown_grace;
        self.state.audit.close_by(deadline).await;
        served
    }

    /// Serves until the first of `signals` (each names a signal received), then stops within
    /// the grace period: no new connections, the requests in flight get all of it but the last
    /// second, the queued audit events what is left (those not written by then are logged and
    /// counted as lost). A second signal stops at once, cutting what is in flight.
    pub async fn run_until(
        self,
        mut signals: tokio::sync::mpsc::UnboundedReceiver<&'static str>,
    ) -> std::io::Result<()> {
        let Application {
            state,
            server,
            refresher,
            ..
        } = self;
        let handle = server.handle();
        let mut server = tokio::spawn(server);
        let signal = tokio::select! {
            served = &mut server => {
                refresher.abort();
                let deadline = tokio::time::Instant::now() + state.config.shutdown_grace;
                state.audit.close_by(deadline).await;
                return served.unwrap_or_else(|e| Err(std::io::Error::other(e)));
            }
            Some(signal) = signals.recv() => signal,
        };
        let grace = state.config.shutdown_grace;
        let deadline = tokio::time::Instant::now() + grace;
        tracing::info!(
            signal,
            grace_secs = grace.as_secs(),
            "stopping: requests in flight finish, then the audit events are written"
        );
        let graceful = async {
            let drained = tokio::time::timeout_at(deadline - AUDIT_SHARE, handle.stop(true)).await;
            if drained.is_err() {
                tracing::warn!("requests still in flight at the end of their grace are cut");
            }
            refresher.abort();
            state.audit.close_by(deadline).await;
        };
        tokio::select! {
            () = graceful => {}
            Some(signal) = signals.recv() => {
                tracing::warn!(signal, "a second signal: stopping at once");
                refresher.abort();
                state.audit.close_by(tokio::time::Instant::now()).await;
            }
        }
        // Dropping a server that is still stopping stops its workers at once.
        server.abort();
        match server.await {
            Ok(served) => served,
            Err(_) => Ok(()),
        }
    }
}
