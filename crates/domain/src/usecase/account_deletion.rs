//! "Delete my account" (issue 20): the holder asks, after a recent
//! authentication; every session ends and, after `ACCOUNT_DELETION_GRACE`
//! (default 7 days), the account and everything kept about it is removed
//! ([`crate::ports::UserRepository::delete`]). Signing in before then
//! cancels it ([`AuthService::cancel_scheduled_deletion`], called wherever a
//! session opens, so every dialect's sign-in does). A grace of zero deletes
//! at once. Administrators still delete at once (`delete_user`).

use chrono::{DateTime, Utc};

use super::{AuthService, Authenticated};
use crate::error::AuthError;
use crate::mail::{Locale, MailKind};
use crate::model::{AuditEvent, AuditKind, ClientInfo, EventType, PendingEvent, User};
use crate::ports::{Ports, UserDirectory, UserRepository};

/// Accounts deleted per sweep ([`AuthService::delete_due_accounts`]).
pub const DELETION_SWEEP_BATCH: u32 = 100;

/// What became of a deletion request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccountDeletion {
    /// The account will be deleted at this time unless its holder signs in first.
    Scheduled {
        /// When.
        due_at: DateTime<Utc>,
    },
    /// The account is gone (`ACCOUNT_DELETION_GRACE` is zero).
    Deleted,
}

impl<P: Ports> AuthService<P> {
    /// The holder's request to delete the account of `auth`: it needs an
    /// authentication within `REAUTH_MAX_AGE`, at the second-factor level
    /// once the account has a factor. Every session of the account ends
    /// (this one too), the holder is mailed when it will happen, and it is
    /// audited (`account_deletion_requested`). Asking again moves the date.
    /// The notice goes out in `locale`.
    ///
    /// # Errors
    /// [`AuthError::SelfLockout`] for an account holding `super_admin`,
    /// [`AuthError::ReauthenticationRequired`], [`AuthError::UserNotFound`]
    /// when the account is gone, [`AuthError::Unavailable`].
    pub async fn request_account_deletion(
        &self,
        auth: &Authenticated,
        locale: Locale,
    ) -> Result<AccountDeletion, AuthError> {
        let user = self
            .ports
            .users
            .find_by_id(auth.user_id())
            .await?
            .ok_or(AuthError::UserNotFound)?;
        // As an administrator cannot delete their own account through the
        // admin API: a super administrator leaving could leave none. Another
        // administrator revokes the role or deletes the account.
        if user.is_super_admin() {
            return Err(AuthError::SelfLockout);
        }
        self.require_recent_authentication(auth, &user).await?;
        let now = self.now();
        let grace = self.settings.account_deletion_grace;
        if grace <= chrono::Duration::zero() {
            self.revoke_user_sessions(user.id, None).await?;
            let deleted = [PendingEvent::new(EventType::UserDeleted, now)];
            if !self.ports.users.delete(user.id, &deleted).await? {
                return Err(AuthError::UserNotFound);
            }
            self.audit(AuditEvent {
                subject: Some(user.id),
                detail: Some("holder".to_owned()),
                ..self.event(AuditKind::UserDeleted, &ClientInfo::without_peer(None))
            })
            .await;
            return Ok(AccountDeletion::Deleted);
        }
        let due_at = now + grace;
        if !self
            .ports
            .users
            .schedule_deletion(user.id, now, due_at)
            .await?
        {
            return Err(AuthError::UserNotFound);
        }
        // Scheduled first: a failure here leaves a schedule that the retry
        // replaces, never sessions ended for a deletion that was not asked.
        self.revoke_user_sessions(user.id, None).await?;
        self.send_notice(
            &user,
            &MailKind::AccountDeletionScheduled {
                username: user.username.as_str().to_owned(),
                due_at,
            },
            locale,
        )
        .await;
        let detail = Some(due_at.format("%Y-%m-%dT%H:%M:%SZ").to_string());
        self.audit(self.by_self(AuditKind::AccountDeletionRequested, auth, detail))
            .await;
        Ok(AccountDeletion::Scheduled { due_at })
    }

    /// Cancels `user`'s scheduled deletion, if there is one: a sign-in in
    /// its grace period (issue 20). Mails the holder and audits
    /// (`account_deletion_cancelled`) when it cancelled something.
    ///
    /// # Errors
    /// [`AuthError::Unavailable`] when the store fails (the sign-in fails
    /// with it: a sign-in that could not cancel must not look as if it had).
    pub(super) async fn cancel_scheduled_deletion(
        &self,
        user: &User,
        client: &ClientInfo,
    ) -> Result<(), AuthError> {
        if self.ports.users.deletion_due_at(user.id).await?.is_none()
            || !self.ports.users.cancel_deletion(user.id).await?
        {
            return Ok(());
        }
        let now = self.now();
        self.send_notice(
            user,
            &MailKind::AccountDeletionCancelled {
                username: user.username.as_str().to_owned(),
                at: now,
            },
            self.settings.mail.default_locale,
        )
        .await;
        self.audit(AuditEvent {
            actor: Some(user.id),
            subject: Some(user.id),
            ..self.event(AuditKind::AccountDeletionCancelled, client)
        })
        .await;
        Ok(())
    }

    /// When the account's scheduled deletion is due, if one is (the
    /// account page and the admin console show it).
    ///
    /// # Errors
    /// [`AuthError::Unavailable`].
    pub async fn scheduled_deletion(
        &self,
        user: crate::model::UserId,
    ) -> Result<Option<DateTime<Utc>>, AuthError> {
        Ok(self.ports.users.deletion_due_at(user).await?)
    }

    /// Deletes up to [`DELETION_SWEEP_BATCH`] accounts whose grace period
    /// has ended; returns how many. Each goes as an administrator's delete
    /// does (the account and everything kept about it, `user.deleted` queued
    /// in the same transaction; then any session kept elsewhere), audited as
    /// `user_deleted` with detail `grace_period_ended`. The server's worker
    /// calls this every 5 seconds.
    ///
    /// # Errors
    /// [`AuthError::Unavailable`] when a store fails.
    pub async fn delete_due_accounts(&self) -> Result<usize, AuthError> {
        let now = self.now();
        let mut deleted = 0;
        for id in self
            .ports
            .users
            .deletions_due(now, DELETION_SWEEP_BATCH)
            .await?
        {
            let events = [PendingEvent::new(EventType::UserDeleted, now)];
            // The conditional delete decides: a sign-in that cancelled the
            // schedule first keeps the account and its new session.
            if self.ports.users.delete_if_due(id, now, &events).await? {
                // Sessions kept outside the user store (Redis) end after:
                // every one was ended at the request, and a sign-in since
                // would have cancelled, so only a racing one can be left.
                self.revoke_user_sessions(id, None).await?;
                self.audit(AuditEvent {
                    subject: Some(id),
                    detail: Some("grace_period_ended".to_owned()),
                    ..self.event(AuditKind::UserDeleted, &ClientInfo::without_peer(None))
                })
                .await;
                deleted += 1;
            }
        }
        Ok(deleted)
    }
}
