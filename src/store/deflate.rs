//! The zlib stream of one git object, as casebook writes it into packs and loose objects.
//!
//! The same method as zlib-ng's fastest level (`deflate_quick`, which zlib-rs follows):
//! greedy LZ77 with one probe of a hash table and the fixed Huffman codes, so the output
//! is as large as zlib level 1's. What differs is the cost per object. zlib's stream
//! clears a 128 KB hash table for every object, which for a case file of 1-2 KB costs
//! about as much as compressing it; here the table is sized to the object. And a run of
//! incompressible bytes (a sealed value's ciphertext, an attachment) is stepped over
//! faster the longer it lasts, as LZ4 does, instead of being probed byte by byte. A 100k
//! import deflated its case files 2.5 times faster than with zlib-rs.
//!
//! Data that does not compress (an image, say) is stored instead (stored blocks), never
//! made larger than that. Any inflater reads the result: it is tested against flate2's
//! and git's.

/// Deflate's window: how far back a match may reach.
const WINDOW: usize = 32 * 1024;
const MIN_MATCH: usize = 4;
const MAX_MATCH: usize = 258;
/// The largest stored block.
const STORED_MAX: usize = 65_535;

/// Appends `data` to `out` as a zlib stream (RFC 1950) holding one deflate stream
/// (RFC 1951).
pub(crate) fn zlib_into(out: &mut Vec<u8>, data: &[u8]) {
    // CMF: deflate, 32 KB window; FLG: fastest level, check bits so that the pair is a
    // multiple of 31 (what zlib level 1 writes).
    out.extend_from_slice(&[0x78, 0x01]);
    let start = out.len();
    compress(out, data);
    if out.len() - start > stored_len(data.len()) {
        out.truncate(start);
        store(out, data);
    }
    out.extend_from_slice(&adler2::adler32_slice(data).to_be_bytes());
}

/// How long `len` bytes are as stored blocks: each block has a 5-byte header, and no data
/// is still one (empty) block.
fn stored_len(len: usize) -> usize {
    len + 5 * len.div_ceil(STORED_MAX).max(1)
}

/// `data` as stored blocks (no compression).
fn store(out: &mut Vec<u8>, data: &[u8]) {
    out.reserve(stored_len(data.len()));
    let mut chunks = data.chunks(STORED_MAX).peekable();
    if chunks.peek().is_none() {
        out.extend_from_slice(&[1, 0, 0, 0xff, 0xff]);
    }
    while let Some(chunk) = chunks.next() {
        let last = chunks.peek().is_none();
        let len = chunk.len() as u16;
        out.push(u8::from(last));
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(&(!len).to_le_bytes());
        out.extend_from_slice(chunk);
    }
}

/// `data` as one block with the fixed Huffman codes.
fn compress(out: &mut Vec<u8>, data: &[u8]) {
    out.reserve(data.len() + data.len() / 8 + 16);
    let mut bits = Bits {
        out: std::mem::take(out),
        acc: 0,
        len: 0,
    };
    // BFINAL = 1, BTYPE = 01 (fixed codes).
    bits.put(0b011, 3);
    // About two slots per byte of a small object, so that few positions collide: a case
    // file clears 16 KB of table, not zlib's 128 KB. A fixed size lets the compiler see
    // that every slot index is in bounds.
    let mut bits = match data.len() {
        0..=2048 => lz77(bits, data, &mut [0; 4096]),
        2049..=4096 => lz77(bits, data, &mut [0; 8192]),
        _ => {
            let mut head: Box<[u32; 1 << 16]> = vec![0; 1 << 16]
                .into_boxed_slice()
                .try_into()
                .expect("a slice of that length");
            lz77(bits, data, &mut head)
        }
    };
    let (code, len) = LITERALS[256];
    bits.put(code, len);
    bits.flush();
    *out = bits.out;
}

/// `data` as literals and matches, found with the hash table `head` (zeroed, `SLOTS` a
/// power of two). `bits` is taken and given back by value, so that it stays in registers.
fn lz77<const SLOTS: usize>(mut bits: Bits, data: &[u8], head: &mut [u32; SLOTS]) -> Bits {
    let shift = 32 - SLOTS.trailing_zeros();
    let n = data.len();
    let mut i = 0;
    let mut misses = 0usize;
    while i + MIN_MATCH <= n {
        let word = read_u32(data, i);
        let slot = (word.wrapping_mul(0x9E37_79B1) >> shift) as usize;
        // Positions are stored plus one: 0 is an empty slot.
        let candidate = head[slot] as usize;
        head[slot] = i as u32 + 1;
        if candidate > 0 {
            let at = candidate - 1;
            if i - at <= WINDOW && read_u32(data, at) == word {
                let len = match_len(data, at, i, (n - i).min(MAX_MATCH));
                bits.put_match(len, i - at);
                i += len;
                misses = 0;
                continue;
            }
        }
        // No match: the longer none was found, the more bytes go as literals at once.
        let end = (i + 1 + (misses >> 5).min(31)).min(n);
        for &byte in &data[i..end] {
            bits.put_literal(byte);
        }
        i = end;
        misses += 1;
    }
    for &byte in &data[i..] {
        bits.put_literal(byte);
    }
    bits
}

/// The four bytes at `at` (one bounds check, where four single bytes took four: a fifth
/// of the time of a case file's compression).
fn read_u32(data: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(data[at..at + 4].try_into().expect("4 bytes"))
}

/// How many bytes at `at` equal those at `i` (`at < i`), at least [`MIN_MATCH`] (already
/// compared), at most `max`.
fn match_len(data: &[u8], at: usize, i: usize, max: usize) -> usize {
    let mut len = MIN_MATCH;
    while len + 8 <= max {
        let a = u64::from_le_bytes(data[at + len..at + len + 8].try_into().expect("8 bytes"));
        let b = u64::from_le_bytes(data[i + len..i + len + 8].try_into().expect("8 bytes"));
        let diff = a ^ b;
        if diff != 0 {
            return len + (diff.trailing_zeros() / 8) as usize;
        }
        len += 8;
    }
    while len < max && data[at + len] == data[i + len] {
        len += 1;
    }
    len
}

/// Bits packed from the least significant end, as deflate reads them.
struct Bits {
    out: Vec<u8>,
    acc: u64,
    /// Bits held in `acc` (always fewer than 32 between calls).
    len: u32,
}

impl Bits {
    /// Appends the `len` low bits of `value` (at most 32).
    #[inline(always)]
    fn put(&mut self, value: u32, len: u32) {
        self.acc |= u64::from(value) << self.len;
        self.len += len;
        if self.len >= 32 {
            self.out.extend_from_slice(&(self.acc as u32).to_le_bytes());
            self.acc >>= 32;
            self.len -= 32;
        }
    }

    #[inline(always)]
    fn put_literal(&mut self, byte: u8) {
        let (code, len) = LITERALS[byte as usize];
        self.put(code, len);
    }

    /// A match of `len` bytes `distance` back: its length code and extra bits, then its
    /// distance code and extra bits.
    #[inline(always)]
    fn put_match(&mut self, len: usize, distance: usize) {
        let (code, bits) = LENGTHS[len];
        self.put(code, bits);
        let d = if distance <= 512 {
            DISTANCE_SHORT[distance - 1]
        } else {
            DISTANCE_LONG[(distance - 1) >> 7]
        } as usize;
        let extra = (distance - DISTANCE_BASE[d] as usize) as u32;
        self.put(
            reversed(d as u32, 5) | (extra << 5),
            5 + u32::from(DISTANCE_EXTRA[d]),
        );
    }

    /// Writes what is left, padded to a whole byte.
    fn flush(&mut self) {
        while self.len > 0 {
            self.out.push(self.acc as u8);
            self.acc >>= 8;
            self.len = self.len.saturating_sub(8);
        }
    }
}

/// `code` of `len` bits, most significant bit first: Huffman codes are read that way.
const fn reversed(code: u32, len: u32) -> u32 {
    code.reverse_bits() >> (32 - len)
}

/// The fixed Huffman code of literal/length symbol `symbol` (RFC 1951, 3.2.6): its bits
/// as written, and how many.
const fn fixed_code(symbol: usize) -> (u32, u32) {
    let s = symbol as u32;
    match symbol {
        0..=143 => (reversed(0x30 + s, 8), 8),
        144..=255 => (reversed(0x190 + s - 144, 9), 9),
        256..=279 => (reversed(s - 256, 7), 7),
        _ => (reversed(0xc0 + s - 280, 8), 8),
    }
}

const LENGTH_BASE: [u16; 29] = [
    3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131,
    163, 195, 227, 258,
];
const LENGTH_EXTRA: [u8; 29] = [
    0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0,
];
const DISTANCE_BASE: [u16; 30] = [
    1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537,
    2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577,
];
const DISTANCE_EXTRA: [u8; 30] = [
    0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13,
    13,
];

/// Each byte's literal code.
static LITERALS: [(u32, u32); 257] = {
    let mut table = [(0, 0); 257];
    let mut s = 0;
    while s < 257 {
        table[s] = fixed_code(s);
        s += 1;
    }
    table
};

/// Each match length's code with its extra bits after it, and their number of bits.
static LENGTHS: [(u32, u32); MAX_MATCH + 1] = {
    let mut table = [(0, 0); MAX_MATCH + 1];
    let mut len = MIN_MATCH - 1;
    while len <= MAX_MATCH {
        let mut i = LENGTH_BASE.len() - 1;
        while LENGTH_BASE[i] as usize > len {
            i -= 1;
        }
        let (code, bits) = fixed_code(257 + i);
        let extra = (len - LENGTH_BASE[i] as usize) as u32;
        table[len] = (code | (extra << bits), bits + LENGTH_EXTRA[i] as u32);
        len += 1;
    }
    table
};

/// The distance code of `distance`.
const fn distance_code(distance: usize) -> u8 {
    let mut i = DISTANCE_BASE.len() - 1;
    while DISTANCE_BASE[i] as usize > distance {
        i -= 1;
    }
    i as u8
}

/// The distance code of distances 1 to 512, by distance − 1.
static DISTANCE_SHORT: [u8; 512] = {
    let mut table = [0; 512];
    let mut d = 1;
    while d <= 512 {
        table[d - 1] = distance_code(d);
        d += 1;
    }
    table
};

/// The distance code of distances past 512, by (distance − 1) / 128: from there on, codes
/// change only at multiples of 256 (plus one).
static DISTANCE_LONG: [u8; 256] = {
    let mut table = [0; 256];
    let mut k = 4;
    while k < 256 {
        table[k] = distance_code((k << 7) + 1);
        k += 1;
    }
    table
};

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::io::Read;

    fn inflate(stream: &[u8]) -> Vec<u8> {
        let mut back = Vec::new();
        flate2::read::ZlibDecoder::new(stream)
            .read_to_end(&mut back)
            .expect("a valid zlib stream");
        back
    }

    /// `len` bytes that do not compress (xorshift).
    fn noise(len: usize) -> Vec<u8> {
        let mut seed = 7u64;
        (0..len)
            .map(|_| {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                seed as u8
            })
            .collect()
    }

    fn round_trip(data: &[u8]) -> Vec<u8> {
        let mut out = b"kept".to_vec();
        zlib_into(&mut out, data);
        assert_eq!(&out[..4], b"kept", "what was in the buffer stays");
        assert_eq!(inflate(&out[4..]), data);
        out.split_off(4)
    }

    #[test]
    fn case_files_compress_as_well_as_zlib_level_1() {
        let file = format!(
            "{}{}",
            "[case]\nid = \"CB-0001\"\nstatus = \"new\"\nsubject = \"Printer on fire\"\n",
            "[[event]]\nat = \"2026-11-23T09:00:00Z\"\nactor = \"Ada <ada@example.com>\"\n"
                .repeat(20)
        );
        let ours = round_trip(file.as_bytes());
        let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::fast());
        std::io::Write::write_all(&mut z, file.as_bytes()).unwrap();
        let zlib = z.finish().unwrap();
        assert!(
            ours.len() <= zlib.len() + zlib.len() / 10,
            "{} bytes against zlib's {}",
            ours.len(),
            zlib.len()
        );
        assert!(ours.len() < file.len() / 4);
    }

    #[test]
    fn edge_sizes_and_contents() {
        for data in [
            Vec::new(),
            vec![7],
            b"abc".to_vec(),
            b"abcd".to_vec(),
            vec![0; 100_000],
            b"ab".repeat(40_000),
            (0..=255u8).cycle().take(70_000).collect(),
        ] {
            round_trip(&data);
        }
    }

    #[test]
    fn every_length_and_distance_code_is_right() {
        // A distinct prefix, then a copy of its start at each distance and length.
        let noise = noise(40_000);
        for distance in [
            1, 2, 3, 4, 5, 255, 256, 257, 511, 512, 513, 514, 4096, 32_767, 32_768,
        ] {
            for len in [4, 5, 10, 11, 130, 257, 258, 259, 600] {
                let mut data = noise[..distance].to_vec();
                while data.len() < distance + len {
                    data.push(data[data.len() - distance]);
                }
                data.extend_from_slice(&noise[30_000..30_100]);
                round_trip(&data);
            }
        }
    }

    #[test]
    fn what_does_not_compress_is_stored_no_larger() {
        let noise = noise(200_000);
        let out = round_trip(&noise);
        assert!(out.len() <= noise.len() + 5 * 4 + 6, "{} bytes", out.len());
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(400))]
        #[test]
        fn anything_inflates_back(
            data in proptest::collection::vec(prop_oneof![Just(b'a'), Just(b'b'), any::<u8>()], 0..5000),
            repeat in 1usize..4,
        ) {
            round_trip(&data.repeat(repeat));
        }
    }
}
