//! The enroll page's phone: the number (kept in the field when refused, said wrong in words a
//! person understands), the page that asks the texted code (which number, masked; "Send a new
//! code"; "Use another number"), and "Text me a code" for a step-up.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};

use super::super::words::Words;
use super::super::{PageError, posted};
use super::{Problem, again, labels, page, show_page, stage_of, step_up_again};
use crate::app::factors::sms;
use crate::app::links::Purpose;
use crate::app::state::AppState;
use crate::error::Error;
use crate::factor::kind::DeviceKind;

/// The numbers one enroll flow may text: enough for a typo or two, not a way to text many.
pub(super) const MAX_NUMBERS: u8 = 3;

pub(super) async fn phone(
    req: HttpRequest,
    state: web::Data<AppState>,
    token: web::Path<String>,
    body: web::Payload,
) -> Result<HttpResponse, PageError> {
    let (mut flow, form) = posted(&req, &state, &token, Purpose::Enroll, body).await?;
    if flow.device.is_some() {
        return again(&state, &req, &token, &flow, None).await;
    }
    let (subject, caller) = (flow.subject()?, flow.caller(&req, &state));
    let t = Words::of(&req, &state, &flow.claims);
    if flow.phones_tried >= MAX_NUMBERS {
        let p = Problem {
            status: StatusCode::TOO_MANY_REQUESTS,
            message: t.say("phone-too-many"),
            field: "phone",
            typed: String::new(),
        };
        return again(&state, &req, &token, &flow, Some(p)).await;
    }
    // Taken as written (the hint shows `+44 7400 123456`): the enrollment normalises it.
    let number = form.phone.unwrap_or_default();
    let refused = |message: String| Problem {
        status: StatusCode::BAD_REQUEST,
        message,
        field: "phone",
        typed: number.clone(),
    };
    if number.trim().is_empty() {
        let p = refused(t.say("phone-missing"));
        return again(&state, &req, &token, &flow, Some(p)).await;
    }
    let Ok(parsed) = crate::factor::phone::Phone::parse(&number) else {
        let p = refused(t.say("phone-invalid"));
        return again(&state, &req, &token, &flow, Some(p)).await;
    };
    let ending = parsed.last_digits();
    let first = t.say_with(
        "label-phone",
        &[("digits", crate::i18n::Arg::Text(&ending))],
    );
    for label in labels(&first) {
        let want = sms::Enrollment {
            phone: number.clone(),
            label: Some(label),
            step_up: flow.step_up.clone(),
        };
        match sms::enroll(&state, &subject, &caller, want).await {
            Ok(enrolled) => {
                flow.step_up = None;
                flow.device = Some((enrolled.device.id, DeviceKind::Sms.as_str().into()));
                flow.phone_masked = Some(parsed.redacted());
                flow.phones_tried = flow.phones_tried.saturating_add(1);
                flow.save(&state).await?;
                return again(&state, &req, &token, &flow, None).await;
            }
            Err(Error::Conflict(_)) => continue,
            Err(Error::StepUpRequired(_)) => {
                return step_up_again(&state, &req, &token, flow).await;
            }
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
                let mut p = refused(match e {
                    Error::InvalidRequest(_) => t.say("phone-invalid"),
                    ref other => crate::http::error::public_message(other),
                });
                p.status = actix_web::ResponseError::status_code(&e);
                return again(&state, &req, &token, &flow, Some(p)).await;
            }
            Err(e) => return Err(e.into()),
        }
    }
    Err(Error::Conflict("too many devices with the same label".into()).into())
}

/// "Use another number": back to the choices, the pending phone deleted (it never became a
/// factor). A flow texts at most [`MAX_NUMBERS`] numbers.
pub(super) async fn another(
    req: HttpRequest,
    state: web::Data<AppState>,
    token: web::Path<String>,
    body: web::Payload,
) -> Result<HttpResponse, PageError> {
    let (mut flow, _) = posted(&req, &state, &token, Purpose::Enroll, body).await?;
    let pending = match &flow.device {
        Some((id, kind)) if kind == DeviceKind::Sms.as_str() && flow.assertion.is_none() => {
            Some(id.clone())
        }
        _ => None,
    };
    if let Some(id) = pending {
        // Gone, not left to expire: the number can no longer be texted from this flow.
        let subject = flow.subject()?;
        let (tenant, user) = (subject.tenant, subject.user);
        state
            .db
            .run(move |c| crate::db::devices::delete_pending(c, &tenant, &user, &id))
            .await
            .map_err(Error::from)?;
        flow.device = None;
        flow.phone_masked = None;
        flow.save(&state).await?;
    }
    again(&state, &req, &token, &flow, None).await
}

/// "Text me a code" for the step-up of a user whose device is a phone, and "Send a new code" for
/// the pending phone.
pub(super) async fn text_me(
    req: HttpRequest,
    state: web::Data<AppState>,
    token: web::Path<String>,
    body: web::Payload,
) -> Result<HttpResponse, PageError> {
    let (flow, form) = posted(&req, &state, &token, Purpose::Enroll, body).await?;
    let t = Words::of(&req, &state, &flow.claims);
    let (status, message, notice) =
        super::super::send_text(&req, &state, &flow, &t, form.device).await?;
    let stage = stage_of(&state, &flow).await?;
    let problem = message.map(|m| Problem::from((status, m)));
    let mut p = page(&state, t, &token, &flow, stage, problem).await?;
    p.notice = notice;
    show_page(status, &p)
}
