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

/// A SHA-256 digest column.
pub(crate) fn digest(
    column: &str,
    bytes: &[u8],
) -> Result<portcullis_core::hash::SecretHash, StoreError> {
    portcullis_core::hash::SecretHash::from_bytes(bytes)
        .ok_or_else(|| corrupt(column, "not a SHA-256 digest"))
}

/// A scope column.
pub(crate) fn scope(column: &str, text: &str) -> Result<portcullis_proto::ScopeSet, StoreError> {
    portcullis_proto::ScopeSet::parse(text).map_err(|e| corrupt(column, e))
}

/// The two PKCE columns.
pub(crate) fn challenge(
    column: &str,
    challenge: Option<String>,
    method: Option<String>,
) -> Result<Option<portcullis_core::store::CodeChallenge>, StoreError> {
    use portcullis_core::pkce::ChallengeMethod;
    match (challenge, method) {
        (None, None) => Ok(None),
        (Some(challenge), Some(method)) => Ok(Some(portcullis_core::store::CodeChallenge {
            challenge,
            method: ChallengeMethod::parse(&method)
                .ok_or_else(|| corrupt(column, "unknown method"))?,
        })),
        _ => Err(corrupt(
            column,
            "challenge without method, or method without challenge",
        )),
    }
}
