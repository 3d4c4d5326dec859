// Reads build and drop many small values (a parsed case, a JSON object per case); mimalloc
// serves those far faster than the system allocator (`list --json --all` at 100k cases:
// see README, Performance).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// mimalloc.h (mimalloc 3): `mi_option_purge_delay`, when freed memory is given back to the
/// system (-1: never).
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

fn main() {
    tune_memory();
    std::process::exit(casebook::cli::main());
}

/// Memory settings for a process that lives for milliseconds.
fn tune_memory() {
    // Giving freed memory back to the system (a madvise call per span, and a sweep of every
    // arena at exit, longer after a second thread) is work nobody gains from. A sealed
    // `open` spent about 0.4 ms on it.
    // SAFETY: sets one of mimalloc's options, which it keeps in an atomic.
    unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, -1) };
    no_huge_pages();
}

fn no_huge_pages() {
    // No transparent huge pages: the kernel zeroes a whole 2 MiB page the first time a
    // command touches any byte of it, though a command uses a few MB in all, spread over
    // many such pages. An `open` at 100k cases took 1.1 ms less without them, and a 100k
    // import spent half as long in the kernel. mimalloc is built never to ask for them
    // (`no_thp`): its first arena is reserved, and its first page touched, before `main`,
    // too early for any switch set here; a profile showed that one page costing a sealed
    // `open` 0.4 ms. The process-wide switch below is for systems that give huge pages
    // without being asked, and for the git processes casebook starts.
    #[cfg(target_os = "linux")]
    // SAFETY: sets a flag of this process; no memory is passed.
    unsafe {
        libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0);
    }
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

    #[cfg(target_os = "linux")]
    #[test]
    fn transparent_huge_pages_are_off_for_the_process() {
        super::no_huge_pages();
        // SAFETY: reads a flag of this process.
        let disabled = unsafe { libc::prctl(libc::PR_GET_THP_DISABLE, 0, 0, 0, 0) };
        assert_eq!(disabled, 1);
    }
}
