//! Any bytes as a stored tick's bins, in each encoding a record may name (the first
//! byte picks it): decoding never panics, and what decodes as one run Rice-codes back
//! to the same bins.
#![no_main]

use libfuzzer_sys::fuzz_target;
use redline::monitor::rice;
use redline::monitor::sketch::{RICE_WIDTH, decode_bins, decode_run};

fuzz_target!(|data: &[u8]| {
    let Some((&pick, bytes)) = data.split_first() else {
        return;
    };
    let width = match pick % 34 {
        33 => RICE_WIDTH,
        width => width,
    };
    let mut bins = Vec::new();
    decode_bins(bytes, width, |key, count| bins.push((key, count)));
    let mut counts = Vec::new();
    if let Some(first_key) = decode_run(bytes, width, 1 << 16, &mut counts) {
        let mut coded = Vec::new();
        rice::encode(&counts, first_key, &mut coded);
        let mut again = Vec::new();
        assert!(rice::decode(&coded, |key, count| again.push((key, count))));
        assert_eq!(again, bins);
    }
});
