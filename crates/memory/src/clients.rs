//! The OpenID Provider's clients, consents and grants in maps (issue 18).

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, PoisonError};

use chrono::{DateTime, Utc};
use tessera_domain::error::StoreError;
use tessera_domain::model::{ClientId, Consent, OAuthClient, OAuthGrant, Scope, SessionId, UserId};
use tessera_domain::ports::ClientRegistry;

#[derive(Debug, Default)]
struct Tables {
    clients: BTreeMap<ClientId, OAuthClient>,
    consents: HashMap<(UserId, ClientId), (Vec<Scope>, DateTime<Utc>)>,
    grants: HashMap<SessionId, OAuthGrant>,
}

/// Clients, consents and grants in maps, for tests and the in-memory stack.
#[derive(Debug, Clone, Default)]
pub struct MemoryClients {
    tables: Arc<Mutex<Tables>>,
}

impl MemoryClients {
    fn with<T>(&self, f: impl FnOnce(&mut Tables) -> T) -> T {
        f(&mut self.tables.lock().unwrap_or_else(PoisonError::into_inner))
    }

    /// Drops the consents and grants of `user` (its account was deleted).
    pub(crate) fn forget_user(&self, user: UserId) {
        self.with(|t| {
            t.consents.retain(|(u, _), _| *u != user);
            t.grants.retain(|_, g| g.user_id != user);
        });
    }
}

impl ClientRegistry for MemoryClients {
    async fn create_client(&self, client: &OAuthClient) -> Result<bool, StoreError> {
        Ok(self.with(|t| {
            if t.clients.contains_key(&client.id) {
                return false;
            }
            t.clients.insert(client.id.clone(), client.clone());
            true
        }))
    }

    async fn client(&self, id: &ClientId) -> Result<Option<OAuthClient>, StoreError> {
        Ok(self.with(|t| t.clients.get(id).cloned()))
    }

    async fn clients(&self) -> Result<Vec<OAuthClient>, StoreError> {
        Ok(self.with(|t| t.clients.values().cloned().collect()))
    }

    async fn update_client(&self, client: &OAuthClient) -> Result<bool, StoreError> {
        Ok(self.with(|t| match t.clients.get_mut(&client.id) {
            Some(stored) => {
                *stored = client.clone();
                true
            }
            None => false,
        }))
    }

    async fn delete_client(&self, id: &ClientId) -> Result<bool, StoreError> {
        Ok(self.with(|t| {
            t.consents.retain(|(_, c), _| c != id);
            t.grants.retain(|_, g| &g.client_id != id);
            t.clients.remove(id).is_some()
        }))
    }

    async fn consented_scopes(
        &self,
        user: UserId,
        client: &ClientId,
    ) -> Result<Vec<Scope>, StoreError> {
        Ok(self.with(|t| {
            t.consents
                .get(&(user, client.clone()))
                .map(|(scopes, _)| scopes.clone())
                .unwrap_or_default()
        }))
    }

    async fn remember_consent(
        &self,
        user: UserId,
        client: &ClientId,
        scopes: &[Scope],
    ) -> Result<(), StoreError> {
        self.with(|t| {
            t.consents
                .insert((user, client.clone()), (scopes.to_vec(), Utc::now()))
        });
        Ok(())
    }

    async fn consents_of(&self, user: UserId) -> Result<Vec<Consent>, StoreError> {
        let mut consents: Vec<Consent> = self.with(|t| {
            t.consents
                .iter()
                .filter(|((owner, _), _)| *owner == user)
                .map(|((_, client), (scopes, at))| Consent {
                    client_id: client.clone(),
                    scopes: scopes.clone(),
                    updated_at: *at,
                })
                .collect()
        });
        consents.sort_by(|a, b| a.client_id.cmp(&b.client_id));
        Ok(consents)
    }

    async fn record_grant(&self, grant: &OAuthGrant) -> Result<(), StoreError> {
        self.with(|t| t.grants.insert(grant.session_id, grant.clone()));
        Ok(())
    }

    async fn grant(&self, session: SessionId) -> Result<Option<OAuthGrant>, StoreError> {
        Ok(self.with(|t| t.grants.get(&session).cloned()))
    }

    async fn grant_sessions(&self, client: &ClientId) -> Result<Vec<SessionId>, StoreError> {
        Ok(self.with(|t| {
            t.grants
                .values()
                .filter(|g| &g.client_id == client)
                .map(|g| g.session_id)
                .collect()
        }))
    }
}
