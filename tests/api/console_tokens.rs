//! The console's token page (list, filter, assign, unassign, revoke) and the resync form on the
//! user page.

use serde_json::Value;

use crate::console::{Browser, field};
use crate::helpers::{Backend, spawn_app};
use crate::hotp::oathtool;

const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data");
const HOTP_SEED_B32: &str = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";

async fn tokens_are_assigned_resynced_and_revoked_in_the_console(backend: Backend) {
    let app = spawn_app(backend).await;
    let xml = std::fs::read(format!("{DATA}/pskc/pypskc-plain.xml")).unwrap();
    let res = app
        .http
        .post(app.url("/v1/admin/tokens/import"))
        .bearer_auth(&app.admin_key)
        .header("Content-Type", "application/pskc+xml")
        .body(xml)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let mut b = Browser::new(&app);
    b.sign_in(&app.admin_key).await;
    let html = b.page("/admin/tokens?tenant=default&kind=hotp").await;
    assert!(html.contains("<code>PP-0001</code>"), "{html}");
    assert!(!html.contains("PP-0002"), "filtered by kind: {html}");
    assert!(
        !html.contains("GEZDG") && !html.contains("3132333435"),
        "never a seed"
    );
    let csrf = field(&html, "csrf");
    let act = |action: &'static str, user: Option<&'static str>| {
        let mut form = vec![
            ("csrf", csrf.clone()),
            ("tenant", "default".to_string()),
            ("serial", "PP-0001".to_string()),
            ("action", action.to_string()),
        ];
        if let Some(u) = user {
            form.push(("user", u.to_string()));
        }
        form
    };
    // A user id that cannot be: the page again, the error beside the field, the value kept.
    let form = act("assign", Some("a b"));
    let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let res = b.post("/admin/tokens/act", &pairs).await;
    assert_eq!(res.status(), 400);
    let html = res.text().await.unwrap();
    for part in [
        "<title>Error: Hardware tokens",
        "class=\"error-summary\"",
        "href=\"#assign-PP-0001\"",
        "id=\"assign-PP-0001-error\"",
        "value=\"a b\" placeholder=\"user id\" required aria-invalid=\"true\" \
         aria-describedby=\"assign-PP-0001-error\"",
    ] {
        assert!(html.contains(part), "{part} in {html}");
    }
    let form = act("assign", Some("alice"));
    let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let res = b.post("/admin/tokens/act", &pairs).await;
    assert_eq!(res.status(), 303);

    // The user page offers a resync for the fob, which works with two consecutive codes.
    let html = b.page("/admin/user?tenant=default&user=alice").await;
    assert!(html.contains("action=\"/admin/user/resync\""), "{html}");
    let detail: Value = app
        .get("/v1/admin/users/alice", Some(&app.admin_key))
        .await
        .json()
        .await
        .unwrap();
    let device = detail["devices"][0]["id"].as_str().unwrap().to_string();
    // Two codes that are not consecutive: back beside the form, as typed.
    let (first, second) = (
        oathtool(HOTP_SEED_B32, 400, 6),
        oathtool(HOTP_SEED_B32, 402, 6),
    );
    let form = [
        ("csrf", csrf.as_str()),
        ("tenant", "default"),
        ("user", "alice"),
        ("device", device.as_str()),
        ("first", first.as_str()),
        ("second", second.as_str()),
    ];
    let res = b.post("/admin/user/resync", &form).await;
    assert_eq!(res.status(), 422);
    let html = res.text().await.unwrap();
    let field = format!("first-{device}");
    for part in [
        "<title>Error: alice".to_string(),
        format!("href=\"#{field}\""),
        format!("id=\"{field}-error\""),
        format!("value=\"{first}\""),
        format!("value=\"{second}\""),
        format!("aria-invalid=\"true\" aria-describedby=\"{field}-error\""),
    ] {
        assert!(html.contains(&part), "{part} in {html}");
    }
    let (first, second) = (
        oathtool(HOTP_SEED_B32, 400, 6),
        oathtool(HOTP_SEED_B32, 401, 6),
    );
    let form = [
        ("csrf", csrf.as_str()),
        ("tenant", "default"),
        ("user", "alice"),
        ("device", device.as_str()),
        ("first", first.as_str()),
        ("second", second.as_str()),
    ];
    let res = b.post("/admin/user/resync", &form).await;
    assert_eq!(res.status(), 303);
    let res = app
        .verify("alice", serde_json::json!(oathtool(HOTP_SEED_B32, 402, 6)))
        .await;
    assert_eq!(res.status(), 200);

    // Given back, then assigned to bob: alice's device goes with it.
    for (action, user) in [("unassign", None), ("assign", Some("bob"))] {
        let form = act(action, user);
        let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
        assert_eq!(
            b.post("/admin/tokens/act", &pairs).await.status(),
            303,
            "{action}"
        );
    }
    let res = app
        .verify("alice", serde_json::json!(oathtool(HOTP_SEED_B32, 403, 6)))
        .await;
    assert_eq!(res.status(), 422);
    let html = b.page("/admin/tokens?tenant=default&status=assigned").await;
    assert!(html.contains("user=bob"), "{html}");
    // A revoke asks first: the first post names the token and its user, and acts on nothing.
    let mut form = act("revoke", None);
    let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let res = b.post("/admin/tokens/act", &pairs).await;
    assert_eq!(res.status(), 200);
    let html = res.text().await.unwrap();
    assert!(
        html.contains("Revoke token PP-0001?") && html.contains("bob is revoked with it"),
        "{html}"
    );
    let html = b.page("/admin/tokens?tenant=default&status=assigned").await;
    assert!(
        html.contains("<code>PP-0001</code>"),
        "still assigned: {html}"
    );
    form.push(("confirmed", "yes".to_string()));
    let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    assert_eq!(b.post("/admin/tokens/act", &pairs).await.status(), 303);
    let html = b.page("/admin/tokens?tenant=default&status=revoked").await;
    assert!(html.contains("<code>PP-0001</code>"), "{html}");
    let res = app
        .verify("bob", serde_json::json!(oathtool(HOTP_SEED_B32, 404, 6)))
        .await;
    assert_eq!(res.status(), 422, "the revoked token's device is revoked");
    // Without the CSRF token, nothing happens.
    let res = b
        .post(
            "/admin/tokens/act",
            &[
                ("tenant", "default"),
                ("serial", "PP-0002"),
                ("action", "revoke"),
            ],
        )
        .await;
    assert_eq!(res.status(), 403);
}

crate::both_backends!(tokens_are_assigned_resynced_and_revoked_in_the_console);
