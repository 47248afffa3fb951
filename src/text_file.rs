//! Reading a text file a user gives us (a scenario, a recording) with its failures said in the file's own terms:
//! one past a size cap is refused before it is read into memory (`/dev/zero` given as a recording read until the
//! memory ran out), and bytes that are not UTF-8 are located by line and column, as a syntax error is.

use std::io::Read;
use std::path::Path;

/// Why a text file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ReadTextError {
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("larger than {max_mib} MiB, the most this file may be")]
    TooLarge { max_mib: u64 },
    #[error("{line}:{col}: not UTF-8 text (byte {offset})")]
    NotUtf8 { line: usize, col: usize, offset: usize },
}

/// Reads at most `max_bytes` of `path` (a model's weights, which are not text, go through here too).
pub fn read_bytes(path: &Path, max_bytes: u64) -> Result<Vec<u8>, ReadTextError> {
    let mut bytes = Vec::new();
    // One byte more than allowed tells "at the cap" from "over it" without trusting the file's reported length
    // (a device or a pipe reports none).
    std::fs::File::open(path)?.take(max_bytes.saturating_add(1)).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > max_bytes {
        return Err(ReadTextError::TooLarge { max_mib: max_bytes / (1024 * 1024) });
    }
    Ok(bytes)
}

/// Reads `path` as UTF-8 text of at most `max_bytes`.
pub fn read_text(path: &Path, max_bytes: u64) -> Result<String, ReadTextError> {
    String::from_utf8(read_bytes(path, max_bytes)?).map_err(|e| {
        let offset = e.utf8_error().valid_up_to();
        let before = &e.as_bytes()[..offset];
        let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
        let line_start = before.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
        // Columns count characters, as the RON parser's do; the prefix is valid UTF-8 by construction.
        let col = std::str::from_utf8(&before[line_start..]).map_or(offset - line_start, |s| s.chars().count()) + 1;
        ReadTextError::NotUtf8 { line, col, offset }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file_with(name: &str, bytes: &[u8]) -> std::path::PathBuf {
        let path = std::env::temp_dir().join(format!("hirl-text-file-{name}-{}", std::process::id()));
        std::fs::write(&path, bytes).expect("write");
        path
    }

    #[test]
    fn text_is_read_up_to_its_cap_and_refused_past_it() {
        let path = file_with("cap", b"(a: 1)\n");
        assert_eq!(read_text(&path, 7).expect("at the cap"), "(a: 1)\n");
        assert!(matches!(read_text(&path, 6), Err(ReadTextError::TooLarge { .. })));
        let _ = std::fs::remove_file(path);
    }

    #[cfg(unix)]
    #[test]
    fn an_endless_device_is_refused_at_the_cap_instead_of_filling_the_memory() {
        let e = read_text(Path::new("/dev/zero"), 1 << 20).expect_err("endless");
        assert_eq!(e.to_string(), "larger than 1 MiB, the most this file may be");
    }

    #[test]
    fn bytes_that_are_not_utf8_are_located_by_line_and_column() {
        let path = file_with("utf8", b"(\n  name: \"\xc3\xa9t\xff\",\n)");
        let e = read_text(&path, 1 << 20).expect_err("not UTF-8");
        // Line 2, after two spaces, `name: "`, and the two-byte é: the 11th character.
        assert_eq!(e.to_string(), "2:12: not UTF-8 text (byte 14)");
        let _ = std::fs::remove_file(path);
    }
}
