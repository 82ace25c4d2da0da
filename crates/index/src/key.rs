//! The workspace's secret key: 256 random bits in a hex file readable by its owner only.
//!
//! The key never enters the index or the catalog; the catalog keeps only a *key check value*
//! (a keyed hash of a fixed label), so that opening a workspace with the wrong key is refused.

use std::fmt;
use std::fs;
use std::io::Write;
use std::path::Path;

use crate::IndexError;

/// A 256-bit secret key.
#[derive(Clone)]
pub struct Key([u8; 32]);

impl fmt::Debug for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Key(…)")
    }
}

impl Key {
    /// A fresh random key from the operating system.
    pub fn generate() -> Result<Key, IndexError> {
        let mut k = [0u8; 32];
        getrandom::fill(&mut k).map_err(|e| IndexError::Key(format!("no randomness: {e}")))?;
        Ok(Key(k))
    }

    /// A key from its 32 bytes (tests, benchmarks).
    pub fn from_bytes(bytes: [u8; 32]) -> Key {
        Key(bytes)
    }

    /// The raw key bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// Read a key file: 64 hex digits (white space ignored).
    pub fn load(path: &Path) -> Result<Key, IndexError> {
        let text = fs::read_to_string(path).map_err(|e| IndexError::io(path, e))?;
        let hex: String = text.chars().filter(|c| !c.is_whitespace()).collect();
        if hex.len() != 64 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(IndexError::Key(format!(
                "{}: not a leaktrace key (expected 64 hex digits)",
                path.display()
            )));
        }
        let mut k = [0u8; 32];
        for (i, b) in k.iter_mut().enumerate() {
            *b = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).unwrap_or(0);
        }
        Ok(Key(k))
    }

    /// Write the key to a new file with mode 0600; refuses to overwrite an existing file.
    pub fn save_new(&self, path: &Path) -> Result<(), IndexError> {
        let mut opts = fs::OpenOptions::new();
        opts.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o600);
        }
        let mut f = opts.open(path).map_err(|e| {
            if e.kind() == std::io::ErrorKind::AlreadyExists {
                IndexError::Key(format!(
                    "{}: a key file already exists; leaktrace never overwrites a key",
                    path.display()
                ))
            } else {
                IndexError::io(path, e)
            }
        })?;
        let hex: String = self.0.iter().map(|b| format!("{b:02x}")).collect();
        f.write_all(format!("{hex}\n").as_bytes())
            .and_then(|_| f.sync_all())
            .map_err(|e| IndexError::io(path, e))
    }

    /// The key check value stored in the catalog: a keyed hash of a fixed label, in hex.
    pub fn check_value(&self) -> String {
        let h = blake3::keyed_hash(&self.0, b"leaktrace key check value v1");
        h.to_hex()[..32].to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn save_load_and_refuse_overwrite() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("k");
        let k = Key::generate().unwrap();
        k.save_new(&p).unwrap();
        assert_eq!(Key::load(&p).unwrap().as_bytes(), k.as_bytes());
        assert!(Key::generate().unwrap().save_new(&p).is_err());
        assert_eq!(Key::load(&p).unwrap().check_value(), k.check_value());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(&p).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600);
        }
        fs::write(dir.path().join("bad"), "xyz").unwrap();
        assert!(Key::load(&dir.path().join("bad")).is_err());
        assert_ne!(Key::generate().unwrap().check_value(), k.check_value());
    }
}
