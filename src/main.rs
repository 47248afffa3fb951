//! `hirl-scale`: the command-line entry point. All logic lives in the library; errors are reported once, here.

use std::process::ExitCode;

fn main() -> ExitCode {
    // Before any other thread starts (see the module).
    hirl_scale::malloc_tuning::keep_freed_memory();
    // candle reads RAYON_NUM_THREADS on every matrix product. One thread is faster for our small networks on two
    // cores and makes training bit-for-bit repeatable; set it before any thread exists (hence here, at the top).
    if std::env::var_os("RAYON_NUM_THREADS").is_none() {
        // SAFETY: no other thread has been started yet, so nothing can read the environment concurrently.
        unsafe { std::env::set_var("RAYON_NUM_THREADS", "1") };
    }
    match hirl_scale::cli::main() {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}
