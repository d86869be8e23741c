//! A relying party in a few dozen lines: it sends its user to twofold's hosted pages and checks
//! the assertion that comes back, offline, against twofold's JWKS.
//!
//! ```sh
//! twofold api-key create --name demo --role client --return-url-prefix http://127.0.0.1:3000/
//! RP_API_KEY=tfk_… cargo run --example relying_party     # then open http://127.0.0.1:3000
//! ```
//! `RP_TWOFOLD_URL` (default `http://127.0.0.1:8080`) and `RP_LISTEN` (default
//! `127.0.0.1:3000`) say where twofold and this demo are; `RP_PUBLIC_URL` (default
//! `http://<RP_LISTEN>`) is how browsers reach the demo.

// A demo that stops at the first thing that is not as it should be.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::sync::Mutex;

use actix_web::{App, HttpResponse, HttpServer, get, post, web};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use serde_json::{Value, json};

struct Rp {
    twofold: String,
    api_key: String,
    me: String,
    http: reqwest::Client,
    /// `state` values we handed out and not yet seen back, with the user each was for: what
    /// stops a forged callback or an assertion of another user. (A real relying party keeps it in
    /// the user's session, so it is also bound to the browser.)
    pending: Mutex<HashMap<String, String>>,
}

#[derive(Deserialize)]
struct Start {
    purpose: String,
    user: String,
}

#[derive(Deserialize)]
struct Back {
    state: String,
    /// Absent when the user chose "Cancel and return" (`error=cancelled`).
    assertion: Option<String>,
    error: Option<String>,
}

fn html(body: String) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body(format!(
            "<!doctype html><meta charset=utf-8><title>Demo RP</title><main>{body}</main>"
        ))
}

#[get("/")]
async fn home() -> HttpResponse {
    let form = |purpose: &str, label: &str| {
        format!(
            "<form method=post action=/start><input type=hidden name=purpose value={purpose}>\
             <label>User <input name=user value=alice></label> <button>{label}</button></form>"
        )
    };
    html(format!(
        "<h1>Demo relying party</h1>{}{}",
        form("enroll", "Set up two-step sign-in"),
        form("verify", "Sign in with a second factor")
    ))
}

/// Asks twofold for a link and sends the browser there.
#[post("/start")]
async fn start(rp: web::Data<Rp>, form: web::Form<Start>) -> actix_web::Result<HttpResponse> {
    let state = format!("{:032x}", rand::random::<u128>());
    let link: Value = rp
        .http
        .post(format!(
            "{}/v1/users/{}/links",
            rp.twofold,
            url::form_urlencoded::byte_serialize(form.user.as_bytes()).collect::<String>()
        ))
        .bearer_auth(&rp.api_key)
        .json(&json!({"purpose": form.purpose, "return_url": format!("{}/back", rp.me), "state": state}))
        .send()
        .await
        .and_then(reqwest::Response::error_for_status)
        .map_err(actix_web::error::ErrorBadGateway)?
        .json()
        .await
        .map_err(actix_web::error::ErrorBadGateway)?;
    rp.pending.lock().unwrap().insert(state, form.user.clone());
    let url = link["url"].as_str().unwrap_or_default().to_string();
    Ok(HttpResponse::SeeOther()
        .insert_header(("Location", url))
        .finish())
}

/// The browser is back: our own `state`, and an assertion that verifies against the JWKS.
#[get("/back")]
async fn back(rp: web::Data<Rp>, q: web::Query<Back>) -> actix_web::Result<HttpResponse> {
    let Some(user) = rp.pending.lock().unwrap().remove(&q.state) else {
        return Err(actix_web::error::ErrorBadRequest("unknown state"));
    };
    // The user went back without a second factor: no sign-in, and our own page says so.
    let (Some(assertion), None) = (&q.assertion, &q.error) else {
        // Nothing of the query is echoed: only words of our own.
        let why = match q.error.as_deref() {
            Some("cancelled") => "cancelled",
            _ => "no assertion",
        };
        return Ok(html(format!(
            "<h1>Not signed in</h1><p id=cancelled>The second step was not finished ({why}).</p>"
        )));
    };
    let bad = actix_web::error::ErrorUnauthorized;
    let kid = jsonwebtoken::decode_header(assertion)
        .map_err(bad)?
        .kid
        .unwrap_or_default();
    let jwks: Value = rp
        .http
        .get(format!("{}/.well-known/jwks.json", rp.twofold))
        .send()
        .await
        .map_err(actix_web::error::ErrorBadGateway)?
        .json()
        .await
        .map_err(actix_web::error::ErrorBadGateway)?;
    let jwk = jwks["keys"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|k| k["kid"] == kid.as_str());
    let x = jwk
        .and_then(|k| k["x"].as_str())
        .ok_or_else(|| actix_web::error::ErrorUnauthorized("unknown key"))?;
    let mut validation = Validation::new(Algorithm::EdDSA);
    validation.set_audience(&["default"]);
    validation.set_issuer(&[rp.twofold.as_str()]);
    let key = DecodingKey::from_ed_components(x).map_err(bad)?;
    let claims = jsonwebtoken::decode::<Value>(assertion, &key, &validation)
        .map_err(bad)?
        .claims;
    if claims["sub"] != user.as_str() {
        return Err(actix_web::error::ErrorUnauthorized(
            "an assertion of another user",
        ));
    }
    // A real relying party also keeps each `jti` until its `exp`, so an assertion works once.
    Ok(html(format!(
        "<h1 id=verified>Verified</h1><p>user <b id=sub>{}</b>, method {}, device {}</p><p><a href=/>Again</a></p>",
        claims["sub"].as_str().unwrap_or_default(),
        claims["amr"],
        claims["device_id"].as_str().unwrap_or("none"),
    )))
}

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let env = |k: &str, d: &str| std::env::var(k).unwrap_or_else(|_| d.to_string());
    let listen = env("RP_LISTEN", "127.0.0.1:3000");
    let rp = web::Data::new(Rp {
        twofold: env("RP_TWOFOLD_URL", "http://127.0.0.1:8080")
            .trim_end_matches('/')
            .into(),
        api_key: std::env::var("RP_API_KEY").expect("RP_API_KEY: a client key of twofold"),
        me: std::env::var("RP_PUBLIC_URL").unwrap_or_else(|_| format!("http://{listen}")),
        http: reqwest::Client::new(),
        pending: Mutex::new(HashMap::new()),
    });
    println!("demo relying party on http://{listen}");
    HttpServer::new(move || {
        App::new()
            .app_data(rp.clone())
            .service(home)
            .service(start)
            .service(back)
    })
    .bind(&listen)?
    .run()
    .await
}
