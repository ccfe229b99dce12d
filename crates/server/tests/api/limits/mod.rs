//! Limits, hostile input, outages and operations endpoints.

mod anonymous_writes;
mod faults_outage;
mod hostile_input;
mod limits_requests;
mod ops;
mod ratelimit_pages;
mod ratelimit_token;
