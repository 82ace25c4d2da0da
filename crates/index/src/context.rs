//! The encrypted context attribute of a segment (`context.bin`).
//!
//! Besides fingerprints, enrolment keeps one *non-identifying context attribute* per person: the
//! month (`YYYY-MM`) of the first column typed `date` (a registration date in a registry), so that
//! a report can count affected persons by registration month. A month of registration is not an
//! identifier, but it is still personal data: it is stored encrypted, never in plaintext.
//!
//! Layout (see docs/index-format.md):
//!
//! ```text
//! magic "LTCTX\x01\0\0" (8) ‖ nonce (16, random per file) ‖ ciphertext (2 × persons) ‖ tag (32)
//! ```
//!
//! The plaintext is one little-endian u16 per person ordinal: the month number
//! `year × 12 + month` ([`month_number`]), 0 when the person has no value. The
//! ciphertext is the plaintext XOR the BLAKE3 XOF of `nonce` keyed with
//! `derive_key("leaktrace context v1 keystream", key)`; the tag is
//! `BLAKE3-keyed(derive_key("leaktrace context v1 tag", key), magic ‖ nonce ‖ ciphertext)`,
//! checked in constant time before anything is decrypted, so that an altered file or a wrong key
//! is an error.

use std::fmt;

use leaktrace_pii::date::Ymd;

use crate::{IndexError, Key};

/// Name of the context file in a segment directory.
pub const CONTEXT_FILE: &str = "context.bin";
const MAGIC: &[u8; 8] = b"LTCTX\x01\0\0";
const NONCE: usize = 16;
const TAG: usize = 32;
/// Bytes of a context file besides the per-person values.
pub const CONTEXT_OVERHEAD: usize = MAGIC.len() + NONCE + TAG;
/// Bytes of keystream (and of tagged data) one thread handles at a time.
const STRETCH: usize = 1 << 20;

/// The keys of a segment's sealed files, derived from the workspace key (never stored): the
/// context attribute (`context.bin`), the person ids (`ids.bin`, see [`IDS_MAGIC`]) and the
/// keyed hash of the id table (`ids.hash`).
#[derive(Clone)]
pub struct ContextKey {
    context: Scheme,
    ids: Scheme,
    /// SipHash-2-4 keys of [`ContextKey::id_hash`].
    id_hash: (u64, u64),
}

/// One sealed-file scheme: its magic, keystream key and tag key.
#[derive(Clone)]
struct Scheme {
    magic: &'static [u8; 8],
    stream: [u8; 32],
    tag: [u8; 32],
}

/// Magic of a sealed `ids.bin` (the ids concatenated, encrypted and authenticated like
/// `context.bin`, under their own derived keys).
pub const IDS_MAGIC: &[u8; 8] = b"LTIDS\x01\0\0";

impl fmt::Debug for ContextKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ContextKey(…)")
    }
}

impl Scheme {
    fn xor_keystream(&self, nonce: &[u8], data: &mut [u8]) {
        use rayon::prelude::*;
        let xof = blake3::Hasher::new_keyed(&self.stream)
            .update(nonce)
            .finalize_xof();
        // Stretches of the keystream in parallel, each from its own offset (the same bytes as
        // one sequential pass).
        data.par_chunks_mut(STRETCH)
            .enumerate()
            .for_each(|(i, stretch)| {
                let mut xof = xof.clone();
                xof.set_position((i * STRETCH) as u64);
                let mut block = [0u8; 4096];
                for chunk in stretch.chunks_mut(block.len()) {
                    let ks = &mut block[..chunk.len()];
                    xof.fill(ks);
                    for (b, k) in chunk.iter_mut().zip(ks.iter()) {
                        *b ^= k;
                    }
                }
            });
    }

    fn tag_of(&self, authenticated: &[u8]) -> blake3::Hash {
        let mut h = blake3::Hasher::new_keyed(&self.tag);
        if authenticated.len() >= STRETCH {
            h.update_rayon(authenticated);
        } else {
            h.update(authenticated);
        }
        h.finalize()
    }

    fn seal(&self, nonce: &[u8; NONCE], plain: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(CONTEXT_OVERHEAD + plain.len());
        out.extend_from_slice(self.magic);
        out.extend_from_slice(nonce);
        let start = out.len();
        out.extend_from_slice(plain);
        self.xor_keystream(nonce, &mut out[start..]);
        let tag = self.tag_of(&out);
        out.extend_from_slice(tag.as_bytes());
        out
    }

    /// Check the header and tag, then decrypt (sizes are checked by the caller).
    fn open(&self, name: &str, bytes: &[u8]) -> Result<Vec<u8>, IndexError> {
        if bytes.len() < CONTEXT_OVERHEAD {
            return Err(IndexError::Corrupt(format!(
                "{name}: {} bytes, shorter than its header (the file was truncated)",
                bytes.len()
            )));
        }
        if &bytes[..MAGIC.len()] != self.magic {
            return Err(IndexError::Corrupt(format!(
                "{name}: not a leaktrace sealed file of this kind (unknown header)"
            )));
        }
        let (body, tag) = bytes.split_at(bytes.len() - TAG);
        let mut given = [0u8; TAG];
        given.copy_from_slice(tag);
        // `blake3::Hash` compares in constant time.
        if self.tag_of(body) != blake3::Hash::from(given) {
            return Err(IndexError::Corrupt(format!(
                "{name}: authentication failed (wrong key, or the file was altered)"
            )));
        }
        let nonce = &body[MAGIC.len()..MAGIC.len() + NONCE];
        let mut plain = body[MAGIC.len() + NONCE..].to_vec();
        self.xor_keystream(nonce, &mut plain);
        Ok(plain)
    }
}

fn fresh_nonce() -> Result<[u8; NONCE], IndexError> {
    let mut nonce = [0u8; NONCE];
    getrandom::fill(&mut nonce).map_err(|e| IndexError::Key(format!("no randomness: {e}")))?;
    Ok(nonce)
}

impl ContextKey {
    /// Derive the keystream, tag and id-hash keys from the workspace key.
    pub fn new(key: &Key) -> ContextKey {
        let k = key.as_bytes();
        let h = blake3::derive_key("leaktrace ids v1 table hash", k);
        let word = |i: usize| {
            let mut w = [0u8; 8];
            w.copy_from_slice(&h[8 * i..8 * i + 8]);
            u64::from_le_bytes(w)
        };
        ContextKey {
            context: Scheme {
                magic: MAGIC,
                stream: blake3::derive_key("leaktrace context v1 keystream", k),
                tag: blake3::derive_key("leaktrace context v1 tag", k),
            },
            ids: Scheme {
                magic: IDS_MAGIC,
                stream: blake3::derive_key("leaktrace ids v1 keystream", k),
                tag: blake3::derive_key("leaktrace ids v1 tag", k),
            },
            id_hash: (word(0), word(1)),
        }
    }

    /// Encrypt one month number per person ordinal with a fresh random nonce.
    pub fn seal(&self, months: &[u16]) -> Result<Vec<u8>, IndexError> {
        Ok(self.seal_with_nonce(&fresh_nonce()?, months))
    }

    fn seal_with_nonce(&self, nonce: &[u8; NONCE], months: &[u16]) -> Vec<u8> {
        let plain: Vec<u8> = months.iter().flat_map(|m| m.to_le_bytes()).collect();
        self.context.seal(nonce, &plain)
    }

    /// Check the tag and decrypt a context file of `persons` persons. `name` names the file in
    /// errors. A wrong key, an altered byte or a wrong size is an error, never a panic.
    pub fn open(&self, name: &str, bytes: &[u8], persons: usize) -> Result<Vec<u16>, IndexError> {
        let expected = persons
            .checked_mul(2)
            .and_then(|n| n.checked_add(CONTEXT_OVERHEAD));
        if expected != Some(bytes.len()) {
            return Err(IndexError::Corrupt(format!(
                "{name}: {} bytes for {persons} persons (the file was truncated or altered)",
                bytes.len()
            )));
        }
        let plain = self.context.open(name, bytes)?;
        Ok(plain
            .chunks_exact(2)
            .map(|c| u16::from_le_bytes([c[0], c[1]]))
            .collect())
    }

    /// Encrypt the concatenated person ids of a segment (`ids.bin`) with a fresh nonce.
    pub fn seal_ids(&self, ids: &[u8]) -> Result<Vec<u8>, IndexError> {
        Ok(self.ids.seal(&fresh_nonce()?, ids))
    }

    /// Check the tag of a sealed `ids.bin` and decrypt it. `name` names the file in errors.
    pub fn open_ids(&self, name: &str, bytes: &[u8]) -> Result<Vec<u8>, IndexError> {
        self.ids.open(name, bytes)
    }

    /// The keyed hash of a person id used by the id table (`ids.hash`): SipHash-2-4 under a
    /// key derived from the workspace key, so that the table's tags do not let anyone without
    /// the key test a guessed id.
    pub fn id_hash(&self, id: &[u8]) -> u64 {
        use std::hash::Hasher;
        // SipHash-2-4 is the keyed PRF this needs; std keeps it (deprecated only as a
        // `Hasher` for general use, in favour of `DefaultHasher` whose algorithm may change —
        // the table on disk needs a fixed one).
        #[allow(deprecated)]
        let mut h = std::hash::SipHasher::new_with_keys(self.id_hash.0, self.id_hash.1);
        h.write(id);
        h.finish()
    }
}

/// The month number of a date: `year × 12 + month` (so that consecutive months are consecutive
/// numbers; 0 means none).
pub fn month_number(d: Ymd) -> u16 {
    let n = i64::from(d.year) * 12 + i64::from(d.month.clamp(1, 12));
    u16::try_from(n).unwrap_or(0)
}

/// `YYYY-MM` of a month number; `None` for 0.
pub fn month_label(n: u16) -> Option<String> {
    if n == 0 {
        return None;
    }
    let m = u32::from(n) - 1;
    Some(format!("{:04}-{:02}", m / 12, m % 12 + 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(b: u8) -> ContextKey {
        ContextKey::new(&Key::from_bytes([b; 32]))
    }

    #[test]
    fn months_round_trip() {
        let d = Ymd {
            year: 2023,
            month: 4,
            day: 17,
        };
        assert_eq!(month_label(month_number(d)).as_deref(), Some("2023-04"));
        assert_eq!(month_label(0), None);
        let jan = month_number(Ymd {
            year: 2024,
            month: 1,
            day: 1,
        });
        let dec = month_number(Ymd {
            year: 2023,
            month: 12,
            day: 31,
        });
        assert_eq!(jan, dec + 1);
        assert_eq!(month_label(jan).as_deref(), Some("2024-01"));
    }

    #[test]
    fn seal_open_round_trip_and_hides_values() {
        let k = key(1);
        let months: Vec<u16> = (0..5000u16)
            .map(|i| if i % 7 == 0 { 0 } else { 24_000 + i % 90 })
            .collect();
        let sealed = k.seal(&months).unwrap();
        assert_eq!(sealed.len(), CONTEXT_OVERHEAD + 2 * months.len());
        assert_eq!(k.open("t", &sealed, months.len()).unwrap(), months);
        // No plaintext value pair visible in the ciphertext.
        let plain: Vec<u8> = months.iter().flat_map(|m| m.to_le_bytes()).collect();
        assert_ne!(&sealed[24..24 + plain.len()], &plain[..]);
        // Two seals of the same values differ (random nonce) and both open.
        let again = k.seal(&months).unwrap();
        assert_ne!(sealed, again);
        assert_eq!(k.open("t", &again, months.len()).unwrap(), months);
        // Empty segment.
        let empty = k.seal(&[]).unwrap();
        assert_eq!(k.open("t", &empty, 0).unwrap(), Vec::<u16>::new());
    }

    #[test]
    fn tampering_and_wrong_keys_are_errors() {
        let k = key(2);
        let months = vec![24_300u16; 100];
        let sealed = k.seal(&months).unwrap();
        for i in [0, 9, 30, sealed.len() / 2, sealed.len() - 1] {
            let mut bad = sealed.clone();
            bad[i] ^= 0x01;
            let e = k.open("t", &bad, months.len()).unwrap_err();
            assert!(matches!(e, IndexError::Corrupt(_)), "byte {i}: {e}");
        }
        let e = key(3).open("t", &sealed, months.len()).unwrap_err();
        assert!(e.to_string().contains("authentication failed"), "{e}");
        assert!(k
            .open("t", &sealed[..sealed.len() - 1], months.len())
            .is_err());
        assert!(k.open("t", &sealed, months.len() + 1).is_err());
        assert!(k.open("t", &[], 0).is_err());
        assert!(k.open("t", &sealed, usize::MAX).is_err());
    }

    #[test]
    fn fixed_nonce_is_deterministic() {
        let k = key(4);
        let n = [7u8; NONCE];
        assert_eq!(
            k.seal_with_nonce(&n, &[1, 2, 3]),
            k.seal_with_nonce(&n, &[1, 2, 3])
        );
        assert_ne!(
            k.seal_with_nonce(&n, &[1, 2, 3]),
            key(5).seal_with_nonce(&n, &[1, 2, 3])
        );
    }

    #[test]
    fn parallel_stretches_equal_one_sequential_pass() {
        let k = key(6);
        let n = [9u8; NONCE];
        // Over three stretches and a ragged end.
        let plain: Vec<u8> = (0..3 * STRETCH + 4321)
            .map(|i| (i * 31 % 251) as u8)
            .collect();
        let mut par = plain.clone();
        k.context.xor_keystream(&n, &mut par);
        let mut ks = vec![0u8; plain.len()];
        blake3::Hasher::new_keyed(&k.context.stream)
            .update(&n)
            .finalize_xof()
            .fill(&mut ks);
        let seq: Vec<u8> = plain.iter().zip(&ks).map(|(a, b)| a ^ b).collect();
        assert!(par == seq, "keystream differs from the sequential one");
        let tag = blake3::Hasher::new_keyed(&k.context.tag)
            .update(&plain)
            .finalize();
        assert_eq!(k.context.tag_of(&plain), tag);
    }
}
