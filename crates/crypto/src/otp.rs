//! TOTP (RFC 6238) with `totp-rs`, and the sealing of TOTP secrets at rest
//! with XChaCha20-Poly1305 (`chacha20poly1305`) under a key that HKDF-SHA256
//! (`hkdf`, RFC 5869) derives from the server secret.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use chrono::{DateTime, Utc};
use tessera_domain::error::StoreError;
use tessera_domain::model::{SealedSecret, TotpSecret};
use tessera_domain::ports::OneTimePasswords;
use totp_rs::{Algorithm, Builder, Secret, Totp};
use uuid::Uuid;

/// Version byte of a sealed secret: `v1.` + base64url(nonce ‖ ciphertext ‖ tag).
const PREFIX: &str = "v1.";
/// XChaCha20's nonce: 24 bytes, random per sealing.
const NONCE: usize = 24;
/// A TOTP secret: 160 bits (RFC 4226 §4, R6).
const SECRET_BYTES: usize = 20;

/// RFC 6238 codes with SHA-1, 6 digits and 30-second steps, one step of
/// skew either side, and secrets sealed by a key derived from the server
/// secret (HKDF-SHA256, info `tessera totp-secret key v1`).
#[derive(Clone)]
pub struct TotpAuthenticator {
    cipher: XChaCha20Poly1305,
}

impl std::fmt::Debug for TotpAuthenticator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TotpAuthenticator(***)")
    }
}

impl TotpAuthenticator {
    /// An authenticator whose sealing key is derived from `master` (the
    /// server secret, any length).
    #[must_use]
    pub fn new(master: &[u8]) -> Self {
        let hk = hkdf::Hkdf::<sha2::Sha256>::new(Some(b"tessera"), master);
        let mut key = [0u8; 32];
        // 32 bytes is far below HKDF-SHA256's 8160-byte limit: cannot fail.
        let _ = hk.expand(b"tessera totp-secret key v1", &mut key);
        let cipher = XChaCha20Poly1305::new(&key.into());
        Self { cipher }
    }

    /// The code of `secret` at `at` (for tests and the command line: what an
    /// authenticator app would show).
    #[must_use]
    pub fn code_at(secret: &TotpSecret, at: DateTime<Utc>) -> Option<String> {
        let totp = totp(secret, None)?;
        Some(totp.generate(unix(at)).to_string())
    }
}

fn unix(at: DateTime<Utc>) -> u64 {
    u64::try_from(at.timestamp()).unwrap_or(0)
}

/// The `totp-rs` generator of `secret`, labelled when `label` is given.
fn totp(secret: &TotpSecret, label: Option<(&str, &str)>) -> Option<Totp> {
    let secret = Secret::try_from_base32(secret.expose()).ok()?;
    let mut builder = Builder::new()
        .with_algorithm(Algorithm::SHA1)
        .with_digits(6)
        .with_skew(1)
        .with_step_duration(30)
        .with_secret(secret);
    if let Some((issuer, account)) = label {
        // The key-URI format reserves ':' between issuer and account.
        builder = builder
            .with_issuer(Some(issuer.replace(':', " ")))
            .with_account_name(account.replace(':', " "));
    }
    builder.build().ok()
}

impl OneTimePasswords for TotpAuthenticator {
    fn new_secret(&self) -> Result<TotpSecret, StoreError> {
        let bytes = crate::random_bytes(SECRET_BYTES)
            .map_err(|e| StoreError::Unavailable(format!("randomness: {e}")))?;
        Ok(TotpSecret::new(Secret::from(bytes).to_base32()))
    }

    fn seal(&self, owner: Uuid, secret: &TotpSecret) -> Result<SealedSecret, StoreError> {
        let nonce_bytes = crate::random_bytes(NONCE)
            .map_err(|e| StoreError::Unavailable(format!("randomness: {e}")))?;
        let nonce = XNonce::try_from(nonce_bytes.as_slice())
            .map_err(|_| StoreError::Unavailable("nonce length".into()))?;
        let sealed = self
            .cipher
            .encrypt(
                &nonce,
                Payload {
                    msg: secret.expose().as_bytes(),
                    aad: owner.as_bytes(),
                },
            )
            .map_err(|_| StoreError::Unavailable("sealing failed".into()))?;
        let mut raw = nonce_bytes;
        raw.extend_from_slice(&sealed);
        Ok(SealedSecret(format!(
            "{PREFIX}{}",
            URL_SAFE_NO_PAD.encode(raw)
        )))
    }

    fn open(&self, owner: Uuid, sealed: &SealedSecret) -> Option<TotpSecret> {
        let raw = URL_SAFE_NO_PAD
            .decode(sealed.0.strip_prefix(PREFIX)?)
            .ok()?;
        if raw.len() <= NONCE {
            return None;
        }
        let (nonce, ciphertext) = raw.split_at(NONCE);
        let nonce = XNonce::try_from(nonce).ok()?;
        let plain = self
            .cipher
            .decrypt(
                &nonce,
                Payload {
                    msg: ciphertext,
                    aad: owner.as_bytes(),
                },
            )
            .ok()?;
        String::from_utf8(plain).ok().map(TotpSecret::new)
    }

    fn provisioning_uri(&self, secret: &TotpSecret, issuer: &str, account: &str) -> String {
        totp(secret, Some((issuer, account)))
            .and_then(|t| t.to_url().ok())
            .unwrap_or_default()
    }

    fn matching_step(&self, secret: &TotpSecret, code: &str, at: DateTime<Utc>) -> Option<u64> {
        let code = code.trim();
        if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        totp(secret, None)?.check(code, unix(at))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238 Appendix B, SHA-1 rows (8-digit codes; the last 6 digits
    /// are the 6-digit code of the same step).
    #[test]
    fn codes_match_rfc_6238_test_vectors() {
        let secret = TotpSecret::new(Secret::from(b"12345678901234567890".to_vec()).to_base32());
        for (t, code) in [
            (59, "94287082"),
            (1_111_111_109, "07081804"),
            (1_234_567_890, "89005924"),
            (2_000_000_000, "69279037"),
        ] {
            let at = DateTime::from_timestamp(t, 0).unwrap_or_default();
            assert_eq!(
                TotpAuthenticator::code_at(&secret, at).as_deref(),
                code.get(2..)
            );
        }
    }

    #[test]
    fn one_step_of_skew_either_side_and_no_more() {
        let otp = TotpAuthenticator::new(b"master");
        let secret = otp.new_secret().unwrap_or_else(|_| TotpSecret::new(""));
        let at = DateTime::from_timestamp(1_800_000_000, 0).unwrap_or_default();
        let step = 1_800_000_000 / 30;
        let code = |secs: i64| {
            TotpAuthenticator::code_at(&secret, at + chrono::Duration::seconds(secs))
                .unwrap_or_default()
        };
        assert_eq!(otp.matching_step(&secret, &code(0), at), Some(step));
        assert_eq!(otp.matching_step(&secret, &code(-30), at), Some(step - 1));
        assert_eq!(otp.matching_step(&secret, &code(30), at), Some(step + 1));
        assert_eq!(otp.matching_step(&secret, &code(-60), at), None);
        assert_eq!(otp.matching_step(&secret, &code(60), at), None);
        assert_eq!(otp.matching_step(&secret, "12345", at), None);
    }

    #[test]
    fn sealed_secrets_open_only_with_their_key_and_owner() {
        let otp = TotpAuthenticator::new(b"master");
        let secret = otp.new_secret().unwrap_or_else(|_| TotpSecret::new(""));
        assert_eq!(secret.expose().len(), 32, "160 bits in base32");
        let owner = Uuid::new_v4();
        let sealed = otp
            .seal(owner, &secret)
            .unwrap_or_else(|_| SealedSecret(String::new()));
        assert!(!sealed.0.contains(secret.expose()));
        assert!(sealed.0.len() <= 255);
        assert_eq!(otp.open(owner, &sealed), Some(secret.clone()));
        assert_eq!(otp.open(Uuid::new_v4(), &sealed), None, "another owner");
        assert_eq!(
            TotpAuthenticator::new(b"other").open(owner, &sealed),
            None,
            "another key"
        );
        let mut altered = sealed.0.clone();
        altered.pop();
        altered.push(if sealed.0.ends_with('A') { 'B' } else { 'A' });
        assert_eq!(otp.open(owner, &SealedSecret(altered)), None);
        let uri = otp.provisioning_uri(&secret, "Tessera:dev", "ann@example.com");
        assert!(
            uri.starts_with("otpauth://totp/Tessera%20dev:ann%40example.com?"),
            "{uri}"
        );
        assert!(
            uri.contains(&format!("secret={}", secret.expose())),
            "{uri}"
        );
    }
}
