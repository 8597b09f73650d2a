//! A browser for the page tests: a cookie jar over reqwest, no redirects
//! followed, forms posted as a browser posts them.

use std::collections::BTreeMap;

use reqwest::StatusCode;

use crate::helpers::TestApp;

/// A browser: its cookies and language; follows no redirect.
pub struct Browser<'a> {
    pub app: &'a TestApp,
    pub client: reqwest::Client,
    pub cookies: BTreeMap<String, String>,
    pub lang: &'static str,
    /// Every `Set-Cookie` seen, as sent.
    pub set_cookies: Vec<String>,
}

/// What a page answered.
pub struct Page {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub body: String,
}

impl Page {
    pub fn location(&self) -> &str {
        self.headers
            .get("location")
            .map_or("", |v| v.to_str().unwrap())
    }

    /// The value of the first hidden field `name`.
    pub fn field(&self, name: &str) -> String {
        let marker = format!("name=\"{name}\" value=\"");
        let at = self
            .body
            .find(&marker)
            .unwrap_or_else(|| panic!("no field {name} in {}", self.body))
            + marker.len();
        self.body[at..].split('"').next().unwrap().to_owned()
    }
}

impl<'a> Browser<'a> {
    pub fn new(app: &'a TestApp) -> Self {
        Self {
            app,
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            cookies: BTreeMap::new(),
            lang: "en",
            set_cookies: Vec::new(),
        }
    }

    pub fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    pub async fn send(&mut self, r: reqwest::RequestBuilder) -> Page {
        let r = r.header("accept-language", self.lang);
        let r = if self.cookies.is_empty() {
            r
        } else {
            r.header("cookie", self.cookie_header())
        };
        let resp = r.send().await.unwrap();
        let status = resp.status();
        let headers = resp.headers().clone();
        for set in headers.get_all("set-cookie") {
            let set = set.to_str().unwrap().to_owned();
            let pair = set.split(';').next().unwrap();
            let (name, value) = pair.split_once('=').unwrap();
            let removal = set.contains("Max-Age=0") || value.is_empty();
            if removal {
                self.cookies.remove(name);
            } else {
                self.cookies.insert(name.to_owned(), value.to_owned());
            }
            self.set_cookies.push(set);
        }
        let body = resp.text().await.unwrap();
        Page {
            status,
            headers,
            body,
        }
    }

    pub async fn get(&mut self, path: &str) -> Page {
        let r = self.client.get(self.app.url(path));
        self.send(r).await
    }

    pub async fn post(&mut self, path: &str, fields: &[(&str, &str)]) -> Page {
        let r = self.client.post(self.app.url(path)).form(fields);
        self.send(r).await
    }

    /// Signs in through the form; asserts it worked.
    pub async fn sign_in(&mut self, identifier: &str, password: &str) {
        let form = self.get("/ui/sign-in").await;
        let csrf = form.field("csrf");
        let done = self
            .post(
                "/ui/sign-in",
                &[
                    ("csrf", &csrf),
                    ("identifier", identifier),
                    ("password", password),
                ],
            )
            .await;
        assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
        assert_eq!(done.location(), "/ui/account");
    }

    /// The account page's form token.
    pub async fn account_csrf(&mut self) -> String {
        let page = self.get("/ui/account").await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        page.field("csrf")
    }
}
