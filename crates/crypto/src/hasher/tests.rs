//! The hasher's tests.

use super::*;

fn small() -> Argon2Params {
    Argon2Params {
        memory_kib: 64,
        iterations: 1,
        parallelism: 1,
    }
}

#[tokio::test]
async fn hashes_run_on_a_fixed_set_of_niced_threads() {
    let h = Argon2Hasher::new(
        small(),
        HasherLimits {
            max_in_flight: 3,
            max_waiting: 8,
        },
    )
    .unwrap();
    let pw = PasswordAttempt::parse("password123").unwrap();
    for _ in 0..12 {
        h.hash(&pw).await.unwrap();
    }
    // Each thread of this process named tessera-hash-*, with its niceness
    // (field 19 of /proc/self/task/<tid>/stat, after the ")" of the name).
    let mut niceness = Vec::new();
    for task in std::fs::read_dir("/proc/self/task").unwrap().flatten() {
        let comm = std::fs::read_to_string(task.path().join("comm")).unwrap_or_default();
        if comm.starts_with("tessera-hash-") {
            let stat = std::fs::read_to_string(task.path().join("stat")).unwrap();
            let after = &stat[stat.rfind(')').unwrap() + 2..];
            niceness.push(after.split(' ').nth(16).unwrap().parse::<i32>().unwrap());
        }
    }
    // Other tests' hashers may run in this process too: at least ours.
    assert!(niceness.len() >= 3, "{niceness:?}");
    assert!(niceness.iter().all(|n| *n == 10), "{niceness:?}");
}

#[test]
fn reused_memory_hashes_are_the_argon2_crates_phc_strings_both_ways() {
    use argon2::password_hash::PasswordVerifier as _;
    let ours = Argon2::new(
        Algorithm::Argon2id,
        Version::V0x13,
        Params::new(64, 1, 1, None).unwrap(),
    );
    let phc = hash_phc(&ours, b"secret").unwrap();
    assert!(phc.starts_with("$argon2id$v=19$m=64,t=1,p=1$"), "{phc}");
    assert!(ours.verify_password(b"secret", phc.as_str()).is_ok());
    assert!(verify_phc(b"secret", &phc).unwrap());
    assert!(!verify_phc(b"secreT", &phc).unwrap());
    // A hash the crate wrote with other parameters (and a bigger memory
    // than this thread has used so far) verifies too.
    let theirs = Argon2::new(
        Algorithm::Argon2id,
        Version::V0x13,
        Params::new(256, 2, 1, None).unwrap(),
    )
    .hash_password(b"other")
    .unwrap()
    .to_string();
    assert!(verify_phc(b"other", &theirs).unwrap());
    assert!(!verify_phc(b"secret", &theirs).unwrap());
    assert!(verify_phc(b"x", "$argon2id$v=19$m=64,t=1,p=1$bm9zYWx0").is_err());
}

#[tokio::test]
async fn hashes_argon2id_and_verifies() {
    let h = Argon2Hasher::new(small(), HasherLimits::default()).unwrap();
    let pw = PasswordAttempt::parse("password123").unwrap();
    let hash = h.hash(&pw).await.unwrap();
    assert!(hash.as_str().starts_with("$argon2id$v=19$m=64,t=1,p=1$"));
    assert!(h.verify(&pw, &hash).await.unwrap());
    assert!(
        !h.verify(&PasswordAttempt::parse("password124").unwrap(), &hash)
            .await
            .unwrap()
    );
    assert!(!h.verify(&pw, h.dummy_hash()).await.unwrap());
    assert!(
        h.verify(&pw, &PasswordHash::new("not a phc string"))
            .await
            .is_err()
    );
}

#[tokio::test]
async fn the_password_and_its_sm3_digest_verify_alike() {
    let h = Argon2Hasher::new(small(), HasherLimits::default()).unwrap();
    let plain = PasswordAttempt::parse("password123").unwrap();
    let digest = crate::legacy::sm3_hex("password123");
    let as_digest = PasswordAttempt::sm3_digest(&digest.to_ascii_uppercase()).unwrap();
    let other = PasswordAttempt::sm3_digest(&crate::legacy::sm3_hex("password124")).unwrap();
    // Hashed from the password, verified by either form, and the reverse.
    let from_plain = h.hash(&plain).await.unwrap();
    let from_digest = h.hash(&as_digest).await.unwrap();
    for hash in [&from_plain, &from_digest] {
        assert!(h.verify(&plain, hash).await.unwrap());
        assert!(h.verify(&as_digest, hash).await.unwrap());
        assert!(!h.verify(&other, hash).await.unwrap());
    }
    // The digest itself, sent as a password, is a different password.
    let digest_as_plain = PasswordAttempt::parse(&digest).unwrap();
    assert!(!h.verify(&digest_as_plain, &from_plain).await.unwrap());
    // Legacy hashes: an SM3 hash matches the digest; SHA-256 needs the password.
    let sm3_hash = PasswordHash::new(format!("sm3${digest}"));
    assert!(h.verify(&as_digest, &sm3_hash).await.unwrap());
    let sha = PasswordHash::new(
        "sha256$ef92b778bafe771e89245b89ecbc08a44a4e166c06659911881f383d4473e94f",
    );
    assert!(h.verify(&plain, &sha).await.unwrap());
    assert!(!h.verify(&as_digest, &sha).await.unwrap());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refuses_instead_of_queueing_without_bound() {
    let heavy = Argon2Params {
        memory_kib: 8 * 1024,
        iterations: 3,
        parallelism: 1,
    };
    let h = Argon2Hasher::new(
        heavy,
        HasherLimits {
            max_in_flight: 1,
            max_waiting: 2,
        },
    )
    .unwrap();
    let pw = PasswordAttempt::parse("password123").unwrap();
    let tasks: Vec<_> = (0..12)
        .map(|_| {
            let (h, pw) = (h.clone(), pw.clone());
            tokio::spawn(async move { h.hash(&pw).await })
        })
        .collect();
    let mut ok = 0;
    let mut busy = 0;
    for t in tasks {
        match t.await.unwrap() {
            Ok(_) => ok += 1,
            Err(HashError::Busy) => busy += 1,
            Err(e) => panic!("unexpected {e}"),
        }
    }
    assert!((1..=3).contains(&ok), "ok={ok}");
    assert_eq!(ok + busy, 12);
    assert_eq!(h.admitted(), 0);
    assert_eq!(h.in_flight(), 0);
}
