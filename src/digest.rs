//! Stable 64-bit digests (FNV-1a) of files, model weights and simulation state, written as 16 hex digits.
//!
//! They detect accidents (a damaged recording, a retrained model, a simulator that no longer replays a run), not
//! attacks. Stable across platforms and builds: bytes in, the same digest out; values are fed in a fixed order.

use std::fmt::Write as _;

const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const PRIME: u64 = 0x0000_0100_0000_01b3;

/// An FNV-1a hasher that is also an [`std::io::Write`] sink (serialise straight into it, no buffer).
#[derive(Clone, Copy, Debug)]
pub struct Digest(u64);

impl Default for Digest {
    fn default() -> Self {
        Digest(OFFSET)
    }
}

impl Digest {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn bytes(&mut self, bytes: &[u8]) -> &mut Self {
        for b in bytes {
            self.0 ^= u64::from(*b);
            self.0 = self.0.wrapping_mul(PRIME);
        }
        self
    }

    pub fn f32s(&mut self, values: &[f32]) -> &mut Self {
        for v in values {
            self.bytes(&v.to_bits().to_le_bytes());
        }
        self
    }

    pub fn value(&self) -> u64 {
        self.0
    }

    /// The digest as 16 lowercase hex digits.
    pub fn hex(&self) -> String {
        let mut s = String::with_capacity(16);
        let _ = write!(s, "{:016x}", self.0);
        s
    }

    /// Digest of a value's JSON serialisation (floats written round-trip exactly).
    pub fn of_json<T: serde::Serialize + ?Sized>(value: &T) -> String {
        let mut d = Digest::new();
        // Writing into a hasher cannot fail; a value that cannot be serialised hashes what was written before it.
        let _ = serde_json::to_writer(&mut d, value);
        d.hex()
    }

    pub fn of_bytes(bytes: &[u8]) -> String {
        Digest::new().bytes(bytes).hex()
    }
}

impl std::io::Write for Digest {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.bytes(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_vectors_and_sensitivity() {
        // FNV-1a 64 reference values.
        assert_eq!(Digest::of_bytes(b""), "cbf29ce484222325");
        assert_eq!(Digest::of_bytes(b"a"), "af63dc4c8601ec8c");
        assert_ne!(Digest::of_bytes(b"ab"), Digest::of_bytes(b"ba"));
        assert_ne!(Digest::new().f32s(&[0.0]).hex(), Digest::new().f32s(&[-0.0]).hex(), "bit patterns, not values");
    }
}
