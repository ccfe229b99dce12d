//! Helpers for the admin API tests: an admin client and its token, and JSON requests to
//! `/admin/v1/…` with it.

use std::collections::BTreeSet;
use std::time::Duration;

use portcullis_core::admin::clients::NewClient;
use portcullis_core::client::{Client, GrantType};
use portcullis_proto::{ScopeSet, Secret};
use portcullis_testkit::TestApp;
use portcullis_testkit::flow::confidential;
use serde_json::Value;

use crate::oauth_kit::{Answer, client_credentials};

/// A client registered as admin: client credentials only, scope `admin`.
pub fn admin_client(name: &str) -> NewClient {
    NewClient {
        grant_types: BTreeSet::from([GrantType::ClientCredentials]),
        scopes: ScopeSet::parse("admin").unwrap(),
        admin: true,
        ..confidential(name)
    }
}

/// An admin client of `app` with a live token.
#[derive(Debug)]
pub struct AdminApi<'a> {
    pub app: &'a TestApp,
    pub client: Client,
    pub secret: Secret,
    pub token: String,
}

impl<'a> AdminApi<'a> {
    /// Registers an admin client and gets a token with client credentials.
    pub async fn new(app: &'a TestApp) -> Self {
        let (client, secret) = app.client(admin_client("Admin console")).await;
        let secret = secret.unwrap();
        let answer = client_credentials(app, &client, &secret, Some("admin")).await;
        let token = answer.assert_tokens()["access_token"]
            .as_str()
            .unwrap()
            .to_owned();
        Self {
            app,
            client,
            secret,
            token,
        }
    }

    /// `client:<id>`, the actor of what this client does.
    pub fn actor(&self) -> String {
        format!("client:{}", self.client.id)
    }

    fn request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.app
            .http
            .request(method, self.app.url(path))
            .bearer_auth(&self.token)
    }

    pub async fn get(&self, path: &str) -> Answer {
        Answer::of(
            self.request(reqwest::Method::GET, path)
                .send()
                .await
                .unwrap(),
        )
        .await
    }

    pub async fn post(&self, path: &str, body: &Value) -> Answer {
        let request = self.request(reqwest::Method::POST, path).json(body);
        Answer::of(request.send().await.unwrap()).await
    }

    /// `POST` with a JSON body and an `Idempotency-Key`.
    pub async fn request_with_key(&self, path: &str, body: &Value, key: &str) -> Answer {
        let request = self
            .request(reqwest::Method::POST, path)
            .header("Idempotency-Key", key)
            .json(body);
        Answer::of(request.send().await.unwrap()).await
    }

    /// `POST` without a body.
    pub async fn post_empty(&self, path: &str) -> Answer {
        Answer::of(
            self.request(reqwest::Method::POST, path)
                .send()
                .await
                .unwrap(),
        )
        .await
    }

    pub async fn patch(&self, path: &str, body: &Value) -> Answer {
        let request = self.request(reqwest::Method::PATCH, path).json(body);
        Answer::of(request.send().await.unwrap()).await
    }

    pub async fn delete(&self, path: &str) -> Answer {
        Answer::of(
            self.request(reqwest::Method::DELETE, path)
                .send()
                .await
                .unwrap(),
        )
        .await
    }

    /// Every item of a paginated list, following `next_cursor` with pages of `limit`; also
    /// returns how many pages it took.
    pub async fn all_pages(&self, path: &str, limit: u32) -> (Vec<Value>, usize) {
        let separator = if path.contains('?') { '&' } else { '?' };
        let mut items = Vec::new();
        let mut cursor: Option<String> = None;
        for pages in 1..=100 {
            let mut url = format!("{path}{separator}limit={limit}");
            if let Some(cursor) = &cursor {
                url.push_str(&format!("&cursor={}", encode(cursor)));
            }
            let answer = self.get(&url).await;
            assert_eq!(answer.status, 200, "{url}: {}", answer.body);
            let page = answer.body["items"].as_array().unwrap().clone();
            assert!(page.len() <= limit as usize, "{url}: {} items", page.len());
            items.extend(page);
            match answer.body["next_cursor"].as_str() {
                Some(next) => cursor = Some(next.to_owned()),
                None => return (items, pages),
            }
        }
        panic!("more than 100 pages of {path}")
    }
}

/// The stored client with this id.
pub async fn stored_client(app: &TestApp, id: &str) -> Client {
    use portcullis_core::store::ClientStore as _;
    app.store
        .client(&portcullis_proto::ClientId::new(id))
        .await
        .unwrap()
        .unwrap()
}

/// Percent-encodes a query value.
pub fn encode(value: &str) -> String {
    url::form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

/// Waits until what the server recorded so far is in the audit table.
pub async fn flush_audit(app: &TestApp) {
    app.audit.flush(Duration::from_secs(5)).await;
}

/// The `WWW-Authenticate` header, which must be there.
#[track_caller]
pub fn challenge(answer: &Answer) -> String {
    answer
        .header("www-authenticate")
        .unwrap_or_else(|| panic!("no WWW-Authenticate on {}: {}", answer.status, answer.body))
        .to_owned()
}
