//! `GET /karajo/api/environment` as sent: the answer is assembled from one
//! kept piece per job (see `env_pieces.rs`: only the jobs that changed are
//! encoded again), and the assembled answer, in each form (plain, gzip)
//! once a client asks for that form, is kept and sent again until the
//! engine's state version moves. Every browser asks for gzip, and the
//! dashboard polls.
//! The answer carries an `ETag` of the state version; a request whose
//! `If-None-Match` names it is answered 304 with no body.
//!
//! Invariant: a kept answer and its `ETag` show the state of the version
//! they are kept under (each job's version is read under its lock with
//! its view), so an equal version later means an equal answer. A backend
//! that has no version (route-test fakes) is encoded on every request and
//! gets no `ETag`.

use std::io::Write;
use std::sync::{Arc, Mutex, MutexGuard};

use bytes::Bytes;

use crate::engine::StateVersion;
use crate::http::Backend;
use crate::http::env_pieces::{Deflated, Layout, Pieces, Runs};

/// The body's form on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Identity,
    Gzip,
}

/// A body to send, with its `ETag` when the state has a version.
#[derive(Debug, Clone)]
pub struct Answer {
    pub body: Body,
    pub etag: Option<String>,
}

/// A body as chunks sent one after the other: the plain form is many
/// (see `env_pieces.rs`), so no answer copies every job into one buffer;
/// the gzip form is one.
#[derive(Debug, Clone)]
pub struct Body(Arc<[Bytes]>);

impl Body {
    pub fn chunks(&self) -> &[Bytes] {
        &self.0
    }

    /// The very same body (no copy, no other answer), as kept.
    pub fn is_same(&self, other: &Body) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }

    /// The length in bytes (the `Content-Length`).
    pub fn len(&self) -> usize {
        self.0.iter().map(Bytes::len).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The body in one buffer: copied unless it is one chunk.
    pub fn to_bytes(&self) -> Bytes {
        match &*self.0 {
            [one] => one.clone(),
            many => Bytes::from(many.concat()),
        }
    }
}

impl From<Bytes> for Body {
    fn from(b: Bytes) -> Body {
        Body(Arc::new([b]))
    }
}

impl From<Vec<Bytes>> for Body {
    fn from(v: Vec<Bytes>) -> Body {
        Body(v.into())
    }
}

/// The last answer, the pieces it was made of, and the state version.
#[derive(Debug)]
pub struct EnvironmentCache {
    kept: Mutex<Option<Kept>>,
    pieces: Mutex<Pieces>,
    /// The joined runs of pieces the last plain form was made of.
    joined: Mutex<Runs<Bytes>>,
    /// The deflated runs of pieces the last gzip form was made of.
    runs: Mutex<Runs<Arc<Deflated>>>,
    /// Tells this daemon's ETags from another run's, whose versions
    /// start from zero again.
    nonce: u64,
}

impl Default for EnvironmentCache {
    fn default() -> Self {
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
        let nonce = (now.as_nanos() as u64) ^ (u64::from(std::process::id()) << 40);
        EnvironmentCache {
            kept: Mutex::default(),
            pieces: Mutex::default(),
            joined: Mutex::default(),
            runs: Mutex::default(),
            nonce,
        }
    }
}

#[derive(Debug)]
struct Kept {
    version: StateVersion,
    /// Each form is assembled when a client first asks for it: a
    /// browser's gzip answer never pays for copying the plain one.
    json: Option<Body>,
    gzip: Option<Body>,
    layout: Arc<Layout>,
}

impl Kept {
    fn slot(&mut self, enc: Encoding) -> &mut Option<Body> {
        match enc {
            Encoding::Identity => &mut self.json,
            Encoding::Gzip => &mut self.gzip,
        }
    }

    fn body(&self, enc: Encoding) -> Option<Body> {
        match enc {
            Encoding::Identity => self.json.clone(),
            Encoding::Gzip => self.gzip.clone(),
        }
    }
}

impl EnvironmentCache {
    /// The kept answer in `enc` if nothing changed since it was made:
    /// cheap, so the route tries it on the async workers first.
    pub fn unchanged(&self, b: &dyn Backend, enc: Encoding) -> Option<Answer> {
        let now = b.state_version()?;
        let kept = lock(&self.kept);
        let body = kept.as_ref().filter(|k| k.version == now)?.body(enc)?;
        Some(Answer { body, etag: Some(self.etag(now, enc)) })
    }

    /// The `ETag` to answer 304 with when `if_none_match` names the
    /// answer of the state now (or is `*`).
    pub fn not_modified(&self, b: &dyn Backend, enc: Encoding, if_none_match: &str) -> Option<String> {
        let tag = self.etag(b.state_version()?, enc);
        let named = if_none_match.split(',').map(str::trim).any(|t| t == "*" || t.trim_start_matches("W/") == tag);
        named.then_some(tag)
    }

    /// The answer in `enc`, made again only from what changed. Blocking
    /// work (milliseconds with thousands of jobs): call it off the async workers.
    pub fn answer(&self, b: &dyn Backend, enc: Encoding) -> std::io::Result<Answer> {
        if let Some(a) = self.unchanged(b, enc) {
            return Ok(a);
        }
        if let Some(a) = self.other_encoding(b, enc) {
            return Ok(a);
        }
        let Some((version, layout)) = self.walk(b)? else {
            return whole(b, enc);
        };
        let body = self.assemble(&layout, enc);
        let mut kept = Kept { version, json: None, gzip: None, layout: Arc::new(layout) };
        *kept.slot(enc) = Some(body.clone());
        *lock(&self.kept) = Some(kept);
        Ok(Answer { body, etag: Some(self.etag(version, enc)) })
    }

    fn assemble(&self, layout: &Layout, enc: Encoding) -> Body {
        match enc {
            Encoding::Identity => layout.json(&self.joined).into(),
            Encoding::Gzip => layout.gzip(&self.runs).into(),
        }
    }

    /// The kept answer in the form only that is missing.
    fn other_encoding(&self, b: &dyn Backend, enc: Encoding) -> Option<Answer> {
        let now = b.state_version()?;
        let layout = lock(&self.kept).as_ref().filter(|k| k.version == now)?.layout.clone();
        let body = self.assemble(&layout, enc);
        if let Some(k) = lock(&self.kept).as_mut().filter(|k| k.version == now) {
            *k.slot(enc) = Some(body.clone());
        }
        Some(Answer { body, etag: Some(self.etag(now, enc)) })
    }

    /// Every job's piece brought up to date; `None` from a backend
    /// without versions.
    fn walk(&self, b: &dyn Backend) -> std::io::Result<Option<(StateVersion, Layout)>> {
        // Held across the walk: one request at a time updates the pieces.
        let mut pieces = lock(&self.pieces);
        loop {
            let Some(parts) = b.environment_parts(&|i, kind, id, v| pieces.is_kept(i, kind, id, v)) else {
                return Ok(None);
            };
            let version = parts.version;
            if let Some(layout) = pieces.update(parts)? {
                return Ok(Some((version, layout)));
            }
        }
    }

    fn etag(&self, v: StateVersion, enc: Encoding) -> String {
        let gz = if enc == Encoding::Gzip { "-gz" } else { "" };
        format!("\"{:x}-{v}{gz}\"", self.nonce)
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// The whole answer encoded in one go, for a backend without versions.
fn whole(b: &dyn Backend, enc: Encoding) -> std::io::Result<Answer> {
    let json = serde_json::to_vec(&proto::Response::ok(b.environment()))?;
    let body = match enc {
        Encoding::Identity => Bytes::from(json),
        Encoding::Gzip => {
            let mut gz =
                flate2::write::GzEncoder::new(Vec::with_capacity(json.len() / 8), flate2::Compression::default());
            gz.write_all(&json)?;
            Bytes::from(gz.finish()?)
        }
    };
    Ok(Answer { body: body.into(), etag: None })
}
