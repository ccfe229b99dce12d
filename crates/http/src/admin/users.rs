use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use portcullis_core::admin::users;
use portcullis_core::admin::views::user_view;
use portcullis_core::banking::accounts::{Credit, Placement};
use portcullis_core::banking::order::Currency;
use portcullis_proto::admin::{
    AppRevoked, CreateUser, FundProfile, Page, SetKyc, UpdateUser, UserView,
};
use portcullis_proto::{ClientId, ProfileId};

use super::{AdminCaller, PageQuery, json};
use crate::error::ApiError;
use crate::input::ApiQuery;
use crate::state::AppState;

async fn view(state: &AppState, user: &portcullis_core::user::User) -> Result<UserView, ApiError> {
    let profiles = state.services.store.profiles_of(&user.id).await?;
    Ok(user_view(user, &profiles))
}

/// `GET /admin/v1/users`.
pub async fn list(
    State(state): State<AppState>,
    _caller: AdminCaller,
    ApiQuery(page): ApiQuery<PageQuery>,
) -> Result<Json<Page<UserView>>, ApiError> {
    let page = state.services.store.list_users(&page.request()).await?;
    let mut items = Vec::with_capacity(page.items.len());
    for user in &page.items {
        items.push(view(&state, user).await?);
    }
    Ok(Json(Page {
        items,
        next_cursor: page.next,
    }))
}

/// `POST /admin/v1/users`: 201.
pub async fn create(
    State(state): State<AppState>,
    caller: AdminCaller,
    body: Bytes,
) -> Result<Response, ApiError> {
    let request: CreateUser = json(&body)?;
    let random = std::sync::Arc::clone(&state.services.random);
    let prepared = crate::password::off_runtime(move || {
        users::prepare(
            random.as_ref(),
            &request.email,
            &request.name,
            &request.password,
        )
    })
    .await
    .map_err(|e| ApiError::internal(&e))??;
    let user = users::register(&caller.admin(&state), prepared).await?;
    Ok((StatusCode::CREATED, Json(view(&state, &user).await?)).into_response())
}

/// `GET /admin/v1/users/{id}` (id or email).
pub async fn show(
    State(state): State<AppState>,
    caller: AdminCaller,
    Path(id): Path<String>,
) -> Result<Json<UserView>, ApiError> {
    let user = users::find(&caller.admin(&state), &id).await?;
    Ok(Json(view(&state, &user).await?))
}

/// `PATCH /admin/v1/users/{id}`: name, phone number, address (a JSON merge patch).
pub async fn update(
    State(state): State<AppState>,
    caller: AdminCaller,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Json<UserView>, ApiError> {
    let request: UpdateUser = json(&body)?;
    let changes = users::UserChanges {
        name: request.name,
        phone_number: request.phone_number,
        phone_number_verified: request.phone_number_verified,
        address: request.address,
    };
    let user = users::update(&caller.admin(&state), &id, changes).await?;
    Ok(Json(view(&state, &user).await?))
}

/// `POST /admin/v1/users/{id}/disable`: revokes every grant the user gave.
pub async fn disable(
    State(state): State<AppState>,
    caller: AdminCaller,
    Path(id): Path<String>,
) -> Result<Json<UserView>, ApiError> {
    let (user, _) = users::disable(&caller.admin(&state), &id).await?;
    Ok(Json(view(&state, &user).await?))
}

/// `DELETE /admin/v1/users/{id}/apps/{client_id}`: ends one app's access to the user, codes
/// included, as "Revoke access" on the account page does.
pub async fn revoke_app(
    State(state): State<AppState>,
    caller: AdminCaller,
    Path((id, client)): Path<(String, String)>,
) -> Result<Json<AppRevoked>, ApiError> {
    let client = ClientId::new(client);
    let (user, ended) = users::revoke_app(&caller.admin(&state), &id, &client).await?;
    Ok(Json(AppRevoked {
        user_id: user.id.to_string(),
        client_id: client.to_string(),
        consent_forgotten: ended.consents > 0,
        grants_revoked: ended.grants,
        codes_ended: ended.codes,
    }))
}

/// The profile a request under `/admin/v1/users/{id}` names: the one given, which must be this
/// user's (checked before anything changes: the URL names the user, and another user's profile
/// is not found under it), or the user's first (their id, as core reads it).
async fn profile_under(
    state: &AppState,
    user: &portcullis_core::user::User,
    profile: Option<String>,
) -> Result<String, ApiError> {
    let Some(profile) = profile else {
        return Ok(user.id.to_string());
    };
    let owned = state
        .services
        .store
        .profile(&ProfileId::new(profile.as_str()))
        .await?
        .is_some_and(|p| p.user_id == user.id);
    if owned {
        Ok(profile)
    } else {
        Err(ApiError::not_found())
    }
}

/// `POST /admin/v1/users/{id}/fund`: credits one of the user's profiles as an incoming
/// transfer would, where sandbox funding is on. An `Idempotency-Key` header makes a retry safe.
pub async fn fund(
    State(state): State<AppState>,
    caller: AdminCaller,
    Path(id): Path<String>,
    headers: axum::http::HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let request: FundProfile = json(&body)?;
    let settings = state.services.banking;
    let currency: Currency = request
        .currency
        .to_ascii_lowercase()
        .parse()
        .map_err(|_| ApiError::bad_request("currency must be eur, usd, gbp or isk"))?;
    let key = match headers.get("idempotency-key") {
        None => None,
        Some(value) => Some(
            value
                .to_str()
                .ok()
                .map(str::trim)
                .filter(|k| !k.is_empty())
                .ok_or_else(|| {
                    ApiError::bad_request("the Idempotency-Key header is empty or not text")
                })?
                .to_owned(),
        ),
    };
    let admin = caller.admin(&state);
    let user = users::find(&admin, &id).await?;
    let target = profile_under(&state, &user, request.profile).await?;
    let credit = Credit {
        currency,
        amount: request.amount,
        from_iban: request.from_iban,
        memo: request.memo,
    };
    let (order, placement) = users::fund(&admin, settings, &target, credit, key.as_deref()).await?;
    let status = if placement == Placement::Created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(crate::api::orders::OrderView::from(&order))).into_response())
}

/// `POST /admin/v1/users/{id}/kyc`.
pub async fn set_kyc(
    State(state): State<AppState>,
    caller: AdminCaller,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Json<UserView>, ApiError> {
    let request: SetKyc = json(&body)?;
    let kyc = request.state.parse().map_err(|_| {
        ApiError::bad_request("state must be absent, pending, approved or rejected")
    })?;
    let admin = caller.admin(&state);
    let user = users::find(&admin, &id).await?;
    let target = profile_under(&state, &user, request.profile).await?;
    users::set_kyc(&admin, &target, kyc).await?;
    Ok(Json(view(&state, &user).await?))
}
