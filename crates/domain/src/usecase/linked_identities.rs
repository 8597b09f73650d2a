//! An account's upstream identities (issue 19): list them, link another
//! (through the provider, or by confirming a pending link after signing in
//! to the account it names), unlink one — never the last way to sign in.
//! Every link and unlink is audited; each change needs a recent
//! authentication at the account's highest level (`REAUTH_MAX_AGE`).

use super::provider::s256;
use super::upstream_sign_in::{FederationError, PendingLink, UpstreamReturn, UpstreamStart};
use super::{AuthService, Authenticated};
use crate::error::AuthError;
use crate::model::{AuditKind, CodePurpose, LinkedIdentity, UpstreamId, User};
use crate::ports::{
    CodeStore as _, FactorStore as _, IdentityLinks as _, Ports, RefreshTokenCodec as _,
    UserRepository as _,
};

/// What ties a pending link to whoever started the upstream sign-in, so a
/// link token sent to someone else links nothing.
#[derive(Debug, Clone, Copy)]
pub enum LinkProof<'a> {
    /// The hosted pages: the caller read the token from the browser's own
    /// cookie, set when the sign-in landed.
    BrowserCookie,
    /// An API client: the PKCE `code_verifier` of the sign-in it started.
    CodeVerifier(&'a str),
}

impl<P: Ports> AuthService<P> {
    /// The identities linked to the caller's account.
    ///
    /// # Errors
    /// [`AuthError::Unavailable`].
    pub async fn linked_identities(
        &self,
        auth: &Authenticated,
    ) -> Result<Vec<LinkedIdentity>, AuthError> {
        Ok(self.ports.identities.identities_of(auth.user_id()).await?)
    }

    /// The caller's account, when they authenticated recently enough to
    /// change how it signs in.
    async fn account_for_change(&self, auth: &Authenticated) -> Result<User, AuthError> {
        let user = self
            .ports
            .users
            .find_by_id(auth.user_id())
            .await?
            .ok_or(AuthError::UserNotFound)?;
        self.require_recent_authentication(auth, &user).await?;
        Ok(user)
    }

    /// Starts linking the provider `id` to the caller's account: as
    /// [`Self::begin_upstream_sign_in`], landing on `return_to` (a page).
    ///
    /// # Errors
    /// [`AuthError::ReauthenticationRequired`], and as
    /// [`Self::begin_upstream_sign_in`].
    pub async fn begin_upstream_link(
        &self,
        auth: &Authenticated,
        id: &str,
        return_to: String,
    ) -> Result<UpstreamStart, FederationError> {
        let user = self.account_for_change(auth).await?;
        self.begin_upstream_sign_in(
            id,
            UpstreamReturn::Link {
                user: user.id.0,
                return_to,
            },
            &auth.client,
        )
        .await
    }

    /// Confirms a pending link ([`super::UpstreamLanding::LinkRequired`]):
    /// the caller must be signed in, recently, to the very account the
    /// upstream address matched, and `proof` must tie the token to the
    /// sign-in that made it (its browser's cookie, or the API client's PKCE
    /// verifier). The token is spent.
    ///
    /// # Errors
    /// [`FederationError::CodeInvalid`] (unknown, expired, another
    /// account's, or without its proof), [`FederationError::IdentityTaken`],
    /// [`AuthError::ReauthenticationRequired`], [`AuthError::Unavailable`].
    pub async fn link_pending_identity(
        &self,
        auth: &Authenticated,
        link_token: &str,
        proof: LinkProof<'_>,
    ) -> Result<LinkedIdentity, FederationError> {
        let pending: PendingLink = self
            .read_upstream_secret(CodePurpose::UpstreamLink, link_token, false)
            .await?
            .ok_or(FederationError::CodeInvalid)?;
        let proven = match (proof, &pending.code_challenge) {
            (LinkProof::BrowserCookie, None) => true,
            (LinkProof::CodeVerifier(v), Some(challenge)) => s256(v) == *challenge,
            _ => false,
        };
        if !proven || pending.user != auth.user_id().0 {
            return Err(FederationError::CodeInvalid);
        }
        self.account_for_change(auth).await?;
        let key = self.ports.codec.keyed_fingerprint(link_token).0;
        if self
            .ports
            .codes
            .take(CodePurpose::UpstreamLink, &key)
            .await?
            .is_none()
        {
            return Err(FederationError::CodeInvalid);
        }
        let provider = self.upstream_provider(&pending.provider).await?;
        self.link_identity(
            auth.user_id(),
            &provider,
            &pending.identity,
            &auth.client,
            "proof",
        )
        .await
    }

    /// The provider's name and the upstream address of a pending link of
    /// `user`'s, for the page that asks to confirm it; `None` when the token
    /// is unknown, expired or another account's.
    ///
    /// # Errors
    /// [`AuthError::Unavailable`].
    pub async fn pending_link(
        &self,
        link_token: &str,
        user: crate::model::UserId,
    ) -> Result<Option<(String, Option<String>)>, AuthError> {
        let pending: Option<PendingLink> = self
            .read_upstream_secret(CodePurpose::UpstreamLink, link_token, false)
            .await?;
        let Some(pending) = pending.filter(|p| p.user == user.0) else {
            return Ok(None);
        };
        let name = self
            .upstream_provider(&pending.provider)
            .await
            .map_or(pending.provider.clone(), |p| p.display_name);
        Ok(Some((name, pending.identity.email)))
    }

    /// Whether `user` can sign in without the identity being removed: a
    /// password, a passkey, or `other_identities` left.
    async fn has_other_sign_in(
        &self,
        user: &crate::model::User,
        other_identities: usize,
    ) -> Result<bool, AuthError> {
        if !user.password_hash.is_none() || other_identities > 0 {
            return Ok(true);
        }
        Ok(self.ports.factors.overview(user.id).await?.passkeys > 0)
    }

    /// Unlinks `subject` of `provider` from the caller's account, unless it
    /// is the account's last way to sign in (no password, no passkey, no
    /// other identity).
    ///
    /// # Errors
    /// [`FederationError::IdentityNotFound`],
    /// [`FederationError::LastSignInMethod`],
    /// [`AuthError::ReauthenticationRequired`], [`AuthError::Unavailable`].
    pub async fn unlink_identity(
        &self,
        auth: &Authenticated,
        provider: &str,
        subject: &str,
    ) -> Result<(), FederationError> {
        let user = self.account_for_change(auth).await?;
        let provider = UpstreamId::parse(provider).ok_or(FederationError::IdentityNotFound)?;
        let linked = self.ports.identities.identities_of(user.id).await?;
        let Some(removed) = linked
            .iter()
            .find(|l| l.provider == provider && l.subject == subject)
            .cloned()
        else {
            return Err(FederationError::IdentityNotFound);
        };
        if !self.has_other_sign_in(&user, linked.len() - 1).await? {
            return Err(FederationError::LastSignInMethod);
        }
        if !self
            .ports
            .identities
            .unlink(user.id, &provider, subject)
            .await?
        {
            return Err(FederationError::IdentityNotFound);
        }
        // Two unlinks of the last two identities may race past the check:
        // whichever finds none left afterwards puts its identity back.
        let left = self.ports.identities.identities_of(user.id).await?.len();
        if !self.has_other_sign_in(&user, left).await? {
            self.ports.identities.link(&removed).await?;
            return Err(FederationError::LastSignInMethod);
        }
        self.audit(self.by_self(
            AuditKind::IdentityUnlinked,
            auth,
            Some(format!("{provider} {}", removed.subject)),
        ))
        .await;
        Ok(())
    }
}
