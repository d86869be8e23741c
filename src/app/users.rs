//! Users are the relying party's opaque ids, scoped by tenant, created on first enrollment.

use std::net::IpAddr;

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
    pub origin: Origin,
}

/// Where an attempt comes from, as the address limits see it (SEC-39). On an API call `ip` is
/// the relying party's server, shared by all its users: counting failures by it would let one
/// user lock out every other.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// The end user's own browser (hosted pages, console): `ip` is the user's address.
    Browser,
    /// An API call with this key; `client_ip` is the end user's address if the key passed one.
    Api {
        key_id: String,
        client_ip: Option<IpAddr>,
    },
}

impl Caller {
    /// Takes the end user's address a key passed as `client_ip` (API calls only). IPv4-mapped
    /// IPv6 is read as IPv4, so one address has one spelling in every counter.
    pub fn pass_client_ip(&mut self, raw: Option<&str>) -> Result<(), Error> {
        let Some(raw) = raw else { return Ok(()) };
        let Origin::Api { client_ip, .. } = &mut self.origin else {
            return Err(Error::InvalidRequest(
                "client_ip is for API calls only".into(),
            ));
        };
        let ip: IpAddr = raw.trim().parse().map_err(|_| {
            Error::InvalidRequest("client_ip must be an IPv4 or IPv6 address".into())
        })?;
        *client_ip = Some(ip.to_canonical());
        Ok(())
    }

    /// The end user's address as the SMS per-address limit counts it: `client_ip` under its
    /// tenant when the key passed one, else the connection's address (for an API call, the
    /// relying party's server).
    pub fn sms_address(&self, tenant: &str) -> Option<String> {
        match &self.origin {
            Origin::Api {
                client_ip: Some(ip),
                ..
            } => Some(format!("{tenant}/{ip}")),
            _ => self.ip.clone(),
        }
    }
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

    fn api_caller() -> Caller {
        Caller {
            actor: Actor::ApiKey("k".into()),
            is_admin: false,
            ip: Some("10.0.0.1".into()),
            unconfirmed_key: None,
            origin: Origin::Api {
                key_id: "k".into(),
                client_ip: None,
            },
        }
    }

    #[test]
    fn client_ip_is_an_address_in_one_spelling() {
        for (raw, seen) in [
            ("192.0.2.7", "192.0.2.7"),
            (" 2001:DB8::1 ", "2001:db8::1"),
            ("::ffff:192.0.2.7", "192.0.2.7"),
        ] {
            let mut c = api_caller();
            c.pass_client_ip(Some(raw)).unwrap();
            assert_eq!(c.sms_address("t").as_deref(), Some(&*format!("t/{seen}")));
        }
        for bad in ["", "localhost", "192.0.2.300", "192.0.2.7/24", "{x}"] {
            assert!(api_caller().pass_client_ip(Some(bad)).is_err(), "{bad}");
        }
        let mut c = api_caller();
        c.pass_client_ip(None).unwrap();
        assert_eq!(c.sms_address("t").as_deref(), Some("10.0.0.1"));
    }
}
