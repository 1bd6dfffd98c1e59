//! Adaptive Rice coding of a run of sketch bins: the densest encoding of a tick's bins,
//! for stored history (the live window never writes it).
//!
//! The bins of a latency distribution change smoothly from one key to the next, so
//! each count is coded against a prediction, the mean of the four counts before it.
//! Counts within the prediction's distance of it become the zigzag of their difference
//! and larger ones stay themselves: a one-to-one map onto 0, 1, 2, ... that puts the
//! likely counts first (with no prediction, the count itself). That value is
//! Rice-coded with a parameter `k` adapted to the values coded before it, as LOCO-I
//! does: the quotient `value >> k` in unary (ones ended by a zero), then the `k` low
//! bits. A quotient of [`ESCAPE`] or more is written as [`ESCAPE`] ones, six bits of
//! length and the value's bits, so a huge count costs at most 64 bits.
//!
//! Layout: a varint of `zigzag(first_key)`, a varint of the run's length, then the bit
//! stream, least significant bit first, padded with zeros to a byte. At 1,000 events
//! per tick that is about 3.3 bits per bin, against 5 for the bit-packed run.

use super::sketch::{push_varint, read_varint, unzigzag, zigzag};

/// Unary quotients this long are escaped.
const ESCAPE: u32 = 24;
/// Largest Rice parameter (a value's low bits are written at most 31 at a time).
const MAX_K: u32 = 31;
/// Bits of an escaped value's length (values take at most 34 bits).
const LENGTH_BITS: u32 = 6;
const MAX_VALUE_BITS: u32 = 34;

/// Appends `counts` (by key from `first_key`) in the Rice encoding.
pub fn encode(counts: &[u32], first_key: i32, out: &mut Vec<u8>) {
    push_varint(out, zigzag(i64::from(first_key)));
    push_varint(out, counts.len() as u64);
    let mut bits = BitWriter {
        out,
        word: 0,
        held: 0,
    };
    let mut model = Model::default();
    for &count in counts {
        let value = model.fold(count);
        let k = model.k();
        let quotient = value >> k;
        if quotient < u64::from(ESCAPE) {
            // `quotient` ones, the zero that ends them, then the low bits.
            let low = value & ((1 << k) - 1);
            bits.put(
                ((1 << quotient) - 1) | (low << (quotient + 1)),
                quotient as u32 + 1 + k,
            );
        } else {
            let len = u64::BITS - value.leading_zeros();
            bits.put(
                ((1 << ESCAPE) - 1) | (u64::from(len) << ESCAPE),
                ESCAPE + LENGTH_BITS,
            );
            bits.put(value, len);
        }
        model.learn(count, value);
    }
    bits.finish();
}

/// Decodes bins written by [`encode`], calling `bin(key, count)` for each non-empty
/// one in ascending key order. Returns false, having stopped, on bytes that are not
/// such an encoding (truncated, trailing bytes, counts beyond 32 bits, keys beyond
/// `i32`).
pub fn decode(bytes: &[u8], mut bin: impl FnMut(i32, u32)) -> bool {
    let mut header = bytes.iter().copied();
    let (Some(first_key), Some(run)) = (read_varint(&mut header), read_varint(&mut header)) else {
        return false;
    };
    let stream = &bytes[bytes.len() - header.len()..];
    let first_key = unzigzag(first_key);
    // Every count takes at least one bit.
    let fits = run <= stream.len() as u64 * 8;
    if !fits || i32::try_from(first_key.saturating_add(run as i64)).is_err() {
        return false;
    }
    let mut reader = BitReader {
        bytes: stream,
        next: 0,
        word: 0,
        held: 0,
    };
    let mut model = Model::default();
    for position in 0..run {
        let Some(value) = reader.value(model.k()) else {
            return false;
        };
        let Some(count) = model.unfold(value) else {
            return false;
        };
        model.learn(count, value);
        if count > 0 {
            bin((first_key + position as i64) as i32, count);
        }
    }
    // The stream ends in its last byte: anything after it is not this encoding.
    reader.read().div_ceil(8) == stream.len()
}

/// What the coder has seen: the last four counts (the prediction is their mean) and a
/// running mean of the coded values (which sets `k`).
#[derive(Default)]
struct Model {
    recent: [u32; 4],
    next: usize,
    recent_sum: u64,
    /// About twice the mean of recent values: each value adds itself and halves the rest.
    scale: u64,
}

impl Model {
    #[inline(always)]
    fn prediction(&self) -> u64 {
        self.recent_sum >> 2
    }

    /// The count as the value coded: near the prediction first, alternately above and
    /// below, then the counts beyond twice it in order.
    #[inline(always)]
    fn fold(&self, count: u32) -> u64 {
        let (count, predicted) = (u64::from(count), self.prediction());
        if count <= 2 * predicted {
            zigzag(count as i64 - predicted as i64)
        } else {
            count
        }
    }

    /// The count a coded value stands for; `None` beyond 32 bits.
    #[inline(always)]
    fn unfold(&self, value: u64) -> Option<u32> {
        let predicted = self.prediction();
        let count = if value <= 2 * predicted {
            predicted.checked_add_signed(unzigzag(value))?
        } else {
            value
        };
        u32::try_from(count).ok()
    }

    /// The smallest `k` with `2 << k` at least `scale`: about log2 of the mean value.
    #[inline(always)]
    fn k(&self) -> u32 {
        let half = self.scale.div_ceil(2).max(1);
        (u64::BITS - (half - 1).leading_zeros()).min(MAX_K)
    }

    #[inline(always)]
    fn learn(&mut self, count: u32, value: u64) {
        self.recent_sum = self.recent_sum + u64::from(count) - u64::from(self.recent[self.next]);
        self.recent[self.next] = count;
        self.next = (self.next + 1) % self.recent.len();
        self.scale = self.scale - (self.scale >> 1) + value;
    }
}

/// Bits appended least significant first, eight bytes at a time (one append per
/// dozen counts or so: the bundle's size-optimised build calls out for every slice
/// operation, so there are as few as can be).
struct BitWriter<'a> {
    out: &'a mut Vec<u8>,
    word: u64,
    /// Bits held in `word` (fewer than 64).
    held: u32,
}

impl BitWriter<'_> {
    /// Appends the low `count` bits of `value` (at most 56; the rest must be zero).
    #[inline(always)]
    fn put(&mut self, value: u64, count: u32) {
        debug_assert!(count <= 56 && value >> count == 0);
        self.word |= value << self.held;
        if self.held + count < 64 {
            self.held += count;
            return;
        }
        self.out.extend_from_slice(&self.word.to_le_bytes());
        // `held` is at least 8 here: the bits of `value` that did not fit.
        self.word = value >> (64 - self.held);
        self.held = self.held + count - 64;
    }

    /// Appends the bits held, the last byte padded with zeros.
    fn finish(self) {
        let tail = self.held.div_ceil(8) as usize;
        self.out.extend_from_slice(&self.word.to_le_bytes()[..tail]);
    }
}

/// Reads what [`BitWriter`] wrote; `None` past the end. Bytes are loaded one at a
/// time into a word (plain indexing: no slice call per value in the size-optimised
/// bundle), so every value is read from the word.
struct BitReader<'a> {
    bytes: &'a [u8],
    /// The next byte to load (past the end, zeros are loaded).
    next: usize,
    /// Loaded bits not yet read, least significant first.
    word: u64,
    held: u32,
}

impl BitReader<'_> {
    /// Loads bytes until the word holds 57 bits or more.
    #[inline(always)]
    fn refill(&mut self) {
        while self.held <= 56 {
            let byte = if self.next < self.bytes.len() {
                self.bytes[self.next]
            } else {
                0
            };
            self.word |= u64::from(byte) << self.held;
            self.next += 1;
            self.held += 8;
        }
    }

    /// Bits read so far.
    fn read(&self) -> usize {
        self.next * 8 - self.held as usize
    }

    /// Drops `count` bits of the word (at most those held).
    #[inline(always)]
    fn skip(&mut self, count: u32) -> Option<()> {
        self.word >>= count;
        self.held -= count;
        (self.read() <= self.bytes.len() * 8).then_some(())
    }

    /// The next `count` bits (at most 32).
    #[inline(always)]
    fn take(&mut self, count: u32) -> Option<u64> {
        self.refill();
        let value = self.word & ((1u64 << count) - 1);
        self.skip(count)?;
        Some(value)
    }

    /// One value coded with parameter `k`.
    #[inline(always)]
    fn value(&mut self, k: u32) -> Option<u64> {
        self.refill();
        let quotient = self.word.trailing_ones().min(ESCAPE);
        if quotient < ESCAPE {
            // At most 24 + 31 bits: all in the word.
            let low = (self.word >> (quotient + 1)) & ((1 << k) - 1);
            self.skip(quotient + 1 + k)?;
            return Some((u64::from(quotient) << k) | low);
        }
        self.skip(ESCAPE)?;
        let len = self.take(LENGTH_BITS)? as u32;
        if len > MAX_VALUE_BITS {
            return None;
        }
        let low = self.take(len.min(32))?;
        let high = self.take(len.saturating_sub(32))?;
        Some(low | (high << 32))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(counts: &[u32], first_key: i32) -> (Vec<u8>, Vec<(i32, u32)>) {
        let mut encoded = Vec::new();
        encode(counts, first_key, &mut encoded);
        let mut decoded = Vec::new();
        assert!(decode(&encoded, |key, count| decoded.push((key, count))));
        (encoded, decoded)
    }

    /// The non-empty bins of `counts` from `first_key`: what decoding must yield.
    fn non_empty(counts: &[u32], first_key: i32) -> Vec<(i32, u32)> {
        counts
            .iter()
            .enumerate()
            .filter(|(_, count)| **count > 0)
            .map(|(position, &count)| (first_key + position as i32, count))
            .collect()
    }

    #[test]
    fn edge_runs_round_trip() {
        let cases: [(&[u32], i32); 7] = [
            (&[], 0),
            (&[1], -150),
            (&[u32::MAX], i32::MIN),
            (&[u32::MAX, 0, u32::MAX, 1, u32::MAX - 1], 7),
            (&[0, 0, 0, 5], i32::MAX - 4),
            (&[3, 9, 17, 16, 15, 14, 70_000, 0, 0, 1], -1),
            (&[1 << 31, 1 << 30, 1, 0, 1 << 31], 0),
        ];
        for (counts, first_key) in cases {
            let (_, decoded) = round_trip(counts, first_key);
            assert_eq!(decoded, non_empty(counts, first_key), "{counts:?}");
        }
    }

    #[test]
    fn a_busy_tick_takes_about_three_bits_a_bin() {
        // 1,000 samples over a bell of about 160 bins, peaking near 16 a bin.
        let counts: Vec<u32> = (-80i32..80)
            .map(|b| (16.0 * (-f64::from(b * b) / 1250.0).exp() + 0.5 * f64::from(b % 3)) as u32)
            .collect();
        let (encoded, decoded) = round_trip(&counts, -151);
        assert_eq!(decoded, non_empty(&counts, -151));
        assert!(
            encoded.len() * 8 < counts.len() * 4,
            "{} bytes",
            encoded.len()
        );
    }

    #[test]
    fn corrupt_or_truncated_input_is_refused_without_panicking() {
        let counts: Vec<u32> = (0..200u32).map(|i| (i * 7919) % 23 + i / 50).collect();
        let mut encoded = Vec::new();
        encode(&counts, -120, &mut encoded);
        for cut in 0..encoded.len() {
            assert!(!decode(&encoded[..cut], |_, _| ()), "truncated at {cut}");
        }
        let mut longer = encoded.clone();
        longer.push(0);
        assert!(!decode(&longer, |_, _| ()), "a trailing byte");
        // A run longer than the stream's bits, a key past i32, an escape of 63 bits.
        assert!(!decode(&[0, 0xff, 0x01, 0], |_, _| ()));
        assert!(!decode(&[0xfe, 0xff, 0xff, 0xff, 0x0f, 1, 0], |_, _| ()));
        assert!(!decode(&[0, 1, 0xff, 0xff, 0xff, 0x3f, 0xff], |_, _| ()));
        for byte in 0..=255u8 {
            let mut flipped = encoded.clone();
            flipped[encoded.len() / 2] ^= byte;
            decode(&flipped, |_, _| ());
        }
    }

    proptest::proptest! {
        /// Any run decodes to exactly its non-empty bins: small counts, huge ones,
        /// long runs of zeros, keys anywhere in `i32`.
        #[test]
        fn any_run_round_trips_exactly(
            counts in proptest::collection::vec(
                proptest::prop_oneof![
                    4 => 0u32..4,
                    4 => 0u32..40,
                    1 => 0u32..70_000,
                    1 => proptest::num::u32::ANY,
                ],
                0..600),
            first_key in proptest::num::i32::ANY,
        ) {
            let first_key = first_key.min(i32::MAX - counts.len() as i32);
            let (_, decoded) = round_trip(&counts, first_key);
            proptest::prop_assert_eq!(decoded, non_empty(&counts, first_key));
        }

        /// Arbitrary bytes never panic the decoder.
        #[test]
        fn arbitrary_bytes_do_not_panic(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..64)) {
            decode(&bytes, |_, _| ());
        }
    }
}
