//! Codes typed the way people type them, on the hosted pages: spaces and hyphens inside a code
//! are dropped, an empty field is said so without counting, and no field asks the browser to
//! refuse the post (`pattern`, `required`): the server says what is wrong. The API stays strict.

use serde_json::json;

use crate::helpers::{Backend, assert_error, spawn_app};
use crate::pages_links::{Browser, back, link, open, page};

async fn codes_with_spaces_or_hyphens_pass_on_the_page(backend: Backend) {
    let app = spawn_app(backend).await;
    let device = app.active_device("alice").await;
    let code = app.code(&device, 0);
    // The API refuses the spaced form (SEC-12: malformed, 400, counted).
    let spaced = format!("{} {}", &code[..3], &code[3..]);
    assert_error(
        app.verify("alice", json!(spaced)).await,
        400,
        "invalid_request",
    )
    .await;

    let l = link(&app, "alice", "verify", None).await;
    let mut b = Browser::new(&app);
    let (html, csrf) = open(&mut b, &l).await;
    assert!(
        !html.contains("pattern=") && !html.contains(" required"),
        "{html}"
    );
    // An empty field: said so, not counted.
    for _ in 0..12 {
        let res = b.post(&l.path, &[("csrf", &csrf), ("code", "  ")]).await;
        assert!(page(res, 400).await.contains("Enter the code first."));
    }
    // Typed with a space (and a non-breaking one, as pasted): accepted.
    let typed = format!(" {}\u{a0}{} ", &code[..3], &code[3..]);
    let res = b.post(&l.path, &[("csrf", &csrf), ("code", &typed)]).await;
    back(&res, None);

    // And with a hyphen, on the next step's code.
    let l = link(&app, "alice", "verify", None).await;
    let (_, csrf) = open(&mut b, &l).await;
    let next = app.code(&device, 1);
    app.clock.advance(chrono::TimeDelta::seconds(30));
    let typed = format!("{}-{}", &next[..3], &next[3..]);
    let res = b.post(&l.path, &[("csrf", &csrf), ("code", &typed)]).await;
    back(&res, None);
}

crate::both_backends!(codes_with_spaces_or_hyphens_pass_on_the_page);
