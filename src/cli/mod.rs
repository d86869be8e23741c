//! The `twofold` command: `serve` (the default), `migrate`, `api-key create|list|revoke`,
//! `keys rotate`, `audit verify|export`, `import`.

mod api_key;
mod audit;
mod import;

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Parser, Subcommand};

use crate::app::api_keys::{self, NewApiKey, Role};
use crate::app::state::AppState;
use crate::audit::Actor;
use crate::clock::{Clock, SystemClock};
use crate::config::{Config, DatabaseUrl, Environment};
use crate::startup::{self, Application};

#[derive(Debug, Parser)]
#[command(name = "twofold", version, about = "Self-hosted second-factor service")]
struct Cli {
    /// TOML configuration file (keys as in docs/configuration.md; environment variables override it).
    #[arg(long, env = "TWOFOLD_CONFIG", global = true)]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the HTTP API and pages (the default).
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Make, list and revoke API keys.
    #[command(subcommand, name = "api-key")]
    ApiKey(api_key::ApiKeyCommand),
    /// Key management.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Check and export the audit trail.
    #[command(subcommand)]
    Audit(audit::AuditCommand),
    /// Import TOTP seeds from another MFA server (JSON lines or CSV): every line or none.
    Import(import::ImportArgs),
}

#[derive(Debug, Subcommand)]
enum KeysCommand {
    /// Make a new assertion signing key (the old one stays published until its assertions have
    /// expired) and re-wrap every secret sealed under an earlier master key
    /// (TWOFOLD_MASTER_KEY_PREVIOUS) with the current one.
    Rotate,
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let config = match Config::load(cli.config.as_deref()) {
        Ok(c) => c,
        Err(e) => {
            // One line a problem, every problem of the configuration at once.
            for problem in e.problems() {
                eprintln!("twofold: {problem}");
            }
            return ExitCode::from(2);
        }
    };
    crate::telemetry::init(&config.log, config.log_format);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("twofold: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let command = cli.command.unwrap_or(Command::Serve);
    let wait = match command {
        Command::Serve => SERVE_EXIT_WAIT,
        _ => COMMAND_EXIT_WAIT,
    };
    let result = runtime.block_on(run(command, config));
    // Blocking threads still running now are finishing their work (closing pooled connections,
    // the audit writer's last batch): exiting under them races the C libraries' exit handlers
    // (libpq, OpenSSL: "double free" aborts were seen). They are waited for, but not forever: one
    // blocked on a connection that stopped answering would make the exit unbounded, and a node
    // has already spent its grace period (TWOFOLD_SHUTDOWN_GRACE_SECS) by now.
    runtime.shutdown_timeout(wait);
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // The whole chain: a use case's error names what failed, its causes say why.
            eprintln!("twofold: {}", crate::error::chain(&*e));
            ExitCode::FAILURE
        }
    }
}

type CliResult = Result<(), Box<dyn std::error::Error>>;

/// How long the exit waits for blocking threads after `serve` has stopped (its grace period is
/// spent; only a call blocked on a dead connection is left).
const SERVE_EXIT_WAIT: std::time::Duration = std::time::Duration::from_millis(500);
/// The same after a one-shot command, whose calls have all returned: threads are only closing.
const COMMAND_EXIT_WAIT: std::time::Duration = std::time::Duration::from_secs(10);

async fn run(command: Command, config: Config) -> CliResult {
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    match command {
        Command::Serve => serve(config, clock).await,
        Command::Migrate => {
            let state = offline_state(config, clock).await?;
            eprintln!("twofold: database is up to date");
            drop(state);
            Ok(())
        }
        Command::ApiKey(cmd) => api_key::run(cmd, offline_state(config, clock).await?).await,
        Command::Audit(cmd) => audit::run(cmd, offline_state(config, clock).await?).await,
        Command::Import(args) => import::run(args, offline_state(config, clock).await?).await,
        Command::Keys(KeysCommand::Rotate) => {
            let state = offline_state(config, clock).await?;
            let r = crate::app::rotation::rotate(&state, Actor::Cli).await?;
            eprintln!(
                "twofold: new signing key {}; re-wrapped {} and {} under master key {}",
                r.kid,
                count(r.devices_rewrapped, "device secret", "device secrets"),
                count(r.signing_keys_rewrapped, "signing key", "signing keys"),
                state.keys.key_id()
            );
            Ok(())
        }
    }
}

/// State for commands that do not serve: same keys and database, migrations applied.
async fn offline_state(
    config: Config,
    clock: Arc<dyn Clock>,
) -> Result<AppState, Box<dyn std::error::Error>> {
    let listen = config.listen;
    Ok(startup::state(config, clock, listen).await?)
}

async fn serve(config: Config, clock: Arc<dyn Clock>) -> CliResult {
    let app = Application::build(config, clock).await?;
    bootstrap_admin_key(app.state()).await?;
    tracing::info!(
        addr = %app.addr(),
        public_url = %crate::config::public_url_text(&app.state().public_url),
        store = app.state().store.kind(),
        "twofold is serving"
    );
    app.run_until(stop_signals()?).await?;
    Ok(())
}

/// SIGTERM and SIGINT, as they come: both stop gracefully, a second one at once.
fn stop_signals() -> std::io::Result<tokio::sync::mpsc::UnboundedReceiver<&'static str>> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate())?;
    let mut int = signal(SignalKind::interrupt())?;
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        loop {
            let name = tokio::select! {
                Some(()) = term.recv() => "SIGTERM",
                Some(()) = int.recv() => "SIGINT",
                else => return,
            };
            if tx.send(name).is_err() {
                return;
            }
        }
    });
    Ok(rx)
}

/// On the first start of an empty embedded database in development, make one admin key so a
/// newcomer can call the API at once. Printed on stderr, once; never logged.
async fn bootstrap_admin_key(state: &AppState) -> CliResult {
    let embedded = matches!(state.config.database, DatabaseUrl::Sqlite(_));
    if state.config.env != Environment::Development || !embedded {
        return Ok(());
    }
    if api_keys::count(&state.db).await? > 0 {
        return Ok(());
    }
    let (key, secret) = api_keys::create(
        &state.db,
        state.audit.stream(),
        &state.keys,
        state.clock.now(),
        NewApiKey {
            name: "bootstrap".into(),
            role: Role::Admin,
            tenant: None,
            return_url_prefixes: vec![],
            webauthn_origins: vec![],
            webauthn_rp_id: None,
            display_name: None,
        },
        Actor::System,
    )
    .await?;
    eprintln!(
        "\ntwofold: bootstrap admin key (id {}), shown once; keep it, or make others with \
         `twofold api-key create`:\n\n    {}\n",
        key.id,
        secret.as_str()
    );
    Ok(())
}

/// `1 device secret`, `2 device secrets`.
fn count(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}
