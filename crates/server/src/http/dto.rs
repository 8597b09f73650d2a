//! Bodies more than one dialect sends.

use serde::Serialize;
use utoipa::ToSchema;

/// zxcvbn's verdict on a refused new password (`PASSWORD_MIN_SCORE`).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PasswordFeedback {
    /// The refused field (`password`, `new_password`).
    pub field: String,
    /// The password's zxcvbn score, 0-4.
    pub score: u8,
    /// The score required.
    pub min_score: u8,
    /// What makes it guessable: `straight_rows_of_keys`, `short_keyboard_patterns`,
    /// `repeated_characters`, `repeated_patterns`, `top10_password`, `top100_password`,
    /// `common_password`, `similar_to_common_password`, `sequences`, `recent_years`,
    /// `word_by_itself`, `dates`, `name_by_itself`, `common_names`; null when zxcvbn
    /// names nothing.
    pub warning: Option<String>,
    /// At least one of `use_a_few_words`, `no_need_for_symbols`, `add_another_word`,
    /// `capitalization_does_not_help`, `all_uppercase_does_not_help`,
    /// `reversed_words_do_not_help`, `substitutions_do_not_help`, `longer_keyboard_pattern`,
    /// `avoid_repeats`, `avoid_sequences`, `avoid_recent_years`, `avoid_associated_years`,
    /// `avoid_associated_dates`.
    pub suggestions: Vec<String>,
    /// The reason and the suggestions as text, in the request's language.
    pub message: String,
}
