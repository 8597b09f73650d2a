use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use argon2::password_hash::PasswordHasher as _;
use argon2::{Algorithm, Argon2, Params, Version};
use tessera_domain::error::HashError;
use tessera_domain::model::PasswordHash;
use tessera_domain::ports::PasswordHasher;
use tessera_domain::values::PasswordAttempt;
use tokio::sync::Semaphore;

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

type Job = Box<dyn FnOnce() + Send>;

/// The hashing threads: `max_in_flight` of them, for the hasher's lifetime.
///
/// Not tokio's blocking pool: that pool grows to hundreds of threads under
/// load (database work uses it too), and glibc keeps a freed 19 MiB argon2
/// block in each thread's arena, so RSS grew to a gigabyte under a login
/// flood. A fixed set of threads keeps it to one block per thread.
struct Pool {
    jobs: std::sync::mpsc::Sender<Job>,
}

impl Pool {
    fn start(threads: usize) -> Result<Self, HashError> {
        let (jobs, queue) = std::sync::mpsc::channel::<Job>();
        let queue = Arc::new(std::sync::Mutex::new(queue));
        for i in 0..threads {
            let queue = Arc::clone(&queue);
            std::thread::Builder::new()
                .name(format!("tessera-hash-{i}"))
                .spawn(move || {
                    lower_priority();
                    loop {
                        let job = match queue.lock() {
                            Ok(q) => q.recv(),
                            Err(_) => return,
                        };
                        match job {
                            Ok(job) => job(),
                            Err(_) => return, // the hasher is gone
                        }
                    }
                })
                .map_err(|e| HashError::Failed(format!("hash thread: {e}")))?;
        }
        Ok(Self { jobs })
    }
}

/// Hash threads run at niceness 10: under a login flood they still take
/// every idle cycle, but a cheap request (`/me`, refresh) waiting for a CPU
/// gets it first, so hashing cannot starve the rest of the service.
fn lower_priority() {
    use thread_priority::{ThreadPriority, ThreadPriorityValue};
    // Crossplatform 22 of 0..=99 maps to niceness 10 on Linux.
    if let Ok(p) = ThreadPriorityValue::try_from(22_u8) {
        let _ = thread_priority::set_current_thread_priority(ThreadPriority::Crossplatform(p));
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

#[cfg(test)]
mod tests {
    use super::*;

    fn small() -> Argon2Params {
        Argon2Params {
            memory_kib: 64,
            iterations: 1,
            parallelism: 1,
        }
    }

    #[tokio::test]
    async fn hashes_run_on_a_fixed_set_of_niced_threads() {
        let h = Argon2Hasher::new(
            small(),
            HasherLimits {
                max_in_flight: 3,
                max_waiting: 8,
            },
        )
        .unwrap();
        let pw = PasswordAttempt::parse("password123").unwrap();
        for _ in 0..12 {
            h.hash(&pw).await.unwrap();
        }
        // Each thread of this process named tessera-hash-*, with its niceness
        // (field 19 of /proc/self/task/<tid>/stat, after the ")" of the name).
        let mut niceness = Vec::new();
        for task in std::fs::read_dir("/proc/self/task").unwrap().flatten() {
            let comm = std::fs::read_to_string(task.path().join("comm")).unwrap_or_default();
            if comm.starts_with("tessera-hash-") {
                let stat = std::fs::read_to_string(task.path().join("stat")).unwrap();
                let after = &stat[stat.rfind(')').unwrap() + 2..];
                niceness.push(after.split(' ').nth(16).unwrap().parse::<i32>().unwrap());
            }
        }
        // Other tests' hashers may run in this process too: at least ours.
        assert!(niceness.len() >= 3, "{niceness:?}");
        assert!(niceness.iter().all(|n| *n == 10), "{niceness:?}");
    }

    #[test]
    fn reused_memory_hashes_are_the_argon2_crates_phc_strings_both_ways() {
        use argon2::password_hash::PasswordVerifier as _;
        let ours = Argon2::new(
            Algorithm::Argon2id,
            Version::V0x13,
            Params::new(64, 1, 1, None).unwrap(),
        );
        let phc = hash_phc(&ours, b"secret").unwrap();
        assert!(phc.starts_with("$argon2id$v=19$m=64,t=1,p=1$"), "{phc}");
        assert!(ours.verify_password(b"secret", phc.as_str()).is_ok());
        assert!(verify_phc(b"secret", &phc).unwrap());
        assert!(!verify_phc(b"secreT", &phc).unwrap());
        // A hash the crate wrote with other parameters (and a bigger memory
        // than this thread has used so far) verifies too.
        let theirs = Argon2::new(
            Algorithm::Argon2id,
            Version::V0x13,
            Params::new(256, 2, 1, None).unwrap(),
        )
        .hash_password(b"other")
        .unwrap()
        .to_string();
        assert!(verify_phc(b"other", &theirs).unwrap());
        assert!(!verify_phc(b"secret", &theirs).unwrap());
        assert!(verify_phc(b"x", "$argon2id$v=19$m=64,t=1,p=1$bm9zYWx0").is_err());
    }

    #[tokio::test]
    async fn hashes_argon2id_and_verifies() {
        let h = Argon2Hasher::new(small(), HasherLimits::default()).unwrap();
        let pw = PasswordAttempt::parse("password123").unwrap();
        let hash = h.hash(&pw).await.unwrap();
        assert!(hash.as_str().starts_with("$argon2id$v=19$m=64,t=1,p=1$"));
        assert!(h.verify(&pw, &hash).await.unwrap());
        assert!(
            !h.verify(&PasswordAttempt::parse("password124").unwrap(), &hash)
                .await
                .unwrap()
        );
        assert!(!h.verify(&pw, h.dummy_hash()).await.unwrap());
        assert!(
            h.verify(&pw, &PasswordHash::new("not a phc string"))
                .await
                .is_err()
        );
    }

    #[tokio::test]
    async fn the_password_and_its_sm3_digest_verify_alike() {
        let h = Argon2Hasher::new(small(), HasherLimits::default()).unwrap();
        let plain = PasswordAttempt::parse("password123").unwrap();
        let digest = crate::legacy::sm3_hex("password123");
        let as_digest = PasswordAttempt::sm3_digest(&digest.to_ascii_uppercase()).unwrap();
        let other = PasswordAttempt::sm3_digest(&crate::legacy::sm3_hex("password124")).unwrap();
        // Hashed from the password, verified by either form, and the reverse.
        let from_plain = h.hash(&plain).await.unwrap();
        let from_digest = h.hash(&as_digest).await.unwrap();
        for hash in [&from_plain, &from_digest] {
            assert!(h.verify(&plain, hash).await.unwrap());
            assert!(h.verify(&as_digest, hash).await.unwrap());
            assert!(!h.verify(&other, hash).await.unwrap());
        }
        // The digest itself, sent as a password, is a different password.
        let digest_as_plain = PasswordAttempt::parse(&digest).unwrap();
        assert!(!h.verify(&digest_as_plain, &from_plain).await.unwrap());
        // Legacy hashes: an SM3 hash matches the digest; SHA-256 needs the password.
        let sm3_hash = PasswordHash::new(format!("sm3${digest}"));
        assert!(h.verify(&as_digest, &sm3_hash).await.unwrap());
        let sha = PasswordHash::new(
            "sha256$ef92b778bafe771e89245b89ecbc08a44a4e166c06659911881f383d4473e94f",
        );
        assert!(h.verify(&plain, &sha).await.unwrap());
        assert!(!h.verify(&as_digest, &sha).await.unwrap());
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn refuses_instead_of_queueing_without_bound() {
        let heavy = Argon2Params {
            memory_kib: 8 * 1024,
            iterations: 3,
            parallelism: 1,
        };
        let h = Argon2Hasher::new(
            heavy,
            HasherLimits {
                max_in_flight: 1,
                max_waiting: 2,
            },
        )
        .unwrap();
        let pw = PasswordAttempt::parse("password123").unwrap();
        let tasks: Vec<_> = (0..12)
            .map(|_| {
                let (h, pw) = (h.clone(), pw.clone());
                tokio::spawn(async move { h.hash(&pw).await })
            })
            .collect();
        let mut ok = 0;
        let mut busy = 0;
        for t in tasks {
            match t.await.unwrap() {
                Ok(_) => ok += 1,
                Err(HashError::Busy) => busy += 1,
                Err(e) => panic!("unexpected {e}"),
            }
        }
        assert!((1..=3).contains(&ok), "ok={ok}");
        assert_eq!(ok + busy, 12);
        assert_eq!(h.admitted(), 0);
        assert_eq!(h.in_flight(), 0);
    }
}

/// One measured setting of [`calibrate`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Calibration {
    /// The parameters measured.
    pub params: Argon2Params,
    /// The median time of one hash with them, on this machine.
    pub hash_time: std::time::Duration,
}

/// Times argon2id hashes on this machine, starting from `start` and raising
/// the passes (then the memory) until one hash takes at least `target`, or
/// `max_steps` settings were tried. Returns every setting measured (median of
/// seven hashes each), the last one the first to reach the target.
///
/// # Errors
/// When parameters are out of argon2's range.
pub fn calibrate(
    start: Argon2Params,
    target: std::time::Duration,
    max_steps: usize,
) -> Result<Vec<Calibration>, HashError> {
    let mut params = start;
    let mut out = Vec::new();
    for _ in 0..max_steps.max(1) {
        let argon = argon2id(params)?;
        let mut times = Vec::new();
        // One hash to warm the allocator and caches, then seven timed ones.
        argon
            .hash_password(b"calibration-password")
            .map_err(|e| HashError::Failed(e.to_string()))?;
        for _ in 0..7 {
            let started = std::time::Instant::now();
            argon
                .hash_password(b"calibration-password")
                .map_err(|e| HashError::Failed(e.to_string()))?;
            times.push(started.elapsed());
        }
        times.sort();
        let hash_time = times[3];
        out.push(Calibration { params, hash_time });
        if hash_time >= target {
            break;
        }
        // OWASP's equivalent settings trade memory for passes; raise passes
        // first (cheap in memory per concurrent login), memory after t=4.
        if params.iterations < 4 {
            params.iterations += 1;
        } else {
            params.memory_kib = params.memory_kib.saturating_mul(2);
        }
    }
    Ok(out)
}

/// Hashes per second with `threads` threads hashing at once (`per_thread`
/// hashes each, after one warm-up each) — the real ceiling of logins when
/// every CPU hashes, which is lower than CPUs ÷ one hash's time alone where
/// concurrent hashes share memory bandwidth and caches.
///
/// # Errors
/// When parameters are out of argon2's range.
pub fn parallel_throughput(
    params: Argon2Params,
    threads: usize,
    per_thread: usize,
) -> Result<f64, HashError> {
    let argon = argon2id(params)?;
    let barrier = std::sync::Barrier::new(threads.max(1));
    let started = std::sync::Mutex::new(None);
    std::thread::scope(|s| {
        for _ in 0..threads.max(1) {
            s.spawn(|| {
                let _ = argon.hash_password(b"calibration-password");
                if barrier.wait().is_leader()
                    && let Ok(mut at) = started.lock()
                {
                    *at = Some(std::time::Instant::now());
                }
                for _ in 0..per_thread {
                    let _ = argon.hash_password(b"calibration-password");
                }
            });
        }
    });
    let elapsed = started
        .lock()
        .ok()
        .and_then(|at| *at)
        .map_or(f64::INFINITY, |at| at.elapsed().as_secs_f64());
    Ok((threads.max(1) * per_thread) as f64 / elapsed)
}
