//! Tessera's use cases embedded in a program, without HTTP: the in-memory
//! stores with the real cryptographic adapters.
//!
//! Run with `cargo run -p tessera-memory --example embedded`.

use tessera_crypto::{
    Argon2Hasher, Argon2Params, HasherLimits, HmacRefreshCodec, JwtConfig, JwtSigner,
};
use tessera_domain::clock::{RandomIds, SystemClock};
use tessera_domain::mail::Locale;
use tessera_domain::model::ClientInfo;
use tessera_domain::ports::{Adapters, Ports};
use tessera_domain::usecase::{LoginStep, LoginTerms, RegistrationForm};
use tessera_domain::values::PasswordInput;
use tessera_domain::{AuthService, AuthSettings};
use tessera_memory::{
    MemoryAudit, MemoryCodes, MemoryDenylist, MemoryOutbox, MemoryRateLimiter, MemorySessions,
    MemorySms, MemoryTasks, MemoryUsers,
};

struct Embedded;

impl Ports for Embedded {
    type Users = MemoryUsers;
    type Sessions = MemorySessions;
    type Denylist = MemoryDenylist;
    type Hasher = Argon2Hasher;
    type Signer = JwtSigner;
    type Codec = HmacRefreshCodec;
    type Clock = SystemClock;
    type Ids = RandomIds;
    type Codes = MemoryCodes;
    type Limiter = MemoryRateLimiter;
    type Outbox = MemoryOutbox;
    type Sms = MemorySms;
    type Audit = MemoryAudit;
    type Tasks = MemoryTasks;
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let secret = tessera_crypto::random_bytes(32)?;
    let jwt = JwtConfig {
        secret: secret.clone(),
        issuer: "tessera".into(),
        audience: "tessera".into(),
    };
    let adapters: Adapters<Embedded> = Adapters {
        users: MemoryUsers::default(),
        sessions: MemorySessions::default(),
        denylist: MemoryDenylist::default(),
        hasher: Argon2Hasher::new(Argon2Params::default(), HasherLimits::default())?,
        signer: JwtSigner::new(&jwt),
        codec: HmacRefreshCodec::new(&secret),
        clock: SystemClock,
        ids: RandomIds,
        codes: MemoryCodes::default(),
        limiter: MemoryRateLimiter::default(),
        outbox: MemoryOutbox::default(),
        sms: MemorySms::default(),
        audit: MemoryAudit::default(),
        tasks: MemoryTasks::default(),
    };
    let auth = AuthService::new(adapters, AuthSettings::default());

    let user = auth
        .register(
            &RegistrationForm {
                username: Some("alice".into()),
                email: Some("alice@example.com".into()),
                password: Some("correct horse battery".into()),
                ..RegistrationForm::default()
            },
            Locale::En,
            tessera_domain::settings::LinkKind::Page,
        )
        .await?;
    println!(
        "registered {} (id {}, role {})",
        user.username, user.id, user.role
    );

    let login = auth
        .verify_credentials(
            "alice@example.com",
            PasswordInput::Plain("correct horse battery"),
            ClientInfo::default(),
            LoginTerms::default(),
        )
        .await
        .and_then(LoginStep::done)?;
    println!(
        "logged in; access token expires in {} s",
        login.tokens.access.expires_in
    );

    let who = auth
        .authenticate(
            Some(login.tokens.access.token.expose()),
            ClientInfo::default(),
        )
        .await?;
    println!(
        "token belongs to user {}",
        auth.current_user(&who).await?.username
    );

    let (_, pair) = auth
        .refresh(login.tokens.refresh.expose(), ClientInfo::default())
        .await?;
    println!(
        "refreshed; new refresh token differs: {}",
        pair.refresh.expose() != login.tokens.refresh.expose()
    );

    let who = auth
        .authenticate(Some(pair.access.token.expose()), ClientInfo::default())
        .await?;
    auth.logout(&who).await?;
    let refused = auth
        .authenticate(Some(pair.access.token.expose()), ClientInfo::default())
        .await
        .is_err();
    println!("after logout the token is refused: {refused}");
    Ok(())
}
