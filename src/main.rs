//! `hirl-scale`: the command-line entry point. All logic lives in the library; errors are reported once, here.

use std::process::ExitCode;

fn main() -> ExitCode {
    match hirl_scale::cli::main() {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}
