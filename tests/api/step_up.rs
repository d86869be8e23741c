//! SEC-7: a device beside an active one needs a fresh assertion of the user, or an admin key —
//! at enrollment and again at activation.

use chrono::TimeDelta;
use serde_json::{Value, json};
use twofold::app::api_keys::Role;

use crate::enroll::{assertion_of, enroll_with, invalid_code, step_up_required};
use crate::helpers::{Backend, assert_error, make_key, spawn_app};

/// SEC-7: a second device needs a fresh, unused assertion of the same user and tenant, or an
/// admin key.
async fn adding_a_device_to_an_active_user_needs_step_up(backend: Backend) {
    let app = spawn_app(backend).await;
    let key = app.client_key.clone();
    let add = |user: &'static str, label: &str, step_up: Option<&str>| {
        let mut body = json!({ "label": label });
        if let Some(s) = step_up {
            body["step_up"] = s.into();
        }
        enroll_with(&app, user, &key, body)
    };
    let ivy = app.active_device("ivy").await;
    step_up_required(add("ivy", "two", None).await).await;
    step_up_required(add("ivy", "two", Some("not.a.jwt")).await).await;

    let fresh = assertion_of(&app, "ivy", &ivy).await;
    assert_eq!(add("ivy", "two", Some(&fresh)).await.status(), 201);
    step_up_required(add("ivy", "three", Some(&fresh)).await).await;

    // Another user's assertion, valid for that user (the control after it).
    let jack = app.active_device("jack").await;
    let jacks = assertion_of(&app, "jack", &jack).await;
    step_up_required(add("ivy", "three", Some(&jacks)).await).await;
    assert_eq!(add("jack", "two", Some(&jacks)).await.status(), 201);

    // The same user id in another tenant is another user.
    let other = make_key(&app.state, Role::Client, Some("other")).await;
    let codes = crate::recovery::new_set_with(&app, "ivy", &other).await;
    let body = json!({ "code": codes[0] });
    let res = app.post("/v1/users/ivy/verify", Some(&other), &body).await;
    let foreign = res.json::<Value>().await.unwrap()["assertion"].clone();
    assert!(foreign.is_string(), "an assertion of ivy in tenant other");
    step_up_required(add("ivy", "three", foreign.as_str()).await).await;

    // Fresh up to 5 minutes.
    let at_limit = assertion_of(&app, "ivy", &ivy).await;
    app.clock.advance(TimeDelta::seconds(299));
    assert_eq!(add("ivy", "three", Some(&at_limit)).await.status(), 201);
    let stale = assertion_of(&app, "ivy", &ivy).await;
    app.clock.advance(TimeDelta::seconds(301));
    step_up_required(add("ivy", "four", Some(&stale)).await).await;

    let res = enroll_with(&app, "ivy", &app.admin_key, json!({"label": "four"})).await;
    assert_eq!(res.status(), 201, "an admin needs no step-up");
}

/// A device enrolled while the user had none active cannot be activated once another one is:
/// otherwise two enrollments started before the first confirm would skip the step-up.
async fn a_device_enrolled_without_step_up_cannot_join_an_active_one(backend: Backend) {
    let app = spawn_app(backend).await;
    let first = app.enroll("kim", json!({"label": "first"})).await;
    let second = app.enroll("kim", json!({"label": "second"})).await;
    let by_admin = enroll_with(&app, "kim", &app.admin_key, json!({"label": "third"})).await;
    assert_eq!(by_admin.status(), 201);
    let third: Value = by_admin.json().await.unwrap();
    assert_eq!(
        app.confirm("kim", &first, &app.code(&first, 0))
            .await
            .status(),
        200
    );
    app.clock.advance(TimeDelta::seconds(30));
    invalid_code(app.confirm("kim", &second, &app.code(&second, 0)).await).await;

    // The admin's enrollment is authorized: it may be activated beside the first.
    let third_id = third["device"]["id"].as_str().unwrap();
    let third_enrollment = crate::helpers::Enrollment {
        id: third_id.to_string(),
        secret: crate::helpers::base32_decode(third["secret"].as_str().unwrap()),
        params: twofold::factor::totp::Params::default(),
        json: third.clone(),
    };
    let res = app
        .confirm("kim", &third_enrollment, &app.code(&third_enrollment, 0))
        .await;
    assert_eq!(res.status(), 200);
}

/// A taken label is refused before the step-up assertion is used up, so the user can retry with
/// another label without verifying again.
async fn a_taken_label_does_not_use_up_the_step_up(backend: Backend) {
    let app = spawn_app(backend).await;
    let device = app.active_device("lee").await;
    let step_up = assertion_of(&app, "lee", &device).await;
    // The label the first device got by default.
    let taken = crate::helpers::default_app_label(&app);
    let res = enroll_with(
        &app,
        "lee",
        &app.client_key,
        json!({"label": taken, "step_up": step_up}),
    )
    .await;
    assert_error(res, 409, "conflict").await;
    let res = enroll_with(
        &app,
        "lee",
        &app.client_key,
        json!({"label": "tablet", "step_up": step_up}),
    )
    .await;
    assert_eq!(res.status(), 201);
}

/// An expired pending device is gone: revoking it is 404, like the list and QR routes say.
async fn an_expired_pending_device_cannot_be_revoked(backend: Backend) {
    let app = spawn_app(backend).await;
    let pending = app.enroll("max", json!({})).await;
    app.clock
        .advance(TimeDelta::minutes(10) + TimeDelta::seconds(1));
    let res = app
        .delete(
            &format!("/v1/users/max/devices/{}", pending.id),
            Some(&app.client_key),
        )
        .await;
    assert_error(res, 404, "not_found").await;
}

/// Recovery codes are a factor too: for a user with an active device a new set needs step-up,
/// or a hijacked relying-party session could mint codes, verify with one and add a device. The
/// confirming answer carries an assertion that serves right after enrollment.
async fn recovery_codes_beside_an_active_device_need_step_up(backend: Backend) {
    let app = spawn_app(backend).await;
    let device = app.enroll("nia", json!({})).await;
    let res = app.confirm("nia", &device, &app.code(&device, 0)).await;
    assert_eq!(res.status(), 200);
    let confirmed: Value = res.json().await.unwrap();
    assert_eq!(confirmed["device"]["status"], "active");
    let fresh = confirmed["assertion"].as_str().unwrap().to_string();

    let path = "/v1/users/nia/recovery-codes";
    step_up_required(app.post(path, Some(&app.client_key), &json!({})).await).await;
    let res = app
        .post(path, Some(&app.client_key), &json!({"step_up": fresh}))
        .await;
    assert_eq!(res.status(), 201);
    step_up_required(
        app.post(path, Some(&app.client_key), &json!({"step_up": fresh}))
            .await,
    )
    .await;
    assert_eq!(
        app.post(path, Some(&app.admin_key), &json!({}))
            .await
            .status(),
        201
    );
    let res = app
        .post(
            path,
            Some(&app.client_key),
            &json!({"step_up": fresh, "extra": 1}),
        )
        .await;
    assert_error(res, 400, "invalid_request").await;
}

/// Removing a factor is as strong as adding one: a client key revokes a device of a user who has
/// an active device only with a fresh, unused assertion of that user. Without it, revoking first
/// left the user with no active device, and a new device and recovery codes then needed no
/// step-up at all. The lost-device journey: a recovery code, its assertion, the revoke; after it
/// the user enrolls as a first device. An admin key needs no step-up.
async fn revoking_beside_an_active_device_needs_step_up(backend: Backend) {
    let app = spawn_app(backend).await;
    let key = app.client_key.clone();
    let zoe = app.active_device("zoe").await;
    let path = format!("/v1/users/zoe/devices/{}", zoe.id);
    step_up_required(app.delete(&path, Some(&key)).await).await;
    step_up_required(
        app.delete_with(&path, &key, &json!({"step_up": "not.a.jwt"}))
            .await,
    )
    .await;
    let yan = app.active_device("yan").await;
    let yans = assertion_of(&app, "yan", &yan).await;
    step_up_required(
        app.delete_with(&path, &key, &json!({"step_up": yans}))
            .await,
    )
    .await;
    // Still zoe's active device, and still a second factor beside it needs step-up.
    app.clock.advance(TimeDelta::seconds(30));
    let fresh = assertion_of(&app, "zoe", &zoe).await;
    step_up_required(enroll_with(&app, "zoe", &key, json!({"label": "new"})).await).await;
    let body = json!({"step_up": fresh, "extra": 1});
    assert_error(
        app.delete_with(&path, &key, &body).await,
        400,
        "invalid_request",
    )
    .await;

    // A second device, added with that assertion; then the lost-device journey for the first.
    let second = app
        .enroll("zoe", json!({"label": "second", "step_up": fresh}))
        .await;
    let res = app.confirm("zoe", &second, &app.code(&second, 0)).await;
    assert_eq!(res.status(), 200);
    let codes = crate::recovery::new_set_with(&app, "zoe", &app.admin_key).await;
    let res = app.verify("zoe", json!(codes[0])).await;
    assert_eq!(res.status(), 200);
    let recovered = res.json::<Value>().await.unwrap()["assertion"]
        .as_str()
        .unwrap()
        .to_string();
    let with = json!({"step_up": recovered});
    // A wrong id is 404 and leaves the assertion (and so the recovery code) unspent.
    let missing = format!("/v1/users/zoe/devices/{}", yan.id);
    let res = app.delete_with(&missing, &key, &with).await;
    assert_error(res, 404, "not_found").await;
    assert_eq!(app.delete_with(&path, &key, &with).await.status(), 204);
    // Used once: the second device needs another.
    let second_path = format!("/v1/users/zoe/devices/{}", second.id);
    step_up_required(app.delete_with(&second_path, &key, &with).await).await;
    let res = app.verify("zoe", json!(codes[1])).await;
    let again = res.json::<Value>().await.unwrap()["assertion"].clone();
    let with = json!({"step_up": again});
    assert_eq!(
        app.delete_with(&second_path, &key, &with).await.status(),
        204
    );

    // No device left: the next one is a first device again, as are recovery codes.
    assert_eq!(
        enroll_with(&app, "zoe", &key, json!({"label": "new"}))
            .await
            .status(),
        201
    );

    // An admin key revokes without step-up.
    let path = format!("/v1/users/yan/devices/{}", yan.id);
    assert_eq!(app.delete(&path, Some(&app.admin_key)).await.status(), 204);
}

/// The expected `step_up_required` message of a call (its doing) and a reason.
fn says(doing: &str, why: &str) -> String {
    match why {
        "missing" => format!(
            "{doing} for a user who has an active device needs `step_up`: the assertion of a \
             verify of one of their factors"
        ),
        "invalid" => format!(
            "{doing}: `step_up` is not an assertion of this service; pass the `assertion` of a \
             verify of one of the user's factors"
        ),
        "expired" => format!(
            "{doing}: this `step_up` assertion expired (they last 300 s); verify a factor again"
        ),
        "other_user" => format!(
            "{doing}: this `step_up` assertion is of another user or tenant; it must be of this \
             user"
        ),
        "used" => format!(
            "{doing}: this `step_up` assertion was already used; each works once — verify a \
             factor again"
        ),
        other => panic!("no reason {other}"),
    }
}

async fn refused_saying(res: reqwest::Response, doing: &str, why: &str) {
    let body = assert_error(res, 403, "step_up_required").await;
    assert_eq!(body["message"], says(doing, why), "{doing} / {why}");
}

/// Issue 16: every call that takes `step_up` refuses with the stable `step_up_required`, and a
/// message naming the call and what was wrong: none given, not ours, expired, another user's,
/// or already used (they work once: the confirm answer's assertion added one device, not two).
async fn each_step_up_refusal_names_its_call_and_reason(backend: Backend) {
    let app = spawn_app(backend).await;
    let key = app.client_key.clone();
    let uma = app.active_device("uma").await;
    let vic = app.active_device("vic").await;
    let vics = assertion_of(&app, "vic", &vic).await;
    let revoke = format!("/v1/users/uma/devices/{}", uma.id);
    let recovery = "/v1/users/uma/recovery-codes";
    let totp = "adding another authenticator app";
    let phone = "adding another phone";
    let revoking = "revoking a device";
    let codes = "making a new set of recovery codes";
    let with = |step_up: Option<&str>, extra: Value| {
        let mut body = extra;
        if let Some(s) = step_up {
            body["step_up"] = s.into();
        }
        body
    };
    // Each call, each reason that needs no spent assertion.
    for (step_up, why) in [
        (None, "missing"),
        (Some("not.a.jwt"), "invalid"),
        (Some(vics.as_str()), "other_user"),
    ] {
        let body = with(step_up, json!({"label": "two"}));
        refused_saying(enroll_with(&app, "uma", &key, body).await, totp, why).await;
        let body = with(step_up, json!({"phone": crate::sms::PHONE}));
        let res = app
            .post("/v1/users/uma/devices/sms", Some(&key), &body)
            .await;
        refused_saying(res, phone, why).await;
        let res = app
            .delete_with(&revoke, &key, &with(step_up, json!({})))
            .await;
        refused_saying(res, revoking, why).await;
        let res = app
            .post(recovery, Some(&key), &with(step_up, json!({})))
            .await;
        refused_saying(res, codes, why).await;
    }

    // Used once: by one call, then refused by each of them.
    let spent = assertion_of(&app, "uma", &uma).await;
    let body = json!({"label": "two", "step_up": spent});
    assert_eq!(enroll_with(&app, "uma", &key, body).await.status(), 201);
    let body = json!({"label": "three", "step_up": spent});
    refused_saying(enroll_with(&app, "uma", &key, body).await, totp, "used").await;
    let body = json!({"phone": crate::sms::PHONE, "step_up": spent});
    let res = app
        .post("/v1/users/uma/devices/sms", Some(&key), &body)
        .await;
    refused_saying(res, phone, "used").await;
    let res = app
        .delete_with(&revoke, &key, &json!({"step_up": spent}))
        .await;
    refused_saying(res, revoking, "used").await;
    let res = app
        .post(recovery, Some(&key), &json!({"step_up": spent}))
        .await;
    refused_saying(res, codes, "used").await;

    // Expired: past the assertion's lifetime, each call says so and how long they last.
    app.clock.advance(TimeDelta::seconds(30));
    let stale = assertion_of(&app, "uma", &uma).await;
    app.clock.advance(TimeDelta::seconds(301));
    let body = json!({"label": "four", "step_up": stale});
    refused_saying(enroll_with(&app, "uma", &key, body).await, totp, "expired").await;
    let body = json!({"phone": crate::sms::PHONE, "step_up": stale});
    let res = app
        .post("/v1/users/uma/devices/sms", Some(&key), &body)
        .await;
    refused_saying(res, phone, "expired").await;
    let res = app
        .delete_with(&revoke, &key, &json!({"step_up": stale}))
        .await;
    refused_saying(res, revoking, "expired").await;
    let res = app
        .post(recovery, Some(&key), &json!({"step_up": stale}))
        .await;
    refused_saying(res, codes, "expired").await;
}

crate::both_backends!(
    each_step_up_refusal_names_its_call_and_reason,
    revoking_beside_an_active_device_needs_step_up,
    recovery_codes_beside_an_active_device_need_step_up,
    adding_a_device_to_an_active_user_needs_step_up,
    a_device_enrolled_without_step_up_cannot_join_an_active_one,
    a_taken_label_does_not_use_up_the_step_up,
    an_expired_pending_device_cannot_be_revoked,
);
