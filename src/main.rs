// Reads build and drop many small values (a parsed case, a JSON object per case); mimalloc
// serves those far faster than the system allocator (`list --json --all` at 100k cases:
// see README, Performance).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    std::process::exit(casebook::cli::main());
}
