//! Roles and the permissions they grant.
//!
//! The catalogue lives in the store (tables `roles` and `role_permissions`,
//! filled by the migrations with [`RoleCatalogue::builtin`] and whatever
//! roles a deployment seeds besides, which are data, not domain); `super_admin`
//! always holds every permission, whatever the tables say.
//!
//! Every role also has a rank (`roles.rank`, migration
//! `2026-11-29-000008_role_ranks`): an administrator may change only
//! accounts and roles that rank no higher than their own highest role
//! (issue 12, item 5; see `AuthService::may_change`).

use std::collections::BTreeMap;

use crate::values::RoleName;

/// A permission a role grants, `<resource>:<action>`: one of the typed
/// constants below (the store's catalogue uses the same names).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Permission(&'static str);

impl Permission {
    /// Read one's own profile.
    pub const PROFILE_READ: Self = Self("profile:read");
    /// Update one's own profile.
    pub const PROFILE_UPDATE: Self = Self("profile:update");
    /// List and read users.
    pub const USER_READ: Self = Self("user:read");
    /// Create users.
    pub const USER_CREATE: Self = Self("user:create");
    /// Enable and disable users.
    pub const USER_UPDATE: Self = Self("user:update");
    /// Delete users.
    pub const USER_DELETE: Self = Self("user:delete");
    /// Read the role catalogue.
    pub const ROLE_READ: Self = Self("role:read");
    /// Grant and revoke roles.
    pub const ROLE_UPDATE: Self = Self("role:update");
    /// End other users' sessions.
    pub const SESSION_REVOKE: Self = Self("session:revoke");
    /// Register, change and delete the OpenID Provider's clients (issue 18).
    pub const CLIENT_MANAGE: Self = Self("client:manage");

    /// The name, as the catalogue stores it (`user:read`).
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        self.0
    }
}

/// Every permission Tessera knows.
pub const ALL_PERMISSIONS: &[&str] = &[
    Permission::PROFILE_READ.as_str(),
    Permission::PROFILE_UPDATE.as_str(),
    Permission::USER_READ.as_str(),
    Permission::USER_CREATE.as_str(),
    Permission::USER_UPDATE.as_str(),
    Permission::USER_DELETE.as_str(),
    Permission::ROLE_READ.as_str(),
    Permission::ROLE_UPDATE.as_str(),
    Permission::SESSION_REVOKE.as_str(),
    Permission::CLIENT_MANAGE.as_str(),
];

/// What every ordinary role may do.
pub const BASE_PERMISSIONS: &[&str] = &[
    Permission::PROFILE_READ.as_str(),
    Permission::PROFILE_UPDATE.as_str(),
];

/// The roles a user may pick at registration unless configured otherwise
/// ([`crate::AuthSettings::registrable_roles`]): [`DEFAULT_ROLE`] alone.
pub const DEFAULT_REGISTRABLE_ROLES: &[&str] = &[DEFAULT_ROLE];

/// The role given when registration names none, unless configured otherwise
/// ([`crate::AuthSettings::default_role`]).
pub const DEFAULT_ROLE: &str = "user";

/// What an administrator (`admin`) may do besides the base permissions.
pub const ADMIN_PERMISSIONS: &[&str] = &[
    Permission::USER_READ.as_str(),
    Permission::USER_UPDATE.as_str(),
    Permission::ROLE_READ.as_str(),
    Permission::SESSION_REVOKE.as_str(),
];

/// Rank of `super_admin` in the built-in catalogue.
pub const SUPER_ADMIN_RANK: i32 = 100;

/// Rank of `admin` in the built-in catalogue.
pub const ADMIN_RANK: i32 = 50;

/// Every role, the permissions it grants and its rank.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RoleCatalogue {
    roles: BTreeMap<String, Vec<String>>,
    ranks: BTreeMap<String, i32>,
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
        Self {
            roles,
            ranks: BTreeMap::new(),
        }
    }

    /// This catalogue with the ranks of `(role, rank)` pairs; a role left
    /// out ranks 0, a pair naming no role of the catalogue is ignored.
    #[must_use]
    pub fn with_ranks(mut self, ranks: impl IntoIterator<Item = (String, i32)>) -> Self {
        for (role, rank) in ranks {
            if self.roles.contains_key(&role) {
                self.ranks.insert(role, rank);
            }
        }
        self
    }

    /// The rank of one role (0 when unranked or unknown).
    #[must_use]
    pub fn rank_of(&self, role: &str) -> i32 {
        self.ranks.get(role).copied().unwrap_or(0)
    }

    /// The rank of an account: the highest rank of its `roles` (0 for none).
    #[must_use]
    pub fn highest_rank(&self, roles: &[RoleName]) -> i32 {
        roles
            .iter()
            .map(|r| self.rank_of(r.as_str()))
            .max()
            .unwrap_or(0)
    }

    /// The neutral catalogue every store starts from: `super_admin`
    /// (everything, rank [`SUPER_ADMIN_RANK`]), `admin` (reads and updates
    /// users, revokes sessions, rank [`ADMIN_RANK`]) and [`DEFAULT_ROLE`]
    /// (`user`: their own profile, [`BASE_PERMISSIONS`], rank 0). A
    /// deployment's own roles (the migrations seed more) come from its store.
    #[must_use]
    pub fn builtin() -> Self {
        let mut pairs = Vec::new();
        for p in ALL_PERMISSIONS {
            pairs.push((RoleName::SUPER_ADMIN.to_owned(), Some((*p).to_owned())));
        }
        for p in BASE_PERMISSIONS.iter().chain(ADMIN_PERMISSIONS) {
            pairs.push(("admin".to_owned(), Some((*p).to_owned())));
        }
        for p in BASE_PERMISSIONS {
            pairs.push((DEFAULT_ROLE.to_owned(), Some((*p).to_owned())));
        }
        Self::from_pairs(pairs).with_ranks([
            (RoleName::SUPER_ADMIN.to_owned(), SUPER_ADMIN_RANK),
            ("admin".to_owned(), ADMIN_RANK),
        ])
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
        let c = RoleCatalogue::builtin();
        assert_eq!(
            c.permissions(&[role("super_admin")]).len(),
            ALL_PERMISSIONS.len()
        );
        assert_eq!(
            c.permissions(&[role("user")]),
            vec!["profile:read", "profile:update"]
        );
        let both = c.permissions(&[role("user"), role("admin")]);
        assert!(both.contains(&"user:update".to_owned()));
        assert!(!both.contains(&"user:delete".to_owned()));
        assert!(c.permissions(&[role("nobody")]).is_empty());
        assert!(c.contains(&role("user")) && !c.contains(&role("nobody")));
        assert_eq!(
            c.names().collect::<Vec<_>>(),
            ["admin", "super_admin", "user"]
        );
    }

    #[test]
    fn an_account_ranks_as_its_highest_role() {
        let c = RoleCatalogue::builtin();
        assert_eq!(c.rank_of("super_admin"), SUPER_ADMIN_RANK);
        assert_eq!(c.highest_rank(&[role("user"), role("admin")]), ADMIN_RANK);
        assert_eq!(c.highest_rank(&[role("user")]), 0);
        assert_eq!(c.highest_rank(&[]), 0);
        assert_eq!(c.rank_of("nobody"), 0);
        let c = c.with_ranks([("ghost".to_owned(), 7), ("user".to_owned(), 3)]);
        assert_eq!((c.rank_of("ghost"), c.rank_of("user")), (0, 3));
    }
}
