//! The hosted pages a relying party sends its users to (`/enroll/{token}`, `/verify/{token}`):
//! server-rendered, one base layout, every word in the Fluent files of [`crate::i18n`], in the
//! browser's language ([`words`]); script only for the security-key option.
//!
//! Opening a link claims it (single use, SEC-36) and starts a flow: a random token in a cookie
//! scoped to the link's path (HttpOnly, SameSite=Strict, Secure behind TLS), the flow's state in
//! the store under the token's keyed hash for ten minutes. Every form carries the flow's CSRF
//! token. Codes go through the same verify, confirm and limiter as the API.

mod enroll;
mod lock;
mod verify;
pub mod words;

use actix_web::cookie::Cookie;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq;

use crate::app::links::{self, Claims, Purpose, Refused};
use crate::app::state::AppState;
use crate::app::users::{Caller, Subject};
use crate::audit::Actor;
use crate::error::Error;
use crate::factor::kind::{DeviceKind, DeviceStatus};
use crate::http::console::session::{cookie, random_token};
pub use lock::{code_problem, key_problem};
use words::Words;

const COOKIE: &str = "twofold_flow";
const HASH_DOMAIN: &str = "page-flow";

pub fn register(cfg: &mut web::ServiceConfig) {
    cfg.service(
        crate::http::methods::Page::new("/static/webauthn.js", refuse)
            .get(webauthn_js)
            .finish(),
    );
    verify::register(cfg);
    enroll::register(cfg);
}

/// A page resource whose error pages speak the browser's language: [`PageError`] renders in
/// English (it sees no request), and this renders it again in the language chosen.
pub fn localised(resource: actix_web::Resource) -> impl actix_web::dev::HttpServiceFactory {
    resource.wrap(actix_web::middleware::from_fn(localise))
}

async fn localise(
    req: actix_web::dev::ServiceRequest,
    next: actix_web::middleware::Next<impl actix_web::body::MessageBody + 'static>,
) -> Result<actix_web::dev::ServiceResponse<impl actix_web::body::MessageBody>, actix_web::Error> {
    let res = next.call(req).await?;
    let again = res
        .response()
        .error()
        .and_then(|e| e.as_error::<PageError>())
        .zip(res.request().app_data::<web::Data<AppState>>())
        .map(|(e, state)| e.page(&Words::bare(res.request(), state)));
    Ok(match again {
        Some(page) => res.into_response(page).map_into_right_body(),
        None => res.map_into_left_body(),
    })
}

/// A flow in progress: the link's claims and what the user has done so far.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Flow {
    pub claims: Claims,
    pub csrf: String,
    /// Enroll: a fresh assertion of the user's, from a code of an existing device.
    pub step_up: Option<String>,
    /// Enroll: the pending device, and its kind.
    pub device: Option<(String, String)>,
    /// Enroll: the assertion of the confirmed device; the flow is then done.
    pub assertion: Option<String>,
    /// Enroll: recovery codes were made (and shown, once).
    #[serde(default)]
    pub codes_made: bool,
    /// Enroll: the security key being registered (pending until the browser's answer).
    #[serde(default)]
    pub key_pending: Option<String>,
    /// Enroll: the recovery codes just made, sealed, until the user says they saved them (the
    /// flow, and they with it, ends at the latest when its ten minutes are up).
    #[serde(default)]
    pub codes_sealed: Option<String>,
    /// Enroll: the pending phone, masked (`+33…78`), for the page that asks its code.
    #[serde(default)]
    pub phone_masked: Option<String>,
    /// Enroll: the numbers texted in this flow ("Use another number" is bounded).
    #[serde(default)]
    pub phones_tried: u8,
    #[serde(skip)]
    store_key: String,
}

impl Flow {
    pub fn subject(&self) -> Result<Subject, Error> {
        Subject::new(self.claims.tenant.clone(), self.claims.user.clone())
    }

    pub fn caller(&self, req: &HttpRequest, state: &AppState) -> Caller {
        Caller {
            unconfirmed_key: None,
            origin: crate::app::users::Origin::Browser,
            actor: Actor::ApiKey(self.claims.key_id.clone()),
            is_admin: false,
            ip: crate::http::client_ip(req, state.config.trust_forwarded_for),
        }
    }

    pub async fn save(&self, state: &AppState) -> Result<(), Error> {
        let value = serde_json::to_vec(self).map_err(Error::internal)?;
        let ttl = links::VALID_FOR.to_std().map_err(Error::internal)?;
        state.store.put(&self.store_key, &value, ttl).await?;
        Ok(())
    }

    pub async fn end(&self, state: &AppState) -> Result<(), Error> {
        state.store.delete(&self.store_key).await?;
        Ok(())
    }

    /// A form post must carry this flow's token.
    pub fn check(&self, presented: &str) -> Result<(), PageError> {
        if bool::from(self.csrf.as_bytes().ct_eq(presented.as_bytes())) {
            Ok(())
        } else {
            Err(PageError::Stale)
        }
    }
}

fn store_key(state: &AppState, token: &str) -> String {
    let hash = state.keys.hash(HASH_DOMAIN, token.as_bytes());
    format!("flow:{}", URL_SAFE_NO_PAD.encode(hash))
}

fn path_of(purpose: Purpose, token: &str) -> String {
    format!("/{}/{token}", purpose.as_str())
}

/// The flow of this browser for this link. The first opening claims the link and returns the
/// cookie to set; a link claimed already, by this browser or another, without the flow cookie
/// is used up.
pub async fn flow(
    req: &HttpRequest,
    state: &AppState,
    token: &str,
    purpose: Purpose,
    may_claim: bool,
) -> Result<(Flow, Option<Cookie<'static>>), PageError> {
    let now = state.clock.now();
    let claims = links::open(&state.keys, token, purpose, now).map_err(PageError::Link)?;
    let mut ongoing = None;
    if let Some(c) = req.cookie(COOKIE) {
        let key = store_key(state, c.value());
        if let Some(raw) = state.store.get(&key).await.map_err(Error::from)? {
            let mut flow: Flow = serde_json::from_slice(&raw).map_err(Error::internal)?;
            if flow.claims.nonce == claims.nonce {
                flow.store_key = key;
                ongoing = Some(flow);
            }
        }
    }
    if ongoing.is_none() && !may_claim {
        return Err(PageError::Used);
    }
    // A link, and the flow it opened, die with the key that asked for it: judged on every step.
    if !links::key_stands(&state.db, &claims).await? {
        if let Some(flow) = ongoing {
            flow.end(state).await?;
        }
        return Err(PageError::Link(Refused::Invalid));
    }
    if let Some(flow) = ongoing {
        return Ok((flow, None));
    }
    // Kept a minute past the expiry: another node whose clock runs behind still sees it claimed.
    let left = (claims.exp - now.timestamp()).max(1) + 60;
    let ttl = std::time::Duration::from_secs(u64::try_from(left).unwrap_or(60));
    let claimed = state
        .store
        .consume_once(&format!("link:{{{}}}", claims.nonce), ttl)
        .await
        .map_err(Error::from)?;
    if !claimed {
        return Err(PageError::Used);
    }
    let session = random_token()?;
    let flow = Flow {
        claims,
        csrf: random_token()?,
        step_up: None,
        device: None,
        assertion: None,
        codes_made: false,
        key_pending: None,
        codes_sealed: None,
        phone_masked: None,
        phones_tried: 0,
        store_key: store_key(state, &session),
    };
    flow.save(state).await?;
    let c = cookie(state, COOKIE, session, &path_of(purpose, token)).into_owned();
    Ok((flow, Some(c)))
}

/// Why a page cannot go on.
#[derive(Debug, thiserror::Error)]
pub enum PageError {
    #[error("link refused: {0:?}")]
    Link(Refused),
    #[error("link used")]
    Used,
    #[error("stale form")]
    Stale,
    #[error(transparent)]
    Api(#[from] Error),
}

#[derive(Template)]
#[template(path = "pages/error.html")]
struct ErrorPage {
    t: Words,
    message: String,
}

impl actix_web::ResponseError for PageError {
    fn status_code(&self) -> StatusCode {
        match self {
            PageError::Link(Refused::Invalid) => StatusCode::NOT_FOUND,
            PageError::Link(Refused::Expired) | PageError::Used => StatusCode::GONE,
            PageError::Stale => StatusCode::FORBIDDEN,
            PageError::Api(e) => e.status_code(),
        }
    }

    fn error_response(&self) -> HttpResponse {
        // Logs the cause of a 5xx, as the API does; `localise` renders the page again in the
        // browser's language.
        if let PageError::Api(e) = self {
            let _ = e.error_response();
        }
        // A bare answer: every page resource is wrapped in `localised`, which replaces it
        // with the page in the request's language (parsed words from the state, not per error).
        HttpResponse::build(self.status_code())
            .content_type("text/plain; charset=utf-8")
            .insert_header(("Content-Security-Policy", CSP))
            .body(self.status_code().canonical_reason().unwrap_or("error"))
    }
}

impl PageError {
    /// This error's page, in `t`'s language.
    fn page(&self, t: &Words) -> HttpResponse {
        let message = match self {
            PageError::Link(Refused::Invalid) => t.say("link-invalid"),
            PageError::Link(Refused::Expired) => t.say("link-expired"),
            PageError::Used => t.say("link-used"),
            PageError::Stale => t.say("form-stale"),
            PageError::Api(Error::Unavailable(_) | Error::Internal(_)) => t.say("unavailable"),
            PageError::Api(other) => crate::http::error::public_message(other),
        };
        let status = actix_web::ResponseError::status_code(self);
        let body = ErrorPage {
            t: t.clone(),
            message,
        }
        .render()
        .unwrap_or_else(|_| "error".into());
        page_with_cookie(status, body, None)
            .unwrap_or_else(|e| HttpResponse::InternalServerError().body(e.to_string()))
    }
}

/// The pages' 405: their error page, and the methods the path takes in `Allow`.
pub fn refuse(req: &HttpRequest, allow: &str) -> HttpResponse {
    let message = crate::http::error::method_not_allowed_message(req.method(), allow);
    let body = match req.app_data::<web::Data<AppState>>() {
        Some(state) => ErrorPage {
            t: Words::bare(req, state),
            message,
        }
        .render()
        .unwrap_or_else(|_| "error".into()),
        None => message,
    };
    let res = page_with_cookie(StatusCode::METHOD_NOT_ALLOWED, body, None);
    let mut res = res.unwrap_or_else(|e| actix_web::ResponseError::error_response(&e));
    if let Ok(value) = actix_web::http::header::HeaderValue::from_str(allow) {
        res.headers_mut()
            .insert(actix_web::http::header::ALLOW, value);
    }
    res
}

/// The pages' CSP: no script, styles from us, never framed. Unlike the console it sets no
/// `form-action`: browsers apply that to every hop of the redirect after a post, and the final
/// post's 303 goes to the relying party, whose callback may well redirect on.
const CSP: &str =
    "default-src 'none'; style-src 'self'; img-src 'self'; frame-ancestors 'none'; base-uri 'none'";

/// The CSP of a page that offers a security key: our one script, which may call back to us
/// for the ceremony's options. No inline script, no other origin.
const CSP_WITH_SCRIPT: &str = "default-src 'none'; script-src 'self'; connect-src 'self'; \
                               style-src 'self'; img-src 'self'; frame-ancestors 'none'; \
                               base-uri 'none'";

/// The script of the security-key option.
const WEBAUTHN_JS: &str = include_str!("../../../templates/webauthn.js");

/// A page's security-key option: where its form posts, where the script gets the options.
pub struct KeyOption {
    pub action: String,
    pub options: String,
    /// `create` (registration) or `get` (sign-in).
    pub ceremony: &'static str,
    pub intro: String,
    pub button: String,
}

async fn webauthn_js() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/javascript; charset=utf-8")
        .insert_header((
            actix_web::http::header::CACHE_CONTROL,
            "public, max-age=3600",
        ))
        .body(WEBAUTHN_JS)
}

/// [`render`] for a page that may offer a security key: the script is allowed only then.
pub fn render_with_key(
    status: StatusCode,
    t: &impl Template,
    scripted: bool,
) -> Result<HttpResponse, PageError> {
    let mut res = render(status, t, None)?;
    if scripted {
        res.headers_mut().insert(
            actix_web::http::header::CONTENT_SECURITY_POLICY,
            actix_web::http::header::HeaderValue::from_static(CSP_WITH_SCRIPT),
        );
    }
    Ok(res)
}

/// A page answer with the given status (pages that show a secret are never cached: every answer
/// of the service carries `Cache-Control: no-store`).
pub fn render(
    status: StatusCode,
    t: &impl Template,
    cookie: Option<Cookie<'static>>,
) -> Result<HttpResponse, PageError> {
    let body = t.render().map_err(Error::internal)?;
    page_with_cookie(status, body, cookie)
}

fn page_with_cookie(
    status: StatusCode,
    body: String,
    cookie: Option<Cookie<'static>>,
) -> Result<HttpResponse, PageError> {
    let mut res = HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .insert_header(("Content-Security-Policy", CSP))
        .body(body);
    if let Some(c) = cookie {
        res.add_cookie(&c).map_err(Error::internal)?;
    }
    Ok(res)
}

#[derive(Template)]
#[template(path = "pages/continue.html")]
struct Continue {
    t: Words,
    here: String,
}

/// The answer to the opening that claimed a link: the flow cookie, and a refresh to the same
/// page. The browser came from the relying party's site, so a SameSite=Strict cookie would not
/// go with a reload of this navigation; the refresh is a navigation of our own, whose reloads
/// (a phone reloading a discarded tab while its user reads their app) carry the cookie. The page
/// is built from the route and the (genuine) token only: nothing else of the request reaches it.
pub fn claimed(
    t: Words,
    purpose: Purpose,
    token: &str,
    cookie: Cookie<'static>,
) -> Result<HttpResponse, PageError> {
    let here = path_of(purpose, token);
    let body = Continue { t, here }.render().map_err(Error::internal)?;
    page_with_cookie(StatusCode::OK, body, Some(cookie))
}

/// The fields of the page forms: each form sends the ones it has.
#[derive(Debug, Default, Deserialize)]
pub struct PageForm {
    #[serde(default)]
    pub csrf: String,
    #[serde(default)]
    pub code: String,
    pub phone: Option<String>,
    pub device: Option<String>,
    /// A security key's answer (`PublicKeyCredential.toJSON()` as text).
    pub credential: Option<String>,
    /// A hardware token's serial (claim).
    pub serial: Option<String>,
    /// Two consecutive codes of a HOTP token (resync).
    pub first: Option<String>,
    pub second: Option<String>,
    /// "I have saved these codes" (`yes` when ticked).
    pub saved: Option<String>,
}

/// The flow behind a form post, its CSRF token checked, and the form (a urlencoded body, read
/// once the flow is known).
pub async fn posted(
    req: &HttpRequest,
    state: &AppState,
    token: &str,
    purpose: Purpose,
    body: web::Payload,
) -> Result<(Flow, PageForm), PageError> {
    let (flow, _) = flow(req, state, token, purpose, false).await?;
    let mut form: PageForm = crate::http::form_body(&crate::http::body(body).await?)?;
    flow.check(&form.csrf)?;
    form.code = typed_code(&form.code);
    form.first = form.first.as_deref().map(typed_code);
    form.second = form.second.as_deref().map(typed_code);
    Ok((flow, form))
}

/// A code as people type it on a page: spaces anywhere (`123 456`, a pasted non-breaking space)
/// are dropped, and hyphens too when only digits remain (`123-456`); a recovery code keeps its
/// hyphens. Only the pages forgive this: the API stays strict (SEC-12).
pub fn typed_code(raw: &str) -> String {
    let joined: String = raw.chars().filter(|c| !c.is_whitespace()).collect();
    let digits: String = joined.chars().filter(|c| *c != '-').collect();
    if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
        digits
    } else {
        joined
    }
}

/// "Text me a code": sends a login code to the user's phone `device` (or, on the enroll page, a
/// new confirmation code to the pending one). Returns the page's status and its error message or
/// notice (the phone's ending and the wait before another).
pub async fn send_text(
    req: &HttpRequest,
    state: &AppState,
    flow: &Flow,
    t: &Words,
    device: Option<String>,
) -> Result<(StatusCode, Option<String>, Option<String>), PageError> {
    let subject = flow.subject()?;
    let send = crate::app::factors::sms::SendRequest { device_id: device };
    let caller = flow.caller(req, state);
    let sent = crate::app::factors::sms::send_code(state, &subject, &caller, send);
    let wait = |secs: u64| {
        let secs = i64::try_from(secs).unwrap_or(i64::MAX);
        t.say_with("resend-in", &[("seconds", crate::i18n::Arg::Number(secs))])
    };
    match sent.await {
        Ok(s) => {
            let devices = crate::app::devices::list(state, &subject).await?;
            let ending = devices
                .iter()
                .find(|d| d.id == s.device_id)
                .and_then(|d| d.phone_last_digits.clone())
                .unwrap_or_default();
            let sent = t.say_with("text-sent", &[("ending", crate::i18n::Arg::Text(&ending))]);
            let notice = format!("{sent} {}", wait(s.resend_after));
            Ok((StatusCode::OK, None, Some(notice)))
        }
        Err(
            Error::RateLimited { retry_after_secs }
            | Error::SmsResendTooSoon {
                retry_after_secs, ..
            },
        ) => Ok((
            StatusCode::TOO_MANY_REQUESTS,
            Some(wait(retry_after_secs)),
            None,
        )),
        Err(e) => Err(e.into()),
    }
}

/// The user's first active phone, for "text me a code".
pub async fn first_phone(
    state: &AppState,
    flow: &Flow,
) -> Result<Option<crate::app::devices::Device>, PageError> {
    let devices = crate::app::devices::list(state, &flow.subject()?).await?;
    Ok(devices
        .into_iter()
        .find(|d| d.status == DeviceStatus::Active && d.kind == DeviceKind::Sms))
}

/// An empty code field: said so, and not an attempt (no browser check stops the post: the
/// pages have none, so the server says what is wrong).
pub fn no_code(t: &Words) -> (StatusCode, String) {
    (StatusCode::BAD_REQUEST, t.say("code-missing"))
}

/// 303 to `location`.
pub fn see_other(location: &str) -> HttpResponse {
    crate::http::console::see_other(location)
}
