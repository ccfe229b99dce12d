//! The Portcullis HTTP layer.
//!
//! [`router`] is a pure function of [`AppState`]: handlers extract, call the core, and map the
//! result; errors become responses in one place ([`error`]).

pub mod admin;
pub mod api;
pub mod bearer;
pub mod client_ip;
pub mod compat;
mod cors;
pub mod dpop;
pub mod error;
pub mod input;
mod jwks;
pub mod metrics;
mod middleware;
pub mod oauth;
pub mod openapi;
mod ops;
pub mod pages;
pub mod password;
pub mod state;

use axum::Router;
use axum::routing::{get, post};
use tower_http::csrf::CsrfLayer;

pub use state::{AppState, HttpSettings};

/// Every route of the server, with its middleware.
#[allow(clippy::needless_pass_by_value)] // Taken by value, as axum's `with_state` is.
pub fn router(state: AppState) -> Router {
    // Machine endpoints: called by clients and resource servers, never by a browser form, so
    // they sit outside the page middleware (CSRF origin checks, page headers).
    let machine = Router::new()
        .route("/healthz", get(ops::healthz))
        .route("/readyz", get(ops::readyz))
        .route("/metrics", get(ops::metrics))
        .route("/openapi.json", get(openapi::serve))
        .route("/oauth/introspect", post(oauth::introspection::introspect));
    // Public documents: any origin's scripts may read them (CORS).
    let documents = Router::new()
        .route("/oauth/jwks", get(jwks::jwks))
        .route(
            "/.well-known/oauth-authorization-server",
            get(oauth::discovery::discovery),
        )
        .route(
            "/.well-known/openid-configuration",
            get(oauth::discovery::discovery),
        )
        .route_layer(axum::middleware::from_fn(cors::public));
    // What browser-based apps call: readable by the origins their client registered (CORS).
    let browser_apps = Router::new()
        .route("/oauth/token", post(oauth::token::token))
        .route("/oauth/par", post(oauth::par::push))
        .route("/oauth/revoke", post(oauth::revocation::revoke))
        .route(
            "/oauth/userinfo",
            get(oauth::userinfo::get).post(oauth::userinfo::post),
        )
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            cors::clients,
        ));
    let machine = machine.merge(documents).merge(browser_apps);
    let machine = machine.merge(admin::routes()).merge(compat::machine(
        &state.settings.compat,
        state.services.banking.enabled,
    ));
    let machine = if state.services.banking.enabled {
        machine.merge(compat::resource_api(api::routes(), &state.settings.compat))
    } else {
        machine
    };
    // The authorization and logout endpoints are reached by navigations from the client's own
    // site (a link, or a form the client's page posts), so they must not sit behind the
    // cross-origin form check below. It changes nothing a third party could abuse: it only opens a request that the
    // user must still approve.
    let authorization = Router::new()
        .route(
            "/oauth/authorize",
            get(oauth::authorize::get).post(oauth::authorize::post),
        )
        .route("/oauth/authorize/resume", get(oauth::authorize::resume))
        // RP-Initiated Logout 1.0: relying parties may form-post here from their own site. The
        // confirmation form carries the session's CSRF token, and a request that ends the
        // session without it must name the session with an ID token (pages::logout).
        .route(
            "/logout",
            get(pages::logout::show).post(pages::logout::submit),
        )
        .merge(compat::pages(&state.settings.compat));
    let mut pages = Router::new()
        .route("/login", get(pages::login::show).post(pages::login::submit))
        .route(
            "/signup",
            get(pages::signup::show).post(pages::signup::submit),
        )
        .route(
            "/consent",
            get(pages::consent::show).post(pages::consent::submit),
        )
        .route("/logged-out", get(pages::logout::logged_out))
        .route("/account", get(pages::account::show))
        .route("/account/apps/revoke", post(pages::account::revoke))
        .route("/static/portcullis.css", get(pages::stylesheet))
        .route("/static/wallet.js", get(pages::wallet_script));
    if state.settings.sandbox {
        pages = pages.route("/sandbox/callback", get(pages::sandbox::callback));
    }
    if state.services.banking.enabled {
        pages = pages.merge(pages::onboarding::routes());
    }
    // Cross-origin form posts to the pages are refused by origin as well as by the forms' CSRF
    // tokens.
    let csrf = CsrfLayer::new();
    let csrf = origin(state.issuer())
        .and_then(|o| csrf.clone().add_trusted_origin(o).ok())
        .unwrap_or(csrf);
    // The pages' security headers (CSP, no framing, no caching) are added for every response
    // in `middleware::wrap`, so the middleware's own refusals and the fallback get them too.
    let pages = pages.layer(csrf).merge(authorization);
    let routes = machine
        .merge(pages)
        .fallback(ops::not_found)
        .with_state(state.clone());
    middleware::wrap(routes, &state)
}

/// `scheme://host[:port]` of a URL.
fn origin(url: &str) -> Option<String> {
    url::Url::parse(url)
        .ok()
        .map(|u| u.origin().ascii_serialization())
}
