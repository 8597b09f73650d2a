//! Field-level validation results, collected so every bad field is reported at once.

use std::collections::BTreeMap;
use std::fmt;

/// Why one field was refused. The HTTP layer turns each into a message in the
/// client's language; [`FieldIssue::code`] is the stable machine-readable name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FieldIssue {
    /// The field is absent or empty.
    Required,
    /// The field has the wrong JSON type (for example a number where a string belongs).
    NotAString,
    /// Shorter than `min` or longer than `max` characters.
    Length {
        /// Fewest characters allowed.
        min: usize,
        /// Most characters allowed.
        max: usize,
    },
    /// A number below `min` or above `max` (both inclusive); `max` is
    /// `u64::MAX` when only a lower bound applies.
    Range {
        /// Smallest value allowed.
        min: u64,
        /// Largest value allowed.
        max: u64,
    },
    /// A username with characters outside letters, digits, `_`, `-` and `.`.
    UsernameCharacters,
    /// A username made only of digits (it would read as a phone number).
    UsernameAllDigits,
    /// Not an email address.
    EmailFormat,
    /// Not a phone number (digits, optionally with a leading `+`, spaces or dashes).
    PhoneFormat,
    /// A role that may not be chosen at registration.
    RoleNotAllowed {
        /// The roles that may be chosen.
        allowed: Vec<String>,
    },
    /// The password lacks an upper-case letter, a lower-case letter or a digit.
    PasswordComposition,
    /// The password contains a control character.
    ControlCharacters,
    /// The password is on the list of the most common passwords.
    PasswordTooCommon,
    /// The password contains the account's username or email address.
    PasswordContainsIdentity,
}

impl FieldIssue {
    /// A stable identifier for clients that branch on the reason.
    #[must_use]
    pub fn code(&self) -> &'static str {
        match self {
            Self::Required => "required",
            Self::NotAString => "not_a_string",
            Self::Length { .. } => "length",
            Self::Range { .. } => "range",
            Self::UsernameCharacters => "username_characters",
            Self::UsernameAllDigits => "username_all_digits",
            Self::EmailFormat => "email_format",
            Self::PhoneFormat => "phone_format",
            Self::RoleNotAllowed { .. } => "role_not_allowed",
            Self::PasswordComposition => "password_composition",
            Self::ControlCharacters => "control_characters",
            Self::PasswordTooCommon => "password_too_common",
            Self::PasswordContainsIdentity => "password_contains_identity",
        }
    }
}

impl fmt::Display for FieldIssue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// Every refused field with its reasons, in field-name order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ValidationErrors {
    fields: BTreeMap<String, Vec<FieldIssue>>,
}

impl ValidationErrors {
    /// No errors yet.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// One error on one field.
    #[must_use]
    pub fn single(field: &str, issue: FieldIssue) -> Self {
        let mut errors = Self::new();
        errors.add(field, issue);
        errors
    }

    /// Records a reason for refusing `field`.
    pub fn add(&mut self, field: &str, issue: FieldIssue) {
        self.fields.entry(field.to_owned()).or_default().push(issue);
    }

    /// Keeps `Ok` values and records the error of an `Err` under `field`.
    pub fn check<T>(&mut self, field: &str, result: Result<T, FieldIssue>) -> Option<T> {
        match result {
            Ok(value) => Some(value),
            Err(issue) => {
                self.add(field, issue);
                None
            }
        }
    }

    /// Takes every field of `other`, replacing this one's reasons for the same field.
    pub fn absorb(&mut self, other: Self) {
        self.fields.extend(other.fields);
    }

    /// True when nothing was refused.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }

    /// The refused fields and their reasons.
    #[must_use]
    pub fn fields(&self) -> &BTreeMap<String, Vec<FieldIssue>> {
        &self.fields
    }

    /// `Ok(())` when empty, otherwise `Err(self)`.
    ///
    /// # Errors
    /// Returns itself when at least one field was refused.
    pub fn into_result(self) -> Result<(), Self> {
        if self.is_empty() { Ok(()) } else { Err(self) }
    }
}
