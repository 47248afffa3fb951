//! What a headless command prints ([`out!`], [`outln!`]), and what happens when its reader stops early
//! (`hirl-scale eval | head`).
//!
//! A command that only prints ends at once, silently, by SIGPIPE, as other command-line tools do (Rust ignores the
//! signal, so `println!` panicked instead: "failed printing to stdout", exit 101). A command with files still to
//! write (`--json`, `--trace`, `--out`, a recording, a model: [`will_write_files`]) stops printing and goes on to
//! write them, then exits as it would have: `eval --json all.json | head` used to die at the first line past
//! `head`'s, and the minutes of runs the JSON was for were lost.
//!
//! Any other failure of stdout (a full disk behind `> file`) stops the printing too: the command finishes its work
//! and files, then says so on stderr and exits 2 ([`failure`]), where `println!` panicked with a backtrace.
//!
//! The window never prints here; it keeps Rust's default (a write to a closed stdout must not end it).

use std::io::Write;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};

/// Set when the command has files to write: a closed stdout then stops the printing, not the command.
static FILES_TO_WRITE: AtomicBool = AtomicBool::new(false);
/// Set once stdout is found closed: nothing more is printed.
static READER_GONE: AtomicBool = AtomicBool::new(false);
/// The first other error stdout gave: nothing more is printed either.
static FAILED: OnceLock<String> = OnceLock::new();

/// The command has files to write after what it prints: a reader that stops early must not end it.
pub fn will_write_files() {
    FILES_TO_WRITE.store(true, Ordering::Relaxed);
}

/// Writes `args` to stdout (see the module for a closed or failing stdout).
pub fn print(args: std::fmt::Arguments<'_>) {
    if READER_GONE.load(Ordering::Relaxed) || FAILED.get().is_some() {
        return;
    }
    let mut out = std::io::stdout().lock();
    match out.write_fmt(args) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => reader_gone(),
        Err(e) => {
            let _ = FAILED.set(e.to_string());
        }
    }
}

/// Why printing failed, for another reason than the reader leaving, if it did: the command's output is incomplete.
/// Asked once the command has done its work; stdout is flushed first, so an error its buffer still held shows here.
pub fn failure() -> Option<&'static str> {
    if FAILED.get().is_none()
        && !READER_GONE.load(Ordering::Relaxed)
        && let Err(e) = std::io::stdout().lock().flush()
        && e.kind() != std::io::ErrorKind::BrokenPipe
    {
        let _ = FAILED.set(e.to_string());
    }
    FAILED.get().map(String::as_str)
}

fn reader_gone() {
    READER_GONE.store(true, Ordering::Relaxed);
    if FILES_TO_WRITE.load(Ordering::Relaxed) {
        return;
    }
    #[cfg(unix)]
    // SAFETY: restores the signal's default disposition and raises it; no handler is installed, and the process
    // ends here.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
        libc::raise(libc::SIGPIPE);
    }
    // Where there is no SIGPIPE: the status a shell gives a command ended by it.
    std::process::exit(141);
}

/// `print!` for headless commands: see the module.
macro_rules! out {
    ($($arg:tt)*) => { $crate::cli::stdout::print(format_args!($($arg)*)) };
}

/// `println!` for headless commands: see the module.
macro_rules! outln {
    () => { $crate::cli::stdout::print(format_args!("\n")) };
    ($($arg:tt)*) => { $crate::cli::stdout::print(format_args!("{}\n", format_args!($($arg)*))) };
}

pub(crate) use {out, outln};
