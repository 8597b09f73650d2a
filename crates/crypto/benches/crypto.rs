//! What one request's cryptography costs: JWT sign and verify (HS256,
//! EdDSA, RS256), one argon2id hash with the default parameters, SM3, and
//! the zxcvbn screening of a new password (issue 12) beside the hash it
//! precedes.
//!
//!     cargo bench -p tessera-crypto
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;

use chrono::{Duration, Utc};
use criterion::{Criterion, criterion_group, criterion_main};
use tessera_crypto::keyring::{KeyAlg, KeyRing, SigningKey};
use tessera_crypto::{Argon2Params, JwtConfig, JwtSigner};
use tessera_domain::model::SessionId;
use tessera_domain::model::UserId;
use tessera_domain::model::{AccessClaims, TokenSubject};
use tessera_domain::ports::AccessTokenSigner as _;
use tessera_domain::values::RoleName;

fn claims() -> AccessClaims {
    let now = Utc::now();
    AccessClaims {
        user_id: UserId(42),
        subject: TokenSubject::AccountId,
        session_id: SessionId(uuid::Uuid::new_v4()),
        token_id: uuid::Uuid::new_v4(),
        role: RoleName::parse("user").unwrap(),
        grants: None,
        authentication: tessera_domain::model::Authentication::password(now),
        issued_at: now,
        not_before: now,
        expires_at: now + Duration::minutes(15),
        issued_to: None,
        custom: tessera_domain::model::CustomClaims::new(),
    }
}

fn jwt(c: &mut Criterion) {
    let config = JwtConfig {
        secret: b"0123456789abcdef0123456789abcdef".to_vec(),
        issuer: "tessera".into(),
        audience: "tessera-clients".into(),
    };
    let mut signers = vec![("HS256", JwtSigner::new(&config))];
    for (name, alg) in [("EdDSA", KeyAlg::EdDsa), ("RS256", KeyAlg::Rs256)] {
        let der = SigningKey::generate(alg).unwrap();
        let key = SigningKey::from_pkcs8(alg, &der).unwrap();
        signers.push((
            name,
            JwtSigner::with_ring(&config, alg, KeyRing::single(key)),
        ));
    }
    let claims = claims();
    for (name, signer) in &signers {
        let token = signer.sign(&claims).unwrap();
        assert!(signer.verify(&token).is_ok());
        c.bench_function(&format!("jwt sign {name}"), |b| {
            b.iter(|| signer.sign(black_box(&claims)).unwrap());
        });
        c.bench_function(&format!("jwt verify {name}"), |b| {
            b.iter(|| signer.verify(black_box(&token)).unwrap());
        });
    }
}

fn argon2id(c: &mut Criterion) {
    let p = Argon2Params::default();
    let argon = argon2::Argon2::new(
        argon2::Algorithm::Argon2id,
        argon2::Version::V0x13,
        argon2::Params::new(p.memory_kib, p.iterations, p.parallelism, None).unwrap(),
    );
    let salt = *b"sixteen-byte-slt";
    let mut out = [0u8; 32];
    let mut group = c.benchmark_group("argon2id");
    group.sample_size(20);
    group.bench_function("hash m=19456 t=2 p=1", |b| {
        b.iter(|| {
            argon
                .hash_password_into(black_box(b"correct horse battery"), &salt, &mut out)
                .unwrap();
        });
    });
    group.finish();
}

/// `Password::parse` + `Password::screen` with the default policy (score 3),
/// as a registration does: typical passwords, long ones (scored on their
/// first 64 characters) and symbol-dense ones (zxcvbn's l33t worst case,
/// scored on a shorter prefix). The first call also builds zxcvbn's dictionaries (once per
/// process): printed apart.
fn password_screening(c: &mut Criterion) {
    use tessera_domain::values::{Password, PasswordPolicy};
    let policy = PasswordPolicy::default();
    let screen = |pw: &str| {
        Password::parse(pw, &policy)
            .unwrap()
            .screen(&policy, "alice", "alice@example.com")
    };
    let started = std::time::Instant::now();
    let _ = screen("Kite-Runner-9-Quill");
    println!(
        "zxcvbn first call (dictionaries built once per process): {:?}",
        started.elapsed()
    );
    let hundred: String = "Tr0ub4dor&3-correct-horse-battery-staple-"
        .chars()
        .cycle()
        .take(100)
        .collect();
    let max: String = hundred.chars().cycle().take(256).collect();
    let cases = [
        (
            "typical strong (19 chars)",
            "Kite-Runner-9-Quill".to_owned(),
        ),
        ("typical leaked (11 chars)", "password123".to_owned()),
        (
            "passphrase (28 chars)",
            "correct horse battery staple".to_owned(),
        ),
        ("100 chars (scored on 64)", hundred),
        ("256 chars (scored on 64)", max),
        ("generated (16 chars)", "q7#Vz9!mK2$wL8@x".to_owned()),
        (
            "85 random symbols (l33t-bounded)",
            "q7#Vz9!mK2$wL8@xR4%tN6^pB1&hJ3*cF5(gD0)sY7-eU2+aI9=oP4[lM8]kZ6{jX1}uC3;vT5:bW0,nQ2."
                .to_owned(),
        ),
        (
            "20 l33t substitutes (l33t-bounded)",
            "4@8({[<3691!|70$5+%2".to_owned(),
        ),
    ];
    let mut group = c.benchmark_group("password screening");
    for (name, pw) in &cases {
        group.bench_function(*name, |b| b.iter(|| screen(black_box(pw))));
    }
    group.finish();
}

fn sm3(c: &mut Criterion) {
    c.bench_function("sm3 hex of a password", |b| {
        b.iter(|| tessera_crypto::legacy::sm3_hex(black_box("Plain-Pass-1")));
    });
}

criterion_group!(benches, jwt, argon2id, password_screening, sm3);
criterion_main!(benches);
