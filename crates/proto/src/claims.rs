//! OpenID Connect standard claim values that cross the wire (OpenID Connect Core §5.1).

use serde::{Deserialize, Serialize};

/// A postal address (OpenID Connect Core §5.1.1), as the `address` claim carries its parts and
/// as the admin API takes it. Every part is optional.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Address {
    /// Street, house number, flat: may span lines.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub street_address: Option<String>,
    /// City or locality.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub locality: Option<String>,
    /// State, province, prefecture or region.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// Zip or postal code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub postal_code: Option<String>,
    /// Country name (or code, as written).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
}
