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
