//! Browser sessions: the hosted pages' sign-in (issue 16).
//!
//! A browser signs in through the same login steps as every dialect (the
//! throttle, the delays, the audit trail, the session limit) and gets an
//! ordinary session: it shows in the account's session list, and ending it
//! there, `logout-all`, a password change or an administrator ends the
//! browser's too. What the browser holds is a [`BrowserCredential`], an
//! opaque value for a cookie: the session id and a MAC of it under the
//! server's key. It is neither a JWT nor the session's refresh token, so it
//! cannot be used at any token endpoint, and nothing about it is stored.
//!
//! Forms are protected by a per-session [`CsrfToken`]: a MAC of the session
//! id under the server's key with its own label, so it is bound to the
//! session (another session's token is refused) and never stored.

use chrono::{DateTime, Duration, Utc};

use super::{
    AuthService, Authenticated, LoginOutcome, LoginStep, LoginTerms, SecondFactorChallenge,
};
use crate::clock::IdSource as _;
use crate::error::{AuthError, TokenProblem};
use crate::model::User;
use crate::model::constant_time_eq;
use crate::model::{AccessClaims, ClientInfo, RevocationKey, Session, SessionId, TokenSubject};
use crate::ports::{Ports, RefreshTokenCodec as _, SessionStore as _, TokenDenylist as _};
use crate::values::PasswordInput;

/// What a browser keeps for its session (a cookie's value): `<session
/// id>.<MAC>`, ASCII, at most [`BrowserCredential::MAX_CHARS`] characters.
#[derive(Clone, PartialEq, Eq)]
pub struct BrowserCredential(String);

impl BrowserCredential {
    /// The longest credential read, in characters (a UUID, a dot and a MAC).
    pub const MAX_CHARS: usize = 200;

    /// The value as the browser sends it back.
    #[must_use]
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for BrowserCredential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("BrowserCredential(***)")
    }
}

/// A form token bound to one browser session (the synchronizer-token
/// pattern, keyed instead of stored).
#[derive(Clone, PartialEq, Eq)]
pub struct CsrfToken(String);

impl CsrfToken {
    /// The value for the form's hidden field.
    #[must_use]
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for CsrfToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CsrfToken(***)")
    }
}

/// A browser that signed in: what to set in its cookie, and the session.
#[derive(Debug, Clone)]
pub struct BrowserSignIn {
    /// The cookie's value.
    pub credential: BrowserCredential,
    /// The new session (its absolute end is the cookie's).
    pub session: Session,
    /// Who signed in.
    pub user: User,
    /// The recovery codes of a factor enrolled to finish this sign-in
    /// (`MFA_REQUIRED_ROLES`): shown once.
    pub recovery_codes: Option<super::RecoveryCodes>,
}

/// What a browser's sign-in answers: signed in, or a second factor to ask for.
#[derive(Debug, Clone)]
#[allow(clippy::large_enum_variant)] // a sign-in is rare; boxing buys nothing
pub enum BrowserStep {
    /// Signed in.
    SignedIn(BrowserSignIn),
    /// The password was right; the account's second factor must follow
    /// ([`AuthService::finish_browser_sign_in`]).
    SecondFactor(SecondFactorChallenge),
}

/// A request of a signed-in browser.
#[derive(Debug, Clone)]
pub struct BrowserCaller {
    /// The caller, as every use case that takes an access token's caller
    /// wants it: the claims stand for the session and are signed by no one.
    pub auth: Authenticated,
    /// The account.
    pub user: User,
    /// The session.
    pub session: Session,
}

/// How long a browser session's `last_used_at` may lag: a page view moves it
/// at most once a minute (a session is idle after `SESSION_IDLE_TTL`, hours).
pub const BROWSER_TOUCH_INTERVAL_SECS: i64 = 60;

const CREDENTIAL_LABEL: &str = "browser-session:";
const CSRF_LABEL: &str = "browser-csrf:";
const FORM_LABEL: &str = "browser-form:";

impl<P: Ports> AuthService<P> {
    /// Signs a browser in with an identifier and a password: the login steps
    /// of every dialect ([`Self::verify_credentials`]: throttle, delays, audit,
    /// session limit), then a [`BrowserCredential`] for the new session.
    ///
    /// # Errors
    /// As [`Self::verify_credentials`] and [`super::LoginStep::done`]:
    /// [`AuthError::InvalidCredentials`] whether or not the account exists,
    /// [`AuthError::AccountDisabled`], [`AuthError::TooManyRequests`], ….
    pub async fn sign_in_browser(
        &self,
        identifier: &str,
        password: &str,
        client: ClientInfo,
    ) -> Result<BrowserStep, AuthError> {
        let step = self
            .verify_credentials(
                identifier,
                PasswordInput::Plain(password),
                client,
                LoginTerms::default(),
            )
            .await?;
        Ok(match step {
            LoginStep::SecondFactor(challenge) => BrowserStep::SecondFactor(challenge),
            step => BrowserStep::SignedIn(self.browser_sign_in(step.done()?)),
        })
    }

    /// Signs a browser in with a one-time code (issue 20,
    /// `PASSWORDLESS_LOGIN`), as [`Self::verify_sign_in_code`] signs in a
    /// client: the session, or the second-factor step.
    ///
    /// # Errors
    /// As [`Self::verify_sign_in_code`].
    pub async fn sign_in_browser_with_code(
        &self,
        identifier: &str,
        code: &str,
        client: ClientInfo,
    ) -> Result<BrowserStep, AuthError> {
        let step = self
            .verify_sign_in_code(Some(identifier), Some(code), client, LoginTerms::default())
            .await?;
        Ok(match step {
            LoginStep::SecondFactor(challenge) => BrowserStep::SecondFactor(challenge),
            step => BrowserStep::SignedIn(self.browser_sign_in(step.done()?)),
        })
    }

    /// Finishes a browser's sign-in that answered
    /// [`BrowserStep::SecondFactor`], as [`Self::verify_second_factor`]
    /// finishes a login (`code` a TOTP code or a recovery code, or with
    /// `kind` [`FactorKind::Passkey`](crate::model::FactorKind::Passkey) a
    /// passkey's `PublicKeyCredential` JSON).
    ///
    /// # Errors
    /// As [`Self::verify_second_factor`].
    pub async fn finish_browser_sign_in(
        &self,
        mfa_token: &str,
        kind: Option<crate::model::FactorKind>,
        code: &str,
        client: ClientInfo,
        locale: crate::mail::Locale,
    ) -> Result<BrowserSignIn, AuthError> {
        let outcome = self
            .verify_second_factor(mfa_token, kind, code, client, LoginTerms::default(), locale)
            .await?;
        Ok(self.browser_sign_in(outcome))
    }

    /// Signs a browser in with a passkey alone, as
    /// [`Self::finish_passkey_sign_in`] signs in a client.
    ///
    /// # Errors
    /// As [`Self::finish_passkey_sign_in`].
    pub async fn sign_in_browser_with_passkey(
        &self,
        ceremony_token: &str,
        response: &str,
        client: ClientInfo,
    ) -> Result<BrowserSignIn, AuthError> {
        let outcome = self
            .finish_passkey_sign_in(ceremony_token, response, client, LoginTerms::default())
            .await?;
        Ok(self.browser_sign_in(outcome))
    }

    pub(super) fn browser_sign_in(&self, outcome: LoginOutcome) -> BrowserSignIn {
        BrowserSignIn {
            credential: self.browser_credential(outcome.session.id),
            session: outcome.session,
            user: outcome.user,
            recovery_codes: outcome.recovery_codes,
        }
    }

    /// The credential of `session` (the same session always gives the same one).
    #[must_use]
    pub fn browser_credential(&self, session: SessionId) -> BrowserCredential {
        BrowserCredential(format!(
            "{}.{}",
            session.0,
            self.browser_mac(CREDENTIAL_LABEL, session)
        ))
    }

    /// The form token of `session`.
    #[must_use]
    pub fn csrf_token(&self, session: SessionId) -> CsrfToken {
        CsrfToken(self.browser_mac(CSRF_LABEL, session))
    }

    /// Whether `presented` is `session`'s form token (compared in constant time).
    #[must_use]
    pub fn csrf_token_matches(&self, session: SessionId, presented: &str) -> bool {
        constant_time_eq(
            self.csrf_token(session).expose().as_bytes(),
            presented.as_bytes(),
        )
    }

    /// The form token of an anonymous form (sign in, sign up, …) whose
    /// browser holds `nonce` in a cookie: the form proves it was served to
    /// that browser (the signed double-submit pattern).
    #[must_use]
    pub fn form_token(&self, nonce: &str) -> CsrfToken {
        CsrfToken(self.mac(&format!("{FORM_LABEL}{nonce}")))
    }

    /// Whether `presented` is the form token of `nonce` (compared in
    /// constant time); an empty nonce matches nothing.
    #[must_use]
    pub fn form_token_matches(&self, nonce: &str, presented: &str) -> bool {
        !nonce.is_empty()
            && constant_time_eq(
                self.form_token(nonce).expose().as_bytes(),
                presented.as_bytes(),
            )
    }

    fn browser_mac(&self, label: &str, session: SessionId) -> String {
        self.mac(&format!("{label}{}", session.0))
    }

    fn mac(&self, text: &str) -> String {
        self.ports.codec.keyed_fingerprint(text).0
    }

    /// The caller behind a browser's credential: the MAC, then the session
    /// (live: not revoked, not past its end, used within `SESSION_IDLE_TTL`,
    /// not on the denylist, so an end on another instance counts at once),
    /// then the account (active). Moves the session's `last_used_at` at most
    /// every [`BROWSER_TOUCH_INTERVAL_SECS`].
    ///
    /// # Errors
    /// [`AuthError::Token`] (`Missing` without a credential, `Invalid` for
    /// one not ours, `Revoked` or `Expired` for an ended session),
    /// [`AuthError::AccountDisabled`], [`AuthError::Unavailable`].
    pub async fn authenticate_browser(
        &self,
        credential: Option<&str>,
        client: ClientInfo,
    ) -> Result<BrowserCaller, AuthError> {
        let credential = credential
            .filter(|c| !c.is_empty())
            .ok_or(AuthError::Token(TokenProblem::Missing))?;
        let session_id = self
            .read_browser_credential(credential)
            .ok_or(AuthError::Token(TokenProblem::Invalid))?;
        let now = self.now();
        if self
            .ports
            .denylist
            .any_denied(&[RevocationKey::Session(session_id)], now)
            .await?
        {
            return Err(AuthError::Token(TokenProblem::Revoked));
        }
        // This process's copy first; one that looks ended is read again
        // (the copy's `last_used_at` may lag the store's).
        let session = match self.ports.sessions.get_recent(session_id).await? {
            Some(s) if self.check_live(&s, now).is_ok() => s,
            _ => self
                .ports
                .sessions
                .get(session_id)
                .await?
                .ok_or(AuthError::Token(TokenProblem::Revoked))?,
        };
        self.check_live(&session, now)?;
        let user = self.session_user(&session).await?;
        if now - session.last_used_at >= Duration::seconds(BROWSER_TOUCH_INTERVAL_SECS) {
            self.ports.sessions.touch(session.id, now).await?;
        }
        let auth = Authenticated {
            claims: self.browser_claims(&user, &session, now),
            client,
        };
        Ok(BrowserCaller {
            auth,
            user,
            session,
        })
    }

    /// The session id of a well-formed credential whose MAC is ours.
    fn read_browser_credential(&self, credential: &str) -> Option<SessionId> {
        if credential.len() > BrowserCredential::MAX_CHARS {
            return None;
        }
        let (id, _) = credential.split_once('.')?;
        let session = SessionId(uuid::Uuid::parse_str(id).ok()?);
        constant_time_eq(
            self.browser_credential(session).expose().as_bytes(),
            credential.as_bytes(),
        )
        .then_some(session)
    }

    /// Claims standing for a browser session in the use cases that take a
    /// caller (never signed, never sent).
    fn browser_claims(&self, user: &User, session: &Session, now: DateTime<Utc>) -> AccessClaims {
        AccessClaims {
            user_id: user.id,
            subject: TokenSubject::AccountId,
            session_id: session.id,
            token_id: self.ports.ids.new_uuid(),
            role: user.role.clone(),
            grants: None,
            authentication: session.authentication.clone(),
            issued_at: now,
            not_before: now,
            expires_at: session.expires_at,
            issued_to: None,
            custom: crate::model::CustomClaims::new(),
        }
    }
}
