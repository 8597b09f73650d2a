//! Tessera inside an axum service: register, log in and `/me`, over SQLite,
//! with the workers (mail delivery, housekeeping) running beside the server.
//!
//! Run with `cargo run -p tessera-embed --example axum`, then
//! `curl -d '{"username":"alice","email":"a@example.com","password":"correct horse battery"}' -H 'content-type: application/json' localhost:3000/register`.

mod flow;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::Value;
use tessera_embed::tessera_domain::AuthError;
use tessera_embed::{AuthService, SqlStack};

type Auth = Arc<AuthService<SqlStack>>;

/// An [`AuthError`] as a response ([`flow::refusal`]).
struct Refusal(AuthError);

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        let (status, body) = flow::refusal(&self.0);
        let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        match body {
            Some(body) => (status, Json(body)).into_response(),
            None => status.into_response(),
        }
    }
}

impl From<AuthError> for Refusal {
    fn from(e: AuthError) -> Self {
        Self(e)
    }
}

fn user_agent(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
}

async fn register(
    State(auth): State<Auth>,
    Json(body): Json<Value>,
) -> Result<Json<Value>, Refusal> {
    Ok(Json(flow::register(&auth, &body).await?))
}

async fn login(
    State(auth): State<Auth>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Result<Json<Value>, Refusal> {
    let agent = user_agent(&headers);
    Ok(Json(flow::log_in(&auth, &body, peer.ip(), agent).await?))
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
    let agent = user_agent(&headers);
    Ok(Json(flow::profile(&auth, bearer, peer.ip(), agent).await?))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let running = flow::start_web_service("var/axum-example.db").await?;
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
