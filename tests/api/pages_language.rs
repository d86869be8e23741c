//! Whose site is asking, and in which language: the pages name the relying party (the link's
//! key's display name, else the tenant's, else the return URL's host), offer a way back that
//! says "cancelled", and speak the browser's language among those shipped, else the tenant's
//! default, else English.

use serde_json::{Value, json};
use twofold::app::api_keys::{self, NewApiKey, Role};
use twofold::audit::Actor;

use crate::helpers::{Backend, TestApp, spawn_app, spawn_app_with};
use crate::pages_links::{Browser, Link, RETURN_URL, link, open, page, request_link};

fn assert_has(html: &str, parts: &[&str]) {
    for part in parts {
        assert!(html.contains(part), "{part} in {html}");
    }
}

/// The `href` of the cancel link, its `&amp;` decoded.
fn cancel_href(html: &str) -> url::Url {
    let marker = "<p class=\"cancel\"><a href=\"";
    let at = html.find(marker).expect("a cancel link") + marker.len();
    let href = &html[at..at + html[at..].find('"').unwrap()];
    url::Url::parse(&href.replace("&amp;", "&")).unwrap()
}

async fn a_french_browser_gets_french_pages_naming_the_site(backend: Backend) {
    let app = spawn_app(backend).await;
    let device = app.active_device("alice").await;
    let l = link(&app, "alice", "verify", Some("xyz")).await;
    let mut b = Browser::speaking(&app, "fr-CA,fr;q=0.9,en;q=0.5");
    let (html, csrf) = open(&mut b, &l).await;
    // No name configured: the host the user came from, never "twofold".
    assert_has(
        &html,
        &[
            "<html lang=\"fr\">",
            "<title>Connexion à rp.example</title>",
            "<h1>Connexion à rp.example</h1>",
            "Annuler et revenir à rp.example",
        ],
    );
    let back = cancel_href(&html);
    assert_eq!(&back[..url::Position::AfterPath], RETURN_URL);
    let pairs: Vec<(String, String)> = back.query_pairs().into_owned().collect();
    assert_eq!(
        pairs,
        [
            ("state".into(), "xyz".into()),
            ("error".into(), "cancelled".into())
        ]
    );
    let right = app.code(&device, 0);
    let wrong = if right == "000000" {
        "111111"
    } else {
        "000000"
    };
    let res = b.post(&l.path, &[("csrf", &csrf), ("code", wrong)]).await;
    let html = page(res, 422).await;
    assert_has(
        &html,
        &[
            "<title>Erreur : Connexion à rp.example</title>",
            "Il y a un problème",
            "Ce code n'est pas le bon.",
        ],
    );
    // A refused link speaks the browser's language too.
    let res = b.get("/verify/not-a-token").await;
    assert!(page(res, 404).await.contains("Ce lien n'est pas valide."));
}

async fn the_tenant_names_the_site_and_picks_the_default_language(backend: Backend) {
    let app = spawn_app_with(backend, |raw| {
        raw.tenant_names = Some(twofold::config::RawIssuers::List("default=Shop".into()));
        raw.tenant_languages = Some(twofold::config::RawIssuers::List("default=fr".into()));
    })
    .await;
    let l = link(&app, "alice", "enroll", None).await;
    // No Accept-Language: the tenant's French; a language not shipped: French as well.
    for accept in [None, Some("de-DE,ja")] {
        let mut b = match accept {
            Some(a) => Browser::speaking(&app, a),
            None => Browser::new(&app),
        };
        let l = link(&app, "alice", "enroll", None).await;
        let (html, _) = open(&mut b, &l).await;
        assert_has(
            &html,
            &[
                "<html lang=\"fr\">",
                "Activer la validation en deux étapes pour Shop",
                "Annuler et revenir à Shop",
            ],
        );
    }
    // An English browser: English, the tenant's name still.
    let mut b = Browser::speaking(&app, "en-GB,en;q=0.8");
    let (html, csrf) = open(&mut b, &l).await;
    assert_has(
        &html,
        &["<html lang=\"en\">", "Set up two-step sign-in for Shop"],
    );
    // The name is the authenticator's issuer too.
    let res = b.post(&format!("{}/app", l.path), &[("csrf", &csrf)]).await;
    assert_eq!(res.status(), 303);
    let html = page(b.get(&l.path).await, 200).await;
    assert!(html.contains("otpauth://totp/Shop:alice?"), "{html}");
}

async fn a_french_page_names_a_new_device_in_french(backend: Backend) {
    let app = spawn_app(backend).await;
    let l = link(&app, "alice", "enroll", None).await;
    let mut b = Browser::speaking(&app, "fr");
    let (_, csrf) = open(&mut b, &l).await;
    let res = b.post(&format!("{}/app", l.path), &[("csrf", &csrf)]).await;
    assert_eq!(res.status(), 303);
    let devices: Value = app
        .get("/v1/users/alice/devices", Some(&app.client_key))
        .await
        .json()
        .await
        .unwrap();
    let label = devices["devices"][0]["label"].as_str().unwrap();
    assert!(
        label.starts_with("Application d'authentification, ajoutée le "),
        "{label}"
    );
}

/// A key made with a display name: its links' pages name the site by it.
async fn an_api_key_display_name_names_its_pages(backend: Backend) {
    let app = spawn_app(backend).await;
    let key = key_named(&app, Some("Shop Europe")).await;
    let body = json!({ "purpose": "verify", "return_url": RETURN_URL });
    let res = request_link(&app, "alice", Some(&key), &body).await;
    assert_eq!(res.status(), 201);
    let answer: Value = res.json().await.unwrap();
    let url = answer["url"].as_str().unwrap();
    let path = url::Url::parse(url).unwrap().path().to_string();
    let l = Link {
        url: url.to_string(),
        token: path.trim_start_matches("/verify/").to_string(),
        path,
    };
    app.active_device("alice").await;
    let mut b = Browser::new(&app);
    let (html, _) = open(&mut b, &l).await;
    assert_has(
        &html,
        &[
            "<title>Sign in to Shop Europe</title>",
            "Cancel and return to Shop Europe",
        ],
    );
    // A name that would show as something else is refused when the key is made.
    let refused = NewApiKey {
        display_name: Some("Shop\u{202e}".into()),
        ..new_key()
    };
    let now = app.state.clock.now();
    let made = api_keys::create(
        &app.state.db,
        app.state.audit.stream(),
        &app.state.keys,
        now,
        refused,
        Actor::System,
    )
    .await;
    assert!(matches!(made, Err(api_keys::ApiKeyError::BadDisplayName)));
}

fn new_key() -> NewApiKey {
    NewApiKey {
        name: "shop-eu".into(),
        role: Role::Client,
        tenant: Some("default".into()),
        return_url_prefixes: vec![RETURN_URL.into()],
        webauthn_origins: vec![],
        webauthn_rp_id: None,
        display_name: None,
    }
}

async fn key_named(app: &TestApp, name: Option<&str>) -> String {
    let new = NewApiKey {
        display_name: name.map(str::to_string),
        ..new_key()
    };
    let now = app.state.clock.now();
    let created = api_keys::create(
        &app.state.db,
        app.state.audit.stream(),
        &app.state.keys,
        now,
        new,
        Actor::System,
    );
    created.await.expect("make key").1.to_string()
}

crate::both_backends!(
    a_french_browser_gets_french_pages_naming_the_site,
    the_tenant_names_the_site_and_picks_the_default_language,
    a_french_page_names_a_new_device_in_french,
    an_api_key_display_name_names_its_pages,
);
