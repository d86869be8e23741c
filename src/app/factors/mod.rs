//! The factors a user presents, each behind [`Factor`], so that verify and confirm dispatch over
//! them instead of special-casing each.
//!
//! A factor's module holds its enrollment and its checks; its pure rules live in `factor/`. A new
//! factor is a new file here and there, a [`DeviceKind`] variant if it is a device (the compiler
//! then points at [`for_device`]), and its place in [`FACTORS`].

pub mod hotp;
pub mod recovery;
pub mod sms;
pub mod totp;
pub mod webauthn;
pub mod yubico;

use chrono::{DateTime, Utc};
use futures_util::future::LocalBoxFuture;

use crate::app::assertion::{Method, Proof};
use crate::app::state::AppState;
use crate::app::users::{Caller, Subject};
use crate::db::models::{DeviceRow, SecurityKeyRow};
use crate::error::Error;
use crate::factor::kind::DeviceKind;

/// Who presents a value, to whom, and when.
pub struct Context<'a> {
    pub state: &'a AppState,
    pub subject: &'a Subject,
    pub caller: &'a Caller,
    pub now: DateTime<Utc>,
}

/// What a factor made of a presented value.
#[derive(Debug, PartialEq, Eq)]
pub enum Checked {
    /// The value was right and is now used up; `None` for a factor that is not a device.
    Accepted {
        device_id: Option<String>,
        /// What the assertion says of how the value was proven.
        proof: Proof,
    },
    /// The value was right once and was already used (a replay): other factors may still take it.
    /// `latest` when it is the device's last accepted value (a relying party's retry, no guess).
    Replayed { device_id: String, latest: bool },
    /// Not this factor's value: other factors may still take it.
    NoMatch,
    /// Right, but the device went away meanwhile: refused, whatever the other factors say.
    Refused { device_id: String },
}

/// One kind of second factor.
pub trait Factor: Sync {
    /// The method an assertion names after this factor passed.
    fn method(&self) -> Method;
    /// The device kind whose active devices [`Factor::check`] is given; `None` for a factor that
    /// is no device (recovery codes).
    fn kind(&self) -> Option<DeviceKind>;
    /// The canonical form of a presented value, if it has this factor's shape.
    fn shape(&self, presented: &str) -> Option<String>;
    /// Checks a value of this factor's shape against the user's active devices of its kind.
    fn check<'a>(
        &'a self,
        cx: &'a Context<'a>,
        devices: &'a [DeviceRow],
        value: &'a str,
    ) -> LocalBoxFuture<'a, Result<Checked, Error>>;
}

/// What a pending device's right first value yields, for its activation.
#[derive(Debug)]
pub struct FirstUse {
    /// The accepted time step or counter (0 for a factor without either).
    pub step: i64,
    /// A security key's credential, stored as the device is activated.
    pub key: Option<SecurityKeyRow>,
    pub proof: Proof,
}

impl FirstUse {
    pub fn step(step: i64) -> FirstUse {
        FirstUse {
            step,
            key: None,
            proof: Proof::default(),
        }
    }
}

/// A factor that is a device: confirmed by its first value (SEC-6, SEC-28).
pub trait DeviceFactor: Factor {
    /// Checks the first value of a pending device of this kind: `None` if it is wrong.
    fn first_use<'a>(
        &'a self,
        cx: &'a Context<'a>,
        device: &'a DeviceRow,
        value: &'a str,
    ) -> LocalBoxFuture<'a, Result<Option<FirstUse>, Error>>;
}

/// Every factor, in the order verify tries them: security keys and Yubico OTPs (whose shapes no
/// code has), the authenticator app and HOTP tokens (the stronger codes), then texted codes, then
/// recovery codes.
pub static FACTORS: [&dyn Factor; 6] = [
    &webauthn::SecurityKey,
    &yubico::YubicoOtp,
    &totp::Totp,
    &hotp::HotpFactor,
    &sms::Sms,
    &recovery::Recovery,
];

/// The factor of a device kind.
pub fn for_device(kind: DeviceKind) -> &'static dyn DeviceFactor {
    match kind {
        DeviceKind::Totp => &totp::Totp,
        DeviceKind::Sms => &sms::Sms,
        DeviceKind::Webauthn => &webauthn::SecurityKey,
        DeviceKind::Hotp => &hotp::HotpFactor,
        DeviceKind::Yubico => &yubico::YubicoOtp,
    }
}

/// Whether some device factor takes values of this shape (what confirm accepts at all).
pub fn device_shaped(presented: &str) -> bool {
    DeviceKind::ALL
        .into_iter()
        .any(|k| for_device(k).shape(presented).is_some())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_device_kind_has_its_factor_in_the_verify_order() {
        for kind in DeviceKind::ALL {
            assert_eq!(for_device(kind).kind(), Some(kind));
            assert!(FACTORS.iter().any(|f| f.kind() == Some(kind)), "{kind}");
        }
    }

    #[test]
    fn shapes_decide_which_factors_a_value_goes_to() {
        let takers = |v: &str| -> Vec<Method> {
            FACTORS
                .iter()
                .filter(|f| f.shape(v).is_some())
                .map(|f| f.method())
                .collect()
        };
        assert_eq!(takers("123456"), [Method::Totp, Method::Hotp, Method::Sms]);
        assert_eq!(takers("12345678"), [Method::Totp, Method::Hotp]);
        assert_eq!(
            takers("vvcijgklnrbfhjlutgicnjhcndtnrtuvvgveejrkhttj"),
            [Method::YubicoOtp]
        );
        assert_eq!(takers("ABCD-efgh-jkmn"), [Method::Recovery]);
        assert!(takers("12345").is_empty());
        assert!(device_shaped("12345678"));
        assert!(!device_shaped("abcd-efgh-jkmn"));
    }
}
