//! Phone numbers and the region that reads them.

use std::fmt;

use crate::validation::FieldIssue;

/// The region whose numbering plan reads phone numbers written without a
/// country code (`PHONE_DEFAULT_REGION`): an ISO 3166-1 alpha-2 code that
/// libphonenumber's metadata knows. Default `CN` (so `13800138000` reads as
/// `+8613800138000`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PhoneRegion(phonenumber::country::Id);

impl PhoneRegion {
    /// Parses a region code (`CN`, `us`; case ignored).
    ///
    /// # Errors
    /// [`FieldIssue::PhoneFormat`] when the code names no region of libphonenumber's metadata.
    pub fn parse(raw: &str) -> Result<Self, FieldIssue> {
        raw.trim()
            .to_ascii_uppercase()
            .parse::<phonenumber::country::Id>()
            .map(Self)
            .map_err(|_| FieldIssue::PhoneFormat)
    }

    /// The region code, upper-case.
    #[must_use]
    pub fn as_str(&self) -> &str {
        self.0.as_ref()
    }
}

impl Default for PhoneRegion {
    fn default() -> Self {
        Self(phonenumber::country::Id::CN)
    }
}

impl fmt::Display for PhoneRegion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A phone number in E.164 form (`+8613800138000`), read by libphonenumber:
/// a number with `+` or an international prefix (`0086…`) carries its country
/// code; one without is read in the [`PhoneRegion`]. Digits, spaces, `-`, `.`,
/// parentheses and a leading `+` are accepted; letters and extensions are not.
/// The number must be valid for its region, or at least have the shape of the
/// region's numbers (libphonenumber's general pattern: reserved ranges such as
/// `+1 555 01xx` are stored, numbers of impossible length are not).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Phone(pub(super) String);

impl Phone {
    /// Parses a phone number into E.164.
    ///
    /// # Errors
    /// [`FieldIssue::Required`] or [`FieldIssue::PhoneFormat`].
    pub fn parse(raw: &str, region: PhoneRegion) -> Result<Self, FieldIssue> {
        let s = raw.trim();
        if s.is_empty() {
            return Err(FieldIssue::Required);
        }
        let body = s.strip_prefix('+').unwrap_or(s);
        if body.is_empty()
            || !body
                .chars()
                .all(|c| c.is_ascii_digit() || matches!(c, ' ' | '-' | '.' | '(' | ')'))
            || !body.chars().any(|c| c.is_ascii_digit())
        {
            return Err(FieldIssue::PhoneFormat);
        }
        Self::read(s, region).ok_or(FieldIssue::PhoneFormat)
    }

    /// `s` read by libphonenumber in `region`, when valid or of a possible
    /// shape, and when its E.164 form reads back as itself.
    fn read(s: &str, region: PhoneRegion) -> Option<Self> {
        let once = Self::read_once(s, region)?;
        (Self::read_once(&once.0, region).as_ref() == Some(&once)).then_some(once)
    }

    fn read_once(s: &str, region: PhoneRegion) -> Option<Self> {
        use phonenumber::metadata::DATABASE;
        // A number with `+` carries its country: the default region must not
        // take part (its national prefix would be stripped from it).
        let default = (!s.starts_with('+')).then_some(region.0);
        let number = phonenumber::parse(default, s).ok()?;
        if number.extension().is_some() {
            return None;
        }
        let national = number.national().to_string();
        let shaped = |m: &phonenumber::Metadata| m.descriptors().general().is_match(&national);
        // Numbers in reserved or unassigned ranges (`+1 555 010 0199`) are
        // taken when written internationally; national ones must be valid.
        let international = matches!(
            number.code().source(),
            phonenumber::country::Source::Plus | phonenumber::country::Source::Idd
        );
        let acceptable = number.is_valid()
            || (international
                && (number.metadata(&DATABASE).is_some_and(shaped)
                    || DATABASE
                        .by_code(&number.code().value())
                        .is_some_and(|all| all.iter().any(|m| shaped(m)))));
        let e164 = number.format().mode(phonenumber::Mode::E164).to_string();
        // E.164 (ITU-T, §6.1): at most 15 digits after `+`. The shape check
        // above takes some longer strings (a general pattern that matches a
        // prefix's worth of extra digits), which no network routes.
        (acceptable && e164.len() <= 16).then_some(Self(e164))
    }

    /// How a phone stored before E.164 (digits only, any `+` dropped) reads
    /// now: `Ok` with the one reading, or `Err` with every reading when there
    /// is none or more than one (the digits are valid both as a national number
    /// of `region` and, with `+`, as an international one). A value already in
    /// E.164 reads as itself.
    ///
    /// # Errors
    /// The readings (none, or the national one first) when the digits are not one number.
    pub fn from_bare_digits(digits: &str, region: PhoneRegion) -> Result<Self, Vec<Self>> {
        if digits.starts_with('+') {
            return Self::parse(digits, region).map_err(|_| Vec::new());
        }
        let strictly_valid = |s: &str, r: PhoneRegion| {
            phonenumber::parse(Some(r.0), s)
                .ok()
                .filter(phonenumber::PhoneNumber::is_valid)
                .map(|n| Self(n.format().mode(phonenumber::Mode::E164).to_string()))
        };
        let national = strictly_valid(digits, region);
        let international = strictly_valid(&format!("+{digits}"), region);
        match (national, international) {
            (Some(n), Some(i)) if n != i => Err(vec![n, i]),
            (Some(n), _) => Ok(n),
            (None, Some(i)) => Ok(i),
            (None, None) => Self::parse(digits, region).map_err(|_| Vec::new()),
        }
    }

    /// The number in E.164 form.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Phone {
    /// Wraps a value that a store read back, as it was validated and normalised
    /// on the way in. Adapters use this; everything else uses `parse`.
    #[must_use]
    pub fn from_stored(value: String) -> Self {
        Self(value)
    }
}

impl fmt::Display for Phone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
