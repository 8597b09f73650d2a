//! # tessera-domain
//!
//! The core of Tessera: users, tokens, sessions and verification codes, the
//! parse-don't-validate values that guard them, the port traits through which
//! the core reaches the outside world, and the authentication use cases
//! ([`usecase::AuthService`]) written once against those ports.
//!
//! This crate knows no web framework, database driver, cache or mailer. Adapters
//! (`tessera-sql`, `tessera-memory`, `tessera-crypto`, …) implement the ports; a
//! program picks one adapter per port by implementing [`ports::Ports`].
//!
//! | module | holds |
//! |--------|-------|
//! | [`model`] | entities and their rules (user, session, token, code, audit, permissions) |
//! | [`values`] | parse-don't-validate values (email, username, phone, password, role, identifier) |
//! | [`ports`] | one trait per outside service, [`ports::Ports`] and [`ports::Adapters`] |
//! | [`settings`] | [`AuthSettings`]: lifetimes, policies, codes, throttling |
//! | [`usecase`] | the use cases, one file per family |
//!
//! ```
//! use tessera_domain::values::{Email, Username, UsernamePolicy};
//!
//! let email = Email::parse("  Alice@Example.COM ").unwrap();
//! assert_eq!(email.as_str(), "alice@example.com");
//! assert!(Username::parse("ab", &UsernamePolicy::default()).is_err());
//! assert!(Username::parse("张三", &UsernamePolicy { min_chars: 2 }).is_ok());
//! ```

#![warn(missing_docs)]

pub mod cache;
pub mod clock;
pub mod error;
pub mod import;
mod join;
pub mod mail;
pub mod model;
pub mod ports;
pub mod secret;
pub mod settings;
pub mod usecase;
pub mod validation;
pub mod values;

pub use error::AuthError;
pub use settings::AuthSettings;
pub use usecase::AuthService;
