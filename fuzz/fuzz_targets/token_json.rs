#![no_main]
//! Fuzz target `token_json`: see `portcullis_testkit::fuzz`.

use libfuzzer_sys::fuzz_target;
#[allow(unused_imports)]
use portcullis_testkit::fuzz::{self, harness};

fuzz_target!(|data: &[u8]| {
    harness().token_json(data);
});
