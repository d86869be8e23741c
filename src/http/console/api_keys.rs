//! The console's API keys page: list and revoke (keys are made with the CLI).

use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::session::Console;
use super::{ActionForm, ConsoleError, Nav, render, see_other, when};
use crate::app::api_keys;
use crate::app::state::AppState;
use crate::http::methods::Page;

pub fn register(cfg: &mut web::ServiceConfig) {
    let page = |path| Page::new(path, super::refuse);
    cfg.service(page("/admin/api-keys").get(list).finish())
        .service(page("/admin/api-keys/{id}/revoke").post(revoke).finish());
}

struct KeyView {
    id: String,
    name: String,
    role: String,
    tenant: String,
    created: String,
    revoked: Option<String>,
    /// The key this session signed in with: revoking it ends the session.
    own: bool,
}

#[derive(Template)]
#[template(path = "admin/api_keys.html")]
struct KeysPage {
    nav: Option<Nav>,
    csrf: String,
    keys: Vec<KeyView>,
    notice: Option<&'static str>,
}

#[derive(Deserialize)]
struct ListQuery {
    done: Option<String>,
}

async fn list(
    req: HttpRequest,
    state: web::Data<AppState>,
    console: Console,
) -> Result<HttpResponse, ConsoleError> {
    let query: ListQuery = super::query(&req)?;
    let keys = api_keys::list(&state.db, console.key.tenant.clone()).await?;
    let keys = keys
        .into_iter()
        .map(|k| KeyView {
            own: k.id == console.key.id,
            role: k.role.as_str().to_string(),
            tenant: k.tenant.unwrap_or_else(|| "every tenant".into()),
            created: when(k.created_at),
            revoked: k.revoked_at.map(when),
            id: k.id,
            name: k.name,
        })
        .collect();
    let tenant = console.key.tenant_for(None)?;
    render(&KeysPage {
        nav: Some(Nav::new(&console, &tenant)),
        csrf: console.csrf().to_string(),
        keys,
        notice: (query.done.as_deref() == Some("revoked")).then_some("The key was revoked."),
    })
}

async fn revoke(
    state: web::Data<AppState>,
    console: Console,
    id: web::Path<String>,
    body: web::Payload,
) -> Result<HttpResponse, ConsoleError> {
    let form: ActionForm = super::form(&crate::http::body(body).await?)?;
    console.check_csrf(&form.csrf)?;
    let id = crate::http::id(id.into_inner())?;
    state.key_cache.evict(&id);
    api_keys::revoke(
        &state.db,
        state.audit.stream(),
        state.clock.now(),
        id,
        console.key.tenant.clone(),
        console.caller().actor,
        console.ip.clone(),
    )
    .await?;
    Ok(see_other("/admin/api-keys?done=revoked"))
}
