//! Authorization server metadata (RFC 8414), with the OpenID Connect Discovery location as a
//! fallback.

pub use portcullis_proto::discovery::ServerMetadata;
use url::Url;

use crate::error::Error;
use crate::http;

/// The RFC 8414 §3.1 metadata URL of `issuer`: the well-known segment goes between the host
/// and the issuer's path.
fn rfc8414_url(issuer: &Url) -> String {
    let path = issuer.path().trim_end_matches('/');
    let origin = issuer.origin().ascii_serialization();
    format!("{origin}/.well-known/oauth-authorization-server{path}")
}

/// The OpenID Connect Discovery §4 URL: the well-known segment appended to the issuer.
fn oidc_url(issuer: &str) -> String {
    format!(
        "{}/.well-known/openid-configuration",
        issuer.trim_end_matches('/')
    )
}

/// Fetches and checks the metadata of `issuer`.
///
/// Tries the RFC 8414 location first and the OpenID Connect one when that is not found. The
/// document's `issuer` must be exactly `issuer` (RFC 8414 §3.3), which is what stops a
/// document from one server steering the client to another's endpoints.
///
/// ```no_run
/// # async fn run() -> Result<(), portcullis_client::Error> {
/// let http = reqwest::Client::new();
/// let metadata = portcullis_client::discovery::discover(&http, "http://127.0.0.1:8080").await?;
/// println!("token endpoint: {}", metadata.token_endpoint);
/// # Ok(()) }
/// ```
///
/// # Errors
/// [`Error::Config`] for an issuer that is not an http(s) URL without query or fragment,
/// [`Error::Http`], [`Error::InvalidResponse`] for a missing or malformed document,
/// [`Error::IssuerMismatch`].
pub async fn discover(http: &reqwest::Client, issuer: &str) -> Result<ServerMetadata, Error> {
    let parsed = Url::parse(issuer).map_err(|e| Error::Config(format!("issuer {issuer}: {e}")))?;
    if !matches!(parsed.scheme(), "http" | "https")
        || parsed.query().is_some()
        || parsed.fragment().is_some()
    {
        return Err(Error::Config(format!(
            "issuer {issuer} must be an http(s) URL without query or fragment (RFC 8414 §2)"
        )));
    }
    let mut last = None;
    for url in [rfc8414_url(&parsed), oidc_url(issuer)] {
        let response = http::send(&url, http.get(&url)).await?;
        let status = response.status();
        if status == reqwest::StatusCode::NOT_FOUND {
            last = Some(Error::invalid(&url, "no metadata document (404)"));
            continue;
        }
        let bytes = http::body(&url, response).await?;
        if !status.is_success() {
            return Err(Error::invalid(&url, format!("status {status}")));
        }
        let metadata: ServerMetadata = http::json(&url, &bytes)?;
        if metadata.issuer != issuer {
            return Err(Error::IssuerMismatch {
                expected: issuer.to_owned(),
                found: metadata.issuer,
            });
        }
        return Ok(metadata);
    }
    Err(last.unwrap_or_else(|| Error::Config("no metadata location".into())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn well_known_goes_between_host_and_path() {
        let with_path = Url::parse("https://a.example/tenant/1").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            rfc8414_url(&with_path),
            "https://a.example/.well-known/oauth-authorization-server/tenant/1"
        );
        let bare = Url::parse("http://127.0.0.1:8080").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            rfc8414_url(&bare),
            "http://127.0.0.1:8080/.well-known/oauth-authorization-server"
        );
        assert_eq!(
            oidc_url("https://a.example/t"),
            "https://a.example/t/.well-known/openid-configuration"
        );
    }
}
