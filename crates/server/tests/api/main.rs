//! Tests through HTTP against the real server started in-process on port 0.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod ops;
