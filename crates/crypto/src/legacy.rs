//! Password hashes the seed projects stored, verified once at login and then
//! replaced by argon2id:
//! - `sha256$<hex>` or bare 64-hex: unsalted SHA-256 (seed 001's real code);
//! - `sm3$<hex>` or bare 64-hex: SM3 (seed 001's README);
//! - `pbkdf2:sha256:<rounds>$<salt>$<hex>` and `scrypt:<n>:<r>:<p>$<salt>$<hex>`: werkzeug (002, 003);
//! - `$2a$`, `$2b$`, `$2y$`: bcrypt (000, 004).

use hmac::digest::Digest as _;
use subtle::ConstantTimeEq as _;

/// SM3 of `input`, as lower-case hex.
#[must_use]
pub fn sm3_hex(input: &str) -> String {
    crate::hex(&sm3::Sm3::digest(input.as_bytes()))
}

fn sha256_hex(input: &str) -> String {
    crate::hex(&sha2::Sha256::digest(input.as_bytes()))
}

fn eq(a: &str, b: &str) -> bool {
    a.len() == b.len() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

fn is_hex64(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// True for every hash format this module reads.
#[must_use]
pub fn is_legacy(stored: &str) -> bool {
    stored.starts_with("sha256$")
        || stored.starts_with("sm3$")
        || stored.starts_with("pbkdf2:sha256:")
        || stored.starts_with("scrypt:")
        || stored.starts_with("$2a$")
        || stored.starts_with("$2b$")
        || stored.starts_with("$2y$")
        || is_hex64(stored)
}

fn werkzeug_pbkdf2(password: &str, spec: &str) -> Option<bool> {
    // pbkdf2:sha256:<rounds>$<salt>$<hex>
    let (method, rest) = spec.split_once('$')?;
    let (salt, expected) = rest.split_once('$')?;
    let rounds: u32 = method.strip_prefix("pbkdf2:sha256:")?.parse().ok()?;
    let mut out = vec![0u8; expected.len() / 2];
    if out.is_empty() || rounds == 0 {
        return None;
    }
    pbkdf2::pbkdf2_hmac::<sha2::Sha256>(password.as_bytes(), salt.as_bytes(), rounds, &mut out);
    Some(eq(&crate::hex(&out), &expected.to_ascii_lowercase()))
}

fn werkzeug_scrypt(password: &str, spec: &str) -> Option<bool> {
    // scrypt:<n>:<r>:<p>$<salt>$<hex>
    let (method, rest) = spec.split_once('$')?;
    let (salt, expected) = rest.split_once('$')?;
    let mut it = method.strip_prefix("scrypt:")?.split(':');
    let n: u64 = it.next()?.parse().ok()?;
    let r: u32 = it.next()?.parse().ok()?;
    let p: u32 = it.next()?.parse().ok()?;
    if !n.is_power_of_two() {
        return None;
    }
    let log_n = u8::try_from(n.trailing_zeros()).ok()?;
    let params = scrypt::Params::new(log_n, r, p).ok()?;
    let mut out = vec![0u8; expected.len() / 2];
    scrypt::scrypt(password.as_bytes(), salt.as_bytes(), &params, &mut out).ok()?;
    Some(eq(&crate::hex(&out), &expected.to_ascii_lowercase()))
}

/// Checks `password` against a legacy hash; `None` when `stored` is not a
/// legacy format (or is malformed).
#[must_use]
pub fn verify_legacy(password: &str, stored: &str) -> Option<bool> {
    if let Some(hex) = stored.strip_prefix("sha256$") {
        return Some(eq(&sha256_hex(password), &hex.to_ascii_lowercase()));
    }
    if let Some(hex) = stored.strip_prefix("sm3$") {
        return Some(eq(&sm3_hex(password), &hex.to_ascii_lowercase()));
    }
    if is_hex64(stored) {
        let hex = stored.to_ascii_lowercase();
        return Some(eq(&sha256_hex(password), &hex) | eq(&sm3_hex(password), &hex));
    }
    if stored.starts_with("pbkdf2:") {
        return werkzeug_pbkdf2(password, stored);
    }
    if stored.starts_with("scrypt:") {
        return werkzeug_scrypt(password, stored);
    }
    if stored.starts_with("$2a$") || stored.starts_with("$2b$") || stored.starts_with("$2y$") {
        return bcrypt::verify(password, stored).ok();
    }
    None
}

/// Checks an SM3 digest sent in place of the password (seed 001's README)
/// against a legacy hash: only SM3 hashes can match it; every other legacy
/// format needs the password itself. `None` when `stored` is not a legacy format.
#[must_use]
pub fn verify_legacy_digest(digest: &str, stored: &str) -> Option<bool> {
    let digest = digest.to_ascii_lowercase();
    if let Some(hex) = stored.strip_prefix("sm3$") {
        return Some(eq(&digest, &hex.to_ascii_lowercase()));
    }
    if is_hex64(stored) {
        return Some(eq(&digest, &stored.to_ascii_lowercase()));
    }
    is_legacy(stored).then_some(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    // Computed with Python's hashlib (the library werkzeug uses).
    const SHA256: &str = "ef92b778bafe771e89245b89ecbc08a44a4e166c06659911881f383d4473e94f";
    const PBKDF2: &str = "pbkdf2:sha256:1000$Hx1f2G$0358749ecbe6a56c1a03f2dc9b4d7e6136a4a40d12321f1196d65a2fa6befceb";
    const SCRYPT: &str = "scrypt:1024:8:1$Qz9saltX$682406772ceef1a5ee538757c050300db08ca92daf9d78932f4f06a600a68d0d0f4a396c7cc57ef718b995f378c238cf04f2fb561cf0cdba7988fbd862f51369";

    #[test]
    fn sha256_and_sm3_hex() {
        assert_eq!(verify_legacy("password123", SHA256), Some(true));
        assert_eq!(
            verify_legacy("password123", &format!("sha256${SHA256}")),
            Some(true)
        );
        assert_eq!(verify_legacy("password124", SHA256), Some(false));
        let sm3 = sm3_hex("password123");
        assert_eq!(
            sm3_hex("abc"),
            "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0",
            "GB/T 32905 vector"
        );
        assert_eq!(verify_legacy("password123", &sm3), Some(true));
        assert_eq!(
            verify_legacy("password123", &format!("sm3${sm3}")),
            Some(true)
        );
        assert_eq!(
            verify_legacy("password123", &format!("sm3${SHA256}")),
            Some(false)
        );
    }

    #[test]
    fn werkzeug_formats() {
        assert_eq!(verify_legacy("password123", PBKDF2), Some(true));
        assert_eq!(verify_legacy("password124", PBKDF2), Some(false));
        assert_eq!(verify_legacy("password123", SCRYPT), Some(true));
        assert_eq!(verify_legacy("password124", SCRYPT), Some(false));
        assert_eq!(verify_legacy("x", "pbkdf2:sha256:notanumber$s$00"), None);
        assert_eq!(
            verify_legacy("x", "scrypt:1000:8:1$s$00"),
            None,
            "n must be a power of two"
        );
    }

    #[test]
    fn bcrypt_formats() {
        let hash = bcrypt::hash("password123", 4).unwrap();
        assert!(hash.starts_with("$2b$04$"));
        assert_eq!(verify_legacy("password123", &hash), Some(true));
        assert_eq!(verify_legacy("password124", &hash), Some(false));
        assert_eq!(
            verify_legacy("password123", &hash.replacen("$2b$", "$2a$", 1)),
            Some(true)
        );
    }

    #[test]
    fn argon2_is_not_legacy() {
        assert!(!is_legacy("$argon2id$v=19$m=64,t=1,p=1$c2FsdA$aGFzaA"));
        assert_eq!(
            verify_legacy("x", "$argon2id$v=19$m=64,t=1,p=1$c2FsdA$aGFzaA"),
            None
        );
    }
}
