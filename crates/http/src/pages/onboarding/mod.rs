//! `/onboarding/…`: the steps a user takes inside an authorization request when the app asks
//! for scopes that need what they lack (a profile, approved KYC, a wallet, an IBAN; Monerium
//! "getting started" steps 3–6). Each page carries `?request=`, acts on the logged-in user's
//! own profile, and after a successful POST answers 303 to `/oauth/authorize/resume`, which
//! decides the next step. A page reached out of turn sends the browser there too, so the steps
//! happen in order and a user who left can come back to any of them.

mod iban;
mod kyc;
mod profile;
mod wallet;

use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::response::Response;
use axum::routing::{get, post};
use portcullis_core::banking::onboarding::{self, Step};
use portcullis_core::banking::profile::Profile;
use portcullis_core::client::Client;
use portcullis_core::oauth::journey::{self, Event, Outcome};
use portcullis_core::store::AuthRequestRecord;
use portcullis_core::user::User;
use serde::Deserialize;

use super::session::{Browser, ClientIp};
use super::{PageFailure, stale_form, with_request};
use crate::oauth::authorize::go;
use crate::state::AppState;

/// The onboarding routes (mounted only when banking is on).
pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/onboarding/profile",
            get(profile::show).post(profile::submit),
        )
        .route("/onboarding/kyc", get(kyc::show).post(kyc::submit))
        .route("/onboarding/wallet", get(wallet::show).post(wallet::submit))
        .route("/onboarding/wallet/message", post(wallet::message))
        .route("/onboarding/iban", get(iban::show).post(iban::submit))
        .route("/onboarding/cancel", post(cancel))
}

/// The query of every onboarding page. A missing `request` is an unknown request (an HTML
/// error page).
#[derive(Debug, Deserialize)]
pub struct OnboardingQuery {
    #[serde(default)]
    request: String,
}

/// One entry of the steps list at the top of each page.
struct StepItem {
    label: &'static str,
    current: bool,
    done: bool,
}

/// The steps this request needs, in order, for the list at the top of the pages.
fn steps(scope: &portcullis_proto::ScopeSet, current: Step) -> Vec<StepItem> {
    let mut all = vec![(Step::Profile, "Profile"), (Step::Kyc, "Verification")];
    if onboarding::needs_account(scope) {
        all.extend([(Step::Wallet, "Wallet"), (Step::Iban, "IBAN")]);
    }
    let at = all.iter().position(|(s, _)| *s == current).unwrap_or(0);
    all.into_iter()
        .enumerate()
        .map(|(i, (_, label))| StepItem {
            label,
            current: i == at,
            done: i < at,
        })
        .collect()
}

/// A pending request at one onboarding step, for the logged-in user.
struct Here {
    request: AuthRequestRecord,
    client: Arc<Client>,
    user: User,
    csrf: String,
    /// The profile the step works on (`None` at the profile step).
    profile: Option<Profile>,
    steps: Vec<StepItem>,
}

/// Where a browser asking for an onboarding page belongs.
enum Arrival {
    /// At this step: show or take its form.
    Here(Box<Here>),
    /// Elsewhere (login, another step, consent, or the app): go there.
    Elsewhere(Response),
}

fn resume_url(request: &str) -> String {
    with_request("/oauth/authorize/resume", Some(request))
}

/// Checks that the browser is logged in, the request is pending and still needs `step` of the
/// user; otherwise says where to go instead.
async fn arrive(
    state: &AppState,
    browser: &Browser,
    request_id: &str,
    step: Step,
) -> Result<Arrival, PageFailure> {
    let keys = state.keyring();
    let ctx = state.context(&keys);
    let logged_in = browser.logged_in();
    let journey = journey::advance(
        &ctx,
        state.clients.as_ref(),
        request_id,
        logged_in,
        Event::AtOnboarding(step),
    )
    .await?;
    let (Outcome::Onboarding(assessment), Some(logged_in), Some(session)) =
        (&journey.outcome, logged_in, browser.session.as_ref())
    else {
        return Ok(Arrival::Elsewhere(go(journey)));
    };
    Ok(Arrival::Here(Box::new(Here {
        steps: steps(&journey.request.scope, step),
        profile: assessment.profile.clone(),
        user: logged_in.user.clone(),
        csrf: session.csrf_token.clone(),
        request: journey.request,
        client: journey.client,
    })))
}

/// [`arrive`] for a form post: the CSRF token is checked first, so a form without the session's
/// token is refused as stale (403) whatever else it holds.
async fn arrive_with_form(
    state: &AppState,
    browser: &Browser,
    csrf: &str,
    request_id: &str,
    step: Step,
) -> Result<Arrival, PageFailure> {
    if !browser.csrf_ok(csrf) {
        return Ok(Arrival::Elsewhere(stale_form()));
    }
    arrive(state, browser, request_id, step).await
}

/// The cancel form's fields.
#[derive(Debug, Deserialize)]
pub struct CancelFields {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    request: String,
}

/// Ends the request with `access_denied`: the user chose not to finish onboarding, and the app
/// hears so at once instead of waiting for the request to expire.
async fn cancel(
    State(state): State<AppState>,
    browser: Browser,
    ClientIp(ip): ClientIp,
    axum::Form(form): axum::Form<CancelFields>,
) -> Result<Response, PageFailure> {
    if !browser.csrf_ok(&form.csrf) {
        return Ok(stale_form());
    }
    let keys = state.keyring();
    let ctx = state.context(&keys).from_ip(ip);
    let journey = journey::advance(
        &ctx,
        state.clients.as_ref(),
        &form.request,
        browser.logged_in(),
        Event::Cancel,
    )
    .await?;
    Ok(go(journey))
}

/// An error message of the core (`"the signature was …"`) as a sentence for a page.
fn sentence(error: &dyn std::fmt::Display) -> String {
    let text = error.to_string();
    let mut chars = text.chars();
    let mut out: String = chars
        .next()
        .map(|c| c.to_uppercase().collect())
        .unwrap_or_default();
    out.push_str(chars.as_str());
    if !out.ends_with('.') {
        out.push('.');
    }
    out
}
