//! Parse-don't-validate values: once you hold one, it is valid.
//!
//! One file per kind of value: [`Email`], [`Username`], [`Phone`],
//! [`Password`] and [`PasswordAttempt`], [`RoleName`], and [`Login`] (what a
//! user logs in with).

mod email;
mod identifier;
mod password;
mod phone;
mod role;
#[cfg(test)]
mod tests;
mod username;

pub use email::*;
pub use identifier::*;
pub use password::*;
pub use phone::*;
pub use role::*;
pub use username::*;

fn has_control(s: &str) -> bool {
    s.chars().any(char::is_control)
}

/// `s` in Unicode normalisation form C.
fn nfc(s: &str) -> String {
    use unicode_normalization::UnicodeNormalization as _;
    s.nfc().collect()
}
