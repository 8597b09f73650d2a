//! The OpenID Provider's JSON bodies (issue 18).

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// `GET /.well-known/openid-configuration` (OpenID Connect Discovery 1.0 §3,
/// RFC 8414 §2).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Discovery {
    pub issuer: String,
    pub authorization_endpoint: String,
    pub token_endpoint: String,
    pub userinfo_endpoint: String,
    pub jwks_uri: String,
    /// RFC 7009.
    pub revocation_endpoint: String,
    /// RFC 7662 (confidential clients only).
    pub introspection_endpoint: String,
    /// OpenID Connect RP-Initiated Logout 1.0.
    pub end_session_endpoint: String,
    /// RFC 9126.
    pub pushed_authorization_request_endpoint: String,
    pub require_pushed_authorization_requests: bool,
    pub revocation_endpoint_auth_methods_supported: Vec<&'static str>,
    pub introspection_endpoint_auth_methods_supported: Vec<&'static str>,
    pub scopes_supported: Vec<&'static str>,
    /// `code` only.
    pub response_types_supported: Vec<&'static str>,
    /// `query`.
    pub response_modes_supported: Vec<&'static str>,
    pub grant_types_supported: Vec<&'static str>,
    /// `public`.
    pub subject_types_supported: Vec<&'static str>,
    /// `RS256`.
    pub id_token_signing_alg_values_supported: Vec<&'static str>,
    /// `client_secret_basic`, `client_secret_post`, `private_key_jwt`, `none`.
    pub token_endpoint_auth_methods_supported: Vec<&'static str>,
    /// The algorithms of `private_key_jwt` assertions.
    pub token_endpoint_auth_signing_alg_values_supported: Vec<&'static str>,
    /// `S256` only.
    pub code_challenge_methods_supported: Vec<&'static str>,
    pub claims_supported: Vec<&'static str>,
    /// `aal1`, `aal2`.
    pub acr_values_supported: Vec<&'static str>,
    pub prompt_values_supported: Vec<&'static str>,
    pub claims_parameter_supported: bool,
    pub request_parameter_supported: bool,
    pub request_uri_parameter_supported: bool,
    /// RFC 9207: every authorization response carries `iss`.
    pub authorization_response_iss_parameter_supported: bool,
}

/// `POST /oauth/token`: a successful answer (RFC 6749 §5.1, OpenID Connect
/// Core §3.1.3.3).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TokenResponse {
    pub access_token: String,
    /// `Bearer`.
    pub token_type: &'static str,
    /// Seconds.
    pub expires_in: i64,
    /// With `offline_access`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    /// With `openid`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id_token: Option<String>,
    /// The granted scopes, space-delimited.
    pub scope: String,
}

/// `POST /oauth/par` (RFC 9126 §2.2), with 201.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PushedRequestResponse {
    /// `urn:ietf:params:oauth:request_uri:…`, for `/oauth/authorize`.
    pub request_uri: String,
    /// Seconds.
    pub expires_in: i64,
}

/// An OAuth 2.0 error (RFC 6749 §5.2).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct OAuthErrorBody {
    /// `invalid_request`, `invalid_client`, `invalid_grant`,
    /// `unauthorized_client`, `unsupported_grant_type`, `invalid_scope`,
    /// `invalid_token`, `temporarily_unavailable`, `server_error`.
    pub error: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_description: Option<String>,
}

/// The client authentication fields every authenticated endpoint's form
/// may carry (RFC 6749 §2.3.1 `client_secret_post`, RFC 7523 §2.2
/// `private_key_jwt`; `client_secret_basic` is the `Authorization` header).
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct ClientAuthentication {
    pub client_id: Option<String>,
    pub client_secret: Option<String>,
    /// `urn:ietf:params:oauth:client-assertion-type:jwt-bearer`.
    pub client_assertion_type: Option<String>,
    pub client_assertion: Option<String>,
}

/// `POST /oauth/token`'s form (RFC 6749 §4.1.3, §4.4.2, §6).
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct TokenRequest {
    /// `authorization_code`, `refresh_token` or `client_credentials`.
    pub grant_type: String,
    pub code: Option<String>,
    pub redirect_uri: Option<String>,
    pub code_verifier: Option<String>,
    pub refresh_token: Option<String>,
    pub scope: Option<String>,
    #[serde(flatten)]
    #[schema(inline)]
    pub client: ClientAuthentication,
}

/// `POST /oauth/revoke`'s and `/oauth/introspect`'s form (RFC 7009 §2.1,
/// RFC 7662 §2.1).
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct TokenReference {
    pub token: String,
    /// `access_token` or `refresh_token`: a hint only.
    pub token_type_hint: Option<String>,
    #[serde(flatten)]
    #[schema(inline)]
    pub client: ClientAuthentication,
}

/// `POST /oauth/par`'s form: an authorization request (RFC 9126 §2.1).
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct PushedAuthorizationRequest {
    /// `code`.
    pub response_type: String,
    pub redirect_uri: Option<String>,
    pub scope: String,
    pub state: Option<String>,
    pub nonce: Option<String>,
    pub code_challenge: Option<String>,
    /// `S256`.
    pub code_challenge_method: Option<String>,
    pub prompt: Option<String>,
    pub max_age: Option<String>,
    pub login_hint: Option<String>,
    pub acr_values: Option<String>,
    #[serde(flatten)]
    #[schema(inline)]
    pub client: ClientAuthentication,
}
