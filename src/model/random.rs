//! Random bytes from the operating system, drawn a few kilobytes at a time.
//!
//! An import of 100k cases makes a key, a dozen event IDs and a nonce for every sealed
//! value of every case; asking the kernel for each 24 bytes costs a system call apiece.
//! Every byte handed out is still the OS generator's own, handed out once and wiped from
//! the buffer, which is per thread and never copied (casebook never forks without exec).

use std::cell::RefCell;

const BUFFER: usize = 4096;

struct Pool {
    bytes: [u8; BUFFER],
    used: usize,
}

thread_local! {
    static POOL: RefCell<Pool> = const {
        RefCell::new(Pool {
            bytes: [0; BUFFER],
            used: BUFFER,
        })
    };
}

/// Fills `out` with random bytes from the operating system's generator.
pub fn fill(out: &mut [u8]) {
    // The OS generator failing is not something a user can cause or fix mid-command.
    const FAILED: &str = "the operating system's random generator is available";
    if out.len() > BUFFER / 4 {
        getrandom::fill(out).expect(FAILED);
        return;
    }
    POOL.with_borrow_mut(|pool| {
        if BUFFER - pool.used < out.len() {
            getrandom::fill(&mut pool.bytes).expect(FAILED);
            pool.used = 0;
        }
        let taken = &mut pool.bytes[pool.used..pool.used + out.len()];
        out.copy_from_slice(taken);
        taken.fill(0);
        pool.used += out.len();
    });
}

#[cfg(test)]
mod tests {
    #[test]
    fn no_bytes_are_handed_out_twice() {
        // 24-byte draws across several refills: all distinct (a repeat of 192 random bits
        // would mean a byte was reused).
        let mut seen = std::collections::HashSet::new();
        for _ in 0..2000 {
            let mut nonce = [0u8; 24];
            super::fill(&mut nonce);
            assert!(seen.insert(nonce), "a nonce came out twice");
        }
        let mut big = vec![0u8; 5000];
        super::fill(&mut big);
        assert!(big.iter().any(|&b| b != 0));
    }
}
