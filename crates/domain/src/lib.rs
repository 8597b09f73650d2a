//! # tessera-domain
//!
//! The core of Tessera: users, tokens, sessions and verification codes, the
//! parse-don't-validate newtypes that guard them, the port traits through which
//! the core reaches the outside world, and the authentication use cases
//! ([`service::AuthService`]) written once against those ports.
//!
//! This crate knows no web framework, database driver, cache or mailer. Adapters
//! (`tessera-sql`, `tessera-memory`, `tessera-crypto`, …) implement the ports; a
//! program picks one adapter per port by implementing [`ports::Ports`].
//!
//! ```
//! use tessera_domain::newtypes::{Email, Username, UsernamePolicy};
//!
//! let email = Email::parse("  Alice@Example.COM ").unwrap();
//! assert_eq!(email.as_str(), "alice@example.com");
//! assert!(Username::parse("ab", &UsernamePolicy::default()).is_err());
//! assert!(Username::parse("张三", &UsernamePolicy { min_chars: 2 }).is_ok());
//! ```

pub mod audit;
pub mod cache;
pub mod clock;
pub mod code;
pub mod error;
pub mod import;
mod join;
pub mod mail;
pub mod newtypes;
pub mod permissions;
pub mod ports;
pub mod secret;
pub mod service;
pub mod session;
pub mod token;
pub mod user;
pub mod validation;

pub use error::AuthError;
pub use service::{AuthService, AuthSettings};
