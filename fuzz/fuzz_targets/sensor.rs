#![no_main]

// rawloader catches its own panics and returns them as errors, which lookalike relies
// on; the panic hook libfuzzer-sys installs would abort on those, so a silent hook
// replaces it. A panic that escapes still aborts: libfuzzer-sys runs every input
// inside `catch_unwind` and aborts on an unwinding one.
libfuzzer_sys::fuzz_target!(
    init: std::panic::set_hook(Box::new(|_| {})),
    |bytes: &[u8]| lookalike_core::fuzz::sensor(bytes)
);
