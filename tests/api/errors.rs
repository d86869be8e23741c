//! The error contract: JSON bodies with stable codes, and fail-closed 503s.

use crate::helpers::{Backend, assert_error, spawn_app};

async fn unknown_route_is_a_json_404(backend: Backend) {
    let app = spawn_app(backend).await;
    assert_error(app.get("/no/such/route", None).await, 404, "not_found").await;
}

async fn bad_query_is_invalid_request(backend: Backend) {
    let app = spawn_app(backend).await;
    let res = app
        .get("/v1/admin/api-keys?tenant=a%20b", Some(&app.admin_key))
        .await;
    assert_error(res, 400, "invalid_request").await;
    let res = app
        .get("/v1/admin/api-keys?bogus=1", Some(&app.admin_key))
        .await;
    assert_error(res, 400, "invalid_request").await;
}

crate::both_backends!(unknown_route_is_a_json_404, bad_query_is_invalid_request,);
