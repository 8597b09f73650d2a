//! The walk the store examples share: register (the verification mail is
//! queued with the account), wait for the running mail worker to deliver it,
//! log in, authenticate, refresh and log out.

use std::error::Error;
use std::path::Path;
use std::time::Duration;

use tessera_embed::tessera_domain::mail::Locale;
use tessera_embed::tessera_domain::ports::Ports;
use tessera_embed::tessera_domain::settings::LinkKind;
use tessera_embed::tessera_domain::usecase::{LoginStep, LoginTerms, RegistrationForm};
use tessera_embed::tessera_domain::values::PasswordInput;
use tessera_embed::{AuthService, client};

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
