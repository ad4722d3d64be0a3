//! A generic HTTP SMS provider, configured by URL, method, headers and a body template
//! (minijinja, with `message_id`, `from`, `to`, `text`, `encoding`, `parts`, `callback_url`).
//! A 2xx answer is success; the provider's id is read from the JSON answer at `id_pointer`
//! (an RFC 6901 pointer), else bellhop's own id is the reference.

use super::{OutgoingSms, exchange};
use crate::SendError;
use crate::callbacks::Callbacks;
use std::time::Duration;

/// The provider's interface.
#[derive(Clone, Debug)]
pub struct GenericConfig {
    /// Endpoint (may itself use the template variables, URL-encoded).
    pub url: String,
    /// `POST` (default), `PUT` or `GET`.
    pub method: String,
    /// Extra headers (`Authorization: Bearer ...`).
    pub headers: Vec<(String, String)>,
    /// `Content-Type` of the body.
    pub content_type: String,
    /// Body template; none for a GET.
    pub body: Option<String>,
    /// Where the provider's id is in its JSON answer, such as `/messages/0/id`.
    pub id_pointer: Option<String>,
    /// Timeout per request.
    pub timeout: Duration,
}

/// The path of generic delivery reports under the public URL.
pub const GENERIC_DLR_PATH: &str = "/callbacks/sms/http/dlr";

/// A generic HTTP provider client.
#[derive(Debug)]
pub struct GenericGateway {
    config: GenericConfig,
    method: reqwest::Method,
    client: reqwest::Client,
    callbacks: Callbacks,
    env: minijinja::Environment<'static>,
}

fn json_escape(value: &minijinja::Value) -> String {
    serde_json::to_string(&value.to_string()).unwrap_or_default()
}

fn url_escape(value: &minijinja::Value) -> String {
    let mut out = String::new();
    for b in value.to_string().bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

impl GenericGateway {
    /// Checks the templates and builds the client.
    pub fn new(config: GenericConfig, callbacks: Callbacks) -> Result<Self, SendError> {
        let method = reqwest::Method::from_bytes(config.method.to_ascii_uppercase().as_bytes())
            .map_err(|_| {
                SendError::Permanent(format!("unknown HTTP method {:?}", config.method))
            })?;
        let mut env = minijinja::Environment::new();
        env.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
        env.add_filter("json", |v: minijinja::Value| json_escape(&v));
        env.add_filter("urlencode", |v: minijinja::Value| url_escape(&v));
        env.add_template_owned("url", config.url.clone())
            .map_err(|e| SendError::Permanent(format!("sms.http.url: {e}")))?;
        if let Some(body) = &config.body {
            env.add_template_owned("body", body.clone())
                .map_err(|e| SendError::Permanent(format!("sms.http.body: {e}")))?;
        }
        Ok(GenericGateway {
            client: super::http_client(config.timeout)?,
            method,
            config,
            callbacks,
            env,
        })
    }

    pub(crate) async fn send(&self, sms: &OutgoingSms) -> Result<String, SendError> {
        let ctx = minijinja::context! {
            message_id => sms.message_id.to_string(),
            from => &sms.from,
            to => &sms.to,
            text => &sms.text,
            encoding => if sms.unicode { "UCS-2" } else { "GSM-7" },
            parts => sms.parts,
            callback_url => self.callbacks.delivery_url(GENERIC_DLR_PATH, sms.message_id),
        };
        let render = |name: &str| {
            self.env
                .get_template(name)
                .and_then(|t| t.render(&ctx))
                .map_err(|e| SendError::Permanent(format!("sms.http {name} template: {e}")))
        };
        let mut request = self.client.request(self.method.clone(), render("url")?);
        for (name, value) in &self.config.headers {
            request = request.header(name, value);
        }
        if self.config.body.is_some() {
            request = request
                .header(reqwest::header::CONTENT_TYPE, &self.config.content_type)
                .body(render("body")?);
        }
        let body = exchange(request).await?;
        let id = self.config.id_pointer.as_deref().and_then(|pointer| {
            let v: serde_json::Value = serde_json::from_str(&body).ok()?;
            let found = v.pointer(pointer)?;
            Some(
                found
                    .as_str()
                    .map(str::to_owned)
                    .unwrap_or_else(|| found.to_string()),
            )
        });
        Ok(id.unwrap_or_else(|| format!("http:{}", sms.message_id)))
    }
}
