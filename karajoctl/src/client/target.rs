//! Where the daemon is: its Unix control socket, or `--url` over TCP,
//! validated once from the command line.
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
    /// `authority` is `host:port`; `prefix` is the URL's path without a trailing `/`.
    Tcp {
        authority: String,
        prefix: String,
    },
}

impl Target {
    /// `--url` wins over `--socket` (which always has a value: its default).
    pub fn from_args(g: &Global) -> anyhow::Result<Target> {
        let Some(url) = &g.url else {
            return Ok(Target::Socket(g.socket.clone()));
        };
        let rest = match url.split_once("://") {
            Some(("http", rest)) => rest,
            Some(("https", _)) => {
                bail!(
                    "--url {url}: https is not supported; karajod serves plain HTTP (use an SSH tunnel for remote daemons)"
                )
            }
            _ => bail!("--url {url}: expected http://HOST[:PORT][/PREFIX]"),
        };
        let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
        if authority.is_empty() || authority.contains('@') {
            bail!("--url {url}: expected http://HOST[:PORT][/PREFIX]");
        }
        let has_port = authority.rsplit_once(':').is_some_and(|(_, p)| p.bytes().all(|b| b.is_ascii_digit()))
            && !authority.ends_with(']');
        let authority = if has_port { authority.to_string() } else { format!("{authority}:80") };
        Ok(Target::Tcp { authority, prefix: path.trim_end_matches('/').to_string() })
    }

    /// How errors name this target: `socket PATH` or the URL.
    pub fn describe(&self) -> String {
        match self {
            Target::Socket(p) => format!("socket {}", p.display()),
            Target::Tcp { authority, prefix } => format!("http://{authority}{prefix}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn global(url: Option<&str>) -> Global {
        Global { json: false, socket: "/run/k.sock".into(), url: url.map(str::to_string), secret: None }
    }

    #[test]
    fn url_wins_over_socket_and_gets_a_default_port() {
        assert_eq!(Target::from_args(&global(None)).unwrap(), Target::Socket("/run/k.sock".into()));
        assert_eq!(
            Target::from_args(&global(Some("http://127.0.0.1:31937/"))).unwrap(),
            Target::Tcp { authority: "127.0.0.1:31937".into(), prefix: String::new() }
        );
        assert_eq!(
            Target::from_args(&global(Some("http://example.org/ops"))).unwrap(),
            Target::Tcp { authority: "example.org:80".into(), prefix: "/ops".into() }
        );
        assert_eq!(
            Target::from_args(&global(Some("http://[::1]"))).unwrap(),
            Target::Tcp { authority: "[::1]:80".into(), prefix: String::new() }
        );
        for bad in ["127.0.0.1:31937", "https://x", "ftp://x", "http://", "http://u@h"] {
            assert!(Target::from_args(&global(Some(bad))).is_err(), "{bad}");
        }
    }
}
