use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use chrono::{DateTime, Duration, TimeZone, Utc};
use tessera_domain::clock::{Clock, IdSource};
use tessera_domain::error::{HashError, SigningError, StoreError, TokenProblem};
use tessera_domain::model::{
    AccessClaims, RefreshToken, RefreshTokenParts, TokenFingerprint, TokenSubject,
};
use tessera_domain::model::{PasswordHash, UserId};
use tessera_domain::model::{RevocationKey, SessionId};
use tessera_domain::ports::{AccessTokenSigner, PasswordHasher, RefreshTokenCodec, TokenDenylist};
use tessera_domain::values::{PasswordAttempt, RoleName};
use tessera_memory::MemoryDenylist;
use uuid::Uuid;

/// A clock that moves only when told. Clones share the same time.
#[derive(Debug, Clone)]
pub struct ManualClock {
    now: Arc<Mutex<DateTime<Utc>>>,
}

impl ManualClock {
    /// A clock stopped at `start` (whole seconds, like token timestamps).
    #[must_use]
    pub fn new(start: DateTime<Utc>) -> Self {
        let start = Utc
            .timestamp_opt(start.timestamp(), 0)
            .single()
            .unwrap_or(start);
        Self {
            now: Arc::new(Mutex::new(start)),
        }
    }

    /// Moves the clock forward.
    pub fn advance(&self, by: Duration) {
        let mut now = self.now.lock().unwrap_or_else(PoisonError::into_inner);
        *now += by;
    }
}

impl Default for ManualClock {
    fn default() -> Self {
        Self::new(Utc::now())
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        *self.now.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// UUIDs 00000000-0000-0000-0000-000000000001, …2, …: predictable ids for tests.
#[derive(Debug, Clone, Default)]
pub struct SequentialIds {
    next: Arc<AtomicU64>,
}

impl IdSource for SequentialIds {
    fn new_uuid(&self) -> Uuid {
        Uuid::from_u128(u128::from(self.next.fetch_add(1, Ordering::Relaxed) + 1))
    }
}

/// "Hashes" a password as `plain$<password>`. **Test fake, no security.**
/// Each verification yields to the executor once (as a real hash on its
/// own threads does), so concurrent logins really overlap; clones share
/// the count of verifications ([`Self::verifications`]).
#[derive(Debug, Clone)]
pub struct PlainHasher {
    dummy: PasswordHash,
    verifications: std::sync::Arc<AtomicU64>,
}

impl Default for PlainHasher {
    fn default() -> Self {
        Self {
            dummy: PasswordHash::new("plain$\u{1}never-matches"),
            verifications: std::sync::Arc::default(),
        }
    }
}

impl PlainHasher {
    /// How many passwords this hasher (and its clones) has verified.
    #[must_use]
    pub fn verifications(&self) -> u64 {
        self.verifications.load(Ordering::Relaxed)
    }
}

impl PasswordHasher for PlainHasher {
    async fn hash(&self, password: &PasswordAttempt) -> Result<PasswordHash, HashError> {
        Ok(PasswordHash::new(format!("plain${}", password.expose())))
    }

    async fn verify(
        &self,
        password: &PasswordAttempt,
        hash: &PasswordHash,
    ) -> Result<bool, HashError> {
        self.verifications.fetch_add(1, Ordering::Relaxed);
        tokio::task::yield_now().await;
        // `legacy$<password>` stands for an imported hash in tests.
        let stored = hash
            .as_str()
            .strip_prefix("plain$")
            .or_else(|| hash.as_str().strip_prefix("legacy$"))
            .ok_or_else(|| HashError::Failed("not a plain hash".into()))?;
        Ok(stored == password.expose())
    }

    fn dummy_hash(&self) -> &PasswordHash {
        &self.dummy
    }

    fn needs_rehash(&self, hash: &PasswordHash) -> bool {
        !hash.as_str().starts_with("plain$")
    }

    fn can_verify(&self, hash: &PasswordHash) -> bool {
        hash.as_str().starts_with("plain$") || hash.as_str().starts_with("legacy$")
    }
}

/// Access tokens as readable, unsigned text: `fake-at.<user>.<sid>.<jti>.<role>.<iat>.<nbf>.<exp>.<amr>.<auth_time>`
/// (`amr` joined by `+`).
/// **Test fake: anyone can forge these.**
#[derive(Debug, Clone, Copy, Default)]
pub struct FakeSigner;

/// Assertions of the fake signer: `fake-assertion.` and the claims' JSON,
/// accepted when `jwks` holds a key (no signature).
impl tessera_domain::ports::ClientAssertionVerifier for FakeSigner {
    fn verify_client_assertion(
        &self,
        assertion: &str,
        jwks: &str,
    ) -> Result<serde_json::Value, String> {
        if !jwks.contains("kty") {
            return Err("no key".into());
        }
        serde_json::from_str(
            assertion
                .strip_prefix("fake-assertion.")
                .ok_or("not a fake assertion")?,
        )
        .map_err(|e| e.to_string())
    }
}

/// ID tokens of the fake signer: `fake-id.` and the claims' JSON (unsigned).
impl tessera_domain::ports::IdTokenSigner for FakeSigner {
    fn id_token_algorithm(&self) -> &'static str {
        "none"
    }

    fn sign_id_token(&self, claims: &serde_json::Value) -> Result<String, SigningError> {
        Ok(format!("fake-id.{claims}"))
    }

    fn read_own_id_token(&self, token: &str) -> Option<serde_json::Value> {
        serde_json::from_str(token.strip_prefix("fake-id.")?).ok()
    }
}

impl AccessTokenSigner for FakeSigner {
    fn sign(&self, c: &AccessClaims) -> Result<String, SigningError> {
        Ok(format!(
            "fake-at.{}.{}.{}.{}.{}.{}.{}.{}.{}",
            c.user_id.0,
            c.session_id.0,
            c.token_id,
            c.role,
            c.issued_at.timestamp(),
            c.not_before.timestamp(),
            c.expires_at.timestamp(),
            c.authentication.methods_text().replace(' ', "+"),
            // A client's token: `!` and the client id (no client id holds `!`).
            match &c.issued_to {
                Some(client) => format!("{}!{client}", c.authentication.at.timestamp()),
                None => c.authentication.at.timestamp().to_string(),
            }
        ))
    }

    fn verify(&self, token: &str) -> Result<AccessClaims, TokenProblem> {
        let p: Vec<&str> = token.split('.').collect();
        let [tag, user, sid, jti, role, iat, nbf, exp, amr, auth_time] = p.as_slice() else {
            return Err(TokenProblem::Malformed);
        };
        if *tag != "fake-at" {
            return Err(TokenProblem::Malformed);
        }
        let (auth_time, issued_to) = match auth_time.split_once('!') {
            Some((t, client)) => (
                t,
                Some(tessera_domain::model::ClientId::parse(client).ok_or(TokenProblem::Invalid)?),
            ),
            None => (*auth_time, None),
        };
        let time = |s: &str| {
            s.parse::<i64>()
                .ok()
                .and_then(|t| Utc.timestamp_opt(t, 0).single())
                .ok_or(TokenProblem::Invalid)
        };
        Ok(AccessClaims {
            user_id: UserId(user.parse().map_err(|_| TokenProblem::Invalid)?),
            subject: TokenSubject::AccountId,
            session_id: SessionId(sid.parse().map_err(|_| TokenProblem::Invalid)?),
            token_id: jti.parse().map_err(|_| TokenProblem::Invalid)?,
            role: RoleName::parse(role).map_err(|_| TokenProblem::Invalid)?,
            grants: None,
            authentication: tessera_domain::model::Authentication {
                at: time(auth_time)?,
                methods: tessera_domain::model::Authentication::methods_from_text(
                    &amr.replace('+', " "),
                ),
            },
            issued_at: time(iat)?,
            not_before: time(nbf)?,
            expires_at: time(exp)?,
            issued_to,
            custom: tessera_domain::model::CustomClaims::new(),
        })
    }
}

/// Refresh tokens as `fake-rt.<sid>.<generation>`. **Test fake: forgeable.**
#[derive(Debug, Clone, Copy, Default)]
pub struct FakeRefreshCodec;

impl RefreshTokenCodec for FakeRefreshCodec {
    fn issue(&self, session: SessionId, generation: u32) -> RefreshToken {
        RefreshToken::new(format!("fake-rt.{}.{generation}", session.0))
    }

    fn parse(&self, token: &str) -> Option<RefreshTokenParts> {
        let rest = token.strip_prefix("fake-rt.")?;
        let (sid, generation) = rest.split_once('.')?;
        Some(RefreshTokenParts {
            session_id: SessionId(sid.parse().ok()?),
            generation: generation.parse().ok()?,
        })
    }

    fn fingerprint(&self, token: &RefreshToken) -> TokenFingerprint {
        TokenFingerprint(format!("fp:{}", token.expose()))
    }

    fn keyed_fingerprint(&self, secret: &str) -> TokenFingerprint {
        TokenFingerprint(format!("kfp:{secret}"))
    }
}

/// The in-memory denylist, whose next write can be made to fail once
/// ([`Self::fail_next_deny`]), for tests of what a half-done revocation
/// leaves behind. Clones share their entries and the armed failure.
#[derive(Debug, Clone, Default)]
pub struct FlakyDenylist {
    entries: MemoryDenylist,
    fail_next: Arc<AtomicBool>,
}

impl FlakyDenylist {
    /// Makes the next [`TokenDenylist::deny`] fail with
    /// [`StoreError::Unavailable`] (and write nothing); later ones succeed.
    pub fn fail_next_deny(&self) {
        self.fail_next.store(true, Ordering::SeqCst);
    }
}

impl TokenDenylist for FlakyDenylist {
    async fn deny(&self, key: RevocationKey, until: DateTime<Utc>) -> Result<(), StoreError> {
        if self.fail_next.swap(false, Ordering::SeqCst) {
            return Err(StoreError::Unavailable(
                "denylist write failed (test)".into(),
            ));
        }
        self.entries.deny(key, until).await
    }

    async fn any_denied(
        &self,
        keys: &[RevocationKey],
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        self.entries.any_denied(keys, now).await
    }
}
