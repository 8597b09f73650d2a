//! Tessera as an OpenID Provider (issue 18): the applications that sign
//! people in through it (OAuth 2.0 clients, relying parties), the scopes
//! they may ask for, the consents people gave them and the grants an
//! authorization code turned into.
//!
//! The names are the RFCs': client, redirect URI, scope, authorization
//! code, PKCE (RFC 6749, RFC 7636, OpenID Connect Core 1.0).

use std::fmt;

use chrono::{DateTime, Utc};

use crate::model::{SessionId, TokenFingerprint, UserId};

crate::secret::redacted_string!(
    /// A confidential client's secret as generated: shown once, stored only
    /// as a fingerprint ([`OAuthClient::secret_fingerprint`]). `Debug` is redacted.
    ClientSecret,
    "Wraps a generated secret.",
    "The secret, to show its owner once."
);

/// A client id (`client_id`): `tc_` and 32 hex characters when Tessera
/// generates it; at most [`ClientId::MAX_CHARS`] characters of
/// `[A-Za-z0-9._~-]` when read.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ClientId(String);

impl ClientId {
    /// The longest client id read, in characters.
    pub const MAX_CHARS: usize = 64;

    /// `raw` when it has the shape of a client id; `None` otherwise (the
    /// caller answers as for an unknown client).
    #[must_use]
    pub fn parse(raw: &str) -> Option<Self> {
        (!raw.is_empty()
            && raw.len() <= Self::MAX_CHARS
            && raw
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"._~-".contains(&b)))
        .then(|| Self(raw.to_owned()))
    }

    /// A generated id: `tc_` and the 32 hex characters of `uuid`.
    #[must_use]
    pub fn generated(uuid: uuid::Uuid) -> Self {
        Self(format!("tc_{}", uuid.simple()))
    }

    /// The id as written.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ClientId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The client types of RFC 6749 §2.1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientKind {
    /// Holds no secret (a browser or native app): PKCE `S256` is required
    /// and it authenticates with `none`.
    Public,
    /// Holds a secret (a server): `client_secret_basic` or
    /// `client_secret_post`; PKCE is accepted.
    Confidential,
}

impl ClientKind {
    /// `public` or `confidential`.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Public => "public",
            Self::Confidential => "confidential",
        }
    }

    /// The kind `raw` names (`public`, `confidential`).
    #[must_use]
    pub fn parse(raw: &str) -> Option<Self> {
        [Self::Public, Self::Confidential]
            .into_iter()
            .find(|k| k.as_str() == raw)
    }
}

/// The grant types a client may use at the token endpoint (RFC 6749 §4, §6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum GrantType {
    /// `authorization_code` (§4.1).
    AuthorizationCode,
    /// `refresh_token` (§6).
    RefreshToken,
    /// `client_credentials` (§4.4): confidential clients only.
    ClientCredentials,
}

impl GrantType {
    /// Every grant type, in the order the discovery document lists them.
    pub const ALL: [Self; 3] = [
        Self::AuthorizationCode,
        Self::RefreshToken,
        Self::ClientCredentials,
    ];

    /// The RFC's name.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::AuthorizationCode => "authorization_code",
            Self::RefreshToken => "refresh_token",
            Self::ClientCredentials => "client_credentials",
        }
    }

    /// The grant type `raw` names.
    #[must_use]
    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|g| g.as_str() == raw)
    }
}

/// The scopes Tessera grants (OpenID Connect Core §5.4, §11; `roles` is
/// Tessera's own: the account's role names).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Scope {
    /// `openid`: an ID token.
    OpenId,
    /// `profile`: `preferred_username`, `name`.
    Profile,
    /// `email`: `email`, `email_verified`.
    Email,
    /// `phone`: `phone_number`, `phone_number_verified`.
    Phone,
    /// `offline_access`: a refresh token.
    OfflineAccess,
    /// `roles`: the `roles` claim.
    Roles,
}

impl Scope {
    /// Every scope, in the order the discovery document lists them.
    pub const ALL: [Self; 6] = [
        Self::OpenId,
        Self::Profile,
        Self::Email,
        Self::Phone,
        Self::OfflineAccess,
        Self::Roles,
    ];

    /// The scope's name.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::OpenId => "openid",
            Self::Profile => "profile",
            Self::Email => "email",
            Self::Phone => "phone",
            Self::OfflineAccess => "offline_access",
            Self::Roles => "roles",
        }
    }

    /// The scope `raw` names.
    #[must_use]
    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == raw)
    }

    /// A space-delimited `scope` parameter (RFC 6749 §3.3) read into a
    /// sorted set without repeats; `Err` with the first name Tessera does
    /// not know.
    ///
    /// # Errors
    /// The unknown scope's name.
    pub fn parse_list(raw: &str) -> Result<Vec<Self>, String> {
        let mut scopes = Vec::new();
        for name in raw.split(' ').filter(|s| !s.is_empty()) {
            scopes.push(Self::parse(name).ok_or_else(|| name.to_owned())?);
        }
        scopes.sort_unstable();
        scopes.dedup();
        Ok(scopes)
    }

    /// `scopes` as a `scope` parameter: names joined by spaces.
    #[must_use]
    pub fn join(scopes: &[Self]) -> String {
        scopes
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// An application registered to sign people in through Tessera.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OAuthClient {
    /// `client_id`.
    pub id: ClientId,
    /// The name shown on the consent page and in the console (1–100 characters).
    pub name: String,
    /// Public or confidential.
    pub kind: ClientKind,
    /// The fingerprint of a confidential client's secret; `None` for a
    /// public client.
    pub secret_fingerprint: Option<TokenFingerprint>,
    /// A confidential client's public keys (a JWK Set, JSON), for
    /// `private_key_jwt` client authentication (RFC 7523 §2.2).
    pub jwks: Option<String>,
    /// The redirect URIs, compared as exact strings (RFC 9700 §4.1.3).
    pub redirect_uris: Vec<String>,
    /// Where RP-initiated logout may send the browser back to.
    pub post_logout_redirect_uris: Vec<String>,
    /// The scopes it may be granted.
    pub scopes: Vec<Scope>,
    /// The grant types it may use.
    pub grant_types: Vec<GrantType>,
    /// A first-party application: no consent page.
    pub first_party: bool,
    /// A disabled client is refused everywhere and its tokens stop working.
    pub disabled: bool,
    /// When it was registered.
    pub created_at: DateTime<Utc>,
}

impl OAuthClient {
    /// Whether `uri` is one of the registered redirect URIs, compared as
    /// exact strings.
    #[must_use]
    pub fn redirects_to(&self, uri: &str) -> bool {
        self.redirect_uris.iter().any(|r| r == uri)
    }

    /// Whether the client may use `grant`.
    #[must_use]
    pub fn allows_grant(&self, grant: GrantType) -> bool {
        self.grant_types.contains(&grant)
    }
}

/// What an administrator registers: checked by [`ClientDraft::validate`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientDraft {
    /// Name, 1–100 characters after trimming, no control characters.
    pub name: String,
    /// Public or confidential.
    pub kind: ClientKind,
    /// At least one; each an absolute URI without a fragment (RFC 6749
    /// §3.1.2), `https`, or `http` on a loopback host (RFC 8252 §7.3), or a
    /// private-use scheme with a dot (RFC 8252 §7.1); at most
    /// [`ClientDraft::MAX_URIS`], each at most 2,000 bytes.
    pub redirect_uris: Vec<String>,
    /// The same rules, possibly none.
    pub post_logout_redirect_uris: Vec<String>,
    /// Empty for every scope.
    pub scopes: Vec<Scope>,
    /// Empty for `authorization_code` and `refresh_token`;
    /// `client_credentials` needs a confidential client.
    pub grant_types: Vec<GrantType>,
    /// Skip the consent page.
    pub first_party: bool,
    /// Public keys for `private_key_jwt` (a JWK Set, JSON: an object with
    /// a `keys` array of public JWKs, at most [`ClientDraft::MAX_JWKS_BYTES`]);
    /// confidential clients only.
    pub jwks: Option<String>,
}

/// Why a [`ClientDraft`] was refused: the field and what is wrong, in words
/// a console can show.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {reason}")]
pub struct ClientDraftError {
    /// `name`, `redirect_uris`, `post_logout_redirect_uris`, `grant_types`.
    pub field: &'static str,
    /// What is wrong.
    pub reason: String,
}

impl ClientDraft {
    /// The most redirect URIs (and post-logout URIs) a client registers.
    pub const MAX_URIS: usize = 20;
    /// The longest name, in characters.
    pub const MAX_NAME_CHARS: usize = 100;
    /// The largest JWK Set, in bytes.
    pub const MAX_JWKS_BYTES: usize = 8192;

    /// The draft with its defaults filled in (every scope; the
    /// `authorization_code` and `refresh_token` grants), or why not.
    ///
    /// # Errors
    /// [`ClientDraftError`] naming the first field that breaks a rule above.
    pub fn validate(mut self) -> Result<Self, ClientDraftError> {
        let err = |field, reason: &str| ClientDraftError {
            field,
            reason: reason.to_owned(),
        };
        self.name = self.name.trim().to_owned();
        if self.name.is_empty()
            || self.name.chars().count() > Self::MAX_NAME_CHARS
            || self.name.chars().any(char::is_control)
        {
            return Err(err("name", "1 to 100 characters, no control characters"));
        }
        if self.redirect_uris.is_empty() {
            return Err(err("redirect_uris", "at least one is required"));
        }
        for (field, uris) in [
            ("redirect_uris", &self.redirect_uris),
            ("post_logout_redirect_uris", &self.post_logout_redirect_uris),
        ] {
            if uris.len() > Self::MAX_URIS {
                return Err(err(field, "at most 20"));
            }
            if let Some(bad) = uris.iter().find(|u| !acceptable_redirect_uri(u)) {
                return Err(ClientDraftError {
                    field,
                    reason: format!(
                        "{bad:?} is not an absolute https URI (http only on a loopback host), \
                         a private-use scheme, or it has a fragment"
                    ),
                });
            }
        }
        if self.scopes.is_empty() {
            self.scopes = Scope::ALL.to_vec();
        }
        self.scopes.sort_unstable();
        self.scopes.dedup();
        if self.grant_types.is_empty() {
            self.grant_types = vec![GrantType::AuthorizationCode, GrantType::RefreshToken];
        }
        self.grant_types.sort_unstable();
        self.grant_types.dedup();
        if let Some(jwks) = &self.jwks {
            if self.kind == ClientKind::Public {
                return Err(err("jwks", "a public client has no keys"));
            }
            if !acceptable_jwks(jwks) {
                return Err(err(
                    "jwks",
                    "a JWK Set of public keys: {\"keys\": [...]}, each with kty, no private members, at most 8,192 bytes",
                ));
            }
        }
        if self.kind == ClientKind::Public
            && self.grant_types.contains(&GrantType::ClientCredentials)
        {
            return Err(err(
                "grant_types",
                "client_credentials needs a confidential client",
            ));
        }
        Ok(self)
    }
}

/// The rules of [`ClientDraft::jwks`].
fn acceptable_jwks(text: &str) -> bool {
    if text.len() > ClientDraft::MAX_JWKS_BYTES {
        return false;
    }
    let Ok(serde_json::Value::Object(set)) = serde_json::from_str::<serde_json::Value>(text) else {
        return false;
    };
    let Some(serde_json::Value::Array(keys)) = set.get("keys") else {
        return false;
    };
    !keys.is_empty()
        && keys.iter().all(|k| {
            k.get("kty").and_then(serde_json::Value::as_str).is_some()
                && ["d", "p", "q", "dp", "dq", "qi", "k"]
                    .iter()
                    .all(|private| k.get(private).is_none())
        })
}

/// The rules of [`ClientDraft::redirect_uris`] for one URI.
fn acceptable_redirect_uri(raw: &str) -> bool {
    if raw.len() > 2000 || raw.chars().any(|c| c.is_control() || c == ' ') {
        return false;
    }
    let Ok(url) = url::Url::parse(raw) else {
        return false;
    };
    if url.fragment().is_some() {
        return false;
    }
    match url.scheme() {
        "https" => url.host().is_some(),
        "http" => match url.host() {
            Some(url::Host::Domain(d)) => d == "localhost",
            Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
            Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
            None => false,
        },
        scheme => scheme.contains('.'),
    }
}

/// What an authorization code stands for until it is redeemed (at most 60
/// s): who signed in, for which client, redirect URI, scopes and PKCE
/// challenge (OpenID Connect Core §3.1.2, RFC 7636 §4.4).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct AuthorizationGrant {
    /// The account (its id).
    pub user_id: i64,
    /// The browser session the person signed in with.
    pub browser_session: uuid::Uuid,
    /// `client_id`.
    pub client_id: String,
    /// The `redirect_uri` of the request, which the token request repeats.
    pub redirect_uri: String,
    /// The granted scopes, space-delimited.
    pub scope: String,
    /// `nonce`, echoed in the ID token.
    pub nonce: Option<String>,
    /// The PKCE `code_challenge` (`S256`), when the request had one.
    pub code_challenge: Option<String>,
}

/// A person's consent to a client: the scopes they agreed to share, as the
/// consent page last recorded them (OpenID Connect Core §3.1.2.4). An
/// account's export lists them (issue 20).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Consent {
    /// The client consented to.
    pub client_id: ClientId,
    /// The scopes agreed to.
    pub scopes: Vec<Scope>,
    /// When the consent was last given.
    pub updated_at: DateTime<Utc>,
}

/// A session opened for a client by a redeemed authorization code: which
/// client and scopes its refresh tokens and access tokens stand for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OAuthGrant {
    /// The session (the refresh-token family).
    pub session_id: SessionId,
    /// The client it was issued to.
    pub client_id: ClientId,
    /// The account.
    pub user_id: UserId,
    /// The granted scopes.
    pub scopes: Vec<Scope>,
    /// When the code was redeemed.
    pub created_at: DateTime<Utc>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn draft(uris: &[&str]) -> ClientDraft {
        ClientDraft {
            name: " App ".into(),
            kind: ClientKind::Public,
            redirect_uris: uris.iter().map(|s| (*s).to_owned()).collect(),
            post_logout_redirect_uris: vec![],
            scopes: vec![],
            grant_types: vec![],
            first_party: false,
            jwks: None,
        }
    }

    #[test]
    fn redirect_uris_follow_rfc_8252_and_6749() {
        for ok in [
            "https://app.example/cb",
            "http://127.0.0.1:8000/cb",
            "http://localhost/cb",
            "http://[::1]:9/cb",
            "com.example.app:/oauth",
        ] {
            assert!(draft(&[ok]).validate().is_ok(), "{ok}");
        }
        for bad in [
            "http://app.example/cb",
            "http://10.0.0.1/cb",
            "https://app.example/cb#frag",
            "/relative",
            "javascript:alert(1)",
            "https://app.example/a b",
        ] {
            let e = draft(&[bad]).validate().unwrap_err();
            assert_eq!(e.field, "redirect_uris", "{bad}");
        }
        assert_eq!(draft(&[]).validate().unwrap_err().field, "redirect_uris");
    }

    #[test]
    fn defaults_and_the_public_client_credentials_rule() {
        let d = draft(&["https://a.example/cb"]).validate().unwrap();
        assert_eq!(d.name, "App");
        assert_eq!(d.scopes, Scope::ALL.to_vec());
        assert_eq!(
            d.grant_types,
            vec![GrantType::AuthorizationCode, GrantType::RefreshToken]
        );
        let mut d = draft(&["https://a.example/cb"]);
        d.grant_types = vec![GrantType::ClientCredentials];
        assert_eq!(d.validate().unwrap_err().field, "grant_types");
    }

    #[test]
    fn scope_lists_are_sets_and_name_the_unknown() {
        assert_eq!(
            Scope::parse_list("email openid  email").unwrap(),
            vec![Scope::OpenId, Scope::Email]
        );
        assert_eq!(Scope::parse_list("openid admin").unwrap_err(), "admin");
        assert_eq!(Scope::join(&[Scope::OpenId, Scope::Roles]), "openid roles");
    }

    #[test]
    fn client_ids_have_a_narrow_shape() {
        assert!(ClientId::parse("tc_0123abcd").is_some());
        assert!(ClientId::parse("").is_none());
        assert!(ClientId::parse("a b").is_none());
        assert!(ClientId::parse(&"a".repeat(65)).is_none());
    }
}
