//! OpenTelemetry trace export: with `OTEL_EXPORTER_OTLP_ENDPOINT` the server
//! POSTs its spans to `<endpoint>/v1/traces` (OTLP/HTTP, protobuf); without
//! it no exporter is built, even when a signal-specific variable is set.

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// `(request line, content type, body length)` of each request received.
type Received = Arc<Mutex<Vec<(String, String, usize)>>>;

/// A tiny OTLP/HTTP collector: records every request and answers 200 with
/// an empty body. Returns its base URL.
fn collector() -> (String, Received) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = Arc::clone(&seen);
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            let log = Arc::clone(&log);
            std::thread::spawn(move || {
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                loop {
                    let mut request_line = String::new();
                    if reader.read_line(&mut request_line).unwrap_or(0) == 0 {
                        return;
                    }
                    let (mut length, mut content_type) = (0_usize, String::new());
                    loop {
                        let mut line = String::new();
                        if reader.read_line(&mut line).unwrap_or(0) == 0 {
                            return;
                        }
                        let line = line.trim_end();
                        if line.is_empty() {
                            break;
                        }
                        let (name, value) = line.split_once(':').unwrap_or((line, ""));
                        match name.to_ascii_lowercase().as_str() {
                            "content-length" => length = value.trim().parse().unwrap_or(0),
                            "content-type" => value.trim().clone_into(&mut content_type),
                            _ => {}
                        }
                    }
                    let mut body = vec![0; length];
                    if reader.read_exact(&mut body).is_err() {
                        return;
                    }
                    log.lock().unwrap().push((
                        request_line.trim_end().to_owned(),
                        content_type,
                        length,
                    ));
                    let _ = stream.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n");
                }
            });
        }
    });
    (base, seen)
}

/// Starts `tessera` with `env` on a free port, its standard output to
/// `stdout`, waits for it, asks `/health` three times; returns the child.
async fn serve(dir: &std::path::Path, env: &[(&str, &str)], stdout: Stdio) -> Child {
    let port = tessera_testkit::free_port();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tessera"));
    cmd.env_clear()
        .env("TESSERA_VAR_DIR", dir.join("var"))
        .env("HOST", "127.0.0.1")
        .env("PORT", port.to_string())
        .env("WORKERS", "1")
        .env("RUST_LOG", "info")
        // Batches leave every 100 ms instead of every 5 s.
        .env("OTEL_BSP_SCHEDULE_DELAY", "100")
        .stdout(stdout)
        .stderr(Stdio::null());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let child = cmd.spawn().unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let client = crate::helpers::http_client();
    let up = crate::helpers::eventually(300, || async {
        client
            .get(format!("{base}/health"))
            .send()
            .await
            .ok()
            .map(|_| ())
    })
    .await;
    assert!(up.is_some(), "the server came up");
    for _ in 0..3 {
        client.get(format!("{base}/health")).send().await.unwrap();
    }
    child
}

/// SIGTERM, then waits for the exit (the exporter flushes on the way out).
fn stop(mut child: Child) {
    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let deadline = Instant::now() + Duration::from_secs(40);
    while child.try_wait().unwrap().is_none() {
        assert!(Instant::now() < deadline, "tessera did not stop");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn spans_are_exported_over_otlp_http_when_the_endpoint_is_set() {
    let (endpoint, seen) = collector();
    let dir = tempfile::tempdir().unwrap();
    let child = serve(
        dir.path(),
        &[("OTEL_EXPORTER_OTLP_ENDPOINT", &endpoint)],
        Stdio::null(),
    )
    .await;
    let exported = crate::helpers::eventually(100, || async {
        let seen = seen.lock().unwrap();
        (!seen.is_empty()).then(|| seen.clone())
    })
    .await;
    stop(child);
    let exported = exported.expect("spans were POSTed to the collector");
    let (line, content_type, length) = &exported[0];
    assert_eq!(line, "POST /v1/traces HTTP/1.1", "{exported:?}");
    assert_eq!(content_type, "application/x-protobuf", "{exported:?}");
    assert!(*length > 0, "{exported:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn nothing_is_exported_without_the_endpoint() {
    let (endpoint, seen) = collector();
    let dir = tempfile::tempdir().unwrap();
    // The exporter would honour this one; it is not built at all without
    // OTEL_EXPORTER_OTLP_ENDPOINT.
    let traces = format!("{endpoint}/v1/traces");
    let child = serve(
        dir.path(),
        &[("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", &traces)],
        Stdio::null(),
    )
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    stop(child);
    assert!(
        seen.lock().unwrap().is_empty(),
        "{:?}",
        seen.lock().unwrap()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_log_file_gets_no_colour_codes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tessera.log");
    let file = std::fs::File::create(&path).unwrap();
    let child = serve(dir.path(), &[], Stdio::from(file)).await;
    stop(child);
    let log = std::fs::read_to_string(&path).unwrap();
    assert!(log.contains("INFO"), "the server logged: {log}");
    assert!(!log.contains('\u{1b}'), "no ANSI escape codes: {log:?}");
}
