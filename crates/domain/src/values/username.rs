//! Usernames and the policy for new ones.

use std::fmt;

use super::nfc;
use crate::validation::FieldIssue;

/// A username: [`UsernamePolicy::min_chars`] (default 3) to 50 characters of
/// letters (any script), digits, `_`, `-` or `.`, not only digits (so it
/// never reads as a phone number) and never containing `@` (so it never reads
/// as an email). Surrounding spaces are trimmed.
///
/// Usernames are compared as people read them: each has a canonical form, the
/// RFC 8265 §3.3 PRECIS `UsernameCaseMapped` profile (width mapping, case
/// mapping, NFC, bidi rule) applied to the NFC form of the input (so that a
/// canonical singleton such as U+212A KELVIN SIGN reads as the `K` it is
/// equivalent to). Uniqueness and lookup use the canonical form; the display
/// form (the input, trimmed and in NFC) is kept beside it. Tessera's own rules
/// above hold on top of PRECIS, checked on the canonical form.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Username {
    pub(super) display: String,
    canonical: String,
}

/// What a new username must satisfy: how short it may be
/// (`USERNAME_MIN_LENGTH`). Clients differ (3–50 characters, 2–16), and
/// many Chinese names have two characters (`张三`), so the minimum is a
/// setting (issue 13, item 10).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UsernamePolicy {
    /// Fewest characters, counted as Unicode scalar values of the NFC form
    /// (`张三` is 2), from 1 to [`Username::MAX`]. Default
    /// [`UsernamePolicy::DEFAULT_MIN_CHARS`].
    pub min_chars: usize,
}

impl UsernamePolicy {
    /// The default [`UsernamePolicy::min_chars`].
    pub const DEFAULT_MIN_CHARS: usize = 3;
    /// Every length a username may have (1 to [`Username::MAX`]), for names
    /// that exist already: looked up at login, read from an import, stored
    /// before the minimum was raised. Such names keep working whatever the
    /// minimum for new ones.
    pub const EXISTING: Self = Self { min_chars: 1 };
}

impl Default for UsernamePolicy {
    fn default() -> Self {
        Self {
            min_chars: Self::DEFAULT_MIN_CHARS,
        }
    }
}

impl Username {
    /// Most characters.
    pub const MAX: usize = 50;

    /// Parses a username that must satisfy `policy`.
    ///
    /// # Errors
    /// [`FieldIssue::Required`], [`FieldIssue::Length`] (`policy.min_chars`
    /// to 50 characters, counted on the display form),
    /// [`FieldIssue::UsernameCharacters`] (outside Tessera's set, or refused
    /// by PRECIS, e.g. compatibility characters such as `ﬁ`) or
    /// [`FieldIssue::UsernameAllDigits`].
    pub fn parse(raw: &str, policy: &UsernamePolicy) -> Result<Self, FieldIssue> {
        let s = raw.trim();
        if s.is_empty() {
            return Err(FieldIssue::Required);
        }
        let display = nfc(s);
        let len = display.chars().count();
        let min = policy.min_chars.clamp(1, Self::MAX);
        if !(min..=Self::MAX).contains(&len) {
            return Err(FieldIssue::Length {
                min,
                max: Self::MAX,
            });
        }
        let canonical = precis_username(&display).ok_or(FieldIssue::UsernameCharacters)?;
        if !canonical
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.'))
        {
            return Err(FieldIssue::UsernameCharacters);
        }
        if canonical.chars().all(|c| c.is_ascii_digit()) {
            return Err(FieldIssue::UsernameAllDigits);
        }
        Ok(Self { display, canonical })
    }

    /// The username as shown (the input, trimmed and in NFC).
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.display
    }

    /// The canonical form (RFC 8265 `UsernameCaseMapped`), which uniqueness and lookup compare.
    #[must_use]
    pub fn canonical(&self) -> &str {
        &self.canonical
    }

    /// The canonical form of a stored display form: PRECIS when it passes,
    /// otherwise (rows older than the rule) its NFC lower-case form, so that
    /// comparisons in memory stay total.
    #[must_use]
    pub fn canonical_of(display: &str) -> String {
        precis_username(display).unwrap_or_else(|| nfc(display).to_lowercase())
    }
}

/// RFC 8265 §3.3 `UsernameCaseMapped` enforcement of the NFC form of `s`.
fn precis_username(s: &str) -> Option<String> {
    use precis_core::profile::PrecisFastInvocation as _;
    precis_profiles::UsernameCaseMapped::enforce(nfc(s).as_str())
        .ok()
        .map(std::borrow::Cow::into_owned)
}

impl Username {
    /// Wraps a display form that a store read back, as it was validated and
    /// normalised on the way in; the canonical form is recomputed
    /// ([`Self::canonical_of`]). Adapters use this; everything else uses `parse`.
    #[must_use]
    pub fn from_stored(value: String) -> Self {
        let canonical = Self::canonical_of(&value);
        Self {
            display: value,
            canonical,
        }
    }
}

impl fmt::Display for Username {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.display)
    }
}
