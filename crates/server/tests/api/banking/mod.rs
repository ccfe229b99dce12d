//! The resource API and onboarding.

mod api;
mod off;
mod onboarding_consent;
mod onboarding_flow;
mod orders;
mod revocation;
mod wallet;
