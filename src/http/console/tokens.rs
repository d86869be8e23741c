//! The console's hardware-token page: the tenant's inventory, filtered by state, kind or serial;
//! assign a token to a user, give it back, revoke it. Resync lives on the user page.

use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::session::Console;
use super::{ConsoleError, Nav, link, render, see_other, when};
use crate::app::state::AppState;
use crate::app::tokens;
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
    let filter = Filter {
        status: some(q.status.clone()),
        kind: some(q.kind.clone()),
        serial: some(q.serial.clone()),
        ..Filter::default()
    };
    let found = tokens::list(&state, &tenant, filter, tokens::MAX_LIST).await?;
    let views = found
        .into_iter()
        .map(|t| TokenView {
            imported: when(t.created_at),
            serial: t.serial,
            kind: t.kind,
            status: t.status,
            manufacturer: t.manufacturer.unwrap_or_default(),
            user: t.user,
            batch: t.batch,
        })
        .collect();
    render(&TokensPage {
        nav: Some(Nav::new(&console, &tenant)),
        csrf: console.csrf().to_string(),
        tenant,
        status: q.status.unwrap_or_default(),
        kind: q.kind.unwrap_or_default(),
        serial: q.serial.unwrap_or_default(),
        tokens: views,
        notice: q.done.map(|serial| format!("Token {serial} updated.")),
    })
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
            let user = some(f.user)
                .ok_or_else(|| Error::InvalidRequest("assign to which user?".into()))?;
            tokens::assign(&state, &tenant, &f.serial, user.trim(), actor)
                .await
                .map_err(Error::from)?;
        }
        "unassign" => {
            tokens::unassign(&state, &tenant, &f.serial, actor)
                .await
                .map_err(Error::from)?;
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
