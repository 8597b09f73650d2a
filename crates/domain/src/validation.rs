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
    /// A value outside a fixed list (e.g. the reset `channel`).
    NotOneOf {
        /// The values accepted.
        allowed: Vec<String>,
    },
    /// The password lacks an upper-case letter, a lower-case letter or a digit.
    PasswordComposition,
    /// The password contains a control character.
    ControlCharacters,
    /// The password is too easy to guess: its zxcvbn score (0-4, each step
    /// about a hundred times more guesses, see [`crate::values::PasswordPolicy`])
    /// is below the configured minimum. The code is `password_too_common`
    /// when zxcvbn found a common or leaked password, `password_too_weak`
    /// otherwise; `warning` and `suggestions` carry zxcvbn's feedback as
    /// stable codes.
    PasswordGuessable {
        /// The password's score, 0-4.
        score: u8,
        /// The score required (`PASSWORD_MIN_SCORE`).
        min_score: u8,
        /// What makes it guessable, when zxcvbn can tell.
        warning: Option<PasswordWarning>,
        /// How to choose a better one (at least one).
        suggestions: Vec<PasswordSuggestion>,
    },
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
            Self::NotOneOf { .. } => "not_one_of",
            Self::PasswordComposition => "password_composition",
            Self::ControlCharacters => "control_characters",
            Self::PasswordGuessable { warning, .. } => {
                if warning.is_some_and(PasswordWarning::is_common_password) {
                    "password_too_common"
                } else {
                    "password_too_weak"
                }
            }
            Self::PasswordContainsIdentity => "password_contains_identity",
        }
    }
}

/// Why zxcvbn found a password guessable: its `feedback::Warning`, under
/// stable names (`code`) that do not follow the crate's English wording.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PasswordWarning {
    /// A straight row of keys (`qwertyuiop`).
    StraightRowsOfKeys,
    /// A short keyboard pattern.
    ShortKeyboardPatterns,
    /// A repeated character (`aaa`).
    RepeatedCharacters,
    /// A repeated group (`abcabc`).
    RepeatedPatterns,
    /// One of the ten most common passwords.
    Top10Password,
    /// One of the hundred most common passwords.
    Top100Password,
    /// A very common (leaked) password.
    CommonPassword,
    /// A common password with small changes (capitals, `@` for `a`, …).
    SimilarToCommonPassword,
    /// A sequence (`abc`, `6543`).
    Sequences,
    /// A recent year.
    RecentYears,
    /// A single dictionary word.
    WordByItself,
    /// A date.
    Dates,
    /// A name or surname alone.
    NameByItself,
    /// Common names and surnames.
    CommonNames,
}

impl PasswordWarning {
    /// A stable identifier, e.g. `common_password`.
    #[must_use]
    pub fn code(self) -> &'static str {
        match self {
            Self::StraightRowsOfKeys => "straight_rows_of_keys",
            Self::ShortKeyboardPatterns => "short_keyboard_patterns",
            Self::RepeatedCharacters => "repeated_characters",
            Self::RepeatedPatterns => "repeated_patterns",
            Self::Top10Password => "top10_password",
            Self::Top100Password => "top100_password",
            Self::CommonPassword => "common_password",
            Self::SimilarToCommonPassword => "similar_to_common_password",
            Self::Sequences => "sequences",
            Self::RecentYears => "recent_years",
            Self::WordByItself => "word_by_itself",
            Self::Dates => "dates",
            Self::NameByItself => "name_by_itself",
            Self::CommonNames => "common_names",
        }
    }

    /// True when the password is (close to) one of the leaked passwords of
    /// zxcvbn's lists: the refusal then keeps the code `password_too_common`.
    #[must_use]
    pub fn is_common_password(self) -> bool {
        matches!(
            self,
            Self::Top10Password
                | Self::Top100Password
                | Self::CommonPassword
                | Self::SimilarToCommonPassword
        )
    }
}

/// How to choose a better password: zxcvbn's `feedback::Suggestion` under
/// stable names (`code`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PasswordSuggestion {
    /// Use a few words, avoid common phrases.
    UseAFewWords,
    /// No need for symbols, digits or upper-case letters.
    NoNeedForSymbols,
    /// Add another word or two; uncommon words are better.
    AddAnotherWord,
    /// Capitalisation does not help very much.
    CapitalizationDoesNotHelp,
    /// All upper-case is almost as easy to guess as all lower-case.
    AllUppercaseDoesNotHelp,
    /// Reversed words are not much harder to guess.
    ReversedWordsDoNotHelp,
    /// Predictable substitutions (`@` for `a`) do not help very much.
    SubstitutionsDoNotHelp,
    /// Use a longer keyboard pattern with more turns.
    LongerKeyboardPattern,
    /// Avoid repeated words and characters.
    AvoidRepeats,
    /// Avoid sequences.
    AvoidSequences,
    /// Avoid recent years.
    AvoidRecentYears,
    /// Avoid years associated with you.
    AvoidAssociatedYears,
    /// Avoid dates and years associated with you.
    AvoidAssociatedDates,
}

impl PasswordSuggestion {
    /// A stable identifier, e.g. `add_another_word`.
    #[must_use]
    pub fn code(self) -> &'static str {
        match self {
            Self::UseAFewWords => "use_a_few_words",
            Self::NoNeedForSymbols => "no_need_for_symbols",
            Self::AddAnotherWord => "add_another_word",
            Self::CapitalizationDoesNotHelp => "capitalization_does_not_help",
            Self::AllUppercaseDoesNotHelp => "all_uppercase_does_not_help",
            Self::ReversedWordsDoNotHelp => "reversed_words_do_not_help",
            Self::SubstitutionsDoNotHelp => "substitutions_do_not_help",
            Self::LongerKeyboardPattern => "longer_keyboard_pattern",
            Self::AvoidRepeats => "avoid_repeats",
            Self::AvoidSequences => "avoid_sequences",
            Self::AvoidRecentYears => "avoid_recent_years",
            Self::AvoidAssociatedYears => "avoid_associated_years",
            Self::AvoidAssociatedDates => "avoid_associated_dates",
        }
    }
}

impl fmt::Display for FieldIssue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// The fields the use cases refuse, by their neutral names ([`Field::as_str`]:
/// `snake_case`). Each dialect names them on the wire as it likes
/// ([`ValidationErrors::renamed`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Field {
    /// A username.
    Username,
    /// A display name (sign-up by code).
    Name,
    /// An e-mail address.
    Email,
    /// A phone number.
    Phone,
    /// A role.
    Role,
    /// A password: at login, registration or sign-up.
    Password,
    /// The current password, when changing it.
    OldPassword,
    /// The new password, when changing or resetting it.
    NewPassword,
    /// A verification or reset code.
    Code,
    /// A verification-link token.
    Token,
    /// A username, e-mail address or phone number naming an account.
    Identifier,
    /// The channel a reset code goes by (`email` or `phone`).
    Channel,
    /// The account's own address or number a reset code goes to.
    Contact,
}

impl Field {
    /// The neutral name: `username`, `name`, `email`, `phone`, `role`,
    /// `password`, `old_password`, `new_password`, `code`, `token`,
    /// `identifier`, `channel`, `contact`.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Username => "username",
            Self::Name => "name",
            Self::Email => "email",
            Self::Phone => "phone",
            Self::Role => "role",
            Self::Password => "password",
            Self::OldPassword => "old_password",
            Self::NewPassword => "new_password",
            Self::Code => "code",
            Self::Token => "token",
            Self::Identifier => "identifier",
            Self::Channel => "channel",
            Self::Contact => "contact",
        }
    }
}

impl AsRef<str> for Field {
    fn as_ref(&self) -> &str {
        self.as_str()
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
    pub fn single(field: impl AsRef<str>, issue: FieldIssue) -> Self {
        let mut errors = Self::new();
        errors.add(field, issue);
        errors
    }

    /// Records a reason for refusing `field`.
    pub fn add(&mut self, field: impl AsRef<str>, issue: FieldIssue) {
        self.fields
            .entry(field.as_ref().to_owned())
            .or_default()
            .push(issue);
    }

    /// Keeps `Ok` values and records the error of an `Err` under `field`.
    pub fn check<T>(&mut self, field: impl AsRef<str>, result: Result<T, FieldIssue>) -> Option<T> {
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

    /// The same errors under the names `wire` gives each field (a dialect's
    /// own field names, for example), in the order of the new names; a
    /// field two names map to keeps the reasons of both.
    #[must_use]
    pub fn renamed(self, wire: impl Fn(&str) -> &str) -> Self {
        let mut out = Self::new();
        for (field, issues) in self.fields {
            out.fields
                .entry(wire(&field).to_owned())
                .or_default()
                .extend(issues);
        }
        out
    }

    /// `Ok(())` when empty, otherwise `Err(self)`.
    ///
    /// # Errors
    /// Returns itself when at least one field was refused.
    pub fn into_result(self) -> Result<(), Self> {
        if self.is_empty() { Ok(()) } else { Err(self) }
    }
}

/// `field` when it is present and not blank (it is returned untrimmed).
///
/// # Errors
/// [`FieldIssue::Required`] when absent, empty or only white space.
pub fn required(field: Option<&str>) -> Result<&str, FieldIssue> {
    match field {
        Some(v) if !v.trim().is_empty() => Ok(v),
        _ => Err(FieldIssue::Required),
    }
}
