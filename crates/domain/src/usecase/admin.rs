//! Roles, permissions and the administrators' use cases.

use std::sync::Arc;

use chrono::Duration;

use super::{AuthService, CATALOGUE_TTL_SECS};
use crate::clock::Clock as _;
use crate::error::AuthError;
use crate::model::ClientInfo;
use crate::model::{AuditEvent, AuditKind, AuditPage, AuditQuery};
use crate::model::{EventType, PendingEvent};
use crate::model::{Permission, RoleCatalogue};
use crate::model::{User, UserId, UserPage, UserQuery};
use crate::ports::{
    AuditLog as _, FactorStore as _, Ports, UserDirectory as _, UserRepository as _,
};
use crate::validation::{Field, FieldIssue, ValidationErrors};
use crate::values::RoleName;

/// An administrator acting, and from where (for the audit trail).
#[derive(Debug, Clone)]
pub struct Actor {
    /// The administrator; `None` for the operator at the command line.
    pub user: Option<User>,
    /// Where the request came from.
    pub client: ClientInfo,
    /// How and when the administrator's session authenticated (`None` for
    /// the operator): every change needs it recent and at the account's
    /// highest level (`REAUTH_MAX_AGE`; issue 17).
    pub authentication: Option<crate::model::Authentication>,
}

impl Actor {
    /// The operator at the command line (`tessera user …`).
    #[must_use]
    pub fn operator() -> Self {
        Self {
            user: None,
            client: ClientInfo::without_peer(Some("tessera-cli")),
            authentication: None,
        }
    }

    fn is(&self, id: UserId) -> bool {
        self.user.as_ref().is_some_and(|u| u.id == id)
    }

    /// The one rule of who may change whom (issue 12, item 5: "a lower
    /// administrator can act on a higher one"). Reading is never refused
    /// here; every change an administrator makes to an account (disable,
    /// enable, revoke sessions, delete, grant, revoke a role) asks this
    /// first, after the permission of the route was checked.
    ///
    /// - The operator at the command line ([`Actor::operator`]) may change
    ///   anything; their changes are audited as `tessera-cli`.
    /// - An account holding `super_admin` is changed only by a
    ///   `super_admin`, and only a `super_admin` grants or takes away
    ///   `super_admin` — whatever ranks the catalogue holds.
    /// - Otherwise the target's rank (the highest rank of its roles,
    ///   [`RoleCatalogue::highest_rank`]) must not exceed the actor's, and
    ///   neither may the rank of the role granted or revoked (`role`). Equal
    ///   ranks may act on each other.
    ///
    /// # Errors
    /// [`AuthError::Outranked`] when the change is refused.
    pub fn may_change(
        &self,
        catalogue: &RoleCatalogue,
        target: &User,
        role: Option<&RoleName>,
    ) -> Result<(), AuthError> {
        let Some(me) = &self.user else {
            return Ok(());
        };
        if me.is_super_admin() {
            return Ok(());
        }
        let mine = catalogue.highest_rank(&me.roles);
        let above_me = target.is_super_admin()
            || catalogue.highest_rank(&target.roles) > mine
            || role.is_some_and(|r| r.is_super_admin() || catalogue.rank_of(r.as_str()) > mine);
        if above_me {
            Err(AuthError::Outranked)
        } else {
            Ok(())
        }
    }
}

/// Most users one page of the administrators' list holds.
pub const MAX_PAGE_SIZE: u32 = 100;

impl<P: Ports> AuthService<P> {
    /// The role catalogue, read from the store at most every
    /// [`CATALOGUE_TTL_SECS`] seconds.
    ///
    /// # Errors
    /// [`AuthError::Unavailable`].
    pub async fn role_catalogue(&self) -> Result<Arc<RoleCatalogue>, AuthError> {
        let now = self.ports.clock.now();
        if let Ok(guard) = self.catalogue.read()
            && let Some((read_at, c)) = guard.as_ref()
            && now - *read_at < Duration::seconds(CATALOGUE_TTL_SECS)
            && now >= *read_at
        {
            return Ok(Arc::clone(c));
        }
        let fresh = Arc::new(self.ports.users.catalogue().await?);
        if let Ok(mut guard) = self.catalogue.write() {
            *guard = Some((now, Arc::clone(&fresh)));
        }
        Ok(fresh)
    }

    /// Those of `roles` that the store's role catalogue lacks, read now
    /// (the cached catalogue is neither used nor filled): a configured role
    /// that is misspelt matches no account.
    ///
    /// # Errors
    /// [`AuthError::Unavailable`].
    pub async fn roles_missing_from_catalogue<'r>(
        &self,
        roles: &'r [RoleName],
    ) -> Result<Vec<&'r RoleName>, AuthError> {
        let catalogue = self.ports.users.catalogue().await?;
        Ok(roles.iter().filter(|r| !catalogue.contains(r)).collect())
    }

    /// Every permission `user`'s roles grant, sorted.
    ///
    /// # Errors
    /// [`AuthError::Unavailable`].
    pub async fn permissions_of(&self, user: &User) -> Result<Vec<String>, AuthError> {
        Ok(self.role_catalogue().await?.permissions(&user.roles))
    }

    /// `user` (from [`Self::authenticate_user`]), when their roles
    /// grant `permission`.
    ///
    /// # Errors
    /// [`AuthError::Forbidden`], or [`AuthError::Unavailable`] when the role
    /// catalogue cannot be read.
    pub async fn require_permission(
        &self,
        user: User,
        permission: Permission,
    ) -> Result<User, AuthError> {
        if self
            .permissions_of(&user)
            .await?
            .iter()
            .any(|p| p == permission.as_str())
        {
            Ok(user)
        } else {
            Err(AuthError::Forbidden(permission.as_str()))
        }
    }

    /// One page of users; `limit` is capped at [`MAX_PAGE_SIZE`].
    ///
    /// # Errors
    /// [`AuthError::Unavailable`].
    pub async fn list_users(&self, query: &UserQuery) -> Result<UserPage, AuthError> {
        let query = UserQuery {
            search: query
                .search
                .as_deref()
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned),
            offset: query.offset,
            limit: query.limit.clamp(1, MAX_PAGE_SIZE),
            order: query.order,
        };
        Ok(self.ports.users.list(&query).await?)
    }

    /// One page of the audit trail, newest first; `limit` is capped at
    /// [`MAX_PAGE_SIZE`]. The caller's permission (`user:read`) is checked
    /// by the caller, as for [`Self::list_users`].
    ///
    /// # Errors
    /// [`AuthError::Unavailable`] (the store failed, or the trail is written
    /// only).
    pub async fn audit_trail(&self, query: &AuditQuery) -> Result<AuditPage, AuthError> {
        let query = AuditQuery {
            limit: query.limit.clamp(1, MAX_PAGE_SIZE),
            ..query.clone()
        };
        Ok(self.ports.audit.query(&query).await?)
    }

    async fn admin_event(
        &self,
        kind: AuditKind,
        actor: &Actor,
        subject: UserId,
        detail: Option<String>,
    ) {
        self.audit(AuditEvent {
            actor: actor.user.as_ref().map(|u| u.id),
            subject: Some(subject),
            detail,
            ..self.event(kind, &actor.client)
        })
        .await;
    }

    /// The user with this id, when `actor` may change them: an
    /// administrator (not the operator) whose sign-in is recent enough at
    /// their account's highest level (`REAUTH_MAX_AGE`, issue 17), and who
    /// [`Actor::may_change`] the user (with the role granted or revoked).
    ///
    /// # Errors
    /// [`AuthError::ReauthenticationRequired`], [`AuthError::UserNotFound`],
    /// [`AuthError::Outranked`], [`AuthError::Unavailable`].
    async fn changeable_user(
        &self,
        actor: &Actor,
        id: UserId,
        role: Option<&RoleName>,
    ) -> Result<User, AuthError> {
        if let Some(me) = &actor.user {
            let authentication = actor
                .authentication
                .as_ref()
                .ok_or(AuthError::ReauthenticationRequired)?;
            self.require_recent(authentication, me, false).await?;
        }
        let target = self.find_user(id).await?;
        if actor.user.is_some() {
            actor.may_change(&*self.role_catalogue().await?, &target, role)?;
        }
        Ok(target)
    }

    /// Revokes every session of a user, for an administrator.
    ///
    /// # Errors
    /// [`AuthError::ReauthenticationRequired`], [`AuthError::UserNotFound`],
    /// [`AuthError::Outranked`], [`AuthError::Unavailable`].
    pub async fn admin_revoke_sessions(
        &self,
        actor: &Actor,
        id: UserId,
    ) -> Result<usize, AuthError> {
        self.changeable_user(actor, id, None).await?;
        let n = self.revoke_user_sessions(id, None).await?;
        self.admin_event(
            AuditKind::SessionsRevoked,
            actor,
            id,
            Some(format!("{n} sessions")),
        )
        .await;
        Ok(n)
    }

    /// Removes every second factor of a user (the TOTP factor and its
    /// recovery codes), for an administrator: the owner who lost both the
    /// app and the codes signs in with the password again and may enrol
    /// anew. Audited as `factor_removed` (`totp reset_by_administrator`)
    /// and mailed to the account in `locale`; the rank rule applies
    /// ([`Actor::may_change`]), and an administrator's own factors are not
    /// reset this way. Answers whether there was a factor.
    ///
    /// # Errors
    /// [`AuthError::SelfLockout`] (the caller's own account),
    /// [`AuthError::ReauthenticationRequired`], [`AuthError::UserNotFound`],
    /// [`AuthError::Outranked`], [`AuthError::Unavailable`].
    pub async fn admin_reset_factors(
        &self,
        actor: &Actor,
        id: UserId,
        locale: crate::mail::Locale,
    ) -> Result<bool, AuthError> {
        // An administrator's own factors are theirs to change, with a code:
        // a stolen administrator token must not turn them off.
        if actor.is(id) {
            return Err(AuthError::SelfLockout);
        }
        let target = self.changeable_user(actor, id, None).await?;
        let removed = self.ports.factors.remove_all_factors(id).await?;
        if removed {
            self.admin_event(
                AuditKind::FactorRemoved,
                actor,
                id,
                Some("all reset_by_administrator".into()),
            )
            .await;
            self.notice_factor_change(
                &target,
                crate::mail::FactorChange::RemovedByAdministrator,
                locale,
            )
            .await;
        }
        Ok(removed)
    }

    /// The user with this id.
    ///
    /// # Errors
    /// [`AuthError::UserNotFound`], [`AuthError::Unavailable`].
    pub async fn find_user(&self, id: UserId) -> Result<User, AuthError> {
        self.ports
            .users
            .find_by_id(id)
            .await?
            .ok_or(AuthError::UserNotFound)
    }

    /// Enables or disables a user. Disabling revokes every session of the
    /// user at once (their access tokens are refused from then on); enabling
    /// ends any session left from before (a disable whose revocation failed
    /// half-way) before it lifts the flag. An administrator cannot disable
    /// their own account.
    ///
    /// # Errors
    /// [`AuthError::UserNotFound`], [`AuthError::SelfLockout`], [`AuthError::Outranked`],
    /// [`AuthError::ReauthenticationRequired`], [`AuthError::Unavailable`].
    pub async fn set_user_active(
        &self,
        actor: &Actor,
        id: UserId,
        active: bool,
    ) -> Result<User, AuthError> {
        if !active && actor.is(id) {
            return Err(AuthError::SelfLockout);
        }
        self.changeable_user(actor, id, None).await?;
        let now = self.ports.clock.now();
        if active {
            // Sessions first: a disable that failed half-way (flag set, the
            // store of sessions down) left them alive, and enabling must never
            // bring them back. A failure here leaves the account disabled.
            self.revoke_user_sessions(id, None).await?;
            self.ports
                .users
                .set_active(
                    id,
                    true,
                    now,
                    &[PendingEvent::new(EventType::UserEnabled, now)],
                )
                .await?;
            self.admin_event(AuditKind::UserEnabled, actor, id, None)
                .await;
        } else {
            // The flag first: from it on the account is refused everywhere
            // (logins, refreshes, every access token), and recorded as such
            // even if ending its sessions fails; a retry repeats both steps
            // harmlessly, and a login racing with this finds it disabled.
            self.ports
                .users
                .set_active(
                    id,
                    false,
                    now,
                    &[PendingEvent::new(EventType::UserDisabled, now)],
                )
                .await?;
            self.admin_event(AuditKind::UserDisabled, actor, id, None)
                .await;
            self.revoke_user_sessions(id, None).await?;
        }
        self.find_user(id).await
    }

    fn known_role(catalogue: &RoleCatalogue, raw: &str) -> Result<RoleName, AuthError> {
        RoleName::parse(raw)
            .ok()
            .filter(|r| catalogue.contains(r))
            .ok_or_else(|| {
                AuthError::Validation(ValidationErrors::single(
                    "role",
                    FieldIssue::RoleNotAllowed {
                        allowed: catalogue.names().map(str::to_owned).collect(),
                    },
                ))
            })
    }

    /// Deletes a user: every session is revoked first (safe to retry), then
    /// the account and its roles are removed. An administrator cannot delete
    /// their own account.
    ///
    /// # Errors
    /// [`AuthError::UserNotFound`], [`AuthError::SelfLockout`], [`AuthError::Outranked`],
    /// [`AuthError::ReauthenticationRequired`], [`AuthError::Unavailable`].
    pub async fn delete_user(&self, actor: &Actor, id: UserId) -> Result<(), AuthError> {
        if actor.is(id) {
            return Err(AuthError::SelfLockout);
        }
        self.changeable_user(actor, id, None).await?;
        self.revoke_user_sessions(id, None).await?;
        let deleted = [PendingEvent::new(EventType::UserDeleted, self.now())];
        if self.ports.users.delete(id, &deleted).await? {
            self.admin_event(AuditKind::UserDeleted, actor, id, None)
                .await;
            Ok(())
        } else {
            Err(AuthError::UserNotFound)
        }
    }

    /// Grants a role of the catalogue. A role of `MFA_REQUIRED_ROLES` given
    /// to an account without a second factor ends its sessions: its next
    /// sign-in enrols a factor, and until then it has nothing (issue 17).
    ///
    /// # Errors
    /// [`AuthError::Validation`] for a role the catalogue lacks,
    /// [`AuthError::ReauthenticationRequired`], [`AuthError::UserNotFound`],
    /// [`AuthError::Outranked`], [`AuthError::Unavailable`].
    pub async fn grant_role(
        &self,
        actor: &Actor,
        id: UserId,
        role: &str,
    ) -> Result<User, AuthError> {
        let role = Self::known_role(&*self.role_catalogue().await?, role)?;
        self.changeable_user(actor, id, Some(&role)).await?;
        self.ports
            .users
            .grant_role(
                id,
                &role,
                self.ports.clock.now(),
                &[PendingEvent::new(EventType::RoleGranted, self.now()).detail(role.as_str())],
            )
            .await?;
        self.admin_event(
            AuditKind::RoleGranted,
            actor,
            id,
            Some(role.as_str().to_owned()),
        )
        .await;
        let user = self.find_user(id).await?;
        if self.must_have_second_factor(&user)
            && !self.ports.factors.overview(id).await?.has_second_factor()
        {
            self.revoke_user_sessions(id, None).await?;
        }
        Ok(user)
    }

    /// Takes a role away (a user left without roles gets the default role).
    /// An administrator cannot take `super_admin` or `admin` from themselves.
    ///
    /// # Errors
    /// [`AuthError::Validation`] for a malformed role name, [`AuthError::SelfLockout`],
    /// [`AuthError::ReauthenticationRequired`], [`AuthError::UserNotFound`],
    /// [`AuthError::Outranked`], [`AuthError::Unavailable`].
    pub async fn revoke_role(
        &self,
        actor: &Actor,
        id: UserId,
        role: &str,
    ) -> Result<User, AuthError> {
        let role = RoleName::parse(role)
            .map_err(|e| AuthError::Validation(ValidationErrors::single(Field::Role, e)))?;
        if actor.is(id) && (role.is_super_admin() || role.as_str() == "admin") {
            return Err(AuthError::SelfLockout);
        }
        self.changeable_user(actor, id, Some(&role)).await?;
        self.ports
            .users
            .revoke_role(
                id,
                &role,
                &self.settings.default_role,
                self.ports.clock.now(),
                &[PendingEvent::new(EventType::RoleRevoked, self.now()).detail(role.as_str())],
            )
            .await?;
        self.admin_event(
            AuditKind::RoleRevoked,
            actor,
            id,
            Some(role.as_str().to_owned()),
        )
        .await;
        self.find_user(id).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::PasswordHash;
    use crate::values::{Email, Username};

    fn user(id: i64, roles: &[&str]) -> User {
        let roles: Vec<RoleName> = roles
            .iter()
            .map(|r| RoleName::from_stored((*r).to_owned()))
            .collect();
        User {
            id: UserId(id),
            public_id: uuid::Uuid::nil(),
            username: Username::parse(
                &format!("user{id}"),
                &crate::values::UsernamePolicy::default(),
            )
            .unwrap(),
            email: Email::parse(&format!("user{id}@example.com")).unwrap(),
            phone: None,
            password_hash: PasswordHash::new(String::new()),
            role: roles[0].clone(),
            roles,
            is_active: true,
            email_verified: true,
            created_at: chrono::DateTime::UNIX_EPOCH,
            updated_at: chrono::DateTime::UNIX_EPOCH,
        }
    }

    fn actor(u: User) -> Actor {
        Actor {
            user: Some(u),
            client: ClientInfo::without_peer(None),
            authentication: None,
        }
    }

    fn role(r: &str) -> RoleName {
        RoleName::from_stored(r.to_owned())
    }

    /// Issue 12, item 5: each case of [`Actor::may_change`].
    #[test]
    fn only_an_active_user_may_act() {
        let mut u = user(1, &["user"]);
        assert!(u.ensure_active().is_ok());
        u.is_active = false;
        assert!(matches!(u.ensure_active(), Err(AuthError::AccountDisabled)));
    }

    #[test]
    fn may_change_follows_the_ranks() {
        let builtin = RoleCatalogue::builtin();
        let c = RoleCatalogue::from_pairs(
            builtin
                .names()
                .map(|n| (n.to_owned(), None))
                .chain([("chief".to_owned(), None)])
                .collect::<Vec<_>>(),
        )
        .with_ranks([
            ("super_admin".to_owned(), 100),
            ("admin".to_owned(), 50),
            ("chief".to_owned(), 80),
        ]);
        let root = user(1, &["super_admin"]);
        let root2 = user(2, &["super_admin"]);
        let admin = actor(user(3, &["user", "admin"]));
        let peer = user(4, &["admin"]);
        let alice = user(5, &["user"]);
        let chief = user(6, &["chief"]);
        let refused = |r: Result<(), AuthError>| matches!(r, Err(AuthError::Outranked));

        assert!(refused(admin.may_change(&c, &root, None)));
        assert!(refused(admin.may_change(&c, &chief, None)));
        assert!(admin.may_change(&c, &peer, None).is_ok(), "equal rank");
        assert!(admin.may_change(&c, &alice, None).is_ok(), "lower rank");
        assert!(admin.may_change(&c, &alice, Some(&role("admin"))).is_ok());
        assert!(refused(admin.may_change(&c, &alice, Some(&role("chief")))));
        assert!(refused(admin.may_change(
            &c,
            &alice,
            Some(&role("super_admin"))
        )));
        // super_admin is above everyone but super_admins, whatever its rank.
        let flat = c.clone().with_ranks([("super_admin".to_owned(), 0)]);
        assert!(refused(admin.may_change(&flat, &root, None)));
        assert!(refused(admin.may_change(
            &flat,
            &alice,
            Some(&role("super_admin"))
        )));
        assert!(
            actor(root)
                .may_change(&flat, &root2, Some(&role("super_admin")))
                .is_ok()
        );
        assert!(Actor::operator().may_change(&c, &root2, None).is_ok());
    }
}
