//! The admin API.

mod access;
mod audit_keys;
mod clients;
mod openapi;
mod secrets;
mod users;
