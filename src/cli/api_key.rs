//! `twofold api-key create|list|revoke`: stdout carries only what a script wants (the new key;
//! the table), stderr the sentences for people.

use clap::Subcommand;

use super::CliResult;
use crate::app::api_keys::{self, ApiKey, NewApiKey, Role};
use crate::app::state::AppState;
use crate::audit::Actor;

#[derive(Debug, Subcommand)]
pub(super) enum ApiKeyCommand {
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
        /// An origin of the relying party's own pages that runs security-key ceremonies,
        /// e.g. https://shop.example (repeatable).
        #[arg(long = "webauthn-origin")]
        webauthn_origin: Vec<String>,
        /// The RP ID of those ceremonies: a parent domain of every origin (default: each
        /// origin's host).
        #[arg(long = "webauthn-rp-id")]
        webauthn_rp_id: Option<String>,
        /// What this key's hosted pages call the site ("Sign in to Shop"), where it differs
        /// from the tenant's name (`tenant_names`).
        #[arg(long = "display-name")]
        display_name: Option<String>,
    },
    /// List keys (never the keys themselves); nothing on stdout when there is none.
    List,
    /// Revoke a key by id, at once.
    Revoke { id: String },
}

pub(super) async fn run(cmd: ApiKeyCommand, state: AppState) -> CliResult {
    let now = state.clock.now();
    match cmd {
        ApiKeyCommand::Create {
            name,
            role,
            tenant,
            return_url_prefix,
            webauthn_origin,
            webauthn_rp_id,
            display_name,
        } => {
            let role: Role = role.parse()?;
            let new = NewApiKey {
                name,
                role,
                tenant,
                return_url_prefixes: return_url_prefix,
                webauthn_origins: webauthn_origin,
                webauthn_rp_id,
                display_name,
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
            eprintln!("twofold: {}; it is shown once:", made(&key));
            println!("{}", secret.as_str());
        }
        ApiKeyCommand::List => {
            let keys = api_keys::list(&state.db, None).await?;
            if keys.is_empty() {
                eprintln!("twofold: there is no API key");
                return Ok(());
            }
            println!(
                "{:<24} {:<7} {:<16} {:<19} {:<8} NAME",
                "ID", "ROLE", "TENANT", "CREATED (UTC)", "STATUS"
            );
            for k in keys {
                println!(
                    "{:<24} {:<7} {:<16} {:<19} {:<8} {}",
                    k.id,
                    k.role.as_str(),
                    tenant(&k),
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

/// `made an admin key for every tenant (id …)`, `made a client key for tenant shop (id …)`.
fn made(key: &ApiKey) -> String {
    let role = match key.role {
        Role::Admin => "an admin",
        Role::Client => "a client",
    };
    match &key.tenant {
        Some(t) => format!("made {role} key for tenant {t} (id {})", key.id),
        None => format!("made {role} key for every tenant (id {})", key.id),
    }
}

fn tenant(key: &ApiKey) -> &str {
    key.tenant.as_deref().unwrap_or("every tenant")
}
