//! Role names.

use std::fmt;

use crate::validation::FieldIssue;

/// A role name: 1 to 32 characters of ASCII lower-case letters, digits and `_`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RoleName(String);

impl RoleName {
    /// The role that holds every permission.
    pub const SUPER_ADMIN: &'static str = "super_admin";

    /// Parses a role name (trimmed, lower-cased).
    ///
    /// # Errors
    /// [`FieldIssue::Required`], [`FieldIssue::Length`] or [`FieldIssue::UsernameCharacters`].
    pub fn parse(raw: &str) -> Result<Self, FieldIssue> {
        let s = raw.trim().to_ascii_lowercase();
        if s.is_empty() {
            return Err(FieldIssue::Required);
        }
        if s.len() > 32 {
            return Err(FieldIssue::Length { min: 1, max: 32 });
        }
        if !s
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        {
            return Err(FieldIssue::UsernameCharacters);
        }
        Ok(Self(s))
    }

    /// The role name.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// True for the role that holds every permission.
    #[must_use]
    pub fn is_super_admin(&self) -> bool {
        self.0 == Self::SUPER_ADMIN
    }
}

impl RoleName {
    /// Wraps a value that a store read back, as it was validated and normalised
    /// on the way in. Adapters use this; everything else uses `parse`.
    #[must_use]
    pub fn from_stored(value: String) -> Self {
        Self(value)
    }
}

impl fmt::Display for RoleName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
