//! `lookalike`: the desktop app with no arguments, the command line with them
//! (`lookalike --help`).

fn main() -> std::process::ExitCode {
    #[cfg(feature = "gui")]
    if std::env::args_os().len() == 1 {
        return match lookalike::gui::run() {
            Ok(()) => std::process::ExitCode::SUCCESS,
            Err(error) => {
                eprintln!("lookalike: {error:#}");
                std::process::ExitCode::FAILURE
            }
        };
    }
    lookalike::cli::main()
}
