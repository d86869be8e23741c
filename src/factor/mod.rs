//! Pure rules of the factors: no I/O, no configuration, no clock of their own (time comes in as
//! a value), so each is tested alone, TOTP and HOTP against the RFC vectors; [`text`] says which
//! characters a label shown to people may hold.
pub mod hotp;
pub mod kind;
pub mod lockout;
pub mod phone;
pub mod qr;
pub mod recovery_code;
pub mod text;
pub mod totp;
pub mod webauthn;
pub mod yubico;
