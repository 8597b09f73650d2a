//! `DELETE /api/auth/me` (issue 20, "Delete my account"): the holder asks
//! for the account's deletion; it happens after `ACCOUNT_DELETION_GRACE`
//! unless the holder signs in before then.

use actix_web::{HttpRequest, HttpResponse, web};
use serde::Serialize;
use tessera_domain::ports::Ports;
use tessera_domain::usecase::AccountDeletion;
use utoipa::ToSchema;

use super::dto;
use super::errors::ModernError;
use super::passkeys::rfc3339;
use crate::http::AppState;
use crate::http::messages as m;
use crate::openapi::TOKEN_REFUSED;

type State<P> = web::Data<AppState<P>>;

/// The answer to a deletion request.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AccountDeletionAnswer {
    pub message: String,
    pub msg: String,
    /// `scheduled`, or `deleted` when `ACCOUNT_DELETION_GRACE` is 0.
    pub status: String,
    /// When the account will be deleted (`YYYY-MM-DDTHH:MM:SSZ`); `null`
    /// once deleted. Signing in before then cancels it.
    pub deletion_due_at: Option<String>,
}

#[utoipa::path(delete, path = "/api/auth/me", tag = super::TAG,
    summary = "Delete my account (after a grace period)",
    description = "Needs a sign-in within `REAUTH_MAX_AGE` (with the second factor once the account \
        has one). Every session of the account ends, this one too, and the account is mailed the \
        date. After `ACCOUNT_DELETION_GRACE` (default 7 days) the account is deleted with its \
        sessions, factors, passkeys, consents and connected identities, and its audit entries keep \
        only its id; signing in before then, in any dialect, cancels the deletion. With a grace of \
        0 the account is deleted at once (202 becomes 200). Asking again moves the date.",
    security(("bearer" = [])),
    responses(
        (status = 202, description = "Scheduled: `status` `scheduled` and `deletion_due_at`.", body = AccountDeletionAnswer),
        (status = 200, description = "Deleted at once (`ACCOUNT_DELETION_GRACE=0`).", body = AccountDeletionAnswer),
        (status = 400, description = "`self_lockout`: the account holds `super_admin`; another administrator revokes the role or deletes it.", body = dto::Error),
        (status = 401, description = TOKEN_REFUSED, body = dto::Error),
        (status = 403, description = "`reauthentication_required`: sign in again first.", body = dto::Error),
    ),
)]
pub async fn delete_account<P: Ports>(
    state: State<P>,
    req: HttpRequest,
) -> Result<HttpResponse, ModernError> {
    let auth = crate::http::authenticate(&state, &req).await?;
    match state
        .auth
        .request_account_deletion(&auth, crate::http::locale())
        .await?
    {
        AccountDeletion::Scheduled { due_at } => {
            let text = m::ACCOUNT_DELETION_SCHEDULED.get();
            Ok(HttpResponse::Accepted().json(AccountDeletionAnswer {
                message: text.to_owned(),
                msg: text.to_owned(),
                status: "scheduled".to_owned(),
                deletion_due_at: Some(rfc3339(due_at)),
            }))
        }
        AccountDeletion::Deleted => {
            let text = m::ACCOUNT_DELETED.get();
            Ok(HttpResponse::Ok().json(AccountDeletionAnswer {
                message: text.to_owned(),
                msg: text.to_owned(),
                status: "deleted".to_owned(),
                deletion_due_at: None,
            }))
        }
    }
}
