//! What a user logs in with: a username, an e-mail address or a phone number.

use super::{Email, Phone, PhoneRegion, Username, UsernamePolicy};
use crate::validation::FieldIssue;

/// How a user names themself at login: a username, an email or a phone number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Login {
    /// Matched against canonical usernames ([`Username::canonical`]).
    Username(Username),
    /// Matched against the canonical email.
    Email(Email),
    /// Matched against the E.164 phone.
    Phone(Phone),
}

impl Login {
    /// Reads an identifier: with an `@` it is an email; digits (with the usual
    /// phone punctuation and an optional leading `+`) make a phone number, read
    /// in `region` as [`Phone::parse`] does; anything else is a username of
    /// any length ([`UsernamePolicy::EXISTING`]: the minimum is for new names).
    ///
    /// # Errors
    /// [`FieldIssue::Required`] when empty, otherwise the issue of the kind it
    /// reads as ([`FieldIssue::PhoneFormat`] for digits that are no number).
    pub fn parse(raw: &str, region: PhoneRegion) -> Result<Self, FieldIssue> {
        let s = raw.trim();
        if s.is_empty() {
            return Err(FieldIssue::Required);
        }
        if s.contains('@') {
            return Email::parse(s).map(Self::Email);
        }
        let body = s.strip_prefix('+').unwrap_or(s);
        let reads_as_phone = body
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, ' ' | '-' | '.' | '(' | ')'))
            && body.chars().any(|c| c.is_ascii_digit());
        if reads_as_phone {
            // A username such as `007-008` or `2024.10` reads like a number
            // but is none: it stays a username.
            return Phone::parse(s, region).map(Self::Phone).or_else(|e| {
                Username::parse(s, &UsernamePolicy::EXISTING)
                    .map(Self::Username)
                    .map_err(|_| e)
            });
        }
        Username::parse(s, &UsernamePolicy::EXISTING).map(Self::Username)
    }
}
