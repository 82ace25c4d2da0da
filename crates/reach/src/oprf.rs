//! The OPRF mode (RFC 9497, OPRF mode, Ristretto255-SHA512, the `voprf` crate).
//!
//! The client blinds the [`Facts::oprf_input`] of its two facts, the server evaluates the
//! blinded element under a key derived from the workspace key ([`OPRF_KEY_CONTEXT`]), and the
//! client unblinds it into a 64-byte output that only the key holder could have computed. The
//! output names a bucket ([`prefix`]) and, inside it, an entry: a tag, a MAC and the answer
//! encrypted under a key derived from the output ([`seal`] / [`open_entry`]). Without the
//! server's evaluation a bucket file gives nothing: every tag and key is a function of the
//! output, and the output of the server's key.
//!
//! [`Facts::oprf_input`]: crate::check::Facts::oprf_input

use voprf::{BlindedElement, EvaluationElement, OprfClient, OprfServer, Ristretto255};

use crate::ReachError;

/// BLAKE3 derive-key context of the OPRF seed (distinct from every other use of the key).
pub const OPRF_KEY_CONTEXT: &str = "leaktrace 2026-12 selfcheck oprf seed v1";
/// RFC 9497 DeriveKeyPair `info`.
const OPRF_INFO: &[u8] = b"leaktrace-selfcheck-oprf";
/// BLAKE3 derive-key contexts of an entry's tag, MAC key and keystream key.
const TAG_CONTEXT: &str = "leaktrace 2026-12 selfcheck entry tag v1";
const MAC_CONTEXT: &str = "leaktrace 2026-12 selfcheck entry mac v1";
const ENC_CONTEXT: &str = "leaktrace 2026-12 selfcheck entry enc v1";

/// Bytes of an entry's tag and of its MAC.
pub const TAG_BYTES: usize = 16;
/// Bytes of a serialised blinded or evaluated element (a compressed Ristretto point).
pub const ELEMENT_BYTES: usize = 32;

/// The server's OPRF key.
pub struct OprfKey(OprfServer<Ristretto255>);

impl std::fmt::Debug for OprfKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("OprfKey(…)")
    }
}

impl OprfKey {
    /// The key derived from a 32-byte seed (`Workspace::derive_key(OPRF_KEY_CONTEXT)`).
    pub fn from_seed(seed: &[u8; 32]) -> Result<OprfKey, ReachError> {
        OprfServer::new_from_seed(seed, OPRF_INFO)
            .map(OprfKey)
            .map_err(|e| ReachError::Oprf(e.to_string()))
    }

    /// The OPRF output of `input` computed directly (export: the key holder's side).
    pub fn evaluate(&self, input: &[u8]) -> Result<[u8; 64], ReachError> {
        let out = self
            .0
            .evaluate(input)
            .map_err(|e| ReachError::Oprf(e.to_string()))?;
        Ok(to64(&out))
    }

    /// Evaluate a serialised blinded element; `None` for bytes that are not one.
    pub fn blind_evaluate(&self, blinded: &[u8]) -> Option<[u8; ELEMENT_BYTES]> {
        let b = BlindedElement::<Ristretto255>::deserialize(blinded).ok()?;
        let e = self.0.blind_evaluate(&b).serialize();
        let mut out = [0u8; ELEMENT_BYTES];
        out.copy_from_slice(&e);
        Some(out)
    }
}

/// The client's state between blinding and unblinding.
pub struct Blinded {
    state: OprfClient<Ristretto255>,
    /// The serialised blinded element to send.
    pub message: [u8; ELEMENT_BYTES],
}

/// Blind `input` with a fresh random scalar.
pub fn blind(input: &[u8]) -> Result<Blinded, ReachError> {
    let r = OprfClient::<Ristretto255>::blind(input, &mut rand_core::OsRng)
        .map_err(|e| ReachError::Oprf(e.to_string()))?;
    let mut message = [0u8; ELEMENT_BYTES];
    message.copy_from_slice(&r.message.serialize());
    Ok(Blinded {
        state: r.state,
        message,
    })
}

impl Blinded {
    /// Unblind the server's evaluation into the OPRF output.
    pub fn finalize(&self, input: &[u8], evaluated: &[u8]) -> Result<[u8; 64], ReachError> {
        let e = EvaluationElement::<Ristretto255>::deserialize(evaluated)
            .map_err(|e| ReachError::Oprf(format!("evaluated element: {e}")))?;
        let out = self
            .state
            .finalize(input, &e)
            .map_err(|e| ReachError::Oprf(e.to_string()))?;
        Ok(to64(&out))
    }
}

fn to64(b: &[u8]) -> [u8; 64] {
    let mut o = [0u8; 64];
    o.copy_from_slice(&b[..64]);
    o
}

/// The bucket of an output: its first `digits` hex digits.
pub fn prefix(output: &[u8; 64], digits: usize) -> String {
    let hex: String = output[..digits.div_ceil(2)]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    hex[..digits].to_string()
}

/// An entry: tag ‖ MAC ‖ ciphertext of `plain` (whose length is the bucket's fixed length).
pub fn seal(output: &[u8; 64], plain: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(2 * TAG_BYTES + plain.len());
    out.extend_from_slice(&tag(output));
    let mut ct = plain.to_vec();
    keystream_xor(output, &mut ct);
    out.extend_from_slice(&mac(output, &ct));
    out.extend_from_slice(&ct);
    out
}

/// Find `output`'s entry among `bucket`'s entries of `entry_bytes` each and decrypt it;
/// `None` when no entry has its tag or its MAC is wrong.
pub fn open_entry(output: &[u8; 64], bucket: &[u8], entry_bytes: usize) -> Option<Vec<u8>> {
    if entry_bytes <= 2 * TAG_BYTES {
        return None;
    }
    let t = tag(output);
    let e = bucket
        .chunks_exact(entry_bytes)
        .find(|e| e[..TAG_BYTES] == t)?;
    let ct = &e[2 * TAG_BYTES..];
    if mac(output, ct) != e[TAG_BYTES..2 * TAG_BYTES] {
        return None;
    }
    let mut plain = ct.to_vec();
    keystream_xor(output, &mut plain);
    Some(plain)
}

fn tag(output: &[u8; 64]) -> [u8; TAG_BYTES] {
    let k = blake3::derive_key(TAG_CONTEXT, output);
    let mut t = [0u8; TAG_BYTES];
    t.copy_from_slice(&k[..TAG_BYTES]);
    t
}

fn mac(output: &[u8; 64], ct: &[u8]) -> [u8; TAG_BYTES] {
    let k = blake3::derive_key(MAC_CONTEXT, output);
    let mut t = [0u8; TAG_BYTES];
    t.copy_from_slice(&blake3::keyed_hash(&k, ct).as_bytes()[..TAG_BYTES]);
    t
}

/// XOR with BLAKE3's keyed XOF under a key used for this one entry only.
fn keystream_xor(output: &[u8; 64], buf: &mut [u8]) {
    let k = blake3::derive_key(ENC_CONTEXT, output);
    let mut xof = blake3::Hasher::new_keyed(&k).finalize_xof();
    let mut ks = vec![0u8; buf.len()];
    xof.fill(&mut ks);
    for (b, k) in buf.iter_mut().zip(ks) {
        *b ^= k;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_and_server_agree_and_a_wrong_key_finds_nothing() {
        let key = OprfKey::from_seed(&[7u8; 32]).unwrap();
        let input = b"leaktrace-selfcheck-v1\0email\0a@b.fr\0birth_date\x001980-01-01";
        let b = blind(input).unwrap();
        let ev = key.blind_evaluate(&b.message).unwrap();
        let out = b.finalize(input, &ev).unwrap();
        assert_eq!(out, key.evaluate(input).unwrap());
        let entry = seal(&out, b"{\"x\":1}   ");
        let bucket = [vec![0u8; entry.len()], entry.clone()].concat();
        assert_eq!(
            open_entry(&out, &bucket, entry.len()).unwrap(),
            b"{\"x\":1}   "
        );
        let other = OprfKey::from_seed(&[8u8; 32])
            .unwrap()
            .evaluate(input)
            .unwrap();
        assert_eq!(open_entry(&other, &bucket, entry.len()), None);
        assert!(key.blind_evaluate(&[0xff; 32]).is_none());
        assert_eq!(prefix(&out, 3).len(), 3);
    }
}
