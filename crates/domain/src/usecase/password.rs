//! Changing one's password, and storing a new password hash.

use super::{AuthService, Authenticated, required};
use crate::error::AuthError;
use crate::mail::{Locale, MailKind, compose};
use crate::model::AuditKind;
use crate::model::User;
use crate::model::{EventType, PendingEvent};
use crate::ports::{CodeStore as _, PasswordHasher, Ports, RefreshTokenCodec, UserRepository};
use crate::validation::{Field, ValidationErrors};
use crate::values::{Password, PasswordAttempt};

impl<P: Ports> AuthService<P> {
    /// Changes the password of the token's user. The asking session stays
    /// valid; every other session of the user is revoked. A wrong
    /// `old_password` counts as a failed login of the account from the
    /// caller's IP, in the same throttle as the login. For an account with a
    /// second factor it needs a sign-in within `REAUTH_MAX_AGE` at assurance
    /// level 2 (issue 17); for one without, the current password it proves
    /// is that fresh authentication.
    ///
    /// # Errors
    /// [`AuthError::Validation`], [`AuthError::ReauthenticationRequired`],
    /// [`AuthError::WrongPassword`], [`AuthError::SamePassword`],
    /// [`AuthError::TooManyRequests`] while the account's login throttle is closed,
    /// [`AuthError::Busy`], [`AuthError::Unavailable`].
    pub async fn change_password(
        &self,
        auth: &Authenticated,
        old_password: Option<&str>,
        new_password: Option<&str>,
        locale: Locale,
    ) -> Result<(), AuthError> {
        let mut errors = ValidationErrors::new();
        let old = errors.check(
            Field::OldPassword,
            required(old_password).and_then(PasswordAttempt::parse),
        );
        let new = errors.check(
            Field::NewPassword,
            required(new_password).and_then(|p| Password::parse(p, &self.settings.password_policy)),
        );
        let (Some(old), Some(new)) = (old, new) else {
            return Err(errors.into());
        };
        let user = self.current_user(auth).await?;
        // A sensitive action (issue 17): the current password this request
        // proves is a fresh authentication for an account without a second
        // factor; one with a factor needs a recent aal2 sign-in first, so a
        // stolen session plus a phished password take nothing over.
        self.require_recent(&auth.claims.authentication, &user, true)
            .await?;
        // A token holder must not guess the current password without limit:
        // a wrong one counts in the account's login throttle (issue 14, item 4).
        self.prove_credential(&user, &old, &auth.client).await?;
        if old.expose() == new.expose() {
            return Err(AuthError::SamePassword);
        }
        new.screen(
            &self.settings.password_policy,
            user.username.as_str(),
            user.email.as_str(),
        )
        .map_err(|issue| ValidationErrors::single(Field::NewPassword, issue))?;
        let hash = self.ports.hasher.hash(&PasswordAttempt::from(new)).await?;
        // Revoke the other sessions first: if the update then fails, the
        // password is unchanged and a retry with the old password works.
        // Once more after the update: a login that verified the old
        // password while this ran opened its session either before this
        // second sweep or after the new hash was stored, which it then sees
        // (`credentials_unchanged`).
        self.revoke_user_sessions(user.id, Some(auth.session_id()))
            .await?;
        self.store_password(&user, &hash, locale, EventType::UserPasswordChanged)
            .await?;
        self.revoke_user_sessions(user.id, Some(auth.session_id()))
            .await?;
        self.audit(self.by_self(AuditKind::PasswordChanged, auth, None))
            .await;
        Ok(())
    }

    /// Stores a new password hash with its notice mail and the `event`
    /// (`user.password_changed` or `user.password_reset`), in one transaction.
    pub(super) async fn store_password(
        &self,
        user: &User,
        hash: &crate::model::PasswordHash,
        locale: Locale,
        event: EventType,
    ) -> Result<(), AuthError> {
        let now = self.now();
        let kind = MailKind::PasswordChanged {
            username: user.username.as_str().to_owned(),
            at: now,
        };
        let notice = compose(&kind, &user.email, locale, &self.settings.mail);
        self.ports
            .users
            .update_password(
                user.id,
                hash,
                now,
                Some(&notice),
                &[PendingEvent::new(event, now)],
            )
            .await?;
        // Every outstanding reset code of the account, on every channel, is
        // void now (OWASP Forgot Password cheat sheet; issue 12, item 2): each
        // was bound to the old hash (see `password_stamp`), and is removed too.
        let mut contacts = vec![user.email.as_str()];
        contacts.extend(user.phone.as_ref().map(crate::values::Phone::as_str));
        for contact in contacts {
            self.ports
                .codes
                .take(crate::model::CodePurpose::ResetPassword, contact)
                .await?;
        }
        Ok(())
    }

    /// What a password-reset code is bound to: a keyed fingerprint of the
    /// account's password hash when the code was issued. A code whose stamp
    /// no longer matches was issued before a password change and is void.
    pub(crate) fn password_stamp(&self, user: &User) -> String {
        self.hash_stamp(&user.password_hash)
    }

    /// The stamp of a password `hash` ([`Self::password_stamp`]): also what
    /// a waiting second-factor step is bound to.
    pub(crate) fn hash_stamp(&self, hash: &crate::model::PasswordHash) -> String {
        self.ports
            .codec
            .keyed_fingerprint(&format!("password:{}", hash.as_str()))
            .0
    }
}
