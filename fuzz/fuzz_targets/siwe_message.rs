#![no_main]
//! Fuzz target `siwe_message`: see `portcullis_testkit::fuzz`.

use libfuzzer_sys::fuzz_target;
#[allow(unused_imports)]
use portcullis_testkit::fuzz::{self, harness};

fuzz_target!(|data: &[u8]| {
    fuzz::siwe_message(data);
});
