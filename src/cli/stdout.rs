//! What a headless command prints ([`out!`], [`outln!`]), and what happens when its reader stops early
//! (`hirl-scale eval | head`).
//!
//! A command that only prints ends at once, silently, by SIGPIPE, as other command-line tools do (Rust ignores the
//! signal, so `println!` panicked instead: "failed printing to stdout", exit 101). A command with files still to
//! write (`--json`, `--trace`, `--out`, a recording, a model: [`will_write_files`]) stops printing and goes on to
//! write them, then exits as it would have: `eval --json all.json | head` used to die at the first line past
//! `head`'s, and the minutes of runs the JSON was for were lost.
//!
//! The window never prints here; it keeps Rust's default (a write to a closed stdout must not end it).

use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};

/// Set when the command has files to write: a closed stdout then stops the printing, not the command.
static FILES_TO_WRITE: AtomicBool = AtomicBool::new(false);
/// Set once stdout is found closed: nothing more is printed.
static READER_GONE: AtomicBool = AtomicBool::new(false);

/// The command has files to write after what it prints: a reader that stops early must not end it.
pub fn will_write_files() {
    FILES_TO_WRITE.store(true, Ordering::Relaxed);
}

/// Writes `args` to stdout (see the module for a closed stdout). Other errors of stdout (a full disk behind a
/// redirection) are reported as `println!` reports them, by a panic: they are not the reader leaving.
pub fn print(args: std::fmt::Arguments<'_>) {
    if READER_GONE.load(Ordering::Relaxed) {
        return;
    }
    let mut out = std::io::stdout().lock();
    match out.write_fmt(args) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => reader_gone(),
        Err(e) => panic!("failed printing to stdout: {e}"),
    }
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
