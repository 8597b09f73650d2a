//! What the examples share. The store examples (memory, SQLite, MySQL) run
//! one walk ([`run`]): register (the verification mail is queued with the
//! account), wait for the running mail worker to deliver it, log in,
//! authenticate, refresh and log out. The web examples (axum, actix-web)
//! share the service they start ([`start_web_service`]) and what their
//! handlers do ([`register`], [`log_in`], [`profile`], [`refusal`]); each
//! example uses part of this module.
#![allow(dead_code)]

use std::error::Error;
use std::net::IpAddr;
use std::path::Path;
use std::time::Duration;

use serde_json::{Value, json};
use tessera_embed::tessera_domain::AuthError;
use tessera_embed::tessera_domain::mail::Locale;
use tessera_embed::tessera_domain::ports::Ports;
use tessera_embed::tessera_domain::settings::LinkKind;
use tessera_embed::tessera_domain::usecase::{LoginStep, LoginTerms, RegistrationForm};
use tessera_embed::tessera_domain::values::PasswordInput;
use tessera_embed::{AuthService, MailSink, Tessera, client};

/// The examples' mail: `.eml` files in `dir`, from `Example <no-reply@example.com>`.
///
/// # Errors
/// When `dir` cannot be made.
pub fn example_mail(dir: impl AsRef<Path>) -> Result<MailSink, Box<dyn Error>> {
    Ok(MailSink::files(
        dir.as_ref(),
        "Example",
        "no-reply@example.com",
    )?)
}

/// Starts `tessera`'s workers, runs [`walk`] on it with its mail in
/// `mail_dir`, and stops the workers.
///
/// # Errors
/// The first step of the walk that fails.
pub async fn run<P: Ports>(tessera: Tessera<P>, mail_dir: &Path) -> Result<(), Box<dyn Error>>
where
    P::Outbox: Clone,
{
    let running = tessera.spawn_workers();
    let walked = walk(&running, mail_dir).await;
    running.stop().await;
    walked
}

/// The web examples' service: the SQLite file `db`, a secret for this
/// process only (in a real service: `Secret::from_bytes` of a stored one),
/// mail as `.eml` files under `var/mail`; its workers running.
///
/// # Errors
/// When the database, the mail folder or the hasher cannot be set up.
#[cfg(feature = "sqlite")]
pub async fn start_web_service(
    db: &str,
) -> Result<tessera_embed::Running<tessera_embed::SqlStack>, Box<dyn Error>> {
    let tessera = Tessera::builder()
        .sqlite(db)
        .secret(tessera_embed::Secret::generate()?)
        .mail(example_mail("var/mail")?)
        .build()
        .await?;
    Ok(tessera.spawn_workers())
}

/// A JSON body's string field, if any.
fn text(body: &Value, key: &str) -> Option<String> {
    body.get(key).and_then(Value::as_str).map(str::to_owned)
}

/// Registers the account of a JSON body (`username`, `email`, `password`);
/// answers its public id and username.
///
/// # Errors
/// The registration's refusal.
pub async fn register<P: Ports>(auth: &AuthService<P>, body: &Value) -> Result<Value, AuthError> {
    let form = RegistrationForm {
        username: text(body, "username"),
        email: text(body, "email"),
        password: text(body, "password"),
        ..RegistrationForm::default()
    };
    let user = auth.register(&form, Locale::En, LinkKind::Page).await?;
    Ok(json!({ "id": user.public_id, "username": user.username.as_str() }))
}

/// Logs in with a JSON body's `username` and `password` for the caller at
/// `ip` (the throttle key; behind a proxy, the address it reports);
/// answers the tokens.
///
/// # Errors
/// The login's refusal.
pub async fn log_in<P: Ports>(
    auth: &AuthService<P>,
    body: &Value,
    ip: IpAddr,
    agent: Option<&str>,
) -> Result<Value, AuthError> {
    let field = |key| text(body, key).unwrap_or_default();
    let out = auth
        .verify_credentials(
            &field("username"),
            PasswordInput::Plain(&field("password")),
            client(ip, agent),
            LoginTerms::default(),
        )
        .await
        .and_then(LoginStep::done)?;
    Ok(json!({
        "access_token": out.tokens.access.token.expose(),
        "expires_in": out.tokens.access.expires_in,
        "refresh_token": out.tokens.refresh.expose(),
    }))
}

/// The username and email of the bearer token's account.
///
/// # Errors
/// When the token is missing, refused, or its account is gone.
pub async fn profile<P: Ports>(
    auth: &AuthService<P>,
    bearer: Option<&str>,
    ip: IpAddr,
    agent: Option<&str>,
) -> Result<Value, AuthError> {
    let who = auth.authenticate(bearer, client(ip, agent)).await?;
    let user = auth.current_user(&who).await?;
    Ok(json!({ "username": user.username.as_str(), "email": user.email.as_str() }))
}

/// The HTTP status of a refusal (the domain's coarse kind carries it) and
/// its body: `{"error": …}`, or none for a server error, whose cause is
/// logged here and never sent.
#[must_use]
pub fn refusal(error: &AuthError) -> (u16, Option<Value>) {
    let status = error.kind().http_status();
    if status >= 500 {
        eprintln!("auth failed: {error}");
        return (status, None);
    }
    (status, Some(json!({ "error": error.to_string() })))
}

/// Runs the walk on `auth`, whose workers deliver mail as `.eml` files into `mail_dir`.
pub async fn walk<P: Ports>(auth: &AuthService<P>, mail_dir: &Path) -> Result<(), Box<dyn Error>> {
    // A fresh name each run, so the walk also works on a database that persists.
    let name = format!("alice{}", std::process::id());
    let email = format!("{name}@example.com");
    let password = "correct horse battery";
    let user = auth
        .register(
            &RegistrationForm {
                username: Some(name.clone()),
                email: Some(email.clone()),
                password: Some(password.into()),
                ..RegistrationForm::default()
            },
            Locale::En,
            LinkKind::Page,
        )
        .await?;
    println!("registered {} (id {})", user.username, user.id);

    let mail = wait_for_mail(mail_dir, &email).await?;
    println!("verification mail delivered: {}", mail.display());

    // Say who the client is: the throttle counts failures per client.
    let me = client("127.0.0.1".parse()?, Some("tessera-embed example"));
    let login = auth
        .verify_credentials(
            &email,
            PasswordInput::Plain(password),
            me.clone(),
            LoginTerms::default(),
        )
        .await
        .and_then(LoginStep::done)?;
    println!(
        "logged in; access token expires in {} s",
        login.tokens.access.expires_in
    );

    let who = auth
        .authenticate(Some(login.tokens.access.token.expose()), me.clone())
        .await?;
    println!(
        "the token belongs to {}",
        auth.current_user(&who).await?.username
    );

    let (_, pair) = auth
        .refresh(login.tokens.refresh.expose(), me.clone())
        .await?;
    println!(
        "refreshed: {}",
        pair.refresh.expose() != login.tokens.refresh.expose()
    );

    let who = auth
        .authenticate(Some(pair.access.token.expose()), me.clone())
        .await?;
    auth.logout(&who).await?;
    let refused = auth
        .authenticate(Some(pair.access.token.expose()), me)
        .await
        .is_err();
    println!("after logout the token is refused: {refused}");
    Ok(())
}

/// The `.eml` file addressed to `to` in `dir`, once the worker has written it (10 s at most).
async fn wait_for_mail(dir: &Path, to: &str) -> Result<std::path::PathBuf, Box<dyn Error>> {
    for _ in 0..100 {
        for entry in std::fs::read_dir(dir)? {
            let path = entry?.path();
            if std::fs::read_to_string(&path)?.contains(to) {
                return Ok(path);
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Err(format!("no mail to {to} in {} after 10 s", dir.display()).into())
}
