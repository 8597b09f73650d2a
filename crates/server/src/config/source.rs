//! Where settings come from and how a raw value reads: the environment, a
//! `.env` file, a `tessera.toml`, and the [`Reader`] that parses one named
//! value with the error message `docs/configuration.md` shows.
//!
//! Why not `figment`: its `Env` provider reads values as TOML-like data
//! (`[a]` becomes an array, `"x"` loses its quotes, `{…}` a table), which
//! would change what a `JWT_SECRET_KEY` or an origin list means, and its
//! errors (`invalid type: found …`) would replace the ones the tests and the
//! documentation pin; it has no `.env` provider, and our TOML keys are
//! case-blind with arrays joined by commas. What remained for it was the
//! three-line precedence chain in [`super::Config::from_env`].

use std::collections::HashMap;
use std::path::Path;
use std::time::Duration;

use tessera_domain::values::RoleName;

use super::ConfigError;

/// Reads named settings through a lookup function (the environment, a map in tests).
pub(crate) struct Reader<'a> {
    lookup: &'a dyn Fn(&str) -> Option<String>,
}

impl<'a> Reader<'a> {
    /// A reader over `lookup`.
    pub(crate) fn new(lookup: &'a dyn Fn(&str) -> Option<String>) -> Self {
        Self { lookup }
    }

    /// The value as written (untrimmed; an empty value is kept).
    pub(crate) fn raw(&self, name: &str) -> Option<String> {
        (self.lookup)(name)
    }

    /// The trimmed value; empty reads as unset.
    pub(crate) fn string(&self, name: &str) -> Option<String> {
        (self.lookup)(name)
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    }

    /// The value parsed as `T`, or `default` when unset.
    pub(crate) fn parse<T: std::str::FromStr>(
        &self,
        name: &'static str,
        default: T,
    ) -> Result<T, ConfigError>
    where
        T::Err: std::fmt::Display,
    {
        match self.string(name) {
            None => Ok(default),
            Some(v) => v.parse().map_err(|e: T::Err| ConfigError::Invalid {
                name,
                reason: format!("{v:?}: {e}"),
            }),
        }
    }

    /// Whole seconds.
    pub(crate) fn seconds(
        &self,
        name: &'static str,
        default: u64,
    ) -> Result<Duration, ConfigError> {
        self.parse(name, default).map(Duration::from_secs)
    }

    /// Whole milliseconds.
    pub(crate) fn millis(&self, name: &'static str, default: u64) -> Result<Duration, ConfigError> {
        self.parse(name, default).map(Duration::from_millis)
    }

    /// A count where `0` or `off` means none (`None`).
    pub(crate) fn optional_count(
        &self,
        name: &'static str,
        default: u32,
    ) -> Result<Option<u32>, ConfigError> {
        match self.string(name) {
            None => Ok(Some(default)),
            Some(v) if v.eq_ignore_ascii_case("off") => Ok(None),
            Some(v) => match v.trim().parse::<u32>() {
                Ok(0) => Ok(None),
                Ok(n) => Ok(Some(n)),
                Err(_) => Err(ConfigError::Invalid {
                    name,
                    reason: format!("{v:?}: expected a whole number, 0 or off"),
                }),
            },
        }
    }

    /// `1`/`true`/`yes`/`on` or `0`/`false`/`no`/`off`, any case.
    pub(crate) fn bool(&self, name: &'static str, default: bool) -> Result<bool, ConfigError> {
        match self.string(name).map(|v| v.to_ascii_lowercase()) {
            None => Ok(default),
            Some(v) if matches!(v.as_str(), "1" | "true" | "yes" | "on") => Ok(true),
            Some(v) if matches!(v.as_str(), "0" | "false" | "no" | "off") => Ok(false),
            Some(v) => Err(ConfigError::Invalid {
                name,
                reason: format!("{v:?} is not a boolean"),
            }),
        }
    }

    /// The trimmed, non-empty items of a comma-separated list (`None` when unset).
    pub(crate) fn list(&self, name: &str) -> Option<Vec<String>> {
        self.string(name).map(|v| {
            v.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect()
        })
    }

    /// A role name of the catalogue's syntax, from the setting `name`.
    pub(crate) fn role(&self, name: &'static str, raw: &str) -> Result<RoleName, ConfigError> {
        RoleName::parse(raw).map_err(|e| ConfigError::Invalid {
            name,
            reason: format!("{raw:?}: {e}"),
        })
    }
}

/// Reads a `tessera.toml`: top-level `NAME = value` pairs with the same names
/// as the environment variables (any case; strings, numbers, booleans, or
/// arrays, which are joined with commas). A missing file is empty unless
/// `required`.
///
/// # Errors
/// [`ConfigError::Invalid`] for unreadable TOML or values of other types.
pub fn read_toml(path: &Path, required: bool) -> Result<HashMap<String, String>, ConfigError> {
    let bad = |reason: String| ConfigError::Invalid {
        name: "TESSERA_CONFIG",
        reason: format!("{}: {reason}", path.display()),
    };
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && !required => {
            return Ok(HashMap::new());
        }
        Err(e) => return Err(bad(e.to_string())),
    };
    let table: toml::Table = text
        .parse()
        .map_err(|e: toml::de::Error| bad(e.to_string()))?;
    let scalar = |v: &toml::Value| match v {
        toml::Value::String(s) => Some(s.clone()),
        toml::Value::Integer(i) => Some(i.to_string()),
        toml::Value::Float(f) => Some(f.to_string()),
        toml::Value::Boolean(b) => Some(b.to_string()),
        _ => None,
    };
    table
        .into_iter()
        .map(|(k, v)| {
            let value = match &v {
                toml::Value::Array(items) => items
                    .iter()
                    .map(scalar)
                    .collect::<Option<Vec<_>>>()
                    .map(|xs| xs.join(",")),
                other => scalar(other),
            }
            .ok_or_else(|| {
                bad(format!(
                    "{k}: expected a string, number, boolean or array of them"
                ))
            })?;
            Ok((k.to_ascii_uppercase(), value))
        })
        .collect()
}

/// The `KEY=VALUE` lines of a `.env` file (none when it is missing or unreadable).
#[must_use]
pub fn read_dotenv(path: &Path) -> HashMap<String, String> {
    dotenvy::from_path_iter(path)
        .map(|it| it.filter_map(Result::ok).collect())
        .unwrap_or_default()
}
