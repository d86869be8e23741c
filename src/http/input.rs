//! Reading what a request carries (a JSON body, a query string, a form) into a typed value, and
//! saying what is wrong in terms of the request: which body field, query parameter or header,
//! and what it expects (issue 16). Every refusal is `invalid_request` in the usual envelope.
//!
//! serde's own messages name a Rust type and no field ("invalid length 0, expected struct
//! EnrollTotp with 5 elements"); `serde_path_to_error` supplies the field, and [`describe`]
//! rewrites the message around it.

use actix_web::dev::Payload;
use actix_web::http::header::CONTENT_TYPE;
use actix_web::{FromRequest, HttpRequest, web};
use chrono::{DateTime, Utc};
use futures_util::future::LocalBoxFuture;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer};
use serde_path_to_error::Segment;

use crate::error::Error;

/// What part of a request a value came from: it opens every message about it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Place {
    Body,
    Query,
    Form,
}

impl Place {
    fn noun(self) -> &'static str {
        match self {
            Place::Body => "body field",
            Place::Query => "query parameter",
            Place::Form => "form field",
        }
    }
}

/// A required JSON object body, in place of actix's `web::Json`: the same checks (Content-Type,
/// size, syntax), with messages that name the field or header at fault.
#[derive(Debug)]
pub struct Json<T>(pub T);

impl<T> Json<T> {
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T: DeserializeOwned + 'static> FromRequest for Json<T> {
    type Error = Error;
    type Future = LocalBoxFuture<'static, Result<Json<T>, Error>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let is_json = is_json(req);
        let body = web::Payload::from_request(req, payload);
        Box::pin(async move {
            if !is_json {
                return Err(Error::InvalidRequest(
                    "header Content-Type must be application/json".into(),
                ));
            }
            let body = body
                .await
                .map_err(|e| Error::InvalidRequest(format!("body: {e}")))?;
            let bytes = crate::http::body(body).await?;
            json(&bytes).map(Json)
        })
    }
}

/// `application/json`, or a `+json` type such as `application/merge-patch+json`, as actix took.
fn is_json(req: &HttpRequest) -> bool {
    let Some(value) = req
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let essence = value.split(';').next().unwrap_or_default().trim();
    let essence = essence.to_ascii_lowercase();
    essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
}

/// A JSON object body into `T`.
pub fn json<T: DeserializeOwned>(body: &[u8]) -> Result<T, Error> {
    // A good body (every verify) is read once; the checks below only run to word a refusal.
    if body.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{') {
        let mut de = serde_json::Deserializer::from_slice(body);
        if let Ok(value) = T::deserialize(&mut de)
            && de.end().is_ok()
        {
            return Ok(value);
        }
    }
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(Error::InvalidRequest(
            "the body is empty; it must be a JSON object".into(),
        ));
    }
    let value: serde_json::Value = serde_json::from_slice(body)
        .map_err(|e| Error::InvalidRequest(format!("the body is not valid JSON: {e}")))?;
    if !value.is_object() {
        return Err(Error::InvalidRequest(
            "the body must be a JSON object".into(),
        ));
    }
    // From the text, not from `value`: a map keeps only the last of a repeated key, and
    // `{"code":"1","code":"2"}` must be refused, not read as either.
    let mut de = serde_json::Deserializer::from_slice(body);
    serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let message = e.inner().to_string();
        Error::InvalidRequest(describe(
            Place::Body,
            &path_of(e.path()),
            without_position(&message),
        ))
    })
}

/// serde_json's message without the " at line 1 column 9" it ends with when read from text (the
/// field is named instead).
fn without_position(message: &str) -> &str {
    match message.rsplit_once(" at line ") {
        Some((head, tail))
            if tail
                .split_once(" column ")
                .is_some_and(|(l, c)| is_number(l) && is_number(c)) =>
        {
            head
        }
        _ => message,
    }
}

fn is_number(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

/// An optional JSON body: empty means the default; anything else must be a JSON object.
pub fn optional_json<T: DeserializeOwned + Default>(body: &[u8]) -> Result<T, Error> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    json(body)
}

/// `application/x-www-form-urlencoded` text (a query string or a form body) into `T`.
pub fn urlencoded<T: DeserializeOwned>(text: &str, place: Place) -> Result<T, Error> {
    let parsed = url::form_urlencoded::parse(text.as_bytes());
    serde_path_to_error::deserialize(serde_urlencoded::Deserializer::new(parsed))
        .map_err(|e| refused(place, &e))
}

fn refused<E: std::fmt::Display>(place: Place, e: &serde_path_to_error::Error<E>) -> Error {
    let path = path_of(e.path());
    Error::InvalidRequest(describe(place, &path, &e.inner().to_string()))
}

/// The path to the value at fault, e.g. `codes[2]` or `device.label`; empty at the top.
fn path_of(path: &serde_path_to_error::Path) -> String {
    let mut out = String::new();
    for segment in path {
        match segment {
            Segment::Seq { index } => out.push_str(&format!("[{index}]")),
            Segment::Map { key } | Segment::Enum { variant: key } => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(key);
            }
            Segment::Unknown => {}
        }
    }
    out
}

/// serde's message about the value at `path`, said in terms of the request.
pub fn describe(place: Place, path: &str, message: &str) -> String {
    let noun = place.noun();
    let under = |name: &str| {
        if path.is_empty() || path == name {
            name.to_string()
        } else {
            format!("{path}.{name}")
        }
    };
    if let Some(name) = quoted_after(message, "missing field ") {
        return format!("missing {noun} `{}`", under(name));
    }
    if let Some(name) = quoted_after(message, "duplicate field ") {
        return format!("{noun} `{}` is given twice", under(name));
    }
    if let Some(name) = quoted_after(message, "unknown field ") {
        let expected = match message.split_once(", expected ") {
            Some((_, list)) => format!("expected {list}"),
            None => "none is taken here".to_string(),
        };
        return format!("unknown {noun} `{}`; {expected}", under(name));
    }
    let what = expectation(message);
    if path.is_empty() {
        // A value at the top that is not an object: only a query or form can get here.
        format!("the {}: {what}", place_name(place))
    } else {
        format!("{noun} `{path}`: {what}")
    }
}

fn place_name(place: Place) -> &'static str {
    match place {
        Place::Body => "body",
        Place::Query => "query string",
        Place::Form => "form",
    }
}

/// The name in backticks right after `prefix`, when the message starts with it.
fn quoted_after<'m>(message: &'m str, prefix: &str) -> Option<&'m str> {
    let rest = message.strip_prefix(prefix)?.strip_prefix('`')?;
    rest.split_once('`').map(|(name, _)| name)
}

/// What the value should have been, without echoing what it was (it may be a code).
fn expectation(message: &str) -> String {
    // "invalid type: integer `5`, expected a string", "invalid value: …, expected u8",
    // "unknown variant `x`, expected one of `A`, `B`", "invalid length 3, expected …".
    let expected = if message.starts_with("invalid type: ")
        || message.starts_with("invalid value: ")
        || message.starts_with("invalid length ")
        || message.starts_with("unknown variant ")
    {
        message
            .rsplit_once(", expected ")
            .map(|(_, e)| e.to_string())
    } else {
        None
    };
    match expected {
        Some(e) => format!("expected {}", plain(&e)),
        // serde_urlencoded parses numbers with `str::parse`, whose errors name no type.
        None if is_integer_error(message) => "expected a whole number".to_string(),
        None if message.starts_with("provided string was not `true` or `false`") => {
            "expected true or false".to_string()
        }
        None => message.to_string(),
    }
}

fn is_integer_error(message: &str) -> bool {
    [
        "invalid digit found in string",
        "cannot parse integer from empty string",
        "number too large to fit in target type",
        "number too small to fit in target type",
    ]
    .contains(&message)
}

/// serde's names of Rust types, said for a client.
fn plain(expected: &str) -> String {
    match expected {
        "u8" | "u16" | "u32" | "u64" | "usize" => "a whole number, 0 or more".into(),
        "i8" | "i16" | "i32" | "i64" | "isize" => "a whole number".into(),
        "f32" | "f64" => "a number".into(),
        "a sequence" => "an array".into(),
        "a map" => "an object".into(),
        other if other.starts_with("struct ") => "an object".into(),
        other => other.into(),
    }
}

/// RFC 3339 date-times of the query strings (`since`, `until`): chrono's own message ("input
/// contains invalid characters") does not say what was wanted.
pub fn rfc3339<'de, D: Deserializer<'de>>(d: D) -> Result<Option<DateTime<Utc>>, D::Error> {
    let Some(text) = Option::<String>::deserialize(d)? else {
        return Ok(None);
    };
    DateTime::parse_from_rfc3339(&text)
        .map(|t| Some(t.with_timezone(&Utc)))
        .map_err(|_| serde::de::Error::custom(RFC3339))
}

/// What [`rfc3339`] says of a value it cannot read.
pub const RFC3339: &str = "expected an RFC 3339 date-time such as 2026-12-06T09:30:00Z";

#[cfg(test)]
mod tests;
