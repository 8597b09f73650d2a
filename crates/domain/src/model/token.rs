//! Access tokens (signed, self-contained) and refresh tokens (opaque, stored only as a fingerprint).

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::model::SessionId;
use crate::model::{Authentication, UserId};
use crate::values::{Email, RoleName};

/// How an access token names its account in `sub`, for other services that
/// read the tokens themselves (for example Flask-JWT-Extended's
/// `get_jwt_identity()`; issue 13, item 12). Tessera itself always knows
/// the account by the token's own account claim, never by `sub`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum TokenIdentity {
    /// `sub` is the account id in decimal (`int(get_jwt_identity())`).
    #[default]
    AccountId,
    /// `sub` is the account's e-mail address, and the token carries the
    /// account's standing ([`GrantClaims`]) for services that read `role`
    /// and `permissions` from the token.
    Email,
}

/// What a token presents as its subject (`sub`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenSubject {
    /// The account id ([`AccessClaims::user_id`]).
    AccountId,
    /// The account's address when the token was issued. Never read as an
    /// account: a token keeps naming its account by id after the address
    /// changes.
    Email(Email),
}

impl TokenSubject {
    /// The kind of identity this subject presents.
    #[must_use]
    pub fn identity(&self) -> TokenIdentity {
        match self {
            Self::AccountId => TokenIdentity::AccountId,
            Self::Email(_) => TokenIdentity::Email,
        }
    }
}

/// The account's standing, for services that read it from a token
/// (`permissions`, `is_superuser`; `is_admin` after an administrator
/// login). Informational for them: Tessera decides nothing from these claims, it loads the
/// account and its roles.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GrantClaims {
    /// The permissions of every role the account held at issue, sorted
    /// ([`crate::model::RoleCatalogue::permissions`]).
    pub permissions: Vec<String>,
    /// The account held `super_admin` at issue.
    pub super_admin: bool,
    /// Issued by an administrator login (`/Admin/Login`), for an account
    /// holding one of `ADMIN_LOGIN_ROLES` (issue 13, item 11).
    pub admin_mode: bool,
}

/// What an access token says. The signer adds and checks issuer, audience and
/// token type; the service checks the times against its [`crate::clock::Clock`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessClaims {
    /// The account: Tessera's own claim (`uid`), written on every token.
    /// Tokens issued before it existed name the account in `sub`.
    pub user_id: UserId,
    /// What `sub` presents: the account id, or (tokens of the [`TokenIdentity::Email`] identity) the address.
    pub subject: TokenSubject,
    /// The session the token belongs to (`sid`).
    pub session_id: SessionId,
    /// This token's own id (`jti`).
    pub token_id: Uuid,
    /// The user's role when the token was issued.
    pub role: RoleName,
    /// The account's standing, on tokens whose subject is the address.
    pub grants: Option<GrantClaims>,
    /// How and when the account authenticated for the session (`amr`, `acr`,
    /// `auth_time`). Tokens issued before these claims existed read as an
    /// authentication at `iat` by no known method.
    pub authentication: Authentication,
    /// Issued at (`iat`).
    pub issued_at: DateTime<Utc>,
    /// Not before (`nbf`).
    pub not_before: DateTime<Utc>,
    /// Expires at (`exp`).
    pub expires_at: DateTime<Utc>,
    /// The OAuth client a token of the OpenID Provider was issued to (the
    /// `client_id` claim, issue 18); `None` for the first-party API's tokens.
    pub issued_to: Option<crate::model::ClientId>,
    /// Claims the access-token hook added (issue 20), none of
    /// [`crate::model::RESERVED_CLAIMS`]; empty without a hook. Signers
    /// write them beside the others; verifiers need not read them back.
    pub custom: crate::model::CustomClaims,
}

crate::secret::redacted_string!(
    /// A signed access token (a JWT). Its `Debug` is redacted.
    AccessToken,
    "Wraps an encoded token.",
    "The encoded token, to hand to the client."
);

crate::secret::redacted_string!(
    /// An opaque refresh token. Its `Debug` is redacted.
    RefreshToken,
    "Wraps an encoded token.",
    "The encoded token, to hand to the client."
);

/// A one-way fingerprint (SHA-256, hex) of a secret token: what the store keeps
/// instead of the token itself.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TokenFingerprint(pub String);

/// What a refresh token carries once its MAC has been checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RefreshTokenParts {
    /// The session (refresh family).
    pub session_id: SessionId,
    /// The rotation generation the token was issued for.
    pub generation: u32,
}

/// What may be put on the denylist: one access token, or every access token of a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RevocationKey {
    /// One token, by `jti`.
    Token(Uuid),
    /// Every access token carrying this `sid`.
    Session(SessionId),
}

/// A freshly issued access token with its lifetime.
#[derive(Debug, Clone)]
pub struct IssuedAccess {
    /// The token.
    pub token: AccessToken,
    /// Its claims.
    pub claims: AccessClaims,
    /// Seconds until it expires.
    pub expires_in: i64,
}

/// An access token and the refresh token of the same session.
#[derive(Debug, Clone)]
pub struct TokenPair {
    /// The access token.
    pub access: IssuedAccess,
    /// The refresh token.
    pub refresh: RefreshToken,
}
