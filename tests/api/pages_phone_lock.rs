//! The enroll page's phone and lock edges: "Use another number" deletes the pending phone and a
//! flow texts at most three numbers; a page opened while the user is locked says so at once
//! (429, the form off), on enroll as on verify.

use serde_json::Value;

use crate::helpers::{Backend, TestApp, spawn_app};
use crate::pages_links::{Browser, link, open, page};
use crate::sms::outbox;

async fn pending_phones(app: &TestApp, user: &str) -> usize {
    let listed: Value = app
        .get(&format!("/v1/users/{user}/devices"), Some(&app.client_key))
        .await
        .json()
        .await
        .unwrap();
    listed["devices"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["kind"] == "sms" && d["status"] == "pending")
        .count()
}

async fn another_number_deletes_the_pending_phone_and_numbers_are_bounded(backend: Backend) {
    let app = spawn_app(backend).await;
    let l = link(&app, "pia", "enroll", None).await;
    let mut b = Browser::new(&app);
    let (_, csrf) = open(&mut b, &l).await;
    let numbers = ["+33 6 12 34 56 78", "+44 7400 123456", "+33 6 98 76 54 32"];
    for (n, number) in numbers.iter().enumerate() {
        let res = b
            .post(
                &format!("{}/phone", l.path),
                &[("csrf", &csrf), ("phone", number)],
            )
            .await;
        assert_eq!(res.status(), 303, "number {n}");
        assert_eq!(pending_phones(&app, "pia").await, 1);
        assert_eq!(outbox(&app).len(), n + 1);
        let res = b
            .post(&format!("{}/another", l.path), &[("csrf", &csrf)])
            .await;
        assert_eq!(res.status(), 303);
        assert_eq!(
            pending_phones(&app, "pia").await,
            0,
            "deleted, not left to expire"
        );
        let html = page(b.get(&l.path).await, 200).await;
        assert!(
            html.contains("How do you want to get your codes?"),
            "{html}"
        );
    }
    let res = b
        .post(
            &format!("{}/phone", l.path),
            &[("csrf", &csrf), ("phone", "+33 6 11 22 33 44")],
        )
        .await;
    let html = page(res, 429).await;
    assert!(
        html.contains("You have tried several numbers on this page."),
        "{html}"
    );
    assert_eq!(outbox(&app).len(), numbers.len(), "nothing texted");
    assert_eq!(pending_phones(&app, "pia").await, 0);
}

async fn an_enroll_page_opened_while_locked_says_so(backend: Backend) {
    let app = spawn_app(backend).await;
    app.active_device("lou").await;
    for _ in 0..10 {
        app.verify("lou", serde_json::json!("000000")).await;
    }
    let l = link(&app, "lou", "enroll", None).await;
    let mut b = Browser::new(&app);
    let first = b.get(&l.path).await;
    assert_eq!(first.status(), 200, "the claiming refresh");
    let html = page(b.get(&l.path).await, 429).await;
    assert!(html.contains("Too many attempts. Try again at "), "{html}");
    assert!(html.contains("<button type=\"submit\" disabled>"), "{html}");
}

crate::both_backends!(
    another_number_deletes_the_pending_phone_and_numbers_are_bounded,
    an_enroll_page_opened_while_locked_says_so,
);
