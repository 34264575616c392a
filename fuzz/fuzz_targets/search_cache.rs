#![no_main]

libfuzzer_sys::fuzz_target!(|bytes: &[u8]| lookalike_core::fuzz::search_cache(bytes));
