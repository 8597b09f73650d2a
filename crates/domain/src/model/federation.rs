//! Signing in through other identity providers (issue 19): the upstream
//! providers Tessera is a relying party of (OpenID Connect providers by
//! issuer, OAuth 2.0 providers by endpoint URLs and a claim mapping), the
//! identity one of them asserts, and the identities linked to an account.
//!
//! The names are the RFCs': relying party, issuer, authorization code,
//! PKCE, `nonce`, `state` (RFC 6749, RFC 7636, OpenID Connect Core 1.0).

use std::fmt;

use chrono::{DateTime, Utc};

use crate::model::UserId;
use crate::secret::Secret;

/// An upstream provider's id, in its routes (`/api/auth/oauth/{id}/start`)
/// and settings (`UPSTREAM_<ID>_…`): 1 to [`UpstreamId::MAX_CHARS`]
/// characters of `[a-z0-9_]`, starting with a letter.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct UpstreamId(String);

impl UpstreamId {
    /// The longest id, in characters.
    pub const MAX_CHARS: usize = 32;

    /// `raw` when it has the shape of an id; `None` otherwise.
    #[must_use]
    pub fn parse(raw: &str) -> Option<Self> {
        (raw.len() <= Self::MAX_CHARS
            && raw.bytes().next().is_some_and(|b| b.is_ascii_lowercase())
            && raw
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'))
        .then(|| Self(raw.to_owned()))
    }

    /// The id as written.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for UpstreamId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// How the relying party authenticates at the provider's token endpoint
/// (RFC 6749 §2.3.1; OpenID Connect Core §9).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TokenEndpointAuth {
    /// `client_secret_basic`: HTTP Basic (the default).
    #[default]
    ClientSecretBasic,
    /// `client_secret_post`: `client_id` and `client_secret` in the body.
    ClientSecretPost,
}

impl TokenEndpointAuth {
    /// The registered name (`client_secret_basic`, `client_secret_post`).
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::ClientSecretBasic => "client_secret_basic",
            Self::ClientSecretPost => "client_secret_post",
        }
    }

    /// The method `name` names.
    #[must_use]
    pub fn parse(name: &str) -> Option<Self> {
        [Self::ClientSecretBasic, Self::ClientSecretPost]
            .into_iter()
            .find(|m| m.as_str() == name)
    }
}

/// Where the fields of an [`UpstreamIdentity`] are in an OAuth 2.0
/// provider's user-info document: each a member name, or a dotted path into
/// nested objects (`data.user.id`). Numbers are read as their decimal text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimMapping {
    /// The stable subject (GitHub: `id`).
    pub subject: String,
    /// The e-mail address (GitHub: `email`), if the document has one.
    pub email: Option<String>,
    /// A boolean saying the address is verified; without it an address is
    /// unverified (unless [`OAuth2Endpoints::emails_url`] says otherwise).
    pub email_verified: Option<String>,
    /// The display name (GitHub: `name`).
    pub name: Option<String>,
    /// A username to suggest for a new account (GitHub: `login`).
    pub username: Option<String>,
}

/// The endpoints of an OAuth 2.0 provider without OpenID Connect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OAuth2Endpoints {
    /// The authorization endpoint (RFC 6749 §3.1).
    pub authorization_url: String,
    /// The token endpoint (RFC 6749 §3.2).
    pub token_url: String,
    /// The user-info document, read with the access token as a bearer token.
    pub userinfo_url: String,
    /// GitHub's `GET /user/emails` shape: a list of `{email, primary,
    /// verified}`; the primary address, and whether it is verified, come
    /// from it when set.
    pub emails_url: Option<String>,
    /// Where the identity's fields are in the user-info document.
    pub claims: ClaimMapping,
}

/// How Tessera talks to an upstream provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UpstreamProtocol {
    /// OpenID Connect: discovery at `<issuer>/.well-known/openid-configuration`,
    /// an ID token checked against the provider's JWKS, `nonce` and PKCE.
    OpenIdConnect {
        /// The issuer identifier (OpenID Connect Discovery 1.0 §4).
        issuer: String,
        /// Microsoft Entra ID's multi-tenant issuers (`common`,
        /// `organizations`): the ID token's `iss` must be
        /// `https://login.microsoftonline.com/<its tid>/v2.0`.
        tenant_issuer: bool,
    },
    /// OAuth 2.0 with a user-info document (GitHub, Gitee, …).
    OAuth2(OAuth2Endpoints),
}

/// Where a provider's settings come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProviderSource {
    /// `tessera.toml` or the environment: read-only in the console.
    Configuration,
    /// The admin console or its API: kept in the store.
    Console,
}

/// One upstream identity provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpstreamProvider {
    /// Its id.
    pub id: UpstreamId,
    /// The name on the sign-in buttons ("GitHub").
    pub display_name: String,
    /// The preset it was made from (`github`, `google`, `entra`), if any.
    pub preset: Option<String>,
    /// How to talk to it.
    pub protocol: UpstreamProtocol,
    /// Tessera's `client_id` at the provider.
    pub client_id: String,
    /// Tessera's `client_secret` at the provider.
    pub client_secret: Secret,
    /// How the secret is presented.
    pub token_auth: TokenEndpointAuth,
    /// The scopes asked for (OpenID Connect adds `openid`).
    pub scopes: Vec<String>,
    /// A first sign-in without a linked or matching account creates one.
    pub allow_sign_up: bool,
    /// Trusted for linking: a verified upstream e-mail that matches an
    /// account's verified address links to it without the account's own
    /// sign-in. Only for providers that own their addresses (a company IdP).
    pub link_by_email: bool,
    /// Shown and usable.
    pub enabled: bool,
    /// Where its settings come from.
    pub source: ProviderSource,
}

impl UpstreamProvider {
    /// Checks what a console or configuration may set: a name of 1–64
    /// characters, a client id of 1–256, a secret (not empty), scopes of
    /// printable ASCII without spaces, and `http(s)` URLs without fragments
    /// or credentials.
    ///
    /// # Errors
    /// Why the provider is refused, naming the field.
    pub fn check(&self) -> Result<(), String> {
        let name_len = self.display_name.trim().chars().count();
        if !(1..=64).contains(&name_len) {
            return Err("name: 1 to 64 characters".into());
        }
        if self.client_id.is_empty() || self.client_id.len() > 256 {
            return Err("client_id: 1 to 256 characters".into());
        }
        if self.client_secret.expose().is_empty() {
            return Err("client_secret: required".into());
        }
        if let Some(bad) = self
            .scopes
            .iter()
            .find(|s| s.is_empty() || !s.bytes().all(|b| b.is_ascii_graphic() && b != b'"'))
        {
            return Err(format!("scopes: {bad:?} is not a scope"));
        }
        let urls: Vec<(&str, &str)> = match &self.protocol {
            UpstreamProtocol::OpenIdConnect { issuer, .. } => vec![("issuer", issuer)],
            UpstreamProtocol::OAuth2(e) => {
                let mut v = vec![
                    ("authorization_url", e.authorization_url.as_str()),
                    ("token_url", e.token_url.as_str()),
                    ("userinfo_url", e.userinfo_url.as_str()),
                ];
                if let Some(u) = &e.emails_url {
                    v.push(("emails_url", u));
                }
                if e.claims.subject.trim().is_empty() {
                    return Err("claims.subject: required".into());
                }
                v
            }
        };
        for (field, raw) in urls {
            let ok = url::Url::parse(raw).is_ok_and(|u| {
                matches!(u.scheme(), "http" | "https")
                    && u.host_str().is_some()
                    && u.fragment().is_none()
                    && u.username().is_empty()
                    && u.password().is_none()
            });
            if !ok {
                return Err(format!("{field}: {raw:?} is not an http(s) URL"));
            }
        }
        Ok(())
    }
}

/// Who an upstream provider says signed in, once its answer was checked.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct UpstreamIdentity {
    /// The provider's stable id for the person (`sub`, GitHub's `id`).
    pub subject: String,
    /// Their e-mail address, as the provider gave it.
    pub email: Option<String>,
    /// The provider says the address is verified (`email_verified`).
    pub email_verified: bool,
    /// Their display name.
    pub name: Option<String>,
    /// A username they go by there (`preferred_username`, GitHub's `login`).
    pub username: Option<String>,
}

/// An upstream identity linked to an account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkedIdentity {
    /// The account.
    pub user_id: UserId,
    /// The provider.
    pub provider: UpstreamId,
    /// The provider's subject.
    pub subject: String,
    /// The address the provider gave when it was linked (for display).
    pub email: Option<String>,
    /// When it was linked.
    pub linked_at: DateTime<Utc>,
    /// When it was last used to sign in.
    pub last_used_at: Option<DateTime<Utc>>,
}

#[cfg(test)]
mod tests {
    use super::UpstreamId;

    #[test]
    fn ids_are_lower_case_words() {
        assert!(UpstreamId::parse("github").is_some());
        assert!(UpstreamId::parse("corp_2").is_some());
        for bad in ["", "GitHub", "2corp", "a-b", "a/b", &"x".repeat(33)] {
            assert!(UpstreamId::parse(bad).is_none(), "{bad}");
        }
    }
}
