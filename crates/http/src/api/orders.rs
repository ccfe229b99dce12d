//! `GET/POST /api/v1/orders` and `GET /api/v1/orders/{id}`.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use portcullis_core::banking::accounts::{self, Placement};
use portcullis_core::banking::order::{Currency, NewOrder, Order, OrderKind};
use portcullis_proto::ClientId;
use serde::{Deserialize, Serialize};

use super::{PageQuery, Paged, own_profile, require_any};
use crate::bearer::Bearer;
use crate::error::ApiError;
use crate::input::ApiQuery;
use crate::state::AppState;

/// An order as the API shows it.
#[derive(Debug, Serialize)]
pub struct OrderView {
    id: String,
    profile: String,
    kind: &'static str,
    currency: &'static str,
    amount: i64,
    counterpart_iban: Option<String>,
    memo: Option<String>,
    state: &'static str,
    reason: Option<String>,
    created_at: String,
    updated_at: String,
}

impl From<&Order> for OrderView {
    fn from(o: &Order) -> Self {
        Self {
            id: o.id.clone(),
            profile: o.profile_id.to_string(),
            kind: o.kind.as_str(),
            currency: o.currency.as_str(),
            amount: o.amount,
            counterpart_iban: o.counterpart_iban.clone(),
            memo: o.memo.clone(),
            state: o.state.as_str(),
            reason: o.reason.clone(),
            created_at: o.created_at.to_rfc3339(),
            updated_at: o.updated_at.to_rfc3339(),
        }
    }
}

/// The profile's orders, a page at a time.
pub async fn list(
    State(state): State<AppState>,
    token: Bearer,
    ApiQuery(page): ApiQuery<PageQuery>,
) -> Result<Json<Paged<OrderView>>, ApiError> {
    require_any(&token, &["orders:read"])?;
    let profile = own_profile(&state, &token).await?;
    let page = state
        .services
        .store
        .orders_of(&profile.id, &page.request())
        .await?;
    Ok(Json(Paged {
        items: page.items.iter().map(OrderView::from).collect(),
        next_cursor: page.next,
    }))
}

/// One order of the profile.
pub async fn get(
    State(state): State<AppState>,
    token: Bearer,
    Path(id): Path<String>,
) -> Result<Json<OrderView>, ApiError> {
    require_any(&token, &["orders:read"])?;
    let profile = own_profile(&state, &token).await?;
    let order = state
        .services
        .store
        .order(&profile.id, &id)
        .await?
        .ok_or_else(ApiError::not_found)?;
    Ok(Json(OrderView::from(&order)))
}

/// The body of `POST /api/v1/orders`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlaceOrder {
    kind: String,
    currency: String,
    amount: i64,
    counterpart_iban: Option<String>,
    memo: Option<String>,
}

/// Places an order. Needs an `Idempotency-Key` header: the same key and body return the same
/// order (200), the same key with another body is refused (409). A redeem larger than the
/// balance is recorded as `rejected` with reason `insufficient_funds`; an `issue` is refused
/// (403): apps do not mint, money arrives by incoming transfer.
pub async fn place(
    State(state): State<AppState>,
    token: Bearer,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    require_any(&token, &["orders:write"])?;
    let key = headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|k| !k.is_empty())
        .ok_or_else(|| ApiError::bad_request("the Idempotency-Key header is required"))?
        .to_owned();
    let request: PlaceOrder = crate::input::json_object(&body, "malformed order")?;
    let kind: OrderKind = request
        .kind
        .parse()
        .map_err(|_| ApiError::bad_request("kind must be issue or redeem"))?;
    let currency: Currency = request
        .currency
        .to_ascii_lowercase()
        .parse()
        .map_err(|_| ApiError::bad_request("currency must be eur, usd, gbp or isk"))?;
    let profile = own_profile(&state, &token).await?;
    let services = &state.services;
    let new = NewOrder {
        kind,
        currency,
        amount: request.amount,
        counterpart_iban: request.counterpart_iban,
        memo: request.memo,
    };
    let client = ClientId::new(token.0.client_id.clone());
    let (order, placement) = accounts::place_order(
        services.store.as_ref(),
        services.clock.as_ref(),
        services.random.as_ref(),
        &client,
        &profile,
        new,
        &key,
    )
    .await?;
    let status = if placement == Placement::Created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    tracing::info!(order = %order.id, client = %client, "{order}");
    Ok((status, Json(OrderView::from(&order))).into_response())
}
