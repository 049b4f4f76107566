fn main() {
    std::process::exit(verskew::cli::run());
}
