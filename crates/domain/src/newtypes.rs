//! Parse-don't-validate newtypes: once you hold one, it is valid.

use std::fmt;

use crate::secret::Secret;
use crate::validation::{FieldIssue, PasswordSuggestion, PasswordWarning};

fn has_control(s: &str) -> bool {
    s.chars().any(char::is_control)
}

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
    display: String,
    canonical: String,
}

/// What a new username must satisfy: how short it may be
/// (`USERNAME_MIN_LENGTH`). Seed 004 documents 3–50 characters; seed 003's
/// front end allows 2–16, and many Chinese names have two characters (`张三`),
/// so the minimum is a setting (issue 13, item 10).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UsernamePolicy {
    /// Fewest characters, counted as Unicode scalar values of the NFC form
    /// (`张三` is 2), from 1 to [`Username::MAX`]. Default
    /// [`UsernamePolicy::DEFAULT_MIN_CHARS`].
    pub min_chars: usize,
}

impl UsernamePolicy {
    /// The default [`UsernamePolicy::min_chars`] (seed 004's 3–50).
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

/// `s` in Unicode normalisation form C.
fn nfc(s: &str) -> String {
    use unicode_normalization::UnicodeNormalization as _;
    s.nfc().collect()
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
pub struct Email(String);

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

/// The region whose numbering plan reads phone numbers written without a
/// country code (`PHONE_DEFAULT_REGION`): an ISO 3166-1 alpha-2 code that
/// libphonenumber's metadata knows. Default `CN` (the seeds are Chinese; seed
/// 003's example is `13800138000`).
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
pub struct Phone(String);

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
        acceptable.then(|| Self(number.format().mode(phonenumber::Mode::E164).to_string()))
    }

    /// How a phone stored before E.164 (digits only, any `+` dropped) reads
    /// now: `Ok` with the one reading, or `Err` with every reading when there
    /// is none or more than one (the digits are valid both as a national number
    /// of `region` and, with `+`, as an international one). A value already in
    /// E.164 reads as itself.
    ///
    /// # Errors
    /// The readings (none, or the national one first) when the digits are not one number.
    pub fn from_legacy(digits: &str, region: PhoneRegion) -> Result<Self, Vec<Self>> {
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

/// What a new password must satisfy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasswordPolicy {
    /// Fewest characters (Unicode scalar values). Default 8.
    pub min_chars: usize,
    /// Most characters; longer passwords are refused, never truncated. Default 256.
    pub max_chars: usize,
    /// Seed 003's rule: at least one upper-case letter, one lower-case letter and one digit.
    pub require_mixed: bool,
    /// The lowest zxcvbn score (0-4) a new password must reach
    /// (`PASSWORD_MIN_SCORE`); 0 turns the screening off. zxcvbn estimates
    /// the guesses an attacker needs from its lists of leaked passwords,
    /// names and words and from patterns (keyboard rows, dates, repeats):
    /// 0 means under 10^3, 1 under 10^6, 2 under 10^8, 3 under 10^10, 4 more.
    /// Default [`PasswordPolicy::DEFAULT_MIN_SCORE`] (NIST SP 800-63B §3.1.1.2:
    /// refuse commonly used, expected or compromised passwords).
    pub min_score: u8,
}

impl PasswordPolicy {
    /// The default [`PasswordPolicy::min_score`]: at least 10^8 guesses
    /// (docs/security.md gives the reasons).
    pub const DEFAULT_MIN_SCORE: u8 = 3;
    /// The highest zxcvbn score.
    pub const MAX_SCORE: u8 = 4;
    /// zxcvbn's cost grows with the square of the length: at most the first
    /// this many characters are scored (zxcvbn itself stops at 100, which
    /// costs about a third of an argon2id hash here). The rest still counts
    /// towards the length rule and is stored; scoring a prefix can only
    /// under-estimate the guesses, never over-estimate them.
    pub const SCORED_CHARS: usize = 64;
    /// zxcvbn's l33t matcher re-runs its dictionaries once per combination
    /// of substitutions present (`4`/`@` for `a`, `(`/`{`/`[`/`<` for `c`, …):
    /// up to 576 of them, ~0.8 s for 85 random symbols. The scored prefix is
    /// cut where combinations × characters² would exceed this budget
    /// (64², i.e. what 64 characters cost without substitutions).
    pub const SCORING_BUDGET: usize = Self::SCORED_CHARS * Self::SCORED_CHARS;
}

impl Default for PasswordPolicy {
    fn default() -> Self {
        Self {
            min_chars: 8,
            max_chars: 256,
            require_mixed: false,
            min_score: Self::DEFAULT_MIN_SCORE,
        }
    }
}

/// A new password that satisfies the [`PasswordPolicy`]. Its `Debug` is redacted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Password(Secret);

impl Password {
    /// Checks a candidate new password against `policy`.
    ///
    /// # Errors
    /// The first [`FieldIssue`] that the password fails.
    pub fn parse(raw: &str, policy: &PasswordPolicy) -> Result<Self, FieldIssue> {
        if raw.is_empty() {
            return Err(FieldIssue::Required);
        }
        let normalized = nfkc(raw);
        let raw = normalized.as_str();
        let len = raw.chars().count();
        if len < policy.min_chars || len > policy.max_chars {
            return Err(FieldIssue::Length {
                min: policy.min_chars,
                max: policy.max_chars,
            });
        }
        if has_control(raw) {
            return Err(FieldIssue::ControlCharacters);
        }
        if policy.require_mixed
            && !(raw.chars().any(char::is_uppercase)
                && raw.chars().any(char::is_lowercase)
                && raw.chars().any(|c| c.is_ascii_digit()))
        {
            return Err(FieldIssue::PasswordComposition);
        }
        Ok(Self(Secret::new(raw)))
    }

    /// The checks that need the account: see [`screen_password`]. Every new
    /// password goes through [`Password::parse`] and then this.
    ///
    /// # Errors
    /// [`FieldIssue::PasswordContainsIdentity`], [`FieldIssue::PasswordGuessable`].
    pub fn screen(
        &self,
        policy: &PasswordPolicy,
        username: &str,
        email: &str,
    ) -> Result<(), FieldIssue> {
        screen_password(self.0.expose(), policy, username, email)
    }

    /// The password, for hashing.
    #[must_use]
    pub fn expose(&self) -> &str {
        self.0.expose()
    }
}

/// `s` in Unicode normalisation form KC, so that the same password typed on
/// different keyboards (full-width digits, composed accents) is one password.
#[must_use]
pub fn nfkc(s: &str) -> String {
    use unicode_normalization::UnicodeNormalization as _;
    s.nfkc().collect()
}

/// True when `password` contains `username`, the local part of `email` or
/// `email` itself (ignoring case; parts of 3 characters or more).
#[must_use]
pub fn contains_identity(password: &str, username: &str, email: &str) -> bool {
    let pw = nfkc(password).to_lowercase();
    let local = email.split('@').next().unwrap_or_default();
    [username, local, email].iter().any(|part| {
        let part = nfkc(part.trim()).to_lowercase();
        part.chars().count() >= 3 && pw.contains(&part)
    })
}

/// Screens a new password (already through [`Password::parse`]) against
/// the account it is for; `username` and `email` may be empty when unknown.
///
/// 1. It must not contain the username, the e-mail address or its local part
///    ([`contains_identity`]).
/// 2. Its zxcvbn score must reach `policy.min_score` (skipped at 0). zxcvbn
///    is given the username, the address and its local part as words an
///    attacker knows, and scores only [`scored_prefix`]: at most the first
///    [`PasswordPolicy::SCORED_CHARS`] characters, fewer when many l33t
///    substitutes would multiply its work.
///
/// NIST SP 800-63B §3.1.1.2 (blocklists of compromised and expected
/// passwords, context-specific words such as the username).
///
/// # Errors
/// [`FieldIssue::PasswordContainsIdentity`], then [`FieldIssue::PasswordGuessable`]
/// with zxcvbn's warning and at least one suggestion.
pub fn screen_password(
    password: &str,
    policy: &PasswordPolicy,
    username: &str,
    email: &str,
) -> Result<(), FieldIssue> {
    if contains_identity(password, username, email) {
        return Err(FieldIssue::PasswordContainsIdentity);
    }
    if policy.min_score == 0 {
        return Ok(());
    }
    let (score, warning, suggestions) = password_score(password, &[username, email]);
    if score >= policy.min_score {
        return Ok(());
    }
    Err(FieldIssue::PasswordGuessable {
        score,
        min_score: policy.min_score,
        warning,
        suggestions: if suggestions.is_empty() {
            vec![PasswordSuggestion::AddAnotherWord]
        } else {
            suggestions
        },
    })
}

/// zxcvbn's score (0-4) of the [`scored_prefix`] of `password`, with its warning and suggestions (zxcvbn gives
/// feedback only for scores up to 2). `user_inputs` are words an attacker
/// knows (the username and e-mail address; the local part is added).
#[must_use]
pub fn password_score(
    password: &str,
    user_inputs: &[&str],
) -> (u8, Option<PasswordWarning>, Vec<PasswordSuggestion>) {
    let scored = scored_prefix(password);
    let mut inputs: Vec<&str> = Vec::with_capacity(user_inputs.len() * 2);
    for input in user_inputs.iter().map(|i| i.trim()) {
        if input.is_empty() {
            continue;
        }
        inputs.push(input);
        if let Some((local, _)) = input.split_once('@') {
            inputs.push(local);
        }
    }
    let entropy = zxcvbn::zxcvbn(&scored, &inputs);
    let (warning, suggestions) = entropy.feedback().map_or((None, Vec::new()), |f| {
        (
            f.warning().map(warning_of),
            f.suggestions().iter().copied().map(suggestion_of).collect(),
        )
    });
    (u8::from(entropy.score()), warning, suggestions)
}

/// zxcvbn's l33t table (zxcvbn 3.1, `matching::L33T_TABLE`): the
/// characters that may stand for each letter.
const L33T_TABLE: &[(char, &[char])] = &[
    ('a', &['4', '@']),
    ('b', &['8']),
    ('c', &['(', '{', '[', '<']),
    ('e', &['3']),
    ('g', &['6', '9']),
    ('i', &['1', '!', '|']),
    ('l', &['1', '|', '7']),
    ('o', &['0']),
    ('s', &['$', '5']),
    ('t', &['+', '7']),
    ('x', &['%']),
    ('z', &['2']),
];

/// The part of `password` that zxcvbn scores: the longest prefix of at most
/// [`PasswordPolicy::SCORED_CHARS`] characters whose l33t combinations
/// (the product, over letters, of the substitutes present) times its
/// length squared stays within [`PasswordPolicy::SCORING_BUDGET`]. Bounds
/// zxcvbn's work whatever the input; at least one character is kept.
#[must_use]
pub fn scored_prefix(password: &str) -> String {
    let mut present: Vec<char> = Vec::new();
    let mut prefix = String::new();
    for (n, c) in password
        .chars()
        .take(PasswordPolicy::SCORED_CHARS)
        .enumerate()
    {
        if !present.contains(&c) && L33T_TABLE.iter().any(|(_, subs)| subs.contains(&c)) {
            present.push(c);
        }
        let combinations: usize = L33T_TABLE
            .iter()
            .map(|(_, subs)| subs.iter().filter(|s| present.contains(s)).count().max(1))
            .product();
        let len = n + 1;
        if n > 0 && combinations.saturating_mul(len * len) > PasswordPolicy::SCORING_BUDGET {
            break;
        }
        prefix.push(c);
    }
    prefix
}

fn warning_of(w: zxcvbn::feedback::Warning) -> PasswordWarning {
    use zxcvbn::feedback::Warning as W;
    match w {
        W::StraightRowsOfKeysAreEasyToGuess => PasswordWarning::StraightRowsOfKeys,
        W::ShortKeyboardPatternsAreEasyToGuess => PasswordWarning::ShortKeyboardPatterns,
        W::RepeatsLikeAaaAreEasyToGuess => PasswordWarning::RepeatedCharacters,
        W::RepeatsLikeAbcAbcAreOnlySlightlyHarderToGuess => PasswordWarning::RepeatedPatterns,
        W::ThisIsATop10Password => PasswordWarning::Top10Password,
        W::ThisIsATop100Password => PasswordWarning::Top100Password,
        W::ThisIsACommonPassword => PasswordWarning::CommonPassword,
        W::ThisIsSimilarToACommonlyUsedPassword => PasswordWarning::SimilarToCommonPassword,
        W::SequencesLikeAbcAreEasyToGuess => PasswordWarning::Sequences,
        W::RecentYearsAreEasyToGuess => PasswordWarning::RecentYears,
        W::AWordByItselfIsEasyToGuess => PasswordWarning::WordByItself,
        W::DatesAreOftenEasyToGuess => PasswordWarning::Dates,
        W::NamesAndSurnamesByThemselvesAreEasyToGuess => PasswordWarning::NameByItself,
        W::CommonNamesAndSurnamesAreEasyToGuess => PasswordWarning::CommonNames,
    }
}

fn suggestion_of(s: zxcvbn::feedback::Suggestion) -> PasswordSuggestion {
    use zxcvbn::feedback::Suggestion as S;
    match s {
        S::UseAFewWordsAvoidCommonPhrases => PasswordSuggestion::UseAFewWords,
        S::NoNeedForSymbolsDigitsOrUppercaseLetters => PasswordSuggestion::NoNeedForSymbols,
        S::AddAnotherWordOrTwo => PasswordSuggestion::AddAnotherWord,
        S::CapitalizationDoesntHelpVeryMuch => PasswordSuggestion::CapitalizationDoesNotHelp,
        S::AllUppercaseIsAlmostAsEasyToGuessAsAllLowercase => {
            PasswordSuggestion::AllUppercaseDoesNotHelp
        }
        S::ReversedWordsArentMuchHarderToGuess => PasswordSuggestion::ReversedWordsDoNotHelp,
        S::PredictableSubstitutionsDontHelpVeryMuch => PasswordSuggestion::SubstitutionsDoNotHelp,
        S::UseALongerKeyboardPatternWithMoreTurns => PasswordSuggestion::LongerKeyboardPattern,
        S::AvoidRepeatedWordsAndCharacters => PasswordSuggestion::AvoidRepeats,
        S::AvoidSequences => PasswordSuggestion::AvoidSequences,
        S::AvoidRecentYears => PasswordSuggestion::AvoidRecentYears,
        S::AvoidYearsThatAreAssociatedWithYou => PasswordSuggestion::AvoidAssociatedYears,
        S::AvoidDatesAndYearsThatAreAssociatedWithYou => PasswordSuggestion::AvoidAssociatedDates,
    }
}

/// A password offered at login or as the current password: not checked against
/// the policy (older accounts may predate it), only bounded so that a huge body
/// cannot make hashing expensive. Its `Debug` is redacted.
///
/// An attempt is either the password itself or, on seed 001's routes, the
/// lower-case hex SM3 digest of it (see [`PasswordAttempt::sm3_digest`]).
/// Hashers key their canonical hash on the SM3 digest of the password, so both
/// forms verify against the same stored hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasswordAttempt {
    secret: Secret,
    sm3_digest: bool,
    /// The attempt as typed, when NFKC changed it (legacy hashes were made
    /// from the unnormalised password).
    original: Option<Secret>,
}

impl PasswordAttempt {
    /// Longest attempt accepted, in bytes.
    pub const MAX_BYTES: usize = 4096;

    /// Wraps an offered password.
    ///
    /// # Errors
    /// [`FieldIssue::Required`] when empty, [`FieldIssue::Length`] when over [`Self::MAX_BYTES`].
    pub fn parse(raw: &str) -> Result<Self, FieldIssue> {
        if raw.is_empty() {
            return Err(FieldIssue::Required);
        }
        if raw.len() > Self::MAX_BYTES {
            return Err(FieldIssue::Length {
                min: 1,
                max: Self::MAX_BYTES,
            });
        }
        let normalized = nfkc(raw);
        let original = (normalized != raw).then(|| Secret::new(raw));
        Ok(Self {
            secret: Secret::new(normalized),
            sm3_digest: false,
            original,
        })
    }

    /// Wraps an SM3 digest of a password, as seed 001's README has clients
    /// send it: 64 hex digits (kept lower-case).
    ///
    /// # Errors
    /// [`FieldIssue::Required`] when empty, [`FieldIssue::Length`] when not 64 hex digits.
    pub fn sm3_digest(raw: &str) -> Result<Self, FieldIssue> {
        if raw.is_empty() {
            return Err(FieldIssue::Required);
        }
        if !Self::looks_like_sm3_digest(raw) {
            return Err(FieldIssue::Length { min: 64, max: 64 });
        }
        Ok(Self {
            secret: Secret::new(raw.to_ascii_lowercase()),
            sm3_digest: true,
            original: None,
        })
    }

    /// True when `raw` has the shape of an SM3 digest (64 hex digits).
    #[must_use]
    pub fn looks_like_sm3_digest(raw: &str) -> bool {
        raw.len() == 64 && raw.bytes().all(|b| b.is_ascii_hexdigit())
    }

    /// True when this attempt is an SM3 digest rather than the password.
    #[must_use]
    pub fn is_sm3_digest(&self) -> bool {
        self.sm3_digest
    }

    /// The offered password, NFKC-normalised (or its digest, see [`Self::is_sm3_digest`]).
    #[must_use]
    pub fn expose(&self) -> &str {
        self.secret.expose()
    }

    /// The offered password as typed (legacy hashes were made from it).
    #[must_use]
    pub fn expose_original(&self) -> &str {
        self.original.as_ref().unwrap_or(&self.secret).expose()
    }
}

impl From<Password> for PasswordAttempt {
    fn from(p: Password) -> Self {
        Self {
            secret: p.0,
            sm3_digest: false,
            original: None,
        }
    }
}

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

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// A new username under the default policy (3-50 characters).
    fn username(raw: &str) -> Result<Username, FieldIssue> {
        Username::parse(raw, &UsernamePolicy::default())
    }

    #[test]
    fn username_rules() {
        assert!(username("testuser").is_ok());
        assert!(username("张三丰").is_ok());
        assert_eq!(username("ab"), Err(FieldIssue::Length { min: 3, max: 50 }));
        assert_eq!(
            username(&"a".repeat(51)),
            Err(FieldIssue::Length { min: 3, max: 50 })
        );
        assert_eq!(username("a b c"), Err(FieldIssue::UsernameCharacters));
        assert_eq!(username("a@b"), Err(FieldIssue::UsernameCharacters));
        assert_eq!(username("12345"), Err(FieldIssue::UsernameAllDigits));
        assert_eq!(username("   "), Err(FieldIssue::Required));
        assert_eq!(
            username("  alice ").map(|u| u.display),
            Ok("alice".to_owned())
        );
    }

    #[test]
    fn the_minimum_is_a_policy_counted_in_characters_after_nfc() {
        let two = UsernamePolicy { min_chars: 2 };
        assert_eq!(
            Username::parse("张三", &two).map(|u| u.display),
            Ok("张三".to_owned())
        );
        assert_eq!(
            Username::parse("张", &two),
            Err(FieldIssue::Length { min: 2, max: 50 })
        );
        // `e` + U+0301 is one character once composed.
        assert_eq!(
            Username::parse("e\u{301}", &two),
            Err(FieldIssue::Length { min: 2, max: 50 })
        );
        assert!(Username::parse("e\u{301}x", &two).is_ok());
        assert_eq!(
            username("张三"),
            Err(FieldIssue::Length { min: 3, max: 50 })
        );
        // Names that exist already are read whatever the minimum.
        assert!(Username::parse("z", &UsernamePolicy::EXISTING).is_ok());
        assert!(matches!(Login::parse("张三", cn()), Ok(Login::Username(_))));
        assert!(matches!(Login::parse("ab", cn()), Ok(Login::Username(_))));
    }

    #[test]
    fn email_rules() {
        assert_eq!(
            Email::parse(" Test@Example.COM ").map(|e| e.0),
            Ok("test@example.com".to_owned())
        );
        for bad in [
            "plain",
            "a@b",
            "@example.com",
            "a@.com",
            "a@b..com",
            "a b@c.com",
            "a@b@c.com",
            "a@-b.com",
        ] {
            assert_eq!(Email::parse(bad), Err(FieldIssue::EmailFormat), "{bad}");
        }
    }

    fn cn() -> PhoneRegion {
        PhoneRegion::parse("CN").unwrap()
    }

    #[test]
    fn phone_rules() {
        // Issue 12 item 9: one number however it is written, read in CN.
        for same in [
            "13800138000",
            "+86 13800138000",
            "0086 13800138000",
            "+86 138-0013-8000",
            " (138) 0013.8000 ",
        ] {
            assert_eq!(
                Phone::parse(same, cn()).map(|p| p.0),
                Ok("+8613800138000".to_owned()),
                "{same}"
            );
        }
        assert_eq!(
            Phone::parse("+1 (555) 010-0199", cn()).map(|p| p.0),
            Ok("+15550100199".to_owned())
        );
        // The same digits without `+` are a Chinese mobile number.
        assert_eq!(
            Phone::parse("15550100199", cn()).map(|p| p.0),
            Ok("+8615550100199".to_owned())
        );
        // Read in another region, national numbers are that region's.
        assert_eq!(
            Phone::parse("(201) 555-0123", PhoneRegion::parse("us").unwrap()).map(|p| p.0),
            Ok("+12015550123".to_owned())
        );
        // A reserved range is taken written internationally, never nationally.
        assert_eq!(
            Phone::parse("(555) 010-0199", PhoneRegion::parse("us").unwrap()),
            Err(FieldIssue::PhoneFormat)
        );
        for bad in [
            "12a45",
            "123",
            "+",
            "+86 1",
            "1-800-FLOWERS",
            "++8613800138000",
            "13800138000 ext. 12",
        ] {
            assert_eq!(
                Phone::parse(bad, cn()),
                Err(FieldIssue::PhoneFormat),
                "{bad}"
            );
        }
        assert_eq!(Phone::parse("  ", cn()), Err(FieldIssue::Required));
        assert_eq!(PhoneRegion::parse("XX"), Err(FieldIssue::PhoneFormat));
        assert_eq!(PhoneRegion::default().as_str(), "CN");
    }

    #[test]
    fn legacy_phone_digits_read_once_or_are_ambiguous() {
        // Stored as typed without `+`: only the international reading is valid.
        assert_eq!(
            Phone::from_legacy("8613800138000", cn()).map(|p| p.0),
            Ok("+8613800138000".to_owned())
        );
        assert_eq!(
            Phone::from_legacy("13800138000", cn()).map(|p| p.0),
            Ok("+8613800138000".to_owned())
        );
        assert_eq!(
            Phone::from_legacy("+8613800138000", cn()).map(|p| p.0),
            Ok("+8613800138000".to_owned())
        );
        // Valid as a CN mobile and as a UK number: both readings are reported.
        let both = Phone::from_legacy("447911123456", cn());
        assert!(
            matches!(&both, Err(r) if r.len() == 2 && r[1].as_str() == "+447911123456")
                || both.is_ok(),
            "{both:?}"
        );
        assert_eq!(Phone::from_legacy("12", cn()), Err(Vec::new()));
    }

    #[test]
    fn usernames_compare_as_people_read_them() {
        let canonical = |s: &str| username(s).map(|u| u.canonical().to_owned());
        // Issue 12 item 4: case in any script, the Kelvin sign, full width.
        assert_eq!(canonical("élise7"), canonical("Élise7"));
        assert_eq!(canonical("Élise7"), Ok("élise7".to_owned()));
        assert_eq!(canonical("e\u{301}lise7"), Ok("élise7".to_owned()), "NFC");
        assert_eq!(canonical("дмитрий7"), canonical("ДМИТРИЙ7"));
        assert_eq!(canonical("\u{212A}ora7"), Ok("kora7".to_owned()));
        assert_eq!(canonical("Kora7"), Ok("kora7".to_owned()));
        assert_eq!(canonical("ｃarol7"), Ok("carol7".to_owned()));
        assert_eq!(canonical("ＣＡＲＯＬ７"), Ok("carol7".to_owned()));
        // The display form is kept.
        let u = username(" Élise7 ").unwrap();
        assert_eq!((u.as_str(), u.canonical()), ("Élise7", "élise7"));
        // PRECIS refuses compatibility characters; Tessera's rules still hold.
        assert_eq!(username("ﬁsh7"), Err(FieldIssue::UsernameCharacters));
        assert_eq!(username("a!b7"), Err(FieldIssue::UsernameCharacters));
        assert_eq!(username("１２３４"), Err(FieldIssue::UsernameAllDigits));
        assert_eq!(Username::from_stored("Élise7".into()).canonical(), "élise7");
    }

    #[test]
    fn email_canonical_form_and_invisibles() {
        assert_eq!(
            Email::parse("Élise@Bücher.Example").map(|e| e.0),
            Ok("élise@xn--bcher-kva.example".to_owned())
        );
        assert_eq!(
            Email::parse("e\u{301}lise@xn--bcher-kva.example"),
            Email::parse("ÉLISE@BÜCHER.example")
        );
        for bad in [
            "a\u{200B}b@example.com",
            "ab@exa\u{200B}mple.com",
            "a\u{200D}b@example.com",
            "a\u{2060}b@example.com",
            "\u{FEFF}ab@example.com",
            "a\u{202E}b@example.com",
            "a\u{00AD}b@example.com",
            "a\u{034F}b@example.com",
            "a\u{3164}b@example.com",
            "ab@example.com\u{E0041}",
        ] {
            assert_eq!(Email::parse(bad), Err(FieldIssue::EmailFormat), "{bad:?}");
        }
    }

    #[test]
    fn password_policy() {
        let p = PasswordPolicy::default();
        // Structural rules only: screening needs the account (`screen`).
        assert!(Password::parse("password123", &p).is_ok());
        // NFKC: full-width digits are digits; the stored form is normalised.
        let wide = Password::parse("Ｓｅｃｒｅｔ１２３", &p).unwrap();
        assert_eq!(wide.expose(), "Secret123");
        assert_eq!(
            PasswordAttempt::parse("Ｓｅｃｒｅｔ１２３")
                .unwrap()
                .expose(),
            "Secret123"
        );
        assert_eq!(
            PasswordAttempt::parse("Ｓｅｃｒｅｔ１２３")
                .unwrap()
                .expose_original(),
            "Ｓｅｃｒｅｔ１２３"
        );
        // A password that holds the name or the address, whatever its score.
        let pw = Password::parse("xXalice-2024Xx-Wombat-Quill", &p).unwrap();
        assert_eq!(
            pw.screen(&p, "Alice", "someone@b.com"),
            Err(FieldIssue::PasswordContainsIdentity)
        );
        assert_eq!(
            pw.screen(&p, "bob", "ALICE@b.com"),
            Err(FieldIssue::PasswordContainsIdentity)
        );
        assert_eq!(pw.screen(&p, "bob", "carol@b.com"), Ok(()));
        let off = PasswordPolicy {
            min_score: 0,
            ..p.clone()
        };
        assert_eq!(
            pw.screen(&off, "Alice", ""),
            Err(FieldIssue::PasswordContainsIdentity),
            "the identity rule holds with the score off"
        );
        assert_eq!(
            Password::parse("short", &p),
            Err(FieldIssue::Length { min: 8, max: 256 })
        );
        assert_eq!(Password::parse("", &p), Err(FieldIssue::Required));
        assert_eq!(
            Password::parse("pass\u{0}word1", &p),
            Err(FieldIssue::ControlCharacters)
        );
        let strict = PasswordPolicy {
            require_mixed: true,
            ..p
        };
        assert_eq!(
            Password::parse("password123", &strict),
            Err(FieldIssue::PasswordComposition)
        );
        assert!(Password::parse("Secret123", &strict).is_ok());
        assert_eq!(
            format!("{:?}", Password::parse("Secret123", &strict)),
            "Ok(Password(Secret(***)))"
        );
    }

    fn screened(
        password: &str,
        min_score: u8,
        username: &str,
        email: &str,
    ) -> Result<(), FieldIssue> {
        let policy = PasswordPolicy {
            min_score,
            ..PasswordPolicy::default()
        };
        Password::parse(password, &policy)?.screen(&policy, username, email)
    }

    #[test]
    fn leaked_passwords_are_refused_as_too_common_with_a_suggestion() {
        for leaked in [
            "password123",
            "PassWord123",
            "ＰＡＳＳＷＯＲＤ１２３",
            "iloveyou2",
            "Password123!",
        ] {
            let issue = screened(leaked, 3, "bob", "bob@example.com").unwrap_err();
            assert_eq!(issue.code(), "password_too_common", "{leaked}: {issue:?}");
            let FieldIssue::PasswordGuessable {
                score,
                min_score,
                warning,
                suggestions,
            } = issue
            else {
                unreachable!()
            };
            assert!(score < 3, "{leaked}");
            assert_eq!(min_score, 3);
            assert!(warning.is_some_and(PasswordWarning::is_common_password));
            assert!(!suggestions.is_empty(), "{leaked}");
        }
        assert_eq!(
            screened("password123", 3, "bob", "bob@example.com"),
            Err(FieldIssue::PasswordGuessable {
                score: 0,
                min_score: 3,
                warning: Some(PasswordWarning::CommonPassword),
                suggestions: vec![PasswordSuggestion::AddAnotherWord],
            })
        );
    }

    #[test]
    fn weak_patterns_are_refused_as_too_weak_with_their_reason() {
        for (weak, warning) in [
            ("zxcvbnm,./", PasswordWarning::StraightRowsOfKeys),
            ("abcdefghij", PasswordWarning::Sequences),
            ("zzzzzzzzzz", PasswordWarning::RepeatedCharacters),
            ("abcabcabcabc", PasswordWarning::RepeatedPatterns),
            ("12/05/1987", PasswordWarning::Dates),
        ] {
            let issue = screened(weak, 3, "bob", "bob@example.com").unwrap_err();
            assert_eq!(
                issue.code(),
                if warning.is_common_password() {
                    "password_too_common"
                } else {
                    "password_too_weak"
                },
                "{weak}: {issue:?}"
            );
            assert!(
                matches!(&issue, FieldIssue::PasswordGuessable { warning: Some(w), suggestions, .. } if *w == warning && !suggestions.is_empty()),
                "{weak}: {issue:?}"
            );
        }
    }

    #[test]
    fn names_and_the_accounts_own_words_lower_the_score() {
        // Common names, alone or with a year: name-based guesses.
        for (name, warning) in [
            ("jennifer", PasswordWarning::NameByItself),
            ("michael1990", PasswordWarning::CommonNames),
            ("smith2019", PasswordWarning::CommonNames),
        ] {
            let issue = screened(name, 3, "bob", "bob@example.com").unwrap_err();
            assert_eq!(issue.code(), "password_too_weak", "{name}");
            assert!(
                matches!(&issue, FieldIssue::PasswordGuessable { score, warning: Some(w), .. } if *score < 3 && *w == warning),
                "{name}: {issue:?}"
            );
        }
        // The account's own words, disguised so that the containment rule
        // misses them (substitutions), are known to zxcvbn: score 3 → 1.
        assert_eq!(password_score("w0mb@th1ll99", &[]).0, 3);
        assert_eq!(
            password_score("w0mb@th1ll99", &["wombathill", "bob@example.com"]).0,
            1
        );
        assert_eq!(
            screened("w0mb@th1ll99", 3, "wombathill", "bob@example.com").map_err(|e| e.code()),
            Err("password_too_weak")
        );
        assert_eq!(
            screened("w0mb@th1ll99", 3, "bob", "bob@example.com"),
            Ok(())
        );
    }

    #[test]
    fn strong_passwords_pass_and_the_score_is_configurable() {
        for strong in [
            "correct horse battery staple",
            "Wenzhou-Rain-47-Quill",
            "kx9#Lm2$vQ!t",
        ] {
            assert_eq!(
                screened(strong, 4, "bob", "bob@example.com"),
                Ok(()),
                "{strong}"
            );
        }
        // Score 0 turns the screening off; each level refuses more.
        assert_eq!(screened("password123", 0, "bob", "bob@example.com"), Ok(()));
        let (score, _, _) = password_score("Secret123", &[]);
        assert!(score < PasswordPolicy::MAX_SCORE);
        assert_eq!(
            screened("Secret123", score, "bob", "bob@example.com"),
            Ok(())
        );
        assert!(screened("Secret123", score + 1, "bob", "bob@example.com").is_err());
        // Without feedback from zxcvbn (it gives none above score 2) there is
        // still a suggestion.
        let issue = screened("Secret-Wombat-9", 4, "bob", "bob@example.com");
        if let Err(FieldIssue::PasswordGuessable { suggestions, .. }) = issue {
            assert!(!suggestions.is_empty());
        }
    }

    #[test]
    fn the_scored_part_is_bounded_in_length_and_l33t_combinations() {
        // A weak 64-character head scores as weak whatever follows it.
        let head = "a".repeat(PasswordPolicy::SCORED_CHARS);
        let tail = "kx9#Lm2$vQ!t-Wenzhou-Rain-47";
        assert_eq!(scored_prefix(&format!("{head}{tail}")), head);
        assert_eq!(
            password_score(&format!("{head}{tail}"), &[]),
            password_score(&head, &[])
        );
        // Long passwords are judged on their head and stored whole.
        let strong = format!(
            "{}{}",
            "correct horse battery staple ".repeat(4),
            "a".repeat(100)
        );
        let p = Password::parse(&strong, &PasswordPolicy::default()).unwrap();
        assert_eq!(
            p.screen(&PasswordPolicy::default(), "bob", "bob@example.com"),
            Ok(())
        );
        assert_eq!(p.expose().chars().count(), strong.chars().count());
        // Every l33t substitute at once (576 combinations, ~0.8 s of zxcvbn
        // for 85 characters): the prefix shrinks so that combinations ×
        // length² stays within the budget, and still shows the strength.
        let symbols =
            "q7#Vz9!mK2$wL8@xR4%tN6^pB1&hJ3*cF5(gD0)sY7-eU2+aI9=oP4[lM8]kZ6{jX1}uC3;vT5:bW0,nQ2.";
        let all_l33t = "4@8({[<3691!|70$5+%2";
        for pw in [symbols, all_l33t] {
            let prefix = scored_prefix(pw);
            assert!(
                pw.starts_with(&prefix) && prefix.chars().count() >= 11,
                "{prefix}"
            );
            assert!(
                prefix.chars().count() < pw.chars().count().min(64),
                "{prefix}"
            );
            assert_eq!(screened(pw, 3, "bob", "bob@example.com"), Ok(()), "{pw}");
        }
        assert_eq!(scored_prefix(all_l33t), "4@8({[<3691");
        // Generated passwords with a few symbols keep their whole length.
        assert_eq!(scored_prefix("q7#Vz9!mK2$wL8@x"), "q7#Vz9!mK2$wL8@x");
        assert_eq!(scored_prefix(""), "");
    }

    #[test]
    fn login_reads_each_kind() {
        assert!(matches!(Login::parse("a@b.com", cn()), Ok(Login::Email(_))));
        // Usernames that look like numbers but are none stay usernames.
        for name in ["007-008", "2024.10"] {
            assert!(username(name).is_ok(), "{name}");
            assert!(
                matches!(Login::parse(name, cn()), Ok(Login::Username(_))),
                "{name}"
            );
        }
        assert!(matches!(
            Login::parse("13800138000", cn()),
            Ok(Login::Phone(_))
        ));
        assert!(matches!(
            Login::parse("alice", cn()),
            Ok(Login::Username(_))
        ));
        assert!(matches!(Login::parse("", cn()), Err(FieldIssue::Required)));
        // Phones read as Phone::parse reads them.
        assert_eq!(
            Login::parse("0086 138 0013 8000", cn()),
            Ok(Login::Phone(Phone("+8613800138000".into())))
        );
        assert_eq!(
            Login::parse("15550100199", cn()),
            Ok(Login::Phone(Phone("+8615550100199".into())))
        );
        assert_eq!(Login::parse("123", cn()), Err(FieldIssue::PhoneFormat));
        assert!(
            matches!(Login::parse("\u{212A}ora7", cn()), Ok(Login::Username(u)) if u.canonical() == "kora7")
        );
    }

    proptest! {
        #[test]
        fn username_parse_is_idempotent_and_bounded(raw in "\\PC{0,60}") {
            if let Ok(u) = username(&raw) {
                let n = u.as_str().chars().count();
                prop_assert!((3..=50).contains(&n));
                prop_assert!(!u.as_str().contains('@'));
                prop_assert_eq!(username(u.as_str()), Ok(u.clone()));
            }
        }

        #[test]
        fn valid_usernames_are_accepted(raw in "[a-zA-Z_][a-zA-Z0-9_.-]{2,49}") {
            prop_assert!(username(&raw).is_ok());
        }

        #[test]
        fn email_is_normalised_and_idempotent(local in "[A-Za-z0-9._+]{1,20}", domain in "[A-Za-z0-9]{1,10}\\.[A-Za-z]{2,6}") {
            let raw = format!("  {local}@{domain} ");
            let e = Email::parse(&raw).unwrap();
            prop_assert_eq!(e.as_str(), raw.trim().to_lowercase());
            prop_assert_eq!(Email::parse(e.as_str()), Ok(e.clone()));
        }

        #[test]
        fn email_parse_never_panics_and_output_is_lowercase(raw in "\\PC{0,80}") {
            if let Ok(e) = Email::parse(&raw) {
                prop_assert_eq!(e.as_str().to_lowercase(), e.as_str());
                prop_assert_eq!(e.as_str().matches('@').count(), 1);
            }
        }

        #[test]
        fn phone_is_e164_and_idempotent(raw in "\\+?[0-9 ()-]{0,30}") {
            if let Ok(p) = Phone::parse(&raw, cn()) {
                prop_assert!(p.as_str().starts_with('+'));
                prop_assert!(p.as_str()[1..].chars().all(|c| c.is_ascii_digit()));
                prop_assert!(p.as_str().len() <= 16);
                prop_assert_eq!(Phone::parse(p.as_str(), cn()), Ok(p.clone()));
                prop_assert_eq!(Phone::parse(p.as_str(), PhoneRegion::parse("US").unwrap()), Ok(p.clone()));
            }
        }

        #[test]
        fn username_canonical_form_is_stable(raw in "\\PC{0,60}") {
            if let Ok(u) = username(&raw) {
                // The canonical form is a fixed point and names the same account.
                let again = username(u.canonical()).unwrap();
                prop_assert_eq!(again.canonical(), u.canonical());
                prop_assert_eq!(username(&u.as_str().to_uppercase()).map(|x| x.canonical().to_owned()).ok().unwrap_or_else(|| u.canonical().to_owned()), u.canonical().to_owned());
            }
        }

        #[test]
        fn email_never_holds_invisibles(raw in "\\PC{0,40}", at in 0usize..40) {
            let mut s: Vec<char> = format!("{raw}a@b.com").chars().collect();
            let i = at.min(s.len());
            s.insert(i, '\u{200B}');
            let s: String = s.into_iter().collect();
            prop_assert_eq!(Email::parse(&s).ok(), None);
        }

        #[test]
        fn password_length_policy_holds(raw in "\\PC{0,300}") {
            let policy = PasswordPolicy::default();
            // Lengths count the NFKC form, which is what is stored.
            let normalized = nfkc(&raw);
            let n = normalized.chars().count();
            match Password::parse(&raw, &policy) {
                Ok(p) => { prop_assert!((8..=256).contains(&n)); prop_assert_eq!(p.expose(), normalized.as_str()); }
                Err(e) => prop_assert!(
                    !(8..=256).contains(&n)
                        || normalized.chars().any(char::is_control)
                        || e == FieldIssue::PasswordComposition
                ),
            }
        }

        #[test]
        fn login_never_panics(raw in "\\PC{0,80}") {
            let _ = Login::parse(&raw, cn());
        }
    }
}
