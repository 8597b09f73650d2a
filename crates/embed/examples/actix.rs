//! Tessera inside an actix-web service: register, log in and `/me`, over
//! SQLite, with the workers (mail delivery, housekeeping) running beside it.
//!
//! Run with `cargo run -p tessera-embed --example actix`, then
//! `curl -d '{"username":"alice","email":"a@example.com","password":"correct horse battery"}' -H 'content-type: application/json' localhost:3000/register`.

mod flow;

use actix_web::http::{StatusCode, header};
use actix_web::{App, HttpRequest, HttpResponse, HttpServer, ResponseError, web};
use serde_json::Value;
use tessera_embed::tessera_domain::AuthError;
use tessera_embed::{AuthService, SqlStack};

type Auth = web::Data<AuthService<SqlStack>>;

/// An [`AuthError`] as a response ([`flow::refusal`]).
#[derive(Debug)]
struct Refusal(AuthError);

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl ResponseError for Refusal {
    fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(self.0.kind().http_status())
            .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    fn error_response(&self) -> HttpResponse {
        let (_, body) = flow::refusal(&self.0);
        let mut response = HttpResponse::build(self.status_code());
        match body {
            Some(body) => response.json(body),
            None => response.finish(),
        }
    }
}

impl From<AuthError> for Refusal {
    fn from(e: AuthError) -> Self {
        Self(e)
    }
}

/// The caller's address and `User-Agent`; `None` without a peer address (a
/// Unix socket): refuse then rather than share one throttle bucket.
fn caller(req: &HttpRequest) -> Option<(std::net::IpAddr, Option<&str>)> {
    let ip = req.peer_addr()?.ip();
    let agent = req
        .headers()
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok());
    Some((ip, agent))
}

async fn register(auth: Auth, body: web::Json<Value>) -> Result<HttpResponse, Refusal> {
    Ok(HttpResponse::Ok().json(flow::register(&auth, &body).await?))
}

async fn login(
    auth: Auth,
    req: HttpRequest,
    body: web::Json<Value>,
) -> Result<HttpResponse, Refusal> {
    let Some((ip, agent)) = caller(&req) else {
        return Ok(HttpResponse::BadRequest().finish());
    };
    Ok(HttpResponse::Ok().json(flow::log_in(&auth, &body, ip, agent).await?))
}

async fn me(auth: Auth, req: HttpRequest) -> Result<HttpResponse, Refusal> {
    let bearer = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    let Some((ip, agent)) = caller(&req) else {
        return Ok(HttpResponse::BadRequest().finish());
    };
    Ok(HttpResponse::Ok().json(flow::profile(&auth, bearer, ip, agent).await?))
}

#[actix_web::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let running = flow::start_web_service("var/actix-example.db").await?;
    let auth: Auth = web::Data::from(running.service());
    let server = HttpServer::new(move || {
        App::new()
            .app_data(auth.clone())
            .route("/register", web::post().to(register))
            .route("/login", web::post().to(login))
            .route("/me", web::get().to(me))
    })
    .bind(("127.0.0.1", 3000))?;
    println!("listening on http://127.0.0.1:3000");
    server.run().await?;
    running.stop().await;
    Ok(())
}
