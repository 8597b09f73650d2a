//! Passkeys (issue 17) on the use cases with the memory ports: a signature
//! counter that goes back (a cloned authenticator, WebAuthn §6.1.1) is
//! refused and audited; a disabled account cannot sign in with its passkey.

use serde_json::Value;
use tessera_domain::AuthError;
use tessera_domain::mail::Locale;
use tessera_domain::model::{AuditKind, AuthMethod, StoredCredential};
use tessera_domain::ports::{
    AuditLog as _, FactorStore as _, UserDirectory as _, UserRepository as _,
};
use tessera_domain::usecase::LoginTerms;
use tessera_testkit::{TEST_ORIGIN, test_client};
use url::Url;
use webauthn_authenticator_rs::WebauthnAuthenticator as _;
use webauthn_authenticator_rs::softpasskey::SoftPasskey;
use webauthn_rs_proto::{AllowCredentials, CreationChallengeResponse, RequestChallengeResponse};

use super::{Harness, alice, harness};

/// Alice with a passkey of `key`; its credential id and her id.
async fn registered(h: &Harness, key: &mut SoftPasskey) -> (String, tessera_domain::model::UserId) {
    alice(h).await;
    let auth = h
        .auth(h.login().await.tokens.access.token.expose())
        .await
        .unwrap();
    let ceremony = h.svc.begin_passkey_registration(&auth).await.unwrap();
    let options: CreationChallengeResponse = serde_json::from_str(&ceremony.options.0).unwrap();
    let credential = key
        .do_registration(Url::parse(TEST_ORIGIN).unwrap(), options)
        .unwrap();
    let (passkey, codes) = h
        .svc
        .finish_passkey_registration(
            &auth,
            ceremony.token.expose(),
            &serde_json::to_string(&credential).unwrap(),
            None,
            Locale::En,
        )
        .await
        .unwrap();
    assert_eq!(passkey.name, "Passkey");
    assert!(codes.is_some(), "a first factor issues recovery codes");
    (passkey.credential_id, passkey.user_id)
}

/// A sign-in with `key` alone.
async fn sign_in(
    h: &Harness,
    key: &mut SoftPasskey,
    credential_id: &str,
) -> Result<tessera_domain::usecase::LoginOutcome, AuthError> {
    use base64::Engine as _;
    let ceremony = h.svc.begin_passkey_sign_in().await.unwrap();
    let mut options: RequestChallengeResponse = serde_json::from_str(&ceremony.options.0).unwrap();
    options.public_key.allow_credentials = vec![AllowCredentials {
        type_: "public-key".into(),
        id: base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(credential_id)
            .unwrap(),
        transports: None,
    }];
    let mut assertion = key
        .do_authentication(Url::parse(TEST_ORIGIN).unwrap(), options)
        .unwrap();
    // The user handle a discoverable credential returns (not signed; the
    // software passkey keeps none).
    let owner = h
        .ports
        .factors
        .passkey_by_credential(credential_id)
        .await
        .unwrap()
        .unwrap()
        .user_id;
    let holder = h.ports.users.find_by_id(owner).await.unwrap().unwrap();
    assertion.response.user_handle = Some(holder.public_id.as_bytes().to_vec());
    h.svc
        .finish_passkey_sign_in(
            ceremony.token.expose(),
            &serde_json::to_string(&assertion).unwrap(),
            test_client(),
            LoginTerms::default(),
        )
        .await
}

#[tokio::test]
async fn a_signature_counter_that_goes_back_is_refused() {
    let h = harness();
    let mut key = SoftPasskey::new(true);
    let (credential_id, _) = registered(&h, &mut key).await;
    let out = sign_in(&h, &mut key, &credential_id).await.unwrap();
    let methods = &out.session.authentication.methods;
    assert_eq!(methods, &[AuthMethod::Hwk, AuthMethod::Mfa]);

    // The stored counter moves past the authenticator's, as when a clone
    // of the key signed meanwhile: the next assertion's counter is lower.
    let stored = h
        .ports
        .factors
        .passkey_by_credential(&credential_id)
        .await
        .unwrap()
        .unwrap();
    let mut credential: Value = serde_json::from_str(&stored.credential.0).unwrap();
    let counter = credential["cred"]["counter"].as_u64().unwrap();
    assert!(counter > 0, "the soft passkey counts: {credential}");
    credential["cred"]["counter"] = Value::from(counter + 1000);
    h.ports
        .factors
        .record_passkey_use(
            stored.id,
            &stored.credential,
            Some((&StoredCredential(credential.to_string()), false)),
            chrono::Utc::now(),
        )
        .await
        .unwrap();
    let refused = sign_in(&h, &mut key, &credential_id).await.unwrap_err();
    assert!(matches!(refused, AuthError::PasskeyRefused), "{refused:?}");
    let failed = h
        .ports
        .audit
        .query(&tessera_domain::model::AuditQuery {
            kind: Some(AuditKind::LoginFailed),
            limit: 50,
            ..tessera_domain::model::AuditQuery::default()
        })
        .await
        .unwrap()
        .events
        .into_iter()
        .filter(|e| e.kind == AuditKind::LoginFailed)
        .filter_map(|e| e.detail)
        .collect::<Vec<_>>();
    assert!(
        failed.iter().any(|d| d.starts_with("passkey ")),
        "{failed:?}"
    );
}

#[tokio::test]
async fn a_disabled_account_cannot_sign_in_with_its_passkey() {
    let h = harness();
    let mut key = SoftPasskey::new(true);
    let (credential_id, user) = registered(&h, &mut key).await;
    h.ports
        .users
        .set_active(user, false, chrono::Utc::now(), &[])
        .await
        .unwrap();
    let refused = sign_in(&h, &mut key, &credential_id).await.unwrap_err();
    assert!(matches!(refused, AuthError::AccountDisabled), "{refused:?}");
}
