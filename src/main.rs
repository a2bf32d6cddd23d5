//! The `tropescan` binary: all the work is in the library; this only dispatches.

fn main() -> std::process::ExitCode {
    tropescan::cli::run()
}
