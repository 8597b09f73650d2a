//! Registration with a username, an e-mail address and a password: the
//! account starts unverified and a verification mail is queued with it.

use super::{AuthService, required};
use crate::clock::IdSource;
use crate::error::AuthError;
use crate::mail::Locale;
use crate::model::ClientInfo;
use crate::model::{EventType, PendingEvent};
use crate::model::{NewUser, User};
use crate::ports::{PasswordHasher, Ports, UserRepository};
use crate::settings::LinkKind;
use crate::validation::{Field, FieldIssue, ValidationErrors};
use crate::values::{Email, Login, Password, PasswordAttempt, Phone, RoleName, Username};

/// Registration input as it arrived, before any checks.
#[derive(Debug, Clone, Default)]
pub struct RegistrationForm {
    /// `username`
    pub username: Option<String>,
    /// `email`
    pub email: Option<String>,
    /// `password`
    pub password: Option<String>,
    /// `phone`
    pub phone: Option<String>,
    /// `role`
    pub role: Option<String>,
}

/// Registration input once every field has been checked.
#[derive(Debug, Clone)]
pub struct Registration {
    /// Username.
    pub username: Username,
    /// Email.
    pub email: Email,
    /// Password.
    pub password: Password,
    /// Phone.
    pub phone: Option<Phone>,
    /// Role.
    pub role: RoleName,
}

impl<P: Ports> AuthService<P> {
    /// Checks every field of a registration at once.
    ///
    /// # Errors
    /// [`ValidationErrors`] naming every refused field.
    pub fn parse_registration(
        &self,
        form: &RegistrationForm,
    ) -> Result<Registration, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        let username = errors.check(
            Field::Username,
            required(form.username.as_deref())
                .and_then(|u| Username::parse(u, &self.settings.username_policy)),
        );
        let email = errors.check(
            Field::Email,
            required(form.email.as_deref()).and_then(Email::parse),
        );
        let password = errors.check(
            Field::Password,
            required(form.password.as_deref())
                .and_then(|p| Password::parse(p, &self.settings.password_policy)),
        );
        let phone = match form.phone.as_deref().map(str::trim) {
            None | Some("") => Some(None),
            Some(p) => errors.check(
                Field::Phone,
                Phone::parse(p, self.settings.phone_region).map(Some),
            ),
        };
        let role = match form.role.as_deref().map(str::trim) {
            None | Some("") => Some(self.settings.default_role.clone()),
            Some(r) => errors.check(
                Field::Role,
                RoleName::parse(r)
                    .ok()
                    .filter(|r| self.settings.registrable_roles.contains(r))
                    .ok_or_else(|| FieldIssue::RoleNotAllowed {
                        allowed: self
                            .settings
                            .registrable_roles
                            .iter()
                            .map(|r| r.as_str().to_owned())
                            .collect(),
                    }),
            ),
        };
        // Screened with the username and address as parsed, or as sent when
        // they were refused, so one answer names every problem.
        if let Some(p) = &password {
            let name = username.as_ref().map_or_else(
                || form.username.as_deref().unwrap_or_default(),
                Username::as_str,
            );
            let address = email
                .as_ref()
                .map_or_else(|| form.email.as_deref().unwrap_or_default(), Email::as_str);
            if let Err(issue) = p.screen(&self.settings.password_policy, name, address) {
                errors.add(Field::Password, issue);
            }
        }
        match (username, email, password, phone, role) {
            (Some(username), Some(email), Some(password), Some(phone), Some(role))
                if errors.is_empty() =>
            {
                Ok(Registration {
                    username,
                    email,
                    password,
                    phone,
                    role,
                })
            }
            _ => Err(errors),
        }
    }

    /// Creates an account, its address unverified, and queues the
    /// verification mail (a code and a link of kind `link`) with it.
    ///
    /// # Errors
    /// [`AuthError::Validation`], [`AuthError::Conflict`], [`AuthError::Busy`],
    /// [`AuthError::Unavailable`].
    pub async fn register(
        &self,
        form: &RegistrationForm,
        locale: Locale,
        link: LinkKind,
    ) -> Result<User, AuthError> {
        let reg = self.parse_registration(form)?;
        // Checked before codes are issued, so that a registration with a taken
        // address never replaces that account's pending code (the unique
        // constraint still decides races). A pending registration of the
        // address is replaced: the owner can always claim their address
        // (issue 12, item 3).
        let now = self.now();
        let pending = self.pending_registration_of(&reg.email).await?;
        let hash = self
            .ports
            .hasher
            .hash(&PasswordAttempt::from(reg.password))
            .await?;
        if let Some(existing) = pending {
            self.remove_pending_account(&existing, "replaced", &ClientInfo::without_peer(None))
                .await?;
        }
        let public_id = self.ports.ids.new_uuid();
        let issued = self.issue_verification(
            reg.username.as_str(),
            &public_id,
            &reg.email,
            locale,
            now,
            link,
        );
        self.store_codes(&issued).await?;
        let user = NewUser {
            public_id,
            username: reg.username,
            email: reg.email,
            phone: reg.phone,
            password_hash: hash,
            role: reg.role,
            email_verified: false,
            created_at: now,
        };
        // The verification mail is queued in the same transaction as the user.
        // So is `user.created`.
        let created = [PendingEvent::new(EventType::UserCreated, now)];
        Ok(self
            .ports
            .users
            .create(user, Some(&issued.mail), &created)
            .await?)
    }

    /// The account registered with `email` when a new registration may
    /// replace it (a pending registration, [`Self::is_pending`]), or `None`
    /// when the address is free.
    ///
    /// # Errors
    /// [`AuthError::Conflict`] when an account that is not pending holds the
    /// address; [`AuthError::Unavailable`].
    pub(super) async fn pending_registration_of(
        &self,
        email: &Email,
    ) -> Result<Option<User>, AuthError> {
        match self
            .ports
            .users
            .find_by_login(&Login::Email(email.clone()))
            .await?
        {
            Some(existing) if self.is_pending(&existing, self.now()) => Ok(Some(existing)),
            Some(_) => Err(AuthError::Conflict(crate::model::UniqueField::Email)),
            None => Ok(None),
        }
    }
}
