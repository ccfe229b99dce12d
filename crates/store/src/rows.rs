//! Rows as the database returns them, and their conversion into domain types. Shared by both
//! dialects: every column uses a type both decode the same way (TEXT, BIGINT/INTEGER,
//! BYTEA/BLOB, BOOLEAN/INTEGER).

use portcullis_core::store::{Page, PageRequest, StoreError};

/// A value read back from the database that the domain refuses.
pub(crate) fn corrupt(what: &str, detail: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("{what}: {detail}"))
}

/// The `LIMIT` to ask for: one more than the page, to learn whether another page follows.
pub(crate) fn fetch_limit(page: &PageRequest) -> i64 {
    i64::from(page.limit.clamp(1, PageRequest::MAX_LIMIT)) + 1
}

/// The cursor to read after: the empty string sorts before every id.
pub(crate) fn after(page: &PageRequest) -> &str {
    page.after.as_deref().unwrap_or("")
}

/// Cuts the extra row off and turns it into the next cursor.
pub(crate) fn into_page<T>(
    mut items: Vec<T>,
    page: &PageRequest,
    id: impl Fn(&T) -> String,
) -> Page<T> {
    let limit = usize::try_from(page.limit.clamp(1, PageRequest::MAX_LIMIT)).unwrap_or(1);
    let next = if items.len() > limit {
        items.truncate(limit);
        items.last().map(id)
    } else {
        None
    };
    Page { items, next }
}
