//! The hosted pages (issue 16): `PAGES_LOGO_URL`, `PAGES_ACCENT_COLOR`,
//! `RETURN_TO_ALLOWED`; and the WebAuthn relying party passkeys belong to
//! (issue 17): `WEBAUTHN_RP_ID`, `WEBAUTHN_ORIGINS`. The product name the
//! pages show is the mail's, `MAIL_PRODUCT_NAME`.

use super::ConfigError;
use super::source::Reader;

/// The accent colour when `PAGES_ACCENT_COLOR` is unset.
pub const DEFAULT_ACCENT_COLOR: &str = "#1d4ed8";

/// How the hosted pages look and where they may send a browser back to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PagesSettings {
    /// `PAGES_LOGO_URL`: an `https://` (or, for development, `http://`) URL
    /// or a path on this server, shown beside the product name; none by default.
    pub logo_url: Option<String>,
    /// `PAGES_ACCENT_COLOR`: `#rgb` or `#rrggbb` (default [`DEFAULT_ACCENT_COLOR`]).
    pub accent_color: String,
    /// `RETURN_TO_ALLOWED`, comma-separated: where `return_to` may send a
    /// browser after signing in, each an origin with a path prefix
    /// (`https://app.example.com/` allows every path of that origin,
    /// `https://example.com/app/` only paths under `/app/`). Paths of this
    /// server (`/ui/…`) are always allowed. None by default.
    pub return_to_allowed: Vec<ReturnTarget>,
    /// `WEBAUTHN_ORIGINS`, comma-separated: the origins whose pages may
    /// register and use passkeys (`https://…`; `http://localhost…` for
    /// development, where any port is accepted). Default
    /// [`DEFAULT_WEBAUTHN_ORIGIN`].
    pub webauthn_origins: Vec<url::Url>,
    /// `WEBAUTHN_RP_ID`: the relying party id passkeys are bound to, the
    /// host of every origin or a parent domain of them (WebAuthn §5.1.4.1:
    /// `example.com` serves `https://login.example.com`). Default: the host
    /// of the first origin. Changing it orphans every registered passkey.
    pub webauthn_rp_id: String,
}

/// The passkey origin when `WEBAUTHN_ORIGINS` is unset: a browser on this
/// machine (any port).
pub const DEFAULT_WEBAUTHN_ORIGIN: &str = "http://localhost:8080";

/// One `RETURN_TO_ALLOWED` entry: an origin (scheme, host, port) and a path prefix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReturnTarget {
    /// `scheme://host[:port]`, lower-case, default port omitted.
    pub origin: String,
    /// Starts and ends with `/`.
    pub path_prefix: String,
}

impl ReturnTarget {
    /// Reads an allow-list entry: an absolute `http(s)` URL without query,
    /// fragment or credentials; a path not ending in `/` gets one.
    ///
    /// # Errors
    /// Why the entry is not one.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let url = url::Url::parse(raw).map_err(|e| format!("{raw:?}: {e}"))?;
        if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
            return Err(format!("{raw:?}: expected an http(s) URL"));
        }
        if url.query().is_some()
            || url.fragment().is_some()
            || !url.username().is_empty()
            || url.password().is_some()
        {
            return Err(format!("{raw:?}: no query, fragment or credentials"));
        }
        let mut path_prefix = url.path().to_owned();
        if !path_prefix.ends_with('/') {
            path_prefix.push('/');
        }
        Ok(Self {
            origin: url.origin().ascii_serialization(),
            path_prefix,
        })
    }

    /// Whether `url` (already parsed) is within this entry.
    #[must_use]
    pub fn allows(&self, url: &url::Url) -> bool {
        url.origin().ascii_serialization() == self.origin
            && url.path().starts_with(&self.path_prefix)
    }
}

impl PagesSettings {
    /// Reads and checks the section.
    pub(crate) fn read(r: &Reader<'_>) -> Result<Self, ConfigError> {
        let logo_url = r.string("PAGES_LOGO_URL");
        if let Some(logo) = &logo_url
            && !(logo.starts_with("https://")
                || logo.starts_with("http://")
                || (logo.starts_with('/') && !logo.starts_with("//")))
        {
            return Err(ConfigError::Invalid {
                name: "PAGES_LOGO_URL",
                reason: format!("{logo:?}: expected an http(s) URL or a path on this server"),
            });
        }
        let accent_color = r.string_or("PAGES_ACCENT_COLOR", DEFAULT_ACCENT_COLOR);
        if !is_hex_colour(&accent_color) {
            return Err(ConfigError::Invalid {
                name: "PAGES_ACCENT_COLOR",
                reason: format!("{accent_color:?}: expected #rgb or #rrggbb"),
            });
        }
        let return_to_allowed = r
            .list("RETURN_TO_ALLOWED")
            .unwrap_or_default()
            .iter()
            .map(|entry| ReturnTarget::parse(entry))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|reason| ConfigError::Invalid {
                name: "RETURN_TO_ALLOWED",
                reason,
            })?;
        let webauthn_origins = r
            .list("WEBAUTHN_ORIGINS")
            .unwrap_or_else(|| vec![DEFAULT_WEBAUTHN_ORIGIN.to_owned()])
            .iter()
            .map(|raw| parse_origin(raw))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|reason| ConfigError::Invalid {
                name: "WEBAUTHN_ORIGINS",
                reason,
            })?;
        let first_host = webauthn_origins
            .first()
            .and_then(|o| o.host_str())
            .unwrap_or("localhost")
            .to_owned();
        let webauthn_rp_id = r.string_or("WEBAUTHN_RP_ID", &first_host);
        Ok(Self {
            logo_url,
            accent_color: accent_color.to_ascii_lowercase(),
            return_to_allowed,
            webauthn_origins,
            webauthn_rp_id,
        })
    }
}

impl Default for PagesSettings {
    fn default() -> Self {
        Self {
            logo_url: None,
            accent_color: DEFAULT_ACCENT_COLOR.to_owned(),
            return_to_allowed: Vec::new(),
            webauthn_origins: url::Url::parse(DEFAULT_WEBAUTHN_ORIGIN)
                .into_iter()
                .collect(),
            webauthn_rp_id: "localhost".to_owned(),
        }
    }
}

/// An origin of `WEBAUTHN_ORIGINS`: `https://host[:port]`, or `http://` on
/// `localhost`, with no path, query or credentials.
fn parse_origin(raw: &str) -> Result<url::Url, String> {
    let url = url::Url::parse(raw).map_err(|e| format!("{raw:?}: {e}"))?;
    let local = url.host_str() == Some("localhost");
    if !(url.scheme() == "https" || (url.scheme() == "http" && local)) {
        return Err(format!("{raw:?}: expected https:// (or http://localhost)"));
    }
    if url.path() != "/" || url.query().is_some() || !url.username().is_empty() {
        return Err(format!(
            "{raw:?}: an origin has no path, query or credentials"
        ));
    }
    Ok(url)
}

fn is_hex_colour(s: &str) -> bool {
    s.strip_prefix('#')
        .is_some_and(|hex| matches!(hex.len(), 3 | 6) && hex.bytes().all(|b| b.is_ascii_hexdigit()))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn return_targets_are_an_origin_and_a_path_prefix() {
        let t = ReturnTarget::parse("https://App.Example.com:443/app").unwrap();
        assert_eq!(t.origin, "https://app.example.com");
        assert_eq!(t.path_prefix, "/app/");
        let ok = url::Url::parse("https://app.example.com/app/x?y=1").unwrap();
        assert!(t.allows(&ok));
        for refused in [
            "https://app.example.com/apple",
            "https://app.example.com.evil.com/app/",
            "http://app.example.com/app/",
            "https://app.example.com:8443/app/",
        ] {
            assert!(!t.allows(&url::Url::parse(refused).unwrap()), "{refused}");
        }
        for bad in [
            "/relative",
            "javascript:alert(1)",
            "https://u:p@a.com/",
            "https://a.com/?q",
            "ftp://a.com/",
        ] {
            assert!(ReturnTarget::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn accent_colours_are_hex() {
        for ok in ["#fff", "#1D4ED8"] {
            assert!(is_hex_colour(ok));
        }
        for bad in ["fff", "#ffff", "red", "#12345g", "#fff;}body{"] {
            assert!(!is_hex_colour(bad), "{bad}");
        }
    }
}
