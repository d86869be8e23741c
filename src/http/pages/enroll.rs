//! `/enroll/{token}`: a code of an existing device first (SEC-7), then an authenticator app (QR,
//! manual key, `otpauth://` link) or a phone, its first code, recovery codes on offer, and back
//! to the relying party.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;

use super::text::{EN, Text};
use super::{Flow, KeyOption, PageError, code_problem, flow, posted, render_with_key, see_other};
use crate::app::assertion::Method;
use crate::app::factors::webauthn::rp;
use crate::app::factors::{sms, totp};
use crate::app::links::{self, Purpose};
use crate::app::state::AppState;
use crate::app::verify::{self, Presented};
use crate::error::Error;
use crate::factor::kind::DeviceKind;
use crate::http::methods::Page;

mod hardware;

pub fn register(cfg: &mut web::ServiceConfig) {
    let page = |path| Page::new(path, super::refuse);
    cfg.service(page("/enroll/{token}").get(show).finish())
        .service(page("/enroll/{token}/step-up").post(step_up).finish())
        .service(page("/enroll/{token}/sms").post(text_me).finish())
        .service(page("/enroll/{token}/app").post(app).finish())
        .service(page("/enroll/{token}/phone").post(phone).finish())
        .service(page("/enroll/{token}/confirm").post(confirm).finish())
        .service(
            page("/enroll/{token}/webauthn/options")
                .post(hardware::key_options)
                .finish(),
        )
        .service(
            page("/enroll/{token}/webauthn")
                .post(hardware::key_confirm)
                .finish(),
        )
        .service(
            page("/enroll/{token}/token")
                .post(hardware::claim_token)
                .finish(),
        )
        .service(page("/enroll/{token}/recovery").post(recovery).finish())
        .service(page("/enroll/{token}/finish").post(finish).finish());
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
    Phone,
    Done {
        codes: Vec<String>,
        /// Whether to offer recovery codes: not once they were made.
        offer: bool,
    },
}

#[derive(Template)]
#[template(path = "pages/enroll.html")]
struct EnrollPage {
    t: &'static Text,
    base: String,
    csrf: String,
    stage: Stage,
    message: Option<String>,
    notice: Option<String>,
    /// "Security key" among the choices, when twofold's public host can be an RP ID.
    key: Option<KeyOption>,
    /// The device set up is a security key (the done stage says so).
    key_done: bool,
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
            codes: vec![],
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
            codes: vec![],
            offer: !flow.codes_made,
        }),
        Some(_) => Ok(Stage::Phone),
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

fn page(
    state: &AppState,
    token: &str,
    flow: &Flow,
    stage: Stage,
    message: Option<String>,
) -> EnrollPage {
    let base = format!("/enroll/{token}");
    let key = (matches!(stage, Stage::Choose) && rp::hosted(state).is_some()).then(|| KeyOption {
        action: format!("{base}/webauthn"),
        options: format!("{base}/webauthn/options"),
        ceremony: "create",
        intro: EN.choose_key_help,
        button: EN.choose_key,
    });
    EnrollPage {
        t: &EN,
        base,
        csrf: flow.csrf.clone(),
        stage,
        message,
        notice: None,
        key,
        key_done: flow
            .device
            .as_ref()
            .is_some_and(|(_, kind)| kind == DeviceKind::Webauthn.as_str()),
    }
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
    if let Some(c) = cookie {
        return super::claimed(Purpose::Enroll, &token, c);
    }
    let stage = stage_of(&state, &flow).await?;
    show_page(StatusCode::OK, &page(&state, &token, &flow, stage, None))
}

/// Back to the page after a step, or the page again with what went wrong.
pub(super) async fn again(
    state: &AppState,
    token: &str,
    flow: &Flow,
    problem: Option<(StatusCode, String)>,
) -> Result<HttpResponse, PageError> {
    match problem {
        None => Ok(see_other(&format!("/enroll/{token}"))),
        Some((status, message)) => {
            let stage = stage_of(state, flow).await?;
            show_page(status, &page(state, token, flow, stage, Some(message)))
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
    if form.code.is_empty() {
        return again(&state, &token, &flow, Some(super::no_code(&EN))).await;
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
            again(&state, &token, &flow, None).await
        }
        Err(e) => again(&state, &token, &flow, Some(code_problem(e.into(), &EN)?)).await,
    }
}

/// The labels a page-made device tries in turn: the user cannot pick one, and a label in use
/// is refused (checked before the step-up is used, so trying the next costs nothing).
fn labels(first: &str) -> impl Iterator<Item = String> + '_ {
    std::iter::once(first.to_string()).chain((2..=20).map(move |n| format!("{first} {n}")))
}

/// A step-up that went stale (or was used up by a failed attempt) sends the user back to the
/// step-up form, with a word of why.
pub(super) async fn step_up_again(
    state: &AppState,
    token: &str,
    mut flow: Flow,
) -> Result<HttpResponse, PageError> {
    flow.step_up = None;
    flow.save(state).await?;
    let problem = (StatusCode::FORBIDDEN, EN.step_up_again.to_string());
    again(state, token, &flow, Some(problem)).await
}

async fn app(
    req: HttpRequest,
    state: web::Data<AppState>,
    token: web::Path<String>,
    body: web::Payload,
) -> Result<HttpResponse, PageError> {
    let (mut flow, _) = posted(&req, &state, &token, Purpose::Enroll, body).await?;
    if flow.device.is_some() {
        return again(&state, &token, &flow, None).await;
    }
    let (subject, caller) = (flow.subject()?, flow.caller(&req, &state));
    for label in labels(&subject.user) {
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
                return again(&state, &token, &flow, None).await;
            }
            Err(Error::Conflict(_)) => continue,
            Err(Error::StepUpRequired(_)) => return step_up_again(&state, &token, flow).await,
            Err(e) => return Err(e.into()),
        }
    }
    Err(Error::Conflict("too many devices with the same label".into()).into())
}

async fn phone(
    req: HttpRequest,
    state: web::Data<AppState>,
    token: web::Path<String>,
    body: web::Payload,
) -> Result<HttpResponse, PageError> {
    let (mut flow, form) = posted(&req, &state, &token, Purpose::Enroll, body).await?;
    if flow.device.is_some() {
        return again(&state, &token, &flow, None).await;
    }
    let (subject, caller) = (flow.subject()?, flow.caller(&req, &state));
    // Taken as written (the hint shows `+33 6 12 34 56 78`): the enrollment normalises it.
    let number = form.phone.unwrap_or_default();
    let ending = crate::factor::phone::normalise(&number)
        .map(|e164| e164[e164.len().saturating_sub(2)..].to_string())
        .unwrap_or_default();
    for label in labels(&format!("{} …{ending}", EN.phone_device_label)) {
        let want = sms::Enrollment {
            phone: number.clone(),
            label: Some(label),
            step_up: flow.step_up.clone(),
        };
        match sms::enroll(&state, &subject, &caller, want).await {
            Ok(enrolled) => {
                flow.step_up = None;
                flow.device = Some((enrolled.device.id, DeviceKind::Sms.as_str().into()));
                flow.save(&state).await?;
                return again(&state, &token, &flow, None).await;
            }
            Err(Error::Conflict(_)) => continue,
            Err(Error::StepUpRequired(_)) => return step_up_again(&state, &token, flow).await,
            Err(
                e @ (Error::InvalidRequest(_)
                | Error::PhoneNotAllowed
                | Error::RateLimited { .. }
                | Error::SmsResendTooSoon { .. }
                | Error::SmsFailed(_)
                | Error::SmsBudgetExhausted { .. }),
            ) => {
                // The step-up (if any) was used by the attempt: ask for a fresh one next time.
                flow.step_up = None;
                flow.save(&state).await?;
                let status = actix_web::ResponseError::status_code(&e);
                return again(
                    &state,
                    &token,
                    &flow,
                    Some((status, crate::http::error::public_message(&e))),
                )
                .await;
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
        return again(&state, &token, &flow, None).await;
    };
    if form.code.is_empty() {
        return again(&state, &token, &flow, Some(super::no_code(&EN))).await;
    }
    let code = Some(form.code.clone());
    let caller = flow.caller(&req, &state);
    match verify::confirm(&state, &flow.subject()?, &caller, id, code).await {
        Ok(confirmed) => {
            flow.assertion = Some(confirmed.assertion);
            flow.save(&state).await?;
            again(&state, &token, &flow, None).await
        }
        Err(e) => again(&state, &token, &flow, Some(code_problem(e.into(), &EN)?)).await,
    }
}

/// Recovery codes, shown in this answer only. The device just confirmed vouches for the step-up a
/// new set needs (SEC-7).
async fn recovery(
    req: HttpRequest,
    state: web::Data<AppState>,
    token: web::Path<String>,
    body: web::Payload,
) -> Result<HttpResponse, PageError> {
    let (mut flow, _) = posted(&req, &state, &token, Purpose::Enroll, body).await?;
    if flow.assertion.is_none() || flow.codes_made {
        return again(&state, &token, &flow, None).await;
    }
    // One set per flow, even under a double click: the second post must not void the first set.
    let once = format!("flowcodes:{{{}}}", flow.claims.nonce);
    let ttl = links::VALID_FOR.to_std().map_err(Error::internal)?;
    if !state
        .store
        .consume_once(&once, ttl)
        .await
        .map_err(Error::from)?
    {
        return again(&state, &token, &flow, None).await;
    }
    let caller = flow.caller(&req, &state);
    let subject = flow.subject()?;
    // Its own assertion for the step-up a new set needs: the one for the relying party stays
    // unused (it may want it as a step-up of its own).
    let (device, method) = match &flow.device {
        Some((id, kind)) if kind == DeviceKind::Sms.as_str() => (id.clone(), Method::Sms),
        Some((id, kind)) if kind == DeviceKind::Webauthn.as_str() => (id.clone(), Method::Webauthn),
        Some((id, _)) => (id.clone(), Method::Totp),
        None => return again(&state, &token, &flow, None).await,
    };
    let step_up = state
        .assertions
        .issue(
            state.clock.now(),
            &subject.tenant,
            &subject.user,
            Some(&device),
            method,
        )
        .map_err(Error::from)?;
    let codes =
        crate::app::factors::recovery::create(&state, &subject, &caller, Some(&step_up)).await?;
    flow.codes_made = true;
    flow.save(&state).await?;
    show_page(
        StatusCode::OK,
        &page(
            &state,
            &token,
            &flow,
            Stage::Done {
                codes,
                offer: false,
            },
            None,
        ),
    )
}

/// "Text me a code" for the step-up of a user whose device is a phone.
async fn text_me(
    req: HttpRequest,
    state: web::Data<AppState>,
    token: web::Path<String>,
    body: web::Payload,
) -> Result<HttpResponse, PageError> {
    let (flow, form) = posted(&req, &state, &token, Purpose::Enroll, body).await?;
    let (status, message, notice) = super::send_text(&req, &state, &flow, form.device).await?;
    let stage = stage_of(&state, &flow).await?;
    let mut p = page(&state, &token, &flow, stage, message);
    p.notice = notice;
    show_page(status, &p)
}

async fn finish(
    req: HttpRequest,
    state: web::Data<AppState>,
    token: web::Path<String>,
    body: web::Payload,
) -> Result<HttpResponse, PageError> {
    let (flow, _) = posted(&req, &state, &token, Purpose::Enroll, body).await?;
    let Some(assertion) = flow.assertion.clone() else {
        return again(&state, &token, &flow, None).await;
    };
    flow.end(&state).await?;
    Ok(see_other(&links::back_to(&flow.claims, &assertion)?))
}
