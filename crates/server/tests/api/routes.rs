//! Every listed route is served; another method on it is 405 with `Allow`
//! (in the dialect's shape); an unknown path is 404.

use reqwest::{Method, StatusCode};
use serde_json::json;
use tessera_server::http::{DialectKind, allowed_methods, route_table};

use crate::helpers::{parts, spawn_app};

fn concrete(pattern: &str) -> String {
    pattern
        .split('/')
        .map(|s| if s.starts_with('{') { "1" } else { s })
        .collect::<Vec<_>>()
        .join("/")
}

#[tokio::test(flavor = "multi_thread")]
async fn every_route_is_served_and_other_methods_are_405() {
    let app = spawn_app().await;
    for (pattern, methods) in route_table() {
        let path = concrete(pattern);
        for m in &methods {
            let method = Method::from_bytes(m.as_bytes()).unwrap();
            let resp = app
                .client
                .request(method, app.url(&path))
                .json(&json!({}))
                .send()
                .await
                .unwrap();
            let status = resp.status();
            assert!(
                status != StatusCode::METHOD_NOT_ALLOWED
                    && (status != StatusCode::NOT_FOUND || path.contains("/1")),
                "{m} {path}: {status}"
            );
        }
        let resp = app.client.patch(app.url(&path)).send().await.unwrap();
        let allow = resp
            .headers()
            .get("allow")
            .unwrap_or_else(|| panic!("PATCH {path}: {} without Allow", resp.status()))
            .to_str()
            .unwrap()
            .to_owned();
        for m in &methods {
            assert!(allow.contains(m), "{path}: Allow {allow}");
        }
        if DialectKind::of(&path) == DialectKind::Pages {
            // The hosted pages answer in HTML.
            let status = resp.status();
            let ctype = resp.headers()["content-type"].to_str().unwrap().to_owned();
            assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED, "PATCH {path}");
            assert!(ctype.starts_with("text/html"), "PATCH {path}: {ctype}");
            continue;
        }
        let (status, body) = parts(app.client.patch(app.url(&path)).send().await.unwrap()).await;
        assert_eq!(
            status,
            StatusCode::METHOD_NOT_ALLOWED,
            "PATCH {path}: {body}"
        );
        let shape_ok = match DialectKind::of(&path) {
            DialectKind::Legacy => body["Code"] == 405,
            DialectKind::V1 => body["error"].is_string(),
            DialectKind::Modern => body["code"] == "method_not_allowed",
            DialectKind::Pages => unreachable!("answered above"),
        };
        assert!(shape_ok, "{path}: {body}");
    }
    for unknown in ["/api/auth/nope", "/api/admin/nope", "/nothing/here"] {
        let (status, body) = parts(app.client.get(app.url(unknown)).send().await.unwrap()).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{unknown}: {body}");
    }
    assert_eq!(
        allowed_methods("/api/admin/users/7/roles/admin"),
        Some(vec!["DELETE"])
    );
    assert_eq!(allowed_methods("/api/admin/users//roles"), None);
}
