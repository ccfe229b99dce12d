//! One keep-alive HTTP/1.1 connection, with a cookie jar for page flows.

use std::collections::HashMap;

use anyhow::{Context as _, anyhow};
use bytes::Bytes;
use http_body_util::{BodyExt as _, Full};
use hyper::client::conn::http1;
use hyper::{Method, Request, StatusCode};
use hyper_util::rt::TokioIo;

/// A response, fully read.
#[derive(Debug)]
pub struct Reply {
    /// Status.
    pub status: StatusCode,
    /// `Location`, if any.
    pub location: Option<String>,
    /// `DPoP-Nonce`, if any.
    pub dpop_nonce: Option<String>,
    /// Body.
    pub body: Bytes,
}

/// A connection to one server.
pub struct Conn {
    sender: http1::SendRequest<Full<Bytes>>,
    authority: String,
    base: url::Url,
    cookies: HashMap<String, String>,
}

impl Conn {
    /// Connects to `base` (an http URL).
    pub async fn open(base: &str) -> anyhow::Result<Self> {
        let base = url::Url::parse(base)?;
        let host = base
            .host_str()
            .ok_or_else(|| anyhow!("no host"))?
            .to_owned();
        let port = base
            .port_or_known_default()
            .ok_or_else(|| anyhow!("no port"))?;
        let stream = tokio::net::TcpStream::connect((host.as_str(), port))
            .await
            .context("connect")?;
        stream.set_nodelay(true)?;
        let (sender, connection) = http1::handshake(TokioIo::new(stream)).await?;
        tokio::spawn(connection);
        Ok(Self {
            sender,
            authority: format!("{host}:{port}"),
            base,
            cookies: HashMap::new(),
        })
    }

    /// Forgets cookies (a new browser on the same connection).
    pub fn clear_cookies(&mut self) {
        self.cookies.clear();
    }

    /// Sends a request; `path` may be a path or a full URL on the same server.
    pub async fn send(
        &mut self,
        method: Method,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<(&str, Bytes)>,
    ) -> anyhow::Result<Reply> {
        let uri = if path.starts_with("http") {
            let url = url::Url::parse(path)?;
            format!(
                "{}{}",
                url.path(),
                url.query().map(|q| format!("?{q}")).unwrap_or_default()
            )
        } else {
            path.to_owned()
        };
        let mut request = Request::builder()
            .method(method)
            .uri(uri)
            .header("host", &self.authority);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        if !self.cookies.is_empty() {
            let cookie: Vec<String> = self
                .cookies
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            request = request.header("cookie", cookie.join("; "));
        }
        let body = match body {
            Some((content_type, bytes)) => {
                request = request.header("content-type", content_type);
                Full::new(bytes)
            }
            None => Full::new(Bytes::new()),
        };
        self.sender.ready().await?;
        let response = self.sender.send_request(request.body(body)?).await?;
        for value in response.headers().get_all("set-cookie") {
            let text = value.to_str().unwrap_or_default();
            let pair = text.split(';').next().unwrap_or_default();
            if let Some((name, value)) = pair.split_once('=') {
                if value.is_empty() {
                    self.cookies.remove(name.trim());
                } else {
                    self.cookies
                        .insert(name.trim().to_owned(), value.to_owned());
                }
            }
        }
        let status = response.status();
        let location = response
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let dpop_nonce = response
            .headers()
            .get("dpop-nonce")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let body = response.into_body().collect().await?.to_bytes();
        Ok(Reply {
            status,
            location,
            dpop_nonce,
            body,
        })
    }

    /// Resolves a `Location` against the server's base URL.
    pub fn resolve(&self, location: &str) -> anyhow::Result<url::Url> {
        Ok(self.base.join(location)?)
    }
}
