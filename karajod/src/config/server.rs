//! `[karajo]`: the daemon's own settings, with their defaults.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::time::Duration;

use rand::Rng;
use rand::distr::Alphanumeric;

use super::fields::Fields;
use super::model::{DEFAULT_HTTP_TIMEOUT, DEFAULT_LISTEN_ADDRESS, Secret, ServerConfig, TlsFiles};

/// Length of the secret generated when `[karajo] secret` is empty.
pub const GENERATED_SECRET_LEN: usize = 32;

/// The keys `[karajo]` reads; `dir_base` is read first by the loader.
pub fn read(f: &mut Fields<'_>, dir_base: PathBuf) -> ServerConfig {
    let name = f.string("name").map(|(_, v)| v).filter(|v| !v.is_empty()).unwrap_or_else(|| "karajo".into());
    let listen_address = f
        .string("listen_address")
        .map(|(_, v)| v)
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| DEFAULT_LISTEN_ADDRESS.into());
    let listen_addr = match parse_listen_address(&listen_address) {
        Ok(a) => a,
        Err(msg) => {
            let e = f.last("listen_address").expect("a bad address came from the file");
            f.error(e, msg);
            SocketAddr::from(([127, 0, 0, 1], 31937))
        }
    };
    let http_timeout = match f.duration("http_timeout") {
        Some((_, n)) if n > 0 => Duration::from_nanos(n as u64),
        Some((e, _)) => {
            f.error(e, "must be a positive duration, e.g. 5m");
            DEFAULT_HTTP_TIMEOUT
        }
        None => DEFAULT_HTTP_TIMEOUT,
    };
    let dir_public = f.string("dir_public").map(|(_, v)| v).filter(|v| !v.is_empty()).map(PathBuf::from);
    if let Some(dir) = &dir_public {
        check_dir_public(f, dir);
    }
    let secret = f.string("secret").map(|(_, v)| v).unwrap_or_default();
    let secret_generated = secret.is_empty();
    let secret = if secret_generated { generate_secret() } else { secret };
    let max_job_running = match f.int("max_job_running") {
        Some((_, n)) if (1..=i64::from(u16::MAX)).contains(&n) => n as u32,
        Some((e, _)) => {
            f.error(e, "must be a whole number from 1 to 65535");
            1
        }
        None => 1,
    };
    let control_socket = f
        .string("control_socket")
        .map(|(_, v)| v)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| dir_base.join("var/run/karajo/karajod.sock"));
    let replay_window = match f.duration("replay_window") {
        Some((_, n)) if n > 0 => Some(Duration::from_nanos(n as u64)),
        Some((_, 0)) | None => None,
        Some((e, _)) => {
            f.error(e, "must be a positive duration like 5m, or 0 for off");
            None
        }
    };
    let metrics_token = f.string("metrics_token").map(|(_, v)| v).filter(|v| !v.is_empty()).map(Secret::new);
    let is_development = f.bool("is_development").unwrap_or(false);
    let timezone = super::job::read_timezone(f).unwrap_or(crate::schedule::Tz::UTC);
    let classic_signatures = f.bool("classic_signatures").unwrap_or(true);
    let tls = read_tls(f);
    f.last("dir_base"); // read by the loader; mark it known
    ServerConfig {
        name,
        listen_address,
        listen_addr,
        http_timeout,
        dir_base,
        dir_public,
        secret: Secret::new(secret),
        secret_generated,
        max_job_running,
        control_socket,
        replay_window,
        metrics_token,
        is_development,
        timezone,
        classic_signatures,
        tls,
    }
}

/// `tls_cert` and `tls_key`: both or neither, each a readable file.
fn read_tls(f: &mut Fields<'_>) -> Option<TlsFiles> {
    let cert = f.string("tls_cert").filter(|(_, v)| !v.is_empty());
    let key = f.string("tls_key").filter(|(_, v)| !v.is_empty());
    let mut readable = |e, v: &str| match std::fs::File::open(v) {
        Ok(_) => true,
        Err(err) => {
            f.error(e, format!("cannot read \"{v}\": {err}"));
            false
        }
    };
    match (cert, key) {
        (None, None) => None,
        (Some((e, c)), Some((ek, k))) => {
            let ok = readable(e, &c) & readable(ek, &k);
            ok.then(|| TlsFiles { cert: PathBuf::from(c), key: PathBuf::from(k) })
        }
        (Some((e, _)), None) | (None, Some((e, _))) => {
            f.error(e, "tls_cert and tls_key go together: set both (PEM files) or neither");
            None
        }
    }
}

/// `HOST:PORT`, `[V6]:PORT`, or `:PORT` for all interfaces.
pub fn parse_listen_address(s: &str) -> Result<SocketAddr, String> {
    let s = s.trim();
    if let Some(port) = s.strip_prefix(':') {
        let port: u16 = port.parse().map_err(|_| format!("invalid port in \"{s}\": expected :PORT or HOST:PORT"))?;
        return Ok(SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), port));
    }
    if let Ok(a) = s.parse::<SocketAddr>() {
        return Ok(a);
    }
    if let Some((host, port)) = s.rsplit_once(':')
        && host.eq_ignore_ascii_case("localhost")
        && let Ok(port) = port.parse::<u16>()
    {
        return Ok(SocketAddr::from(([127, 0, 0, 1], port)));
    }
    Err(format!("invalid address \"{s}\": expected IP:PORT (e.g. 127.0.0.1:31937) or :PORT"))
}

fn check_dir_public(f: &mut Fields<'_>, dir: &Path) {
    let e = f.last("dir_public").expect("dir_public came from the file");
    if dir.join("karajo").exists() {
        f.error(e, format!("\"{}\" holds an entry named \"karajo\" that would shadow the dashboard", dir.display()));
    } else if !dir.is_dir() {
        f.warn(e, format!("\"{}\" is not a directory; nothing will be served at /", dir.display()));
    }
}

/// A random secret of [`GENERATED_SECRET_LEN`] letters and digits, as an empty
/// `[karajo] secret` gets.
pub fn generate_secret() -> String {
    rand::rng().sample_iter(&Alphanumeric).take(GENERATED_SECRET_LEN).map(char::from).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listen_addresses() {
        assert_eq!(parse_listen_address(":31937").unwrap(), "0.0.0.0:31937".parse().unwrap());
        assert_eq!(parse_listen_address("127.0.0.1:80").unwrap(), "127.0.0.1:80".parse().unwrap());
        assert_eq!(parse_listen_address("[::1]:80").unwrap(), "[::1]:80".parse().unwrap());
        assert_eq!(parse_listen_address("localhost:8").unwrap(), "127.0.0.1:8".parse().unwrap());
        assert!(parse_listen_address("nope").is_err());
        assert!(parse_listen_address(":99999").is_err());
    }

    #[test]
    fn generated_secrets_are_random_and_long() {
        let (a, b) = (generate_secret(), generate_secret());
        assert_eq!(a.len(), GENERATED_SECRET_LEN);
        assert_ne!(a, b);
    }
}
