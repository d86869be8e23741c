//! `/verify/{token}`: a code (or a recovery code, or a texted code) and back to the relying party.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::text::{EN, Text};
use super::{Flow, PageError, code_problem, flow, posted, render, see_other, send_text};
use crate::app::devices::{self, Device};
use crate::app::links::{self, Purpose};
use crate::app::state::AppState;
use crate::app::verify::{self, Presented};
use crate::factor::kind::{DeviceKind, DeviceStatus};
use crate::http::methods::Page;

pub fn register(cfg: &mut web::ServiceConfig) {
    let page = |path| Page::new(path, super::refuse);
    cfg.service(page("/verify/{token}").get(show).post(check).finish())
        .service(page("/verify/{token}/sms").post(text_me).finish());
}

#[derive(Template)]
#[template(path = "pages/verify.html")]
struct VerifyPage {
    t: &'static Text,
    action: String,
    csrf: String,
    devices: Vec<Device>,
    /// The first active phone, for "text me a code".
    phone: Option<Device>,
    recovery: bool,
    switch_href: String,
    message: Option<String>,
    notice: Option<String>,
}

#[derive(Deserialize)]
struct ShowQuery {
    recovery: Option<String>,
}

async fn page(
    state: &AppState,
    flow: &Flow,
    token: &str,
    recovery: bool,
    message: Option<String>,
    notice: Option<String>,
) -> Result<VerifyPage, PageError> {
    let mut devices = devices::list(state, &flow.subject()?).await?;
    devices.retain(|d| d.status == DeviceStatus::Active);
    let action = format!("/verify/{token}");
    Ok(VerifyPage {
        t: &EN,
        phone: devices.iter().find(|d| d.kind == DeviceKind::Sms).cloned(),
        switch_href: if recovery {
            action.clone()
        } else {
            format!("{action}?recovery=1")
        },
        action,
        csrf: flow.csrf.clone(),
        devices,
        recovery,
        message,
        notice,
    })
}

async fn show(
    req: HttpRequest,
    state: web::Data<AppState>,
    token: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    let query: ShowQuery = crate::http::query(&req)?;
    let (flow, cookie) = flow(&req, &state, &token, Purpose::Verify, true).await?;
    if let Some(c) = cookie {
        return super::claimed(Purpose::Verify, &token, c);
    }
    let recovery = query.recovery.is_some();
    let p = page(&state, &flow, &token, recovery, None, None).await?;
    render(StatusCode::OK, &p, cookie)
}

async fn check(
    req: HttpRequest,
    state: web::Data<AppState>,
    token: web::Path<String>,
    body: web::Payload,
) -> Result<HttpResponse, PageError> {
    let (flow, form) = posted(&req, &state, &token, Purpose::Verify, body).await?;
    let recovery = form.code.contains('-');
    let attempt = Presented {
        code: Some(form.code.clone()),
        device_id: None,
    };
    match verify::verify(
        &state,
        &flow.subject()?,
        &flow.caller(&req, &state),
        attempt,
    )
    .await
    {
        Ok(v) => {
            flow.end(&state).await?;
            Ok(see_other(&links::back_to(&flow.claims, &v.assertion)?))
        }
        Err(e) => {
            let (status, message) = code_problem(e.into(), &EN)?;
            let p = page(&state, &flow, &token, recovery, Some(message), None).await?;
            render(status, &p, None)
        }
    }
}

async fn text_me(
    req: HttpRequest,
    state: web::Data<AppState>,
    token: web::Path<String>,
    body: web::Payload,
) -> Result<HttpResponse, PageError> {
    let (flow, form) = posted(&req, &state, &token, Purpose::Verify, body).await?;
    let (status, message, notice) = send_text(&req, &state, &flow, form.device).await?;
    let p = page(&state, &flow, &token, false, message, notice).await?;
    render(status, &p, None)
}
