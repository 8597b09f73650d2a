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

use std::cell::RefCell;
use std::collections::HashMap;
use std::path::Path;
use std::time::Duration;

use tessera_domain::values::RoleName;

use super::ConfigError;

/// Reads named settings through a lookup function (the environment, a map in
/// tests), and notes each setting read with its effective value (see
/// [`Reader::into_listing`]).
pub(crate) struct Reader<'a> {
    lookup: &'a dyn Fn(&str) -> Option<String>,
    seen: RefCell<Vec<(String, Option<String>)>>,
}

impl<'a> Reader<'a> {
    /// A reader over `lookup`.
    pub(crate) fn new(lookup: &'a dyn Fn(&str) -> Option<String>) -> Self {
        Self {
            lookup,
            seen: RefCell::new(Vec::new()),
        }
    }

    /// Notes `name`'s effective value (`None`: unset, no default); a setting
    /// read again keeps its place and takes the later value.
    fn note(&self, name: &str, value: Option<String>) {
        let mut seen = self.seen.borrow_mut();
        match seen.iter_mut().find(|(n, _)| n == name) {
            Some(entry) => entry.1 = value,
            None => seen.push((name.to_owned(), value)),
        }
    }

    /// Every setting read, in reading order (section by section), with its
    /// effective value, secrets redacted.
    pub(crate) fn into_listing(self) -> SettingsListing {
        SettingsListing(
            self.seen
                .into_inner()
                .into_iter()
                .map(|(name, value)| {
                    let shown = value.map(|v| redacted(&name, &v));
                    (name, shown)
                })
                .collect(),
        )
    }

    /// The value as written (untrimmed; an empty value is kept).
    pub(crate) fn raw(&self, name: &str) -> Option<String> {
        let value = (self.lookup)(name);
        self.note(name, value.clone());
        value
    }

    /// The trimmed value; empty reads as unset.
    pub(crate) fn string(&self, name: &str) -> Option<String> {
        let value = (self.lookup)(name)
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty());
        self.note(name, value.clone());
        value
    }

    /// Lists `name`, when it was read and found unset, with `value`: the
    /// default its section applied (so that `config check` shows it).
    pub(crate) fn default_shown(&self, name: &str, value: &str) {
        let mut seen = self.seen.borrow_mut();
        if let Some(entry) = seen.iter_mut().find(|(n, v)| n == name && v.is_none()) {
            entry.1 = Some(value.to_owned());
        }
    }

    /// The trimmed value, or `default` when unset or empty.
    pub(crate) fn string_or(&self, name: &str, default: &str) -> String {
        let value = self.string(name).unwrap_or_else(|| default.to_owned());
        self.note(name, Some(value.clone()));
        value
    }

    /// The value parsed as `T`, or `default` when unset.
    pub(crate) fn parse<T>(&self, name: &'static str, default: T) -> Result<T, ConfigError>
    where
        T: std::str::FromStr + std::fmt::Display,
        T::Err: std::fmt::Display,
    {
        let value = match self.string(name) {
            None => default,
            Some(v) => v.parse().map_err(|e: T::Err| ConfigError::Invalid {
                name,
                reason: format!("{v:?}: {e}"),
            })?,
        };
        self.note(name, Some(value.to_string()));
        Ok(value)
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
        let count = match self.string(name) {
            None => Some(default),
            Some(v) if v.eq_ignore_ascii_case("off") => None,
            Some(v) => match v.trim().parse::<u32>() {
                Ok(0) => None,
                Ok(n) => Some(n),
                Err(_) => {
                    return Err(ConfigError::Invalid {
                        name,
                        reason: format!("{v:?}: expected a whole number, 0 or off"),
                    });
                }
            },
        };
        self.note(
            name,
            Some(count.map_or_else(|| "off".to_owned(), |n| n.to_string())),
        );
        Ok(count)
    }

    /// `1`/`true`/`yes`/`on` or `0`/`false`/`no`/`off`, any case.
    pub(crate) fn bool(&self, name: &'static str, default: bool) -> Result<bool, ConfigError> {
        let value = match self.string(name).map(|v| v.to_ascii_lowercase()) {
            None => default,
            Some(v) if matches!(v.as_str(), "1" | "true" | "yes" | "on") => true,
            Some(v) if matches!(v.as_str(), "0" | "false" | "no" | "off") => false,
            Some(v) => {
                return Err(ConfigError::Invalid {
                    name,
                    reason: format!("{v:?} is not a boolean"),
                });
            }
        };
        self.note(name, Some(value.to_string()));
        Ok(value)
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

/// `value` as `tessera config check` may print it: the whole value of a
/// password, key or token setting is hidden; URLs (`*_URL`, `*_URLS`) keep
/// everything but the password of their user part.
fn redacted(name: &str, value: &str) -> String {
    let secret = [
        "_PASSWORD",
        "_SECRET_KEY",
        "_CLIENT_SECRET",
        "_HOOK_SECRET",
        "_TOKEN",
        "_WEBHOOK_URL",
    ]
    .iter()
    .any(|suffix| name.ends_with(suffix));
    if secret {
        "(redacted)".to_owned()
    } else if ["_URL", "_URLS", "_ENDPOINT"]
        .iter()
        .any(|s| name.ends_with(s))
    {
        value
            .split(',')
            .map(|part| {
                let url = part.trim_start();
                let indent = &part[..part.len() - url.len()];
                format!("{indent}{}", tessera_domain::secret::redact_url(url))
            })
            .collect::<Vec<_>>()
            .join(",")
    } else {
        value.to_owned()
    }
}

/// The settings a configuration was read from, as `tessera config check`
/// prints them: `NAME = value` lines in reading order (section by section),
/// `(unset)` for an optional setting left out, secrets redacted. Values are
/// written as read (numbers in the setting's own unit: `_TTL` seconds,
/// `_MS` milliseconds); one with surrounding spaces, or empty, is quoted.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SettingsListing(Vec<(String, Option<String>)>);

impl SettingsListing {
    /// The effective value of `name` as listed (`None`: not read, or unset).
    #[must_use]
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(n, _)| n == name)
            .and_then(|(_, v)| v.as_deref())
    }
}

impl std::fmt::Display for SettingsListing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (name, value) in &self.0 {
            match value {
                None => writeln!(f, "{name} = (unset)")?,
                Some(v) if v.is_empty() || v.trim() != v => writeln!(f, "{name} = {v:?}")?,
                Some(v) => writeln!(f, "{name} = {v}")?,
            }
        }
        Ok(())
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
    // A table `[upstream.github]` names its keys `UPSTREAM_GITHUB_<KEY>`.
    fn flatten(prefix: &str, table: toml::Table, out: &mut Vec<(String, toml::Value)>) {
        for (k, v) in table {
            let name = if prefix.is_empty() {
                k
            } else {
                format!("{prefix}_{k}")
            };
            match v {
                toml::Value::Table(t) => flatten(&name, t, out),
                other => out.push((name, other)),
            }
        }
    }
    let mut flat = Vec::new();
    flatten("", table, &mut flat);
    flat.into_iter()
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
