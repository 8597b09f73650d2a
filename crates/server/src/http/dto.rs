//! Bodies more than one dialect sends.

use std::collections::HashMap;

use serde::Serialize;
use tessera_domain::usecase::MAX_PAGE_SIZE;
use tessera_domain::validation::{FieldIssue, ValidationErrors};
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

/// A response described by `description` whose JSON body is the schema
/// named `shape`.
#[must_use]
pub fn json_response(
    description: &str,
    shape: &str,
) -> utoipa::openapi::RefOr<utoipa::openapi::response::Response> {
    utoipa::openapi::ResponseBuilder::new()
        .description(description)
        .content(
            "application/json",
            utoipa::openapi::ContentBuilder::new()
                .schema(Some(utoipa::openapi::Ref::from_schema_name(shape)))
                .build(),
        )
        .build()
        .into()
}

/// Responses that several operations give alike, each `(status,
/// description)` with a JSON body of the schema `B`: for
/// `#[utoipa::path(responses(..., Alike<B, LIST>))]` (utoipa's
/// `IntoResponses`). Never built.
pub struct Alike<B, L>(std::marker::PhantomData<(B, L)>);

/// A list of `(status, description)` for [`Alike`].
pub trait ResponseList {
    /// The responses, in order.
    const LIST: &'static [(u16, &'static str)];
}

impl<B: ToSchema, L: ResponseList> utoipa::IntoResponses for Alike<B, L> {
    fn responses() -> std::collections::BTreeMap<
        String,
        utoipa::openapi::RefOr<utoipa::openapi::response::Response>,
    > {
        L::LIST
            .iter()
            .map(|(status, description)| {
                (status.to_string(), json_response(description, &B::name()))
            })
            .collect()
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

impl Paging {
    /// `page` (default 1) and `per_page` (default `default_per_page`,
    /// above [`MAX_PAGE_SIZE`] read as it) from `query`.
    ///
    /// # Errors
    /// A value that is not a whole number from 1: a [`FieldIssue::Range`] of its name.
    pub fn read(
        query: &HashMap<String, String>,
        default_per_page: u64,
    ) -> Result<(u64, u64), ValidationErrors> {
        let mut errors = ValidationErrors::new();
        let page = number(query, "page", 1, u64::MAX, &mut errors);
        let per_page = number(
            query,
            "per_page",
            default_per_page,
            u64::from(MAX_PAGE_SIZE),
            &mut errors,
        );
        if errors.is_empty() {
            Ok((page, per_page))
        } else {
            Err(errors)
        }
    }
}

/// A positive whole number from the query (`default` when absent, at most
/// `max`); anything else is a validation issue of `name`.
fn number(
    q: &HashMap<String, String>,
    name: &str,
    default: u64,
    max: u64,
    errors: &mut ValidationErrors,
) -> u64 {
    match q.get(name).map(|v| v.trim().parse::<u64>()) {
        None => default,
        Some(Ok(n)) if n >= 1 => n.min(max),
        Some(_) => {
            errors.add(name, FieldIssue::Range { min: 1, max });
            default
        }
    }
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

/// The schemas of the text fields several request bodies share, for
/// `#[schema(schema_with = field::email)]`: one place for each field's
/// lengths (characters) and pattern.
pub mod field {
    use utoipa::openapi::schema::SchemaType;
    use utoipa::openapi::{Object, ObjectBuilder, Type};

    /// An address: 3 to 254 characters, one `@`, a dot in the domain
    /// (surrounding spaces allowed; the server trims them).
    const EMAIL_PATTERN: &str = r"^\s*[^\s@]+@[^\s@]+\.[^\s@]+\s*$";

    /// A username: not only digits, no `@`, no inner spaces.
    const USERNAME_PATTERN: &str = r"^\s*[^\s@]*[^\s@0-9][^\s@]*\s*$";

    const EMAIL: &str = "A deliverable address (IDNA domain); surrounding spaces are trimmed.";
    const USERNAME: &str = "Surrounding spaces are trimmed; 1 (`USERNAME_MIN_LENGTH`, default 3) \
        to 50 characters, not only digits, no `@`.";
    const NEW_PASSWORD: &str = "8 to 256 characters (after NFKC), no control characters, zxcvbn \
        score at least `PASSWORD_MIN_SCORE`.";
    const ATTEMPT: &str = "At most 4096 bytes.";

    fn text(
        (min, max): (usize, usize),
        pattern: Option<&str>,
        description: &str,
        nullable: bool,
    ) -> Object {
        let schema_type = if nullable {
            SchemaType::Array(vec![Type::String, Type::Null])
        } else {
            SchemaType::Type(Type::String)
        };
        ObjectBuilder::new()
            .schema_type(schema_type)
            .min_length(Some(min))
            .max_length(Some(max))
            .pattern(pattern)
            .description(Some(description))
            .build()
    }

    /// An email address.
    #[must_use]
    pub fn email() -> Object {
        text((3, 254), Some(EMAIL_PATTERN), EMAIL, false)
    }

    /// An email address, or absent or `null`.
    #[must_use]
    pub fn optional_email() -> Object {
        text((3, 254), Some(EMAIL_PATTERN), EMAIL, true)
    }

    /// A username: 1 to 50 characters (`USERNAME_MIN_LENGTH`, default 3, is
    /// checked beyond the schema).
    #[must_use]
    pub fn username() -> Object {
        text((1, 50), Some(USERNAME_PATTERN), USERNAME, false)
    }

    /// A new password: 8 to 256 characters (after NFKC).
    #[must_use]
    pub fn new_password() -> Object {
        text((8, 256), None, NEW_PASSWORD, false)
    }

    /// A password to check: 1 to 4096 (bytes, at most as many characters).
    #[must_use]
    pub fn password_attempt() -> Object {
        text((1, 4096), None, ATTEMPT, false)
    }

    /// A password to check, or absent or `null`.
    #[must_use]
    pub fn optional_password_attempt() -> Object {
        text((1, 4096), None, ATTEMPT, true)
    }
}
