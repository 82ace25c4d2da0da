//! The workspace's secret key: 256 random bits in a hex file readable by its owner only.
//!
//! The key never enters the index or the catalog; the catalog keeps only a *key check value*
//! (a keyed hash of a fixed label), so that opening a workspace with the wrong key is refused.

use std::fmt;
use std::fs;
use std::io::{Read, Write};
use std::path::Path;

use crate::IndexError;

/// Largest key file read: a key is 64 hex digits and a newline; anything much longer is not a
/// key (and `/dev/zero` must not be read forever).
pub const MAX_KEY_FILE_BYTES: u64 = 4096;

/// Whether a key file readable by group or others is accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum KeyAccess {
    /// Refuse it (the default).
    #[default]
    OwnerOnly,
    /// Accept it, with a warning (`--allow-insecure-key`).
    AllowInsecure,
}

/// A key as loaded: the key, the file's permission bits (Unix) and the warning to show, if
/// the file was accepted although others can read it.
#[derive(Debug, Clone)]
pub struct KeyFile {
    pub key: Key,
    pub mode: Option<u32>,
    pub warning: Option<String>,
}

fn not_a_key(path: &Path) -> IndexError {
    IndexError::Key(format!(
        "{}: not a leaktrace key (expected 64 hex digits)",
        path.display()
    ))
}

/// The permission bits of an open file (`None` where there are none to check).
fn file_mode(f: &fs::File) -> std::io::Result<Option<u32>> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        Ok(Some(f.metadata()?.permissions().mode() & 0o7777))
    }
    #[cfg(not(unix))]
    {
        let _ = f;
        Ok(None)
    }
}

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

    /// Read a key file: 64 hex digits (white space ignored), at most [`MAX_KEY_FILE_BYTES`]
    /// read (a device or a huge file is refused at once). A key file readable or writable by
    /// group or others is refused ([`KeyAccess::OwnerOnly`]) or, with
    /// [`KeyAccess::AllowInsecure`], accepted with a warning in the returned [`KeyFile`].
    pub fn load_checked(path: &Path, access: KeyAccess) -> Result<KeyFile, IndexError> {
        let f = fs::File::open(path).map_err(|e| IndexError::io(path, e))?;
        let mode = file_mode(&f).map_err(|e| IndexError::io(path, e))?;
        let mut warning = None;
        if let Some(m) = mode.filter(|m| m & 0o077 != 0) {
            let problem = format!(
                "{}: the key file has mode {m:04o}: group or others can read or change it, and \
                 whoever reads it can test guesses of personal values against the index",
                path.display()
            );
            match access {
                KeyAccess::OwnerOnly => {
                    return Err(IndexError::Key(format!(
                        "{problem}; run `chmod 600 {}` (or pass --allow-insecure-key)",
                        path.display()
                    )))
                }
                KeyAccess::AllowInsecure => warning = Some(problem),
            }
        }
        let mut text = String::new();
        f.take(MAX_KEY_FILE_BYTES + 1)
            .read_to_string(&mut text)
            .map_err(|e| match e.kind() {
                std::io::ErrorKind::InvalidData => not_a_key(path),
                _ => IndexError::io(path, e),
            })?;
        if text.len() as u64 > MAX_KEY_FILE_BYTES {
            return Err(IndexError::Key(format!(
                "{}: not a leaktrace key (longer than {MAX_KEY_FILE_BYTES} bytes)",
                path.display()
            )));
        }
        let hex: String = text.chars().filter(|c| !c.is_whitespace()).collect();
        if hex.len() != 64 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(not_a_key(path));
        }
        let mut k = [0u8; 32];
        for (i, b) in k.iter_mut().enumerate() {
            *b = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).unwrap_or(0);
        }
        Ok(KeyFile {
            key: Key(k),
            mode,
            warning,
        })
    }

    /// [`Key::load_checked`] refusing a key file others can read.
    pub fn load(path: &Path) -> Result<Key, IndexError> {
        Key::load_checked(path, KeyAccess::OwnerOnly).map(|k| k.key)
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
