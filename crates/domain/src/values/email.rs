//! E-mail addresses.

use std::fmt;

use super::nfc;
use crate::validation::FieldIssue;

/// True for characters that show nothing: general category Cf (format: U+200B
/// ZERO WIDTH SPACE, U+200D, U+2060, U+FEFF, bidi controls, tags…) and the
/// other default-ignorable code points that render blank (U+034F, Hangul
/// fillers, variation selectors, Mongolian free variation selectors), after
/// Unicode's `Default_Ignorable_Code_Point` list.
#[must_use]
pub fn is_invisible(c: char) -> bool {
    use unicode_properties::{GeneralCategory, UnicodeGeneralCategory as _};
    c.general_category() == GeneralCategory::Format
        || matches!(
            c,
            '\u{034F}'
                | '\u{115F}'
                | '\u{1160}'
                | '\u{17B4}'
                | '\u{17B5}'
                | '\u{180B}'..='\u{180F}'
                | '\u{3164}'
                | '\u{FE00}'..='\u{FE0F}'
                | '\u{FFA0}'
                | '\u{E0100}'..='\u{E01EF}'
        )
}

/// An email address in its canonical form: one `@`; the local part trimmed,
/// lower-cased and in NFC (at most 64 bytes); the domain lower-cased and
/// mapped to ASCII by IDNA (UTS 46 `ToASCII`, so `Bücher.example` is
/// `xn--bcher-kva.example`), with a dot and no empty labels; no spaces, no
/// control, format or other invisible characters ([`is_invisible`]); at most
/// 254 characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Email(pub(super) String);

impl Email {
    /// Most characters (RFC 5321 path limit).
    pub const MAX: usize = 254;

    /// Parses an email address into its canonical form.
    ///
    /// # Errors
    /// [`FieldIssue::Required`], [`FieldIssue::Length`] or [`FieldIssue::EmailFormat`]
    /// (also for invisible characters and domains that IDNA refuses).
    pub fn parse(raw: &str) -> Result<Self, FieldIssue> {
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            return Err(FieldIssue::Required);
        }
        if trimmed.chars().count() > Self::MAX {
            return Err(FieldIssue::Length {
                min: 3,
                max: Self::MAX,
            });
        }
        if trimmed.chars().any(is_invisible) {
            return Err(FieldIssue::EmailFormat);
        }
        let Some((local, domain)) = trimmed.split_once('@') else {
            return Err(FieldIssue::EmailFormat);
        };
        let local = nfc(&local.to_lowercase());
        let domain = domain.to_lowercase();
        let well_formed = !local.is_empty()
            && local.len() <= 64
            && !domain.contains('@')
            && domain.contains('.')
            && domain.split('.').all(|label| {
                !label.is_empty()
                    && !label.starts_with('-')
                    && !label.ends_with('-')
                    && label.chars().all(|c| c.is_alphanumeric() || c == '-')
            })
            && !trimmed.chars().any(|c| {
                c.is_whitespace()
                    || c.is_control()
                    || matches!(
                        c,
                        '<' | '>' | '(' | ')' | ',' | ';' | ':' | '\\' | '"' | '[' | ']'
                    )
            });
        if !well_formed {
            return Err(FieldIssue::EmailFormat);
        }
        let ascii = idna::domain_to_ascii(&domain).map_err(|_| FieldIssue::EmailFormat)?;
        if ascii.is_empty() || !ascii.contains('.') || ascii.split('.').any(str::is_empty) {
            return Err(FieldIssue::EmailFormat);
        }
        let s = format!("{local}@{ascii}");
        if s.chars().count() > Self::MAX {
            return Err(FieldIssue::Length {
                min: 3,
                max: Self::MAX,
            });
        }
        Ok(Self(s))
    }

    /// The canonical address.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Email {
    /// Wraps a value that a store read back, as it was validated and normalised
    /// on the way in. Adapters use this; everything else uses `parse`.
    #[must_use]
    pub fn from_stored(value: String) -> Self {
        Self(value)
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
