//! Opening the history database: the SQLite file (created 0600 in a 0700
//! folder, WAL, locked against a second karajod) or a PostgreSQL URL, then
//! the migrations of its dialect.
//!
//! A second karajod on the same file is refused through an `flock` on
//! `karajo.db.lock`, not through SQLite's own locks, so `sqlite3 karajo.db
//! ".backup ..."` still works while the daemon runs.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use sqlx::any::AnyPoolOptions;
use sqlx::{Connection, Executor};

use super::{Backend, History, HistoryError};

/// How long a start waits for PostgreSQL before it gives up.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// SQLite connections: WAL lets readers (the runs API) go beside the writer.
const SQLITE_CONNECTIONS: u32 = 4;
const POSTGRES_CONNECTIONS: u32 = 8;
/// How often the WAL is copied back into the database file, beside the writers.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(500);
/// SQLite's own checkpoint, in the committing connection, only past this
/// many WAL pages (40 MiB): the safety net should the background one stall.
const AUTOCHECKPOINT_PAGES: u32 = 10_000;

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("src/store/history/migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("src/store/history/migrations/postgres");

/// Which database to open.
#[derive(Clone, PartialEq, Eq)]
pub enum Location {
    Sqlite(PathBuf),
    /// A `postgres://` or `postgresql://` URL; may hold a password.
    Postgres(String),
}

impl fmt::Debug for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::Sqlite(p) => write!(f, "Sqlite({})", p.display()),
            Location::Postgres(url) => write!(f, "Postgres({})", proto::redact::url(url).into_owned()),
        }
    }
}

impl Location {
    /// The database's name for errors: the file, or the URL with its password hidden.
    pub fn place(&self) -> String {
        match self {
            Location::Sqlite(p) => p.display().to_string(),
            Location::Postgres(url) => proto::redact::url(url).into_owned(),
        }
    }
}

impl History {
    /// Opens (creating and migrating) the database at `loc`.
    pub async fn open(loc: &Location) -> Result<History, HistoryError> {
        sqlx::any::install_default_drivers();
        let place = loc.place();
        let fail = |what| {
            let place = place.clone();
            move |source| HistoryError { place, what, source }
        };
        let (pool, backend, lock) = match loc {
            Location::Sqlite(path) => {
                let lock = lock_file(path).map_err(fail("lock the database (is another karajod using it?)"))?;
                prepare_sqlite(path).await.map_err(fail("open the database"))?;
                let pool = AnyPoolOptions::new()
                    .max_connections(SQLITE_CONNECTIONS)
                    .min_connections(1)
                    // sqlx pings each connection it hands out: a round trip to
                    // the connection's thread on every statement, for a file
                    // that cannot go away under an open connection.
                    .test_before_acquire(false)
                    .after_connect(|conn, _| {
                        Box::pin(async move {
                            conn.execute("PRAGMA synchronous = NORMAL").await?;
                            // SQLite checkpoints in the connection whose commit crosses
                            // 1,000 WAL pages: that run's write then waits for the copy
                            // and its fsync (~4 ms, the p99 of a run's database time).
                            // The background task below does it instead.
                            conn.execute(format!("PRAGMA wal_autocheckpoint = {AUTOCHECKPOINT_PAGES}").as_str())
                                .await?;
                            Ok(())
                        })
                    })
                    .connect(&sqlite_url(path))
                    .await
                    .map_err(fail("open the database"))?;
                (pool, Backend::Sqlite, Some(Arc::new(lock)))
            }
            Location::Postgres(url) => {
                // One plain connection first: its error says why (refused,
                // bad password, no such database), where the pool's says "timed out".
                let probe = tokio::time::timeout(CONNECT_TIMEOUT, sqlx::AnyConnection::connect(url)).await;
                match probe {
                    Ok(conn) => conn.map_err(fail("connect"))?.close().await.map_err(fail("connect"))?,
                    Err(_) => return Err(fail("connect")(sqlx::Error::PoolTimedOut)),
                }
                let pool = AnyPoolOptions::new()
                    .max_connections(POSTGRES_CONNECTIONS)
                    .acquire_timeout(CONNECT_TIMEOUT)
                    .connect(url)
                    .await
                    .map_err(fail("connect"))?;
                (pool, Backend::Postgres, None)
            }
        };
        let migrator = match backend {
            Backend::Sqlite => &SQLITE_MIGRATIONS,
            Backend::Postgres => &POSTGRES_MIGRATIONS,
        };
        migrator.run(&pool).await.map_err(|e| fail("migrate the database")(e.into()))?;
        let checkpoints = (backend == Backend::Sqlite).then(|| Arc::new(Checkpoints::start(pool.clone())));
        Ok(History { pool, backend, place, _lock: lock, _checkpoints: checkpoints })
    }
}

impl History {
    /// Opens an existing database for reading only (`karajod check` beside
    /// a running daemon): no lock, no migration; `None` when the SQLite
    /// file does not exist yet (nothing has run).
    pub async fn open_read_only(loc: &Location) -> Result<Option<History>, HistoryError> {
        sqlx::any::install_default_drivers();
        let place = loc.place();
        let url = match loc {
            Location::Sqlite(path) if !path.exists() => return Ok(None),
            Location::Sqlite(path) => sqlite_url(path).replace("?mode=rw", "?mode=ro"),
            Location::Postgres(url) => url.clone(),
        };
        let backend = match loc {
            Location::Sqlite(_) => Backend::Sqlite,
            Location::Postgres(_) => Backend::Postgres,
        };
        let pool = AnyPoolOptions::new()
            .max_connections(1)
            .acquire_timeout(CONNECT_TIMEOUT)
            .connect(&url)
            .await
            .map_err(|source| HistoryError { place: place.clone(), what: "open the database", source })?;
        Ok(Some(History { pool, backend, place, _lock: None, _checkpoints: None }))
    }
}

/// Copies the WAL into the database file every [`CHECKPOINT_EVERY`] on a
/// connection of its own (`PASSIVE`: it waits for no reader and no
/// writer), so no run's commit pays for it. Aborted when dropped.
pub(super) struct Checkpoints(tokio::task::JoinHandle<()>);

impl Checkpoints {
    fn start(pool: sqlx::AnyPool) -> Checkpoints {
        Checkpoints(tokio::spawn(async move {
            let mut tick = tokio::time::interval(CHECKPOINT_EVERY);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                if pool.is_closed() {
                    return;
                }
                // A failure (a full disk, a busy file) leaves the WAL to the
                // next tick, or to SQLite's own checkpoint past its limit.
                if let Err(e) = pool.execute("PRAGMA wal_checkpoint(PASSIVE)").await {
                    tracing::debug!("history database: WAL checkpoint: {e}");
                }
            }
        }))
    }
}

impl Drop for Checkpoints {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Creates the file (0600, in a 0700 folder) in WAL mode: WAL is a
/// property of the file, so every later connection has it.
async fn prepare_sqlite(path: &Path) -> Result<(), sqlx::Error> {
    use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode};
    let opts = SqliteConnectOptions::new()
        .filename(path)
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .busy_timeout(Duration::from_secs(2));
    let mut conn = sqlx::SqliteConnection::connect_with(&opts).await?;
    // A file that is not a database fails here, at start, naming the file.
    conn.execute("SELECT count(*) FROM sqlite_master").await?;
    conn.close().await
}

/// Takes `PATH.lock` for the life of the daemon; creates the folder first.
fn lock_file(db: &Path) -> Result<nix::fcntl::Flock<std::fs::File>, sqlx::Error> {
    use std::os::unix::fs::OpenOptionsExt;
    if let Some(dir) = db.parent() {
        crate::store::ensure_dir(dir).map_err(|e| sqlx::Error::Io(e.source))?;
    }
    let mut name = db.as_os_str().to_owned();
    name.push(".lock");
    let file = std::fs::OpenOptions::new().create(true).truncate(false).write(true).mode(0o600).open(&name)?;
    nix::fcntl::Flock::lock(file, nix::fcntl::FlockArg::LockExclusiveNonblock)
        .map_err(|(_, errno)| sqlx::Error::Io(std::io::Error::from(errno)))
}

/// `sqlite://PATH`, with the characters a URL would eat percent-encoded.
fn sqlite_url(path: &Path) -> String {
    use percent_encoding::{AsciiSet, CONTROLS, utf8_percent_encode};
    const SPECIAL: &AsciiSet = &CONTROLS.add(b'%').add(b'?').add(b'#').add(b' ');
    format!("sqlite://{}?mode=rw", utf8_percent_encode(&path.to_string_lossy(), SPECIAL))
}
