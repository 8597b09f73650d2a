//! The operations routes' bodies.
#![allow(non_snake_case)]

use std::collections::BTreeMap;

use serde::Serialize;
use utoipa::ToSchema;

/// `GET /health`: seed 001's `{Code, Msg}` and the seed's `status`,
/// `service`, `version`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Health {
    pub Code: u16,
    pub Msg: String,
    /// Always `healthy` (the process answers; `/ready` checks dependencies).
    pub status: String,
    /// The product: `Tessera`.
    pub service: String,
    /// Tessera's version, e.g. `0.1.0`.
    pub version: String,
}

/// One dependency's state.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Check {
    /// `up`, `down` or `not_configured`.
    pub status: String,
    pub latency_ms: Option<u64>,
}

/// `GET /ready`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Ready {
    /// `ready` or `not_ready`.
    pub status: String,
    /// `database`, `redis`, `smtp`.
    pub checks: BTreeMap<String, Check>,
}

/// `GET /.well-known/jwks.json` (RFC 7517); empty with HS256.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Jwks {
    #[schema(value_type = Vec<Object>)]
    pub keys: Vec<serde_json::Value>,
}
