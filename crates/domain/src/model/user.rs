//! Users.

use std::fmt;

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::error::AuthError;
use crate::values::{Email, Phone, RoleName, Username};

/// A user's integer id (what most clients see).
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
    /// The hash of an account without a password (created by an upstream
    /// sign-in, issue 19): no password verifies against it. Not a PHC
    /// string, so no hasher reads it.
    pub const NONE: &'static str = "!none";

    /// Whether this is [`Self::NONE`]: the account has no password.
    #[must_use]
    pub fn is_none(&self) -> bool {
        self.0 == Self::NONE
    }

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
    /// UUID, for clients that use string ids.
    pub public_id: Uuid,
    /// Unique username.
    pub username: Username,
    /// Unique, normalised email.
    pub email: Email,
    /// Unique phone digits, when given.
    pub phone: Option<Phone>,
    /// The stored password hash.
    pub password_hash: PasswordHash,
    /// The user's primary role.
    pub role: RoleName,
    /// Every role the user holds: `role` first, then the roles granted
    /// besides it, without repeats. Permissions come from all of them.
    pub roles: Vec<RoleName>,
    /// False once disabled by an administrator: every login and token is
    /// refused ([`User::ensure_active`]).
    pub is_active: bool,
    /// Whether the email address has been confirmed.
    pub email_verified: bool,
    /// When the account was created.
    pub created_at: DateTime<Utc>,
    /// When the account last changed.
    pub updated_at: DateTime<Utc>,
}

impl User {
    /// True when the user holds `role` (primary or granted).
    #[must_use]
    pub fn has_role(&self, role: &str) -> bool {
        self.roles.iter().any(|r| r.as_str() == role)
    }

    /// True when the user holds the super-admin role.
    #[must_use]
    pub fn is_super_admin(&self) -> bool {
        self.has_role(RoleName::SUPER_ADMIN)
    }

    /// `roles` rebuilt from the primary role and the other granted roles:
    /// primary first, no repeats.
    #[must_use]
    pub fn role_list(
        primary: &RoleName,
        granted: impl IntoIterator<Item = RoleName>,
    ) -> Vec<RoleName> {
        let mut roles = vec![primary.clone()];
        for r in granted {
            if !roles.contains(&r) {
                roles.push(r);
            }
        }
        roles
    }
}

/// Filters, order and paging for the administrators' user list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserQuery {
    /// A case-insensitive substring of the username or email, if any.
    pub search: Option<String>,
    /// Users to skip (in [`Self::order`]).
    pub offset: u64,
    /// Users to return at most.
    pub limit: u32,
    /// The order of the list; ties (and [`UserOrder::Id`]) by id.
    pub order: UserOrder,
}

/// What the user list is sorted by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum UserOrder {
    /// Id, ascending: creation order (the default).
    #[default]
    Id,
    /// Id, descending: newest first.
    Newest,
    /// Username (the display form), ascending.
    Username,
    /// E-mail address, ascending.
    Email,
}

impl UserOrder {
    /// Every order, with the name [`Self::parse`] reads.
    pub const ALL: [(Self, &'static str); 4] = [
        (Self::Id, "id"),
        (Self::Newest, "newest"),
        (Self::Username, "username"),
        (Self::Email, "email"),
    ];

    /// The order named `name` (`id`, `newest`, `username`, `email`).
    #[must_use]
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.iter().find(|(_, n)| *n == name).map(|(o, _)| *o)
    }

    /// The name [`Self::parse`] reads.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(o, _)| *o == self)
            .map_or("id", |(_, n)| n)
    }
}

/// One page of users and how many match in all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserPage {
    /// The users of this page, by id.
    pub users: Vec<User>,
    /// Users matching the query in all pages.
    pub total: u64,
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
    /// Whether the email address is already confirmed (sign-up by code
    /// confirms it with a mailed code).
    pub email_verified: bool,
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
            roles: vec![self.role.clone()],
            role: self.role,
            is_active: true,
            email_verified: self.email_verified,
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
    /// `public_id` (the UUID; only an import can collide on it)
    PublicId,
}

impl UniqueField {
    /// The field name as clients send it.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Username => "username",
            Self::Email => "email",
            Self::Phone => "phone",
            Self::PublicId => "id",
        }
    }
}
impl User {
    /// The rule every use case applies before acting for an account: a
    /// disabled account may neither log in nor use its tokens.
    ///
    /// # Errors
    /// [`AuthError::AccountDisabled`] when an administrator disabled it.
    pub fn ensure_active(&self) -> Result<(), AuthError> {
        if self.is_active {
            Ok(())
        } else {
            Err(AuthError::AccountDisabled)
        }
    }
}
