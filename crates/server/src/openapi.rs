//! The OpenAPI 3.1 description of every route of every dialect, built with
//! utoipa from the schema types below and the operation table in [`document`].
//! Served at `/openapi.json`, browsable at `/docs` (Swagger UI, vendored).
//!
//! The schema types describe the JSON the handlers write; they are never
//! built. The API test suite checks every JSON answer it receives against
//! this document (`tests/api/helpers.rs`, `parts`), and `tests/api/openapi.rs`
//! checks that every route of [`crate::http::route_table`] is documented and the
//! reverse. An object schema lists every key the route may send.
#![allow(dead_code, non_snake_case)]

use utoipa::openapi::path::{OperationBuilder, ParameterBuilder, ParameterIn};
use utoipa::openapi::request_body::RequestBodyBuilder;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::tag::TagBuilder;
use utoipa::openapi::{
    ComponentsBuilder, ContentBuilder, HttpMethod, InfoBuilder, ObjectBuilder, OpenApi,
    OpenApiBuilder, Paths, Ref, RefOr, ResponseBuilder, Schema, SecurityRequirement, Type,
};
use utoipa::{PartialSchema, ToSchema};

use crate::http::DialectKind;
use crate::http::admin::dto::*;
use crate::http::dto::PasswordFeedback;
use crate::http::legacy::dto::*;
use crate::http::modern::dto::*;
use crate::http::ops_dto::*;
use crate::http::v1::dto::*;

// ---------------------------------------------------------------- /api/auth

// ------------------------------------------------------------- /api/v1/auth

// ------------------------------------------------------------------ /Auth/*

// --------------------------------------------------------------- operations

// -------------------------------------------------------------- operations

/// Rules of a request that JSON Schema cannot state, as the description of
/// the operations (method, path) they apply to. `scripts/schemathesis.toml`
/// names the same rules where it leaves out a request-side check.
const RULES_BEYOND_SCHEMA: &[(&str, &str, &str)] = &[
    ("POST", "/api/auth/register", REGISTER_RULES),
    ("POST", "/api/v1/auth/register", REGISTER_RULES),
    (
        "POST",
        "/api/auth/refresh",
        "The body is read only when no `Authorization` header is sent: with `Authorization: \
         Bearer` (a refresh token, seed 000; or an access token, seed 004) the body is ignored.",
    ),
    (
        "POST",
        "/api/auth/login",
        "Beyond the schema: the account's name must read as an email (IDNA domain), a phone \
         number (libphonenumber, `PHONE_DEFAULT_REGION`) or a username (RFC 8265); otherwise \
         400.",
    ),
    (
        "POST",
        "/api/auth/resend-verification",
        "Beyond the schema: `email` must be a deliverable address (IDNA domain, no invisible \
         characters); otherwise 400.",
    ),
    ("GET", "/api/auth/verify-email", LIVE_LINK_RULE),
    ("POST", "/api/auth/verify-email/confirm", LIVE_LINK_RULE),
    ("POST", "/api/auth/verify-email/reject", LIVE_LINK_RULE),
    ("GET", "/api/v1/auth/verify/{token}", LIVE_LINK_RULE),
    (
        "POST",
        "/api/admin/users/{id}/roles",
        "Beyond the schema: `role` must name an existing role (roles are data); otherwise 400.",
    ),
    (
        "POST",
        "/api/auth/change-password",
        "Beyond the schema: `old_password` must be the account's current password, and \
         `new_password` must differ from it and reach `PASSWORD_MIN_SCORE` (zxcvbn; \
         `password_too_common`, `password_too_weak`); otherwise 400.",
    ),
    (
        "POST",
        "/api/auth/verify-email",
        "Beyond the schema: `code` must be the one mailed to `email` (or `token` a live link \
         and `password` its account's password); otherwise 400.",
    ),
    (
        "POST",
        "/api/auth/request-reset-code",
        "Beyond the schema: `contact` must be the account's own address (`channel` `email`) \
         or number (`channel` `phone`); otherwise 400.",
    ),
    (
        "POST",
        "/api/auth/reset-password",
        "Beyond the schema: `contact` must be the account's own, `code` the one sent to it, \
         and `new_password` must reach `PASSWORD_MIN_SCORE` (zxcvbn); otherwise 400.",
    ),
];

/// What `/api/auth/register` and `/api/v1/auth/register` check beyond the schema.
const REGISTER_RULES: &str = "Beyond the schema: `username` has at least `USERNAME_MIN_LENGTH` \
    characters (default 3) of letters, digits, `_`, `-` and `.`, and passes RFC 8265 \
    `UsernameCaseMapped`; `email` is a deliverable address (IDNA domain); `password` reaches \
    `PASSWORD_MIN_SCORE` (zxcvbn); `role` is one of `REGISTRATION_ROLES`; otherwise 400. A \
    taken username, email or phone is a 409.";

/// What the mailed link's routes check beyond the schema.
const LIVE_LINK_RULE: &str = "Beyond the schema: the token must be one that was mailed and is \
    still live (not used, not expired); otherwise 400.";

/// The description of every operation of seed 001's dialect.
const LEGACY_CONTRACT: &str = "Seed 001's contract: every answer, refusals included, is HTTP \
    200 with `{Code, Msg}`; `Code` says what happened. A status code therefore says nothing \
    about the request, and schema fuzzing does not judge the request schemas of these \
    operations (positive and negative data, ignored auth, missing header).";

/// The tag of seed 001's operations.
const LEGACY_TAG: &str = "/Auth (seed 001)";

/// How a route is called.
enum Body {
    None,
    Json(&'static str),
    Form,
}

/// What a response carries.
enum Out {
    /// A JSON body: one schema, or any of several (`anyOf`).
    Json(&'static [&'static str]),
    /// JSON for API clients, or an HTML page for browsers (`Accept: text/html`).
    JsonOrHtml(&'static [&'static str]),
    Html,
    Text,
    Empty,
}

struct Op {
    method: HttpMethod,
    path: &'static str,
    tag: &'static str,
    summary: &'static str,
    bearer: bool,
    body: Body,
    responses: &'static [(u16, &'static str, Out)],
}

const M: &[&str] = &["Message"];
const E: &[&str] = &["Error"];
const V1E: &[&str] = &["V1Error"];
const L: &[&str] = &["LegacyAnswer"];
const LOGIN: &[&str] = &["LegacyLogin"];

/// Responses every `/api/auth` route may give besides its own.
const MODERN_COMMON: &[(u16, &str, Out)] = &[
    (
        408,
        "Body not received within `REQUEST_BODY_TIMEOUT` (`body_timeout`).",
        Out::Json(E),
    ),
    (
        413,
        "Body (or its declared `Content-Length`) larger than `MAX_BODY_BYTES`.",
        Out::Json(E),
    ),
    (
        429,
        "Over a rate limit (`Retry-After`, `RateLimit-*`).",
        Out::Json(E),
    ),
    (
        500,
        "Internal error (opaque; the cause is logged).",
        Out::Json(E),
    ),
    (
        503,
        "A dependency is down, or hashing is saturated (`Retry-After`).",
        Out::Json(E),
    ),
];

const TOKEN_ERRORS: (u16, &str, Out) = (
    401,
    "No, bad, expired or revoked access token (`code` names which; `WWW-Authenticate`).",
    Out::Json(E),
);

fn op(
    method: HttpMethod,
    path: &'static str,
    tag: &'static str,
    summary: &'static str,
    bearer: bool,
    body: Body,
    responses: &'static [(u16, &'static str, Out)],
) -> Op {
    Op {
        method,
        path,
        tag,
        summary,
        bearer,
        body,
        responses,
    }
}

#[allow(clippy::too_many_lines)]
fn operations() -> Vec<Op> {
    use Body::{Form, Json as In, None as NoBody};
    use HttpMethod::{Delete, Get, Post};
    const A: &str = "/api/auth";
    const V1: &str = "/api/v1/auth";
    const ADM: &str = "/api/admin";
    const LEG: &str = LEGACY_TAG;
    const OPS: &str = "operations";
    vec![
        op(
            Get,
            "/health",
            OPS,
            "Liveness: 200 while the process lives",
            false,
            NoBody,
            &[(200, "Alive.", Out::Json(&["Health"]))],
        ),
        op(
            Get,
            "/ready",
            OPS,
            "Readiness: every configured dependency answers",
            false,
            NoBody,
            &[
                (200, "Ready.", Out::Json(&["Ready"])),
                (503, "A dependency is down.", Out::Json(&["Ready"])),
            ],
        ),
        op(
            Get,
            "/metrics",
            OPS,
            "Prometheus metrics (text format 0.0.4); `Authorization: Bearer` with `METRICS_BEARER_TOKEN` when set",
            false,
            NoBody,
            &[
                (200, "Metrics.", Out::Text),
                (
                    401,
                    "`METRICS_BEARER_TOKEN` is set and was not given.",
                    Out::Text,
                ),
                (404, "Served on `METRICS_LISTEN` instead.", Out::Json(E)),
            ],
        ),
        op(
            Get,
            "/.well-known/jwks.json",
            OPS,
            "Public keys that verify access tokens",
            false,
            NoBody,
            &[(200, "JWK set.", Out::Json(&["Jwks"]))],
        ),
        op(
            Get,
            "/openapi.json",
            OPS,
            "This document",
            false,
            NoBody,
            &[(200, "OpenAPI 3.1.", Out::Json(&[]))],
        ),
        op(
            Get,
            "/docs",
            OPS,
            "Redirects to `/docs/`",
            false,
            NoBody,
            &[(308, "To `/docs/`.", Out::Empty)],
        ),
        op(
            Get,
            "/docs/",
            OPS,
            "Swagger UI (`/docs` redirects here)",
            false,
            NoBody,
            &[(200, "The page.", Out::Html)],
        ),
        op(
            Post,
            "/api/auth/register",
            A,
            "Register (seeds 000, 003, 004)",
            false,
            In("RegisterRequest"),
            &[
                (201, "Created.", Out::Json(&["UserMessage"])),
                (
                    400,
                    "Validation failed (`details`, `errors`, `fields`), or not a JSON object.",
                    Out::Json(E),
                ),
                (
                    409,
                    "Username, email or phone taken (`code` `*_taken`, `field`).",
                    Out::Json(E),
                ),
            ],
        ),
        op(
            Post,
            "/api/auth/login",
            A,
            "Log in by username, email or phone",
            false,
            In("LoginRequest"),
            &[
                (200, "Token pair and user.", Out::Json(&["LoginResponse"])),
                (400, "Validation failed.", Out::Json(E)),
                (401, "Invalid credentials.", Out::Json(E)),
                (
                    403,
                    "Account disabled, or email not verified with `REQUIRE_VERIFIED_EMAIL`.",
                    Out::Json(E),
                ),
            ],
        ),
        op(
            Get,
            "/api/auth/profile",
            A,
            "The caller, flat (seed 000)",
            true,
            NoBody,
            &[(200, "The user.", Out::Json(&["User"])), TOKEN_ERRORS],
        ),
        op(
            Get,
            "/api/auth/me",
            A,
            "The caller with permissions (seeds 003, 004)",
            true,
            NoBody,
            &[(200, "The user.", Out::Json(&["Me"])), TOKEN_ERRORS],
        ),
        op(
            Post,
            "/api/auth/refresh",
            A,
            "Rotate a refresh token (body or bearer)",
            false,
            In("RefreshRequest"),
            &[
                (200, "New tokens.", Out::Json(&["RefreshResponse"])),
                (400, "Validation failed.", Out::Json(E)),
                (
                    401,
                    "Missing, invalid, expired or reused token (reuse revokes the session).",
                    Out::Json(E),
                ),
            ],
        ),
        op(
            Post,
            "/api/auth/logout",
            A,
            "End this session",
            true,
            NoBody,
            &[(200, "Logged out.", Out::Json(M)), TOKEN_ERRORS],
        ),
        op(
            Post,
            "/api/auth/logout-all",
            A,
            "End every session of the caller",
            true,
            NoBody,
            &[
                (200, "Logged out everywhere.", Out::Json(&["Revoked"])),
                TOKEN_ERRORS,
            ],
        ),
        op(
            Get,
            "/api/auth/sessions",
            A,
            "The caller's live sessions, paged (`page`, `per_page` default 50, at most 100)",
            true,
            NoBody,
            &[
                (200, "A page of sessions.", Out::Json(&["Sessions"])),
                (400, "Bad paging parameter.", Out::Json(E)),
                TOKEN_ERRORS,
            ],
        ),
        op(
            Delete,
            "/api/auth/sessions/{id}",
            A,
            "End one of the caller's sessions",
            true,
            NoBody,
            &[
                (200, "Ended.", Out::Json(M)),
                TOKEN_ERRORS,
                (404, "No such session of the caller.", Out::Json(E)),
            ],
        ),
        op(
            Post,
            "/api/auth/change-password",
            A,
            "Change password (ends every other session)",
            true,
            In("ChangePasswordRequest"),
            &[
                (200, "Changed.", Out::Json(M)),
                (
                    400,
                    "Validation failed, wrong old password, or same password.",
                    Out::Json(E),
                ),
                TOKEN_ERRORS,
            ],
        ),
        op(
            Get,
            "/api/auth/verify-email",
            A,
            "The mailed link: a page naming the account, confirming with its password, or \"This wasn't me\"",
            false,
            NoBody,
            &[
                (200, "The page (or: already verified).", Out::Html),
                (400, "No, unknown, used or expired token.", Out::Html),
                (503, "A dependency is down.", Out::Html),
            ],
        ),
        op(
            Post,
            "/api/auth/verify-email",
            A,
            "Verify the email with the mailed code, or with the link token and the account's password",
            false,
            In("VerifyEmailRequest"),
            &[
                (
                    200,
                    "Verified; every session opened before ends.",
                    Out::Json(&["UserMessage"]),
                ),
                (
                    400,
                    "Validation failed; `code_invalid` (a wrong, expired, used-up or never-issued code: one answer); \
                     `code_expired` (bad link token); `wrong_password` (link with another password).",
                    Out::Json(E),
                ),
                (
                    429,
                    "Over a rate limit or the login throttle.",
                    Out::Json(E),
                ),
            ],
        ),
        op(
            Post,
            "/api/auth/verify-email/confirm",
            A,
            "The page's confirm form (`token`, `password`)",
            false,
            Form,
            &[
                (
                    200,
                    "Verified; every session opened before ends.",
                    Out::Html,
                ),
                (
                    400,
                    "Bad or used link, or the wrong password (the page again).",
                    Out::Html,
                ),
                (
                    429,
                    "Over a rate limit or the login throttle.",
                    Out::Json(E),
                ),
                (
                    408,
                    "Form not received within `REQUEST_BODY_TIMEOUT`.",
                    Out::Json(E),
                ),
                (
                    413,
                    "Declared `Content-Length` above `MAX_BODY_BYTES`.",
                    Out::Json(E),
                ),
                (503, "A dependency is down.", Out::Html),
            ],
        ),
        op(
            Post,
            "/api/auth/verify-email/reject",
            A,
            "The page's \"This wasn't me\" form (`token`): removes the pending account",
            false,
            Form,
            &[
                (
                    200,
                    "The account is removed; the address is free.",
                    Out::Html,
                ),
                (
                    400,
                    "Bad or used link, or the address is verified already.",
                    Out::Html,
                ),
                (
                    408,
                    "Form not received within `REQUEST_BODY_TIMEOUT`.",
                    Out::Json(E),
                ),
                (
                    413,
                    "Declared `Content-Length` above `MAX_BODY_BYTES`.",
                    Out::Json(E),
                ),
                (429, "Over a rate limit.", Out::Json(E)),
                (503, "A dependency is down.", Out::Html),
            ],
        ),
        op(
            Post,
            "/api/auth/resend-verification",
            A,
            "Mail a new code (same answer for unknown addresses)",
            false,
            In("EmailRequest"),
            &[
                (200, "Sent if registered and unverified.", Out::Json(M)),
                (400, "Validation failed.", Out::Json(E)),
            ],
        ),
        op(
            Post,
            "/api/auth/request-reset-code",
            A,
            "Mail or text a reset code (seed 003)",
            false,
            In("ResetCodeRequest"),
            &[
                (200, "Sent.", Out::Json(&["ResetCodeSent"])),
                (
                    400,
                    "Validation failed, or contact does not match.",
                    Out::Json(E),
                ),
                (404, "No such account.", Out::Json(E)),
            ],
        ),
        op(
            Post,
            "/api/auth/reset-password",
            A,
            "Set a new password with the code (ends every session)",
            false,
            In("ResetPasswordRequest"),
            &[
                (200, "Reset.", Out::Json(M)),
                (
                    400,
                    "Validation failed; code wrong, expired or exhausted; contact mismatch.",
                    Out::Json(E),
                ),
                (404, "No such account.", Out::Json(E)),
            ],
        ),
        op(
            Post,
            "/api/v1/auth/register",
            V1,
            "Register; mails a verification link (seed 002)",
            false,
            In("V1RegisterRequest"),
            &[
                (201, "Created.", Out::Json(&["V1Registered"])),
                (
                    400,
                    "Validation failed (code 4) or user exists (code 1).",
                    Out::Json(V1E),
                ),
            ],
        ),
        op(
            Get,
            "/api/v1/auth/verify/{token}",
            V1,
            "Verify by the mailed link (JSON clients); browsers (`Accept: text/html`) get the link's page, which confirms only with the account's password",
            false,
            NoBody,
            &[
                (
                    200,
                    "Verified (code 0; every session opened before ends) or already verified (code 3); or the page.",
                    Out::JsonOrHtml(&["V1Verified"]),
                ),
                (
                    400,
                    "Invalid or expired token (code 1); or the page.",
                    Out::JsonOrHtml(V1E),
                ),
                (404, "User not found (code 2).", Out::Json(V1E)),
                (
                    503,
                    "A dependency is down; or the page.",
                    Out::JsonOrHtml(V1E),
                ),
            ],
        ),
        op(
            Post,
            "/api/v1/auth/login",
            V1,
            "Log in by email",
            false,
            In("V1Credentials"),
            &[
                (200, "Access token and user.", Out::Json(&["V1Login"])),
                (400, "The body is not a JSON object.", Out::Json(V1E)),
                (
                    401,
                    "Invalid credentials: wrong, missing, empty or wrongly typed fields alike.",
                    Out::Json(V1E),
                ),
                (
                    403,
                    "Account disabled or email not verified.",
                    Out::Json(V1E),
                ),
            ],
        ),
        op(
            Get,
            "/api/v1/auth/profile",
            V1,
            "The caller (`Authorization: Bearer <token>`, or the bare token as seed 002's clients send it)",
            true,
            NoBody,
            &[
                (200, "The user.", Out::Json(&["V1User"])),
                (401, "Missing, expired or invalid token.", Out::Json(V1E)),
                (404, "User not found.", Out::Json(V1E)),
            ],
        ),
        op(
            Get,
            "/api/admin/users",
            ADM,
            "List users (`page`, `per_page`, `q`); needs `user:read`",
            true,
            NoBody,
            &[
                (200, "A page of users.", Out::Json(&["UserPage"])),
                (400, "Bad paging parameter.", Out::Json(E)),
                TOKEN_ERRORS,
                (403, "Missing permission.", Out::Json(E)),
            ],
        ),
        op(
            Get,
            "/api/admin/users/{id}",
            ADM,
            "One user with permissions; needs `user:read`",
            true,
            NoBody,
            &[
                (200, "The user.", Out::Json(&["AdminUser"])),
                TOKEN_ERRORS,
                (403, "Missing permission.", Out::Json(E)),
                (404, "No such user.", Out::Json(E)),
            ],
        ),
        op(
            Delete,
            "/api/admin/users/{id}",
            ADM,
            "Delete a user (revokes sessions); needs `user:delete`",
            true,
            NoBody,
            &[
                (200, "Deleted.", Out::Json(M)),
                (400, "Yourself.", Out::Json(E)),
                TOKEN_ERRORS,
                (
                    403,
                    "Missing permission, or the account or role ranks above the caller (`reason`: `outranked`).",
                    Out::Json(E),
                ),
                (404, "No such user.", Out::Json(E)),
            ],
        ),
        op(
            Post,
            "/api/admin/users/{id}/disable",
            ADM,
            "Disable (revokes sessions); needs `user:update`",
            true,
            NoBody,
            &[
                (200, "Disabled.", Out::Json(&["UserMessage"])),
                (400, "Yourself.", Out::Json(E)),
                TOKEN_ERRORS,
                (
                    403,
                    "Missing permission, or the account or role ranks above the caller (`reason`: `outranked`).",
                    Out::Json(E),
                ),
                (404, "No such user.", Out::Json(E)),
            ],
        ),
        op(
            Post,
            "/api/admin/users/{id}/enable",
            ADM,
            "Enable; needs `user:update`",
            true,
            NoBody,
            &[
                (200, "Enabled.", Out::Json(&["UserMessage"])),
                TOKEN_ERRORS,
                (
                    403,
                    "Missing permission, or the account or role ranks above the caller (`reason`: `outranked`).",
                    Out::Json(E),
                ),
                (404, "No such user.", Out::Json(E)),
            ],
        ),
        op(
            Post,
            "/api/admin/users/{id}/roles",
            ADM,
            "Grant a role; needs `role:update`",
            true,
            In("RoleRequest"),
            &[
                (200, "Granted.", Out::Json(&["UserMessage"])),
                (400, "Validation failed or unknown role.", Out::Json(E)),
                TOKEN_ERRORS,
                (
                    403,
                    "Missing permission, or the account or role ranks above the caller (`reason`: `outranked`).",
                    Out::Json(E),
                ),
                (404, "No such user.", Out::Json(E)),
            ],
        ),
        op(
            Delete,
            "/api/admin/users/{id}/roles/{role}",
            ADM,
            "Remove a role; needs `role:update`",
            true,
            NoBody,
            &[
                (200, "Removed.", Out::Json(&["UserMessage"])),
                (400, "Own admin role, or bad role name.", Out::Json(E)),
                TOKEN_ERRORS,
                (
                    403,
                    "Missing permission, or the account or role ranks above the caller (`reason`: `outranked`).",
                    Out::Json(E),
                ),
                (404, "No such user.", Out::Json(E)),
            ],
        ),
        op(
            Post,
            "/api/admin/users/{id}/revoke-sessions",
            ADM,
            "Revoke every session; needs `user:update`",
            true,
            NoBody,
            &[
                (200, "Revoked.", Out::Json(&["Revoked"])),
                TOKEN_ERRORS,
                (
                    403,
                    "Missing permission, or the account or role ranks above the caller (`reason`: `outranked`).",
                    Out::Json(E),
                ),
                (404, "No such user.", Out::Json(E)),
            ],
        ),
        op(
            Post,
            "/Auth/Login",
            LEG,
            "Log in (`Code` 200/202, 501, 401, 530, 510; `Token` and `UserID` null unless 200/202)",
            false,
            In("LegacyLoginRequest"),
            &[
                (200, "See `Code`.", Out::Json(LOGIN)),
                (
                    408,
                    "Body not received within `REQUEST_BODY_TIMEOUT`.",
                    Out::Json(LOGIN),
                ),
                (413, "Body too large.", Out::Json(LOGIN)),
                (429, "Over a rate limit.", Out::Json(LOGIN)),
            ],
        ),
        op(
            Post,
            "/Auth/Sign",
            LEG,
            "Create the account (address unverified) and mail a sign-up code (`Code` 200, 502, 530, 510)",
            false,
            In("LegacySignRequest"),
            &[
                (200, "See `Code`.", Out::Json(L)),
                (
                    408,
                    "Body not received within `REQUEST_BODY_TIMEOUT`.",
                    Out::Json(L),
                ),
                (413, "Body too large.", Out::Json(L)),
                (429, "Over a rate limit.", Out::Json(L)),
            ],
        ),
        op(
            Post,
            "/Auth/Verify",
            LEG,
            "Confirm the address with the code, for whoever proved it (`Code` 200, 502 verified already, 520, 521, 530)",
            false,
            In("LegacyVerifyRequest"),
            &[
                (
                    200,
                    "See `Code`.",
                    Out::Json(&["LegacySignedUp", "LegacyAnswer"]),
                ),
                (
                    408,
                    "Body not received within `REQUEST_BODY_TIMEOUT`.",
                    Out::Json(L),
                ),
                (413, "Body too large.", Out::Json(L)),
                (429, "Over a rate limit.", Out::Json(L)),
            ],
        ),
        op(
            Post,
            "/Auth/ResetPassword",
            LEG,
            "Mail a reset code (`Code` 200, 503, 530)",
            false,
            In("LegacyEmailRequest"),
            &[
                (200, "See `Code`.", Out::Json(L)),
                (
                    408,
                    "Body not received within `REQUEST_BODY_TIMEOUT`.",
                    Out::Json(L),
                ),
                (413, "Body too large.", Out::Json(L)),
                (429, "Over a rate limit.", Out::Json(L)),
            ],
        ),
        op(
            Post,
            "/Auth/UpdatePassword",
            LEG,
            "Set a new password with the code (`Code` 200, 503, 520, 521, 530)",
            false,
            In("LegacyUpdatePasswordRequest"),
            &[
                (200, "See `Code`.", Out::Json(L)),
                (
                    408,
                    "Body not received within `REQUEST_BODY_TIMEOUT`.",
                    Out::Json(L),
                ),
                (413, "Body too large.", Out::Json(L)),
                (429, "Over a rate limit.", Out::Json(L)),
            ],
        ),
        op(
            Post,
            "/Admin/Login",
            LEG,
            "Log in as administrator (`ADMIN_LOGIN_ROLES`; `Code` 200, 500, 401, 530, 510)",
            false,
            In("LegacyLoginRequest"),
            &[
                (
                    200,
                    "See `Code`.",
                    Out::Json(&["LegacyAdminLogin", "LegacyAnswer"]),
                ),
                (
                    408,
                    "Body not received within `REQUEST_BODY_TIMEOUT`.",
                    Out::Json(L),
                ),
                (413, "Body too large.", Out::Json(L)),
                (429, "Over a rate limit.", Out::Json(L)),
            ],
        ),
        op(
            Get,
            "/CheckJWTToken",
            LEG,
            "Check a token (`Code` 200 or 401)",
            true,
            NoBody,
            &[(
                200,
                "See `Code`.",
                Out::Json(&["LegacyTokenOk", "LegacyAnswer"]),
            )],
        ),
    ]
}

fn method_name(m: &HttpMethod) -> &'static str {
    match m {
        HttpMethod::Get => "GET",
        HttpMethod::Post => "POST",
        HttpMethod::Put => "PUT",
        HttpMethod::Delete => "DELETE",
        HttpMethod::Patch => "PATCH",
        HttpMethod::Head => "HEAD",
        _ => "OTHER",
    }
}

fn reference(name: &str) -> RefOr<Schema> {
    RefOr::Ref(Ref::from_schema_name(name))
}

fn json_content(names: &[&str]) -> utoipa::openapi::Content {
    let schema: RefOr<Schema> = match names {
        [] => ObjectBuilder::new().schema_type(Type::Object).into(),
        [one] => reference(one),
        many => {
            // anyOf, not oneOf: a refusal `{Code, Msg}` also fits the
            // success schema, whose extra keys are optional.
            let mut b = utoipa::openapi::schema::AnyOfBuilder::new();
            for n in many {
                b = b.item(reference(n));
            }
            b.into()
        }
    };
    ContentBuilder::new().schema(Some(schema)).build()
}

fn text_content() -> utoipa::openapi::Content {
    ContentBuilder::new()
        .schema(Some(ObjectBuilder::new().schema_type(Type::String)))
        .build()
}

fn response(description: &str, out: &Out) -> utoipa::openapi::Response {
    let b = ResponseBuilder::new().description(description);
    match out {
        Out::Json(names) => b.content("application/json", json_content(names)),
        Out::JsonOrHtml(names) => b
            .content("application/json", json_content(names))
            .content("text/html", text_content()),
        Out::Html => b.content("text/html", text_content()),
        Out::Text => b.content("text/plain", text_content()),
        Out::Empty => b,
    }
    .build()
}

fn components() -> ComponentsBuilder {
    macro_rules! schemas {
        ($b:expr, $($t:ty),* $(,)?) => { $b$(.schema(<$t as ToSchema>::name(), <$t as PartialSchema>::schema()))* };
    }
    schemas!(
        ComponentsBuilder::new(),
        User,
        UserWithPermissions,
        Error,
        PasswordFeedback,
        Message,
        AuthBlock,
        LoginResponse,
        RefreshResponse,
        UserMessage,
        Me,
        Revoked,
        Session,
        Sessions,
        ResetCodeSent,
        UserPage,
        AdminUser,
        RegisterRequest,
        LoginRequest,
        RefreshRequest,
        ChangePasswordRequest,
        VerifyEmailRequest,
        EmailRequest,
        ResetCodeRequest,
        ResetPasswordRequest,
        RoleRequest,
        V1User,
        V1Error,
        V1Registered,
        V1Verified,
        V1UserData,
        V1Login,
        V1Credentials,
        V1RegisterRequest,
        LegacyAnswer,
        LegacyLogin,
        LegacyAdminLogin,
        LegacySignedUp,
        LegacyTokenOk,
        LegacyLoginRequest,
        LegacySignRequest,
        LegacyVerifyRequest,
        LegacyEmailRequest,
        LegacyUpdatePasswordRequest,
        Health,
        Check,
        Ready,
        Jwks,
    )
    .security_scheme(
        "bearer",
        SecurityScheme::Http(
            HttpBuilder::new()
                .scheme(HttpAuthScheme::Bearer)
                .bearer_format("JWT")
                .build(),
        ),
    )
}

/// The whole document.
#[must_use]
pub fn document() -> OpenApi {
    let mut paths = Paths::new();
    for o in operations() {
        let mut b = OperationBuilder::new()
            .tag(o.tag)
            .summary(Some(o.summary))
            .operation_id(Some(format!(
                "{}_{}",
                method_name(&o.method).to_lowercase(),
                o.path
                    .trim_matches('/')
                    .replace(['/', '.', '-', '{', '}'], "_")
            )));
        let rules = RULES_BEYOND_SCHEMA
            .iter()
            .find(|(m, p, _)| *m == method_name(&o.method) && *p == o.path)
            .map(|(_, _, text)| *text);
        if let Some(text) = rules.or((o.tag == LEGACY_TAG).then_some(LEGACY_CONTRACT)) {
            b = b.description(Some(text));
        }
        for segment in o.path.split('/') {
            if let Some(name) = segment.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                b = b.parameter(
                    ParameterBuilder::new()
                        .name(name)
                        .parameter_in(ParameterIn::Path)
                        .required(utoipa::openapi::Required::True)
                        .schema(Some(ObjectBuilder::new().schema_type(Type::String))),
                );
            }
        }
        if o.path == "/api/auth/verify-email" && matches!(o.method, HttpMethod::Get) {
            b = b.parameter(
                ParameterBuilder::new()
                    .name("token")
                    .parameter_in(ParameterIn::Query)
                    .required(utoipa::openapi::Required::True)
                    .schema(Some(
                        ObjectBuilder::new()
                            .schema_type(Type::String)
                            .min_length(Some(1)),
                    )),
            );
        }
        if o.path == "/api/admin/users"
            || (o.path == "/api/auth/sessions" && matches!(o.method, HttpMethod::Get))
        {
            let names: &[&str] = if o.path == "/api/admin/users" {
                &["page", "per_page", "q"]
            } else {
                &["page", "per_page"]
            };
            for q in names {
                // `page` and `per_page`: a whole number from 1 (`per_page`
                // above the cap is read as the cap); `q`: any text.
                let schema = if *q == "q" {
                    ObjectBuilder::new().schema_type(Type::String)
                } else {
                    ObjectBuilder::new()
                        .schema_type(Type::Integer)
                        .minimum(Some(1))
                        // The server reads a `u64`; exact, not as a float.
                        .maximum(Some(utoipa::Number::UInt(
                            usize::try_from(u64::MAX).unwrap_or(usize::MAX),
                        )))
                };
                b = b.parameter(
                    ParameterBuilder::new()
                        .name(*q)
                        .parameter_in(ParameterIn::Query)
                        .schema(Some(schema)),
                );
            }
        }
        if o.bearer {
            b = b.security(SecurityRequirement::new("bearer", Vec::<String>::new()));
        }
        match o.body {
            Body::None => {}
            Body::Json(name) => {
                // Only a refresh may come without a body (the token as bearer).
                let required = if name == "RefreshRequest" {
                    utoipa::openapi::Required::False
                } else {
                    utoipa::openapi::Required::True
                };
                b = b.request_body(Some(
                    RequestBodyBuilder::new()
                        .content("application/json", json_content(&[name]))
                        .required(Some(required))
                        .build(),
                ));
            }
            Body::Form => {
                b = b.request_body(Some(
                    RequestBodyBuilder::new()
                        .content(
                            "application/x-www-form-urlencoded",
                            ContentBuilder::new()
                                .schema(Some(
                                    ObjectBuilder::new()
                                        .property(
                                            "token",
                                            ObjectBuilder::new().schema_type(Type::String),
                                        )
                                        .required("token"),
                                ))
                                .build(),
                        )
                        .build(),
                ));
            }
        }
        let dialect = DialectKind::of(o.path);
        let common: &[(u16, &str, Out)] = match dialect {
            // Operations routes (/health, /metrics, …) have none of these.
            DialectKind::Modern if o.path.starts_with("/api/") => MODERN_COMMON,
            DialectKind::V1 => &[
                (
                    408,
                    "Body not received within `REQUEST_BODY_TIMEOUT`.",
                    Out::Json(V1E),
                ),
                (413, "Body too large.", Out::Json(V1E)),
                (429, "Over a rate limit.", Out::Json(V1E)),
                (500, "Internal error (opaque).", Out::Json(V1E)),
                (503, "A dependency is down, or busy.", Out::Json(V1E)),
            ],
            _ => &[],
        };
        let is_json = |out: &Out| matches!(out, Out::Json(_));
        for (status, description, out) in o.responses {
            b = b.response(status.to_string(), response(description, out));
        }
        let disabled = (
            403,
            "Account disabled (`account_disabled`); on admin routes also a missing permission.",
            if dialect == DialectKind::V1 {
                Out::Json(V1E)
            } else {
                Out::Json(E)
            },
        );
        let bearer_extra = if o.bearer && dialect != DialectKind::Legacy {
            std::slice::from_ref(&disabled)
        } else {
            &[]
        };
        for (status, description, out) in common.iter().chain(bearer_extra) {
            let own = o.responses.iter().any(|(s, _, _)| s == status);
            if !own
                && !matches!(o.body, Body::Form)
                && o.responses.iter().any(|(_, _, out)| is_json(out))
            {
                b = b.response(status.to_string(), response(description, out));
            }
        }
        paths.add_path_operation(o.path, vec![o.method], b.build());
    }
    let description = "Tessera speaks three dialects on one set of accounts: `/api/auth` \
        (seeds 000, 003, 004), `/api/v1/auth` (seed 002) and `/Auth/*` (seed 001); see \
        docs/api.md. Texts follow `Accept-Language` (zh-CN or en); machine fields (status, \
        `Code`, `code`, `fields`) do not. A known path called with another method answers \
        405 with `Allow`, in the dialect's error shape.";
    OpenApiBuilder::new()
        .info(
            InfoBuilder::new()
                .title("Tessera")
                .version(env!("CARGO_PKG_VERSION"))
                .description(Some(description))
                .build(),
        )
        .paths(paths)
        .components(Some(components().build()))
        .tags(Some(
            [
                ("/api/auth", "The modern API (seeds 000, 003, 004)"),
                ("/api/v1/auth", "Seed 002's `{code, message, data}` dialect"),
                ("/api/admin", "User administration (permissions from roles)"),
                (
                    "/Auth (seed 001)",
                    "Seed 001's legacy dialect: HTTP 200, `{Code, Msg}`",
                ),
                (
                    "operations",
                    "Health, readiness, metrics, keys, this document",
                ),
            ]
            .map(|(name, d)| TagBuilder::new().name(name).description(Some(d)).build()),
        ))
        .build()
}

/// `(method, path)` of every documented operation, for the route test.
#[must_use]
pub fn documented_operations() -> Vec<(String, String)> {
    operations()
        .iter()
        .map(|o| (method_name(&o.method).to_owned(), o.path.to_owned()))
        .collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

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
