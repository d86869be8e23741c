//! Phone numbers are taken in the forms people write them (`+`, the country code, digits with
//! spaces, hyphens, dots or parentheses), the same on the API as on the hosted page, and stored
//! and texted as E.164; each refusal says what is wrong (issue 16).

use serde_json::{Value, json};

use crate::helpers::{Backend, assert_error, spawn_app};
use crate::sms::{enroll_phone, outbox, send_code};

async fn written_forms_are_enrolled_and_texted_as_e164(backend: Backend) {
    let app = spawn_app(backend).await;
    // The example, and the hint's form on the hosted page.
    let res = enroll_phone(&app, "alice", "+33 6 12 34 56 79").await;
    assert_eq!(res.status(), 201);
    let body: Value = res.json().await.unwrap();
    let id = body["device"]["id"].as_str().unwrap().to_string();
    let sent = outbox(&app);
    assert_eq!(sent.last().unwrap().to, "+33612345679");
    let code = sent.last().unwrap().code.clone();
    let path = format!("/v1/users/alice/devices/{id}/confirm");
    let res = app
        .post(&path, Some(&app.client_key), &json!({ "code": code }))
        .await;
    assert_eq!(res.status(), 200);
    // A login code goes to the stored E.164 number.
    crate::sms::skip_cooldown(&app, "alice", &id).await;
    let res = send_code(&app, "alice", json!({})).await;
    assert_eq!(res.status(), 202);
    assert_eq!(outbox(&app).last().unwrap().to, "+33612345679");

    // Other separators, each to a number of its own prefix (the per-prefix limit).
    for (written, e164) in [
        ("+1 (201) 555-0123", "+12015550123"),
        ("+44 7400.123.456", "+447400123456"),
        ("+49-151-2345-6789", "+4915123456789"),
    ] {
        let res = enroll_phone(&app, "bob", written).await;
        assert_eq!(res.status(), 201, "{written}");
        assert_eq!(outbox(&app).last().unwrap().to, e164, "{written}");
    }
}

async fn each_refusal_says_what_is_wrong(backend: Backend) {
    let app = spawn_app(backend).await;
    for (phone, message) in [
        (
            "0612345678",
            "a phone number starts with + and the country code, e.g. +33 6 12 34 56 78",
        ),
        (
            "+33 6 12 34 56 7a",
            "a phone number holds only digits after the +, with spaces, hyphens, dots or \
             parentheses between them, e.g. +33 6 12 34 56 78",
        ),
        (
            "+33 6 12",
            "a phone number has 7 to 15 digits, the country code included (E.164); this one has 5",
        ),
        (
            "+1 555 555 5555",
            "the number given is not a valid phone number (no such number range)",
        ),
        (
            "+15555555555",
            "the number given is not a valid phone number (no such number range)",
        ),
    ] {
        let res = enroll_phone(&app, "alice", phone).await;
        let body = assert_error(res, 400, "invalid_request").await;
        assert_eq!(body["message"], message, "{phone}");
    }
    assert!(outbox(&app).is_empty());
}

crate::both_backends!(
    written_forms_are_enrolled_and_texted_as_e164,
    each_refusal_says_what_is_wrong,
);
