//! The sandbox banking domain: profiles with KYC, wallets proven by signature, IBANs,
//! balances and orders.

pub mod access;
pub mod accounts;
pub mod iban;
pub mod kyc;
pub mod onboarding;
pub mod order;
pub mod ownership;
pub mod profile;
pub mod siwe;
pub mod wallet;
