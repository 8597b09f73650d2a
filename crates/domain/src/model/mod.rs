//! The entities of the domain and the rules that belong to them: users,
//! sessions, tokens, verification codes, the audit trail and the roles'
//! permissions. Each rule is a method on the entity it is about (for example
//! whether a user may act, whether a session is live).

mod audit;
mod authentication;
mod change;
mod code;
mod contact;
mod factor;
mod federation;
mod oauth;
mod passkey;
mod permissions;
mod session;
mod token;
mod token_hook;
mod user;
mod webhook;

pub use audit::*;
pub use authentication::*;
pub use change::*;
pub use code::*;
pub use contact::*;
pub use factor::*;
pub use federation::*;
pub use oauth::*;
pub use passkey::*;
pub use permissions::*;
pub use session::*;
pub use token::*;
pub use token_hook::*;
pub use user::*;
pub use webhook::*;
