//! A string that never shows itself in `Debug` or `Display` output.

/// Declares a string newtype that never shows itself: `new` wraps the value,
/// `expose` returns it (the call sites to review), and `Debug` prints
/// `Name(***)`. One definition for [`Secret`] and the token types.
macro_rules! redacted_string {
    ($(#[$doc:meta])* $name:ident, $new_doc:literal, $expose_doc:literal) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq)]
        pub struct $name(String);

        impl $name {
            #[doc = $new_doc]
            #[must_use]
            pub fn new(value: impl Into<String>) -> Self {
                Self(value.into())
            }

            #[doc = $expose_doc]
            #[must_use]
            pub fn expose(&self) -> &str {
                &self.0
            }
        }

        impl ::std::fmt::Debug for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(concat!(stringify!($name), "(***)"))
            }
        }
    };
}
pub(crate) use redacted_string;

redacted_string!(
    /// A secret string: passwords, tokens, codes. Its `Debug` prints `Secret(***)`,
    /// so it can sit inside any struct that derives `Debug` without leaking.
    Secret,
    "Wraps a secret value.",
    "The secret itself. Call sites that use this are the places to review."
);

#[cfg(test)]
mod tests {
    use super::Secret;

    #[test]
    fn debug_never_shows_the_value() {
        let s = Secret::new("hunter2");
        assert_eq!(format!("{s:?}"), "Secret(***)");
        assert_eq!(s.expose(), "hunter2");
    }
}

/// Query keys whose values [`redact_url`] hides (matched case-insensitively
/// as substrings: `access_token`, `apiKey`, `sig`, …).
const SECRET_QUERY_KEYS: [&str; 6] = ["token", "key", "secret", "sig", "password", "auth"];

/// `url` as it may be logged or printed: a password becomes `***` (the user
/// name stays), a user name alone (`https://token@host`) becomes `***`, and
/// the values of query parameters that look like credentials (a name
/// containing `token`, `key`, `secret`, `sig`, `password` or `auth`, in any
/// case) become `***`. A string that is not a URL (a file
/// path) is returned as it is when it holds no `@` and no `?`, and as
/// `(redacted)` otherwise. Parsed with the `url` crate (WHATWG URL).
#[must_use]
pub fn redact_url(url: &str) -> String {
    let Ok(mut parsed) = url::Url::parse(url) else {
        return if url.contains(['@', '?']) {
            "(redacted)".to_owned()
        } else {
            url.to_owned()
        };
    };
    let mut changed = false;
    if parsed.password().is_some() {
        changed |= parsed.set_password(Some("***")).is_ok();
    } else if !parsed.username().is_empty() {
        changed |= parsed.set_username("***").is_ok();
    }
    if parsed.query().is_some() {
        let pairs: Vec<(String, String)> = parsed
            .query_pairs()
            .map(|(k, v)| {
                let lower = k.to_lowercase();
                let secret = SECRET_QUERY_KEYS.iter().any(|s| lower.contains(s));
                (
                    k.into_owned(),
                    if secret {
                        "***".to_owned()
                    } else {
                        v.into_owned()
                    },
                )
            })
            .collect();
        if pairs.iter().any(|(_, v)| v == "***") {
            parsed.query_pairs_mut().clear().extend_pairs(pairs);
            changed = true;
        }
    }
    if changed {
        parsed.to_string()
    } else {
        url.to_owned()
    }
}

#[cfg(test)]
mod redact_tests {
    use super::redact_url;

    #[test]
    fn credentials_in_every_place_a_url_carries_them_are_hidden() {
        for (url, shown) in [
            (
                "mysql://user:s3cret@host:3306/db",
                "mysql://user:***@host:3306/db",
            ),
            ("redis://:pw@h:6379/0", "redis://:***@h:6379/0"),
            (
                "https://tok3n@hooks.example/sms",
                "https://***@hooks.example/sms",
            ),
            (
                "https://hooks.example/sms?access_token=abc&to=1",
                "https://hooks.example/sms?access_token=***&to=1",
            ),
            (
                "mysql://root@host/db?require_ssl=true",
                "mysql://***@host/db?require_ssl=true",
            ),
            (
                "mysql://host/db?require_ssl=true",
                "mysql://host/db?require_ssl=true",
            ),
            ("sqlite://./var/t.db", "sqlite://./var/t.db"),
            ("./var/t.db", "./var/t.db"),
            ("not a url @ all", "(redacted)"),
        ] {
            assert_eq!(redact_url(url), shown, "{url}");
            assert!(!redact_url(url).contains("s3cret") && !redact_url(url).contains("tok3n"));
        }
    }
}
