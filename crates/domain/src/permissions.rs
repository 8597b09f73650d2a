//! Roles and the permissions they grant.
//!
//! The catalogue lives in the store (tables `roles` and `role_permissions`,
//! seeded by the migrations with [`RoleCatalogue::seeded`]); `super_admin`
//! always holds every permission, whatever the tables say.

use std::collections::BTreeMap;

use crate::newtypes::RoleName;

/// Every permission Tessera knows.
pub const ALL_PERMISSIONS: &[&str] = &[
    "profile:read",
    "profile:update",
    "user:read",
    "user:create",
    "user:update",
    "user:delete",
    "role:read",
    "role:update",
    "session:revoke",
];

/// What every ordinary role may do.
pub const BASE_PERMISSIONS: &[&str] = &["profile:read", "profile:update"];

/// The roles seed 003 lets a user pick at registration.
pub const DEFAULT_REGISTRABLE_ROLES: &[&str] =
    &["pharmacy", "supplier", "logistics", "regulator", "unauth"];

/// The role given when registration names none (seed 003's default).
pub const DEFAULT_ROLE: &str = "unauth";

/// What an administrator (`admin`) may do besides the base permissions.
pub const ADMIN_PERMISSIONS: &[&str] = &["user:read", "user:update", "role:read", "session:revoke"];

/// Every role and the permissions it grants.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RoleCatalogue {
    roles: BTreeMap<String, Vec<String>>,
}

impl RoleCatalogue {
    /// A catalogue of `(role, permission)` pairs (a role without permissions
    /// comes as `(role, None)`).
    #[must_use]
    pub fn from_pairs(pairs: impl IntoIterator<Item = (String, Option<String>)>) -> Self {
        let mut roles: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for (role, permission) in pairs {
            let entry = roles.entry(role).or_default();
            if let Some(p) = permission
                && !entry.contains(&p)
            {
                entry.push(p);
            }
        }
        for perms in roles.values_mut() {
            perms.sort();
        }
        Self { roles }
    }

    /// The catalogue the migrations seed: `super_admin` (everything), `admin`
    /// (reads and updates users, revokes sessions), seed 003's roles and
    /// `user` (their own profile).
    #[must_use]
    pub fn seeded() -> Self {
        let mut pairs = Vec::new();
        for p in ALL_PERMISSIONS {
            pairs.push((RoleName::SUPER_ADMIN.to_owned(), Some((*p).to_owned())));
        }
        for p in BASE_PERMISSIONS.iter().chain(ADMIN_PERMISSIONS) {
            pairs.push(("admin".to_owned(), Some((*p).to_owned())));
        }
        for role in DEFAULT_REGISTRABLE_ROLES.iter().chain(&["user"]) {
            for p in BASE_PERMISSIONS {
                pairs.push(((*role).to_owned(), Some((*p).to_owned())));
            }
        }
        Self::from_pairs(pairs)
    }

    /// True when the catalogue knows `role`.
    #[must_use]
    pub fn contains(&self, role: &RoleName) -> bool {
        self.roles.contains_key(role.as_str())
    }

    /// The role names, sorted.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.roles.keys().map(String::as_str)
    }

    /// The permissions of one role (sorted; empty for an unknown role).
    #[must_use]
    pub fn permissions_of(&self, role: &str) -> &[String] {
        self.roles.get(role).map_or(&[], Vec::as_slice)
    }

    /// The union of the permissions of `roles`, sorted; every known
    /// permission when one of them is `super_admin`.
    #[must_use]
    pub fn permissions(&self, roles: &[RoleName]) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for role in roles {
            if role.is_super_admin() {
                out.extend(ALL_PERMISSIONS.iter().map(|p| (*p).to_owned()));
            }
            out.extend(self.permissions_of(role.as_str()).iter().cloned());
        }
        out.sort();
        out.dedup();
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn role(s: &str) -> RoleName {
        RoleName::from_stored(s.to_owned())
    }

    #[test]
    fn super_admin_holds_everything_and_roles_add_up() {
        let c = RoleCatalogue::seeded();
        assert_eq!(
            c.permissions(&[role("super_admin")]).len(),
            ALL_PERMISSIONS.len()
        );
        assert_eq!(
            c.permissions(&[role("pharmacy")]),
            vec!["profile:read", "profile:update"]
        );
        let both = c.permissions(&[role("pharmacy"), role("admin")]);
        assert!(both.contains(&"user:update".to_owned()));
        assert!(!both.contains(&"user:delete".to_owned()));
        assert!(c.permissions(&[role("nobody")]).is_empty());
        assert!(c.contains(&role("regulator")) && !c.contains(&role("nobody")));
    }
}
