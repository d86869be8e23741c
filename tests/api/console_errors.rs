//! What the console says, and how: a form in error comes back with a summary linking to each
//! field, the message beside it, `aria-invalid` and the value typed (never a key); a lock reads
//! as a time; events are coloured by what they mean.

use serde_json::json;

use crate::console::{Browser, field};
use crate::helpers::{Backend, spawn_app};

async fn a_refused_sign_in_names_the_field_and_never_shows_the_key(backend: Backend) {
    let app = spawn_app(backend).await;
    let mut b = Browser::new(&app);
    let typed = "tfk_not-a-key-at-all";
    let res = b.sign_in(typed).await;
    assert_eq!(res.status(), 401);
    let html = res.text().await.unwrap();
    for part in [
        "<title>Error: Sign in · twofold admin</title>",
        "<div role=\"alert\" class=\"error-summary\"",
        "<a href=\"#api_key\">That key is unknown or revoked.</a>",
        "<p id=\"api_key-error\" class=\"field-error\">",
        "aria-describedby=\"api_key-error api_key_help\" aria-invalid=\"true\"",
    ] {
        assert!(html.contains(part), "{part} in {html}");
    }
    assert!(!html.contains(typed), "the key typed is not shown again");

    // A client key and an empty form: said the same way.
    let res = b.sign_in(&app.client_key).await;
    assert_eq!(res.status(), 403);
    let html = res.text().await.unwrap();
    assert!(
        html.contains("That is a client key") && html.contains("aria-invalid=\"true\""),
        "{html}"
    );
    assert!(!html.contains(&app.client_key));
    let res = b.sign_in("  ").await;
    assert_eq!(res.status(), 400);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("Enter an admin API key.")
    );

    // A good sign-in page has none of it.
    let html = b.page("/admin/login").await;
    assert!(
        !html.contains("error-summary")
            && !html.contains("aria-invalid")
            && !html.contains("Error:"),
        "{html}"
    );
}

async fn search_and_audit_filters_in_error_are_named_and_kept(backend: Backend) {
    let app = spawn_app(backend).await;
    let mut b = Browser::new(&app);
    b.sign_in(&app.admin_key).await;
    let res = b
        .get("/admin/audit?user=a%20b&since=2026-13-01&until=0001-01-01&action=nope")
        .await;
    assert_eq!(res.status(), 400);
    let html = res.text().await.unwrap();
    assert!(html.contains("<title>Error: Audit trail"), "{html}");
    for id in ["user", "since", "until", "action"] {
        for part in [
            format!("<li><a href=\"#{id}\">"),
            format!("<p id=\"{id}-error\" class=\"field-error\">"),
            format!("aria-invalid=\"true\" aria-describedby=\"{id}-error\""),
        ] {
            assert!(html.contains(&part), "{part} in {html}");
        }
    }
    assert!(
        html.contains("value=\"a b\"") && html.contains("value=\"2026-13-01\""),
        "kept as typed: {html}"
    );
    assert!(html.contains("Correct the filter to see events."), "{html}");

    // The user search too.
    let res = b.get("/admin/users?tenant=no%20such&q=a%2Fb").await;
    assert_eq!(res.status(), 400);
    let html = res.text().await.unwrap();
    for part in [
        "<title>Error: Users",
        "<li><a href=\"#tenant\">",
        "value=\"no such\"",
        "aria-invalid=\"true\" aria-describedby=\"tenant-error\"",
    ] {
        assert!(html.contains(part), "{part} in {html}");
    }
    let res = b.get("/admin/users?q=a%2Fb").await;
    assert_eq!(res.status(), 400);
    let html = res.text().await.unwrap();
    assert!(
        html.contains("<li><a href=\"#q\">") && html.contains("value=\"a/b\""),
        "{html}"
    );
}

async fn a_lock_reads_as_a_time_and_lockouts_are_coloured_bad(backend: Backend) {
    let app = spawn_app(backend).await;
    app.active_device("alice").await;
    for _ in 0..10 {
        app.verify("alice", json!("000000")).await;
    }
    app.state.audit.flush().await;
    let mut b = Browser::new(&app);
    b.sign_in(&app.admin_key).await;
    let html = b.page("/admin/user?tenant=default&user=alice").await;
    assert!(html.contains("(in 15 minutes)</strong>"), "{html}");
    let until = crate::helpers::minute_up(
        twofold::clock::Clock::now(&*app.clock) + chrono::TimeDelta::minutes(15),
    );
    assert!(
        html.contains(&format!("Locked until {until} UTC (in 15 minutes)")),
        "{html}"
    );
    assert!(
        html.contains(
            "<dt>Lock history</dt><dd>Locked once in the last day; a further lock would last \
             30 minutes</dd>"
        ),
        "{html}"
    );
    assert!(
        !html.contains("Failed attempts"),
        "no failure count beside a lock: {html}"
    );
    assert!(!html.contains("lock level"), "{html}");

    // user_locked is written as a success: its colour says what it means all the same.
    for (action, tone) in [
        ("user_locked", "bad"),
        ("verify_failed", "bad"),
        ("device_confirmed", "ok"),
    ] {
        let pill = format!("<span class=\"event {tone}\">{action}</span>");
        assert!(html.contains(&pill), "{pill} in {html}");
    }
    assert!(!html.contains("class=\"status success\""), "{html}");
    // An event's user links to the user page.
    let audit = b.page("/admin/audit?tenant=default").await;
    assert!(
        audit.contains("<a href=\"/admin/user?tenant=default&#38;user=alice\">alice</a>"),
        "{audit}"
    );

    // Unlocked, the page counts failures instead.
    let csrf = field(&html, "csrf");
    let form = [
        ("csrf", csrf.as_str()),
        ("tenant", "default"),
        ("user", "alice"),
    ];
    b.post("/admin/user/unlock", &form).await;
    app.verify("alice", json!("000000")).await;
    let html = b.page("/admin/user?tenant=default&user=alice").await;
    assert!(
        html.contains("<dd>Not locked</dd>")
            && html.contains("<dd>1 failed attempt in a row; 10 lock the user</dd>"),
        "{html}"
    );
}

crate::both_backends!(
    a_refused_sign_in_names_the_field_and_never_shows_the_key,
    search_and_audit_filters_in_error_are_named_and_kept,
    a_lock_reads_as_a_time_and_lockouts_are_coloured_bad,
);
