use chrono::{DateTime, TimeZone, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation, decode, encode};
use serde::{Deserialize, Serialize};
use tessera_domain::error::{SigningError, TokenProblem};
use tessera_domain::model::SessionId;
use tessera_domain::model::UserId;
use tessera_domain::model::{
    AccessClaims, AuthMethod, Authentication, ClientId, GrantClaims, TokenSubject,
};
use tessera_domain::ports::AccessTokenSigner;
use tessera_domain::values::{Email, RoleName};
use uuid::Uuid;

use crate::keyring::{KeyAlg, KeyRing, SigningKey};

/// The JOSE `typ` Tessera writes on access tokens (RFC 9068 §2.1).
const HEADER_TYP: &str = "at+jwt";
/// The full media type of access tokens; RFC 9068 §4 accepts it beside the
/// short form (RFC 7515 §4.1.9 lets `application/` be omitted).
const HEADER_TYP_FULL: &str = "application/at+jwt";
/// The `token_use` claim of access tokens; other tokens carry other values.
const TOKEN_USE: &str = "access";

/// What the signer needs to know.
#[derive(Clone)]
pub struct JwtConfig {
    /// The HMAC key (at least 32 bytes in production).
    pub secret: Vec<u8>,
    /// `iss` written and required.
    pub issuer: String,
    /// `aud` written and required.
    pub audience: String,
}

impl std::fmt::Debug for JwtConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JwtConfig")
            .field("secret", &format_args!("<{} bytes>", self.secret.len()))
            .field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .finish()
    }
}

/// The payload of an access token.
///
/// `uid` is Tessera's own name for the account, written on every token and
/// read first; `sub` is what the seed's own routes read as the identity
/// (the id in decimal, or seed 001's address) and names the account only on
/// tokens issued before `uid` existed, where it is the id (issue 13, item 12).
/// `permissions`, `is_superuser` and `is_admin` are seed 001's claims,
/// written together on tokens whose `sub` is the address. Every claim
/// Flask-JWT-Extended 4 requires is here (`sub` a string, `jti`, `exp`,
/// `iat`, `nbf`); it fills in its own `type` (`access`) and `fresh` (false)
/// when a token lacks them.
#[derive(Serialize, Deserialize)]
struct Wire {
    sub: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    uid: Option<i64>,
    sid: Uuid,
    jti: Uuid,
    role: String,
    token_use: String,
    iss: String,
    aud: String,
    iat: i64,
    nbf: i64,
    exp: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    permissions: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    is_superuser: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    is_admin: Option<bool>,
    /// RFC 8176 authentication methods of the session's login.
    #[serde(default)]
    amr: Vec<String>,
    /// The assurance level they reach (`aal1`, `aal2`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    acr: Option<String>,
    /// The same level as a number (1 or 2), as issue 17 and Supabase's
    /// `aal` name it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    aal: Option<u8>,
    /// When the credentials were checked (unix seconds).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    auth_time: Option<i64>,
    /// The OAuth client a token of the OpenID Provider was issued to
    /// (RFC 9068 §2.2); absent on the first-party API's tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    client_id: Option<String>,
}

impl Wire {
    /// The account the token names: `uid`, or on tokens without it a
    /// decimal `sub` (an address in `sub` never names an account).
    fn account(&self) -> Option<UserId> {
        match self.uid {
            Some(uid) => Some(UserId(uid)),
            None => self.sub.parse().ok().map(UserId),
        }
    }

    /// What `sub` presents, given the account `uid` names.
    fn subject(&self, account: UserId) -> TokenSubject {
        if self.sub == account.0.to_string() {
            TokenSubject::AccountId
        } else {
            TokenSubject::Email(Email::from_stored(self.sub.clone()))
        }
    }

    fn grants(&self) -> Option<GrantClaims> {
        self.permissions.as_ref().map(|permissions| GrantClaims {
            permissions: permissions.clone(),
            super_admin: self.is_superuser.unwrap_or(false),
            admin_mode: self.is_admin.unwrap_or(false),
        })
    }
}

/// What signs: one HMAC key, or a ring of asymmetric keys with `kid`s.
enum Keys {
    Hmac {
        encoding: EncodingKey,
        decoding: DecodingKey,
    },
    Ring(RingHandle),
}

/// A handle that swaps the key ring of a running [`JwtSigner`] (the server
/// re-reads the key folder with it).
#[derive(Clone)]
pub struct RingHandle(std::sync::Arc<std::sync::RwLock<CurrentRing>>);

/// The ring in use and how many times it was replaced (what a verified
/// token remembers: a replaced ring may have dropped the key that signed it).
struct CurrentRing {
    generation: u64,
    ring: std::sync::Arc<KeyRing>,
}

impl RingHandle {
    fn new(ring: KeyRing) -> Self {
        Self(std::sync::Arc::new(std::sync::RwLock::new(CurrentRing {
            generation: 0,
            ring: std::sync::Arc::new(ring),
        })))
    }

    /// Makes `ring` the one that signs and verifies from now on. When it
    /// drops a key the old ring verified with, tokens verified before are
    /// checked again ([`JwtSigner::keep_verified`]); a ring that keeps every
    /// `kid` (the RFC 7638 thumbprint of its public key, so the same key)
    /// verifies everything the old one did, and they stay kept (the key
    /// folder is re-read every 10 s, mostly unchanged).
    pub fn replace(&self, ring: KeyRing) {
        if let Ok(mut guard) = self.0.write() {
            let dropped = guard
                .ring
                .verifying
                .keys()
                .any(|kid| !ring.verifying.contains_key(kid));
            if dropped {
                guard.generation += 1;
            }
            guard.ring = std::sync::Arc::new(ring);
        }
    }

    /// The ring in use and its generation.
    fn current(&self) -> Option<(u64, std::sync::Arc<KeyRing>)> {
        self.0
            .read()
            .ok()
            .map(|g| (g.generation, std::sync::Arc::clone(&g.ring)))
    }
}

/// Access tokens this signer has verified, by their exact text (issue 15:
/// a `/me` spent a fifth of its CPU parsing and checking the same token
/// again). Only successes are kept, each with the key ring generation that
/// verified it; a hit from another generation is verified again. Times are
/// not part of the answer (the service checks them on every use), so a
/// kept answer stays right for as long as the keys that checked it.
struct VerifiedTokens(moka::sync::Cache<std::sync::Arc<str>, (u64, AccessClaims)>);

impl VerifiedTokens {
    /// How long an answer is kept at most, in seconds (past any access
    /// token's lifetime, so the bytes bound is what usually evicts).
    const TIME_TO_LIVE_SECS: u64 = 3600;

    /// A cache of at most `max_bytes` (token text and claims, estimated).
    fn new(max_bytes: u64) -> Self {
        Self(
            moka::sync::Cache::builder()
                .max_capacity(max_bytes)
                .weigher(
                    |token: &std::sync::Arc<str>, (_, claims): &(u64, AccessClaims)| {
                        u32::try_from(token.len() + claims_weight(claims)).unwrap_or(u32::MAX)
                    },
                )
                .time_to_live(std::time::Duration::from_secs(Self::TIME_TO_LIVE_SECS))
                .build(),
        )
    }
}

/// The bytes a kept [`AccessClaims`] holds, estimated: the struct, its
/// strings and its lists.
fn claims_weight(claims: &AccessClaims) -> usize {
    let strings = |list: &[String]| list.iter().map(|s| s.len() + 24).sum::<usize>();
    std::mem::size_of::<AccessClaims>()
        + 64
        + claims
            .grants
            .as_ref()
            .map_or(0, |g| strings(&g.permissions))
        + claims.authentication.methods.len() * 8
}

impl std::fmt::Debug for RingHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RingHandle")
    }
}

/// Access tokens: HS256 with one key, or EdDSA/RS256 with a key ring. The
/// algorithm is fixed by configuration, never read from a token; asymmetric
/// tokens must name a known `kid`.
pub struct JwtSigner {
    keys: Keys,
    algorithm: Algorithm,
    validation: Validation,
    issuer: String,
    audience: String,
    /// See [`JwtSigner::keep_verified`]; `None`: every token is checked in full.
    verified: Option<VerifiedTokens>,
    /// The RS256 key of ID tokens when the ring is not RS256 (see
    /// [`JwtSigner::with_id_token_key`]); generated at first use when none
    /// was given.
    id_key: std::sync::Arc<std::sync::OnceLock<std::sync::Arc<SigningKey>>>,
    /// Where the ID-token key is kept (read or made at first use).
    id_key_file: Option<std::path::PathBuf>,
}

impl std::fmt::Debug for JwtSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JwtSigner")
            .field("algorithm", &self.algorithm)
            .field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .finish_non_exhaustive()
    }
}

fn validation(algorithm: Algorithm, config: &JwtConfig) -> Validation {
    let mut validation = Validation::new(algorithm);
    validation.algorithms = vec![algorithm];
    // Times are checked by the domain against its own clock.
    validation.validate_exp = false;
    validation.validate_nbf = false;
    validation.leeway = 0;
    validation.set_required_spec_claims(&["exp", "nbf", "iat", "iss", "aud", "sub"]);
    validation.set_issuer(&[&config.issuer]);
    validation.set_audience(&[&config.audience]);
    validation
}

impl JwtSigner {
    /// An HS256 signer with `config.secret`.
    #[must_use]
    pub fn new(config: &JwtConfig) -> Self {
        Self {
            keys: Keys::Hmac {
                encoding: EncodingKey::from_secret(&config.secret),
                decoding: DecodingKey::from_secret(&config.secret),
            },
            algorithm: Algorithm::HS256,
            validation: validation(Algorithm::HS256, config),
            issuer: config.issuer.clone(),
            audience: config.audience.clone(),
            verified: None,
            id_key: std::sync::Arc::default(),
            id_key_file: None,
        }
    }

    /// Keeps the answers of up to `max_bytes` of verified access tokens
    /// (token text and claims, estimated), so that a token presented again
    /// is not parsed and its signature checked again; 0 keeps none (the
    /// default). Only tokens that verified are kept, keyed by their whole
    /// text, and a key ring replaced since makes them be checked again.
    #[must_use]
    pub fn keep_verified(mut self, max_bytes: u64) -> Self {
        self.verified = (max_bytes > 0).then(|| VerifiedTokens::new(max_bytes));
        self
    }

    /// An EdDSA or RS256 signer over `ring` (`config.secret` is not used).
    #[must_use]
    pub fn with_ring(config: &JwtConfig, alg: KeyAlg, ring: KeyRing) -> Self {
        Self {
            keys: Keys::Ring(RingHandle::new(ring)),
            algorithm: alg.algorithm(),
            validation: validation(alg.algorithm(), config),
            issuer: config.issuer.clone(),
            audience: config.audience.clone(),
            verified: None,
            id_key: std::sync::Arc::default(),
            id_key_file: None,
        }
    }

    /// Signs ID tokens with `key` (RS256, PKCS#8) when access tokens are
    /// not signed with an RS256 ring; without it such a signer makes an
    /// RS256 key in memory at its first ID token, which other processes do
    /// not share (the server always gives one, issue 18).
    #[must_use]
    pub fn with_id_token_key(self, key: SigningKey) -> Self {
        let _ = self.id_key.set(std::sync::Arc::new(key));
        self
    }

    /// Keeps the RS256 ID-token key in the PEM file `path`: read at the
    /// first ID token (or JWKS), made there when missing. Instances that
    /// share the file sign with the same key.
    #[must_use]
    pub fn with_id_token_key_file(mut self, path: std::path::PathBuf) -> Self {
        self.id_key_file = Some(path);
        self
    }

    /// The key that signs ID tokens: the ring's active key when the ring
    /// is RS256, otherwise the dedicated one.
    fn id_token_key(&self) -> Result<std::sync::Arc<SigningKey>, SigningError> {
        if self.algorithm == Algorithm::RS256 {
            let ring = self
                .ring()
                .ok_or_else(|| SigningError("key ring unreadable".into()))?;
            return ring.active.clone().ok_or_else(|| {
                SigningError("no active signing key (run `tessera keys rotate`)".into())
            });
        }
        if let Some(key) = self.id_key.get() {
            return Ok(key.clone());
        }
        let key = match &self.id_key_file {
            Some(path) => crate::keyring::load_or_create_key_file(path, KeyAlg::Rs256),
            None => SigningKey::generate(KeyAlg::Rs256)
                .and_then(|der| SigningKey::from_pkcs8(KeyAlg::Rs256, &der)),
        }
        .map_err(|e| SigningError(e.to_string()))?;
        Ok(self.id_key.get_or_init(|| std::sync::Arc::new(key)).clone())
    }

    /// The handle that replaces the key ring; `None` for HS256.
    #[must_use]
    pub fn ring_handle(&self) -> Option<RingHandle> {
        match &self.keys {
            Keys::Ring(h) => Some(h.clone()),
            Keys::Hmac { .. } => None,
        }
    }

    fn ring(&self) -> Option<std::sync::Arc<KeyRing>> {
        match &self.keys {
            Keys::Ring(h) => h.current().map(|(_, ring)| ring),
            Keys::Hmac { .. } => None,
        }
    }

    /// Verifies `token` with the HMAC key or with `ring`'s keys (`None`
    /// for HS256), without the kept answers.
    fn verify_in_full(
        &self,
        token: &str,
        ring: Option<&KeyRing>,
    ) -> Result<AccessClaims, TokenProblem> {
        // Not three segments with a JSON header: not a JWT at all.
        let header = jsonwebtoken::decode_header(token).map_err(|_| TokenProblem::Malformed)?;
        let decoding = match (&self.keys, ring) {
            (Keys::Hmac { decoding, .. }, _) => decoding,
            (Keys::Ring(_), None) => return Err(TokenProblem::Invalid),
            (Keys::Ring(_), Some(ring)) => {
                // The kid only selects among our own keys: an unknown (or
                // path-like) kid is simply not found, so no key of ours
                // signed the token.
                let kid = header.kid.ok_or(TokenProblem::BadSignature)?;
                &ring
                    .verifying
                    .get(&kid)
                    .ok_or(TokenProblem::BadSignature)?
                    .decoding
            }
        };
        let data = decode::<Wire>(token, decoding, &self.validation).map_err(|e| problem_of(&e))?;
        if !header_is_understood(&data.header)
            || !is_access_typ(data.header.typ.as_deref())
            || data.claims.token_use != TOKEN_USE
        {
            return Err(TokenProblem::Invalid);
        }
        let w = data.claims;
        let user_id = w.account().ok_or(TokenProblem::Invalid)?;
        let issued_at = at(w.iat).ok_or(TokenProblem::Invalid)?;
        let authentication = Authentication {
            at: match w.auth_time {
                Some(t) => at(t).ok_or(TokenProblem::Invalid)?,
                None => issued_at,
            },
            methods: w.amr.iter().filter_map(|m| AuthMethod::parse(m)).collect(),
        };
        Ok(AccessClaims {
            user_id,
            subject: w.subject(user_id),
            session_id: SessionId(w.sid),
            token_id: w.jti,
            role: RoleName::parse(&w.role).map_err(|_| TokenProblem::Invalid)?,
            grants: w.grants(),
            authentication,
            issued_at,
            not_before: at(w.nbf).ok_or(TokenProblem::Invalid)?,
            expires_at: at(w.exp).ok_or(TokenProblem::Invalid)?,
            issued_to: match &w.client_id {
                Some(c) => Some(ClientId::parse(c).ok_or(TokenProblem::Invalid)?),
                None => None,
            },
            // The hook's claims are for the token's readers, not read back.
            custom: tessera_domain::model::CustomClaims::new(),
        })
    }
}

/// True when the header asks nothing of us that we do not implement.
///
/// RFC 7515 §4.1.11: a `crit` header lists extensions the recipient must
/// understand, or else reject the JWS; it must not be empty. Tessera
/// implements no extension, so any `crit` (even `[]`) refuses the token.
/// RFC 7797 §3: `"b64": false` means the payload is not base64url-encoded,
/// which changes what the signature covers; only the default (`true`, or
/// absent) is accepted, whether or not `crit` names it.
fn header_is_understood(header: &jsonwebtoken::Header) -> bool {
    header.crit.is_none()
        && header
            .extras
            .inner()
            .get("b64")
            .is_none_or(|b64| *b64 == serde_json::Value::Bool(true))
}

/// True for `at+jwt` or `application/at+jwt`, compared ignoring ASCII case as
/// media types are (RFC 9068 §4, RFC 2045 §5.1).
fn is_access_typ(typ: Option<&str>) -> bool {
    typ.is_some_and(|t| {
        t.eq_ignore_ascii_case(HEADER_TYP) || t.eq_ignore_ascii_case(HEADER_TYP_FULL)
    })
}

/// Why `decode` refused a token whose header read: a signature that does
/// not verify is [`TokenProblem::BadSignature`], a segment that is not
/// base64url (or not UTF-8) [`TokenProblem::Malformed`], anything else
/// (algorithm, issuer, audience, claims) [`TokenProblem::Invalid`].
fn problem_of(e: &jsonwebtoken::errors::Error) -> TokenProblem {
    use jsonwebtoken::errors::ErrorKind;
    match e.kind() {
        ErrorKind::InvalidSignature => TokenProblem::BadSignature,
        ErrorKind::InvalidToken | ErrorKind::Base64(_) | ErrorKind::Utf8(_) => {
            TokenProblem::Malformed
        }
        _ => TokenProblem::Invalid,
    }
}

fn at(secs: i64) -> Option<DateTime<Utc>> {
    Utc.timestamp_opt(secs, 0).single()
}

impl AccessTokenSigner for JwtSigner {
    fn sign(&self, claims: &AccessClaims) -> Result<String, SigningError> {
        let mut header = Header::new(self.algorithm);
        header.typ = Some(HEADER_TYP.to_owned());
        let ring;
        let encoding = match &self.keys {
            Keys::Hmac { encoding, .. } => encoding,
            Keys::Ring(_) => {
                ring = self
                    .ring()
                    .ok_or_else(|| SigningError("key ring unreadable".into()))?;
                let key = ring.active.as_ref().ok_or_else(|| {
                    SigningError("no active signing key (run `tessera keys rotate`)".into())
                })?;
                header.kid = Some(key.kid.clone());
                &key.encoding
            }
        };
        let grants = claims.grants.as_ref();
        let wire = Wire {
            sub: match &claims.subject {
                TokenSubject::AccountId => claims.user_id.0.to_string(),
                TokenSubject::Email(email) => email.as_str().to_owned(),
            },
            uid: Some(claims.user_id.0),
            sid: claims.session_id.0,
            jti: claims.token_id,
            role: claims.role.as_str().to_owned(),
            token_use: TOKEN_USE.to_owned(),
            iss: self.issuer.clone(),
            aud: self.audience.clone(),
            iat: claims.issued_at.timestamp(),
            nbf: claims.not_before.timestamp(),
            exp: claims.expires_at.timestamp(),
            permissions: grants.map(|g| g.permissions.clone()),
            is_superuser: grants.map(|g| g.super_admin),
            is_admin: grants.map(|g| g.admin_mode),
            amr: claims
                .authentication
                .methods
                .iter()
                .map(|m| m.as_str().to_owned())
                .collect(),
            acr: Some(claims.authentication.assurance().as_str().to_owned()),
            aal: Some(claims.authentication.assurance().level()),
            auth_time: Some(claims.authentication.at.timestamp()),
            client_id: claims.issued_to.as_ref().map(|c| c.as_str().to_owned()),
        };
        if claims.custom.is_empty() {
            return encode(&header, &wire, encoding).map_err(|e| SigningError(e.to_string()));
        }
        // The access-token hook's claims (issue 20) beside Tessera's, never
        // over one of them (the domain has dropped reserved names already).
        let mut object = match serde_json::to_value(&wire) {
            Ok(serde_json::Value::Object(map)) => map,
            Ok(_) => return Err(SigningError("claims are not an object".into())),
            Err(e) => return Err(SigningError(e.to_string())),
        };
        for (name, value) in &claims.custom {
            object.entry(name.clone()).or_insert_with(|| value.clone());
        }
        encode(&header, &object, encoding).map_err(|e| SigningError(e.to_string()))
    }

    fn public_keys(&self) -> Vec<serde_json::Value> {
        let mut keys: Vec<serde_json::Value> = self
            .ring()
            .map(|r| r.verifying.values().map(|k| k.jwk.clone()).collect())
            .unwrap_or_default();
        if self.algorithm != Algorithm::RS256
            && let Ok(key) = self.id_token_key()
        {
            keys.push(key.jwk.clone());
        }
        keys
    }

    fn verify(&self, token: &str) -> Result<AccessClaims, TokenProblem> {
        let (generation, ring) = match &self.keys {
            Keys::Hmac { .. } => (0, None),
            Keys::Ring(h) => match h.current() {
                Some((generation, ring)) => (generation, Some(ring)),
                None => return Err(TokenProblem::Invalid),
            },
        };
        if let Some(verified) = &self.verified
            && let Some((kept_generation, claims)) = verified.0.get(token)
            && kept_generation == generation
        {
            return Ok(claims);
        }
        let claims = self.verify_in_full(token, ring.as_deref())?;
        if let Some(verified) = &self.verified {
            verified
                .0
                .insert(token.into(), (generation, claims.clone()));
        }
        Ok(claims)
    }
}

impl tessera_domain::ports::ClientAssertionVerifier for JwtSigner {
    fn verify_client_assertion(
        &self,
        assertion: &str,
        jwks: &str,
    ) -> Result<serde_json::Value, String> {
        let header = jsonwebtoken::decode_header(assertion).map_err(|e| e.to_string())?;
        if !matches!(
            header.alg,
            Algorithm::RS256 | Algorithm::PS256 | Algorithm::ES256 | Algorithm::EdDSA
        ) {
            return Err(format!("algorithm {:?} is not accepted", header.alg));
        }
        let set: jsonwebtoken::jwk::JwkSet =
            serde_json::from_str(jwks).map_err(|e| e.to_string())?;
        let candidates: Vec<&jsonwebtoken::jwk::Jwk> = match &header.kid {
            Some(kid) => set.find(kid).into_iter().collect(),
            None => set.keys.iter().collect(),
        };
        let mut validation = Validation::new(header.alg);
        validation.algorithms = vec![header.alg];
        // The claims (iss, sub, aud, exp, jti) are the caller's to check.
        validation.validate_exp = false;
        validation.validate_aud = false;
        validation.required_spec_claims.clear();
        for jwk in candidates {
            let Ok(key) = DecodingKey::from_jwk(jwk) else {
                continue;
            };
            if let Ok(data) = decode::<serde_json::Value>(assertion, &key, &validation) {
                return Ok(data.claims);
            }
        }
        Err("no registered key verifies the assertion".into())
    }
}

impl tessera_domain::ports::IdTokenSigner for JwtSigner {
    fn id_token_algorithm(&self) -> &'static str {
        "RS256"
    }

    fn sign_id_token(&self, claims: &serde_json::Value) -> Result<String, SigningError> {
        let key = self.id_token_key()?;
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some(key.kid.clone());
        encode(&header, claims, &key.encoding).map_err(|e| SigningError(e.to_string()))
    }

    fn read_own_id_token(&self, token: &str) -> Option<serde_json::Value> {
        let header = jsonwebtoken::decode_header(token).ok()?;
        if header.alg != Algorithm::RS256 {
            return None;
        }
        let kid = header.kid?;
        // The ID-token key, or (an RS256 ring) any key the ring verifies with.
        let decoding = if self.algorithm == Algorithm::RS256 {
            self.ring()?.verifying.get(&kid)?.decoding.clone()
        } else {
            let key = self.id_token_key().ok()?;
            if key.kid != kid {
                return None;
            }
            key.decoding.clone()
        };
        let mut validation = Validation::new(Algorithm::RS256);
        validation.algorithms = vec![Algorithm::RS256];
        validation.validate_exp = false;
        validation.validate_nbf = false;
        validation.validate_aud = false;
        validation.required_spec_claims.clear();
        decode::<serde_json::Value>(token, &decoding, &validation)
            .ok()
            .map(|d| d.claims)
    }
}

#[cfg(test)]
mod tests;
