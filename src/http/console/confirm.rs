//! The step before an act that cannot be undone (revoking a device, every device of a user, an
//! API key, a hardware token). The danger button posts the form as before; without
//! `confirmed=yes` that post only shows what would happen, with the one button that acts and a
//! way back. Both posts carry the session's CSRF token. A page, not a dialog: the console runs no
//! script.

use askama::Template;

use super::Nav;

/// The value of the `confirmed` field that makes a post act.
const YES: &str = "yes";

/// Whether a form's `confirmed` field says the admin confirmed.
pub fn confirmed(field: Option<&str>) -> bool {
    field == Some(YES)
}

#[derive(Template)]
#[template(path = "admin/confirm.html")]
pub struct ConfirmPage {
    pub nav: Option<Nav>,
    pub csrf: String,
    /// The question: "Revoke device “Phone” of alice?"
    pub heading: String,
    /// What is acted on, as term and value.
    pub facts: Vec<(&'static str, String)>,
    /// What happens, in a sentence or two (the page adds that it cannot be undone).
    pub effect: String,
    /// What else the admin must know (revoking the session's own key signs them out).
    pub warning: Option<String>,
    /// Where the confirmation posts, and the fields it posts again besides the token.
    pub action: String,
    pub fields: Vec<(&'static str, String)>,
    pub button: &'static str,
    /// Back to where the admin came from, nothing done.
    pub cancel_href: String,
}
