//! `/verify/{token}`: a code (or a recovery code, or a texted code) and back to the relying party.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::text::{EN, Text};
use super::{
    Flow, KeyOption, PageError, code_problem, flow, posted, render_with_key, see_other, send_text,
};
use crate::app::devices::{self, Device};
use crate::app::factors::webauthn::{self, rp};
use crate::app::links::{self, Purpose};
use crate::app::state::AppState;
use crate::app::verify::{self, Presented};
use crate::error::Error;
use crate::factor::kind::{DeviceKind, DeviceStatus};
use crate::http::methods::Page;

pub fn register(cfg: &mut web::ServiceConfig) {
    let page = |path| Page::new(path, super::refuse);
    cfg.service(page("/verify/{token}").get(show).post(check).finish())
        .service(page("/verify/{token}/sms").post(text_me).finish())
        .service(
            page("/verify/{token}/webauthn/options")
                .post(key_options)
                .finish(),
        )
        .service(page("/verify/{token}/webauthn").post(key_check).finish())
        .service(page("/verify/{token}/resync").post(resync).finish());
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
    /// "Use your security key", when the user has one for the hosted pages' RP ID.
    key: Option<KeyOption>,
    /// After a failed code: a hardware HOTP token of the user's to resynchronise.
    resync: Option<Device>,
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
    let hosted = rp::hosted(state);
    let has_key = devices.iter().any(|d| {
        d.security_key
            .as_ref()
            .is_some_and(|k| hosted.as_ref().is_some_and(|rp| rp.id == k.rp_id))
    });
    let key = has_key.then(|| KeyOption {
        action: format!("{action}/webauthn"),
        options: format!("{action}/webauthn/options"),
        ceremony: "get",
        intro: EN.key_intro,
        button: EN.use_key,
    });
    let resync = message
        .as_ref()
        .and_then(|_| {
            devices
                .iter()
                .find(|d| d.kind == DeviceKind::Hotp && d.token_serial.is_some())
        })
        .cloned();
    Ok(VerifyPage {
        key,
        resync,
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
    show_page(StatusCode::OK, &p)
}

fn show_page(status: StatusCode, p: &VerifyPage) -> Result<HttpResponse, PageError> {
    render_with_key(status, p, p.key.is_some() && !p.recovery)
}

async fn check(
    req: HttpRequest,
    state: web::Data<AppState>,
    token: web::Path<String>,
    body: web::Payload,
) -> Result<HttpResponse, PageError> {
    let (flow, form) = posted(&req, &state, &token, Purpose::Verify, body).await?;
    let recovery = form.code.contains('-');
    if form.code.is_empty() {
        let (status, message) = super::no_code(&EN);
        let p = page(&state, &flow, &token, recovery, Some(message), None).await?;
        return show_page(status, &p);
    }
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
            show_page(status, &p)
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
    show_page(status, &p)
}

/// The options of a security-key sign-in, for the page's script.
async fn key_options(
    req: HttpRequest,
    state: web::Data<AppState>,
    token: web::Path<String>,
    body: web::Payload,
) -> Result<HttpResponse, PageError> {
    let (flow, _) = posted(&req, &state, &token, Purpose::Verify, body).await?;
    let rp = rp::hosted(&state).ok_or(Error::NotFound)?;
    let options = webauthn::challenge(&state, &flow.subject()?, rp, None).await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "options": options })))
}

/// A security key's answer, posted by the page's script: checked as verify checks any value.
async fn key_check(
    req: HttpRequest,
    state: web::Data<AppState>,
    token: web::Path<String>,
    body: web::Payload,
) -> Result<HttpResponse, PageError> {
    let (flow, form) = posted(&req, &state, &token, Purpose::Verify, body).await?;
    let attempt = Presented {
        code: Some(form.credential.unwrap_or_default()),
        device_id: None,
    };
    let caller = flow.caller(&req, &state);
    match verify::verify(&state, &flow.subject()?, &caller, attempt).await {
        Ok(v) => {
            flow.end(&state).await?;
            Ok(see_other(&links::back_to(&flow.claims, &v.assertion)?))
        }
        Err(e) => {
            let (status, message) = super::key_problem(e.into(), &EN)?;
            let p = page(&state, &flow, &token, false, Some(message), None).await?;
            show_page(status, &p)
        }
    }
}

/// Two consecutive codes of a hardware HOTP token, after a failure: the token back in step.
async fn resync(
    req: HttpRequest,
    state: web::Data<AppState>,
    token: web::Path<String>,
    body: web::Payload,
) -> Result<HttpResponse, PageError> {
    let (flow, form) = posted(&req, &state, &token, Purpose::Verify, body).await?;
    let Some(device) = form.device.filter(|d| crate::crypto::is_random_id(d)) else {
        let p = page(&state, &flow, &token, false, None, None).await?;
        return show_page(StatusCode::BAD_REQUEST, &p);
    };
    let caller = flow.caller(&req, &state);
    let subject = flow.subject()?;
    let done = verify::resync(&state, &subject, &caller, device, form.first, form.second);
    match done.await {
        Ok(_) => {
            let notice = Some(EN.resync_done.to_string());
            let p = page(&state, &flow, &token, false, None, notice).await?;
            show_page(StatusCode::OK, &p)
        }
        Err(e) => {
            let (status, message) = code_problem(e.into(), &EN)?;
            let p = page(&state, &flow, &token, false, Some(message), None).await?;
            show_page(status, &p)
        }
    }
}
