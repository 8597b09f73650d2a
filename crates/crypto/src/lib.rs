//! # tessera-crypto
//!
//! Cryptographic adapters for Tessera's ports:
//! - [`Argon2Hasher`]: argon2id PHC hashes, computed on dedicated hash threads
//!   with a bounded number in flight and a bounded queue;
//! - [`JwtSigner`]: HS256 access tokens with a fixed algorithm, `typ`, `iss` and `aud`;
//! - [`HmacRefreshCodec`]: opaque refresh tokens, MAC'd so they can be re-derived
//!   and checked without ever being stored;
//! - [`TotpAuthenticator`]: RFC 6238 codes (`totp-rs`) and TOTP secrets sealed
//!   at rest (XChaCha20-Poly1305 under an HKDF-derived key);
//! - [`WebAuthnRelyingParty`]: passkey ceremonies (`webauthn-rs`);
//! - [`fingerprint`] and [`random_bytes`].

mod hasher;
mod jwt;
pub mod keyring;
pub mod legacy;
mod otp;
mod refresh;
mod webauthn;

pub use hasher::{
    Argon2Hasher, Argon2Params, Calibration, HasherLimits, calibrate, parallel_throughput,
};
pub use jwt::{JwtConfig, JwtSigner, RingHandle};
pub use otp::TotpAuthenticator;
pub use refresh::HmacRefreshCodec;
pub use webauthn::WebAuthnRelyingParty;

use sha2::{Digest, Sha256};

/// Lower-case hex of `bytes`.
#[must_use]
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0x0f)]));
    }
    out
}

/// SHA-256 of a secret token, as lower-case hex: what stores keep instead of the token.
#[must_use]
pub fn fingerprint(secret: &str) -> tessera_domain::model::TokenFingerprint {
    tessera_domain::model::TokenFingerprint(hex(&Sha256::digest(secret.as_bytes())))
}

/// `n` bytes from the operating system's CSPRNG.
///
/// # Errors
/// When the operating system cannot provide randomness.
pub fn random_bytes(n: usize) -> Result<Vec<u8>, getrandom::Error> {
    let mut buf = vec![0u8; n];
    getrandom::fill(&mut buf)?;
    Ok(buf)
}

#[cfg(test)]
mod tests {
    #[test]
    fn fingerprint_is_sha256_hex() {
        assert_eq!(
            super::fingerprint("abc").0,
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn random_bytes_differ() {
        let a = super::random_bytes(32).unwrap();
        let b = super::random_bytes(32).unwrap();
        assert_eq!(a.len(), 32);
        assert_ne!(a, b);
    }
}
