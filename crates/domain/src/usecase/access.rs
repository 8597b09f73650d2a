//! Access tokens: issuing them for a session and accepting them on requests.

use chrono::{DateTime, Duration, Utc};

use super::{AuthService, LoginTerms};
use crate::clock::IdSource;
use crate::error::{AuthError, TokenProblem};
use crate::model::{
    AccessClaims, AccessTokenHookRequest, CustomClaims, GrantClaims, HookError, IssuedAccess,
    MAX_CUSTOM_CLAIMS_BYTES, RevocationKey, TokenIdentity, TokenSubject, without_reserved_claims,
};
use crate::model::{ClientInfo, Session, SessionId};
use crate::model::{User, UserId};
use crate::ports::{
    AccessTokenHook, AccessTokenSigner, Ports, RefreshTokenCodec, TokenDenylist, UserRepository,
};

/// What an authenticated request carries once its access token has been accepted.
#[derive(Debug, Clone)]
pub struct Authenticated {
    /// The verified claims.
    pub claims: AccessClaims,
    /// Where the request came from (for the audit trail).
    pub client: ClientInfo,
}

impl Authenticated {
    /// The user.
    #[must_use]
    pub fn user_id(&self) -> UserId {
        self.claims.user_id
    }

    /// The session.
    #[must_use]
    pub fn session_id(&self) -> SessionId {
        self.claims.session_id
    }
}

/// How the access tokens of a session present their account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Presentation {
    subject: TokenSubject,
    grants: Option<GrantClaims>,
}

impl Presentation {
    /// `sub` = the account id, no [`GrantClaims`]: every token issued
    /// outside a login (refreshes) and every login of the
    /// [`TokenIdentity::AccountId`] identity.
    pub(super) const fn account_id() -> Self {
        Self {
            subject: TokenSubject::AccountId,
            grants: None,
        }
    }
}

/// Who an access token is for (issue 18).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum TokenAudience {
    /// The first-party API and pages: tokens of logins, not of clients.
    FirstParty,
    /// UserInfo: tokens the OpenID Provider issued to a client.
    ProviderClient,
    /// Introspection: either.
    Any,
}

impl<P: Ports> AuthService<P> {
    /// How the tokens of a login present `user` (issue 13, item 12): the
    /// address and the [`GrantClaims`] for the [`TokenIdentity::Email`]
    /// identity, the id alone otherwise. The address is presented only once
    /// it is verified: services that read the tokens trust `sub` without
    /// asking Tessera, and an address nobody proved must not become an identity
    /// there that outlives the owner's claim (issue 12's pre-hijacking rule;
    /// until then `sub` is the account id).
    pub(super) async fn presentation(
        &self,
        user: &User,
        terms: LoginTerms,
    ) -> Result<Presentation, AuthError> {
        Ok(match terms.identity {
            TokenIdentity::AccountId => Presentation::account_id(),
            TokenIdentity::Email => Presentation {
                subject: if user.email_verified {
                    TokenSubject::Email(user.email.clone())
                } else {
                    TokenSubject::AccountId
                },
                grants: Some(GrantClaims {
                    permissions: self.permissions_of(user).await?,
                    super_admin: user.is_super_admin(),
                    admin_mode: terms.admin_mode && self.is_administrator(user),
                }),
            },
        })
    }

    /// Signs an access token of `session` for `user`, lasting `ttl` (capped
    /// by the session's end), with the claims the access-token hook adds
    /// when one is configured ([`Self::custom_claims`]).
    ///
    /// # Errors
    /// [`AuthError::Internal`] when signing fails; [`AuthError::Unavailable`]
    /// when the hook fails and `ACCESS_TOKEN_HOOK_FAIL_OPEN` is off.
    pub(super) async fn issue_access(
        &self,
        user: &User,
        session: &Session,
        now: DateTime<Utc>,
        ttl: Duration,
        presentation: &Presentation,
    ) -> Result<IssuedAccess, AuthError> {
        // JWT times are whole seconds: start from a whole second so that the
        // signed `exp` and the `expires_in` told to the client agree.
        let now = DateTime::from_timestamp(now.timestamp(), 0).unwrap_or(now);
        let session_end = DateTime::from_timestamp(session.expires_at.timestamp(), 0)
            .unwrap_or(session.expires_at);
        let expires_at = (now + ttl).min(session_end);
        let mut claims = AccessClaims {
            user_id: user.id,
            subject: presentation.subject.clone(),
            session_id: session.id,
            token_id: self.ports.ids.new_uuid(),
            role: user.role.clone(),
            grants: presentation.grants.clone(),
            authentication: session.authentication.clone(),
            issued_at: now,
            not_before: now,
            expires_at,
            issued_to: session.issued_to.clone(),
            custom: CustomClaims::new(),
        };
        claims.custom = self.custom_claims(user, &claims).await?;
        let token = crate::model::AccessToken::new(self.ports.signer.sign(&claims)?);
        Ok(IssuedAccess {
            token,
            expires_in: (expires_at - now).num_seconds().max(0),
            claims,
        })
    }

    /// The access-token hook's claims for the token `claims` describe
    /// (issue 20): none without a hook; reserved names dropped
    /// ([`crate::model::RESERVED_CLAIMS`]); more than
    /// [`MAX_CUSTOM_CLAIMS_BYTES`] is a failure. A failure signs without
    /// them when `ACCESS_TOKEN_HOOK_FAIL_OPEN` is on, and refuses the
    /// issuance otherwise; the adapter logs its cause.
    ///
    /// # Errors
    /// [`AuthError::Unavailable`] when the hook failed and it fails closed.
    async fn custom_claims(
        &self,
        user: &User,
        claims: &AccessClaims,
    ) -> Result<CustomClaims, AuthError> {
        if !self.ports.token_hook.enabled() {
            return Ok(CustomClaims::new());
        }
        let request = AccessTokenHookRequest {
            token_id: claims.token_id,
            user_id: user.id.0,
            user_uuid: user.public_id,
            username: user.username.as_str().to_owned(),
            email: user.email.as_str().to_owned(),
            email_verified: user.email_verified,
            roles: user.roles.iter().map(|r| r.as_str().to_owned()).collect(),
            session_id: claims.session_id.0,
            client_id: claims.issued_to.as_ref().map(|c| c.as_str().to_owned()),
            amr: claims
                .authentication
                .methods
                .iter()
                .map(|m| m.as_str().to_owned())
                .collect(),
            aal: claims.authentication.assurance().level(),
            issued_at: claims.issued_at,
            expires_at: claims.expires_at,
        };
        let answer = self
            .ports
            .token_hook
            .custom_claims(&request)
            .await
            .and_then(|custom| {
                let size = serde_json::to_vec(&custom).map_or(usize::MAX, |b| b.len());
                if size > MAX_CUSTOM_CLAIMS_BYTES {
                    Err(HookError::Refused(format!(
                        "{size} bytes of claims, more than {MAX_CUSTOM_CLAIMS_BYTES}"
                    )))
                } else {
                    Ok(custom)
                }
            });
        // The adapter logs why a call failed; the policy is decided here.
        match answer {
            Ok(custom) => Ok(without_reserved_claims(custom).0),
            Err(_) if self.settings.webhooks.token_hook_fail_open => Ok(CustomClaims::new()),
            Err(e) => Err(AuthError::Unavailable(e.to_string())),
        }
    }

    /// Accepts or refuses an access token: signature, type, issuer, audience,
    /// times (with leeway) and the denylist. Fails closed when the denylist
    /// cannot be read. `client` says where the request came from (for the
    /// audit trail).
    ///
    /// # Errors
    /// [`AuthError::Token`] with the reason, or [`AuthError::Unavailable`].
    pub async fn authenticate(
        &self,
        bearer: Option<&str>,
        client: ClientInfo,
    ) -> Result<Authenticated, AuthError> {
        let (claims, now) = self.check_access_token(bearer, TokenAudience::FirstParty)?;
        let keys = [
            RevocationKey::Session(claims.session_id),
            RevocationKey::Token(claims.token_id),
        ];
        if self.ports.denylist.any_denied(&keys, now).await? {
            return Err(AuthError::Token(TokenProblem::Revoked));
        }
        Ok(Authenticated { claims, client })
    }

    /// The claims of a well-signed access token that is within its times
    /// (with leeway) and meant for `audience`, and the time of the check;
    /// revocation is not checked. A token the OpenID Provider issued to a
    /// client is refused by the first-party API (an application a person
    /// signed in to never gets the account's own API, issue 18), and a
    /// first-party token by UserInfo.
    pub(super) fn check_access_token(
        &self,
        bearer: Option<&str>,
        audience: TokenAudience,
    ) -> Result<(AccessClaims, DateTime<Utc>), AuthError> {
        let token = bearer
            .filter(|t| !t.is_empty())
            .ok_or(AuthError::Token(TokenProblem::Missing))?;
        let claims = self.ports.signer.verify(token).map_err(|problem| {
            // A refresh token of ours is no JWT; say what it is (issue 13, item 8).
            if self.ports.codec.parse(token).is_some() {
                AuthError::Token(TokenProblem::RefreshTokenPresented)
            } else {
                AuthError::Token(problem)
            }
        })?;
        let meant = match audience {
            TokenAudience::FirstParty => claims.issued_to.is_none(),
            TokenAudience::ProviderClient => claims.issued_to.is_some(),
            TokenAudience::Any => true,
        };
        if !meant {
            return Err(AuthError::Token(TokenProblem::Invalid));
        }
        let now = self.now();
        if now >= claims.expires_at + self.settings.leeway {
            return Err(AuthError::Token(TokenProblem::Expired));
        }
        if now + self.settings.leeway < claims.not_before {
            return Err(AuthError::Token(TokenProblem::NotYetValid));
        }
        Ok((claims, now))
    }

    /// [`Self::authenticate`] and [`Self::current_user`] at once: after
    /// the signature and times check out, the denylist lookup and the user
    /// lookup run concurrently (one round trip instead of two when both live
    /// in one Redis), and the user is only returned when the token is not
    /// revoked.
    ///
    /// # Errors
    /// As [`Self::authenticate`], then as [`Self::current_user`].
    pub async fn authenticate_user(
        &self,
        bearer: Option<&str>,
        client: ClientInfo,
    ) -> Result<(Authenticated, User), AuthError> {
        self.authenticate_user_for(bearer, client, TokenAudience::FirstParty)
            .await
    }

    /// [`Self::authenticate_user`] for tokens meant for `audience`.
    ///
    /// # Errors
    /// As [`Self::authenticate_user`].
    pub(super) async fn authenticate_user_for(
        &self,
        bearer: Option<&str>,
        client: ClientInfo,
        audience: TokenAudience,
    ) -> Result<(Authenticated, User), AuthError> {
        let (claims, now) = self.check_access_token(bearer, audience)?;
        let keys = [
            RevocationKey::Session(claims.session_id),
            RevocationKey::Token(claims.token_id),
        ];
        let (denied, user) = crate::join::join2(
            self.ports.denylist.any_denied(&keys, now),
            self.ports.users.find_by_id(claims.user_id),
        )
        .await;
        if denied? {
            return Err(AuthError::Token(TokenProblem::Revoked));
        }
        let user = user?.ok_or(AuthError::UserNotFound)?;
        user.ensure_active()?;
        Ok((Authenticated { claims, client }, user))
    }

    /// The active user behind an accepted token.
    ///
    /// # Errors
    /// [`AuthError::UserNotFound`], [`AuthError::AccountDisabled`], [`AuthError::Unavailable`].
    pub async fn current_user(&self, auth: &Authenticated) -> Result<User, AuthError> {
        let user = self
            .ports
            .users
            .find_by_id(auth.user_id())
            .await?
            .ok_or(AuthError::UserNotFound)?;
        user.ensure_active()?;
        Ok(user)
    }
}
