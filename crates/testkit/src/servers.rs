//! Throw-away database servers for fault tests: each runs on a free loopback
//! port with a private data directory, so a test may stop and restart it
//! without touching the machine's shared servers. Needs `redis-server` and
//! `mariadbd` + `mariadb-install-db` on the PATH (scripts/test.sh installs them).
#![allow(clippy::panic, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A free TCP port on 127.0.0.1 (free when asked; bind it soon).
#[must_use]
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or_else(|e| panic!("no free port: {e}"))
}

fn wait_for_port(port: u16, limit: Duration, what: &str, child: &mut Child) {
    let start = Instant::now();
    while start.elapsed() < limit {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return;
        }
        if let Ok(Some(status)) = child.try_wait() {
            panic!("{what} exited before listening on {port}: {status}");
        }
        std::thread::sleep(Duration::from_millis(25));
    }
    panic!("{what} did not listen on port {port} within {limit:?}");
}

fn find(program: &str) -> PathBuf {
    let candidates = [
        PathBuf::from(program),
        Path::new("/usr/sbin").join(program),
        Path::new("/usr/bin").join(program),
    ];
    candidates
        .into_iter()
        .find(|p| {
            Command::new(p)
                .arg("--version")
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok()
        })
        .unwrap_or_else(|| {
            panic!("{program} is not installed: run scripts/test.sh, which installs it")
        })
}

fn stop(child: &mut Option<Child>) {
    if let Some(mut c) = child.take() {
        let _ = c.kill();
        let _ = c.wait();
    }
}

/// A private `redis-server` without persistence.
pub struct PrivateRedis {
    port: u16,
    child: Option<Child>,
    /// With an append-only file here, fsynced at every write.
    aof: Option<tempfile::TempDir>,
}

impl PrivateRedis {
    /// Starts one on a free port.
    #[must_use]
    pub fn start() -> Self {
        let mut this = Self {
            port: free_port(),
            child: None,
            aof: None,
        };
        this.restart();
        this
    }

    /// Starts one that keeps its data across [`Self::stop`] and
    /// [`Self::restart`] (AOF, `appendfsync always`), as production should run.
    #[must_use]
    pub fn start_persistent() -> Self {
        let mut this = Self {
            port: free_port(),
            child: None,
            aof: Some(tempfile::tempdir().expect("temp dir")),
        };
        this.restart();
        this
    }

    /// `redis://127.0.0.1:<port>`.
    #[must_use]
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// Kills the server (its data is gone unless it is persistent).
    pub fn stop(&mut self) {
        stop(&mut self.child);
    }

    /// Starts it again on the same port.
    pub fn restart(&mut self) {
        self.stop();
        let mut cmd = Command::new(find("redis-server"));
        cmd.args([
            "--port",
            &self.port.to_string(),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
        ]);
        match &self.aof {
            Some(dir) => cmd
                .args(["--appendonly", "yes", "--appendfsync", "always", "--dir"])
                .arg(dir.path()),
            None => cmd.args(["--appendonly", "no"]),
        };
        let mut child = cmd
            .stdout(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("redis-server: {e}"));
        wait_for_port(
            self.port,
            Duration::from_secs(10),
            "redis-server",
            &mut child,
        );
        wait_for_pong(self.port, Duration::from_secs(10));
        self.child = Some(child);
    }
}

/// Waits until the Redis server on `port` answers `PING` (listening is not
/// yet serving: a loaded machine can take a while to load its state).
fn wait_for_pong(port: u16, limit: Duration) {
    use std::io::{Read, Write};
    let start = Instant::now();
    while start.elapsed() < limit {
        if let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", port)) {
            let _ = s.set_read_timeout(Some(Duration::from_secs(1)));
            let mut buf = [0_u8; 16];
            if s.write_all(b"PING\r\n").is_ok()
                && s.read(&mut buf)
                    .is_ok_and(|n| buf[..n].starts_with(b"+PONG"))
            {
                return;
            }
        }
        std::thread::sleep(Duration::from_millis(25));
    }
    panic!("redis-server on port {port} did not answer PING within {limit:?}");
}

impl Drop for PrivateRedis {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A private `mariadbd` with its own data directory (kept across restarts).
pub struct PrivateMariaDb {
    port: u16,
    dir: tempfile::TempDir,
    child: Option<Child>,
}

impl PrivateMariaDb {
    /// Initialises a data directory and starts the server on a free port.
    #[must_use]
    pub fn start() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let data = dir.path().join("data");
        let out = Command::new(find("mariadb-install-db"))
            .arg("--no-defaults")
            .arg(format!("--datadir={}", data.display()))
            .args([
                "--user=root",
                "--skip-test-db",
                "--auth-root-authentication-method=normal",
            ])
            .output()
            .unwrap_or_else(|e| panic!("mariadb-install-db: {e}"));
        assert!(
            out.status.success(),
            "mariadb-install-db failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let mut this = Self {
            port: free_port(),
            dir,
            child: None,
        };
        this.restart();
        this
    }

    /// `mysql://root@127.0.0.1:<port>/<database>`.
    #[must_use]
    pub fn url(&self, database: &str) -> String {
        format!("mysql://root@127.0.0.1:{}/{database}", self.port)
    }

    /// Stops the server (its data stays).
    pub fn stop(&mut self) {
        stop(&mut self.child);
    }

    /// Starts it again on the same port and data directory.
    pub fn restart(&mut self) {
        self.stop();
        let data = self.dir.path().join("data");
        let mut child = Command::new(find("mariadbd"))
            .arg("--no-defaults")
            .arg(format!("--datadir={}", data.display()))
            .arg(format!(
                "--socket={}",
                self.dir.path().join("mysqld.sock").display()
            ))
            .arg(format!(
                "--pid-file={}",
                self.dir.path().join("mysqld.pid").display()
            ))
            .arg(format!("--port={}", self.port))
            .args([
                "--bind-address=127.0.0.1",
                "--user=root",
                "--skip-grant-tables",
                "--skip-log-bin",
            ])
            .args(["--innodb-buffer-pool-size=32M", "--innodb-log-file-size=8M"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("mariadbd: {e}"));
        wait_for_port(self.port, Duration::from_secs(60), "mariadbd", &mut child);
        self.child = Some(child);
    }
}

impl Drop for PrivateMariaDb {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A private three-master Redis Cluster (no replicas, no persistence).
pub struct PrivateRedisCluster {
    ports: Vec<u16>,
    children: Vec<Child>,
    _dir: tempfile::TempDir,
}

impl PrivateRedisCluster {
    /// Starts three nodes on free ports and joins them into one cluster.
    #[must_use]
    pub fn start() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut this = Self {
            ports: Vec::new(),
            children: Vec::new(),
            _dir: dir,
        };
        for _ in 0..3 {
            let port = free_port();
            let conf = this._dir.path().join(format!("nodes-{port}.conf"));
            let mut child = Command::new(find("redis-server"))
                .args([
                    "--port",
                    &port.to_string(),
                    "--bind",
                    "127.0.0.1",
                    "--save",
                    "",
                    "--appendonly",
                    "no",
                ])
                .args(["--cluster-enabled", "yes", "--cluster-node-timeout", "2000"])
                .arg("--cluster-config-file")
                .arg(&conf)
                .current_dir(this._dir.path())
                .stdout(Stdio::null())
                .spawn()
                .unwrap_or_else(|e| panic!("redis-server: {e}"));
            wait_for_port(
                port,
                Duration::from_secs(10),
                "redis-server (cluster node)",
                &mut child,
            );
            this.ports.push(port);
            this.children.push(child);
        }
        let nodes: Vec<String> = this
            .ports
            .iter()
            .map(|p| format!("127.0.0.1:{p}"))
            .collect();
        let out = Command::new(find("redis-cli"))
            .arg("--cluster")
            .arg("create")
            .args(&nodes)
            .args(["--cluster-replicas", "0", "--cluster-yes"])
            .output()
            .unwrap_or_else(|e| panic!("redis-cli --cluster create: {e}"));
        assert!(
            out.status.success(),
            "cluster create failed: {}",
            String::from_utf8_lossy(&out.stdout)
        );
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(20) {
            let ok = this.ports.iter().all(|p| {
                Command::new(find("redis-cli"))
                    .args(["-p", &p.to_string(), "cluster", "info"])
                    .output()
                    .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains("cluster_state:ok"))
            });
            if ok {
                return this;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("the private Redis Cluster did not reach cluster_state:ok");
    }

    /// `redis://127.0.0.1:<port>` of every node.
    #[must_use]
    pub fn urls(&self) -> Vec<String> {
        self.ports
            .iter()
            .map(|p| format!("redis://127.0.0.1:{p}"))
            .collect()
    }
}

impl Drop for PrivateRedisCluster {
    fn drop(&mut self) {
        for c in &mut self.children {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// A private SMTP sink (Debian's `python3-aiosmtpd`) that stores every mail it
/// receives in a Maildir, so tests can read what Tessera sent.
pub struct PrivateSmtpSink {
    port: u16,
    dir: tempfile::TempDir,
    child: Option<Child>,
}

impl PrivateSmtpSink {
    /// A sink on a free port, not started yet (to test an SMTP outage first).
    #[must_use]
    pub fn stopped() -> Self {
        Self {
            port: free_port(),
            dir: tempfile::tempdir().expect("temp dir"),
            child: None,
        }
    }

    /// A started sink.
    #[must_use]
    pub fn start() -> Self {
        let mut this = Self::stopped();
        this.restart();
        this
    }

    /// `smtp://127.0.0.1:<port>?tls=none`.
    #[must_use]
    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}?tls=none", self.port)
    }

    /// Stops accepting mail (what was received stays readable).
    pub fn stop(&mut self) {
        stop(&mut self.child);
    }

    /// Starts (again) on the same port and Maildir.
    pub fn restart(&mut self) {
        self.stop();
        let maildir = self.dir.path().join("maildir");
        let mut child = Command::new("/usr/bin/python3")
            .args([
                "-m",
                "aiosmtpd",
                "-n",
                "-l",
                &format!("127.0.0.1:{}", self.port),
                "-c",
                "aiosmtpd.handlers.Mailbox",
            ])
            .arg(&maildir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!("python3 -m aiosmtpd: {e} (install python3-aiosmtpd: run scripts/test.sh)")
            });
        wait_for_port(self.port, Duration::from_secs(10), "aiosmtpd", &mut child);
        self.child = Some(child);
    }

    /// Every mail received so far, raw, oldest first.
    #[must_use]
    pub fn messages(&self) -> Vec<String> {
        let maildir = self.dir.path().join("maildir");
        let mut files: Vec<(std::time::SystemTime, String)> = ["new", "cur"]
            .iter()
            .filter_map(|sub| std::fs::read_dir(maildir.join(sub)).ok())
            .flatten()
            .filter_map(Result::ok)
            .filter_map(|e| {
                let modified = e.metadata().and_then(|m| m.modified()).ok()?;
                Some((modified, std::fs::read_to_string(e.path()).ok()?))
            })
            .collect();
        files.sort_by_key(|(t, _)| *t);
        files.into_iter().map(|(_, m)| m).collect()
    }

    /// Waits up to `limit` for at least `n` mails and returns all received.
    #[must_use]
    pub fn wait_for(&self, n: usize, limit: Duration) -> Vec<String> {
        let start = Instant::now();
        loop {
            let got = self.messages();
            if got.len() >= n || start.elapsed() > limit {
                return got;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for PrivateSmtpSink {
    fn drop(&mut self) {
        self.stop();
    }
}
