use std::collections::BTreeSet;

use async_trait::async_trait;
use portcullis_core::client::{Client, ClientKind, ClientSecrets, RedirectUri, WebOrigin};
use portcullis_core::hash::SecretHash;
use portcullis_core::store::{ClientStore, Page, PageRequest, StoreError};
use portcullis_core::time::UnixTime;
use portcullis_proto::{ClientId, ScopeSet};

use crate::rows::{after, corrupt, fetch_limit, into_page};
use crate::{SqlStore, db_error, execute, on_reader};

/// `SELECT <every client column> FROM clients <rest>`, as one static statement.
macro_rules! select_clients {
    ($rest:literal) => {
        concat!(
            "SELECT id, name, public, secret_hash, previous_secret_hash, \
             previous_secret_expires_at, redirect_uris, grant_types, scopes, access_token_ttl, \
             refresh_token_ttl, pkce, id_token_alg, partner, admin, enabled, logo_uri, \
             homepage_uri, created_at, updated_at, post_logout_redirect_uris, web_origins, \
             dpop_bound_access_tokens, require_pushed_authorization_requests, jwks FROM clients ",
            $rest
        )
    };
}

#[derive(sqlx::FromRow)]
struct ClientRow {
    id: String,
    name: String,
    public: bool,
    secret_hash: Option<Vec<u8>>,
    previous_secret_hash: Option<Vec<u8>>,
    previous_secret_expires_at: Option<i64>,
    redirect_uris: String,
    grant_types: String,
    scopes: String,
    access_token_ttl: i64,
    refresh_token_ttl: i64,
    pkce: String,
    id_token_alg: String,
    partner: bool,
    admin: bool,
    enabled: bool,
    logo_uri: Option<String>,
    homepage_uri: Option<String>,
    created_at: i64,
    updated_at: i64,
    post_logout_redirect_uris: String,
    web_origins: String,
    dpop_bound_access_tokens: bool,
    require_pushed_authorization_requests: bool,
    jwks: Option<String>,
}

fn hash(column: &str, bytes: Option<Vec<u8>>) -> Result<Option<SecretHash>, StoreError> {
    bytes
        .map(|b| SecretHash::from_bytes(&b).ok_or_else(|| corrupt(column, "not a SHA-256 digest")))
        .transpose()
}

/// A JSON array of strings, each read with `parse`.
fn list<T, E: std::fmt::Display>(
    column: &str,
    json: &str,
    parse: impl Fn(&str) -> Result<T, E>,
) -> Result<Vec<T>, StoreError> {
    let items: Vec<String> = serde_json::from_str(json).map_err(|e| corrupt(column, e))?;
    items
        .iter()
        .map(|item| parse(item).map_err(|e| corrupt(column, e)))
        .collect()
}

/// A JSON array of the strings.
fn json_list<'a>(items: impl Iterator<Item = &'a str>) -> String {
    serde_json::Value::from(items.collect::<Vec<_>>()).to_string()
}

impl TryFrom<ClientRow> for Client {
    type Error = StoreError;

    fn try_from(row: ClientRow) -> Result<Self, Self::Error> {
        let redirect_uris = list(
            "clients.redirect_uris",
            &row.redirect_uris,
            RedirectUri::parse,
        )?;
        let post_logout_redirect_uris = list(
            "clients.post_logout_redirect_uris",
            &row.post_logout_redirect_uris,
            RedirectUri::parse,
        )?;
        let web_origins = list("clients.web_origins", &row.web_origins, WebOrigin::parse)?;
        let grant_types = row
            .grant_types
            .split_whitespace()
            .map(|g| g.parse().map_err(|e| corrupt("clients.grant_types", e)))
            .collect::<Result<BTreeSet<_>, _>>()?;
        let previous = match (
            hash("clients.previous_secret_hash", row.previous_secret_hash)?,
            row.previous_secret_expires_at,
        ) {
            (Some(h), Some(until)) => Some((h, UnixTime(until))),
            _ => None,
        };
        Ok(Self {
            id: ClientId::new(row.id),
            name: row.name,
            kind: if row.public {
                ClientKind::Public
            } else {
                ClientKind::Confidential
            },
            secrets: ClientSecrets {
                current: hash("clients.secret_hash", row.secret_hash)?,
                previous,
            },
            redirect_uris,
            post_logout_redirect_uris,
            web_origins,
            dpop_bound_access_tokens: row.dpop_bound_access_tokens,
            require_pushed_authorization_requests: row.require_pushed_authorization_requests,
            jwks: row
                .jwks
                .map(|text| serde_json::from_str(&text).map_err(|e| corrupt("clients.jwks", e)))
                .transpose()?,
            grant_types,
            scopes: ScopeSet::parse(&row.scopes).map_err(|e| corrupt("clients.scopes", e))?,
            access_token_ttl: row.access_token_ttl,
            refresh_token_ttl: row.refresh_token_ttl,
            pkce: row.pkce.parse().map_err(|e| corrupt("clients.pkce", e))?,
            id_token_alg: row
                .id_token_alg
                .parse()
                .map_err(|e| corrupt("clients.id_token_alg", e))?,
            partner: row.partner,
            admin: row.admin,
            enabled: row.enabled,
            logo_uri: row.logo_uri,
            homepage_uri: row.homepage_uri,
            created_at: UnixTime(row.created_at),
            updated_at: UnixTime(row.updated_at),
        })
    }
}

/// The columns every write binds, in the order of the statements below ($1..$25).
struct ClientColumns {
    redirect_uris: String,
    grant_types: String,
    post_logout_redirect_uris: String,
    web_origins: String,
}

impl ClientColumns {
    fn of(client: &Client) -> Self {
        Self {
            redirect_uris: json_list(client.redirect_uris.iter().map(RedirectUri::as_str)),
            post_logout_redirect_uris: json_list(
                client
                    .post_logout_redirect_uris
                    .iter()
                    .map(RedirectUri::as_str),
            ),
            web_origins: json_list(client.web_origins.iter().map(WebOrigin::as_str)),
            grant_types: client
                .grant_types
                .iter()
                .map(|g| g.as_str())
                .collect::<Vec<_>>()
                .join(" "),
        }
    }
}

/// Binds every client column in the order `$1..$25` of [`INSERT`] and [`UPDATE`].
macro_rules! bind_client {
    ($query:expr, $client:expr, $columns:expr) => {
        $query
            .bind($client.id.as_str())
            .bind(&$client.name)
            .bind($client.kind == ClientKind::Public)
            .bind(
                $client
                    .secrets
                    .current
                    .as_ref()
                    .map(|h| h.as_bytes().to_vec()),
            )
            .bind(
                $client
                    .secrets
                    .previous
                    .as_ref()
                    .map(|(h, _)| h.as_bytes().to_vec()),
            )
            .bind($client.secrets.previous.as_ref().map(|(_, until)| until.0))
            .bind(&$columns.redirect_uris)
            .bind(&$columns.grant_types)
            .bind($client.scopes.to_string())
            .bind($client.access_token_ttl)
            .bind($client.refresh_token_ttl)
            .bind($client.pkce.as_str())
            .bind($client.id_token_alg.as_str())
            .bind($client.partner)
            .bind($client.admin)
            .bind($client.enabled)
            .bind($client.logo_uri.as_deref())
            .bind($client.homepage_uri.as_deref())
            .bind($client.created_at.0)
            .bind($client.updated_at.0)
            .bind(&$columns.post_logout_redirect_uris)
            .bind(&$columns.web_origins)
            .bind($client.dpop_bound_access_tokens)
            .bind($client.require_pushed_authorization_requests)
            .bind($client.jwks.as_ref().map(ToString::to_string))
    };
}

const INSERT: &str = "INSERT INTO clients (id, name, public, secret_hash, previous_secret_hash, \
    previous_secret_expires_at, redirect_uris, grant_types, scopes, access_token_ttl, \
    refresh_token_ttl, pkce, id_token_alg, partner, admin, enabled, logo_uri, homepage_uri, \
    created_at, updated_at, post_logout_redirect_uris, web_origins, dpop_bound_access_tokens, \
    require_pushed_authorization_requests, jwks) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, \
    $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25)";

// Binds the same twenty-five values as INSERT; `created_at` ($19) is left as it was.
const UPDATE: &str = "UPDATE clients SET name = $2, public = $3, secret_hash = $4, \
    previous_secret_hash = $5, previous_secret_expires_at = $6, redirect_uris = $7, \
    grant_types = $8, scopes = $9, access_token_ttl = $10, refresh_token_ttl = $11, pkce = $12, \
    id_token_alg = $13, partner = $14, admin = $15, enabled = $16, logo_uri = $17, \
    homepage_uri = $18, updated_at = $20, post_logout_redirect_uris = $21, web_origins = $22, \
    dpop_bound_access_tokens = $23, require_pushed_authorization_requests = $24, jwks = $25 \
    WHERE id = $1";

#[async_trait]
impl ClientStore for SqlStore {
    async fn insert_client(&self, client: &Client) -> Result<(), StoreError> {
        let columns = ClientColumns::of(client);
        execute!(self, bind_client!(sqlx::query(INSERT), client, columns))?;
        Ok(())
    }

    async fn client(&self, id: &ClientId) -> Result<Option<Client>, StoreError> {
        const SQL: &str = select_clients!("WHERE id = $1");
        let row = on_reader!(self, |pool| sqlx::query_as::<_, ClientRow>(SQL)
            .bind(id.as_str())
            .fetch_optional(pool)
            .await)
        .map_err(db_error)?;
        row.map(Client::try_from).transpose()
    }

    async fn update_client(&self, client: &Client) -> Result<bool, StoreError> {
        let columns = ClientColumns::of(client);
        let changed = execute!(self, bind_client!(sqlx::query(UPDATE), client, columns))?;
        Ok(changed == 1)
    }

    async fn delete_client(&self, id: &ClientId) -> Result<bool, StoreError> {
        const SQL: &str = "DELETE FROM clients WHERE id = $1";
        let changed = execute!(self, sqlx::query(SQL).bind(id.as_str()))?;
        Ok(changed == 1)
    }

    async fn list_clients(&self, page: &PageRequest) -> Result<Page<Client>, StoreError> {
        const SQL: &str = select_clients!("WHERE id > $1 ORDER BY id LIMIT $2");
        let rows = on_reader!(self, |pool| sqlx::query_as::<_, ClientRow>(SQL)
            .bind(after(page))
            .bind(fetch_limit(page))
            .fetch_all(pool)
            .await)
        .map_err(db_error)?;
        let clients = rows
            .into_iter()
            .map(Client::try_from)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(into_page(clients, page, |c| c.id.to_string()))
    }

    async fn origin_registered(&self, origin: &str) -> Result<bool, StoreError> {
        // `web_origins` is a JSON array of origins, which contain no quote or backslash; the
        // pattern narrows the rows to those holding the quoted origin (its LIKE metacharacters
        // escaped), and the arrays are then compared exactly: SQLite's LIKE ignores case.
        const SQL: &str = "SELECT web_origins FROM clients WHERE enabled = $1 \
            AND web_origins LIKE $2 ESCAPE '\\'";
        if origin.contains(['"', '\\']) {
            return Ok(false);
        }
        let escaped = origin.replace('%', "\\%").replace('_', "\\_");
        let pattern = format!("%\"{escaped}\"%");
        let rows: Vec<String> = on_reader!(self, |pool| sqlx::query_scalar(SQL)
            .bind(true)
            .bind(&pattern)
            .fetch_all(pool)
            .await)
        .map_err(db_error)?;
        for json in rows {
            let origins: Vec<String> =
                serde_json::from_str(&json).map_err(|e| corrupt("clients.web_origins", e))?;
            if origins.iter().any(|o| o == origin) {
                return Ok(true);
            }
        }
        Ok(false)
    }
}
