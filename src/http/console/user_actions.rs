//! The forms of a user's page: revoke one device or all (each confirmed first, see
//! [`super::confirm`]), unlock, resync a HOTP token. Every post carries the session's CSRF token.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use serde::Deserialize;

use super::confirm::{ConfirmPage, confirmed};
use super::form_errors::{Errors, about_input, status_of};
use super::session::Console;
use super::users::{Shown, user_href, user_page};
use super::{ConsoleError, Nav, link, render, see_other, when};
use crate::app::admin;
use crate::app::devices::Device;
use crate::app::state::AppState;
use crate::app::users::Subject;
use crate::app::verify::VerifyError;
use crate::error::Error;
use crate::factor::kind::DeviceStatus;
use crate::http::methods::Page;

pub fn register(cfg: &mut web::ServiceConfig) {
    let page = |path| Page::new(path, super::refuse);
    cfg.service(page("/admin/user/revoke").post(revoke).finish())
        .service(page("/admin/user/revoke-all").post(revoke_all).finish())
        .service(page("/admin/user/unlock").post(unlock).finish())
        .service(page("/admin/user/resync").post(resync).finish());
}

#[derive(Deserialize)]
struct UserForm {
    #[serde(default)]
    csrf: String,
    tenant: Option<String>,
    #[serde(default)]
    user: String,
    /// For revoking one device, and resync.
    device: Option<String>,
    /// Resync: two consecutive codes of a HOTP token.
    first: Option<String>,
    second: Option<String>,
    /// `yes` from the confirmation page: the revoke acts.
    confirmed: Option<String>,
}

/// Reads the form and checks its CSRF token, then names the user it acts on.
async fn read(console: &Console, body: web::Payload) -> Result<(UserForm, Subject), ConsoleError> {
    let f: UserForm = super::form(&crate::http::body(body).await?)?;
    console.check_csrf(&f.csrf)?;
    let tenant = console.key.tenant_for(f.tenant.as_deref())?;
    let subject = Subject::new(tenant, f.user.clone())?;
    Ok((f, subject))
}

fn device_of(f: &UserForm) -> Result<String, ConsoleError> {
    let device = f.device.clone();
    let device = device.ok_or_else(|| Error::InvalidRequest("which device?".into()))?;
    Ok(crate::http::id(device)?)
}

fn back(subject: &Subject, done: &str) -> HttpResponse {
    see_other(&link(
        "/admin/user",
        &[
            ("tenant", &subject.tenant),
            ("user", &subject.user),
            ("done", done),
        ],
    ))
}

fn revocable(d: &Device) -> bool {
    matches!(d.status, DeviceStatus::Active | DeviceStatus::Pending)
}

/// The devices of the user that a revoke would reach.
async fn revocable_devices(
    state: &AppState,
    subject: &Subject,
) -> Result<Vec<Device>, ConsoleError> {
    let detail = admin::user(state, subject).await?;
    Ok(detail.devices.into_iter().filter(revocable).collect())
}

fn confirmation(console: &Console, subject: &Subject) -> ConfirmPage {
    ConfirmPage {
        nav: Some(Nav::new(console, &subject.tenant)),
        csrf: console.csrf().to_string(),
        heading: String::new(),
        facts: vec![
            ("User", subject.user.clone()),
            ("Tenant", subject.tenant.clone()),
        ],
        effect: String::new(),
        warning: None,
        action: String::new(),
        fields: vec![
            ("tenant", subject.tenant.clone()),
            ("user", subject.user.clone()),
        ],
        button: "Revoke",
        cancel_href: user_href(&subject.tenant, &subject.user),
    }
}

async fn revoke(
    state: web::Data<AppState>,
    console: Console,
    body: web::Payload,
) -> Result<HttpResponse, ConsoleError> {
    let (f, subject) = read(&console, body).await?;
    let device = device_of(&f)?;
    if !confirmed(f.confirmed.as_deref()) {
        let found = revocable_devices(&state, &subject).await?;
        let d = found
            .into_iter()
            .find(|d| d.id == device)
            .ok_or(Error::NotFound)?;
        let mut page = confirmation(&console, &subject);
        page.heading = format!("Revoke device “{}” of {}?", d.label, subject.user);
        page.facts.extend([
            ("Device", d.label.clone()),
            ("Kind", d.kind.to_string()),
            ("Status", d.status.to_string()),
            ("Created", when(d.created_at)),
            (
                "Last used",
                d.last_used_at.map(when).unwrap_or_else(|| "never".into()),
            ),
        ]);
        page.effect = format!(
            "The device stops working at once: its next code or signature is refused, and a \
             texted code on its way dies with it. To use it again, {} must enroll it anew.",
            subject.user
        );
        page.action = "/admin/user/revoke".into();
        page.fields.push(("device", device));
        return render(&page);
    }
    crate::app::devices::revoke(&state, &subject, &console.caller(), device, None).await?;
    Ok(back(&subject, "revoked"))
}

async fn revoke_all(
    state: web::Data<AppState>,
    console: Console,
    body: web::Payload,
) -> Result<HttpResponse, ConsoleError> {
    let (f, subject) = read(&console, body).await?;
    if !confirmed(f.confirmed.as_deref()) {
        let found = revocable_devices(&state, &subject).await?;
        let mut page = confirmation(&console, &subject);
        page.heading = format!("Revoke every device of {}?", subject.user);
        let listed = found
            .iter()
            .map(|d| format!("{} ({}, {})", d.label, d.kind, d.status))
            .collect::<Vec<_>>();
        let listed = if listed.is_empty() {
            "none: no device is active or pending".to_string()
        } else {
            format!("{}: {}", listed.len(), listed.join("; "))
        };
        page.facts.push(("Devices to revoke", listed));
        page.effect = format!(
            "Every active or pending device of {} stops working at once, and texted codes on \
             their way die with them. To sign in with a second factor again, {} must enroll anew.",
            subject.user, subject.user
        );
        page.action = "/admin/user/revoke-all".into();
        page.button = "Revoke all devices";
        return render(&page);
    }
    admin::revoke_all(&state, &subject, &console.caller()).await?;
    Ok(back(&subject, "revoked_all"))
}

async fn unlock(
    state: web::Data<AppState>,
    console: Console,
    body: web::Payload,
) -> Result<HttpResponse, ConsoleError> {
    let (_, subject) = read(&console, body).await?;
    admin::unlock(&state, &subject, &console.caller()).await?;
    Ok(back(&subject, "unlocked"))
}

/// Two consecutive codes of a HOTP token, read off it by the user (on the phone to the help
/// desk): the token back in step. Through the user's limiter, like any code. Codes that do not
/// fit come back beside the form, as typed.
async fn resync(
    state: web::Data<AppState>,
    console: Console,
    body: web::Payload,
) -> Result<HttpResponse, ConsoleError> {
    let (f, subject) = read(&console, body).await?;
    let device = device_of(&f)?;
    let (first, second) = (f.first.clone(), f.second.clone());
    let outcome = crate::app::verify::resync(
        &state,
        &subject,
        &console.caller(),
        device.clone(),
        first.clone(),
        second.clone(),
    )
    .await;
    let (text, status) = match outcome {
        Ok(_) => return Ok(back(&subject, "resynced")),
        Err(VerifyError::InvalidCode) => (
            "These are not two consecutive codes of this token: ask for two new ones, one \
             press after the other."
                .to_string(),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        Err(VerifyError::Malformed) => (
            "Each code is 6 or 8 digits.".to_string(),
            StatusCode::BAD_REQUEST,
        ),
        Err(VerifyError::Refused(e)) => match about_input(&e) {
            Some(m) => (m, status_of(&e)),
            None => return Err(e.into()),
        },
    };
    let shown = Shown {
        errors: Errors::one(format!("first-{device}"), text),
        resync: Some((
            device,
            first.unwrap_or_default(),
            second.unwrap_or_default(),
        )),
        ..Shown::default()
    };
    user_page(&state, &console, &subject, shown, status).await
}
