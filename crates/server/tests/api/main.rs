//! HTTP tests: one binary, one fresh app and SQLite file per test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod browser;
mod helpers;

mod jwt_keys;

mod account_deletion;
mod account_export;
mod admin;
mod admin_login;
mod audit;
mod auth_errors;
mod bad_input;
mod change_password;
mod cli;
mod contract;
mod dialect_wording;
mod edge;
mod factors;
mod faults;
mod federation;
mod hardening;
mod health;
mod i18n;
mod identifiers;
mod legacy;
mod limits;
mod login;
mod login_races;
mod logout;
mod mail;
mod matrix;
mod me;
mod oidc;
mod openapi;
mod pages;
mod parity;
mod passkeys;
mod password_screening;
mod ranks;
mod refresh;
mod register;
mod required_factors;
mod reset;
mod routes;
mod scale;
mod seed001;
mod seed001_parity;
mod seed002;
mod seed_tokens;
mod session_limit;
mod sessions;
mod shutdown;
mod telemetry;
mod verify;
mod webhooks;
