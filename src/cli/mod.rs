//! The `twofold` command: `serve` (the default), `migrate`, `api-key create|list|revoke`,
//! `keys rotate`, `audit verify|export`, `import`.

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
    /// TOML configuration file (keys as in the README; environment variables override it).
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
    ApiKey(ApiKeyCommand),
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

#[derive(Debug, Subcommand)]
enum ApiKeyCommand {
    /// Make a key and print it once.
    Create {
        #[arg(long)]
        name: String,
        #[arg(long, value_parser = ["client", "admin"])]
        role: String,
        /// The tenant the key acts in (client keys default to `default`; an admin key without one
        /// acts on every tenant).
        #[arg(long)]
        tenant: Option<String>,
        /// A URL prefix that hosted-page links of this key may return to (repeatable).
        #[arg(long = "return-url-prefix")]
        return_url_prefix: Vec<String>,
    },
    /// List keys (never the keys themselves).
    List,
    /// Revoke a key by id, at once.
    Revoke { id: String },
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let config = match Config::load(cli.config.as_deref()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("twofold: {e}");
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
    let result = runtime.block_on(run(cli.command.unwrap_or(Command::Serve), config));
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
        Command::ApiKey(cmd) => api_key(cmd, offline_state(config, clock).await?).await,
        Command::Audit(cmd) => audit::run(cmd, offline_state(config, clock).await?).await,
        Command::Import(args) => import::run(args, offline_state(config, clock).await?).await,
        Command::Keys(KeysCommand::Rotate) => {
            let state = offline_state(config, clock).await?;
            let r = crate::app::rotation::rotate(&state, Actor::Cli).await?;
            eprintln!(
                "twofold: new signing key {}; re-wrapped {} device secret(s) and {} signing \
                 key(s) under master key {}",
                r.kid,
                r.devices_rewrapped,
                r.signing_keys_rewrapped,
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
        public_url = %app.state().public_url,
        store = app.state().store.kind(),
        "twofold is serving"
    );
    app.run().await?;
    Ok(())
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

async fn api_key(cmd: ApiKeyCommand, state: AppState) -> CliResult {
    let now = state.clock.now();
    match cmd {
        ApiKeyCommand::Create {
            name,
            role,
            tenant,
            return_url_prefix,
        } => {
            let role: Role = role.parse()?;
            let new = NewApiKey {
                name,
                role,
                tenant,
                return_url_prefixes: return_url_prefix,
            };
            let (key, secret) = api_keys::create(
                &state.db,
                state.audit.stream(),
                &state.keys,
                now,
                new,
                Actor::Cli,
            )
            .await?;
            eprintln!(
                "twofold: made {} key {} (tenant {}); it is shown once:",
                key.role.as_str(),
                key.id,
                key.tenant.as_deref().unwrap_or("every tenant")
            );
            println!("{}", secret.as_str());
        }
        ApiKeyCommand::List => {
            let keys = api_keys::list(&state.db, None).await?;
            println!(
                "{:<24} {:<7} {:<16} {:<20} {:<8} NAME",
                "ID", "ROLE", "TENANT", "CREATED", "STATUS"
            );
            for k in keys {
                println!(
                    "{:<24} {:<7} {:<16} {:<20} {:<8} {}",
                    k.id,
                    k.role.as_str(),
                    k.tenant.as_deref().unwrap_or("*"),
                    k.created_at.format("%Y-%m-%d %H:%M:%S"),
                    if k.revoked_at.is_some() {
                        "revoked"
                    } else {
                        "active"
                    },
                    k.name
                );
            }
        }
        ApiKeyCommand::Revoke { id } => {
            api_keys::revoke(
                &state.db,
                state.audit.stream(),
                now,
                id.clone(),
                None,
                Actor::Cli,
                None,
            )
            .await?;
            eprintln!("twofold: revoked key {id}");
        }
    }
    Ok(())
}
