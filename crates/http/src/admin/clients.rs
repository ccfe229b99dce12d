use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use portcullis_core::admin::clients;
use portcullis_core::admin::views::{client_changes, client_view, new_client};
use portcullis_proto::ClientId;
use portcullis_proto::admin::{ClientView, CreateClient, Page, RotateSecret, UpdateClient};

use super::{AdminCaller, PageQuery, json};
use crate::error::ApiError;
use crate::input::ApiQuery;
use crate::state::AppState;

/// `GET /admin/v1/clients`.
pub async fn list(
    State(state): State<AppState>,
    _caller: AdminCaller,
    ApiQuery(page): ApiQuery<PageQuery>,
) -> Result<Json<Page<ClientView>>, ApiError> {
    let page = state.services.store.list_clients(&page.request()).await?;
    Ok(Json(Page {
        items: page.items.iter().map(|c| client_view(c, None)).collect(),
        next_cursor: page.next,
    }))
}

/// `POST /admin/v1/clients`: 201 with the secret, shown this once.
pub async fn create(
    State(state): State<AppState>,
    caller: AdminCaller,
    body: Bytes,
) -> Result<Response, ApiError> {
    let request: CreateClient = json(&body)?;
    let new = new_client(request)?;
    let (client, secret) = clients::register(&caller.admin(&state), new).await?;
    let mut response = (StatusCode::CREATED, Json(client_view(&client, secret))).into_response();
    crate::oauth::token::no_store(response.headers_mut());
    Ok(response)
}

/// `GET /admin/v1/clients/{id}`.
pub async fn show(
    State(state): State<AppState>,
    caller: AdminCaller,
    Path(id): Path<String>,
) -> Result<Json<ClientView>, ApiError> {
    let client = clients::get(&caller.admin(&state), &id).await?;
    Ok(Json(client_view(&client, None)))
}

/// `PATCH /admin/v1/clients/{id}`.
pub async fn update(
    State(state): State<AppState>,
    caller: AdminCaller,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Json<ClientView>, ApiError> {
    let request: UpdateClient = json(&body)?;
    let changes = client_changes(request)?;
    let client = clients::update(&caller.admin(&state), &id, changes).await?;
    state.clients.invalidate(&client.id);
    Ok(Json(client_view(&client, None)))
}

/// `DELETE /admin/v1/clients/{id}`: 204.
pub async fn delete(
    State(state): State<AppState>,
    caller: AdminCaller,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    clients::delete(&caller.admin(&state), &id).await?;
    state.clients.invalidate(&ClientId::new(id));
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /admin/v1/clients/{id}/rotate-secret`: the new secret, shown this once.
pub async fn rotate_secret(
    State(state): State<AppState>,
    caller: AdminCaller,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let request: RotateSecret = if body.is_empty() {
        RotateSecret::default()
    } else {
        json(&body)?
    };
    let (client, secret) =
        clients::rotate_secret(&caller.admin(&state), &id, request.grace_seconds).await?;
    state.clients.invalidate(&client.id);
    let mut response = Json(client_view(&client, Some(secret))).into_response();
    crate::oauth::token::no_store(response.headers_mut());
    Ok(response)
}
