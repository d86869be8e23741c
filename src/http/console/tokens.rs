//! The console's hardware-token page: the tenant's inventory, filtered by state, kind or serial;
//! assign a token to a user, give it back, revoke it (confirmed first). Resync lives on the user
//! page.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::confirm::{ConfirmPage, confirmed};
use super::form_errors::{Errors, about_input, status_of};
use super::session::Console;
use super::{ConsoleError, Nav, link, page, render, see_other, when};
use crate::app::state::AppState;
use crate::app::tokens::{self, Token};
use crate::db::tokens::Filter;
use crate::error::Error;
use crate::http::methods::Page;

pub fn register(cfg: &mut web::ServiceConfig) {
    let page = |path| Page::new(path, super::refuse);
    cfg.service(page("/admin/tokens").get(list).finish())
        .service(page("/admin/tokens/act").post(act).finish());
}

struct TokenView {
    serial: String,
    kind: String,
    status: String,
    manufacturer: String,
    user: Option<String>,
    batch: String,
    imported: String,
    /// The assign form's user field: its id, its value as typed and its error.
    assign_id: String,
    assign_user: String,
    assign_error: Option<String>,
}

#[derive(Template)]
#[template(path = "admin/tokens.html")]
struct TokensPage {
    nav: Option<Nav>,
    csrf: String,
    tenant: String,
    status: String,
    kind: String,
    serial: String,
    tokens: Vec<TokenView>,
    notice: Option<String>,
    errors: Errors,
}

#[derive(Deserialize)]
struct ListQuery {
    tenant: Option<String>,
    status: Option<String>,
    kind: Option<String>,
    serial: Option<String>,
    done: Option<String>,
}

fn some(s: Option<String>) -> Option<String> {
    s.filter(|s| !s.trim().is_empty())
}

async fn list(
    req: HttpRequest,
    state: web::Data<AppState>,
    console: Console,
) -> Result<HttpResponse, ConsoleError> {
    let q: ListQuery = super::query(&req)?;
    let tenant = console.key.tenant_for(q.tenant.as_deref())?;
    let shown = Shown {
        status: q.status.unwrap_or_default(),
        kind: q.kind.unwrap_or_default(),
        serial: q.serial.unwrap_or_default(),
        notice: q.done.map(|serial| format!("Token {serial} updated.")),
        errors: Errors::default(),
        assign: None,
    };
    tokens_page(&state, &console, tenant, shown, StatusCode::OK).await
}

/// The page's filters as typed, and what it says besides the list: a notice after an act, or
/// the assign form's error and the user typed into it (serial, user).
struct Shown {
    status: String,
    kind: String,
    serial: String,
    notice: Option<String>,
    errors: Errors,
    assign: Option<(String, String)>,
}

async fn tokens_page(
    state: &AppState,
    console: &Console,
    tenant: String,
    shown: Shown,
    status: StatusCode,
) -> Result<HttpResponse, ConsoleError> {
    let filter = Filter {
        status: some(Some(shown.status.clone())),
        kind: some(Some(shown.kind.clone())),
        serial: some(Some(shown.serial.clone())),
        ..Filter::default()
    };
    let found = tokens::list(state, &tenant, filter, tokens::MAX_LIST).await?;
    let views = found
        .into_iter()
        .map(|t| {
            let assign_id = format!("assign-{}", t.serial);
            let assign_user = match &shown.assign {
                Some((serial, user)) if *serial == t.serial => user.clone(),
                _ => String::new(),
            };
            TokenView {
                assign_error: shown.errors.get(&assign_id).map(str::to_string),
                assign_id,
                assign_user,
                imported: when(t.created_at),
                serial: t.serial,
                kind: t.kind,
                status: t.status,
                manufacturer: t.manufacturer.unwrap_or_default(),
                user: t.user,
                batch: t.batch,
            }
        })
        .collect();
    let body = TokensPage {
        nav: Some(Nav::new(console, &tenant)),
        csrf: console.csrf().to_string(),
        tenant,
        status: shown.status,
        kind: shown.kind,
        serial: shown.serial,
        tokens: views,
        notice: shown.notice,
        errors: shown.errors,
    };
    Ok(page(status, body.render().map_err(Error::internal)?))
}

#[derive(Deserialize)]
struct ActForm {
    #[serde(default)]
    csrf: String,
    tenant: Option<String>,
    #[serde(default)]
    serial: String,
    /// `assign`, `unassign` or `revoke`.
    #[serde(default)]
    action: String,
    user: Option<String>,
    /// `yes` from the confirmation page: a revoke acts.
    confirmed: Option<String>,
}

async fn act(
    state: web::Data<AppState>,
    console: Console,
    body: web::Payload,
) -> Result<HttpResponse, ConsoleError> {
    let f: ActForm = super::form(&crate::http::body(body).await?)?;
    console.check_csrf(&f.csrf)?;
    let tenant = console.key.tenant_for(f.tenant.as_deref())?;
    if !tokens::serial_ok(&f.serial) {
        return Err(
            Error::InvalidRequest("a serial is 1 to 64 of A-Z a-z 0-9 . _ -".into()).into(),
        );
    }
    let actor = console.caller().actor;
    match f.action.as_str() {
        "assign" => {
            let user = f.user.clone().unwrap_or_default().trim().to_string();
            let assigned = if user.is_empty() {
                Err(Error::InvalidRequest(
                    "Enter the user to assign the token to.".into(),
                ))
            } else {
                tokens::assign(&state, &tenant, &f.serial, &user, actor)
                    .await
                    .map_err(Error::from)
            };
            if let Err(e) = assigned {
                let Some(message) = about_input(&e) else {
                    return Err(e.into());
                };
                let status = status_of(&e);
                let refused = Refused {
                    serial: f.serial,
                    user,
                    message,
                };
                return assign_refused(&state, &console, tenant, refused, status).await;
            }
        }
        "unassign" => {
            tokens::unassign(&state, &tenant, &f.serial, actor)
                .await
                .map_err(Error::from)?;
        }
        "revoke" if !confirmed(f.confirmed.as_deref()) => {
            return confirm_revoke(&state, &console, tenant, &f.serial).await;
        }
        "revoke" => {
            tokens::revoke(&state, &tenant, &f.serial, actor)
                .await
                .map_err(Error::from)?;
        }
        other => {
            return Err(Error::InvalidRequest(format!("unknown action `{other}`")).into());
        }
    }
    Ok(see_other(&link(
        "/admin/tokens",
        &[("tenant", &tenant), ("done", &f.serial)],
    )))
}

/// An assignment refused for what was typed.
struct Refused {
    serial: String,
    user: String,
    message: String,
}

/// The page again, narrowed to the token, its assign form showing the error and the user typed.
async fn assign_refused(
    state: &AppState,
    console: &Console,
    tenant: String,
    r: Refused,
    status: StatusCode,
) -> Result<HttpResponse, ConsoleError> {
    let shown = Shown {
        status: String::new(),
        kind: String::new(),
        errors: Errors::one(format!("assign-{}", r.serial), r.message),
        serial: r.serial.clone(),
        notice: None,
        assign: Some((r.serial, r.user)),
    };
    tokens_page(state, console, tenant, shown, status).await
}

/// The tenant's token of exactly this serial.
async fn token(state: &AppState, tenant: &str, serial: &str) -> Result<Token, ConsoleError> {
    let filter = Filter {
        serial: Some(serial.to_string()),
        ..Filter::default()
    };
    let found = tokens::list(state, tenant, filter, tokens::MAX_LIST).await?;
    Ok(found
        .into_iter()
        .find(|t| t.serial == serial)
        .ok_or(Error::NotFound)?)
}

async fn confirm_revoke(
    state: &AppState,
    console: &Console,
    tenant: String,
    serial: &str,
) -> Result<HttpResponse, ConsoleError> {
    let t = token(state, &tenant, serial).await?;
    if t.status == "revoked" {
        return Err(Error::Conflict("the token is revoked already".into()).into());
    }
    let mut facts = vec![
        ("Serial", t.serial.clone()),
        ("Kind", t.kind.clone()),
        ("State", t.status.clone()),
        ("Tenant", tenant.clone()),
    ];
    let mut effect = "The token is taken out of service for good: it cannot be assigned or \
                      claimed again, nor its serial imported into this tenant again."
        .to_string();
    if let Some(user) = &t.user {
        facts.push(("Assigned to", user.clone()));
        effect.push_str(&format!(" The device it is for {user} is revoked with it."));
    }
    render(&ConfirmPage {
        nav: Some(Nav::new(console, &tenant)),
        csrf: console.csrf().to_string(),
        heading: format!("Revoke token {}?", t.serial),
        facts,
        effect,
        warning: None,
        action: "/admin/tokens/act".into(),
        fields: vec![
            ("tenant", tenant.clone()),
            ("serial", t.serial),
            ("action", "revoke".into()),
        ],
        button: "Revoke",
        cancel_href: link("/admin/tokens", &[("tenant", &tenant)]),
    })
}
