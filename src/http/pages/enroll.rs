//! `/enroll/{token}`: a code of an existing device first (SEC-7), then an authenticator app (QR,
//! manual key, `otpauth://` link), a phone ([`phone`]), a security key or a token of the inventory
//! ([`hardware`]), its first code, recovery codes ([`codes`]: a first set shown at once, or a new
//! one offered), and back to the relying party (or "Cancel and return" at any step).

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;

use super::words::Words;
use super::{Flow, KeyOption, PageError, code_problem, flow, posted, render_with_key, see_other};
use crate::app::factors::totp;
use crate::app::factors::webauthn::rp;
use crate::app::links::{self, Purpose};
use crate::app::state::AppState;
use crate::app::verify::{self, Presented};
use crate::error::Error;
use crate::factor::kind::DeviceKind;
use crate::http::methods::Page;

mod codes;
mod hardware;
mod phone;

pub fn register(cfg: &mut web::ServiceConfig) {
    let page = |path| Page::new(path, super::refuse);
    let on = super::localised;
    cfg.service(on(page("/enroll/{token}").get(show).finish()))
        .service(on(page("/enroll/{token}/step-up").post(step_up).finish()))
        .service(on(page("/enroll/{token}/sms")
            .post(phone::text_me)
            .finish()))
        .service(on(page("/enroll/{token}/app").post(app).finish()))
        .service(on(page("/enroll/{token}/phone")
            .post(phone::phone)
            .finish()))
        .service(on(page("/enroll/{token}/another")
            .post(phone::another)
            .finish()))
        .service(on(page("/enroll/{token}/confirm").post(confirm).finish()))
        .service(on(page("/enroll/{token}/webauthn/options")
            .post(hardware::key_options)
            .finish()))
        .service(on(page("/enroll/{token}/webauthn")
            .post(hardware::key_confirm)
            .finish()))
        .service(on(page("/enroll/{token}/token")
            .post(hardware::claim_token)
            .finish()))
        .service(on(page("/enroll/{token}/recovery")
            .post(codes::recovery)
            .finish()))
        .service(on(page("/enroll/{token}/finish").post(finish).finish()));
}

/// Where the flow stands, and what its page shows.
enum Stage {
    /// A code of an existing device first; a phone of the user's can be texted one.
    StepUp {
        phone: Option<crate::app::devices::Device>,
    },
    Choose,
    App {
        qr_svg: String,
        key_groups: String,
        otpauth_uri: String,
    },
    /// The pending phone's code: which number was texted (masked), and the device to text again.
    Phone {
        device_id: String,
        masked: String,
    },
    Done {
        /// Recovery codes just made, until the user says they saved them.
        codes: Vec<String>,
        /// Whether to offer (new) recovery codes: not once they were made in this flow.
        offer: bool,
    },
}

/// What went wrong with a post: the status, the message, the field it is about and what the
/// user typed there (kept, so a number typed wrong is corrected, not typed again).
pub(super) struct Problem {
    status: StatusCode,
    message: String,
    field: &'static str,
    typed: String,
}

impl From<(StatusCode, String)> for Problem {
    fn from((status, message): (StatusCode, String)) -> Problem {
        Problem {
            status,
            message,
            field: "code",
            typed: String::new(),
        }
    }
}

#[derive(Template)]
#[template(path = "pages/enroll.html")]
struct EnrollPage {
    t: Words,
    base: String,
    csrf: String,
    stage: Stage,
    message: Option<String>,
    /// The id of the field `message` is about: the error summary links to it.
    error_field: &'static str,
    typed_phone: String,
    typed_serial: String,
    notice: Option<String>,
    /// "Security key" among the choices, when twofold's public host can be an RP ID.
    key: Option<KeyOption>,
    /// The device set up is a security key (the done stage says so).
    key_done: bool,
    /// The user is locked: the code forms are shown disabled.
    locked: bool,
    /// The QR page leaves the focus at the top, so a screen reader reads the steps first.
    focus_code: bool,
    cancel_href: String,
    /// The recovery codes as a text file (a `data:` link: they are kept nowhere to fetch).
    codes_download: String,
}

/// The secret in groups of four, as people type it.
fn groups(secret: &str) -> String {
    secret
        .as_bytes()
        .chunks(4)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}

async fn stage_of(state: &AppState, flow: &Flow) -> Result<Stage, PageError> {
    if flow.assertion.is_some() {
        return Ok(Stage::Done {
            codes: codes::shown(state, flow)?,
            offer: !flow.codes_made,
        });
    }
    let subject = flow.subject()?;
    match &flow.device {
        Some((id, kind)) if kind == DeviceKind::Totp.as_str() => {
            let row = totp::pending(state, &subject, id.clone()).await?;
            let secret = totp::secret_of(state, &row)?;
            let uri = totp::otpauth_uri(state, &row)?;
            Ok(Stage::App {
                qr_svg: crate::factor::qr::svg(&uri).map_err(Error::internal)?,
                key_groups: groups(&crate::factor::totp::base32_secret(&secret[..])),
                otpauth_uri: uri,
            })
        }
        // A security key is confirmed in the post that made it: nothing waits on this page.
        Some((_, kind)) if kind == DeviceKind::Webauthn.as_str() => Ok(Stage::Done {
            codes: codes::shown(state, flow)?,
            offer: !flow.codes_made,
        }),
        Some((id, _)) => Ok(Stage::Phone {
            device_id: id.clone(),
            masked: flow.phone_masked.clone().unwrap_or_default(),
        }),
        None => {
            let (tenant, user) = (subject.tenant.clone(), subject.user.clone());
            let has_active = state
                .db
                .run(move |c| crate::db::devices::has_active(c, &tenant, &user))
                .await
                .map_err(Error::from)?;
            Ok(if has_active && flow.step_up.is_none() {
                Stage::StepUp {
                    phone: super::first_phone(state, flow).await?,
                }
            } else {
                Stage::Choose
            })
        }
    }
}

async fn page(
    state: &AppState,
    t: Words,
    token: &str,
    flow: &Flow,
    stage: Stage,
    problem: Option<Problem>,
) -> Result<EnrollPage, PageError> {
    let base = format!("/enroll/{token}");
    let key = (matches!(stage, Stage::Choose) && rp::hosted(state).is_some()).then(|| KeyOption {
        action: format!("{base}/webauthn"),
        options: format!("{base}/webauthn/options"),
        ceremony: "create",
        intro: t.say("choose-key-help"),
        button: t.say("choose-key"),
    });
    let asks_code = matches!(
        stage,
        Stage::StepUp { .. } | Stage::App { .. } | Stage::Phone { .. }
    );
    // A locked user sees why the form is off before typing into it.
    // Locked or not is the limiter's word (a 429 may be a text asked for too soon).
    let lock = match asks_code {
        true => super::lock::lock_of(state, flow, &t).await?,
        false => None,
    };
    let locked = lock.is_some();
    let (message, field, typed) = match (problem, lock) {
        (Some(p), _) => (Some(p.message), p.field, p.typed),
        (None, Some(m)) => (Some(m), "code", String::new()),
        (None, None) => (None, "code", String::new()),
    };
    let codes_download = match &stage {
        Stage::Done { codes, .. } if !codes.is_empty() => codes::download(&t, codes),
        _ => String::new(),
    };
    Ok(EnrollPage {
        focus_code: !matches!(stage, Stage::App { .. }),
        cancel_href: links::cancelled(&flow.claims)?,
        base,
        csrf: flow.csrf.clone(),
        stage,
        message,
        typed_phone: if field == "phone" {
            typed.clone()
        } else {
            String::new()
        },
        typed_serial: if field == "serial" {
            typed
        } else {
            String::new()
        },
        error_field: field,
        notice: None,
        key,
        key_done: flow
            .device
            .as_ref()
            .is_some_and(|(_, kind)| kind == DeviceKind::Webauthn.as_str()),
        locked,
        codes_download,
        t,
    })
}

fn show_page(status: StatusCode, p: &EnrollPage) -> Result<HttpResponse, PageError> {
    render_with_key(status, p, p.key.is_some())
}

async fn show(
    req: HttpRequest,
    state: web::Data<AppState>,
    token: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    let (flow, cookie) = flow(&req, &state, &token, Purpose::Enroll, true).await?;
    let t = Words::of(&req, &state, &flow.claims);
    if let Some(c) = cookie {
        return super::claimed(t, Purpose::Enroll, &token, c);
    }
    let stage = stage_of(&state, &flow).await?;
    let p = page(&state, t, &token, &flow, stage, None).await?;
    // A page found locked answers 429 even to a plain opening, as verify does.
    let status = if p.locked {
        StatusCode::TOO_MANY_REQUESTS
    } else {
        StatusCode::OK
    };
    show_page(status, &p)
}

/// Back to the page after a step, or the page again with what went wrong.
pub(super) async fn again(
    state: &AppState,
    req: &HttpRequest,
    token: &str,
    flow: &Flow,
    problem: Option<Problem>,
) -> Result<HttpResponse, PageError> {
    match problem {
        None => Ok(see_other(&format!("/enroll/{token}"))),
        Some(p) => {
            let status = p.status;
            let stage = stage_of(state, flow).await?;
            let t = Words::of(req, state, &flow.claims);
            show_page(status, &page(state, t, token, flow, stage, Some(p)).await?)
        }
    }
}

async fn step_up(
    req: HttpRequest,
    state: web::Data<AppState>,
    token: web::Path<String>,
    body: web::Payload,
) -> Result<HttpResponse, PageError> {
    let (mut flow, form) = posted(&req, &state, &token, Purpose::Enroll, body).await?;
    let t = Words::of(&req, &state, &flow.claims);
    if form.code.is_empty() {
        return again(&state, &req, &token, &flow, Some(super::no_code(&t).into())).await;
    }
    let attempt = Presented {
        code: Some(form.code.clone()),
        device_id: None,
    };
    let caller = flow.caller(&req, &state);
    match verify::verify(&state, &flow.subject()?, &caller, attempt).await {
        Ok(v) => {
            flow.step_up = Some(v.assertion);
            flow.save(&state).await?;
            again(&state, &req, &token, &flow, None).await
        }
        Err(e) => {
            let problem = code_problem(&state, &flow, &t, e.into()).await?;
            again(&state, &req, &token, &flow, Some(problem.into())).await
        }
    }
}

/// The labels a page-made device tries in turn: the user cannot pick one, and a label in use
/// is refused (checked before the step-up is used, so trying the next costs nothing).
fn labels(first: &str) -> impl Iterator<Item = String> + '_ {
    std::iter::once(first.to_string()).chain((2..=20).map(move |n| format!("{first} ({n})")))
}

/// A step-up that went stale (or was used up by a failed attempt) sends the user back to the
/// step-up form, with a word of why.
pub(super) async fn step_up_again(
    state: &AppState,
    req: &HttpRequest,
    token: &str,
    mut flow: Flow,
) -> Result<HttpResponse, PageError> {
    flow.step_up = None;
    flow.save(state).await?;
    let t = Words::of(req, state, &flow.claims);
    let problem = (StatusCode::FORBIDDEN, t.say("step-up-again"));
    again(state, req, token, &flow, Some(problem.into())).await
}

async fn app(
    req: HttpRequest,
    state: web::Data<AppState>,
    token: web::Path<String>,
    body: web::Payload,
) -> Result<HttpResponse, PageError> {
    let (mut flow, _) = posted(&req, &state, &token, Purpose::Enroll, body).await?;
    if flow.device.is_some() {
        return again(&state, &req, &token, &flow, None).await;
    }
    let (subject, caller) = (flow.subject()?, flow.caller(&req, &state));
    let t = Words::of(&req, &state, &flow.claims);
    // "Authenticator app, added 6 Dec": what the user will recognise in a list of devices.
    let date = t.short_date(state.clock.now());
    let first = t.say_with("label-app", &[("date", crate::i18n::Arg::Text(&date))]);
    for label in labels(&first) {
        let want = totp::Enrollment {
            label: Some(label),
            account_name: flow.claims.account_name.clone(),
            step_up: flow.step_up.clone(),
            ..totp::Enrollment::default()
        };
        match totp::enroll(&state, &subject, &caller, want).await {
            Ok(enrolled) => {
                flow.step_up = None;
                flow.device = Some((enrolled.device.id, DeviceKind::Totp.as_str().into()));
                flow.save(&state).await?;
                return again(&state, &req, &token, &flow, None).await;
            }
            Err(Error::Conflict(_)) => continue,
            Err(Error::StepUpRequired(_)) => {
                return step_up_again(&state, &req, &token, flow).await;
            }
            Err(e) => return Err(e.into()),
        }
    }
    Err(Error::Conflict("too many devices with the same label".into()).into())
}

async fn confirm(
    req: HttpRequest,
    state: web::Data<AppState>,
    token: web::Path<String>,
    body: web::Payload,
) -> Result<HttpResponse, PageError> {
    let (mut flow, form) = posted(&req, &state, &token, Purpose::Enroll, body).await?;
    let Some((id, _)) = flow.device.clone() else {
        return again(&state, &req, &token, &flow, None).await;
    };
    if flow.assertion.is_some() {
        return again(&state, &req, &token, &flow, None).await;
    }
    let t = Words::of(&req, &state, &flow.claims);
    if form.code.is_empty() {
        return again(&state, &req, &token, &flow, Some(super::no_code(&t).into())).await;
    }
    let code = Some(form.code.clone());
    let caller = flow.caller(&req, &state);
    match verify::confirm(&state, &flow.subject()?, &caller, id, code).await {
        Ok(confirmed) => {
            flow.assertion = Some(confirmed.assertion);
            flow.save(&state).await?;
            codes::first_set(&state, &caller, &mut flow).await;
            again(&state, &req, &token, &flow, None).await
        }
        Err(e) => {
            let problem = code_problem(&state, &flow, &t, e.into()).await?;
            again(&state, &req, &token, &flow, Some(problem.into())).await
        }
    }
}

async fn finish(
    req: HttpRequest,
    state: web::Data<AppState>,
    token: web::Path<String>,
    body: web::Payload,
) -> Result<HttpResponse, PageError> {
    let (flow, form) = posted(&req, &state, &token, Purpose::Enroll, body).await?;
    let Some(assertion) = flow.assertion.clone() else {
        return again(&state, &req, &token, &flow, None).await;
    };
    // Codes on show are not left behind unsaved: the page says so and shows them again.
    if flow.codes_sealed.is_some() && form.saved.as_deref() != Some("yes") {
        let t = Words::of(&req, &state, &flow.claims);
        let problem = Problem {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            message: t.say("recovery-saved-missing"),
            field: "saved",
            typed: String::new(),
        };
        return again(&state, &req, &token, &flow, Some(problem)).await;
    }
    flow.end(&state).await?;
    Ok(see_other(&links::back_to(&flow.claims, &assertion)?))
}
