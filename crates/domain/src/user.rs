//! Users.

use std::fmt;

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::newtypes::{Email, Phone, RoleName, Username};

/// A user's integer id (seeds 000, 001, 003, 004 expose integers).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct UserId(pub i64);

impl fmt::Display for UserId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// A stored password hash in PHC string form (`$argon2id$v=19$...`). Its `Debug` is redacted.
#[derive(Clone, PartialEq, Eq)]
pub struct PasswordHash(String);

impl PasswordHash {
    /// Wraps a PHC string.
    #[must_use]
    pub fn new(phc: impl Into<String>) -> Self {
        Self(phc.into())
    }

    /// The PHC string.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for PasswordHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let scheme = self.0.split('$').nth(1).unwrap_or("?");
        write!(f, "PasswordHash({scheme}, ***)")
    }
}

/// A stored user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// Integer id.
    pub id: UserId,
    /// UUID, for clients that use string ids (seed 002).
    pub public_id: Uuid,
    /// Unique username.
    pub username: Username,
    /// Unique, normalised email.
    pub email: Email,
    /// Unique phone digits, when given.
    pub phone: Option<Phone>,
    /// The stored password hash.
    pub password_hash: PasswordHash,
    /// The user's role.
    pub role: RoleName,
    /// False once disabled by an administrator: every login and token is refused.
    pub is_active: bool,
    /// Whether the email address has been confirmed.
    pub email_verified: bool,
    /// When the account was created.
    pub created_at: DateTime<Utc>,
    /// When the account last changed.
    pub updated_at: DateTime<Utc>,
}

/// A user about to be stored; the store assigns the integer id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewUser {
    /// UUID.
    pub public_id: Uuid,
    /// Username.
    pub username: Username,
    /// Email.
    pub email: Email,
    /// Phone.
    pub phone: Option<Phone>,
    /// Password hash.
    pub password_hash: PasswordHash,
    /// Role.
    pub role: RoleName,
    /// Creation time (also the first `updated_at`).
    pub created_at: DateTime<Utc>,
}

impl NewUser {
    /// The stored user this becomes once the store has given it `id`.
    #[must_use]
    pub fn with_id(self, id: UserId) -> User {
        User {
            id,
            public_id: self.public_id,
            username: self.username,
            email: self.email,
            phone: self.phone,
            password_hash: self.password_hash,
            role: self.role,
            is_active: true,
            email_verified: false,
            created_at: self.created_at,
            updated_at: self.created_at,
        }
    }
}

/// A unique column of the users table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum UniqueField {
    /// `username`
    Username,
    /// `email`
    Email,
    /// `phone`
    Phone,
}

impl UniqueField {
    /// The field name as clients send it.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Username => "username",
            Self::Email => "email",
            Self::Phone => "phone",
        }
    }
}
