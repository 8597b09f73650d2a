use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use argon2::password_hash::PasswordHasher as _;
use argon2::{Algorithm, Argon2, Params, Version};
use tessera_domain::error::HashError;
use tessera_domain::model::PasswordHash;
use tessera_domain::ports::PasswordHasher;
use tessera_domain::values::PasswordAttempt;
use tokio::sync::Semaphore;

use threads::{Job, Pool};

mod calibration;
#[cfg(test)]
mod tests;
mod threads;

pub use calibration::{Calibration, calibrate, parallel_throughput};

/// Argon2id cost parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Argon2Params {
    /// Memory in KiB. Default 19456 (19 MiB, OWASP's first recommendation).
    pub memory_kib: u32,
    /// Passes. Default 2.
    pub iterations: u32,
    /// Lanes. Default 1.
    pub parallelism: u32,
}

impl Default for Argon2Params {
    fn default() -> Self {
        Self {
            memory_kib: 19_456,
            iterations: 2,
            parallelism: 1,
        }
    }
}

/// How much hashing may happen at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HasherLimits {
    /// Hashes computed at the same time (default: the number of CPUs).
    pub max_in_flight: usize,
    /// Hashes allowed to wait for a slot; one more is refused with
    /// [`HashError::Busy`] instead of queueing without bound.
    pub max_waiting: usize,
}

impl Default for HasherLimits {
    fn default() -> Self {
        let cpus = std::thread::available_parallelism().map_or(2, std::num::NonZero::get);
        Self {
            max_in_flight: cpus,
            max_waiting: cpus * 32,
        }
    }
}

struct Inner {
    argon: Argon2<'static>,
    pool: Pool,
    slots: Arc<Semaphore>,
    max_in_flight: usize,
    admitted: AtomicUsize,
    max_waiting: usize,
    dummy: PasswordHash,
}

/// What argon2id hashes: the lower-case hex SM3 digest of the password, so
/// that a seed-001 client that sends the digest instead of the password
/// verifies against the same hash (the digest form is used as it comes).
fn material(pw: &PasswordAttempt) -> String {
    if pw.is_sm3_digest() {
        pw.expose().to_owned()
    } else {
        crate::legacy::sm3_hex(pw.expose())
    }
}

/// Argon2id hashing on its own threads (one per concurrent hash), never on
/// the async executor.
///
/// The canonical stored hash is `argon2id(sm3_hex(password))` in PHC form; see
/// [`PasswordAttempt::sm3_digest`] for why.
#[derive(Clone)]
pub struct Argon2Hasher {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Argon2Hasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Argon2Hasher")
            .field("params", self.inner.argon.params())
            .field("max_waiting", &self.inner.max_waiting)
            .finish_non_exhaustive()
    }
}

/// Releases an admission however the hash ends (including cancellation).
struct AdmissionGuard<'a>(&'a AtomicUsize);

impl Drop for AdmissionGuard<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

impl Argon2Hasher {
    /// A hasher with these parameters and limits. Computes one dummy hash (for
    /// timing-safe answers to unknown users) before returning.
    ///
    /// # Errors
    /// When the parameters are out of argon2's range, or no randomness is available.
    pub fn new(params: Argon2Params, limits: HasherLimits) -> Result<Self, HashError> {
        let argon = argon2id(params)?;
        let filler =
            crate::hex(&crate::random_bytes(16).map_err(|e| HashError::Failed(e.to_string()))?);
        let dummy = PasswordHash::new(
            argon
                .hash_password(filler.as_bytes())
                .map_err(|e| HashError::Failed(e.to_string()))?
                .to_string(),
        );
        Ok(Self {
            inner: Arc::new(Inner {
                argon,
                pool: Pool::start(limits.max_in_flight.max(1))?,
                slots: Arc::new(Semaphore::new(limits.max_in_flight.max(1))),
                max_in_flight: limits.max_in_flight.max(1),
                admitted: AtomicUsize::new(0),
                max_waiting: limits.max_waiting,
                dummy,
            }),
        })
    }

    /// Hashes being computed right now.
    #[must_use]
    pub fn in_flight(&self) -> usize {
        self.inner
            .max_in_flight
            .saturating_sub(self.inner.slots.available_permits())
    }

    /// Hashes admitted (computing or waiting for a slot).
    #[must_use]
    pub fn admitted(&self) -> usize {
        self.inner.admitted.load(Ordering::Acquire)
    }

    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce(&Argon2<'static>) -> T + Send + 'static,
    ) -> Result<T, HashError> {
        let inner = &self.inner;
        let cap = inner.max_in_flight + inner.max_waiting;
        if inner.admitted.fetch_add(1, Ordering::AcqRel) >= cap {
            inner.admitted.fetch_sub(1, Ordering::AcqRel);
            return Err(HashError::Busy);
        }
        let _admission = AdmissionGuard(&inner.admitted);
        let permit = Arc::clone(&inner.slots)
            .acquire_owned()
            .await
            .map_err(|e| HashError::Failed(e.to_string()))?;
        let (done, result) = tokio::sync::oneshot::channel();
        let job_inner = Arc::clone(&self.inner);
        let job: Job = Box::new(move || {
            let out = work(&job_inner.argon);
            // Free the slot before answering, so that whoever reads the
            // answer already sees this hash finished.
            drop(permit);
            let _ = done.send(out);
        });
        inner
            .pool
            .jobs
            .send(job)
            .map_err(|_| HashError::Failed("hash threads stopped".into()))?;
        result
            .await
            .map_err(|e| HashError::Failed(format!("hash task: {e}")))
    }
}

thread_local! {
    /// This hash thread's argon2 memory, grown to the largest `m` it has
    /// needed and reused by every hash: no 19 MiB allocation per hash, so
    /// neither page faults nor a malloc arena holding freed blocks.
    static MEMORY: std::cell::RefCell<Vec<argon2::Block>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Argon2id (version 0x13) with `params`.
fn argon2id(params: Argon2Params) -> Result<Argon2<'static>, HashError> {
    let p = Params::new(
        params.memory_kib,
        params.iterations,
        params.parallelism,
        None,
    )
    .map_err(|e| HashError::Failed(format!("argon2 parameters: {e}")))?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, p))
}

/// Runs `argon` into `out` on this thread's reusable memory.
fn hash_into(argon: &Argon2<'_>, pwd: &[u8], salt: &[u8], out: &mut [u8]) -> Result<(), HashError> {
    let blocks = argon.params().block_count();
    MEMORY.with(|m| {
        let mut m = m.borrow_mut();
        if m.len() < blocks {
            m.resize(blocks, argon2::Block::default());
        }
        argon
            .hash_password_into_with_memory(pwd, salt, out, &mut m[..blocks])
            .map_err(|e| HashError::Failed(e.to_string()))
    })
}

/// A new argon2id PHC string (`$argon2id$v=19$m=…,t=…,p=…$salt$hash`, B64
/// without padding, 16-byte salt, 32-byte output: what the argon2 crate writes).
fn hash_phc(argon: &Argon2<'_>, pwd: &[u8]) -> Result<String, HashError> {
    use base64::Engine as _;
    let salt = crate::random_bytes(16).map_err(|e| HashError::Failed(e.to_string()))?;
    let mut out = [0_u8; 32];
    hash_into(argon, pwd, &salt, &mut out)?;
    let p = argon.params();
    let b64 = base64::engine::general_purpose::STANDARD_NO_PAD;
    Ok(format!(
        "$argon2id$v=19$m={},t={},p={}${}${}",
        p.m_cost(),
        p.t_cost(),
        p.p_cost(),
        b64.encode(salt),
        b64.encode(out)
    ))
}

/// Checks `pwd` against any argon2 PHC string, with the parameters it names.
fn verify_phc(pwd: &[u8], phc: &str) -> Result<bool, HashError> {
    let unreadable =
        |e: &dyn std::fmt::Display| HashError::Failed(format!("stored hash unreadable: {e}"));
    let parsed = argon2::PasswordHash::new(phc).map_err(|e| unreadable(&e))?;
    let params = Params::try_from(&parsed).map_err(|e| unreadable(&e))?;
    let algorithm = Algorithm::try_from(parsed.algorithm.as_str()).map_err(|e| unreadable(&e))?;
    let version = match parsed.version {
        Some(v) => Version::try_from(v).map_err(|e| unreadable(&e))?,
        None => Version::default(),
    };
    let (Some(salt), Some(expected)) = (&parsed.salt, &parsed.hash) else {
        return Err(HashError::Failed(
            "stored hash unreadable: no salt or output".into(),
        ));
    };
    let mut out = vec![0_u8; expected.len()];
    hash_into(
        &Argon2::new(algorithm, version, params),
        pwd,
        salt,
        &mut out,
    )?;
    Ok(subtle::ConstantTimeEq::ct_eq(out.as_slice(), expected.as_bytes()).into())
}

impl PasswordHasher for Argon2Hasher {
    async fn hash(&self, password: &PasswordAttempt) -> Result<PasswordHash, HashError> {
        let pw = password.clone();
        self.run(move |argon| hash_phc(argon, material(&pw).as_bytes()).map(PasswordHash::new))
            .await?
    }

    async fn verify(
        &self,
        password: &PasswordAttempt,
        hash: &PasswordHash,
    ) -> Result<bool, HashError> {
        let pw = password.clone();
        let hash = hash.clone();
        self.run(move |_| {
            let legacy = if pw.is_sm3_digest() {
                crate::legacy::verify_legacy_digest(pw.expose(), hash.as_str())
            } else {
                crate::legacy::verify_legacy(pw.expose_original(), hash.as_str())
            };
            if let Some(ok) = legacy {
                return Ok(ok);
            }
            verify_phc(material(&pw).as_bytes(), hash.as_str())
        })
        .await?
    }

    fn dummy_hash(&self) -> &PasswordHash {
        &self.inner.dummy
    }

    fn needs_rehash(&self, hash: &PasswordHash) -> bool {
        let p = self.inner.argon.params();
        let current = format!(
            "$argon2id$v=19$m={},t={},p={}$",
            p.m_cost(),
            p.t_cost(),
            p.p_cost()
        );
        !hash.as_str().starts_with(&current)
    }

    fn can_verify(&self, hash: &PasswordHash) -> bool {
        hash.as_str().starts_with("$argon2") || crate::legacy::is_legacy(hash.as_str())
    }
}
