//! Linked identities and the console's upstream providers in maps, and a
//! scripted upstream relying party for tests (issue 19).

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, PoisonError};

use base64::Engine as _;
use chrono::{DateTime, Utc};
use sha2::Digest as _;
use tessera_domain::error::StoreError;
use tessera_domain::model::{
    LinkedIdentity, UpstreamId, UpstreamIdentity, UpstreamProvider, UserId,
};
use tessera_domain::ports::{
    IdentityLinks, UpstreamError, UpstreamRedemption, UpstreamRelyingParty, UpstreamRequest,
};

#[derive(Debug, Default)]
struct Tables {
    identities: BTreeMap<(UpstreamId, String), LinkedIdentity>,
    providers: BTreeMap<UpstreamId, UpstreamProvider>,
}

/// Linked identities and console providers in maps.
#[derive(Debug, Clone, Default)]
pub struct MemoryIdentities {
    tables: Arc<Mutex<Tables>>,
}

impl MemoryIdentities {
    fn with<T>(&self, f: impl FnOnce(&mut Tables) -> T) -> T {
        f(&mut self.tables.lock().unwrap_or_else(PoisonError::into_inner))
    }

    /// Drops the identities linked to `user` (its account was deleted).
    pub(crate) fn forget_user(&self, user: UserId) {
        self.with(|t| t.identities.retain(|_, i| i.user_id != user));
    }
}

impl IdentityLinks for MemoryIdentities {
    async fn link(&self, identity: &LinkedIdentity) -> Result<bool, StoreError> {
        Ok(self.with(|t| {
            let key = (identity.provider.clone(), identity.subject.clone());
            if t.identities.contains_key(&key) {
                return false;
            }
            t.identities.insert(key, identity.clone());
            true
        }))
    }

    async fn linked(
        &self,
        provider: &UpstreamId,
        subject: &str,
    ) -> Result<Option<LinkedIdentity>, StoreError> {
        Ok(self.with(|t| {
            t.identities
                .get(&(provider.clone(), subject.to_owned()))
                .cloned()
        }))
    }

    async fn identities_of(&self, user: UserId) -> Result<Vec<LinkedIdentity>, StoreError> {
        Ok(self.with(|t| {
            let mut v: Vec<_> = t
                .identities
                .values()
                .filter(|l| l.user_id == user)
                .cloned()
                .collect();
            v.sort_by(|a, b| (&a.provider, a.linked_at).cmp(&(&b.provider, b.linked_at)));
            v
        }))
    }

    async fn unlink(
        &self,
        user: UserId,
        provider: &UpstreamId,
        subject: &str,
    ) -> Result<bool, StoreError> {
        Ok(self.with(|t| {
            let key = (provider.clone(), subject.to_owned());
            if t.identities.get(&key).is_some_and(|l| l.user_id == user) {
                t.identities.remove(&key);
                true
            } else {
                false
            }
        }))
    }

    async fn record_use(
        &self,
        provider: &UpstreamId,
        subject: &str,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.with(|t| {
            if let Some(l) = t
                .identities
                .get_mut(&(provider.clone(), subject.to_owned()))
            {
                l.last_used_at = Some(at);
            }
        });
        Ok(())
    }

    async fn providers(&self) -> Result<Vec<UpstreamProvider>, StoreError> {
        Ok(self.with(|t| t.providers.values().cloned().collect()))
    }

    async fn save_provider(&self, provider: &UpstreamProvider) -> Result<(), StoreError> {
        self.with(|t| t.providers.insert(provider.id.clone(), provider.clone()));
        Ok(())
    }

    async fn delete_provider(&self, id: &UpstreamId) -> Result<bool, StoreError> {
        Ok(self.with(|t| {
            t.identities.retain(|(p, _), _| p != id);
            t.providers.remove(id).is_some()
        }))
    }
}

/// A relying party whose provider is the test: it records each
/// authorization request, and redeems the codes the test
/// [`answers`](ScriptedUpstream::answer) with the identity (or error) given,
/// once each, checking the PKCE verifier and `nonce` of the request whose
/// `state` the code was issued for.
#[derive(Debug, Clone, Default)]
pub struct ScriptedUpstream {
    inner: Arc<Mutex<Script>>,
}

#[derive(Debug, Default)]
struct Script {
    requests: Vec<UpstreamRequest>,
    answers: HashMap<String, (UpstreamRequest, Result<UpstreamIdentity, UpstreamError>)>,
}

impl ScriptedUpstream {
    /// The authorization requests made so far, oldest first.
    #[must_use]
    pub fn requests(&self) -> Vec<UpstreamRequest> {
        self.inner
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .requests
            .clone()
    }

    /// Answers the request of `state` with `outcome` under the code `code`;
    /// `false` (and nothing answered) when no request had `state`.
    pub fn answer(
        &self,
        state: &str,
        code: &str,
        outcome: Result<UpstreamIdentity, UpstreamError>,
    ) -> bool {
        let mut s = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        let Some(request) = s.requests.iter().find(|r| r.state == state).cloned() else {
            return false;
        };
        s.answers.insert(code.to_owned(), (request, outcome));
        true
    }
}

impl UpstreamRelyingParty for ScriptedUpstream {
    async fn authorization_url(
        &self,
        provider: &UpstreamProvider,
        request: &UpstreamRequest,
    ) -> Result<String, UpstreamError> {
        self.inner
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .requests
            .push(request.clone());
        Ok(format!(
            "https://upstream.test/{}/authorize?state={}",
            provider.id, request.state
        ))
    }

    async fn redeem(
        &self,
        _provider: &UpstreamProvider,
        redemption: &UpstreamRedemption,
    ) -> Result<UpstreamIdentity, UpstreamError> {
        let taken = self
            .inner
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .answers
            .remove(&redemption.code);
        let Some((request, outcome)) = taken else {
            return Err(UpstreamError::Refused("invalid_grant".into()));
        };
        if request.nonce != redemption.nonce {
            return Err(UpstreamError::Invalid("nonce mismatch".into()));
        }
        if request.redirect_uri != redemption.redirect_uri {
            return Err(UpstreamError::Refused("invalid_grant".into()));
        }
        let challenge = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(sha2::Sha256::digest(redemption.code_verifier.as_bytes()));
        if challenge != request.code_challenge {
            return Err(UpstreamError::Refused("invalid_grant: PKCE".into()));
        }
        outcome
    }
}
