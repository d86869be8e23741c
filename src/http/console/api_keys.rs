//! The console's API keys page: list and revoke, confirmed first (keys are made with the CLI).
//! Revoking the session's own key ends the session there and then: the sign-in page says why.

use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::confirm::{ConfirmPage, confirmed};
use super::login::ENDED_KEY_REVOKED;
use super::session::{self, Console};
use super::{ConsoleError, Nav, link, render, see_other, when};
use crate::app::api_keys;
use crate::app::state::AppState;
use crate::error::Error;
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

#[derive(Deserialize)]
struct RevokeForm {
    #[serde(default)]
    csrf: String,
    /// `yes` from the confirmation page: the revoke acts.
    confirmed: Option<String>,
}

const OWN_KEY_WARNING: &str = "This is the key this session signed in with: revoking it signs \
                               you out at once. Sign in again with another admin key.";

async fn revoke(
    state: web::Data<AppState>,
    console: Console,
    id: web::Path<String>,
    body: web::Payload,
) -> Result<HttpResponse, ConsoleError> {
    let form: RevokeForm = super::form(&crate::http::body(body).await?)?;
    console.check_csrf(&form.csrf)?;
    let id = crate::http::id(id.into_inner())?;
    let own = id == console.key.id;
    if !confirmed(form.confirmed.as_deref()) {
        return confirm(&state, &console, id, own).await;
    }
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
    if !own {
        return Ok(see_other("/admin/api-keys?done=revoked"));
    }
    // The next request would find the key revoked and send the admin to sign in without a word;
    // end the session now instead, and say why.
    console.close(&state).await?;
    let mut res = see_other(&link("/admin/login", &[("ended", ENDED_KEY_REVOKED)]));
    res.add_removal_cookie(&session::removal(&state, session::COOKIE, "/admin"))
        .map_err(Error::internal)?;
    Ok(res)
}

/// What revoking key `id` would do, with the button that does it.
async fn confirm(
    state: &AppState,
    console: &Console,
    id: String,
    own: bool,
) -> Result<HttpResponse, ConsoleError> {
    let keys = api_keys::list(&state.db, console.key.tenant.clone()).await?;
    let key = keys
        .into_iter()
        .find(|k| k.id == id && k.revoked_at.is_none())
        .ok_or(Error::NotFound)?;
    let tenant = console.key.tenant_for(None)?;
    render(&ConfirmPage {
        nav: Some(Nav::new(console, &tenant)),
        csrf: console.csrf().to_string(),
        heading: format!("Revoke API key “{}”?", key.name),
        facts: vec![
            ("Name", key.name.clone()),
            ("Id", key.id.clone()),
            ("Role", key.role.as_str().to_string()),
            (
                "Tenant",
                key.tenant.clone().unwrap_or_else(|| "every tenant".into()),
            ),
            ("Created", when(key.created_at)),
        ],
        effect: "The key stops working at once: every request made with it is refused, and \
                 every console session signed in with it ends."
            .into(),
        warning: own.then(|| OWN_KEY_WARNING.to_string()),
        action: format!("/admin/api-keys/{id}/revoke"),
        fields: vec![],
        button: "Revoke",
        cancel_href: "/admin/api-keys".into(),
    })
}
