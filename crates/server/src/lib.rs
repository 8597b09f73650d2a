//! # tessera-server
//!
//! The HTTP face of Tessera: actix-web routes per dialect, configuration,
//! wiring of the adapters, and the `tessera` binary.

pub mod cli;
pub mod config;
pub mod http;
pub mod metrics;
pub mod openapi;
pub mod ready;
pub mod startup;
pub mod telemetry;
pub mod wiring;

pub use config::Config;
pub use startup::Application;
