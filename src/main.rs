fn main() {
    std::process::exit(casebook::cli::main());
}
