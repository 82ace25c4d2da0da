//! Immutable, checksummed segments: one per enrolled snapshot.
//!
//! A segment is a directory of flat little files (see docs/index-format.md):
//!
//! | file          | content                                                                 |
//! |---------------|-------------------------------------------------------------------------|
//! | `ids.bin`     | person ids, concatenated, encrypted and authenticated ([`crate::context`]);|
//! |               | `ids.off` their u32 offsets (persons + 1)                                |
//! | `ids.hash`    | open-addressing table keyed id hash → (hash tag, ordinal + 1)            |
//! | `present.bin` | u64 per person: bit mask of the [`Domain`]s the source holds for them   |
//! | `fps.bin`     | one 10-byte record per distinct fingerprint, sorted: the 48 bits after   |
//! |               | its 16-bit prefix (big-endian), then a u32: the only person's ordinal    |
//! |               | with [`SINGLE`] set, or the u32 word of its posting list in `post.bin`   |
//! | `fanout.bin`  | 65 537 u32: first record per top-16-bit prefix                           |
//! | `post.bin`    | posting lists of two persons or more ([`crate::postings`]): plain u32   |
//! |               | ordinals when short, delta-packed varints when long                      |
//! | `names.bin`   | (deletion fingerprint, exact name fingerprint) pairs sorted: one-edit    |
//! |               | neighbourhoods of the names in the segment                               |
//! | `context.bin` | the persons' context attribute (month of the first `date` column),       |
//! |               | encrypted and authenticated (see [`crate::context`]); optional          |
//! | `meta.json`   | counts and the BLAKE3 checksum of every file                             |
//!
//! The index keeps the top 64 bits of each 128-bit keyed fingerprint: with 10⁸ distinct
//! fingerprints the chance that a lookup meets another value's fingerprint is about 5 × 10⁻¹².
//!
//! [`SegmentBuilder`] writes a segment into a private directory, streaming: fingerprints are
//! spilled into 256 buckets by prefix, then each bucket is sorted on its own (in parallel), so
//! memory stays bounded whatever the size of the source. [`Segment::open`] memory-maps a
//! published segment, verifies its checksums (analysis does: see [`crate::Workspace::load`])
//! and decrypts its ids into memory.

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
use crate::postings::{encode, prefetch, u32_at, Postings, SINGLE};
use crate::verify::{map_checked, read_meta};
use crate::IndexError;

/// Version of the segment layout (2: 64-bit fingerprints in 10-byte records, inline
/// singletons, packed long posting lists, u32 id offsets; 3: `ids.bin` encrypted, `ids.hash`
/// keyed).
pub const SEGMENT_VERSION: u32 = 3;
const BUCKETS: usize = 256;
/// A spilled (fingerprint, ordinal): u64 + u32.
const SPILL_ENTRY: usize = 12;
/// Bytes of a `fps.bin` record.
const RECORD: usize = 10;

/// The part of a fingerprint the index keeps: its top 64 bits.
#[inline]
fn fp64(fp: Fp) -> u64 {
    (fp >> 64) as u64
}

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
    /// file name → (bytes, checksums)
    pub files: BTreeMap<String, FileSum>,
}

/// Size and checksums of one segment file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FileSum {
    pub bytes: u64,
    /// BLAKE3, hex: what older segments have (and older leaktrace versions check).
    pub blake3: String,
    /// XXH3-128, hex: what analysis checks when present (the same protection against damage
    /// at several times BLAKE3's speed; neither is a defence against someone who can rewrite
    /// `meta.json`: docs/index-format.md). Absent in older segments.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub xxh3: Option<String>,
}

impl FileSum {
    /// The size and both checksums of `bytes`.
    pub fn of(bytes: &[u8]) -> FileSum {
        FileSum {
            bytes: bytes.len() as u64,
            blake3: blake3::hash(bytes).to_hex().to_string(),
            xxh3: Some(xxh3_hex(twox_hash::XxHash3_128::oneshot(bytes))),
        }
    }
}

/// An XXH3-128 checksum as written in `meta.json` (32 hex digits).
pub(crate) fn xxh3_hex(sum: u128) -> String {
    format!("{sum:032x}")
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
    /// Column name of the context attribute kept in `context.bin`.
    context_attr: Option<String>,
    /// Seals `ids.bin` and `context.bin`, keys `ids.hash`.
    key: ContextKey,
}

fn create(path: &Path) -> Result<BufWriter<File>, IndexError> {
    File::create(path)
        .map(|f| BufWriter::with_capacity(1 << 16, f))
        .map_err(|e| IndexError::io(path, e))
}

impl SegmentBuilder {
    /// Start a segment in `dir` (created; must not exist), sealed and keyed with `key`.
    pub fn new(dir: &Path, key: ContextKey) -> Result<SegmentBuilder, IndexError> {
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
            key,
        })
    }

    /// Keep the entries' context values in `context.bin`, sealed with the segment's key;
    /// `attribute` is the column name recorded in `meta.json`. Without this call no context
    /// file is written.
    pub fn set_context(&mut self, attribute: &str) {
        self.context_attr = Some(attribute.to_string());
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
                        let k = fp64(*fp);
                        let b = &mut out[(k >> 56) as usize];
                        b.extend_from_slice(&k.to_le_bytes());
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
    /// probing from [`ContextKey::id_hash`]: person lookups in O(1) page reads instead of a binary search.
    fn id_table(&self) -> Vec<u64> {
        let n = self.present.len();
        let slots = id_slots(n);
        let mask = slots - 1;
        let mut table = vec![0u64; slots];
        for ord in 0..n {
            let h = self.key.id_hash(self.id(ord));
            let mut i = h as usize & mask;
            while table[i] != 0 {
                i = (i + 1) & mask;
            }
            table[i] = id_slot(h, ord as u32);
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
        if self.ids.len() > u32::MAX as usize {
            return Err(IndexError::Format(
                "person ids over 4 GiB in one segment".into(),
            ));
        }
        files.write("ids.bin", &self.key.seal_ids(&self.ids)?)?;
        let offsets: Vec<u32> = self.id_offsets.iter().map(|&o| o as u32).collect();
        files.write("ids.off", &le_u32(&offsets))?;
        drop(offsets);
        files.write("ids.hash", &le_u64(&self.id_table()))?;
        files.write("present.bin", &le_u64(&self.present))?;
        if self.context_attr.is_some() {
            files.write(CONTEXT_FILE, &self.key.seal(&self.context)?)?;
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
        if self.present.len() >= SINGLE as usize {
            return Err(IndexError::Format(
                "more than 2 billion persons in one segment".into(),
            ));
        }
        let mut fps_w = files.stream("fps.bin")?;
        let mut post_w = files.stream("post.bin")?;
        let mut fanout = vec![0u32; 65_537];
        let mut next_prefix = 0usize;
        let mut n_fp: u64 = 0;
        let mut n_post: u64 = 0;
        let mut post_words: u64 = 0;
        let wave = rayon::current_num_threads().max(1) * 2;
        let buckets: Vec<usize> = (0..BUCKETS).collect();
        for chunk in buckets.chunks(wave) {
            // Sort each bucket on its own core; lay out its records and posting lists.
            let laid: Vec<Result<Bucket, IndexError>> = chunk
                .par_iter()
                .map(|b| {
                    let p = dir.join(format!("spill-{b:02x}.tmp"));
                    let mut bytes = Vec::new();
                    File::open(&p)
                        .and_then(|mut f| f.read_to_end(&mut bytes))
                        .map_err(|e| IndexError::io(&p, e))?;
                    let _ = fs::remove_file(&p);
                    let mut v: Vec<(u64, u32)> = bytes
                        .chunks_exact(SPILL_ENTRY)
                        .map(|c| {
                            let mut f = [0u8; 8];
                            f.copy_from_slice(&c[..8]);
                            let mut o = [0u8; 4];
                            o.copy_from_slice(&c[8..]);
                            (u64::from_le_bytes(f), u32::from_le_bytes(o))
                        })
                        .collect();
                    drop(bytes);
                    v.sort_unstable();
                    v.dedup();
                    let mut out = Bucket::default();
                    let mut list = Vec::new();
                    let mut i = 0;
                    while i < v.len() {
                        let fp = v[i].0;
                        list.clear();
                        while i < v.len() && v[i].0 == fp {
                            list.push(v[i].1);
                            i += 1;
                        }
                        let val = if list.len() == 1 {
                            SINGLE | list[0]
                        } else {
                            let word = u32::try_from(out.post.len() / 4)
                                .ok()
                                .filter(|w| *w < SINGLE)
                                .ok_or_else(|| {
                                    IndexError::Format("posting lists over 8 GiB".into())
                                })?;
                            encode(&list, &mut out.post)?;
                            word
                        };
                        out.records.push((fp, val));
                        out.postings += list.len() as u64;
                    }
                    Ok(out)
                })
                .collect();
            for bucket in laid {
                let bucket = bucket?;
                let mut recs = Vec::with_capacity(bucket.records.len() * RECORD);
                for &(fp, val) in &bucket.records {
                    let prefix = (fp >> 48) as usize;
                    while next_prefix <= prefix {
                        fanout[next_prefix] = n_fp as u32;
                        next_prefix += 1;
                    }
                    let val = if val & SINGLE != 0 {
                        val
                    } else {
                        let w = post_words + u64::from(val);
                        if w >= u64::from(SINGLE) {
                            return Err(IndexError::Format("posting lists over 8 GiB".into()));
                        }
                        w as u32
                    };
                    recs.extend_from_slice(&fp.to_be_bytes()[2..]);
                    recs.extend_from_slice(&val.to_le_bytes());
                    n_fp += 1;
                }
                if n_fp > u64::from(u32::MAX) {
                    return Err(IndexError::Format(
                        "more than 4 billion fingerprints in one segment".into(),
                    ));
                }
                n_post += bucket.postings;
                post_words += bucket.post.len() as u64 / 4;
                fps_w.put(&recs)?;
                post_w.put(&bucket.post)?;
            }
        }
        // fanout[p] = index of the first record whose 16-bit prefix is ≥ p.
        while next_prefix < fanout.len() {
            fanout[next_prefix] = n_fp as u32;
            next_prefix += 1;
        }
        files.finish(fps_w)?;
        files.finish(post_w)?;
        files.write("fanout.bin", &le_u32(&fanout))?;
        let meta = SegmentMeta {
            version: SEGMENT_VERSION,
            persons: self.present.len() as u64,
            fingerprints: n_fp,
            postings: n_post,
            names: pairs.len() as u64,
            domains: Some(self.present.iter().fold(0, |m, p| m | p)),
            context: self.context_attr.clone(),
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

/// Slots of the id table of `n` persons: a power of two, load at most 2/3.
fn id_slots(n: usize) -> usize {
    (n + n / 2 + 1).next_power_of_two().max(2)
}

/// An id table slot: the top 32 bits of the id's hash (a tag that spares reading the ids of
/// other persons met while probing), then the ordinal + 1 (0 = empty).
fn id_slot(hash: u64, ord: u32) -> u64 {
    (hash & 0xffff_ffff_0000_0000) | (u64::from(ord) + 1)
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
        .map_err(|e| IndexError::io(path, e))?;
    drop_cache(&f);
    Ok(())
}

/// Drop a written and synced file's pages from the page cache. Writing leaves them cached in
/// small pages; read back by an analysis (with [`Segment::keep_resident`]'s read-ahead), they
/// come back in large folios that the kernel maps with huge pages: random lookups then miss
/// the cache without also walking page tables (on the 10 M-person bench, 2.27 of 2.5 GB mapped
/// with huge pages instead of 0.78 GB).
fn drop_cache(f: &File) {
    #[cfg(target_os = "linux")]
    {
        use std::os::fd::AsRawFd;
        // SAFETY: posix_fadvise only reads its arguments; the descriptor is open for the
        // duration of the call. The advice never changes the file's content.
        unsafe { libc::posix_fadvise(f.as_raw_fd(), 0, 0, libc::POSIX_FADV_DONTNEED) };
    }
    #[cfg(not(target_os = "linux"))]
    let _ = f;
}

/// fsync a directory so that renames and creations in it are durable.
pub(crate) fn sync_dir(dir: &Path) -> Result<(), IndexError> {
    File::open(dir)
        .and_then(|f| f.sync_all())
        .map_err(|e| IndexError::io(dir, e))
}

/// One bucket laid out: its sorted distinct fingerprints with their record values, its posting
/// lists (words counted from the bucket's start) and its number of postings.
#[derive(Default)]
struct Bucket {
    records: Vec<(u64, u32)>,
    post: Vec<u8>,
    postings: u64,
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
    xxh3: twox_hash::XxHash3_128,
    bytes: u64,
}

impl Stream {
    fn put(&mut self, b: &[u8]) -> Result<(), IndexError> {
        self.hasher.update(b);
        self.xxh3.write(b);
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
        self.sums.insert(name.to_string(), FileSum::of(bytes));
        Ok(())
    }

    fn stream(&mut self, name: &str) -> Result<Stream, IndexError> {
        Ok(Stream {
            name: name.to_string(),
            w: create(&self.dir.join(name))?,
            hasher: blake3::Hasher::new(),
            xxh3: twox_hash::XxHash3_128::new(),
            bytes: 0,
        })
    }

    fn finish(&mut self, s: Stream) -> Result<(), IndexError> {
        let p = self.dir.join(&s.name);
        let f =
            s.w.into_inner()
                .map_err(|e| IndexError::io(&p, e.into_error()))?;
        f.sync_all().map_err(|e| IndexError::io(&p, e))?;
        drop_cache(&f);
        self.sums.insert(
            s.name,
            FileSum {
                bytes: s.bytes,
                blake3: s.hasher.finalize().to_hex().to_string(),
                xxh3: Some(xxh3_hex(s.xxh3.finish_128())),
            },
        );
        Ok(())
    }
}

/// The keyed hash of a person id in the id tables ([`Segment::id_hash`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IdHash(u64);

/// A published segment, memory-mapped.
pub struct Segment {
    pub meta: SegmentMeta,
    /// `ids.bin`, decrypted.
    ids: Vec<u8>,
    /// Keys the id table's hash.
    key: ContextKey,
    id_off: Mmap,
    hash: Mmap,
    present: Mmap,
    fps: Mmap,
    fanout: Mmap,
    post: Mmap,
    names: Mmap,
    /// Per 16-bit prefix of a deletion fingerprint, where its pairs start in `names.bin` (see
    /// [`NamesFanout`]); built on the first name lookup.
    names_fanout: std::sync::OnceLock<crate::fanout::NamesFanout>,
    /// `context.bin`, encrypted (absent in older segments and without a date column).
    context: Option<Mmap>,
    domains: u64,
}

impl std::fmt::Debug for Segment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Segment").field("meta", &self.meta).finish()
    }
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

impl Segment {
    /// Open a published segment: map its files, check their sizes against `meta.json` (and,
    /// with `verify`, their checksums), and decrypt its ids with `key` (the workspace's
    /// [`ContextKey`]). A wrong key or any altered byte of `ids.bin` is an error.
    pub fn open(dir: &Path, key: &ContextKey, verify: bool) -> Result<Segment, IndexError> {
        let meta = read_meta(dir)?;
        let open = |name: &str| map_checked(dir, &meta, name, verify);
        // `ids.bin` is authenticated by its keyed tag as it is opened, which no unkeyed
        // checksum adds to: its size is checked, its checksum pass skipped.
        let sealed_ids = map_checked(dir, &meta, "ids.bin", false)?;
        let ids = key.open_ids(&dir.join("ids.bin").display().to_string(), &sealed_ids)?;
        drop(sealed_ids);
        let mut seg = Segment {
            ids,
            key: key.clone(),
            id_off: open("ids.off")?,
            hash: open("ids.hash")?,
            present: open("present.bin")?,
            fps: open("fps.bin")?,
            fanout: open("fanout.bin")?,
            post: open("post.bin")?,
            names: open("names.bin")?,
            names_fanout: std::sync::OnceLock::new(),
            context: if meta.context.is_some() {
                Some(open(CONTEXT_FILE)?)
            } else {
                None
            },
            domains: u64::MAX,
            meta,
        };
        seg.domains = match seg.meta.domains {
            Some(d) => d,
            None => seg.present.chunks_exact(8).fold(0, |m, c| {
                m | u64::from_le_bytes(c.try_into().unwrap_or([0xff; 8]))
            }),
        };
        seg.check_sizes(dir)?;
        Ok(seg)
    }

    /// Whether the files' sizes agree with the counts of `meta.json` and with each other (the
    /// last id offset is the ids' length), so that no lookup can read out of bounds.
    fn check_sizes(&self, dir: &Path) -> Result<(), IndexError> {
        let n = self.meta.persons as usize;
        let f = self.meta.fingerprints as usize;
        let last_offset = (n < self.id_off.len() / 4).then(|| u32_at(&self.id_off, n) as usize);
        if self.id_off.len() != 4 * (n + 1)
            || last_offset != Some(self.ids.len())
            || self.present.len() != 8 * n
            || self.fps.len() != RECORD * f
            || self.fanout.len() != 4 * 65_537
            || !self.post.len().is_multiple_of(4)
            || self.hash.len() != 8 * id_slots(n)
            || self
                .context
                .as_ref()
                .is_some_and(|c| c.len() != CONTEXT_OVERHEAD + 2 * n)
        {
            return Err(IndexError::Corrupt(format!(
                "{}: file sizes disagree with meta.json",
                dir.display()
            )));
        }
        Ok(())
    }

    /// Number of persons.
    pub fn persons(&self) -> usize {
        self.meta.persons as usize
    }

    /// Person id of an ordinal.
    pub fn id(&self, ord: u32) -> &str {
        std::str::from_utf8(self.id_bytes(ord)).unwrap_or("")
    }

    /// Person id of an ordinal, as stored (UTF-8 bytes).
    pub fn id_bytes(&self, ord: u32) -> &[u8] {
        let a = u32_at(&self.id_off, ord as usize) as usize;
        let b = u32_at(&self.id_off, ord as usize + 1) as usize;
        self.ids.get(a..b).unwrap_or(&[])
    }

    /// Ordinal of a person id.
    pub fn ordinal(&self, id: &str) -> Option<u32> {
        self.ordinal_hashed(id, self.id_hash(id))
    }

    /// The keyed hash [`Segment::ordinal`] looks `id` up by. Every segment of a workspace
    /// shares its key, so one hash serves them all ([`Segment::ordinal_hashed`]).
    pub fn id_hash(&self, id: &str) -> IdHash {
        IdHash(self.key.id_hash(id.as_bytes()))
    }

    /// [`Segment::ordinal`] with the id's hash already computed (by a segment of the same
    /// workspace).
    pub fn ordinal_hashed(&self, id: &str, h: IdHash) -> Option<u32> {
        let table = &self.hash;
        let mask = table.len() / 8 - 1;
        let tag = h.0 & 0xffff_ffff_0000_0000;
        let mut i = h.0 as usize & mask;
        for _ in 0..=mask {
            let slot = u64_at(table, i);
            let ord = (slot & 0xffff_ffff) as usize;
            if ord == 0 || ord > self.persons() {
                return None;
            }
            if slot & 0xffff_ffff_0000_0000 == tag && self.id_bytes(ord as u32 - 1) == id.as_bytes()
            {
                return Some(ord as u32 - 1);
            }
            i = (i + 1) & mask;
        }
        None
    }

    /// Ask the CPU to fetch the id table slot where a lookup of an id of hash `h` starts
    /// ([`Segment::ordinal_hashed`]), to look many ids up without waiting for each.
    pub fn prefetch_ordinal(&self, h: IdHash) {
        let mask = self.hash.len() / 8 - 1;
        prefetch(&self.hash, 8 * (h.0 as usize & mask));
    }

    /// Ask the CPU to fetch the offsets [`Segment::id_bytes`] will read for `ord`.
    pub fn prefetch_id(&self, ord: u32) {
        prefetch(&self.id_off, 4 * ord as usize);
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

    /// The range of records holding `fp` if present (its fan-out bucket), and the small
    /// window of it where the record should sit: keyed fingerprints are uniform, so the next 16
    /// bits guess the position (one or two cache lines instead of ten jumps).
    fn window(&self, k: u64) -> ((usize, usize), (usize, usize)) {
        let p = (k >> 48) as usize;
        let (lo, hi) = (
            u32_at(&self.fanout, p) as usize,
            u32_at(&self.fanout, p + 1) as usize,
        );
        if hi - lo > 16 {
            let guess = lo + ((((k >> 32) & 0xffff) as usize * (hi - lo)) >> 16);
            let (a, b) = (guess.saturating_sub(8).max(lo), (guess + 8).min(hi));
            if a < b {
                return ((lo, hi), (a, b));
            }
        }
        ((lo, hi), (lo, hi))
    }

    /// The 48 bits of record `i`'s fingerprint after its prefix.
    #[inline]
    fn key_at(&self, i: usize) -> u64 {
        let r = &self.fps[RECORD * i..RECORD * i + 6];
        u64::from_be_bytes([0, 0, r[0], r[1], r[2], r[3], r[4], r[5]])
    }

    /// Ask the CPU to fetch the cache lines a lookup of `fp` will read first. Prefetching a
    /// whole batch before looking it up overlaps the cache misses instead of paying them one
    /// after another (see [`postings_batch`]).
    pub fn prefetch(&self, fp: Fp) {
        let (_, (a, b)) = self.window(fp64(fp));
        let mut byte = (RECORD * a) & !63;
        while byte < RECORD * b {
            prefetch(&self.fps, byte);
            byte += 64;
        }
    }

    fn find(&self, fp: Fp) -> Option<usize> {
        let k = fp64(fp);
        let key = k & 0xffff_ffff_ffff;
        let ((mut lo, mut hi), (a, b)) = self.window(k);
        if (a, b) != (lo, hi) && self.key_at(a) <= key && key <= self.key_at(b - 1) {
            (lo, hi) = (a, b);
        }
        while lo < hi {
            let mid = (lo + hi) / 2;
            match self.key_at(mid).cmp(&key) {
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
            None => Postings::default(),
        }
    }

    /// The value of record `i`: an inline ordinal or the word of a posting list.
    #[inline]
    fn value_at(&self, i: usize) -> u32 {
        let r = &self.fps[RECORD * i + 6..RECORD * i + 10];
        u32::from_le_bytes([r[0], r[1], r[2], r[3]])
    }

    fn postings_at(&self, i: usize) -> Postings<'_> {
        let v = self.value_at(i);
        if v & SINGLE != 0 {
            Postings::one(v & !SINGLE)
        } else {
            Postings::at(&self.post, v as usize)
        }
    }

    /// Exact-name fingerprints one edit away from a deletion fingerprint.
    pub fn neighbours(&self, deletion: Fp, out: &mut Vec<Fp>) {
        let n = self.names.len() / 32;
        let key = |i: usize| fp_at(&self.names[32 * i..], 0);
        let fanout = self
            .names_fanout
            .get_or_init(|| crate::fanout::NamesFanout::build(n, key));
        let mut lo = fanout.lower_bound(deletion, key);
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
            &self.id_off,
            &self.present,
            &self.fps,
            &self.fanout,
            &self.post,
            &self.names,
            &self.hash,
        ] {
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
                let v = seg.value_at(i);
                if v & SINGLE == 0 {
                    prefetch(&seg.post, 4 * v as usize);
                }
            }
            i
        })
        .collect();
    reqs.iter()
        .zip(found)
        .map(|((seg, _), i)| match i {
            Some(i) => {
                // Membership tests read the first and last ordinals (or skip entries) first.
                let p = seg.postings_at(i);
                let head = p.head();
                prefetch(head, 0);
                prefetch(head, head.len().saturating_sub(4));
                p
            }
            None => Postings::default(),
        })
        .collect()
}

/// Hint the CPU to load the first cache line of `b` (see [`Segment::id_bytes`]).
pub fn prefetch_bytes(b: &[u8]) {
    prefetch(b, 0);
}

/// Whether `d` is held in postings (deletion variants live in the names table instead).
pub fn in_postings(d: Domain) -> bool {
    !matches!(
        d,
        Domain::LastDeletion
            | Domain::FirstDeletion
            | Domain::CommuneDeletion
            | Domain::PostalDeletion
            | Domain::AddressWord
            | Domain::AddressWordDeletion
    )
}
