//! The root span of each request: request id, method and route pattern, then status and outcome.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::{Error, HttpMessage};
use tracing::Span;
use tracing_actix_web::{RequestId, RootSpanBuilder};

/// The root span of each request: request id, method and route pattern, then status and outcome.
pub struct RequestSpan;

impl RootSpanBuilder for RequestSpan {
    fn on_request_start(request: &ServiceRequest) -> Span {
        let request_id = request
            .extensions()
            .get::<RequestId>()
            .map(ToString::to_string)
            .unwrap_or_default();
        tracing::info_span!(
            "request",
            request_id = %request_id,
            method = %request.method(),
            // Known once routed (see on_request_end): matching it here would try every route's
            // pattern a second time. The access log line carries it as well.
            route = tracing::field::Empty,
            status = tracing::field::Empty,
        )
    }

    fn on_request_end<B: MessageBody>(span: Span, outcome: &Result<ServiceResponse<B>, Error>) {
        let status = match outcome {
            Ok(res) => {
                let route = res.request().match_pattern();
                span.record("route", route.as_deref().unwrap_or("unmatched"));
                res.status().as_u16()
            }
            Err(e) => e.as_response_error().status_code().as_u16(),
        };
        span.record("status", status);
    }
}
