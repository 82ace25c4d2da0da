//! Fuzz the zip reader: see leaktrace_io::fuzzing.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    leaktrace_io::fuzzing::read(leaktrace_io::fuzzing::Target::Zip, data);
});
