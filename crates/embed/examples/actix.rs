//! Tessera inside an actix-web service: register, log in and `/me`, over
//! SQLite, with the workers (mail delivery, housekeeping) running beside it.
//!
//! Run with `cargo run -p tessera-embed --example actix`, then
//! `curl -d '{"username":"alice","email":"a@example.com","password":"correct horse battery"}' -H 'content-type: application/json' localhost:3000/register`.

use actix_web::http::{StatusCode, header};
use actix_web::{App, HttpRequest, HttpResponse, HttpServer, ResponseError, web};
use serde_json::{Value, json};
use tessera_embed::tessera_domain::AuthError;
use tessera_embed::tessera_domain::mail::Locale;
use tessera_embed::tessera_domain::settings::LinkKind;
use tessera_embed::tessera_domain::usecase::{LoginStep, LoginTerms, RegistrationForm};
use tessera_embed::tessera_domain::values::PasswordInput;
use tessera_embed::{AuthService, MailSink, Secret, SqlStack, Tessera, client};

type Auth = web::Data<AuthService<SqlStack>>;

/// An [`AuthError`] as a response; 5xx causes are logged, never sent.
#[derive(Debug)]
struct Refusal(AuthError);

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl ResponseError for Refusal {
    fn status_code(&self) -> StatusCode {
        // The domain's coarse kind of each error carries its usual status.
        StatusCode::from_u16(self.0.kind().http_status())
            .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    fn error_response(&self) -> HttpResponse {
        let status = self.status_code();
        if status.is_server_error() {
            eprintln!("auth failed: {}", self.0);
            return HttpResponse::new(status);
        }
        HttpResponse::build(status).json(json!({ "error": self.0.to_string() }))
    }
}

impl From<AuthError> for Refusal {
    fn from(e: AuthError) -> Self {
        Self(e)
    }
}

async fn register(auth: Auth, body: web::Json<Value>) -> Result<HttpResponse, Refusal> {
    let text = |k: &str| body.get(k).and_then(Value::as_str).map(str::to_owned);
    let form = RegistrationForm {
        username: text("username"),
        email: text("email"),
        password: text("password"),
        ..RegistrationForm::default()
    };
    let user = auth.register(&form, Locale::En, LinkKind::Page).await?;
    Ok(
        HttpResponse::Ok()
            .json(json!({ "id": user.public_id, "username": user.username.as_str() })),
    )
}

async fn login(
    auth: Auth,
    req: HttpRequest,
    body: web::Json<Value>,
) -> Result<HttpResponse, Refusal> {
    let text = |k: &str| body.get(k).and_then(Value::as_str).unwrap_or_default();
    let agent = req
        .headers()
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok());
    // The peer address is the throttle key; behind a proxy use the address it reports.
    // No peer address (a Unix socket): refuse rather than share one throttle bucket.
    let Some(ip) = req.peer_addr().map(|a| a.ip()) else {
        return Ok(HttpResponse::BadRequest().finish());
    };
    let out = auth
        .verify_credentials(
            text("username"),
            PasswordInput::Plain(text("password")),
            client(ip, agent),
            LoginTerms::default(),
        )
        .await
        .and_then(LoginStep::done)?;
    Ok(HttpResponse::Ok().json(json!({
        "access_token": out.tokens.access.token.expose(),
        "expires_in": out.tokens.access.expires_in,
        "refresh_token": out.tokens.refresh.expose(),
    })))
}

async fn me(auth: Auth, req: HttpRequest) -> Result<HttpResponse, Refusal> {
    let bearer = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    let agent = req
        .headers()
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok());
    // No peer address (a Unix socket): refuse rather than share one throttle bucket.
    let Some(ip) = req.peer_addr().map(|a| a.ip()) else {
        return Ok(HttpResponse::BadRequest().finish());
    };
    let who = auth.authenticate(bearer, client(ip, agent)).await?;
    let user = auth.current_user(&who).await?;
    Ok(HttpResponse::Ok()
        .json(json!({ "username": user.username.as_str(), "email": user.email.as_str() })))
}

#[actix_web::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let tessera = Tessera::builder()
        .sqlite("var/actix-example.db")
        .secret(Secret::generate()?)
        .mail(MailSink::files(
            "var/mail",
            "Example",
            "no-reply@example.com",
        )?)
        .build()
        .await?;
    let running = tessera.spawn_workers();
    let auth: Auth = web::Data::from(running.service());
    println!("listening on http://127.0.0.1:3000");
    HttpServer::new(move || {
        App::new()
            .app_data(auth.clone())
            .route("/register", web::post().to(register))
            .route("/login", web::post().to(login))
            .route("/me", web::get().to(me))
    })
    .bind(("127.0.0.1", 3000))?
    .run()
    .await?;
    running.stop().await;
    Ok(())
}
