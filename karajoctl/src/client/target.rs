//! Where the daemon is: its Unix control socket, or `--url` over TCP
//! (plain or TLS), validated once from the command line.
//!
//! Invariant: a [`Target::Tcp`] always has an explicit port and a prefix
//! without a trailing `/`, so request URIs are plain concatenations.

use std::path::PathBuf;

use anyhow::bail;

use crate::cli::Global;

/// Where the daemon is, validated from the command line.
#[derive(Debug, Clone, PartialEq)]
pub enum Target {
    Socket(PathBuf),
    /// `authority` is `host:port`; `prefix` is the URL's path without a
    /// trailing `/`; `tls` for `https://`.
    Tcp {
        authority: String,
        prefix: String,
        tls: bool,
    },
}

impl Target {
    /// `--url` wins over `--socket` (which always has a value: its default).
    pub fn from_args(g: &Global) -> anyhow::Result<Target> {
        let Some(url) = &g.url else {
            return Ok(Target::Socket(g.socket.clone()));
        };
        let (rest, tls) = match url.split_once("://") {
            Some(("http", rest)) => (rest, false),
            Some(("https", rest)) => (rest, true),
            _ => bail!("--url {url}: expected http[s]://HOST[:PORT][/PREFIX]"),
        };
        let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
        if authority.is_empty() || authority.contains('@') {
            bail!("--url {url}: expected http[s]://HOST[:PORT][/PREFIX]");
        }
        let has_port = authority.rsplit_once(':').is_some_and(|(_, p)| p.bytes().all(|b| b.is_ascii_digit()))
            && !authority.ends_with(']');
        let port = if tls { 443 } else { 80 };
        let authority = if has_port { authority.to_string() } else { format!("{authority}:{port}") };
        Ok(Target::Tcp { authority, prefix: path.trim_end_matches('/').to_string(), tls })
    }

    /// How errors name this target: `socket PATH` or the URL.
    pub fn describe(&self) -> String {
        match self {
            Target::Socket(p) => format!("socket {}", p.display()),
            Target::Tcp { authority, prefix, tls } => {
                format!("{}://{authority}{prefix}", if *tls { "https" } else { "http" })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn global(url: Option<&str>) -> Global {
        Global { json: false, socket: "/run/k.sock".into(), url: url.map(str::to_string), secret: None, cacert: None }
    }

    #[test]
    fn url_wins_over_socket_and_gets_a_default_port() {
        assert_eq!(Target::from_args(&global(None)).unwrap(), Target::Socket("/run/k.sock".into()));
        assert_eq!(
            Target::from_args(&global(Some("http://127.0.0.1:31937/"))).unwrap(),
            Target::Tcp { authority: "127.0.0.1:31937".into(), prefix: String::new(), tls: false }
        );
        assert_eq!(
            Target::from_args(&global(Some("http://example.org/ops"))).unwrap(),
            Target::Tcp { authority: "example.org:80".into(), prefix: "/ops".into(), tls: false }
        );
        assert_eq!(
            Target::from_args(&global(Some("http://[::1]"))).unwrap(),
            Target::Tcp { authority: "[::1]:80".into(), prefix: String::new(), tls: false }
        );
        assert_eq!(
            Target::from_args(&global(Some("https://karajo.example.org/"))).unwrap(),
            Target::Tcp { authority: "karajo.example.org:443".into(), prefix: String::new(), tls: true }
        );
        for bad in ["127.0.0.1:31937", "ftp://x", "http://", "https://", "http://u@h"] {
            assert!(Target::from_args(&global(Some(bad))).is_err(), "{bad}");
        }
    }
}
