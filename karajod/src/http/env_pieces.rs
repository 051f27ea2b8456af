//! `/environment` assembled from one encoded piece per job: a job's
//! `"name":{…}` is encoded (and, once a client asks for gzip, deflated) when
//! its version moves, and kept otherwise, so an answer after one change
//! costs one job's encoding and copies of the rest.
//!
//! The gzip form is one gzip member whose deflate stream is the pieces'
//! deflate blocks one after the other: each piece is compressed on its own
//! and ends on a full flush (byte-aligned, no back-reference into another
//! piece), the stream ends with an empty final block, and the CRC-32 of
//! the whole is combined from the pieces' (as pigz joins its blocks).
//!
//! Invariant: the assembled JSON is byte for byte what `serde_json` makes
//! of `Response::ok(Environment)` for the same state (the test below and
//! `engine::tests` check it): the maps are sorted by name like the
//! `BTreeMap`s, and a later entry of the same name replaces an earlier one.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, OnceLock};

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
    name: String,
    json: Vec<u8>,
    gz: OnceLock<Deflated>,
}

impl Piece {
    fn encode(version: u64, view: &AnyJob) -> std::io::Result<Piece> {
        let (kind, name) = match view {
            AnyJob::Job(j) => (JobKind::Job, j.base.name.clone()),
            AnyJob::Http(j) => (JobKind::JobHttp, j.base.name.clone()),
        };
        let mut json = Vec::with_capacity(1024);
        serde_json::to_writer(&mut json, &name)?;
        json.push(b':');
        serde_json::to_writer(&mut json, view)?;
        Ok(Piece { version, kind, name, json, gz: OnceLock::new() })
    }

    fn deflated(&self) -> &Deflated {
        self.gz.get_or_init(|| deflate(&self.json))
    }
}

/// The kept pieces, by entry, of one configuration (reload count).
#[derive(Debug, Default)]
pub struct Pieces {
    reloads: Option<u64>,
    by_entry: HashMap<(JobKind, JobId), Arc<Piece>>,
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
        let mut old = std::mem::take(&mut self.by_entry);
        if self.reloads != Some(parts.reloads) {
            old.clear();
        }
        self.reloads = Some(parts.reloads);
        let (mut jobs, mut http_jobs) = (BTreeMap::new(), BTreeMap::new());
        for part in parts.parts {
            let key = (part.kind, part.id);
            let piece = match (part.view, old.remove(&key)) {
                (Some(view), _) => Arc::new(Piece::encode(part.version, &view)?),
                (None, Some(kept)) if kept.version == part.version => kept,
                // Kept when the walk began, but not of this configuration.
                (None, _) => {
                    self.clear();
                    return Ok(None);
                }
            };
            let map = if piece.kind == JobKind::Job { &mut jobs } else { &mut http_jobs };
            map.insert(piece.name.clone(), piece.clone());
            self.by_entry.insert(key, piece);
        }
        let wrapped = serde_json::to_vec(&proto::Response::ok(&parts.head))?;
        let at = wrapped
            .windows(MAPS.len())
            .rposition(|w| w == MAPS)
            .ok_or_else(|| std::io::Error::other("no job maps in the encoded environment"))?;
        let mid = br#"},"http_jobs":{"#;
        let head = [wrapped[..at + 8].to_vec(), mid.to_vec(), wrapped[at + MAPS.len() - 1..].to_vec()];
        Ok(Some(Layout { head, jobs: jobs.into_values().collect(), http_jobs: http_jobs.into_values().collect() }))
    }

    /// True when the piece kept for this entry is of this version. Whether
    /// it is of the walk's configuration is known only after the walk
    /// ([`Pieces::update`] checks it).
    pub fn is_kept(&self, kind: JobKind, id: &JobId, version: u64) -> bool {
        self.by_entry.get(&(kind, id.clone())).is_some_and(|p| p.version == version)
    }

    /// Forgets every piece (the next walk encodes every job).
    pub fn clear(&mut self) {
        self.by_entry.clear();
        self.reloads = None;
    }
}

impl Layout {
    fn chunks(&self) -> impl Iterator<Item = Chunk<'_>> {
        std::iter::once(Chunk::Head(&self.head[0]))
            .chain(listed(&self.jobs))
            .chain(std::iter::once(Chunk::Head(&self.head[1])))
            .chain(listed(&self.http_jobs))
            .chain(std::iter::once(Chunk::Head(&self.head[2])))
    }

    /// The answer as JSON.
    pub fn json(&self) -> Bytes {
        let len = self.chunks().map(|c| c.json().len()).sum();
        let mut out = BytesMut::with_capacity(len);
        for c in self.chunks() {
            out.put_slice(c.json());
        }
        out.freeze()
    }

    /// The answer as one gzip member (see the module header).
    pub fn gzip(&self) -> Bytes {
        let (comma, heads) = (deflate(b","), self.head.each_ref().map(|h| deflate(h)));
        let mut crc = Crc::new();
        let mut out = BytesMut::with_capacity(self.chunks().count() * 16 + 64);
        out.put_slice(&[0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff]);
        let mut heads = heads.iter();
        for c in self.chunks() {
            let d = match c {
                Chunk::Head(_) => heads.next().expect("one deflated head per head"),
                Chunk::Comma => &comma,
                Chunk::Piece(p) => p.deflated(),
            };
            out.put_slice(&d.bytes);
            crc.combine(&d.crc);
        }
        // An empty final block with fixed codes, then CRC-32 and length.
        out.put_slice(&[0x03, 0x00]);
        out.put_u32_le(crc.sum());
        out.put_u32_le(crc.amount());
        out.freeze()
    }
}

/// A map's pieces with the commas between them.
fn listed(ps: &[Arc<Piece>]) -> impl Iterator<Item = Chunk<'_>> {
    ps.iter().enumerate().flat_map(|(i, p)| [(i > 0).then_some(Chunk::Comma), Some(Chunk::Piece(p))]).flatten()
}

enum Chunk<'a> {
    Head(&'a [u8]),
    Comma,
    Piece(&'a Piece),
}

impl Chunk<'_> {
    fn json(&self) -> &[u8] {
        match self {
            Chunk::Head(h) => h,
            Chunk::Comma => b",",
            Chunk::Piece(p) => &p.json,
        }
    }
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
