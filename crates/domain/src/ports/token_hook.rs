//! The access-token hook's port (issue 20).

use std::future::Future;

use crate::model::{AccessTokenHookRequest, CustomClaims, HookError};

/// What asks a configured endpoint for claims to add to an access token
/// before it is signed (Supabase Auth's custom access token hook).
pub trait AccessTokenHook: Send + Sync + 'static {
    /// Whether a hook is configured; when not, [`Self::custom_claims`] is
    /// never called and tokens are signed as they are.
    fn enabled(&self) -> bool;

    /// The claims the hook adds to the token `request` describes (reserved
    /// names included: the caller drops them).
    ///
    /// # Errors
    /// [`HookError::Unavailable`] when it cannot be reached, is slower than
    /// its timeout or answers another status than 200;
    /// [`HookError::Refused`] when its answer is not `{"claims": {…}}`
    /// within its size limit.
    fn custom_claims(
        &self,
        request: &AccessTokenHookRequest,
    ) -> impl Future<Output = Result<CustomClaims, HookError>> + Send;
}
