//! `GET /openapi.json`: the OpenAPI 3.1 description of the admin API (`/admin/v1/…`) and the
//! resource API (`/api/v1/…`): request and response bodies, the bearer token (RFC 6750) and the
//! scope each operation needs, error bodies (RFC 6749 §5.2) and pagination.
//!
//! The operations are documented here, on stubs in [`admin`] and [`resources`], rather than on
//! the handlers, which stay "extract, call core, map". The server's integration tests
//! (`tests/api/admin/openapi.rs`) fail when this document and the router drift apart: every
//! documented operation must be routed, every routed `/admin/v1` and `/api/v1` operation
//! documented, and every scope documented must be the one the handler checks.

mod admin;
mod resources;

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use portcullis_core::scopes::ScopeRegistry;
use utoipa::OpenApi as _;
use utoipa::openapi::header::Header;
use utoipa::openapi::path::Operation;
use utoipa::openapi::security::{
    AuthorizationCode, ClientCredentials, Flow, HttpAuthScheme, HttpBuilder, OAuth2, Scopes,
    SecurityRequirement, SecurityScheme,
};
use utoipa::openapi::{
    Components, ContentBuilder, Info, OpenApi, Ref, RefOr, Response as ApiResponse, Server,
};

use crate::state::AppState;

/// The name of the OAuth 2.0 security scheme: how to obtain a token, and the scopes.
pub const OAUTH2_SCHEME: &str = "oauth2";
/// The name of the HTTP bearer security scheme: how to present the token (RFC 6750 §2.1).
pub const BEARER_SCHEME: &str = "bearer";
/// The prefix of the resource API's paths, left out of the document when it is not served.
const RESOURCE_PREFIX: &str = "/api/v1/";

const DESCRIPTION: &str = "Portcullis is an OAuth 2.0 / OpenID Connect authorization server \
with a sandbox banking API.\n\n\
**Admin API** (`/admin/v1`): register and manage clients and users, read the audit trail and \
rotate signing keys. Every operation needs an access token with the `admin` scope obtained with \
the client credentials grant by a client registered as admin (`portcullis client create \
--admin`); user tokens are refused whatever their scope.\n\n\
**Resource API** (`/api/v1`): the profiles, wallets, balances and orders of the user (or, for \
a partner's client-credentials token, of the profiles that granted the partner access) that a \
token speaks for.\n\n\
Tokens are sent as `Authorization: Bearer <token>` (RFC 6750 §2.1). Errors are JSON \
`{\"error\", \"error_description\"}` bodies (RFC 6749 §5.2) with `Cache-Control: no-store`; \
bearer failures carry a `WWW-Authenticate` challenge (RFC 6750 §3). Lists are paginated: pass \
`limit` and the `next_cursor` of the previous page as `cursor`; the last page has no \
`next_cursor`.";

/// The operations, as utoipa collects them from the stubs.
#[derive(utoipa::OpenApi)]
#[openapi(
    paths(
        admin::list_clients,
        admin::create_client,
        admin::show_client,
        admin::update_client,
        admin::delete_client,
        admin::rotate_client_secret,
        admin::list_users,
        admin::create_user,
        admin::show_user,
        admin::update_user,
        admin::disable_user,
        admin::revoke_user_app,
        admin::fund_user,
        admin::set_user_kyc,
        admin::list_audit_events,
        admin::list_keys,
        admin::rotate_keys,
        resources::me,
        resources::auth_context,
        resources::list_profiles,
        resources::show_profile,
        resources::wallet_me,
        resources::balances,
        resources::list_orders,
        resources::place_order,
        resources::show_order,
    ),
    components(schemas(portcullis_proto::ErrorResponse, portcullis_proto::ErrorCode)),
    tags(
        (name = "admin", description = "Clients, users, audit trail and signing keys; needs an admin client's token with the `admin` scope."),
        (name = "resources", description = "The sandbox banking API, for the users and profiles a token speaks for."),
    )
)]
struct Operations;

/// The document this server serves: its issuer as the server and in the OAuth URLs, its scope
/// registry as the OAuth scopes, and the resource API only when `banking` serves it.
#[must_use]
pub fn document(issuer: &str, scopes: &ScopeRegistry, banking: bool) -> OpenApi {
    let mut doc = Operations::openapi();
    doc.info = Info::builder()
        .title("Portcullis")
        .version(env!("CARGO_PKG_VERSION"))
        .description(Some(DESCRIPTION))
        .build();
    doc.servers = Some(vec![Server::new(issuer)]);
    if !banking {
        doc.paths
            .paths
            .retain(|path, _| !path.starts_with(RESOURCE_PREFIX));
    }
    let components = doc.components.get_or_insert_with(Components::new);
    add_security_schemes(components, issuer, scopes);
    add_error_responses(components);
    for item in doc.paths.paths.values_mut() {
        for operation in [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.patch,
            &mut item.delete,
        ]
        .into_iter()
        .flatten()
        {
            complete(operation);
        }
    }
    doc
}

/// `GET /openapi.json`.
pub async fn serve(State(state): State<AppState>) -> Response {
    let doc = document(
        state.issuer(),
        &state.services.settings.scopes,
        state.services.banking.enabled,
    );
    let mut response = Json(doc).into_response();
    // The document changes only with the configuration (issuer, scopes): caches may keep it
    // briefly.
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=300"),
    );
    response
}

fn add_security_schemes(components: &mut Components, issuer: &str, registry: &ScopeRegistry) {
    let token_url = format!("{issuer}/oauth/token");
    let described = |set: portcullis_proto::ScopeSet| {
        set.iter()
            .map(|s| {
                let description = registry.describe(s.as_str()).unwrap_or_default();
                (s.as_str().to_owned(), description.to_owned())
            })
            .collect::<Scopes>()
    };
    // Users never grant `admin`; only an admin client's client credentials carry it.
    let oauth2 = OAuth2::with_description(
        [
            Flow::AuthorizationCode(AuthorizationCode::new(
                format!("{issuer}/oauth/authorize"),
                token_url.clone(),
                described(registry.user_grantable()),
            )),
            Flow::ClientCredentials(ClientCredentials::new(token_url, described(registry.all()))),
        ],
        format!(
            "Access tokens of this server. User tokens come from the authorization code flow \
             (PKCE S256); the admin API and partners use the client credentials grant. \
             Metadata: {issuer}/.well-known/oauth-authorization-server"
        ),
    );
    components.add_security_scheme(OAUTH2_SCHEME, SecurityScheme::OAuth2(oauth2));
    components.add_security_scheme(
        BEARER_SCHEME,
        SecurityScheme::Http(
            HttpBuilder::new()
                .scheme(HttpAuthScheme::Bearer)
                .bearer_format("JWT")
                .description(Some(
                    "An access token of this server (RFC 9068 JWT), as `Authorization: Bearer` \
                     (RFC 6750 §2.1). The scopes listed are those the token must carry.",
                ))
                .build(),
        ),
    );
}

/// The responses every protected operation may give, shared by reference.
const UNAUTHORIZED: &str = "Unauthorized";
const FORBIDDEN: &str = "Forbidden";
const UNAVAILABLE: &str = "Unavailable";

fn error_response(description: &str) -> ApiResponse {
    ApiResponse::builder()
        .description(description)
        .content(
            "application/json",
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("ErrorResponse")))
                .build(),
        )
        .build()
}

fn string_header(description: &str) -> RefOr<Header> {
    let mut header = Header::default();
    header.description = Some(description.to_owned());
    RefOr::T(header)
}

fn add_error_responses(components: &mut Components) {
    let challenge = string_header(
        "RFC 6750 §3 challenge: `Bearer realm=\"portcullis\"` alone when no token was sent, \
         with `error=\"invalid_token\"` otherwise.",
    );
    let mut unauthorized = error_response(
        "No bearer token (`invalid_token`, bare challenge), or a token that is malformed, \
         expired, revoked, or whose client or grant is no longer active (`invalid_token`).",
    );
    unauthorized
        .headers
        .insert("WWW-Authenticate".to_owned(), challenge);
    let mut forbidden = error_response(
        "`insufficient_scope`: the token lacks the scope the operation needs (named in the \
         challenge's `scope`), or, on the admin API, is not an admin client's own token.",
    );
    forbidden.headers.insert(
        "WWW-Authenticate".to_owned(),
        string_header("`Bearer realm=\"portcullis\", error=\"insufficient_scope\", scope=\"…\"`"),
    );
    let mut unavailable = error_response(
        "`temporarily_unavailable`: the database could not be reached; retry after the delay.",
    );
    unavailable.headers.insert(
        "Retry-After".to_owned(),
        string_header("Seconds to wait before retrying."),
    );
    for (name, response) in [
        (UNAUTHORIZED, unauthorized),
        (FORBIDDEN, forbidden),
        (UNAVAILABLE, unavailable),
    ] {
        components
            .responses
            .insert(name.to_owned(), RefOr::T(response));
    }
}

/// The scope alternatives of an operation's security requirements (`[[]]` for "any valid
/// token").
fn required_scopes(operation: &Operation) -> Vec<Vec<String>> {
    operation
        .security
        .iter()
        .flatten()
        .filter_map(|requirement| {
            let value = serde_json::to_value(requirement).ok()?;
            let scopes = value.get(OAUTH2_SCHEME)?.as_array()?;
            Some(
                scopes
                    .iter()
                    .filter_map(|s| s.as_str().map(str::to_owned))
                    .collect(),
            )
        })
        .collect()
}

/// Adds what every protected operation shares: the bearer alternative of each requirement, a
/// sentence naming the scope, and the 401, 403 and 503 responses.
fn complete(operation: &mut Operation) {
    let alternatives = required_scopes(operation);
    let mut security: Vec<SecurityRequirement> = Vec::new();
    for scopes in &alternatives {
        security.push(SecurityRequirement::new(OAUTH2_SCHEME, scopes.clone()));
        security.push(SecurityRequirement::new(BEARER_SCHEME, scopes.clone()));
    }
    operation.security = Some(security);
    let named: Vec<String> = alternatives
        .iter()
        .filter(|s| !s.is_empty())
        .map(|s| format!("`{}`", s.join(" ")))
        .collect();
    let sentence = if named.is_empty() {
        "Needs a valid access token; no particular scope.".to_owned()
    } else {
        format!(
            "Needs an access token with the scope {}.",
            named.join(" or ")
        )
    };
    operation.description = Some(match operation.description.take() {
        Some(text) if !text.is_empty() => format!("{text}\n\n{sentence}"),
        _ => sentence,
    });
    let responses = &mut operation.responses.responses;
    for (status, name) in [
        ("401", UNAUTHORIZED),
        ("403", FORBIDDEN),
        ("503", UNAVAILABLE),
    ] {
        responses
            .entry(status.to_owned())
            .or_insert_with(|| RefOr::Ref(Ref::from_response_name(name)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(banking: bool) -> serde_json::Value {
        serde_json::to_value(document(
            "https://auth.example",
            &ScopeRegistry::default(),
            banking,
        ))
        .unwrap_or_default()
    }

    #[test]
    fn is_openapi_3_1_with_info_and_server() {
        let doc = doc(true);
        assert_eq!(doc["openapi"], "3.1.0");
        assert_eq!(doc["info"]["title"], "Portcullis");
        assert_eq!(doc["info"]["version"], env!("CARGO_PKG_VERSION"));
        assert!(doc["info"]["description"].is_string());
        assert_eq!(doc["servers"][0]["url"], "https://auth.example");
    }

    #[test]
    fn every_operation_names_its_scope_and_shared_errors() {
        let doc = doc(true);
        let paths = doc["paths"].as_object().cloned().unwrap_or_default();
        assert!(paths.keys().any(|p| p.starts_with("/admin/v1/")));
        assert!(paths.keys().any(|p| p.starts_with(RESOURCE_PREFIX)));
        for (path, item) in &paths {
            for (method, op) in item.as_object().cloned().unwrap_or_default() {
                let security = op["security"].as_array().cloned().unwrap_or_default();
                assert!(!security.is_empty(), "{method} {path}");
                for status in ["401", "403", "503"] {
                    assert!(
                        op["responses"][status].is_object(),
                        "{method} {path} {status}"
                    );
                }
                if path.starts_with("/admin/v1/") {
                    assert_eq!(
                        security[0][OAUTH2_SCHEME],
                        serde_json::json!(["admin"]),
                        "{method} {path}"
                    );
                }
            }
        }
    }

    #[test]
    fn resource_api_is_left_out_when_not_served() {
        let doc = doc(false);
        let paths = doc["paths"].as_object().cloned().unwrap_or_default();
        assert!(!paths.keys().any(|p| p.starts_with(RESOURCE_PREFIX)));
        assert!(paths.keys().any(|p| p.starts_with("/admin/v1/")));
    }

    #[test]
    fn oauth_scopes_come_from_the_registry() {
        let doc = doc(true);
        let flows = &doc["components"]["securitySchemes"][OAUTH2_SCHEME]["flows"];
        assert_eq!(
            flows["clientCredentials"]["tokenUrl"],
            "https://auth.example/oauth/token"
        );
        assert!(flows["authorizationCode"]["scopes"]["wallet:read"].is_string());
        assert!(flows["authorizationCode"]["scopes"].get("admin").is_none());
        assert!(flows["clientCredentials"]["scopes"]["admin"].is_string());
        assert_eq!(
            doc["components"]["securitySchemes"][BEARER_SCHEME]["scheme"],
            "bearer"
        );
    }
}
