//! The enroll page's hardware choices: a security key (the ceremony run by the page's script)
//! and a token of the inventory (its serial and a code).

use actix_web::{HttpRequest, HttpResponse, web};

use super::super::words::Words;
use super::super::{PageError, code_problem, posted};
use super::{again, step_up_again};
use crate::app::factors::webauthn::{self, rp};
use crate::app::links::Purpose;
use crate::app::state::AppState;
use crate::app::verify;
use crate::error::Error;
use crate::factor::kind::DeviceKind;

/// Starts registering a security key for the page's script: the pending device and the
/// creation options. The device is the flow's once its answer is confirmed.
pub(super) async fn key_options(
    req: HttpRequest,
    state: web::Data<AppState>,
    token: web::Path<String>,
    body: web::Payload,
) -> Result<HttpResponse, PageError> {
    let (mut flow, _) = posted(&req, &state, &token, Purpose::Enroll, body).await?;
    if flow.device.is_some() {
        return Err(Error::Conflict("a device is being set up already".into()).into());
    }
    let (subject, caller) = (flow.subject()?, flow.caller(&req, &state));
    let rp = rp::hosted(&state).ok_or(Error::NotFound)?;
    // A second try (a cancelled prompt) replaces the first pending key: one per flow.
    if let Some(old) = flow.key_pending.take() {
        let (tenant, user) = (subject.tenant.clone(), subject.user.clone());
        state
            .db
            .run(move |c| crate::db::devices::delete_pending(c, &tenant, &user, &old))
            .await
            .map_err(Error::from)?;
    }
    let want = webauthn::Enrollment {
        label: None,
        display_name: flow.claims.account_name.clone(),
        step_up: flow.step_up.take(),
        rp,
    };
    // The step-up is used by the attempt, whatever its outcome.
    let enrolled = webauthn::enroll(&state, &subject, &caller, want).await;
    if let Ok(e) = &enrolled {
        flow.key_pending = Some(e.device.id.clone());
    }
    flow.save(&state).await?;
    // A refused step-up answers 403: the script reloads the page, which asks for a code first.
    let enrolled = enrolled?;
    Ok(HttpResponse::Ok().json(serde_json::json!({
        "options": enrolled.options,
        "device_id": enrolled.device.id,
    })))
}

/// The key's answer to the creation options: confirms the pending device it names.
pub(super) async fn key_confirm(
    req: HttpRequest,
    state: web::Data<AppState>,
    token: web::Path<String>,
    body: web::Payload,
) -> Result<HttpResponse, PageError> {
    let (mut flow, form) = posted(&req, &state, &token, Purpose::Enroll, body).await?;
    if flow.device.is_some() {
        return again(&state, &req, &token, &flow, None).await;
    }
    // Only the key this flow started: never another pending device of the user.
    let Some(id) = form.device.filter(|d| flow.key_pending.as_ref() == Some(d)) else {
        return again(&state, &req, &token, &flow, None).await;
    };
    let caller = flow.caller(&req, &state);
    let credential = Some(form.credential.unwrap_or_default());
    match verify::confirm(&state, &flow.subject()?, &caller, id.clone(), credential).await {
        Ok(confirmed) => {
            flow.key_pending = None;
            flow.device = Some((id, DeviceKind::Webauthn.as_str().into()));
            flow.assertion = Some(confirmed.assertion);
            flow.save(&state).await?;
            super::codes::first_set(&state, &caller, &mut flow).await;
            again(&state, &req, &token, &flow, None).await
        }
        Err(e) => {
            let t = Words::of(&req, &state, &flow.claims);
            let problem = super::super::key_problem(&state, &flow, &t, e.into()).await?;
            again(&state, &req, &token, &flow, Some(problem.into())).await
        }
    }
}

/// "Use this token": a hardware token of the inventory, claimed with its serial and a code.
pub(super) async fn claim_token(
    req: HttpRequest,
    state: web::Data<AppState>,
    token: web::Path<String>,
    body: web::Payload,
) -> Result<HttpResponse, PageError> {
    let (mut flow, form) = posted(&req, &state, &token, Purpose::Enroll, body).await?;
    if flow.device.is_some() {
        return again(&state, &req, &token, &flow, None).await;
    }
    let caller = flow.caller(&req, &state);
    // People copy serials with spaces; the inventory's have none.
    let serial: String = form
        .serial
        .unwrap_or_default()
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    let typed_serial = serial.clone();
    let code = Some(form.code.clone());
    // The step-up is used by the attempt, whatever its outcome.
    let step_up = flow.step_up.take();
    let claimed = verify::claim(&state, &flow.subject()?, &caller, serial, code, step_up).await;
    match claimed {
        Ok(c) => {
            flow.device = Some((c.device.id.clone(), c.device.kind.as_str().into()));
            flow.assertion = Some(c.assertion);
            flow.save(&state).await?;
            super::codes::first_set(&state, &caller, &mut flow).await;
            again(&state, &req, &token, &flow, None).await
        }
        Err(verify::VerifyError::Refused(Error::StepUpRequired(_))) => {
            step_up_again(&state, &req, &token, flow).await
        }
        Err(e) => {
            flow.save(&state).await?;
            let t = Words::of(&req, &state, &flow.claims);
            let (status, message) = code_problem(&state, &flow, &t, e.into()).await?;
            let problem = super::Problem {
                status,
                message,
                field: "serial",
                typed: typed_serial,
            };
            again(&state, &req, &token, &flow, Some(problem)).await
        }
    }
}
