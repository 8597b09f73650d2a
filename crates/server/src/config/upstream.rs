//! Upstream identity providers (issue 19): `UPSTREAM_PROVIDERS` lists their
//! ids, and each reads `UPSTREAM_<ID>_<KEY>` (in `tessera.toml`, a table
//! `[upstream.<id>]` with lower-case keys). Presets fill in what GitHub,
//! Google and Microsoft Entra ID need; `oidc` and `oauth2` are the generic
//! kinds. docs/federation.md shows each.

use tessera_domain::model::{
    ClaimMapping, OAuth2Endpoints, ProviderSource, TokenEndpointAuth, UpstreamId, UpstreamProtocol,
    UpstreamProvider,
};
use tessera_domain::secret::Secret;

use super::ConfigError;
use super::source::Reader;

/// GitHub's endpoints (OAuth 2.0 without OpenID Connect).
pub const GITHUB_AUTHORIZATION_URL: &str = "https://github.com/login/oauth/authorize";
/// GitHub's token endpoint.
pub const GITHUB_TOKEN_URL: &str = "https://github.com/login/oauth/access_token";
/// GitHub's user document.
pub const GITHUB_USERINFO_URL: &str = "https://api.github.com/user";
/// GitHub's list of the user's addresses, with `primary` and `verified`.
pub const GITHUB_EMAILS_URL: &str = "https://api.github.com/user/emails";
/// Google's issuer.
pub const GOOGLE_ISSUER: &str = "https://accounts.google.com";

/// The reason of a refused setting `(key, why)` of [`provider_from`], for
/// the console and its API: `<key>: <why>` in lower case (the whole
/// provider's reasons name their field already).
pub(crate) fn refusal(key: &str, why: &str) -> String {
    if key == "*" {
        why.to_owned()
    } else {
        format!("{}: {why}", key.to_ascii_lowercase())
    }
}

/// Reads every provider `UPSTREAM_PROVIDERS` lists.
pub(crate) fn read(r: &Reader<'_>) -> Result<Vec<UpstreamProvider>, ConfigError> {
    let ids = r.list("UPSTREAM_PROVIDERS").unwrap_or_default();
    let mut providers: Vec<UpstreamProvider> = Vec::new();
    for raw in ids {
        let id = UpstreamId::parse(&raw).ok_or_else(|| ConfigError::Invalid {
            name: "UPSTREAM_PROVIDERS",
            reason: format!(
                "{raw:?}: an id is 1 to 32 characters of a-z, 0-9 and _, starting with a letter"
            ),
        })?;
        if providers.iter().any(|p| p.id == id) {
            return Err(ConfigError::Invalid {
                name: "UPSTREAM_PROVIDERS",
                reason: format!("{raw:?} is listed twice"),
            });
        }
        providers.push(read_provider(r, id)?);
    }
    Ok(providers)
}

fn read_provider(r: &Reader<'_>, id: UpstreamId) -> Result<UpstreamProvider, ConfigError> {
    let prefix = format!("UPSTREAM_{}_", id.as_str().to_ascii_uppercase());
    provider_from(
        id,
        &|k| r.string(&format!("{prefix}{k}")),
        ProviderSource::Configuration,
    )
    .map_err(|(k, reason)| ConfigError::Setting {
        name: format!("{prefix}{k}"),
        reason,
    })
}

/// A provider from its settings, `get` reading each by key (`CLIENT_ID`,
/// `ISSUER`, `SCOPES` comma-separated, …; the configuration's
/// `UPSTREAM_<ID>_<KEY>` and the console's fields alike), the preset's
/// defaults filling in the rest.
///
/// # Errors
/// `(key, reason)` of the first refused setting (`*` for the whole).
pub(crate) fn provider_from(
    id: UpstreamId,
    get: &dyn Fn(&str) -> Option<String>,
    source: ProviderSource,
) -> Result<UpstreamProvider, (String, String)> {
    let get = |k: &str| {
        get(k)
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    };
    let bad = |k: &str, reason: String| (k.to_owned(), reason);
    let flag = |k: &str, default: bool| -> Result<bool, (String, String)> {
        match get(k).map(|v| v.to_ascii_lowercase()) {
            None => Ok(default),
            Some(v) if matches!(v.as_str(), "1" | "true" | "yes" | "on") => Ok(true),
            Some(v) if matches!(v.as_str(), "0" | "false" | "no" | "off") => Ok(false),
            Some(v) => Err(bad(k, format!("{v:?}: expected true or false"))),
        }
    };
    let preset = get("PRESET").unwrap_or_else(|| match id.as_str() {
        "github" | "google" | "entra" => id.as_str().to_owned(),
        _ if get("ISSUER").is_some() => "oidc".to_owned(),
        _ => "oauth2".to_owned(),
    });
    let oidc_scopes = || vec!["openid".into(), "email".into(), "profile".into()];
    let (display, protocol, scopes, token_auth) = match preset.as_str() {
        "github" => (
            "GitHub",
            UpstreamProtocol::OAuth2(OAuth2Endpoints {
                authorization_url: get("AUTHORIZATION_URL")
                    .unwrap_or_else(|| GITHUB_AUTHORIZATION_URL.into()),
                token_url: get("TOKEN_URL").unwrap_or_else(|| GITHUB_TOKEN_URL.into()),
                userinfo_url: get("USERINFO_URL").unwrap_or_else(|| GITHUB_USERINFO_URL.into()),
                emails_url: Some(get("EMAILS_URL").unwrap_or_else(|| GITHUB_EMAILS_URL.into())),
                claims: ClaimMapping {
                    subject: "id".into(),
                    email: Some("email".into()),
                    email_verified: None,
                    name: Some("name".into()),
                    username: Some("login".into()),
                },
            }),
            vec!["read:user".into(), "user:email".into()],
            TokenEndpointAuth::ClientSecretPost,
        ),
        "google" => (
            "Google",
            UpstreamProtocol::OpenIdConnect {
                issuer: get("ISSUER").unwrap_or_else(|| GOOGLE_ISSUER.into()),
                tenant_issuer: false,
            },
            oidc_scopes(),
            TokenEndpointAuth::ClientSecretPost,
        ),
        "entra" => {
            let tenant = get("TENANT").unwrap_or_else(|| "common".into());
            if tenant.is_empty()
                || !tenant
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-.".contains(&b))
            {
                return Err(bad("TENANT", format!("{tenant:?}: a tenant id or domain")));
            }
            (
                "Microsoft",
                UpstreamProtocol::OpenIdConnect {
                    issuer: get("ISSUER").unwrap_or_else(|| {
                        format!("https://login.microsoftonline.com/{tenant}/v2.0")
                    }),
                    // Entra's documents name the tenant's id (or `{tenantid}`)
                    // where a domain or `common` was configured: the token's
                    // `iss` is checked against the document with its `tid`.
                    tenant_issuer: true,
                },
                oidc_scopes(),
                TokenEndpointAuth::ClientSecretPost,
            )
        }
        "oidc" => (
            "",
            UpstreamProtocol::OpenIdConnect {
                // As written: an issuer may end in `/` (Auth0's do), and the
                // discovery document's must be the same string.
                issuer: get("ISSUER").ok_or_else(|| {
                    bad("ISSUER", "required for an OpenID Connect provider".into())
                })?,
                tenant_issuer: false,
            },
            oidc_scopes(),
            TokenEndpointAuth::ClientSecretBasic,
        ),
        "oauth2" => {
            let need =
                |k: &str| get(k).ok_or_else(|| bad(k, "required for an OAuth 2.0 provider".into()));
            let claim = |k: &str, default: &str| {
                get(k).filter(|v| v != "-").or_else(|| {
                    (!default.is_empty() && get(k).is_none()).then(|| default.to_owned())
                })
            };
            (
                "",
                UpstreamProtocol::OAuth2(OAuth2Endpoints {
                    authorization_url: need("AUTHORIZATION_URL")?,
                    token_url: need("TOKEN_URL")?,
                    userinfo_url: need("USERINFO_URL")?,
                    emails_url: get("EMAILS_URL"),
                    claims: ClaimMapping {
                        subject: get("CLAIM_SUBJECT").unwrap_or_else(|| "sub".into()),
                        email: claim("CLAIM_EMAIL", "email"),
                        email_verified: claim("CLAIM_EMAIL_VERIFIED", "email_verified"),
                        name: claim("CLAIM_NAME", "name"),
                        username: claim("CLAIM_USERNAME", "preferred_username"),
                    },
                }),
                Vec::new(),
                TokenEndpointAuth::ClientSecretBasic,
            )
        }
        other => {
            return Err(bad(
                "PRESET",
                format!("{other:?}: one of github, google, entra, oidc, oauth2"),
            ));
        }
    };
    let token_auth = match get("TOKEN_AUTH") {
        None => token_auth,
        Some(v) => TokenEndpointAuth::parse(&v).ok_or_else(|| {
            bad(
                "TOKEN_AUTH",
                format!("{v:?}: client_secret_basic or client_secret_post"),
            )
        })?,
    };
    let provider = UpstreamProvider {
        display_name: get("NAME").unwrap_or_else(|| {
            if display.is_empty() {
                id.as_str().to_owned()
            } else {
                display.to_owned()
            }
        }),
        preset: matches!(preset.as_str(), "github" | "google" | "entra").then_some(preset),
        protocol,
        client_id: get("CLIENT_ID").ok_or_else(|| bad("CLIENT_ID", "required".into()))?,
        client_secret: Secret::new(
            get("CLIENT_SECRET").ok_or_else(|| bad("CLIENT_SECRET", "required".into()))?,
        ),
        token_auth,
        scopes: get("SCOPES").map_or(scopes, |v| {
            v.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect()
        }),
        allow_sign_up: flag("ALLOW_SIGN_UP", true)?,
        link_by_email: flag("LINK_BY_EMAIL", false)?,
        enabled: flag("ENABLED", true)?,
        source,
        id,
    };
    provider
        .check()
        .map_err(|reason| ("*".to_owned(), reason))?;
    Ok(provider)
}
