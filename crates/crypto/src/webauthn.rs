//! The WebAuthn relying party (issue 17) with `webauthn-rs` (the library
//! kanidm and rauthy use; pure Rust since 0.6, its cryptography from
//! RustCrypto). Ceremony states and passkeys are stored as the library
//! serialises them (JSON).

use serde::{Deserialize, Serialize};
use tessera_domain::error::StoreError;
use tessera_domain::model::StoredCredential;
use tessera_domain::ports::{
    CeremonyOptions, CeremonyState, CheckedAssertion, NewCredential, PasskeyHolder, PasskeyRefusal,
    RelyingParty,
};
use url::Url;
use uuid::Uuid;
use webauthn_rs::prelude::{
    CredentialID, DiscoverableAuthentication, Passkey, PasskeyAuthentication, PasskeyRegistration,
    PublicKeyCredential, RegisterPublicKeyCredential, Webauthn, WebauthnBuilder,
};
use webauthn_rs_proto::ResidentKeyRequirement;

/// A relying party for one RP id and the origins allowed to use it.
#[derive(Clone)]
pub struct WebAuthnRelyingParty {
    webauthn: std::sync::Arc<Webauthn>,
}

impl std::fmt::Debug for WebAuthnRelyingParty {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebAuthnRelyingParty")
            .field("rp_id", &self.webauthn.get_allowed_origins())
            .finish()
    }
}

/// What an assertion ceremony keeps: of listed passkeys (a second factor)
/// or of any discoverable one (a sign-in without a username).
#[derive(Serialize, Deserialize)]
enum AssertionState {
    Listed(PasskeyAuthentication),
    Discoverable(DiscoverableAuthentication),
}

impl WebAuthnRelyingParty {
    /// A relying party with RP id `rp_id` (a domain: `example.com`, or
    /// `localhost`), shown as `rp_name`, accepting ceremonies from
    /// `origins` (each `https://…`, or `http://localhost…` for
    /// development; `rp_id` must be the host of each or a parent domain of
    /// it, WebAuthn §5.1.4.1). Origins on `localhost` accept any port.
    ///
    /// # Errors
    /// Why the configuration is refused (no origin, an origin outside the
    /// RP id).
    pub fn new(rp_id: &str, rp_name: &str, origins: &[Url]) -> Result<Self, String> {
        let (first, rest) = origins
            .split_first()
            .ok_or_else(|| "at least one origin is needed".to_owned())?;
        let local = origins.iter().all(|o| o.host_str() == Some("localhost"));
        let mut builder = WebauthnBuilder::new(rp_id, first)
            .map_err(|e| format!("{first}: {e}"))?
            .rp_name(rp_name)
            .allow_any_port(local);
        for origin in rest {
            builder = builder.append_allowed_origin(origin);
        }
        let webauthn = builder.build().map_err(|e| e.to_string())?;
        Ok(Self {
            webauthn: std::sync::Arc::new(webauthn),
        })
    }
}

fn unavailable(what: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::Unavailable(format!("webauthn {what}: {e}"))
}

fn refused(e: impl std::fmt::Display) -> PasskeyRefusal {
    PasskeyRefusal(e.to_string())
}

fn to_json<T: Serialize>(what: &str, value: &T) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(|e| unavailable(what, e))
}

fn stored(passkey: &Passkey) -> Result<StoredCredential, PasskeyRefusal> {
    serde_json::to_string(passkey)
        .map(StoredCredential)
        .map_err(refused)
}

fn passkey_of(credential: &StoredCredential) -> Result<Passkey, PasskeyRefusal> {
    serde_json::from_str(&credential.0).map_err(refused)
}

/// The `BE` flag the library recorded (it keeps it inside the credential).
fn backup_eligible(credential: &StoredCredential) -> bool {
    serde_json::from_str::<serde_json::Value>(&credential.0)
        .ok()
        .and_then(|v| {
            v.pointer("/cred/backup_eligible")
                .and_then(serde_json::Value::as_bool)
        })
        .unwrap_or(false)
}

/// The signature counter the library recorded.
fn stored_counter(credential: &StoredCredential) -> u32 {
    serde_json::from_str::<serde_json::Value>(&credential.0)
        .ok()
        .and_then(|v| {
            v.pointer("/cred/counter")
                .and_then(serde_json::Value::as_u64)
        })
        .and_then(|c| u32::try_from(c).ok())
        .unwrap_or(0)
}

fn credential_id_text(id: &CredentialID) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode::<&[u8]>(id.as_ref())
}

impl RelyingParty for WebAuthnRelyingParty {
    fn begin_registration(
        &self,
        holder: PasskeyHolder<'_>,
        exclude: &[StoredCredential],
    ) -> Result<(CeremonyOptions, CeremonyState), StoreError> {
        let exclude: Vec<CredentialID> = exclude
            .iter()
            .filter_map(|c| passkey_of(c).ok())
            .map(|p| p.cred_id().clone())
            .collect();
        let (mut options, state): (_, PasskeyRegistration) = self
            .webauthn
            .start_passkey_registration(
                holder.handle,
                holder.name,
                holder.display_name,
                Some(exclude).filter(|e| !e.is_empty()),
            )
            .map_err(|e| unavailable("registration options", e))?;
        // A discoverable credential where the authenticator can keep one
        // (sign-in without a username); "preferred", not "required", so
        // that security keys short of storage still register (the library
        // asks for "discouraged").
        if let Some(selection) = options.public_key.authenticator_selection.as_mut() {
            selection.resident_key = Some(ResidentKeyRequirement::Preferred);
            selection.require_resident_key = false;
        }
        Ok((
            CeremonyOptions(to_json("registration options", &options)?),
            CeremonyState(to_json("registration state", &state)?),
        ))
    }

    fn finish_registration(
        &self,
        response: &str,
        state: &CeremonyState,
    ) -> Result<NewCredential, PasskeyRefusal> {
        let state: PasskeyRegistration = serde_json::from_str(&state.0).map_err(refused)?;
        let response: RegisterPublicKeyCredential =
            serde_json::from_str(response).map_err(refused)?;
        let passkey = self
            .webauthn
            .finish_passkey_registration(&response, &state)
            .map_err(refused)?;
        let credential = stored(&passkey)?;
        Ok(NewCredential {
            credential_id: credential_id_text(passkey.cred_id()),
            backup_eligible: backup_eligible(&credential),
            credential,
        })
    }

    fn begin_assertion(
        &self,
        allowed: &[StoredCredential],
    ) -> Result<(CeremonyOptions, CeremonyState), StoreError> {
        let (options, state) = if allowed.is_empty() {
            let (mut options, state) = self
                .webauthn
                .start_discoverable_authentication()
                .map_err(|e| unavailable("sign-in options", e))?;
            // The page chooses the mediation (autofill or a button).
            options.mediation = None;
            (options, AssertionState::Discoverable(state))
        } else {
            let passkeys: Vec<Passkey> =
                allowed.iter().filter_map(|c| passkey_of(c).ok()).collect();
            let (options, state) = self
                .webauthn
                .start_passkey_authentication(&passkeys)
                .map_err(|e| unavailable("assertion options", e))?;
            (options, AssertionState::Listed(state))
        };
        Ok((
            CeremonyOptions(to_json("assertion options", &options)?),
            CeremonyState(to_json("assertion state", &state)?),
        ))
    }

    fn asserted_credential(
        &self,
        response: &str,
    ) -> Result<(String, Option<Uuid>), PasskeyRefusal> {
        let response: PublicKeyCredential = serde_json::from_str(response).map_err(refused)?;
        let handle = match response.get_user_unique_id() {
            Some(bytes) => Some(Uuid::from_slice(bytes).map_err(refused)?),
            None => None,
        };
        Ok((credential_id_text(&response.raw_id), handle))
    }

    fn finish_assertion(
        &self,
        response: &str,
        state: &CeremonyState,
        credential: &StoredCredential,
    ) -> Result<CheckedAssertion, PasskeyRefusal> {
        let response: PublicKeyCredential = serde_json::from_str(response).map_err(refused)?;
        let state: AssertionState = serde_json::from_str(&state.0).map_err(refused)?;
        let mut passkey = passkey_of(credential)?;
        let stored_counter = stored_counter(credential);
        let result = match state {
            AssertionState::Listed(state) => self
                .webauthn
                .finish_passkey_authentication(&response, &state),
            AssertionState::Discoverable(state) => self
                .webauthn
                .finish_discoverable_authentication_v2(&response, state, &passkey),
        }
        .map_err(refused)?;
        // §7.2 step 22 against the credential as stored now: the ceremony's
        // state holds a copy from when it began, and another sign-in may
        // have moved the counter since.
        if (result.counter() > 0 || stored_counter > 0) && result.counter() <= stored_counter {
            return Err(PasskeyRefusal(format!(
                "signature counter {} not above the stored {stored_counter}: a cloned authenticator?",
                result.counter()
            )));
        }
        // Of the listed passkeys, the one asserted must be the one the
        // caller looked up.
        let updated = match passkey.update_credential(&result) {
            None => return Err(PasskeyRefusal("another credential was asserted".into())),
            Some(true) => Some(stored(&passkey)?),
            Some(false) => None,
        };
        let backup_eligible = backup_eligible(updated.as_ref().unwrap_or(credential));
        Ok(CheckedAssertion {
            updated,
            backup_eligible,
        })
    }
}
