use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use tessera_domain::model::SessionId;
use tessera_domain::model::{RefreshToken, RefreshTokenParts, TokenFingerprint};
use tessera_domain::ports::RefreshTokenCodec;
use uuid::Uuid;

type HmacSha256 = Hmac<Sha256>;

const VERSION: u8 = 1;
const BODY: usize = 1 + 16 + 4;
const MAC: usize = 32;

/// Refresh tokens of the form `base64url(version ‖ session ‖ generation ‖ HMAC-SHA256)`.
///
/// The MAC key never leaves the server; stores keep only the token's SHA-256
/// fingerprint. Because a token is a function of (session, generation), the
/// live token can be handed out again during the reuse interval without being
/// stored anywhere.
#[derive(Clone)]
pub struct HmacRefreshCodec {
    key: Vec<u8>,
}

impl std::fmt::Debug for HmacRefreshCodec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("HmacRefreshCodec(***)")
    }
}

impl HmacRefreshCodec {
    /// A codec keyed by `master`, separated from other uses of the same secret
    /// by a fixed label.
    #[must_use]
    pub fn new(master: &[u8]) -> Self {
        let key = mac(master, &[b"tessera refresh-token key v1"]).to_vec();
        Self { key }
    }
}

fn mac(key: &[u8], parts: &[&[u8]]) -> [u8; MAC] {
    // HMAC accepts keys of any length, so this cannot fail.
    let mut m = <HmacSha256 as KeyInit>::new_from_slice(key)
        .unwrap_or_else(|_| HmacSha256::new(&Default::default()));
    for p in parts {
        m.update(p);
    }
    m.finalize().into_bytes().into()
}

impl RefreshTokenCodec for HmacRefreshCodec {
    fn issue(&self, session: SessionId, generation: u32) -> RefreshToken {
        let mut raw = Vec::with_capacity(BODY + MAC);
        raw.push(VERSION);
        raw.extend_from_slice(session.0.as_bytes());
        raw.extend_from_slice(&generation.to_be_bytes());
        let tag = mac(&self.key, &[&raw]);
        raw.extend_from_slice(&tag);
        RefreshToken::new(URL_SAFE_NO_PAD.encode(raw))
    }

    fn parse(&self, token: &str) -> Option<RefreshTokenParts> {
        if token.len() > 128 {
            return None;
        }
        let raw = URL_SAFE_NO_PAD.decode(token.trim()).ok()?;
        if raw.len() != BODY + MAC || raw.first() != Some(&VERSION) {
            return None;
        }
        let (body, tag) = raw.split_at(BODY);
        let mut m = <HmacSha256 as KeyInit>::new_from_slice(&self.key).ok()?;
        m.update(body);
        m.verify_slice(tag).ok()?;
        let session = Uuid::from_slice(body.get(1..17)?).ok()?;
        let generation = u32::from_be_bytes(body.get(17..21)?.try_into().ok()?);
        Some(RefreshTokenParts {
            session_id: SessionId(session),
            generation,
        })
    }

    fn fingerprint(&self, token: &RefreshToken) -> TokenFingerprint {
        crate::fingerprint(token.expose())
    }

    fn keyed_fingerprint(&self, secret: &str) -> TokenFingerprint {
        TokenFingerprint(crate::hex(&mac(
            &self.key,
            &[b"verification secret", secret.as_bytes()],
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_determinism() {
        let c = HmacRefreshCodec::new(b"master key");
        let sid = SessionId(Uuid::new_v4());
        let t = c.issue(sid, 3);
        assert_eq!(
            c.parse(t.expose()),
            Some(RefreshTokenParts {
                session_id: sid,
                generation: 3
            })
        );
        assert_eq!(c.issue(sid, 3), t);
        assert_ne!(c.issue(sid, 4), t);
    }

    #[test]
    fn forged_or_foreign_tokens_are_refused() {
        let c = HmacRefreshCodec::new(b"master key");
        let other = HmacRefreshCodec::new(b"another key");
        let t = c.issue(SessionId(Uuid::new_v4()), 0);
        assert_eq!(other.parse(t.expose()), None);
        let mut raw = URL_SAFE_NO_PAD.decode(t.expose()).unwrap();
        raw[20] ^= 1; // bump the generation without the key
        assert_eq!(c.parse(&URL_SAFE_NO_PAD.encode(raw)), None);
        assert_eq!(c.parse("eyJhbGciOiJIUzI1NiJ9.e30.x"), None);
        assert_eq!(c.parse(""), None);
    }
}
