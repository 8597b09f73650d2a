//! Text messages for the phone channel. The seeds name no SMS provider; this
//! adapter appends each message to a file (the embedded default and
//! development), so an operator or a test can read it.

use std::io::Write as _;
use std::path::PathBuf;

use tessera_domain::error::StoreError;
use tessera_domain::ports::SmsSender;
use tessera_domain::values::Phone;

/// Appends `<unix time>\t<phone>\t<text>` lines to a file.
#[derive(Debug, Clone)]
pub struct FileSms {
    path: PathBuf,
}

impl FileSms {
    /// Messages go to `path` (its folder is created on first use).
    #[must_use]
    pub fn new(path: PathBuf) -> Self {
        Self { path }
    }
}

impl SmsSender for FileSms {
    async fn send(&self, to: &Phone, text: &str) -> Result<(), StoreError> {
        let path = self.path.clone();
        let line = format!(
            "{}\t{}\t{}\n",
            chrono_free_now(),
            to.as_str(),
            text.replace(['\n', '\t'], " ")
        );
        tokio::task::spawn_blocking(move || {
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir)?;
            }
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&path)?
                .write_all(line.as_bytes())
        })
        .await
        .map_err(|e| StoreError::Unavailable(format!("sms file: {e}")))?
        .map_err(|e| StoreError::Unavailable(format!("sms file: {e}")))?;
        tracing::info!(to = %to, file = %self.path.display(), "text message written");
        Ok(())
    }
}

fn chrono_free_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// POSTs `{"to": "<digits>", "text": "…"}` as JSON to a webhook
/// (`SMS_WEBHOOK_URL`), for any SMS gateway that takes one. A non-2xx answer
/// or a timeout is an error (the request answers 503).
#[derive(Debug, Clone)]
pub struct WebhookSms {
    client: reqwest::Client,
    url: String,
}

impl WebhookSms {
    /// Messages go to `url`, each call limited to `timeout`.
    ///
    /// # Errors
    /// When the HTTP client cannot be built.
    pub fn new(url: &str, timeout: std::time::Duration) -> Result<Self, String> {
        crate::use_aws_lc_for_rustls();
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .build()
            .map_err(|e| e.to_string())?;
        Ok(Self {
            client,
            url: url.to_owned(),
        })
    }
}

impl SmsSender for WebhookSms {
    async fn send(&self, to: &Phone, text: &str) -> Result<(), StoreError> {
        let body = serde_json::json!({"to": to.as_str(), "text": text});
        let response = self
            .client
            .post(&self.url)
            .json(&body)
            .send()
            .await
            .map_err(|e| StoreError::Unavailable(format!("sms webhook: {e}")))?;
        if response.status().is_success() {
            tracing::info!(to = %to, "text message handed to the webhook");
            Ok(())
        } else {
            Err(StoreError::Unavailable(format!(
                "sms webhook answered {}",
                response.status()
            )))
        }
    }
}
