//! The OpenAPI 3.1 description of every route of every dialect, served at
//! `/openapi.json` and browsable at `/docs` (Swagger UI, vendored).
//!
//! Each operation is described by the `#[utoipa::path]` attribute beside its
//! handler (`http/{modern,v1,admin,legacy}/routes.rs`, `modern/pages.rs`,
//! `ops.rs`), with the DTOs the handler builds as its bodies; each module's
//! `declare_routes!` derives a `Documented` list of them (docs/adr/0008).
//! This module collects those lists, adds what every operation of a dialect
//! shares (the refusals before a handler runs, the operation id) and holds
//! the texts several routes share. The API test suite checks every JSON
//! answer it receives against this document (`tests/api/helpers.rs`,
//! `parts`), and `tests/api/openapi.rs` checks that every route of
//! [`crate::http::route_table`] is documented and the reverse.

use utoipa::OpenApi as _;
use utoipa::openapi::path::{Operation, PathItem};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::tag::TagBuilder;
use utoipa::openapi::{
    ComponentsBuilder, InfoBuilder, OpenApi, OpenApiBuilder, RefOr, Required, Schema, Type,
    schema::SchemaType,
};

use crate::http::dto::json_response;
use crate::http::{DialectKind, admin, all_routes, legacy, modern, ops, v1};

/// What `/api/auth/register` and `/api/v1/auth/register` check beyond the schema.
pub const REGISTER_RULES: &str = "Beyond the schema: `username` has at least \
    `USERNAME_MIN_LENGTH` characters (default 3) of letters, digits, `_`, `-` and `.`, and \
    passes RFC 8265 `UsernameCaseMapped`; `email` is a deliverable address (IDNA domain); \
    `password` reaches `PASSWORD_MIN_SCORE` (zxcvbn); `role` is one of `REGISTRATION_ROLES`; \
    otherwise 400. A taken username, email or phone is a 409.";

/// What the mailed link's routes check beyond the schema.
pub const LIVE_LINK_RULE: &str = "Beyond the schema: the token must be one that was mailed \
    and is still live (not used, not expired); otherwise 400.";

/// The description of every operation of seed 001's dialect.
pub const LEGACY_CONTRACT: &str = "Seed 001's contract: every answer, refusals included, is \
    HTTP 200 with `{Code, Msg}`; `Code` says what happened. A status code therefore says \
    nothing about the request, and schema fuzzing does not judge the request schemas of these \
    operations (positive and negative data, ignored auth, missing header).";

/// The 401 of every `/api/auth` and `/api/admin` route that takes a bearer token.
pub const TOKEN_REFUSED: &str =
    "No, bad, expired or revoked access token (`code` names which; `WWW-Authenticate`).";

/// The 403 of an admin route that changes an account.
pub const OUTRANKED: &str = "Missing permission, or the account or role ranks above the \
    caller (`reason`: `outranked`).";

/// Responses every JSON route of `/api/auth` and `/api/admin` may give
/// besides its own, in the `Error` shape: (status, description).
const MODERN_REFUSALS: &[(u16, &str)] = &[
    (
        408,
        "Body not received within `REQUEST_BODY_TIMEOUT` (`body_timeout`).",
    ),
    (
        413,
        "Body (or its declared `Content-Length`) larger than `MAX_BODY_BYTES`.",
    ),
    (429, "Over a rate limit (`Retry-After`, `RateLimit-*`)."),
    (500, "Internal error (opaque; the cause is logged)."),
    (
        503,
        "A dependency is down, or hashing is saturated (`Retry-After`).",
    ),
];

/// The same for `/api/v1/auth`, in the `V1Error` shape.
const V1_REFUSALS: &[(u16, &str)] = &[
    (408, "Body not received within `REQUEST_BODY_TIMEOUT`."),
    (413, "Body too large."),
    (429, "Over a rate limit."),
    (500, "Internal error (opaque)."),
    (503, "A dependency is down, or busy."),
];

/// The 403 every bearer route of `/api/auth`, `/api/admin` and `/api/v1/auth` may give.
const DISABLED: (u16, &str) = (
    403,
    "Account disabled (`account_disabled`); on admin routes also a missing permission.",
);

/// The whole document.
#[must_use]
pub fn document() -> OpenApi {
    let mut doc = OpenApiBuilder::new()
        .info(
            InfoBuilder::new()
                .title("Tessera")
                .version(env!("CARGO_PKG_VERSION"))
                .description(Some(
                    "Tessera speaks three dialects on one set of accounts: `/api/auth` \
                     (seeds 000, 003, 004), `/api/v1/auth` (seed 002) and `/Auth/*` (seed \
                     001); see docs/api.md. Texts follow `Accept-Language` (zh-CN or en); \
                     machine fields (status, `Code`, `code`, `fields`) do not. A known path \
                     called with another method answers 405 with `Allow`, in the dialect's \
                     error shape.",
                ))
                .build(),
        )
        .components(Some(
            ComponentsBuilder::new()
                .security_scheme(
                    "bearer",
                    SecurityScheme::Http(
                        HttpBuilder::new()
                            .scheme(HttpAuthScheme::Bearer)
                            .bearer_format("JWT")
                            .build(),
                    ),
                )
                .build(),
        ))
        .tags(Some(
            [
                (modern::TAG, "The modern API (seeds 000, 003, 004)"),
                (v1::TAG, "Seed 002's `{code, message, data}` dialect"),
                (admin::TAG, "User administration (permissions from roles)"),
                (
                    legacy::TAG,
                    "Seed 001's legacy dialect: HTTP 200, `{Code, Msg}`",
                ),
                (ops::TAG, "Health, readiness, metrics, keys, this document"),
                (
                    "webhooks",
                    "Messages Tessera posts to subscribed endpoints (the `webhooks` section)",
                ),
            ]
            .map(|(name, d)| TagBuilder::new().name(name).description(Some(d)).build()),
        ))
        .build();
    for part in [
        ops::Documented::openapi(),
        ops::SwaggerUiDocumented::openapi(),
        modern::Documented::openapi(),
        crate::http::oidc::Documented::openapi(),
        v1::Documented::openapi(),
        admin::Documented::openapi(),
        admin::clients::Documented::openapi(),
        admin::providers::Documented::openapi(),
        admin::webhooks::Documented::openapi(),
        legacy::Documented::openapi(),
    ] {
        doc.merge(part);
    }
    for (path, item) in &mut doc.paths.paths {
        for (method, operation) in operations(item) {
            complete(method, path, operation);
        }
    }
    add_webhooks(&mut doc);
    doc
}

/// The `webhooks` section (OpenAPI 3.1): one entry per event type, the
/// message Tessera posts to a subscribed endpoint (issue 20; docs/webhooks.md).
fn add_webhooks(doc: &mut OpenApi) {
    use utoipa::openapi::path::{OperationBuilder, ParameterBuilder, ParameterIn, PathItemBuilder};
    use utoipa::openapi::request_body::RequestBodyBuilder;
    use utoipa::openapi::{ContentBuilder, HttpMethod, PathsBuilder, ResponseBuilder};
    use utoipa::{PartialSchema as _, ToSchema as _};

    use crate::http::admin::webhooks::{TokenHookCallData, WebhookMessage, WebhookMessageData};
    use tessera_domain::model::EventType;

    if let Some(components) = doc.components.as_mut() {
        for (name, schema) in [
            (WebhookMessage::name(), WebhookMessage::schema()),
            (WebhookMessageData::name(), WebhookMessageData::schema()),
            (TokenHookCallData::name(), TokenHookCallData::schema()),
        ] {
            components.schemas.insert(name.into_owned(), schema);
        }
    }
    let header = |name: &str, text: &str| {
        ParameterBuilder::new()
            .name(name)
            .parameter_in(ParameterIn::Header)
            .required(Required::True)
            .description(Some(text))
            .schema(Some(String::schema()))
            .build()
    };
    let mut paths = PathsBuilder::new();
    for kind in EventType::ALL {
        let detail = kind
            .detail_key()
            .map(|k| format!(" `data.{k}` is set."))
            .unwrap_or_default();
        let operation = OperationBuilder::new()
            .summary(Some(format!("`{kind}`")))
            .description(Some(format!(
                "Posted to every enabled endpoint subscribed to `{kind}`, signed per the \
                 Standard Webhooks specification; retried with backoff for up to \
                 `WEBHOOK_GIVE_UP_AFTER` (3 days) until the endpoint answers 2xx.{detail}"
            )))
            .operation_id(Some(kind.as_str().replace('.', "_")))
            .tag("webhooks")
            .parameter(header(
                "webhook-id",
                "`msg_<n>`: the same on every attempt of this message; drop duplicates by it.",
            ))
            .parameter(header(
                "webhook-timestamp",
                "Unix seconds of this attempt; refuse one far from now (replays).",
            ))
            .parameter(header(
                "webhook-signature",
                "`v1,<base64 HMAC-SHA256 of id.timestamp.body>` with the endpoint's secret.",
            ))
            .request_body(Some(
                RequestBodyBuilder::new()
                    .required(Some(Required::True))
                    .content(
                        "application/json",
                        ContentBuilder::new()
                            .schema(Some(RefOr::Ref(utoipa::openapi::Ref::from_schema_name(
                                WebhookMessage::name(),
                            ))))
                            .build(),
                    )
                    .build(),
            ))
            .response(
                "2XX",
                ResponseBuilder::new()
                    .description("Received: no further attempt.")
                    .build(),
            )
            .response(
                "default",
                ResponseBuilder::new()
                    .description("Not received: tried again later.")
                    .build(),
            )
            .build();
        paths = paths.path(
            kind.as_str(),
            PathItemBuilder::new()
                .operation(HttpMethod::Post, operation)
                .build(),
        );
    }
    paths = paths.path("access_token.issuing", token_hook_call(&header));
    doc.webhooks = Some(paths.build());
}

/// The access-token hook's call, as a `webhooks` entry (issue 20).
fn token_hook_call(
    header: &dyn Fn(&str, &str) -> utoipa::openapi::path::Parameter,
) -> utoipa::openapi::path::PathItem {
    use utoipa::PartialSchema as _;
    use utoipa::openapi::path::{OperationBuilder, PathItemBuilder};
    use utoipa::openapi::request_body::RequestBodyBuilder;
    use utoipa::openapi::{ContentBuilder, HttpMethod, ResponseBuilder};

    use crate::http::admin::webhooks::{TokenHookAnswer, TokenHookCall};

    let json = |schema| ContentBuilder::new().schema(Some(schema)).build();
    let operation = OperationBuilder::new()
        .summary(Some("`access_token.issuing`: the access-token hook".to_owned()))
        .description(Some(
            "Posted to `ACCESS_TOKEN_HOOK_URL` before each access token is signed (sign-ins \
             of every dialect, refreshes, the OpenID Provider's tokens), signed per Standard \
             Webhooks with `ACCESS_TOKEN_HOOK_SECRET`. A `200` with `{\"claims\":{…}}` within \
             `ACCESS_TOKEN_HOOK_TIMEOUT_MS` adds those claims to the token; anything else \
             refuses the sign-in or refresh (503) unless `ACCESS_TOKEN_HOOK_FAIL_OPEN`.",
        ))
        .operation_id(Some("access_token_issuing"))
        .tag("webhooks")
        .parameter(header(
            "webhook-id",
            "`msg_<the token's jti, 32 hex digits>`.",
        ))
        .parameter(header("webhook-timestamp", "Unix seconds of the call."))
        .parameter(header(
            "webhook-signature",
            "`v1,<base64 HMAC-SHA256 of id.timestamp.body>` with the hook's secret.",
        ))
        .request_body(Some(
            RequestBodyBuilder::new()
                .required(Some(Required::True))
                .content("application/json", json(TokenHookCall::schema()))
                .build(),
        ))
        .response(
            "200",
            ResponseBuilder::new()
                .description("The claims to add.")
                .content("application/json", json(TokenHookAnswer::schema()))
                .build(),
        )
        .response(
            "default",
            ResponseBuilder::new()
                .description("A failure: the token is refused (or signed without custom claims when failing open).")
                .build(),
        )
        .build();
    PathItemBuilder::new()
        .operation(HttpMethod::Post, operation)
        .build()
}

/// The operations of `item`, with their method in lower case (routes are
/// declared with GET, POST and DELETE only).
fn operations(item: &mut PathItem) -> impl Iterator<Item = (&'static str, &mut Operation)> {
    [
        ("get", &mut item.get),
        ("post", &mut item.post),
        ("delete", &mut item.delete),
    ]
    .into_iter()
    .filter_map(|(method, operation)| operation.as_mut().map(|o| (method, o)))
}

/// Adds to the operation `method path` its id (`post_api_auth_login`), the
/// permission its declaration requires (to the summary: "…; needs
/// `user:read`") and the refusals its dialect gives before or around any
/// JSON handler (rate limit, body limits, internal errors; 403 for a
/// disabled bearer).
fn complete(method: &str, path: &str, operation: &mut Operation) {
    unwrap_optional_body(operation);
    if let Some(permission) = all_routes()
        .find(|r| r.path == path && r.method.as_str().eq_ignore_ascii_case(method))
        .and_then(|r| r.permission)
    {
        let summary = operation.summary.get_or_insert_with(String::new);
        summary.push_str(&format!("; needs `{}`", permission.as_str()));
    }
    // A trailing slash stays in the id (`/docs` and `/docs/` are two
    // operations; ids must be unique, OpenAPI 3.1 §4.8.10).
    operation.operation_id = Some(format!(
        "{method}_{}",
        path.trim_start_matches('/')
            .replace(['/', '.', '-', '{', '}'], "_")
    ));
    let answers_json = operation.responses.responses.values().any(
        |r| matches!(r, RefOr::T(response) if response.content.contains_key("application/json")),
    );
    let takes_form = operation
        .request_body
        .as_ref()
        .is_some_and(|b| {
            matches!(b, RefOr::T(body) if body.content.contains_key("application/x-www-form-urlencoded"))
        });
    if !answers_json || takes_form {
        return;
    }
    let dialect = DialectKind::of(path);
    let (shape, refusals) = match dialect {
        DialectKind::Modern if path.starts_with("/api/") => ("Error", MODERN_REFUSALS),
        DialectKind::V1 => ("V1Error", V1_REFUSALS),
        _ => ("Error", &[][..]),
    };
    let bearer = operation.security.as_ref().is_some_and(|s| !s.is_empty());
    let disabled = (bearer && dialect != DialectKind::Legacy).then_some(&DISABLED);
    for (status, description) in refusals.iter().chain(disabled) {
        operation
            .responses
            .responses
            .entry(status.to_string())
            .or_insert_with(|| json_response(description, shape));
    }
}

/// utoipa writes an optional body (`request_body = Option<T>`) as `oneOf
/// [T, null]`; what the handlers mean is "the body may be left out"
/// (`required: false`), not a JSON `null`.
fn unwrap_optional_body(operation: &mut Operation) {
    let Some(RefOr::T(body)) = &mut operation.request_body else {
        return;
    };
    let mut optional = false;
    for content in body.content.values_mut() {
        if let RefOr::T(content) = content
            && let Some(RefOr::T(Schema::OneOf(one_of))) = &content.schema
            && let [first, second] = one_of.items.as_slice()
        {
            let is_null = |s: &RefOr<Schema>| matches!(s, RefOr::T(Schema::Object(o)) if o.schema_type == SchemaType::Type(Type::Null));
            let inner = match (is_null(first), is_null(second)) {
                (true, false) => second.clone(),
                (false, true) => first.clone(),
                _ => continue,
            };
            content.schema = Some(inner);
            optional = true;
        }
    }
    if optional {
        body.required = Some(Required::False);
    }
}

/// `(method, path)` of every documented operation, for the route test.
#[must_use]
pub fn documented_operations() -> Vec<(String, String)> {
    let mut doc = document();
    let mut out = Vec::new();
    for (path, item) in &mut doc.paths.paths {
        for (method, _) in operations(item) {
            out.push((method.to_uppercase(), path.clone()));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    #[test]
    fn operation_ids_are_unique() {
        let doc = serde_json::to_value(document()).unwrap();
        let mut seen = std::collections::BTreeSet::new();
        for (path, item) in doc["paths"].as_object().unwrap() {
            for (method, op) in item.as_object().unwrap() {
                let id = op["operationId"].as_str().unwrap().to_owned();
                assert!(seen.insert(id.clone()), "{method} {path}: {id} twice");
            }
        }
    }

    #[test]
    fn every_referenced_schema_exists_and_the_version_is_3_1() {
        let doc = serde_json::to_value(document()).unwrap();
        assert_eq!(doc["openapi"], "3.1.0");
        let text = doc.to_string();
        let schemas = doc["components"]["schemas"].as_object().unwrap();
        for part in text.split("#/components/schemas/").skip(1) {
            let name: String = part.chars().take_while(|c| *c != '"').collect();
            assert!(schemas.contains_key(&name), "missing schema {name}");
        }
    }
}
