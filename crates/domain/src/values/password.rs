//! New passwords, their policy and screening, and password attempts.

use std::fmt;

use super::has_control;
use crate::secret::Secret;
use crate::validation::{FieldIssue, PasswordSuggestion, PasswordWarning};

/// What a new password must satisfy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasswordPolicy {
    /// Fewest characters (Unicode scalar values). Default 8.
    pub min_chars: usize,
    /// Most characters; longer passwords are refused, never truncated. Default 256.
    pub max_chars: usize,
    /// At least one upper-case letter, one lower-case letter and one digit.
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
/// An attempt is either the password itself or, for clients that digest
/// passwords before sending them ([`PasswordInput::PlainOrSm3Digest`]), the
/// lower-case hex SM3 digest of it (see [`PasswordAttempt::sm3_digest`]).
/// Hashers key their canonical hash on the SM3 digest of the password, so both
/// forms verify against the same stored hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasswordAttempt {
    secret: Secret,
    sm3_digest: bool,
    /// The attempt as typed, when NFKC changed it (imported hashes were made
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

    /// Wraps an SM3 digest of a password, as some clients send it: 64 hex
    /// digits (kept lower-case).
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

    /// The offered password as typed (imported hashes were made from it).
    #[must_use]
    pub fn expose_original(&self) -> &str {
        self.original.as_ref().unwrap_or(&self.secret).expose()
    }
}

impl PasswordAttempt {
    /// Screens the attempt as a new password for the account named
    /// `username` and `email` ([`screen_password`], the one rule). An SM3
    /// digest cannot be screened (only its shape was checked) and passes.
    ///
    /// # Errors
    /// As [`screen_password`].
    pub fn screen(
        &self,
        policy: &PasswordPolicy,
        username: &str,
        email: &str,
    ) -> Result<(), FieldIssue> {
        if self.is_sm3_digest() {
            Ok(())
        } else {
            screen_password(self.expose(), policy, username, email)
        }
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

/// A password as a client sends it: which readings of the text the client
/// may mean. The dialect decides; the use cases accept either.
#[derive(Clone, Copy)]
#[non_exhaustive]
pub enum PasswordInput<'a> {
    /// The password itself.
    Plain(&'a str),
    /// The password itself, or (64 hex digits) the lower-case hex SM3 digest
    /// of it, for clients that digest passwords before sending them
    /// ([`PasswordAttempt::sm3_digest`]).
    PlainOrSm3Digest(&'a str),
}

impl fmt::Debug for PasswordInput<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Plain(_) => f.write_str("Plain(***)"),
            Self::PlainOrSm3Digest(_) => f.write_str("PlainOrSm3Digest(***)"),
        }
    }
}

impl PasswordInput<'_> {
    /// The input as a new password: for [`Self::Plain`], a password that
    /// meets `policy`; for [`Self::PlainOrSm3Digest`], 64 hex digits are the
    /// digest (the policy cannot be checked on it, only its shape), anything
    /// else a password that meets `policy`.
    ///
    /// # Errors
    /// [`FieldIssue::Required`] when blank, or the issue that refuses it.
    pub fn new_password(self, policy: &PasswordPolicy) -> Result<PasswordAttempt, FieldIssue> {
        match self {
            Self::Plain(raw) => Password::parse(crate::validation::required(Some(raw))?, policy)
                .map(PasswordAttempt::from),
            Self::PlainOrSm3Digest(raw) => {
                let raw = crate::validation::required(Some(raw))?;
                if PasswordAttempt::looks_like_sm3_digest(raw) {
                    PasswordAttempt::sm3_digest(raw)
                } else {
                    Password::parse(raw, policy).map(PasswordAttempt::from)
                }
            }
        }
    }

    /// The input as a login (or current-password) attempt: the readings to
    /// try, most likely first (for [`Self::PlainOrSm3Digest`], the digest,
    /// then the text itself).
    ///
    /// # Errors
    /// The [`FieldIssue`] when the field is empty or too long.
    pub fn attempts(self) -> Result<Vec<PasswordAttempt>, FieldIssue> {
        match self {
            Self::Plain(raw) => Ok(vec![PasswordAttempt::parse(raw)?]),
            Self::PlainOrSm3Digest(raw) => {
                let raw = crate::validation::required(Some(raw))?;
                let plain = PasswordAttempt::parse(raw)?;
                Ok(match PasswordAttempt::sm3_digest(raw) {
                    Ok(digest) => vec![digest, plain],
                    Err(_) => vec![plain],
                })
            }
        }
    }
}
