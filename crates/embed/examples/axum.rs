//! Tessera inside an axum service: register, log in and `/me`, over SQLite,
//! with the workers (mail delivery, housekeeping) running beside the server.
//!
//! Run with `cargo run -p tessera-embed --example axum`, then
//! `curl -d '{"username":"alice","email":"a@example.com","password":"correct horse battery"}' -H 'content-type: application/json' localhost:3000/register`.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{Value, json};
use tessera_embed::tessera_domain::AuthError;
use tessera_embed::tessera_domain::mail::Locale;
use tessera_embed::tessera_domain::settings::LinkKind;
use tessera_embed::tessera_domain::usecase::{LoginStep, LoginTerms, RegistrationForm};
use tessera_embed::tessera_domain::values::PasswordInput;
use tessera_embed::{AuthService, MailSink, Secret, SqlStack, Tessera, client};

type Auth = Arc<AuthService<SqlStack>>;

/// An [`AuthError`] as a response; 5xx causes are logged, never sent.
struct Refusal(AuthError);

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        // The domain's coarse kind of each error carries its usual status.
        let status = StatusCode::from_u16(self.0.kind().http_status())
            .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        if status.is_server_error() {
            eprintln!("auth failed: {}", self.0);
            return status.into_response();
        }
        (status, Json(json!({ "error": self.0.to_string() }))).into_response()
    }
}

impl From<AuthError> for Refusal {
    fn from(e: AuthError) -> Self {
        Self(e)
    }
}

async fn register(
    State(auth): State<Auth>,
    Json(body): Json<Value>,
) -> Result<Json<Value>, Refusal> {
    let text = |k: &str| body.get(k).and_then(Value::as_str).map(str::to_owned);
    let form = RegistrationForm {
        username: text("username"),
        email: text("email"),
        password: text("password"),
        ..RegistrationForm::default()
    };
    let user = auth.register(&form, Locale::En, LinkKind::Page).await?;
    Ok(Json(
        json!({ "id": user.public_id, "username": user.username.as_str() }),
    ))
}

async fn login(
    State(auth): State<Auth>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Result<Json<Value>, Refusal> {
    let text = |k: &str| body.get(k).and_then(Value::as_str).unwrap_or_default();
    let agent = headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok());
    // The peer address is the throttle key; behind a proxy use the address it reports.
    let out = auth
        .verify_credentials(
            text("username"),
            PasswordInput::Plain(text("password")),
            client(peer.ip(), agent),
            LoginTerms::default(),
        )
        .await
        .and_then(LoginStep::done)?;
    Ok(Json(json!({
        "access_token": out.tokens.access.token.expose(),
        "expires_in": out.tokens.access.expires_in,
        "refresh_token": out.tokens.refresh.expose(),
    })))
}

async fn me(
    State(auth): State<Auth>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
) -> Result<Json<Value>, Refusal> {
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    let agent = headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok());
    let who = auth.authenticate(bearer, client(peer.ip(), agent)).await?;
    let user = auth.current_user(&who).await?;
    Ok(Json(
        json!({ "username": user.username.as_str(), "email": user.email.as_str() }),
    ))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let tessera = Tessera::builder()
        .sqlite("var/axum-example.db")
        .secret(Secret::generate()?)
        .mail(MailSink::files(
            "var/mail",
            "Example",
            "no-reply@example.com",
        )?)
        .build()
        .await?;
    let running = tessera.spawn_workers();
    let app = Router::new()
        .route("/register", post(register))
        .route("/login", post(login))
        .route("/me", get(me))
        .with_state(running.service());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await?;
    println!("listening on http://{}", listener.local_addr()?);
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await?;
    running.stop().await;
    Ok(())
}
