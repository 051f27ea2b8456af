//! `/environment` assembled from one encoded piece per job: a job's
//! `"name":{…}` is encoded when its version moves, and kept otherwise, so
//! an answer after one change costs one job's encoding and one run's
//! copy (below), not a copy of every job.
//!
//! The plain form is sent as chunks (warp's stream body, with its
//! `Content-Length`): the settings, and runs of [`SEND_RUN`] pieces joined
//! once and kept until one of their pieces changes.
//!
//! The gzip form is one gzip member whose deflate stream is deflate blocks
//! one after the other: the settings around the maps, and runs of [`RUN`]
//! pieces, each compressed on its own and ending on a full flush
//! (byte-aligned, no back-reference before it); a run is compressed again
//! only when one of its pieces changed. The stream ends with an empty
//! final block, and the CRC-32 of the whole is combined from the blocks'
//! (as pigz joins its blocks).
//!
//! Invariant: the assembled JSON is byte for byte what `serde_json` makes
//! of `Response::ok(Environment)` for the same state (`engine::tests_env`
//! and `engine::tests` check it): the maps are sorted by name like the
//! `BTreeMap`s, and a later entry of the same name replaces an earlier one.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use bytes::{BufMut, Bytes, BytesMut};
use flate2::{Compress, Compression, Crc, FlushCompress};
use proto::{AnyJob, JobId, JobKind};

use crate::engine::EnvParts;

/// A raw deflate piece ending on a full flush, with the CRC of its input.
#[derive(Debug)]
pub struct Deflated {
    bytes: Vec<u8>,
    crc: Crc,
}

/// One job's `"name":{…}`, encoded at `version`.
#[derive(Debug)]
pub struct Piece {
    version: u64,
    kind: JobKind,
    id: JobId,
    name: String,
    json: Vec<u8>,
}

impl Piece {
    fn encode(version: u64, view: &AnyJob) -> std::io::Result<Piece> {
        let (kind, base) = match view {
            AnyJob::Job(j) => (JobKind::Job, &j.base),
            AnyJob::Http(j) => (JobKind::JobHttp, &j.base),
        };
        let (id, name) = (base.id.clone(), base.name.clone());
        let mut json = Vec::with_capacity(1024);
        serde_json::to_writer(&mut json, &name)?;
        json.push(b':');
        serde_json::to_writer(&mut json, view)?;
        Ok(Piece { version, kind, id, name, json })
    }

    /// The piece stands for this entry at this version.
    fn is(&self, kind: JobKind, id: &JobId, version: u64) -> bool {
        self.version == version && self.kind == kind && self.id == *id
    }
}

/// The kept pieces of one configuration (reload count), by the position
/// of their entry in the walk, and each map's order by name.
///
/// A walk of the same configuration meets the entries in the same order,
/// so a position is checked against its piece's kind, ID and version, no
/// lookup by key; the order by name is sorted again only when a name or
/// the set of entries changed.
#[derive(Debug, Default)]
pub struct Pieces {
    reloads: Option<u64>,
    at: Vec<Arc<Piece>>,
    /// Positions in `at` of the jobs and of the HTTP jobs, by name.
    order: Option<[Vec<usize>; 2]>,
}

/// One answer's pieces in order, and the settings around them.
#[derive(Debug)]
pub struct Layout {
    /// Up to `"jobs":{`, between the maps, and from the last map's `}` on.
    head: [Vec<u8>; 3],
    jobs: Vec<Arc<Piece>>,
    http_jobs: Vec<Arc<Piece>>,
}

const MAPS: &[u8] = br#""jobs":{},"http_jobs":{}"#;

impl Pieces {
    /// Brings the pieces up to `parts` (from a walk that called
    /// [`Pieces::is_kept`]) and lays out the answer. `None` when the walk
    /// relied on pieces of another configuration: walk again, nothing kept.
    pub fn update(&mut self, parts: EnvParts) -> std::io::Result<Option<Layout>> {
        let mut old = std::mem::take(&mut self.at);
        if self.reloads != Some(parts.reloads) || old.len() != parts.parts.len() {
            old.clear();
            self.order = None;
        }
        self.reloads = Some(parts.reloads);
        let mut at = Vec::with_capacity(parts.parts.len());
        let mut renamed = false;
        for (i, part) in parts.parts.into_iter().enumerate() {
            let kept = old.get(i);
            let piece = match part.view {
                Some(view) => {
                    let piece = Arc::new(Piece::encode(part.version, &view)?);
                    renamed |= kept.is_none_or(|k| k.kind != piece.kind || k.name != piece.name);
                    piece
                }
                // The walk's `is_kept` checked this position's ID too.
                None => match kept.filter(|k| k.kind == part.kind && k.version == part.version) {
                    Some(k) => k.clone(),
                    // Kept when the walk began, but not of this configuration.
                    None => {
                        self.clear();
                        return Ok(None);
                    }
                },
            };
            at.push(piece);
        }
        if renamed {
            self.order = None;
        }
        let order = self.order.get_or_insert_with(|| by_name(&at));
        let pick = |o: &[usize]| o.iter().map(|&i| at[i].clone()).collect::<Vec<_>>();
        let (jobs, http_jobs) = (pick(&order[0]), pick(&order[1]));
        self.at = at;
        let wrapped = serde_json::to_vec(&proto::Response::ok(&parts.head))?;
        let maps = wrapped
            .windows(MAPS.len())
            .rposition(|w| w == MAPS)
            .ok_or_else(|| std::io::Error::other("no job maps in the encoded environment"))?;
        let mid = br#"},"http_jobs":{"#;
        let head = [wrapped[..maps + 8].to_vec(), mid.to_vec(), wrapped[maps + MAPS.len() - 1..].to_vec()];
        Ok(Some(Layout { head, jobs, http_jobs }))
    }

    /// True when the piece kept at this position of the walk is this
    /// entry at this version. Whether it is of the walk's configuration
    /// is known only after the walk ([`Pieces::update`] checks it).
    pub fn is_kept(&self, at: usize, kind: JobKind, id: &JobId, version: u64) -> bool {
        self.at.get(at).is_some_and(|p| p.is(kind, id, version))
    }

    /// Forgets every piece (the next walk encodes every job).
    pub fn clear(&mut self) {
        self.at.clear();
        self.order = None;
        self.reloads = None;
    }
}

/// The positions of each map's pieces sorted by name, as the `BTreeMap`s
/// of `Environment` hold them: of two entries with one name, the later.
fn by_name(at: &[Arc<Piece>]) -> [Vec<usize>; 2] {
    let sorted = |kind: JobKind| {
        let mut v: Vec<usize> = (0..at.len()).filter(|&i| at[i].kind == kind).collect();
        // Stable: entries of one name stay in walk order, the last wins.
        v.sort_by(|&a, &b| at[a].name.cmp(&at[b].name));
        let mut out: Vec<usize> = Vec::with_capacity(v.len());
        for i in v {
            match out.last_mut() {
                Some(last) if at[*last].name == at[i].name => *last = i,
                _ => out.push(i),
            }
        }
        out
    };
    [sorted(JobKind::Job), sorted(JobKind::JobHttp)]
}

impl Layout {
    /// The answer as JSON, in chunks to send one after the other: the
    /// settings around the maps, and runs of [`SEND_RUN`] pieces each joined
    /// once and kept in `runs` while their pieces stay the same, so an
    /// answer after one change copies one run, not every job.
    pub fn json(&self, runs: &Mutex<Runs<Bytes>>) -> Vec<Bytes> {
        let join = |run: &[u8]| Bytes::copy_from_slice(run);
        let mut chunks = vec![Bytes::copy_from_slice(&self.head[0])];
        runs_of(JobKind::Job, &self.jobs, SEND_RUN, runs, &join, &mut chunks);
        chunks.push(Bytes::copy_from_slice(&self.head[1]));
        runs_of(JobKind::JobHttp, &self.http_jobs, SEND_RUN, runs, &join, &mut chunks);
        chunks.push(Bytes::copy_from_slice(&self.head[2]));
        chunks
    }

    /// The answer as one gzip member (see the module header), from the
    /// runs kept in `runs` where their pieces are the same.
    pub fn gzip(&self, runs: &Mutex<Runs<Arc<Deflated>>>) -> Bytes {
        let squeeze = |run: &[u8]| Arc::new(deflate(run));
        let mut blocks = vec![Arc::new(deflate(&self.head[0]))];
        runs_of(JobKind::Job, &self.jobs, RUN, runs, &squeeze, &mut blocks);
        blocks.push(Arc::new(deflate(&self.head[1])));
        runs_of(JobKind::JobHttp, &self.http_jobs, RUN, runs, &squeeze, &mut blocks);
        blocks.push(Arc::new(deflate(&self.head[2])));
        let mut crc = Crc::new();
        let mut out = BytesMut::with_capacity(blocks.iter().map(|b| b.bytes.len()).sum::<usize>() + 20);
        out.put_slice(&[0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff]);
        for b in &blocks {
            out.put_slice(&b.bytes);
            crc.combine(&b.crc);
        }
        // An empty final block with fixed codes, then CRC-32 and length.
        out.put_slice(&[0x03, 0x00]);
        out.put_u32_le(crc.sum());
        out.put_u32_le(crc.amount());
        out.freeze()
    }
}

/// A map's pieces with the commas between them.
fn joined(out: &mut BytesMut, ps: &[Arc<Piece>]) {
    for (i, p) in ps.iter().enumerate() {
        if i > 0 {
            out.put_u8(b',');
        }
        out.put_slice(&p.json);
    }
}

/// How many pieces are deflated together: deflate looks back 32 KiB at
/// most and 32 jobs are about 50 KB, so the answer compresses almost as
/// well as in one go, while a change costs one run's compression. (One
/// piece at a time made the gzip form 8 times larger.)
const RUN: usize = 32;

/// How many pieces are joined into one chunk of the plain form, about
/// 1 MB: with 10,000 jobs an answer after a change copies one chunk, not
/// 20 MB. Runs of 32 (50 KB chunks) made a whole answer 1.6-2 times
/// slower to send than one buffer; at 512 it is as fast or faster
/// (BENCHMARKS.md, sixth pass).
const SEND_RUN: usize = 512;

/// Runs of pieces made into a `T` (joined JSON, deflated JSON),
/// by map and position, kept with the pieces (the same `Arc`s) they were
/// made of.
#[derive(Debug)]
pub struct Runs<T> {
    kept: HashMap<(JobKind, usize), Run<T>>,
}

/// A run's pieces and what was made of them.
type Run<T> = (Vec<Arc<Piece>>, T);

impl<T> Default for Runs<T> {
    fn default() -> Self {
        Runs { kept: HashMap::new() }
    }
}

/// Appends one `T` per run of `size` pieces of `ps`: the kept one where
/// the run's pieces are the same, else `make` of the run's JSON (with its
/// leading comma after the first run), kept for the next answer.
fn runs_of<T: Clone>(
    kind: JobKind,
    ps: &[Arc<Piece>],
    size: usize,
    runs: &Mutex<Runs<T>>,
    make: &dyn Fn(&[u8]) -> T,
    out: &mut Vec<T>,
) {
    let lock = || runs.lock().unwrap_or_else(|e| e.into_inner());
    for (i, run) in ps.chunks(size).enumerate() {
        let same = |(members, _): &&Run<T>| {
            members.len() == run.len() && members.iter().zip(run).all(|(a, b)| Arc::ptr_eq(a, b))
        };
        let kept = lock().kept.get(&(kind, i)).filter(same).map(|(_, made)| made.clone());
        let made = kept.unwrap_or_else(|| {
            let mut json = BytesMut::with_capacity(run.iter().map(|p| p.json.len() + 1).sum());
            if i > 0 {
                json.put_u8(b',');
            }
            joined(&mut json, run);
            let made = make(&json);
            lock().kept.insert((kind, i), (run.to_vec(), made.clone()));
            made
        });
        out.push(made);
    }
    let count = ps.len().div_ceil(size);
    lock().kept.retain(|(k, i), _| *k != kind || *i < count);
}

/// `data` as raw deflate blocks ending on a full flush: byte-aligned and
/// referring to nothing before them, so such pieces join into one stream.
fn deflate(data: &[u8]) -> Deflated {
    let mut c = Compress::new(Compression::default(), false);
    let mut out = Vec::with_capacity(data.len() / 3 + 64);
    loop {
        let done = c.total_in() as usize;
        // Only a stream error fails, and a fresh stream given memory has none.
        c.compress_vec(&data[done..], &mut out, FlushCompress::Full).expect("deflate on memory");
        // The flush is complete once it left room in the output.
        if c.total_in() as usize == data.len() && out.len() < out.capacity() {
            break;
        }
        out.reserve(out.capacity().max(64));
    }
    let mut crc = Crc::new();
    crc.update(data);
    Deflated { bytes: out, crc }
}
