//! Importing another system's users table (JSON lines), keeping their password
//! hashes: each imported hash verifies at login and is then replaced by argon2id.

use chrono::{DateTime, NaiveDateTime, Utc};
use serde::Deserialize;
use uuid::Uuid;

use crate::error::CreateUserError;
use crate::model::{NewUser, PasswordHash};
use crate::ports::{PasswordHasher, UserRepository};
use crate::values::{Email, Phone, PhoneRegion, RoleName, Username, UsernamePolicy};

/// One line of an import file. Unknown fields are ignored.
#[derive(Debug, Deserialize)]
struct Record {
    username: String,
    email: String,
    #[serde(default)]
    phone: Option<serde_json::Value>,
    #[serde(default)]
    role: Option<String>,
    password_hash: String,
    #[serde(default)]
    created_at: Option<String>,
    /// Whether the address was confirmed in the old system (default true:
    /// many users tables record no such flag, or only confirmed users).
    #[serde(default)]
    email_verified: Option<bool>,
    /// The user's UUID in the old system (its `id`), kept so that its
    /// clients see the same id; `public_id` is accepted too. A new one otherwise.
    #[serde(default)]
    id: Option<serde_json::Value>,
    #[serde(default)]
    public_id: Option<String>,
}

/// What became of one line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LineOutcome {
    /// Stored.
    Imported,
    /// A user with this username, email or phone exists already (imports are idempotent).
    Skipped(String),
    /// The line could not be used; the import goes on.
    Failed(String),
}

/// Counts of an import.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ImportSummary {
    /// Lines stored.
    pub imported: usize,
    /// Lines whose user existed.
    pub skipped: usize,
    /// Lines refused.
    pub failed: usize,
}

fn parse_time(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .ok()
        .or_else(|| {
            NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S%.f")
                .ok()
                .map(|t| t.and_utc())
        })
        .or_else(|| {
            NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f")
                .ok()
                .map(|t| t.and_utc())
        })
}

fn record<H: PasswordHasher>(
    hasher: &H,
    line: &str,
    now: DateTime<Utc>,
    default_role: &RoleName,
    region: PhoneRegion,
) -> Result<NewUser, String> {
    let r: Record = serde_json::from_str(line).map_err(|e| format!("not a user record: {e}"))?;
    // Imported accounts exist already: their names are kept whatever
    // `USERNAME_MIN_LENGTH` asks of new ones.
    let username = Username::parse(&r.username, &UsernamePolicy::EXISTING)
        .map_err(|e| format!("username {:?}: {e}", r.username))?;
    let email = Email::parse(&r.email).map_err(|e| format!("email {:?}: {e}", r.email))?;
    let phone = match r.phone {
        None | Some(serde_json::Value::Null) => None,
        Some(serde_json::Value::String(p)) if p.trim().is_empty() => None,
        Some(serde_json::Value::String(p)) => {
            Some(Phone::parse(&p, region).map_err(|e| format!("phone {p:?}: {e}"))?)
        }
        Some(serde_json::Value::Number(n)) => {
            Some(Phone::parse(&n.to_string(), region).map_err(|e| format!("phone {n}: {e}"))?)
        }
        Some(other) => return Err(format!("phone {other}: not a string")),
    };
    let role = match r.role.as_deref().map(str::trim) {
        None | Some("") => default_role.clone(),
        Some(role) => RoleName::parse(role).map_err(|e| format!("role {role:?}: {e}"))?,
    };
    if !hasher.can_verify(&PasswordHash::new(r.password_hash.clone())) {
        return Err("password_hash: not a supported format (sha256/SM3 hex, werkzeug pbkdf2/scrypt, bcrypt, argon2)".into());
    }
    let created_at = match r.created_at.as_deref() {
        None | Some("") => now,
        Some(t) => parse_time(t).ok_or_else(|| format!("created_at {t:?}: not a date and time"))?,
    };
    let uuid = r
        .public_id
        .as_deref()
        .or_else(|| r.id.as_ref().and_then(serde_json::Value::as_str))
        .map(|s| Uuid::parse_str(s.trim()).map_err(|e| format!("id {s:?}: not a UUID: {e}")))
        .transpose()?;
    Ok(NewUser {
        public_id: uuid.unwrap_or_else(Uuid::new_v4),
        username,
        email,
        phone,
        password_hash: PasswordHash::new(r.password_hash),
        role,
        email_verified: r.email_verified.unwrap_or(true),
        created_at,
    })
}

/// Imports one line (empty lines and `#` comments count as nothing).
pub async fn import_line<R: UserRepository, H: PasswordHasher>(
    repo: &R,
    hasher: &H,
    line: &str,
    now: DateTime<Utc>,
    default_role: &RoleName,
    region: PhoneRegion,
) -> Option<LineOutcome> {
    let line = line.trim();
    if line.is_empty() || line.starts_with('#') {
        return None;
    }
    let user = match record(hasher, line, now, default_role, region) {
        Ok(u) => u,
        Err(e) => return Some(LineOutcome::Failed(e)),
    };
    Some(
        match // Imported accounts existed before: no `user.created` is announced.
    repo.create(user, None, &[]).await {
        Ok(_) => LineOutcome::Imported,
        Err(CreateUserError::Duplicate(field)) => {
            LineOutcome::Skipped(format!("{} exists", field.as_str()))
        }
        Err(CreateUserError::Store(e)) => LineOutcome::Failed(e.to_string()),
    },
    )
}

impl ImportSummary {
    /// Counts one outcome.
    pub fn add(&mut self, outcome: &LineOutcome) {
        match outcome {
            LineOutcome::Imported => self.imported += 1,
            LineOutcome::Skipped(_) => self.skipped += 1,
            LineOutcome::Failed(_) => self.failed += 1,
        }
    }
}
