//! Changing an account's e-mail address or phone number (issue 20): what
//! the store writes and what a revert link restores.

use crate::values::{Email, Phone, PhoneRegion};

/// Which contact of an account a change is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ContactKind {
    /// The e-mail address (login identifier, recovery channel, `email` of every dialect).
    Email,
    /// The phone number (login identifier, reset by SMS).
    Phone,
}

impl ContactKind {
    /// `email` or `phone`: the word used in stored bindings, audit details and
    /// the wire.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Email => "email",
            Self::Phone => "phone",
        }
    }
}

/// A new value for one contact of an account, as the store writes it
/// ([`crate::ports::UserRepository::change_contact`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ContactChange {
    /// A new e-mail address, in canonical form; it counts as verified (its
    /// owner proved it with a code, or it is the address a revert restores).
    Email(Email),
    /// A new phone number (E.164), or none.
    Phone(Option<Phone>),
}

impl ContactChange {
    /// Which contact it changes.
    #[must_use]
    pub const fn kind(&self) -> ContactKind {
        match self {
            Self::Email(_) => ContactKind::Email,
            Self::Phone(_) => ContactKind::Phone,
        }
    }

    /// The value as stored (`-` for no phone number).
    #[must_use]
    pub fn value_text(&self) -> &str {
        match self {
            Self::Email(e) => e.as_str(),
            Self::Phone(Some(p)) => p.as_str(),
            Self::Phone(None) => "-",
        }
    }
}

/// What a revert link restores: the account's contact as it was before a
/// change (issue 20: the old address may undo a change for 7 days).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContactRevert {
    /// The account (its store id).
    pub user: super::UserId,
    /// The account's public id (so that a reused store id never matches).
    pub user_public_id: uuid::Uuid,
    /// The value to restore.
    pub restore: ContactChange,
    /// The value the change put in its place (shown on the revert page).
    pub replaced_by: String,
}

impl ContactRevert {
    /// The text kept with the link: `<id> <public id> <kind> <restore> <replaced by>`.
    #[must_use]
    pub fn to_text(&self) -> String {
        format!(
            "{} {} {} {} {}",
            self.user.0,
            self.user_public_id,
            self.restore.kind().as_str(),
            self.restore.value_text(),
            self.replaced_by
        )
    }

    /// The revert kept as `text` ([`Self::to_text`]); `None` when it does not read.
    #[must_use]
    pub fn from_text(text: &str, region: PhoneRegion) -> Option<Self> {
        let mut parts = text.split(' ');
        let user = super::UserId(parts.next()?.parse().ok()?);
        let user_public_id = parts.next()?.parse().ok()?;
        let kind = parts.next()?;
        let value = parts.next()?;
        let replaced_by = parts.next()?.to_owned();
        let restore = match (kind, value) {
            ("email", v) => ContactChange::Email(Email::parse(v).ok()?),
            ("phone", "-") => ContactChange::Phone(None),
            ("phone", v) => ContactChange::Phone(Some(Phone::parse(v, region).ok()?)),
            _ => return None,
        };
        parts.next().is_none().then_some(Self {
            user,
            user_public_id,
            restore,
            replaced_by,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_revert_reads_back_as_written() {
        let region = PhoneRegion::default();
        for restore in [
            ContactChange::Email(Email::parse("old@example.com").unwrap()),
            ContactChange::Phone(None),
            ContactChange::Phone(Some(Phone::parse("+8613800138000", region).unwrap())),
        ] {
            let revert = ContactRevert {
                user: super::super::UserId(7),
                user_public_id: uuid::Uuid::from_u128(9),
                restore,
                replaced_by: "new@example.com".into(),
            };
            assert_eq!(
                ContactRevert::from_text(&revert.to_text(), region),
                Some(revert)
            );
        }
        assert_eq!(ContactRevert::from_text("7 x email a@b.c d", region), None);
        assert_eq!(ContactRevert::from_text("", region), None);
    }
}
