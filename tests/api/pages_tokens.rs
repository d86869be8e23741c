//! Hardware tokens on the hosted pages: claiming one on the enroll page with its serial and a
//! code, and resynchronising a key fob on the verify page after a failed code.

use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, spawn_app};
use crate::hotp::oathtool;
use crate::pages_links::{Browser, back, link, open, page};

const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data");
const HOTP_SEED_B32: &str = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";

/// The plaintext python-pskc file into the default tenant's inventory.
async fn inventory(app: &TestApp) {
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
}

async fn a_token_is_claimed_on_the_enroll_page(backend: Backend) {
    let app = spawn_app(backend).await;
    inventory(&app).await;
    let l = link(&app, "alice", "enroll", Some("s")).await;
    let mut b = Browser::new(&app);
    let (html, csrf) = open(&mut b, &l).await;
    assert!(html.contains("<label for=\"serial\">"), "{html}");
    let post = format!("{}/token", l.path);
    // A wrong code: said so, nothing claimed.
    let res = b
        .post(
            &post,
            &[("csrf", &csrf), ("serial", "PP-0001"), ("code", "000000")],
        )
        .await;
    let html = page(res, 422).await;
    assert!(html.contains("That code is not right"), "{html}");
    // The serial as people copy it, with a space: fine.
    let code = oathtool(HOTP_SEED_B32, 7, 6);
    let res = b
        .post(
            &post,
            &[("csrf", &csrf), ("serial", "PP- 0001"), ("code", &code)],
        )
        .await;
    assert_eq!(res.status(), 303, "{}", res.text().await.unwrap());
    let html = page(b.get(&l.path).await, 200).await;
    assert!(html.contains("You're all set"), "{html}");
    let finish = format!("{}/finish", l.path);
    let res = b.post(&finish, &[("csrf", &csrf)]).await;
    let html = page(res, 422).await;
    assert!(
        html.contains("Tick the box"),
        "the codes on show are not skipped: {html}"
    );
    let res = b.post(&finish, &[("csrf", &csrf), ("saved", "yes")]).await;
    back(&res, Some("s"));
    let listed: Value = app
        .get("/v1/users/alice/devices", Some(&app.client_key))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(listed["devices"][0]["token_serial"], "PP-0001");
}

async fn a_fob_out_of_step_is_resynced_on_the_verify_page(backend: Backend) {
    let app = spawn_app(backend).await;
    inventory(&app).await;
    let res = app
        .post(
            "/v1/admin/tokens/PP-0001/assign",
            Some(&app.admin_key),
            &json!({"user": "alice"}),
        )
        .await;
    assert_eq!(res.status(), 200);
    let l = link(&app, "alice", "verify", None).await;
    let mut b = Browser::new(&app);
    let (html, csrf) = open(&mut b, &l).await;
    assert!(
        !html.contains("id=\"resync\""),
        "offered only after a failure"
    );
    // Pressed 500 times in a drawer: far beyond the window.
    let code = |c| oathtool(HOTP_SEED_B32, c, 6);
    let res = b
        .post(&l.path, &[("csrf", &csrf), ("code", &code(507))])
        .await;
    let html = page(res, 422).await;
    assert!(html.contains("id=\"resync\""), "{html}");
    let device = {
        let at = html.find("name=\"device\" value=\"").unwrap() + 21;
        html[at..at + 22].to_string()
    };
    let post = format!("{}/resync", l.path);
    let res = b
        .post(
            &post,
            &[
                ("csrf", &csrf),
                ("device", &device),
                ("first", &code(507)),
                ("second", &code(508)),
            ],
        )
        .await;
    let html = page(res, 200).await;
    assert!(html.contains("back in step"), "{html}");
    let res = b
        .post(&l.path, &[("csrf", &csrf), ("code", &code(509))])
        .await;
    back(&res, None);
}

crate::both_backends!(
    a_token_is_claimed_on_the_enroll_page,
    a_fob_out_of_step_is_resynced_on_the_verify_page,
);
