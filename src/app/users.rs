//! Users are the relying party's opaque ids, scoped by tenant, created on first enrollment.

use crate::audit::Actor;
use crate::error::Error;
use crate::store::LimiterKeys;

/// A user of a tenant: the one canonical identity every counter and row is keyed on (SEC-16).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subject {
    pub tenant: String,
    pub user: String,
}

impl Subject {
    /// Checks the user id: 1–128 of `[A-Za-z0-9._@+-]`. Ids are compared exactly as given: the
    /// relying party owns their canonical form.
    pub fn new(tenant: String, user: String) -> Result<Subject, Error> {
        let ok = (1..=128).contains(&user.len())
            && user.bytes().all(|b| {
                b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'@' | b'+' | b'-')
            });
        if !ok {
            return Err(Error::InvalidRequest(
                "a user id is 1 to 128 of A-Z a-z 0-9 . _ @ + -".into(),
            ));
        }
        Ok(Subject { tenant, user })
    }

    /// The failure limiter's keys for this user. `/` cannot occur in a tenant or user id, so
    /// distinct subjects never share keys.
    pub fn limiter_keys(&self) -> LimiterKeys {
        LimiterKeys::new(&format!("{}/{}", self.tenant, self.user))
    }
}

/// Who is acting, as the audit trail and the step-up rule see it.
#[derive(Debug, Clone)]
pub struct Caller {
    pub actor: Actor,
    pub is_admin: bool,
    pub ip: Option<String>,
    /// The id of an API key taken from this node's cache, not yet re-checked against the
    /// database: verify checks it in its own query and answers 401 if it was revoked.
    pub unconfirmed_key: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_ids_are_checked() {
        for ok in ["alice", "a.b_c@d+e-f", &"x".repeat(128)] {
            assert!(Subject::new("t".into(), ok.to_string()).is_ok(), "{ok}");
        }
        for bad in ["", "a b", "a/b", "ä", "{x}", &"x".repeat(129)] {
            assert!(Subject::new("t".into(), bad.to_string()).is_err(), "{bad}");
        }
    }
}
