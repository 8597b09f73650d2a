//! Rows as diesel reads and writes them, and their conversion to domain types.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use tessera_domain::error::StoreError;
use tessera_domain::model::TokenFingerprint;
use tessera_domain::model::{Authentication, ClientInfo, Session, SessionId};
use tessera_domain::model::{NewUser, PasswordHash, User, UserId};
use tessera_domain::values::{Email, Phone, RoleName, Username};
use uuid::Uuid;

use crate::schema::{sessions, users};

pub(crate) fn naive(t: DateTime<Utc>) -> NaiveDateTime {
    t.naive_utc()
}

pub(crate) fn utc(t: NaiveDateTime) -> DateTime<Utc> {
    t.and_utc()
}

fn corrupt(what: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::Unavailable(format!("unreadable {what} in database: {e}"))
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = users)]
pub(crate) struct UserRow {
    id: i64,
    public_id: String,
    username: String,
    email: String,
    phone: Option<String>,
    password_hash: String,
    role: String,
    is_active: bool,
    email_verified: bool,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
}

impl UserRow {
    pub(crate) fn id(&self) -> i64 {
        self.id
    }
}

impl TryFrom<UserRow> for User {
    type Error = StoreError;

    fn try_from(r: UserRow) -> Result<Self, StoreError> {
        Ok(User {
            id: UserId(r.id),
            public_id: Uuid::parse_str(&r.public_id).map_err(|e| corrupt("users.public_id", e))?,
            username: Username::from_stored(r.username),
            email: Email::from_stored(r.email),
            phone: r.phone.map(Phone::from_stored),
            password_hash: PasswordHash::new(r.password_hash),
            roles: vec![RoleName::from_stored(r.role.clone())],
            role: RoleName::from_stored(r.role),
            is_active: r.is_active,
            email_verified: r.email_verified,
            created_at: utc(r.created_at),
            updated_at: utc(r.updated_at),
        })
    }
}

#[derive(Insertable)]
#[diesel(table_name = users)]
pub(crate) struct NewUserRow<'a> {
    public_id: String,
    username: &'a str,
    email: &'a str,
    phone: Option<&'a str>,
    password_hash: &'a str,
    role: &'a str,
    is_active: bool,
    email_verified: bool,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
    username_canonical: &'a str,
    identifiers_version: i32,
}

/// The `identifiers_version` of rows whose username, e-mail and phone are in
/// their canonical forms (migration `2026-11-29-000007_identifiers`).
pub(crate) const IDENTIFIERS_VERSION: i32 = 1;

impl<'a> From<&'a NewUser> for NewUserRow<'a> {
    fn from(u: &'a NewUser) -> Self {
        Self {
            public_id: u.public_id.to_string(),
            username: u.username.as_str(),
            email: u.email.as_str(),
            phone: u.phone.as_ref().map(Phone::as_str),
            password_hash: u.password_hash.as_str(),
            role: u.role.as_str(),
            is_active: true,
            email_verified: u.email_verified,
            created_at: naive(u.created_at),
            updated_at: naive(u.created_at),
            username_canonical: u.username.canonical(),
            identifiers_version: IDENTIFIERS_VERSION,
        }
    }
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = sessions)]
pub(crate) struct SessionRow {
    id: String,
    user_id: i64,
    generation: i32,
    refresh_fingerprint: String,
    created_at: NaiveDateTime,
    last_used_at: NaiveDateTime,
    rotated_at: Option<NaiveDateTime>,
    expires_at: NaiveDateTime,
    revoked_at: Option<NaiveDateTime>,
    ip: Option<String>,
    user_agent: Option<String>,
    amr: String,
    auth_time: Option<NaiveDateTime>,
    issued_to: Option<String>,
}

impl From<&Session> for SessionRow {
    fn from(s: &Session) -> Self {
        Self {
            id: s.id.0.to_string(),
            user_id: s.user_id.0,
            generation: i32::try_from(s.generation).unwrap_or(i32::MAX),
            refresh_fingerprint: s.refresh_fingerprint.0.clone(),
            created_at: naive(s.created_at),
            last_used_at: naive(s.last_used_at),
            rotated_at: s.rotated_at.map(naive),
            expires_at: naive(s.expires_at),
            revoked_at: s.revoked_at.map(naive),
            ip: s.client.ip.clone(),
            user_agent: s.client.user_agent.clone(),
            amr: s.authentication.methods_text(),
            auth_time: Some(naive(s.authentication.at)),
            issued_to: s.issued_to.as_ref().map(|c| c.as_str().to_owned()),
        }
    }
}

impl TryFrom<SessionRow> for Session {
    type Error = StoreError;

    fn try_from(r: SessionRow) -> Result<Self, StoreError> {
        Ok(Session {
            id: SessionId(Uuid::parse_str(&r.id).map_err(|e| corrupt("sessions.id", e))?),
            user_id: UserId(r.user_id),
            generation: u32::try_from(r.generation)
                .map_err(|e| corrupt("sessions.generation", e))?,
            refresh_fingerprint: TokenFingerprint(r.refresh_fingerprint),
            created_at: utc(r.created_at),
            last_used_at: utc(r.last_used_at),
            rotated_at: r.rotated_at.map(utc),
            expires_at: utc(r.expires_at),
            revoked_at: r.revoked_at.map(utc),
            client: ClientInfo {
                ip: r.ip,
                user_agent: r.user_agent,
            },
            authentication: Authentication {
                at: r.auth_time.map_or_else(|| utc(r.created_at), utc),
                methods: Authentication::methods_from_text(&r.amr),
            },
            issued_to: match r.issued_to {
                Some(c) => Some(
                    tessera_domain::model::ClientId::parse(&c)
                        .ok_or_else(|| corrupt("sessions.issued_to", "not a client id"))?,
                ),
                None => None,
            },
        })
    }
}
