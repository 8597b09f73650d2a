//! Tessera as an OpenID Provider (issue 18): `OIDC_ISSUER`,
//! `OIDC_SIGNING_KEY_FILE`, `OIDC_CODE_TTL`.

use std::path::{Path, PathBuf};

use super::ConfigError;
use super::source::Reader;

/// The OpenID Provider's issuer and ID-token key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderConfig {
    /// `OIDC_ISSUER`: the issuer identifier, an `https` URL (`http` for
    /// development) without query or fragment; relying parties fetch
    /// `<issuer>/.well-known/openid-configuration`. Default
    /// `PUBLIC_BASE_URL`.
    pub issuer: String,
    /// `OIDC_SIGNING_KEY_FILE`: the RS256 key (PKCS#8 PEM) of ID tokens,
    /// made at first use when missing; every instance must read the same
    /// file. Default `<TESSERA_VAR_DIR>/oidc-signing-key.pem`. Not used when
    /// access tokens are signed with `JWT_ALGORITHM=RS256` (that key ring
    /// signs ID tokens too).
    pub signing_key_file: PathBuf,
    /// `OIDC_CODE_TTL`: seconds an authorization code may wait for its
    /// redemption, 1–60 (default 60).
    pub code_ttl_secs: u64,
}

impl ProviderConfig {
    /// Reads the section; the issuer defaults to `public_base_url`.
    pub(crate) fn read(
        r: &Reader<'_>,
        public_base_url: &str,
        var_dir: &Path,
    ) -> Result<Self, ConfigError> {
        let issuer = r
            .string_or("OIDC_ISSUER", public_base_url)
            .trim_end_matches('/')
            .to_owned();
        let url = url::Url::parse(&issuer).map_err(|e| ConfigError::Invalid {
            name: "OIDC_ISSUER",
            reason: format!("{issuer:?}: {e}"),
        })?;
        if !matches!(url.scheme(), "http" | "https")
            || url.query().is_some()
            || url.fragment().is_some()
        {
            return Err(ConfigError::Invalid {
                name: "OIDC_ISSUER",
                reason: format!("{issuer:?}: an http(s) URL without query or fragment"),
            });
        }
        let signing_key_file = r
            .string("OIDC_SIGNING_KEY_FILE")
            .map_or_else(|| var_dir.join("oidc-signing-key.pem"), PathBuf::from);
        let code_ttl_secs = r.parse("OIDC_CODE_TTL", 60_u64)?;
        if !(1..=60).contains(&code_ttl_secs) {
            return Err(ConfigError::Invalid {
                name: "OIDC_CODE_TTL",
                reason: format!("{code_ttl_secs}: 1 to 60 seconds"),
            });
        }
        Ok(Self {
            issuer,
            signing_key_file,
            code_ttl_secs,
        })
    }
}
