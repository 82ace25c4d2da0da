//! Immutable, checksummed segments: one per enrolled snapshot.
//!
//! A segment is a directory of flat little files (see docs/index-format.md):
//!
//! | file          | content                                                                 |
//! |---------------|-------------------------------------------------------------------------|
//! | `ids.bin`     | person ids, concatenated; `ids.off` their u64 offsets (persons + 1)      |
//! | `ids.sorted`  | u32 ordinals sorted by id (id → ordinal by binary search)                |
//! | `present.bin` | u64 per person: bit mask of the [`Domain`]s the source holds for them   |
//! | `fps.bin`     | distinct fingerprints, 16 bytes big-endian, sorted                       |
//! | `fanout.bin`  | 65 537 u32: first fingerprint index per top-16-bit prefix               |
//! | `post.off`    | u32 per fingerprint + 1: start of its postings                           |
//! | `post.bin`    | u32 person ordinals, sorted per fingerprint (term frequency = length)    |
//! | `names.bin`   | (deletion fingerprint, exact name fingerprint) pairs sorted: one-edit    |
//! |               | neighbourhoods of the names in the segment                               |
//! | `context.bin` | the persons' context attribute (month of the first `date` column),       |
//! |               | encrypted and authenticated (see [`crate::context`]); optional          |
//! | `meta.json`   | counts and the BLAKE3 checksum of every file                             |
//!
//! [`SegmentBuilder`] writes a segment into a private directory, streaming: fingerprints are
//! spilled into 256 buckets by prefix, then each bucket is sorted on its own (in parallel), so
//! memory stays bounded whatever the size of the source. [`Segment::open`] memory-maps a
//! published segment and verifies its checksums.

use std::collections::BTreeMap;

use rustc_hash::FxHashSet;
use std::fs::{self, File};
use std::io::{BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use memmap2::Mmap;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::context::{ContextKey, CONTEXT_FILE, CONTEXT_OVERHEAD};
use crate::fingerprint::{Domain, Fingerprinter, Fp, NameKind, RowPrints};
use crate::IndexError;

/// Version of the segment layout.
pub const SEGMENT_VERSION: u32 = 1;
const BUCKETS: usize = 256;
const SPILL_ENTRY: usize = 20;

/// Counts and checksums of a segment (`meta.json`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SegmentMeta {
    pub version: u32,
    pub persons: u64,
    pub fingerprints: u64,
    pub postings: u64,
    pub names: u64,
    /// Bit d: some person has a fingerprint of domain d (absent in older segments: computed
    /// from `present.bin` when opened).
    #[serde(default)]
    pub domains: Option<u64>,
    /// Column name of the context attribute kept in `context.bin` (the first column typed
    /// `date`), if any. A header, not a value. Absent in older segments and in segments of
    /// files without a date column.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context: Option<String>,
    /// file name → (bytes, BLAKE3 hex)
    pub files: BTreeMap<String, FileSum>,
}

/// Size and checksum of one segment file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FileSum {
    pub bytes: u64,
    pub blake3: String,
}

/// One row ready for a segment: its person id, fingerprints and context value.
#[derive(Debug, Clone)]
pub struct Entry {
    pub id: String,
    pub prints: RowPrints,
    /// Month number of the context attribute ([`crate::context::month_number`]), 0 = none.
    pub context: u16,
}

/// Writes a segment into a directory that nobody else uses yet.
pub struct SegmentBuilder {
    dir: PathBuf,
    ids: Vec<u8>,
    id_offsets: Vec<u64>,
    present: Vec<u64>,
    spills: Vec<BufWriter<File>>,
    names: FxHashSet<(NameKind, String)>,
    /// Context value per person ordinal.
    context: Vec<u16>,
    /// Column name of the context attribute and the key sealing `context.bin`.
    context_attr: Option<(String, ContextKey)>,
}

fn create(path: &Path) -> Result<BufWriter<File>, IndexError> {
    File::create(path)
        .map(|f| BufWriter::with_capacity(1 << 16, f))
        .map_err(|e| IndexError::io(path, e))
}

impl SegmentBuilder {
    /// Start a segment in `dir` (created; must not exist).
    pub fn new(dir: &Path) -> Result<SegmentBuilder, IndexError> {
        fs::create_dir(dir).map_err(|e| IndexError::io(dir, e))?;
        let spills = (0..BUCKETS)
            .map(|b| create(&dir.join(format!("spill-{b:02x}.tmp"))))
            .collect::<Result<_, _>>()?;
        Ok(SegmentBuilder {
            dir: dir.to_path_buf(),
            ids: Vec::new(),
            id_offsets: vec![0],
            present: Vec::new(),
            spills,
            names: FxHashSet::default(),
            context: Vec::new(),
            context_attr: None,
        })
    }

    /// Keep the entries' context values in `context.bin`, sealed with `key`; `attribute` is the
    /// column name recorded in `meta.json`. Without this call no context file is written.
    pub fn set_context(&mut self, attribute: &str, key: ContextKey) {
        self.context_attr = Some((attribute.to_string(), key));
    }

    /// Persons added so far.
    pub fn len(&self) -> usize {
        self.present.len()
    }

    /// Whether no person was added.
    pub fn is_empty(&self) -> bool {
        self.present.is_empty()
    }

    /// Add a batch of persons, in order. Bucketing runs on every core.
    pub fn add(&mut self, batch: Vec<Entry>) -> Result<(), IndexError> {
        let base = self.present.len() as u32;
        let buckets: Vec<Vec<Vec<u8>>> = batch
            .par_chunks(2048)
            .enumerate()
            .map(|(c, chunk)| {
                let mut out: Vec<Vec<u8>> = vec![Vec::new(); BUCKETS];
                for (i, e) in chunk.iter().enumerate() {
                    let ord = base + (c * 2048 + i) as u32;
                    for (_, fp) in &e.prints.prints {
                        let b = &mut out[(fp >> 120) as usize];
                        b.extend_from_slice(&fp.to_le_bytes());
                        b.extend_from_slice(&ord.to_le_bytes());
                    }
                }
                out
            })
            .collect();
        for part in &buckets {
            for (b, bytes) in part.iter().enumerate() {
                if !bytes.is_empty() {
                    self.spills[b]
                        .write_all(bytes)
                        .map_err(|e| IndexError::io(&self.dir, e))?;
                }
            }
        }
        for e in batch {
            self.ids.extend_from_slice(e.id.as_bytes());
            self.id_offsets.push(self.ids.len() as u64);
            self.present.push(e.prints.present());
            self.context.push(e.context);
            for n in e.prints.names {
                if !self.names.contains(&n) {
                    self.names.insert(n);
                }
            }
        }
        Ok(())
    }

    fn id(&self, ord: usize) -> &[u8] {
        &self.ids[self.id_offsets[ord] as usize..self.id_offsets[ord + 1] as usize]
    }

    /// The ordinals of persons whose id appears more than once (first two found), if any.
    pub fn duplicate_id(&self) -> Option<(usize, usize)> {
        let order = self.sorted_ids();
        order
            .windows(2)
            .find(|w| self.id(w[0] as usize) == self.id(w[1] as usize))
            .map(|w| (w[0].min(w[1]) as usize, w[0].max(w[1]) as usize))
    }

    /// Open-addressing table id → ordinal + 1 (0 = empty slot), load factor ≤ 0.5, linear
    /// probing from [`id_hash`]: person lookups in O(1) page reads instead of a binary search.
    fn id_table(&self) -> Vec<u32> {
        let n = self.present.len();
        let slots = (2 * n).next_power_of_two().max(2);
        let mask = slots - 1;
        let mut table = vec![0u32; slots];
        for ord in 0..n {
            let mut i = id_hash(self.id(ord)) as usize & mask;
            while table[i] != 0 {
                i = (i + 1) & mask;
            }
            table[i] = ord as u32 + 1;
        }
        table
    }

    fn sorted_ids(&self) -> Vec<u32> {
        let mut order: Vec<u32> = (0..self.present.len() as u32).collect();
        // Registries are often written in id order: check before sorting.
        if order
            .windows(2)
            .all(|w| self.id(w[0] as usize) < self.id(w[1] as usize))
        {
            return order;
        }
        order.par_sort_by(|&a, &b| self.id(a as usize).cmp(self.id(b as usize)).then(a.cmp(&b)));
        order
    }

    /// Write every file, fsync them and the directory, and return the meta data. The caller
    /// publishes the directory by renaming it.
    pub fn finish(mut self, fpr: &Fingerprinter) -> Result<SegmentMeta, IndexError> {
        let dir = self.dir.clone();
        for s in &mut self.spills {
            s.flush().map_err(|e| IndexError::io(&dir, e))?;
        }
        self.spills.clear();
        let mut files = Files::new(&dir);
        // Persons.
        files.write("ids.bin", &self.ids)?;
        files.write("ids.off", &le_u64(&self.id_offsets))?;
        let order = self.sorted_ids();
        files.write("ids.sorted", &le_u32(&order))?;
        drop(order);
        files.write("ids.hash", &le_u32(&self.id_table()))?;
        files.write("present.bin", &le_u64(&self.present))?;
        if let Some((_, key)) = &self.context_attr {
            files.write(CONTEXT_FILE, &key.seal(&self.context)?)?;
        }
        // Names' one-edit neighbourhoods.
        let names: Vec<(NameKind, String)> = self.names.drain().collect();
        let mut pairs: Vec<(Fp, Fp)> = names
            .par_iter()
            .flat_map_iter(|(k, n)| {
                let exact = fpr.fp(k.domains().0, n);
                fpr.deletions(*k, n).into_iter().map(move |d| (d, exact))
            })
            .collect();
        pairs.par_sort_unstable();
        pairs.dedup();
        let mut nb = Vec::with_capacity(pairs.len() * 32);
        for (d, e) in &pairs {
            nb.extend_from_slice(&d.to_be_bytes());
            nb.extend_from_slice(&e.to_be_bytes());
        }
        files.write("names.bin", &nb)?;
        drop(nb);
        // Fingerprints and postings, bucket by bucket (buckets are in prefix order).
        let mut fps_w = files.stream("fps.bin")?;
        let mut off_w = files.stream("post.off")?;
        let mut post_w = files.stream("post.bin")?;
        let mut fanout = vec![0u32; 65_537];
        let mut next_prefix = 0usize;
        let mut n_fp: u64 = 0;
        let mut n_post: u64 = 0;
        let wave = rayon::current_num_threads().max(1) * 2;
        let buckets: Vec<usize> = (0..BUCKETS).collect();
        for chunk in buckets.chunks(wave) {
            // Sort each bucket on its own core; lay out its fingerprints, counts and postings.
            let laid: Vec<Result<Bucket, IndexError>> = chunk
                .par_iter()
                .map(|b| {
                    let p = dir.join(format!("spill-{b:02x}.tmp"));
                    let mut bytes = Vec::new();
                    File::open(&p)
                        .and_then(|mut f| f.read_to_end(&mut bytes))
                        .map_err(|e| IndexError::io(&p, e))?;
                    let _ = fs::remove_file(&p);
                    let mut v: Vec<(Fp, u32)> = bytes
                        .chunks_exact(SPILL_ENTRY)
                        .map(|c| {
                            let mut f = [0u8; 16];
                            f.copy_from_slice(&c[..16]);
                            let mut o = [0u8; 4];
                            o.copy_from_slice(&c[16..]);
                            (u128::from_le_bytes(f), u32::from_le_bytes(o))
                        })
                        .collect();
                    drop(bytes);
                    v.sort_unstable();
                    v.dedup();
                    let mut out = Bucket::default();
                    out.post.reserve(v.len() * 4);
                    let mut i = 0;
                    while i < v.len() {
                        let fp = v[i].0;
                        out.fps.push(fp);
                        let start = i;
                        while i < v.len() && v[i].0 == fp {
                            out.post.extend_from_slice(&v[i].1.to_le_bytes());
                            i += 1;
                        }
                        out.counts.push((i - start) as u32);
                    }
                    Ok(out)
                })
                .collect();
            for bucket in laid {
                let bucket = bucket?;
                let mut fps = Vec::with_capacity(bucket.fps.len() * 16);
                let mut offs = Vec::with_capacity(bucket.fps.len() * 4);
                for (fp, c) in bucket.fps.iter().zip(&bucket.counts) {
                    let prefix = (fp >> 112) as usize;
                    while next_prefix <= prefix {
                        fanout[next_prefix] = n_fp as u32;
                        next_prefix += 1;
                    }
                    fps.extend_from_slice(&fp.to_be_bytes());
                    offs.extend_from_slice(&(n_post as u32).to_le_bytes());
                    n_post += u64::from(*c);
                    n_fp += 1;
                }
                fps_w.put(&fps)?;
                off_w.put(&offs)?;
                post_w.put(&bucket.post)?;
            }
        }
        if n_post > u32::MAX as u64 {
            return Err(IndexError::Format(
                "more than 4 billion postings in one segment".into(),
            ));
        }
        off_w.put(&(n_post as u32).to_le_bytes())?;
        // fanout[p] = index of the first fingerprint whose 16-bit prefix is ≥ p.
        while next_prefix < fanout.len() {
            fanout[next_prefix] = n_fp as u32;
            next_prefix += 1;
        }
        files.finish(fps_w)?;
        files.finish(off_w)?;
        files.finish(post_w)?;
        files.write("fanout.bin", &le_u32(&fanout))?;
        let meta = SegmentMeta {
            version: SEGMENT_VERSION,
            persons: self.present.len() as u64,
            fingerprints: n_fp,
            postings: n_post,
            names: pairs.len() as u64,
            domains: Some(self.present.iter().fold(0, |m, p| m | p)),
            context: self.context_attr.as_ref().map(|(a, _)| a.clone()),
            files: files.sums,
        };
        let json =
            serde_json::to_vec_pretty(&meta).map_err(|e| IndexError::Format(e.to_string()))?;
        let p = dir.join("meta.json");
        write_synced(&p, &json)?;
        sync_dir(&dir)?;
        Ok(meta)
    }
}

/// The stable hash of person ids used by `ids.hash` (FNV-1a, then a 64-bit finaliser).
fn id_hash(id: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in id {
        h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
    }
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^ (h >> 33)
}

fn le_u64(v: &[u64]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

fn le_u32(v: &[u32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

pub(crate) fn write_synced(path: &Path, bytes: &[u8]) -> Result<(), IndexError> {
    let mut f = File::create(path).map_err(|e| IndexError::io(path, e))?;
    f.write_all(bytes)
        .and_then(|_| f.sync_all())
        .map_err(|e| IndexError::io(path, e))
}

/// fsync a directory so that renames and creations in it are durable.
pub(crate) fn sync_dir(dir: &Path) -> Result<(), IndexError> {
    File::open(dir)
        .and_then(|f| f.sync_all())
        .map_err(|e| IndexError::io(dir, e))
}

/// One bucket laid out: its sorted distinct fingerprints, their posting counts and postings.
#[derive(Default)]
struct Bucket {
    fps: Vec<Fp>,
    counts: Vec<u32>,
    post: Vec<u8>,
}

/// Writes files with checksums.
struct Files {
    dir: PathBuf,
    sums: BTreeMap<String, FileSum>,
}

struct Stream {
    name: String,
    w: BufWriter<File>,
    hasher: blake3::Hasher,
    bytes: u64,
}

impl Stream {
    fn put(&mut self, b: &[u8]) -> Result<(), IndexError> {
        self.hasher.update(b);
        self.bytes += b.len() as u64;
        self.w
            .write_all(b)
            .map_err(|e| IndexError::Format(format!("{}: {e}", self.name)))
    }
}

impl Files {
    fn new(dir: &Path) -> Files {
        Files {
            dir: dir.to_path_buf(),
            sums: BTreeMap::new(),
        }
    }

    fn write(&mut self, name: &str, bytes: &[u8]) -> Result<(), IndexError> {
        write_synced(&self.dir.join(name), bytes)?;
        self.sums.insert(
            name.to_string(),
            FileSum {
                bytes: bytes.len() as u64,
                blake3: blake3::hash(bytes).to_hex().to_string(),
            },
        );
        Ok(())
    }

    fn stream(&mut self, name: &str) -> Result<Stream, IndexError> {
        Ok(Stream {
            name: name.to_string(),
            w: create(&self.dir.join(name))?,
            hasher: blake3::Hasher::new(),
            bytes: 0,
        })
    }

    fn finish(&mut self, s: Stream) -> Result<(), IndexError> {
        let p = self.dir.join(&s.name);
        let f =
            s.w.into_inner()
                .map_err(|e| IndexError::io(&p, e.into_error()))?;
        f.sync_all().map_err(|e| IndexError::io(&p, e))?;
        self.sums.insert(
            s.name,
            FileSum {
                bytes: s.bytes,
                blake3: s.hasher.finalize().to_hex().to_string(),
            },
        );
        Ok(())
    }
}

/// A published segment, memory-mapped.
pub struct Segment {
    pub meta: SegmentMeta,
    ids: Mmap,
    id_off: Mmap,
    sorted: Mmap,
    /// `ids.hash` (absent in segments written before it existed: binary search instead).
    hash: Option<Mmap>,
    present: Mmap,
    fps: Mmap,
    fanout: Mmap,
    post_off: Mmap,
    post: Mmap,
    names: Mmap,
    /// `context.bin`, encrypted (absent in older segments and without a date column).
    context: Option<Mmap>,
    domains: u64,
}

impl std::fmt::Debug for Segment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Segment").field("meta", &self.meta).finish()
    }
}

fn map(path: &Path) -> Result<Mmap, IndexError> {
    let f = File::open(path).map_err(|e| IndexError::io(path, e))?;
    // SAFETY: segment files are immutable once published (never rewritten in place; a new
    // snapshot is a new directory), so the mapping cannot change under us.
    unsafe { Mmap::map(&f) }.map_err(|e| IndexError::io(path, e))
}

#[inline]
fn u32_at(b: &[u8], i: usize) -> u32 {
    u32::from_le_bytes([b[4 * i], b[4 * i + 1], b[4 * i + 2], b[4 * i + 3]])
}

#[inline]
fn u64_at(b: &[u8], i: usize) -> u64 {
    let mut x = [0u8; 8];
    x.copy_from_slice(&b[8 * i..8 * i + 8]);
    u64::from_le_bytes(x)
}

#[inline]
fn fp_at(b: &[u8], i: usize) -> Fp {
    let mut x = [0u8; 16];
    x.copy_from_slice(&b[16 * i..16 * i + 16]);
    u128::from_be_bytes(x)
}

/// A person's postings in one segment: sorted ordinals.
#[derive(Clone, Copy)]
pub struct Postings<'a>(&'a [u8]);

impl<'a> Postings<'a> {
    /// Number of persons (the term frequency in this segment).
    pub fn len(&self) -> usize {
        self.0.len() / 4
    }

    /// Whether empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The i-th ordinal.
    pub fn get(&self, i: usize) -> u32 {
        u32_at(self.0, i)
    }

    /// Whether `ord` is in the list. Ordinals of a common value spread evenly over the
    /// segment, so interpolation finds the spot in a few probes of a list of millions; a
    /// binary search finishes when the guesses stop shrinking the range.
    pub fn contains(&self, ord: u32) -> bool {
        let (mut lo, mut hi) = (0usize, self.len());
        let mut probes = 0;
        while hi - lo > 16 && probes < 4 {
            probes += 1;
            let (a, b) = (self.get(lo), self.get(hi - 1));
            if ord < a || ord > b {
                return false;
            }
            if a == b {
                return ord == a;
            }
            let guess =
                lo + ((u64::from(ord - a) * (hi - lo - 1) as u64) / u64::from(b - a)) as usize;
            match self.get(guess).cmp(&ord) {
                std::cmp::Ordering::Equal => return true,
                std::cmp::Ordering::Less => lo = guess + 1,
                std::cmp::Ordering::Greater => hi = guess,
            }
        }
        while lo < hi {
            let mid = (lo + hi) / 2;
            match self.get(mid).cmp(&ord) {
                std::cmp::Ordering::Less => lo = mid + 1,
                std::cmp::Ordering::Greater => hi = mid,
                std::cmp::Ordering::Equal => return true,
            }
        }
        false
    }

    /// Iterate over the ordinals.
    pub fn iter(&self) -> impl Iterator<Item = u32> + 'a {
        let b = self.0;
        (0..b.len() / 4).map(move |i| u32_at(b, i))
    }
}

impl Segment {
    /// Open a published segment; with `verify`, check every file against its checksum.
    pub fn open(dir: &Path, verify: bool) -> Result<Segment, IndexError> {
        let mp = dir.join("meta.json");
        let meta: SegmentMeta =
            serde_json::from_slice(&fs::read(&mp).map_err(|e| IndexError::io(&mp, e))?)
                .map_err(|e| IndexError::Corrupt(format!("{}: {e}", mp.display())))?;
        if meta.version != SEGMENT_VERSION {
            return Err(IndexError::Corrupt(format!(
                "{}: segment version {} (this leaktrace reads {SEGMENT_VERSION})",
                dir.display(),
                meta.version
            )));
        }
        let open = |name: &str| -> Result<Mmap, IndexError> {
            let p = dir.join(name);
            let m = map(&p)?;
            let sum = meta
                .files
                .get(name)
                .ok_or_else(|| IndexError::Corrupt(format!("{}: not in meta.json", p.display())))?;
            if m.len() as u64 != sum.bytes
                || (verify
                    && blake3::Hasher::new()
                        .update_rayon(&m)
                        .finalize()
                        .to_hex()
                        .as_str()
                        != sum.blake3)
            {
                return Err(IndexError::Corrupt(format!(
                    "{}: checksum mismatch (the segment was altered or truncated)",
                    p.display()
                )));
            }
            // Lookups jump around: read-ahead would only fill memory with pages never used.
            #[cfg(unix)]
            // Until told the index may stay resident (`Segment::keep_resident`), assume it
            // may not fit in memory: lookups jump around, so read-ahead would only fill memory
            // with pages never used.
            #[cfg(unix)]
            let _ = m.advise(memmap2::Advice::Random);
            #[cfg(target_os = "linux")]
            let _ = m.advise(memmap2::Advice::NoHugePage);
            Ok(m)
        };
        let seg = Segment {
            ids: open("ids.bin")?,
            id_off: open("ids.off")?,
            sorted: open("ids.sorted")?,
            hash: if meta.files.contains_key("ids.hash") {
                Some(open("ids.hash")?)
            } else {
                None
            },
            present: open("present.bin")?,
            fps: open("fps.bin")?,
            fanout: open("fanout.bin")?,
            post_off: open("post.off")?,
            post: open("post.bin")?,
            names: open("names.bin")?,
            context: if meta.context.is_some() {
                Some(open(CONTEXT_FILE)?)
            } else {
                None
            },
            domains: u64::MAX,
            meta,
        };
        let mut seg = seg;
        seg.domains = match seg.meta.domains {
            Some(d) => d,
            None => seg.present.chunks_exact(8).fold(0, |m, c| {
                m | u64::from_le_bytes(c.try_into().unwrap_or([0xff; 8]))
            }),
        };
        let n = seg.meta.persons as usize;
        let f = seg.meta.fingerprints as usize;
        if seg.id_off.len() != 8 * (n + 1)
            || seg.sorted.len() != 4 * n
            || seg.present.len() != 8 * n
            || seg.fps.len() != 16 * f
            || seg.post_off.len() != 4 * (f + 1)
            || seg.fanout.len() != 4 * 65_537
            || seg.post.len() as u64 != 4 * seg.meta.postings
            || seg
                .context
                .as_ref()
                .is_some_and(|c| c.len() != CONTEXT_OVERHEAD + 2 * n)
            || seg
                .hash
                .as_ref()
                .is_some_and(|h| h.len() < 8 || !(h.len() / 4).is_power_of_two() || h.len() / 4 < n)
        {
            return Err(IndexError::Corrupt(format!(
                "{}: file sizes disagree with meta.json",
                dir.display()
            )));
        }
        Ok(seg)
    }

    /// Number of persons.
    pub fn persons(&self) -> usize {
        self.meta.persons as usize
    }

    /// Person id of an ordinal.
    pub fn id(&self, ord: u32) -> &str {
        let a = u64_at(&self.id_off, ord as usize) as usize;
        let b = u64_at(&self.id_off, ord as usize + 1) as usize;
        std::str::from_utf8(&self.ids[a..b]).unwrap_or("")
    }

    fn id_bytes(&self, ord: u32) -> &[u8] {
        let a = u64_at(&self.id_off, ord as usize) as usize;
        let b = u64_at(&self.id_off, ord as usize + 1) as usize;
        self.ids.get(a..b).unwrap_or(&[])
    }

    /// Ordinal of a person id.
    pub fn ordinal(&self, id: &str) -> Option<u32> {
        if let Some(table) = &self.hash {
            let mask = table.len() / 4 - 1;
            let mut i = id_hash(id.as_bytes()) as usize & mask;
            for _ in 0..=mask {
                let slot = u32_at(table, i);
                if slot == 0 || slot as usize > self.persons() {
                    return None;
                }
                if self.id_bytes(slot - 1) == id.as_bytes() {
                    return Some(slot - 1);
                }
                i = (i + 1) & mask;
            }
            return None;
        }
        let (mut lo, mut hi) = (0usize, self.persons());
        while lo < hi {
            let mid = (lo + hi) / 2;
            let o = u32_at(&self.sorted, mid);
            match self.id_bytes(o).cmp(id.as_bytes()) {
                std::cmp::Ordering::Less => lo = mid + 1,
                std::cmp::Ordering::Greater => hi = mid,
                std::cmp::Ordering::Equal => return Some(o),
            }
        }
        None
    }

    /// Whether any person of the segment has a fingerprint of domain `d` (lookups of
    /// domains a source never held are skipped).
    pub fn has_domain(&self, d: Domain) -> bool {
        self.domains & d.bit() != 0
    }

    /// Ask the CPU to fetch what [`Segment::present`] will read for `ord`.
    pub fn prefetch_person(&self, ord: u32) {
        prefetch(&self.present, 8 * ord as usize);
    }

    /// Domains held for a person.
    pub fn present(&self, ord: u32) -> u64 {
        u64_at(&self.present, ord as usize)
    }

    /// The range of `fps` holding `fp` if present (its fan-out bucket), and the small window
    /// of it where the fingerprint should sit: keyed fingerprints are uniform, so the next 16
    /// bits guess the position (one or two cache lines instead of ten jumps).
    fn window(&self, fp: Fp) -> ((usize, usize), (usize, usize)) {
        let p = (fp >> 112) as usize;
        let (lo, hi) = (
            u32_at(&self.fanout, p) as usize,
            u32_at(&self.fanout, p + 1) as usize,
        );
        if hi - lo > 16 {
            let guess = lo + ((((fp >> 96) & 0xffff) as usize * (hi - lo)) >> 16);
            let (a, b) = (guess.saturating_sub(8).max(lo), (guess + 8).min(hi));
            if a < b {
                return ((lo, hi), (a, b));
            }
        }
        ((lo, hi), (lo, hi))
    }

    /// Ask the CPU to fetch the cache lines a lookup of `fp` will read first. Prefetching a
    /// whole batch before looking it up overlaps the cache misses instead of paying them one
    /// after another (see [`postings_batch`]).
    pub fn prefetch(&self, fp: Fp) {
        let (_, (a, b)) = self.window(fp);
        let mut byte = (16 * a) & !63;
        while byte < 16 * b {
            prefetch(&self.fps, byte);
            byte += 64;
        }
    }

    fn find(&self, fp: Fp) -> Option<usize> {
        let ((mut lo, mut hi), (a, b)) = self.window(fp);
        if (a, b) != (lo, hi) && fp_at(&self.fps, a) <= fp && fp <= fp_at(&self.fps, b - 1) {
            (lo, hi) = (a, b);
        }
        while lo < hi {
            let mid = (lo + hi) / 2;
            match fp_at(&self.fps, mid).cmp(&fp) {
                std::cmp::Ordering::Less => lo = mid + 1,
                std::cmp::Ordering::Greater => hi = mid,
                std::cmp::Ordering::Equal => return Some(mid),
            }
        }
        None
    }

    /// The persons holding a fingerprint.
    pub fn postings(&self, fp: Fp) -> Postings<'_> {
        match self.find(fp) {
            Some(i) => self.postings_at(i),
            None => Postings(&[]),
        }
    }

    fn postings_at(&self, i: usize) -> Postings<'_> {
        let a = u32_at(&self.post_off, i) as usize;
        let b = u32_at(&self.post_off, i + 1) as usize;
        Postings(&self.post[4 * a..4 * b])
    }

    /// Exact-name fingerprints one edit away from a deletion fingerprint.
    pub fn neighbours(&self, deletion: Fp, out: &mut Vec<Fp>) {
        let n = self.names.len() / 32;
        let key = |i: usize| fp_at(&self.names[32 * i..], 0);
        let (mut lo, mut hi) = (0usize, n);
        while lo < hi {
            let mid = (lo + hi) / 2;
            if key(mid) < deletion {
                lo = mid + 1
            } else {
                hi = mid
            }
        }
        while lo < n && key(lo) == deletion {
            out.push(fp_at(&self.names[32 * lo + 16..], 0));
            lo += 1;
        }
    }

    /// Let the kernel keep the whole segment in memory: read it ahead in large blocks and map
    /// it with huge pages where the page cache holds large folios. For an index that fits in
    /// memory this makes lookups faster (fewer page faults and TLB misses); see
    /// [`crate::Index::keep_resident`] for the policy.
    pub fn keep_resident(&self) {
        #[cfg(unix)]
        for m in [
            &self.ids,
            &self.id_off,
            &self.present,
            &self.fps,
            &self.fanout,
            &self.post_off,
            &self.post,
            &self.names,
        ]
        .into_iter()
        .chain(self.hash.as_ref())
        {
            let _ = m.advise(memmap2::Advice::Normal);
            #[cfg(target_os = "linux")]
            let _ = m.advise(memmap2::Advice::HugePage);
            let _ = m.advise(memmap2::Advice::WillNeed);
        }
    }

    /// The column name of the segment's context attribute, if it keeps one.
    pub fn context_attribute(&self) -> Option<&str> {
        self.meta.context.as_deref()
    }

    /// Decrypt the context attribute: one month number per person ordinal (0 = no value), or
    /// `None` when the segment keeps no context (older segments, files without a date column).
    /// A wrong key or an altered file is an error.
    pub fn context(&self, key: &ContextKey) -> Result<Option<Vec<u16>>, IndexError> {
        match &self.context {
            None => Ok(None),
            Some(m) => key.open(CONTEXT_FILE, m, self.persons()).map(Some),
        }
    }

    /// Size of the segment's files in bytes.
    pub fn bytes(&self) -> u64 {
        self.meta.files.values().map(|f| f.bytes).sum()
    }
}

/// The postings of many fingerprints, each looked up in its segment: the same as calling
/// [`Segment::postings`] on each, but every step's memory is fetched for the whole batch
/// before it is read, so that a batch costs a few cache misses' time rather than one per
/// lookup and step (an index of gigabytes is mostly out of cache).
pub fn postings_batch<'s>(reqs: &[(&'s Segment, Fp)]) -> Vec<Postings<'s>> {
    for (seg, fp) in reqs {
        seg.prefetch(*fp);
    }
    let found: Vec<Option<usize>> = reqs
        .iter()
        .map(|(seg, fp)| {
            let i = seg.find(*fp);
            if let Some(i) = i {
                prefetch(&seg.post_off, 4 * i);
                prefetch(&seg.post_off, 4 * i + 4);
            }
            i
        })
        .collect();
    reqs.iter()
        .zip(found)
        .map(|((seg, _), i)| match i {
            Some(i) => {
                // Membership tests read the first and last ordinals first.
                let p = seg.postings_at(i);
                prefetch(p.0, 0);
                prefetch(p.0, p.0.len().saturating_sub(4));
                p
            }
            None => Postings(&[]),
        })
        .collect()
}

/// Hint the CPU to load the cache line holding `b[byte]` (nothing if out of range).
#[inline]
fn prefetch(b: &[u8], byte: usize) {
    #[cfg(target_arch = "x86_64")]
    if let Some(x) = b.get(byte) {
        // SAFETY: a prefetch is only a hint: it never faults and reads nothing into the
        // program; the pointer comes from a live slice.
        unsafe {
            std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(
                (x as *const u8).cast::<i8>(),
            )
        };
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = (b, byte);
}

/// Whether `d` is held in postings (deletion variants live in the names table instead).
pub fn in_postings(d: Domain) -> bool {
    !matches!(d, Domain::LastDeletion | Domain::FirstDeletion)
}
