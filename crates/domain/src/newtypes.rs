//! Parse-don't-validate newtypes: once you hold one, it is valid.

use std::fmt;

use crate::secret::Secret;
use crate::validation::{FieldIssue, PasswordSuggestion, PasswordWarning};

fn has_control(s: &str) -> bool {
    s.chars().any(char::is_control)
}

/// A username: 3 to 50 characters of letters (any script), digits, `_`, `-` or
/// `.`, not only digits (so it never reads as a phone number) and never
/// containing `@` (so it never reads as an email). Surrounding spaces are trimmed.
/// Usernames are unique without regard to ASCII case.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Username(String);

impl Username {
    /// Fewest characters.
    pub const MIN: usize = 3;
    /// Most characters.
    pub const MAX: usize = 50;

    /// Parses a username.
    ///
    /// # Errors
    /// The [`FieldIssue`] that explains the refusal.
    pub fn parse(raw: &str) -> Result<Self, FieldIssue> {
        let s = raw.trim();
        if s.is_empty() {
            return Err(FieldIssue::Required);
        }
        let len = s.chars().count();
        if !(Self::MIN..=Self::MAX).contains(&len) {
            return Err(FieldIssue::Length {
                min: Self::MIN,
                max: Self::MAX,
            });
        }
        if !s
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.'))
        {
            return Err(FieldIssue::UsernameCharacters);
        }
        if s.chars().all(|c| c.is_ascii_digit()) {
            return Err(FieldIssue::UsernameAllDigits);
        }
        Ok(Self(s.to_owned()))
    }

    /// The username as stored.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Username {
    /// Wraps a value that a store read back, as it was validated and normalised
    /// on the way in. Adapters use this; everything else uses `parse`.
    #[must_use]
    pub fn from_stored(value: String) -> Self {
        Self(value)
    }
}

impl fmt::Display for Username {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An email address, trimmed and lower-cased: one `@`, a non-empty local part, a
/// domain with a dot and no empty labels, no spaces, at most 254 characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Email(String);

impl Email {
    /// Most characters (RFC 5321 path limit).
    pub const MAX: usize = 254;

    /// Parses and normalises an email address.
    ///
    /// # Errors
    /// [`FieldIssue::Required`], [`FieldIssue::Length`] or [`FieldIssue::EmailFormat`].
    pub fn parse(raw: &str) -> Result<Self, FieldIssue> {
        let s = raw.trim().to_lowercase();
        if s.is_empty() {
            return Err(FieldIssue::Required);
        }
        if s.chars().count() > Self::MAX {
            return Err(FieldIssue::Length {
                min: 3,
                max: Self::MAX,
            });
        }
        let Some((local, domain)) = s.split_once('@') else {
            return Err(FieldIssue::EmailFormat);
        };
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
            && !s.chars().any(|c| {
                c.is_whitespace()
                    || c.is_control()
                    || matches!(
                        c,
                        '<' | '>' | '(' | ')' | ',' | ';' | ':' | '\\' | '"' | '[' | ']'
                    )
            });
        if well_formed {
            Ok(Self(s))
        } else {
            Err(FieldIssue::EmailFormat)
        }
    }

    /// The normalised address.
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

/// A phone number kept as digits only: spaces, dashes, dots, parentheses and a
/// leading `+` are dropped; 5 to 20 digits remain.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Phone(String);

impl Phone {
    /// Parses and normalises a phone number.
    ///
    /// # Errors
    /// [`FieldIssue::Required`] or [`FieldIssue::PhoneFormat`].
    pub fn parse(raw: &str) -> Result<Self, FieldIssue> {
        let s = raw.trim();
        if s.is_empty() {
            return Err(FieldIssue::Required);
        }
        let body = s.strip_prefix('+').unwrap_or(s);
        let mut digits = String::with_capacity(body.len());
        for c in body.chars() {
            match c {
                '0'..='9' => digits.push(c),
                ' ' | '-' | '.' | '(' | ')' => {}
                _ => return Err(FieldIssue::PhoneFormat),
            }
        }
        if (5..=20).contains(&digits.len()) {
            Ok(Self(digits))
        } else {
            Err(FieldIssue::PhoneFormat)
        }
    }

    /// The digits.
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
    /// Matched against usernames without regard to ASCII case.
    Username(Username),
    /// Matched against the normalised email.
    Email(Email),
    /// Matched against the normalised phone digits.
    Phone(Phone),
}

impl Login {
    /// Reads an identifier: with an `@` it is an email; digits (with the usual
    /// phone punctuation) make a phone number; anything else is a username.
    ///
    /// # Errors
    /// [`FieldIssue::Required`] when empty, otherwise the issue of the kind it reads as.
    pub fn parse(raw: &str) -> Result<Self, FieldIssue> {
        let s = raw.trim();
        if s.is_empty() {
            return Err(FieldIssue::Required);
        }
        if s.contains('@') {
            return Email::parse(s).map(Self::Email);
        }
        if let Ok(phone) = Phone::parse(s) {
            return Ok(Self::Phone(phone));
        }
        Username::parse(s).map(Self::Username)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn username_rules() {
        assert!(Username::parse("testuser").is_ok());
        assert!(Username::parse("张三丰").is_ok());
        assert_eq!(
            Username::parse("ab"),
            Err(FieldIssue::Length { min: 3, max: 50 })
        );
        assert_eq!(
            Username::parse(&"a".repeat(51)),
            Err(FieldIssue::Length { min: 3, max: 50 })
        );
        assert_eq!(
            Username::parse("a b c"),
            Err(FieldIssue::UsernameCharacters)
        );
        assert_eq!(Username::parse("a@b"), Err(FieldIssue::UsernameCharacters));
        assert_eq!(Username::parse("12345"), Err(FieldIssue::UsernameAllDigits));
        assert_eq!(Username::parse("   "), Err(FieldIssue::Required));
        assert_eq!(
            Username::parse("  alice ").map(|u| u.0),
            Ok("alice".to_owned())
        );
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

    #[test]
    fn phone_rules() {
        assert_eq!(
            Phone::parse("+86 138-0013-8000").map(|p| p.0),
            Ok("8613800138000".to_owned())
        );
        assert_eq!(
            Phone::parse("13800138000").map(|p| p.0),
            Ok("13800138000".to_owned())
        );
        assert_eq!(Phone::parse("12a45"), Err(FieldIssue::PhoneFormat));
        assert_eq!(Phone::parse("123"), Err(FieldIssue::PhoneFormat));
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
        assert!(matches!(Login::parse("a@b.com"), Ok(Login::Email(_))));
        assert!(matches!(Login::parse("13800138000"), Ok(Login::Phone(_))));
        assert!(matches!(Login::parse("alice"), Ok(Login::Username(_))));
        assert!(matches!(Login::parse(""), Err(FieldIssue::Required)));
    }

    proptest! {
        #[test]
        fn username_parse_is_idempotent_and_bounded(raw in "\\PC{0,60}") {
            if let Ok(u) = Username::parse(&raw) {
                let n = u.as_str().chars().count();
                prop_assert!((3..=50).contains(&n));
                prop_assert!(!u.as_str().contains('@'));
                prop_assert_eq!(Username::parse(u.as_str()), Ok(u.clone()));
            }
        }

        #[test]
        fn valid_usernames_are_accepted(raw in "[a-zA-Z_][a-zA-Z0-9_.-]{2,49}") {
            prop_assert!(Username::parse(&raw).is_ok());
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
        fn phone_keeps_only_digits(raw in "\\+?[0-9 ()-]{0,30}") {
            if let Ok(p) = Phone::parse(&raw) {
                prop_assert!(p.as_str().chars().all(|c| c.is_ascii_digit()));
                prop_assert_eq!(Phone::parse(p.as_str()), Ok(p.clone()));
            }
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
            let _ = Login::parse(&raw);
        }
    }
}
