#![no_main]
//! Fuzz target `redirect_uri`: see `portcullis_testkit::fuzz`.

use libfuzzer_sys::fuzz_target;
#[allow(unused_imports)]
use portcullis_testkit::fuzz::{self, harness};

fuzz_target!(|data: &[u8]| {
    fuzz::redirect_uri(data);
});
