#![no_main]

libfuzzer_sys::fuzz_target!(|bytes: &[u8]| lookalike::fuzz::thumbnail_cache(bytes));
