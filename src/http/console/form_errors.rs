//! What a console form did wrong, as the page shows it: a summary at the top linking to each
//! field (`admin/error_summary.html`), and each message beside its field, which is marked
//! `aria-invalid` and described by it. The pages keep what was typed.

use actix_web::ResponseError;
use actix_web::http::StatusCode;

use crate::error::Error;

/// One field's problem: the field's `id` (the summary links to `#id`, the message is `id-error`).
pub struct FieldError {
    pub field: String,
    pub message: String,
}

#[derive(Default)]
pub struct Errors(Vec<FieldError>);

impl Errors {
    pub fn one(field: impl Into<String>, message: impl Into<String>) -> Errors {
        let mut e = Errors::default();
        e.add(field, message);
        e
    }

    pub fn add(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.0.push(FieldError {
            field: field.into(),
            message: message.into(),
        });
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn list(&self) -> &[FieldError] {
        &self.0
    }

    /// The message of `field`, if it has one (the first, should it have several).
    pub fn get(&self, field: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|e| e.field == field)
            .map(|e| e.message.as_str())
    }
}

/// The message for an error about what was typed (a malformed value, an unknown or conflicting
/// one, a wrong code, a locked user), shown beside the field; `None` for the rest (an outage, a
/// limit, a refusal), which stay error pages.
pub fn about_input(e: &Error) -> Option<String> {
    match e {
        Error::InvalidRequest(_)
        | Error::NotFound
        | Error::Conflict(_)
        | Error::InvalidCode
        | Error::UserLocked { .. } => Some(sentence(&crate::http::error::public_message(e))),
        _ => None,
    }
}

/// The API's lower-case message as a sentence: a capital first, a full stop last.
fn sentence(message: &str) -> String {
    let mut chars = message.chars();
    let mut s: String = chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default();
    if !s.ends_with(['.', '!', '?']) {
        s.push('.');
    }
    s
}

/// The status of a page re-shown for `e`: the one the API would answer.
pub fn status_of(e: &Error) -> StatusCode {
    e.status_code()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_messages_read_as_sentences() {
        let e = Error::InvalidRequest("a user id is 1 to 128 of A-Z a-z 0-9 . _ @ + -".into());
        assert_eq!(
            about_input(&e).as_deref(),
            Some("A user id is 1 to 128 of A-Z a-z 0-9 . _ @ + -.")
        );
        let e = Error::InvalidRequest("Enter the user.".into());
        assert_eq!(about_input(&e).as_deref(), Some("Enter the user."));
        assert_eq!(
            about_input(&Error::Forbidden),
            None,
            "a refusal stays an error page"
        );
    }
}
