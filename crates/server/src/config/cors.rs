//! Cross-origin requests: `CORS_ALLOWED_ORIGINS`, `CORS_ALLOW_CREDENTIALS`,
//! `CORS_ALLOWED_METHODS`, `CORS_MAX_AGE`.

use super::ConfigError;
use super::source::Reader;

/// Which browser origins may call Tessera (CORS).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cors {
    /// `None`: any origin (`*`); `Some(list)`: exactly these (empty: no CORS at all).
    pub origins: Option<Vec<String>>,
    /// `Access-Control-Allow-Credentials: true` (then the origin is echoed, never `*`).
    pub credentials: bool,
    /// `Access-Control-Allow-Methods` of preflights.
    pub methods: String,
    /// `Access-Control-Max-Age` of preflights, in seconds.
    pub max_age: u64,
}

impl Cors {
    /// The `Access-Control-Allow-Origin` value for a request from `origin`, if allowed.
    #[must_use]
    pub fn allow_origin(&self, origin: Option<&str>) -> Option<String> {
        match (&self.origins, origin) {
            (None, Some(o)) if self.credentials => Some(o.to_owned()),
            (None, _) => Some("*".to_owned()),
            (Some(list), Some(o)) if list.iter().any(|a| a == o) => Some(o.to_owned()),
            (Some(_), _) => None,
        }
    }

    /// Reads and checks the section: `*` (default), `none`, or a comma list
    /// of exact origins (a trailing `/` dropped).
    pub(crate) fn read(r: &Reader<'_>) -> Result<Self, ConfigError> {
        let cors = Self {
            origins: match r.string("CORS_ALLOWED_ORIGINS").as_deref() {
                None => {
                    r.default_shown("CORS_ALLOWED_ORIGINS", "*");
                    None
                }
                Some("*") => None,
                Some(v) if v.eq_ignore_ascii_case("none") => Some(Vec::new()),
                Some(v) => Some(
                    v.split(',')
                        .map(|o| o.trim().trim_end_matches('/').to_owned())
                        .filter(|o| !o.is_empty())
                        .collect(),
                ),
            },
            credentials: r.bool("CORS_ALLOW_CREDENTIALS", false)?,
            methods: r.string_or(
                "CORS_ALLOWED_METHODS",
                "GET, POST, PUT, PATCH, DELETE, OPTIONS",
            ),
            max_age: r.parse("CORS_MAX_AGE", 86_400)?,
        };
        Ok(cors)
    }

    /// The checks run once everything is read.
    pub(crate) fn check(&self) -> Result<(), ConfigError> {
        if self.credentials && self.origins.is_none() {
            return Err(ConfigError::Invalid {
                name: "CORS_ALLOW_CREDENTIALS",
                reason: "needs an explicit CORS_ALLOWED_ORIGINS list, not *".into(),
            });
        }
        // Sandboxed frames, `data:` and `file:` pages all send `Origin: null`:
        // allowing it with credentials lets any of them read answers made
        // with the user's cookies (Fetch standard; PortSwigger "CORS").
        if self.credentials
            && self
                .origins
                .iter()
                .flatten()
                .any(|o| o.eq_ignore_ascii_case("null"))
        {
            return Err(ConfigError::Invalid {
                name: "CORS_ALLOWED_ORIGINS",
                reason: "null cannot be allowed together with CORS_ALLOW_CREDENTIALS (any sandboxed page sends Origin: null)".into(),
            });
        }
        Ok(())
    }
}
