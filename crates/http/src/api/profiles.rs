//! `GET /api/v1/profiles` and `GET /api/v1/profiles/{id}`.

use axum::Json;
use axum::extract::{Path, State};

use super::{PageQuery, Paged, ProfileView, require_any, visible_profiles};
use crate::bearer::Bearer;
use crate::error::ApiError;
use crate::input::ApiQuery;
use crate::state::AppState;

const SCOPES: &[&str] = &["profile:read", "users.profiles:read"];

/// The profiles the token may see, by id, a page at a time.
pub async fn list(
    State(state): State<AppState>,
    token: Bearer,
    ApiQuery(page): ApiQuery<PageQuery>,
) -> Result<Json<Paged<ProfileView>>, ApiError> {
    require_any(&token, SCOPES)?;
    let request = page.request();
    let mut profiles = visible_profiles(&state, &token).await?;
    profiles.sort_by(|a, b| a.id.cmp(&b.id));
    let after = request.after.unwrap_or_default();
    let mut items: Vec<_> = profiles
        .iter()
        .filter(|p| p.id.as_str() > after.as_str())
        .collect();
    let limit = usize::try_from(request.limit).unwrap_or(50);
    let next_cursor = (items.len() > limit).then(|| items[limit - 1].id.to_string());
    items.truncate(limit);
    Ok(Json(Paged {
        items: items.into_iter().map(ProfileView::from).collect(),
        next_cursor,
    }))
}

/// One profile; 404 unless the token may see it.
pub async fn get(
    State(state): State<AppState>,
    token: Bearer,
    Path(id): Path<String>,
) -> Result<Json<ProfileView>, ApiError> {
    require_any(&token, SCOPES)?;
    let profiles = visible_profiles(&state, &token).await?;
    let profile = profiles
        .iter()
        .find(|p| p.id.as_str() == id)
        .ok_or_else(ApiError::not_found)?;
    Ok(Json(ProfileView::from(profile)))
}
