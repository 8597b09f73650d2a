//! The JWT signer's tests.

use super::*;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

fn config(secret: &[u8]) -> JwtConfig {
    JwtConfig {
        secret: secret.to_vec(),
        issuer: "tessera".into(),
        audience: "tessera-api".into(),
    }
}

fn claims() -> AccessClaims {
    let now = Utc
        .timestamp_opt(Utc::now().timestamp(), 0)
        .single()
        .unwrap();
    AccessClaims {
        user_id: UserId(7),
        subject: TokenSubject::AccountId,
        session_id: SessionId(Uuid::new_v4()),
        token_id: Uuid::new_v4(),
        role: RoleName::parse("unauth").unwrap(),
        grants: None,
        authentication: Authentication::password(now),
        issued_at: now,
        not_before: now,
        expires_at: now + chrono::Duration::seconds(900),
        issued_to: None,
        custom: tessera_domain::model::CustomClaims::new(),
    }
}

#[test]
fn round_trip() {
    let s = JwtSigner::new(&config(&[7; 32]));
    let c = claims();
    let token = s.sign(&c).unwrap();
    assert_eq!(s.verify(&token).unwrap(), c);
}

#[test]
fn other_key_issuer_or_audience_is_refused() {
    let c = claims();
    let token = JwtSigner::new(&config(&[7; 32])).sign(&c).unwrap();
    assert_eq!(
        JwtSigner::new(&config(&[8; 32])).verify(&token),
        Err(TokenProblem::BadSignature)
    );
    let mut other = config(&[7; 32]);
    other.issuer = "someone-else".into();
    assert_eq!(
        JwtSigner::new(&other).verify(&token),
        Err(TokenProblem::Invalid)
    );
    let mut other = config(&[7; 32]);
    other.audience = "another-api".into();
    assert_eq!(
        JwtSigner::new(&other).verify(&token),
        Err(TokenProblem::Invalid)
    );
}

#[test]
fn alg_none_and_tampering_are_refused() {
    let s = JwtSigner::new(&config(&[7; 32]));
    let token = s.sign(&claims()).unwrap();
    let parts: Vec<&str> = token.split('.').collect();
    let none_header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"at+jwt"}"#);
    // jsonwebtoken knows no `none` algorithm: the header does not read.
    assert_eq!(
        s.verify(&format!("{none_header}.{}.", parts[1])),
        Err(TokenProblem::Malformed)
    );
    let payload = String::from_utf8(URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
    let forged = URL_SAFE_NO_PAD.encode(payload.replace("\"unauth\"", "\"super_admin\""));
    assert_eq!(
        s.verify(&format!("{}.{forged}.{}", parts[0], parts[2])),
        Err(TokenProblem::BadSignature)
    );
    for garbage in ["not-a-jwt", "a.b", "a.b.c", "garbage", ""] {
        assert_eq!(s.verify(garbage), Err(TokenProblem::Malformed), "{garbage}");
    }
    assert_eq!(
        s.verify(&format!("{}.{}.not*base64", parts[0], parts[1])),
        Err(TokenProblem::Malformed)
    );
}

#[test]
fn a_token_without_the_access_typ_is_refused() {
    let cfg = config(&[7; 32]);
    let s = JwtSigner::new(&cfg);
    let c = claims();
    let mut header = Header::new(Algorithm::HS256);
    header.typ = Some("JWT".into());
    let wire = Wire {
        sub: "7".into(),
        uid: Some(7),
        sid: c.session_id.0,
        jti: c.token_id,
        role: "unauth".into(),
        token_use: "access".into(),
        iss: cfg.issuer.clone(),
        aud: cfg.audience.clone(),
        iat: c.issued_at.timestamp(),
        nbf: c.not_before.timestamp(),
        exp: c.expires_at.timestamp(),
        permissions: None,
        is_superuser: None,
        is_admin: None,
        amr: Vec::new(),
        acr: None,
        aal: None,
        auth_time: None,
        client_id: None,
    };
    let token = encode(&header, &wire, &EncodingKey::from_secret(&cfg.secret)).unwrap();
    assert_eq!(s.verify(&token), Err(TokenProblem::Invalid));
}

/// The payload of `token`, as JSON.
fn payload(token: &str) -> serde_json::Value {
    serde_json::from_slice(
        &URL_SAFE_NO_PAD
            .decode(token.split('.').nth(1).unwrap())
            .unwrap(),
    )
    .unwrap()
}

/// `token`'s payload edited by `edit`, signed again with `cfg`'s key.
fn with_payload(
    token: &str,
    cfg: &JwtConfig,
    edit: impl Fn(&mut serde_json::Map<String, serde_json::Value>),
) -> String {
    let mut p = payload(token);
    edit(p.as_object_mut().unwrap());
    let header = jsonwebtoken::decode_header(token).unwrap();
    encode(&header, &p, &EncodingKey::from_secret(&cfg.secret)).unwrap()
}

#[test]
fn seed_001_tokens_present_the_address_and_still_name_the_account_by_uid() {
    let cfg = config(&[7; 32]);
    let s = JwtSigner::new(&cfg);
    let c = AccessClaims {
        subject: TokenSubject::Email(Email::parse("Dream@Example.com").unwrap()),
        grants: Some(GrantClaims {
            permissions: vec!["profile:read".into(), "user:read".into()],
            super_admin: true,
            admin_mode: true,
        }),
        ..claims()
    };
    let token = s.sign(&c).unwrap();
    let p = payload(&token);
    assert_eq!(p["sub"], "dream@example.com");
    assert_eq!(p["uid"], 7);
    assert_eq!(
        p["permissions"],
        serde_json::json!(["profile:read", "user:read"])
    );
    assert_eq!(p["is_superuser"], true);
    assert_eq!(p["is_admin"], true);
    assert_eq!(s.verify(&token).unwrap(), c);
    // Without its uid, an address-subject token names no account.
    let no_uid = with_payload(&token, &cfg, |p| {
        p.remove("uid");
    });
    assert_eq!(s.verify(&no_uid), Err(TokenProblem::Invalid));
}

#[test]
fn account_id_tokens_carry_uid_and_no_seed_claims_and_old_tokens_still_verify() {
    let cfg = config(&[7; 32]);
    let s = JwtSigner::new(&cfg);
    let c = claims();
    let token = s.sign(&c).unwrap();
    let p = payload(&token);
    assert_eq!(p["sub"], "7");
    assert_eq!(p["uid"], 7);
    for absent in ["permissions", "is_superuser", "is_admin"] {
        assert!(p.get(absent).is_none(), "{absent} in {p}");
    }
    // A token issued before `uid` existed: `sub` names the account.
    let old = with_payload(&token, &cfg, |p| {
        p.remove("uid");
    });
    assert_eq!(s.verify(&old).unwrap(), c);
    // `uid` wins over `sub`.
    let moved = with_payload(&token, &cfg, |p| {
        p.insert("uid".into(), 9.into());
    });
    assert_eq!(s.verify(&moved).unwrap().user_id, UserId(9));
}

fn ring_signer(alg: KeyAlg) -> (JwtSigner, std::sync::Arc<crate::keyring::SigningKey>) {
    let der = crate::keyring::SigningKey::generate(alg).unwrap();
    let key = crate::keyring::SigningKey::from_pkcs8(alg, &der).unwrap();
    let ring = KeyRing::single(key);
    let active = std::sync::Arc::clone(ring.active.as_ref().unwrap());
    (JwtSigner::with_ring(&config(&[7; 32]), alg, ring), active)
}

#[test]
fn asymmetric_tokens_name_their_kid_and_resist_confusion() {
    for alg in [KeyAlg::EdDsa, KeyAlg::Rs256] {
        let (s, key) = ring_signer(alg);
        let c = claims();
        let token = s.sign(&c).unwrap();
        let header = jsonwebtoken::decode_header(&token).unwrap();
        assert_eq!(header.kid.as_deref(), Some(key.kid.as_str()));
        assert_eq!(s.verify(&token).unwrap(), c);
        // An RS256 ring signs ID tokens too; beside an EdDSA ring, the ID
        // tokens' own RS256 key is published.
        let published = s.public_keys();
        assert_eq!(published[0], key.jwk);
        match alg {
            KeyAlg::Rs256 => assert_eq!(published.len(), 1),
            KeyAlg::EdDsa => {
                assert_eq!(published.len(), 2);
                assert_eq!(published[1]["alg"], "RS256");
            }
        }
        // Another key of the same kind, with its own kid: unknown here.
        let (other, _) = ring_signer(alg);
        assert_eq!(
            s.verify(&other.sign(&c).unwrap()),
            Err(TokenProblem::BadSignature)
        );
        // A token whose header names our kid but is HS256-signed with
        // the public key (algorithm confusion), or names a path as kid.
        let parts: Vec<&str> = token.split('.').collect();
        let public = serde_json::to_vec(&key.jwk).unwrap();
        for (alg_name, kid) in [
            ("HS256", key.kid.as_str()),
            (alg.as_str(), "../../etc/passwd"),
        ] {
            let mut h = Header::new(if alg_name == "HS256" {
                Algorithm::HS256
            } else {
                alg.algorithm()
            });
            h.typ = Some(HEADER_TYP.into());
            h.kid = Some(kid.into());
            let payload: Wire =
                serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
            let forged = if alg_name == "HS256" {
                encode(&h, &payload, &EncodingKey::from_secret(&public)).unwrap()
            } else {
                format!(
                    "{}.{}.{}",
                    URL_SAFE_NO_PAD.encode(serde_json::to_vec(&h).unwrap()),
                    parts[1],
                    parts[2]
                )
            };
            assert_eq!(
                s.verify(&forged),
                Err(if alg_name == "HS256" {
                    TokenProblem::Invalid
                } else {
                    TokenProblem::BadSignature
                }),
                "{alg_name} {kid}"
            );
        }
        // No kid at all.
        let no_kid = format!(
            "{}.{}.{}",
            URL_SAFE_NO_PAD.encode(format!(r#"{{"alg":"{}","typ":"at+jwt"}}"#, alg.as_str())),
            parts[1],
            parts[2]
        );
        assert_eq!(s.verify(&no_kid), Err(TokenProblem::BadSignature));
    }
}

/// Re-signs the claims of `token` with `key`, under the header `signer`
/// writes changed by `edit` (the attack of issue 12, item 6).
fn resign(token: &str, key: &EncodingKey, edit: impl Fn(&mut Header)) -> String {
    let mut header = jsonwebtoken::decode_header(token).unwrap();
    edit(&mut header);
    let payload: Wire = serde_json::from_slice(
        &URL_SAFE_NO_PAD
            .decode(token.split('.').nth(1).unwrap())
            .unwrap(),
    )
    .unwrap();
    encode(&header, &payload, key).unwrap()
}

/// Every `crit` and `b64` variant, and every spelling of the access `typ`,
/// on one signer whose signing key is `key`.
fn check_headers(s: &JwtSigner, key: &EncodingKey) {
    let c = claims();
    let token = s.sign(&c).unwrap();
    assert_eq!(
        s.verify(&resign(&token, key, |_| {})).unwrap(),
        c,
        "the forger's baseline verifies"
    );
    type Edit = Box<dyn Fn(&mut Header)>;
    let refused: [(&str, Edit); 6] = [
        (
            "crit bork",
            Box::new(|h| h.crit = Some(vec!["bork".into()])),
        ),
        ("crit empty", Box::new(|h| h.crit = Some(vec![]))),
        (
            "crit b64, b64 false",
            Box::new(|h| {
                h.crit = Some(vec!["b64".into()]);
                h.extras.insert("b64", false);
            }),
        ),
        (
            "crit b64, b64 true",
            Box::new(|h| {
                h.crit = Some(vec!["b64".into()]);
                h.extras.insert("b64", true);
            }),
        ),
        (
            "b64 false alone",
            Box::new(|h| h.extras.insert("b64", false)),
        ),
        (
            "b64 not a boolean",
            Box::new(|h| h.extras.insert("b64", "no")),
        ),
    ];
    for (what, edit) in &refused {
        assert_eq!(
            s.verify(&resign(&token, key, edit)),
            Err(TokenProblem::Invalid),
            "{what}"
        );
    }
    // `crit` of the wrong JSON type does not even parse.
    let parts: Vec<&str> = token.split('.').collect();
    let mut header: serde_json::Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[0]).unwrap()).unwrap();
    header["crit"] = serde_json::json!("bork");
    assert_eq!(
        s.verify(&format!(
            "{}.{}.{}",
            URL_SAFE_NO_PAD.encode(serde_json::to_vec(&header).unwrap()),
            parts[1],
            parts[2]
        )),
        Err(TokenProblem::Malformed)
    );
    // RFC 9068 §4: both forms of the media type, in any case.
    for typ in [
        "at+jwt",
        "AT+JWT",
        "application/at+jwt",
        "Application/AT+JWT",
    ] {
        assert_eq!(
            s.verify(&resign(&token, key, |h| h.typ = Some(typ.into())))
                .unwrap(),
            c,
            "{typ}"
        );
    }
    assert_eq!(
        s.verify(&resign(&token, key, |h| h.extras.insert("b64", true)))
            .unwrap(),
        c,
        "b64 true (the default) without crit"
    );
    for typ in [
        "JWT",
        "application/jwt",
        "at+jwt; q=1",
        "xapplication/at+jwt",
        "",
    ] {
        assert_eq!(
            s.verify(&resign(&token, key, |h| h.typ = Some(typ.into()))),
            Err(TokenProblem::Invalid),
            "{typ}"
        );
    }
    assert_eq!(
        s.verify(&resign(&token, key, |h| h.typ = None)),
        Err(TokenProblem::Invalid),
        "no typ"
    );
}

#[test]
fn crit_and_unencoded_payloads_are_refused_and_both_typ_forms_accepted_hs256() {
    let cfg = config(&[7; 32]);
    check_headers(
        &JwtSigner::new(&cfg),
        &EncodingKey::from_secret(&cfg.secret),
    );
}

#[test]
fn crit_and_unencoded_payloads_are_refused_and_both_typ_forms_accepted_asymmetric() {
    for alg in [KeyAlg::EdDsa, KeyAlg::Rs256] {
        let (s, key) = ring_signer(alg);
        check_headers(&s, &key.encoding);
    }
}

#[test]
fn debug_hides_the_secret() {
    let shown = format!(
        "{:?} {:?}",
        config(b"super-secret-key-material-123456"),
        JwtSigner::new(&config(&[1; 32]))
    );
    assert!(!shown.contains("super-secret"));
}

/// Every way a token differs from one that verified (its payload, its
/// signature, its header, one character cut) is checked in full, not
/// answered from the kept verifications.
#[test]
fn kept_verifications_answer_only_the_exact_token_that_verified() {
    let s = JwtSigner::new(&config(&[7; 32])).keep_verified(1 << 20);
    let c = claims();
    let token = s.sign(&c).unwrap();
    assert_eq!(s.verify(&token).unwrap(), c);
    // Answered again (from the kept verification) with the same claims.
    assert_eq!(s.verify(&token).unwrap(), c);
    let parts: Vec<&str> = token.split('.').collect();
    let payload = String::from_utf8(URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
    let forged = URL_SAFE_NO_PAD.encode(payload.replace("\"unauth\"", "\"super_admin\""));
    assert_eq!(
        s.verify(&format!("{}.{forged}.{}", parts[0], parts[2])),
        Err(TokenProblem::BadSignature)
    );
    let other = JwtSigner::new(&config(&[8; 32])).sign(&c).unwrap();
    let other_signature = other.rsplit('.').next().unwrap();
    assert_eq!(
        s.verify(&format!("{}.{}.{other_signature}", parts[0], parts[1])),
        Err(TokenProblem::BadSignature)
    );
    let none_header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"at+jwt"}"#);
    assert_eq!(
        s.verify(&format!("{none_header}.{}.{}", parts[1], parts[2])),
        Err(TokenProblem::Malformed)
    );
    assert!(s.verify(&token[..token.len() - 1]).is_err());
    // A signer that keeps nothing answers the same.
    let plain = JwtSigner::new(&config(&[7; 32])).keep_verified(0);
    assert!(plain.verified.is_none());
    assert_eq!(plain.verify(&token).unwrap(), c);
}

/// A key dropped from the ring stops verifying the tokens it signed, even
/// those verified (and kept) before the ring was replaced.
#[test]
fn a_replaced_ring_checks_kept_tokens_again() {
    let (s, _) = ring_signer(KeyAlg::EdDsa);
    let s = s.keep_verified(1 << 20);
    let c = claims();
    let token = s.sign(&c).unwrap();
    assert_eq!(s.verify(&token).unwrap(), c);
    let handle = s.ring_handle().unwrap();
    let generation = || handle.current().unwrap().0;
    // The folder re-read with nothing changed, or with a key added: kept.
    let same = handle.current().unwrap().1;
    let der = crate::keyring::SigningKey::generate(KeyAlg::EdDsa).unwrap();
    let next =
        std::sync::Arc::new(crate::keyring::SigningKey::from_pkcs8(KeyAlg::EdDsa, &der).unwrap());
    handle.replace(KeyRing {
        active: same.active.clone(),
        verifying: same.verifying.clone(),
    });
    let mut grown = same.verifying.clone();
    grown.insert(next.kid.clone(), std::sync::Arc::clone(&next));
    handle.replace(KeyRing {
        active: same.active.clone(),
        verifying: grown,
    });
    assert_eq!(generation(), 0);
    assert_eq!(s.verify(&token).unwrap(), c);
    // The signing key dropped: what it signed is checked again, and refused.
    handle.replace(KeyRing {
        active: Some(std::sync::Arc::clone(&next)),
        verifying: std::collections::BTreeMap::from([(next.kid.clone(), next)]),
    });
    assert_eq!(generation(), 1);
    assert_eq!(s.verify(&token), Err(TokenProblem::BadSignature));
    // Tokens of the new key verify, and are kept under the new ring.
    let fresh = s.sign(&c).unwrap();
    assert_eq!(s.verify(&fresh).unwrap(), c);
    assert_eq!(s.verify(&fresh).unwrap(), c);
}

/// The bytes bound holds: many verified tokens never keep more than it.
#[test]
fn kept_verifications_stay_within_their_bytes() {
    let budget = 16 * 1024;
    let s = JwtSigner::new(&config(&[7; 32])).keep_verified(budget);
    for _ in 0..500 {
        let token = s.sign(&claims()).unwrap();
        s.verify(&token).unwrap();
    }
    let kept = &s.verified.as_ref().unwrap().0;
    kept.run_pending_tasks();
    assert!(kept.weighted_size() <= budget, "{}", kept.weighted_size());
    assert!(kept.entry_count() > 0 && kept.entry_count() < 500);
}

/// Decodes an ID token with the published JWK of its `kid`.
fn verify_id_token(signer: &JwtSigner, token: &str) -> serde_json::Value {
    let header = jsonwebtoken::decode_header(token).unwrap();
    assert_eq!(header.alg, jsonwebtoken::Algorithm::RS256);
    let kid = header.kid.unwrap();
    let jwk = signer
        .public_keys()
        .into_iter()
        .find(|k| k["kid"] == kid.as_str())
        .expect("the signing key is published");
    let key = jsonwebtoken::DecodingKey::from_rsa_components(
        jwk["n"].as_str().unwrap(),
        jwk["e"].as_str().unwrap(),
    )
    .unwrap();
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
    validation.validate_aud = false;
    validation.required_spec_claims.clear();
    validation.validate_exp = false;
    jsonwebtoken::decode::<serde_json::Value>(token, &key, &validation)
        .unwrap()
        .claims
}

#[test]
fn id_tokens_are_rs256_whatever_signs_access_tokens_and_the_key_file_is_shared() {
    use tessera_domain::ports::IdTokenSigner as _;
    let claims = serde_json::json!({"sub": "s", "aud": "c", "nonce": "n"});
    // HS256 access tokens: a key of its own, kept in the file, which a
    // second signer (another instance) reads instead of making its own.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("keys").join("oidc.pem");
    let a = JwtSigner::new(&config(&[7; 32])).with_id_token_key_file(file.clone());
    let token = a.sign_id_token(&claims).unwrap();
    assert_eq!(verify_id_token(&a, &token)["nonce"], "n");
    let b = JwtSigner::new(&config(&[8; 32])).with_id_token_key_file(file.clone());
    assert_eq!(b.public_keys(), a.public_keys());
    assert_eq!(verify_id_token(&b, &token)["sub"], "s");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    // An RS256 ring signs ID tokens with its active key.
    let (ring, key) = ring_signer(KeyAlg::Rs256);
    let token = ring.sign_id_token(&claims).unwrap();
    assert_eq!(
        jsonwebtoken::decode_header(&token).unwrap().kid.as_deref(),
        Some(key.kid.as_str())
    );
    assert_eq!(verify_id_token(&ring, &token)["aud"], "c");
}

#[test]
fn a_client_token_names_its_client_and_reads_back() {
    let s = JwtSigner::new(&config(&[7; 32]));
    let c = AccessClaims {
        issued_to: tessera_domain::model::ClientId::parse("tc_wiki"),
        custom: tessera_domain::model::CustomClaims::new(),
        ..claims()
    };
    let token = s.sign(&c).unwrap();
    assert_eq!(s.verify(&token).unwrap(), c);
    assert_eq!(
        payload(&token)["client_id"],
        "tc_wiki",
        "RFC 9068 §2.2 client_id"
    );
    let first_party = s.sign(&claims()).unwrap();
    assert!(payload(&first_party).get("client_id").is_none());
}

#[test]
fn custom_claims_are_written_beside_ours_never_over_them() {
    let s = JwtSigner::new(&config(&[7; 32]));
    let mut c = claims();
    c.custom = serde_json::from_str(r#"{"tenant":"acme","plan":{"tier":2},"sub":"admin","uid":1}"#)
        .unwrap();
    let token = s.sign(&c).unwrap();
    let p = payload(&token);
    assert_eq!(p["tenant"], "acme");
    assert_eq!(p["plan"], serde_json::json!({"tier": 2}));
    assert_eq!(p["sub"], "7", "ours stays: {p}");
    assert_eq!(p["uid"], 7);
    // The token still verifies, as the same account.
    let read = s.verify(&token).unwrap();
    assert_eq!(read.user_id, UserId(7));
    assert!(read.custom.is_empty(), "not read back");
}
