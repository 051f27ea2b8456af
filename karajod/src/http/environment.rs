//! `GET /karajo/api/environment` as sent: the encoded answer, and its gzip
//! form once a client asks for it, are kept and sent again until the
//! engine's state version moves. Encoding 1,000 jobs costs a few
//! milliseconds and compressing them as much again; every browser asks
//! for gzip, and the dashboard polls. An unchanged answer costs a lock and
//! a clone.
//!
//! Invariant: the version is read before the view is built, so a change
//! made meanwhile makes the next request build again rather than be
//! served stale. A backend that has no version (route-test fakes) is
//! encoded on every request.

use std::io::Write;
use std::sync::Mutex;

use bytes::Bytes;

use crate::engine::StateVersion;
use crate::http::Backend;

/// The body's form on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Identity,
    Gzip,
}

/// The last encoded answer and the state version it shows.
#[derive(Debug, Default)]
pub struct EnvironmentCache {
    kept: Mutex<Option<Kept>>,
}

#[derive(Debug)]
struct Kept {
    version: StateVersion,
    json: Bytes,
    gzip: Option<Bytes>,
}

impl Kept {
    fn get(&self, enc: Encoding) -> Option<Bytes> {
        match enc {
            Encoding::Identity => Some(self.json.clone()),
            Encoding::Gzip => self.gzip.clone(),
        }
    }
}

impl EnvironmentCache {
    /// The kept answer in `enc` if nothing changed since it was made:
    /// cheap, so the route tries it on the async workers first.
    pub fn unchanged(&self, b: &dyn Backend, enc: Encoding) -> Option<Bytes> {
        let now = b.state_version()?;
        self.lock().as_ref().filter(|k| k.version == now).and_then(|k| k.get(enc))
    }

    /// The answer in `enc`, encoded (and compressed) again only for what
    /// the kept one lacks. Blocking work: call it off the async workers.
    pub fn answer(&self, b: &dyn Backend, enc: Encoding) -> std::io::Result<Bytes> {
        let version = b.state_version();
        let (json, last_len) = match (&*self.lock(), version) {
            (Some(k), Some(now)) if k.version == now => match k.get(enc) {
                Some(body) => return Ok(body),
                None => (Some(k.json.clone()), k.json.len()),
            },
            (Some(k), _) => (None, k.json.len()),
            (None, _) => (None, 0),
        };
        let json = match json {
            Some(j) => j,
            None => encode(b, last_len)?,
        };
        let gzip = match enc {
            Encoding::Gzip => Some(compress(&json)?),
            Encoding::Identity => None,
        };
        let answer = match enc {
            Encoding::Gzip => gzip.clone().expect("compressed above"),
            Encoding::Identity => json.clone(),
        };
        if let Some(version) = version {
            let mut kept = self.lock();
            match kept.as_mut() {
                // Another request encoded the same state meanwhile: add what it lacks.
                Some(k) if k.version == version => k.gzip = k.gzip.take().or(gzip),
                _ => *kept = Some(Kept { version, json, gzip }),
            }
        }
        Ok(answer)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<Kept>> {
        self.kept.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The `200 OK` wrapper around the environment, as JSON. Sized from the
/// last answer: growing 850 KB by doubling copies twice that.
fn encode(b: &dyn Backend, last_len: usize) -> std::io::Result<Bytes> {
    let mut bytes = Vec::with_capacity(last_len + last_len / 16);
    serde_json::to_writer(&mut bytes, &proto::Response::ok(b.environment()))?;
    Ok(Bytes::from(bytes))
}

fn compress(json: &[u8]) -> std::io::Result<Bytes> {
    let mut gz = flate2::write::GzEncoder::new(Vec::with_capacity(json.len() / 8), flate2::Compression::default());
    gz.write_all(json)?;
    Ok(Bytes::from(gz.finish()?))
}
