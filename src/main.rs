fn main() {
    std::process::exit(dermdesk::cli::main());
}
