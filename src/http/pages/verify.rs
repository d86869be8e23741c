//! `/verify/{token}`: a code (or a recovery code, or a texted code) and back to the relying party.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::words::Words;
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
    let on = super::localised;
    cfg.service(on(page("/verify/{token}").get(show).post(check).finish()))
        .service(on(page("/verify/{token}/sms").post(text_me).finish()))
        .service(on(page("/verify/{token}/webauthn/options")
            .post(key_options)
            .finish()))
        .service(on(page("/verify/{token}/webauthn")
            .post(key_check)
            .finish()))
        .service(on(page("/verify/{token}/resync").post(resync).finish()));
}

#[derive(Template)]
#[template(path = "pages/verify.html")]
struct VerifyPage {
    t: Words,
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
    /// The user is locked: the form is shown disabled, with when it opens again.
    locked: bool,
    error_field: &'static str,
    focus_code: bool,
    cancel_href: String,
}

#[derive(Deserialize)]
struct ShowQuery {
    recovery: Option<String>,
}

/// What a post led to: the page's status and its message, if it went wrong.
type Outcome = (StatusCode, Option<String>);

async fn page(
    state: &AppState,
    req: &HttpRequest,
    flow: &Flow,
    token: &str,
    recovery: bool,
    (_, message): Outcome,
    notice: Option<String>,
) -> Result<VerifyPage, PageError> {
    let t = Words::of(req, state, &flow.claims);
    // Locked or not is the limiter's word (a 429 may be a text asked for too soon): a locked
    // user sees why the form is off before typing into it.
    let lock = super::lock::lock_of(state, flow, &t).await?;
    let locked = lock.is_some();
    let message = message.or(lock);
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
        intro: t.say("key-intro"),
        button: t.say("use-key"),
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
        locked,
        error_field: "code",
        focus_code: !locked,
        cancel_href: links::cancelled(&flow.claims)?,
        t,
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
        let t = Words::of(&req, &state, &flow.claims);
        return super::claimed(t, Purpose::Verify, &token, c);
    }
    let recovery = query.recovery.is_some();
    let p = page(
        &state,
        &req,
        &flow,
        &token,
        recovery,
        (StatusCode::OK, None),
        None,
    )
    .await?;
    show_page(p.status(), &p)
}

impl VerifyPage {
    /// A page found locked answers 429 even to a plain opening.
    fn status(&self) -> StatusCode {
        if self.locked {
            StatusCode::TOO_MANY_REQUESTS
        } else {
            StatusCode::OK
        }
    }
}

/// The page again after a post, with what it led to.
async fn answer(
    state: &AppState,
    req: &HttpRequest,
    flow: &Flow,
    token: &str,
    recovery: bool,
    outcome: Outcome,
    notice: Option<String>,
) -> Result<HttpResponse, PageError> {
    let status = outcome.0;
    let p = page(state, req, flow, token, recovery, outcome, notice).await?;
    show_page(status, &p)
}

fn show_page(status: StatusCode, p: &VerifyPage) -> Result<HttpResponse, PageError> {
    render_with_key(status, p, p.key.is_some() && !p.recovery && !p.locked)
}

async fn check(
    req: HttpRequest,
    state: web::Data<AppState>,
    token: web::Path<String>,
    body: web::Payload,
) -> Result<HttpResponse, PageError> {
    let (flow, form) = posted(&req, &state, &token, Purpose::Verify, body).await?;
    let recovery = form.code.contains('-');
    let t = Words::of(&req, &state, &flow.claims);
    if form.code.is_empty() {
        let (status, message) = super::no_code(&t);
        let outcome = (status, Some(message));
        return answer(&state, &req, &flow, &token, recovery, outcome, None).await;
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
            let (status, message) = code_problem(&state, &flow, &t, e.into()).await?;
            answer(
                &state,
                &req,
                &flow,
                &token,
                recovery,
                (status, Some(message)),
                None,
            )
            .await
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
    let t = Words::of(&req, &state, &flow.claims);
    let (status, message, notice) = send_text(&req, &state, &flow, &t, form.device).await?;
    answer(
        &state,
        &req,
        &flow,
        &token,
        false,
        (status, message),
        notice,
    )
    .await
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
            let t = Words::of(&req, &state, &flow.claims);
            let (status, message) = super::key_problem(&state, &flow, &t, e.into()).await?;
            answer(
                &state,
                &req,
                &flow,
                &token,
                false,
                (status, Some(message)),
                None,
            )
            .await
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
        let outcome = (StatusCode::BAD_REQUEST, None);
        return answer(&state, &req, &flow, &token, false, outcome, None).await;
    };
    let caller = flow.caller(&req, &state);
    let subject = flow.subject()?;
    let done = verify::resync(&state, &subject, &caller, device, form.first, form.second);
    match done.await {
        Ok(_) => {
            let t = Words::of(&req, &state, &flow.claims);
            let notice = Some(t.say("resync-done"));
            answer(
                &state,
                &req,
                &flow,
                &token,
                false,
                (StatusCode::OK, None),
                notice,
            )
            .await
        }
        Err(e) => {
            let t = Words::of(&req, &state, &flow.claims);
            let (status, message) = code_problem(&state, &flow, &t, e.into()).await?;
            answer(
                &state,
                &req,
                &flow,
                &token,
                false,
                (status, Some(message)),
                None,
            )
            .await
        }
    }
}
