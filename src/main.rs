// Reads build and drop many small values (a parsed case, a JSON object per case); mimalloc
// serves those far faster than the system allocator (`list --json --all` at 100k cases:
// see README, Performance).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// mimalloc.h (mimalloc 3): `mi_option_purge_delay`, when freed memory is given back to the
/// system (-1: never).
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

fn main() {
    // A command lives for milliseconds: giving freed memory back to the system (a madvise
    // call per span, and a sweep of every arena at exit, longer after a second thread) is
    // work nobody gains from. A sealed `open` spent about 0.4 ms on it.
    // SAFETY: sets one of mimalloc's options, which it keeps in an atomic.
    unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, -1) };
    std::process::exit(casebook::cli::main());
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_purge_delay_option_is_the_one_mimalloc_documents() {
        // Its documented default, 1000 ms (another number: another option, or a newer
        // mimalloc whose header moved it). The environment may set it for a run.
        if std::env::var_os("MIMALLOC_PURGE_DELAY").is_some() {
            return;
        }
        // SAFETY: reads an option.
        let delay = unsafe { libmimalloc_sys::mi_option_get(super::MI_OPTION_PURGE_DELAY) };
        assert_eq!(delay, 1000);
    }
}
