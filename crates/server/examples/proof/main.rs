//! Fault injection and soak runs against the release binary (not part of the
//! test suite; `scripts/faults.sh` and `scripts/soak.sh` run them).
//!
//! `proof faults`: starts private MariaDB, Redis (AOF, as production should
//! run it) and an SMTP sink, then Tessera on them, and drives a mixed load
//! (`/me`, refresh, login, register, logout) while it kills and restarts
//! Redis, then MariaDB, then the SMTP sink; then it starts a second instance
//! on the same stores and revokes tokens on the first that the second has
//! cached, with the second's change stream intact and then cut (its
//! connection killed every 20 ms). It reports answers by phase and class, how
//! long each recovery took, revoked tokens accepted (must be 0: on the
//! second instance, 150 ms after the logout) and mails lost (must be 0), and
//! exits 1 when either is not 0 or any answer was a 500.
//!
//! `proof soak`: Tessera on the embedded default; measures the capacity of a
//! mix (90% `/me`, 9% refresh, 1% login) for 15 s with 64 connections, then
//! holds half of it for `SOAK_SECS` (600) and reports 5xx answers, latency
//! and RSS over time.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod faults;
mod harness;
mod soak;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let ok = match std::env::args().nth(1).as_deref() {
        Some("faults") => faults::faults().await,
        Some("soak") => soak::soak().await,
        _ => {
            eprintln!(
                "usage: proof faults | proof soak   (see scripts/faults.sh, scripts/soak.sh)"
            );
            return std::process::ExitCode::from(2);
        }
    };
    if ok {
        std::process::ExitCode::SUCCESS
    } else {
        std::process::ExitCode::FAILURE
    }
}
