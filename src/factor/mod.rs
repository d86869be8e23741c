//! Pure rules of the factors.
pub mod lockout;
pub mod phone;
pub mod qr;
pub mod totp;
