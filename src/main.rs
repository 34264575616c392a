//! `lookalike`: the command line over the library (see `lookalike --help`).

fn main() -> std::process::ExitCode {
    lookalike::cli::main()
}
