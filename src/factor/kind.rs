//! The kinds of device and the states a device goes through: text in the database (so a new
//! kind needs no migration of the column), enums everywhere else.

use std::fmt;
use std::str::FromStr;

/// A kind of device a user enrolls.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DeviceKind {
    /// An authenticator app (RFC 6238).
    Totp,
    /// A phone that codes are texted to.
    Sms,
    /// A security key (FIDO2/WebAuthn): a key pair on the authenticator, scoped to an RP ID.
    Webauthn,
    /// An event-based code generator (RFC 4226): a key fob's button, or an app in HOTP mode.
    Hotp,
    /// A YubiKey in Yubico OTP mode: 44 modhex characters, AES-encrypted counters.
    Yubico,
}

/// Where a device is in its life: pending until its first code, active, revoked for good.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DeviceStatus {
    Pending,
    Active,
    Revoked,
    /// A pending device past its confirmation window: what an admin sees; never stored (such a
    /// row stays `pending` until the user's next enrollment clears it).
    Expired,
}

/// A stored value that names no known kind or status: the row is not ours to judge.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown device {what} {value:?}")]
pub struct UnknownValue {
    what: &'static str,
    value: String,
}

impl DeviceKind {
    pub const ALL: [DeviceKind; 5] = [
        DeviceKind::Totp,
        DeviceKind::Sms,
        DeviceKind::Webauthn,
        DeviceKind::Hotp,
        DeviceKind::Yubico,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            DeviceKind::Totp => "totp",
            DeviceKind::Sms => "sms",
            DeviceKind::Webauthn => "webauthn",
            DeviceKind::Hotp => "hotp",
            DeviceKind::Yubico => "yubico",
        }
    }
}

impl DeviceStatus {
    pub const ALL: [DeviceStatus; 4] = [
        DeviceStatus::Pending,
        DeviceStatus::Active,
        DeviceStatus::Revoked,
        DeviceStatus::Expired,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            DeviceStatus::Pending => "pending",
            DeviceStatus::Active => "active",
            DeviceStatus::Revoked => "revoked",
            DeviceStatus::Expired => "expired",
        }
    }
}

impl FromStr for DeviceKind {
    type Err = UnknownValue;
    fn from_str(s: &str) -> Result<DeviceKind, UnknownValue> {
        DeviceKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| UnknownValue {
                what: "kind",
                value: s.into(),
            })
    }
}

impl FromStr for DeviceStatus {
    type Err = UnknownValue;
    fn from_str(s: &str) -> Result<DeviceStatus, UnknownValue> {
        DeviceStatus::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| UnknownValue {
                what: "status",
                value: s.into(),
            })
    }
}

impl fmt::Display for DeviceKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Display for DeviceStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_round_trips_and_matches_serde() {
        for k in DeviceKind::ALL {
            assert_eq!(k.as_str().parse::<DeviceKind>(), Ok(k));
            assert_eq!(
                serde_json::to_value(k).unwrap(),
                serde_json::json!(k.as_str())
            );
        }
        for s in DeviceStatus::ALL {
            assert_eq!(s.as_str().parse::<DeviceStatus>(), Ok(s));
            assert_eq!(
                serde_json::to_value(s).unwrap(),
                serde_json::json!(s.as_str())
            );
        }
    }

    #[test]
    fn unknown_text_is_an_error_not_a_default() {
        assert!("TOTP".parse::<DeviceKind>().is_err());
        assert!("u2f".parse::<DeviceKind>().is_err());
        assert!("".parse::<DeviceStatus>().is_err());
    }
}
