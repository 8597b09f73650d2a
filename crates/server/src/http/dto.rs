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

/// A body that is one of two schemas (`anyOf`, not `oneOf`: seed 001's
/// refusal `{Code, Msg}` also fits its success schemas, whose extra keys are
/// optional). Used in `#[utoipa::path]` as `body = inline(AnyOf<A, B>)`; never built.
pub struct AnyOf<A, B>(std::marker::PhantomData<(A, B)>);

/// utoipa asks a generic body type for `ComposeSchema` (its derive writes the
/// same for generic structs); `PartialSchema` follows from it.
impl<A: ToSchema, B: ToSchema> utoipa::__dev::ComposeSchema for AnyOf<A, B> {
    fn compose(
        _: Vec<utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>>,
    ) -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::schema::AnyOfBuilder::new()
            .item(utoipa::openapi::Ref::from_schema_name(A::name()))
            .item(utoipa::openapi::Ref::from_schema_name(B::name()))
            .into()
    }
}

impl<A: ToSchema, B: ToSchema> ToSchema for AnyOf<A, B> {
    fn schemas(
        schemas: &mut Vec<(
            String,
            utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>,
        )>,
    ) {
        schemas.push((A::name().into_owned(), A::schema()));
        A::schemas(schemas);
        schemas.push((B::name().into_owned(), B::schema()));
        B::schemas(schemas);
    }
}

/// The form the verification link's page posts (`token`, and `password`
/// on confirm). Read field by field; never built.
#[derive(Debug, ToSchema)]
pub struct LinkForm {
    pub token: String,
}

/// `page` and `per_page` of a paged list (`GET /api/auth/sessions`,
/// `GET /api/admin/users`): a whole number from 1; a `per_page` above the
/// cap is read as the cap. Read by `admin::number`; described here.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Paging {
    #[param(schema_with = whole_number)]
    pub page: Option<u64>,
    #[param(schema_with = whole_number)]
    pub per_page: Option<u64>,
}

/// `GET /api/admin/users`'s search text `q` (any text; `search` is read too).
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Search {
    #[param(schema_with = any_text)]
    pub q: Option<String>,
}

/// A whole number from 1 that the server reads as a `u64` (the maximum
/// exact, not as a float).
fn whole_number() -> utoipa::openapi::Object {
    utoipa::openapi::ObjectBuilder::new()
        .schema_type(utoipa::openapi::Type::Integer)
        .minimum(Some(1))
        .maximum(Some(utoipa::Number::UInt(
            usize::try_from(u64::MAX).unwrap_or(usize::MAX),
        )))
        .build()
}

/// Any text.
fn any_text() -> utoipa::openapi::Object {
    utoipa::openapi::ObjectBuilder::new()
        .schema_type(utoipa::openapi::Type::String)
        .build()
}
