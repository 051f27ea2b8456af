//! `[notif "NAME"]` (email via SMTP; webhooks are read in `webhook`) and
//! `[user "NAME"]` (dashboard logins). Credentials given as `$VAR` are
//! resolved here, once, at load.

use std::path::Path;

use super::fields::Fields;
use super::model::{NotifConfig, Origin, Secret, SmtpScheme, UserConfig, WebhookConfig};

/// Reads an environment variable by name; injected so tests need not touch
/// the process environment.
pub type EnvLookup<'a> = &'a dyn Fn(&str) -> Option<String>;

/// One `[notif "NAME"]` of either kind.
pub enum Notif {
    Email(NotifConfig),
    Webhook(WebhookConfig),
}

/// Reads one `[notif "NAME"]`. `None` when it cannot be used at all.
pub fn read_notif(f: &mut Fields<'_>, file: &Path, name: &str, line: usize, env: EnvLookup) -> Option<Notif> {
    match f.string("kind") {
        Some((_, k)) if k.trim().eq_ignore_ascii_case("email") => {}
        Some((_, k)) if k.trim().eq_ignore_ascii_case("webhook") => {
            return super::webhook::read_webhook(f, file, name, line, env).map(Notif::Webhook);
        }
        Some((e, k)) => f.error(e, format!("unknown kind \"{k}\": expected email or webhook")),
        None => f.section_error("missing kind: expected `kind = email` or `kind = webhook`"),
    }
    read_email(f, file, name, line, env).map(Notif::Email)
}

fn read_email(f: &mut Fields<'_>, file: &Path, name: &str, line: usize, env: EnvLookup) -> Option<NotifConfig> {
    let server = match f.string("smtp_server") {
        Some((e, v)) => match parse_smtp_server(&v) {
            Ok(s) => Some(s),
            Err(msg) => {
                f.error(e, msg);
                None
            }
        },
        None => {
            f.section_error(
                "missing smtp_server: expected smtps://HOST[:PORT], smtp+starttls://HOST[:PORT] or smtp://HOST[:PORT]",
            );
            None
        }
    };
    let smtp_user = f.string("smtp_user").map(|(_, v)| v.trim().to_string()).filter(|v| !v.is_empty());
    let mut password_reported = false;
    let smtp_password = match f.string("smtp_password") {
        Some((e, v)) => match resolve_credential(&v, env) {
            Ok(p) => p,
            Err(msg) => {
                f.error(e, msg);
                password_reported = true;
                String::new()
            }
        },
        None => String::new(),
    };
    if smtp_user.is_some() && smtp_password.is_empty() && !password_reported {
        f.section_error(
            "smtp_user is set but smtp_password is empty: give a password, or remove smtp_user for no AUTH",
        );
    }
    let smtp_insecure = f.bool("smtp_insecure").unwrap_or(false);
    let from = f.string("from").map(|(_, v)| v.trim().to_string()).unwrap_or_default();
    if from.is_empty() {
        f.section_error("missing from: expected a sender address like karajo@example.com");
    }
    let to: Vec<String> = f.list("to").into_iter().map(|(_, v)| v.trim().to_string()).collect();
    if to.is_empty() {
        f.section_error("missing to: expected at least one recipient (`to` may repeat)");
    }
    for (e, addr) in f.list("to").into_iter().chain(f.string("from")) {
        if !looks_like_mailbox(&addr) {
            f.error(e, format!("invalid address \"{}\": expected user@host or Name <user@host>", addr.trim()));
        }
    }
    let (scheme, host, port) = server?;
    Some(NotifConfig {
        name: name.to_string(),
        scheme,
        host,
        port,
        smtp_user,
        smtp_password: Secret::new(smtp_password),
        smtp_insecure,
        from,
        to,
        origin: Origin { file: file.to_path_buf(), line },
    })
}

/// `$NAME` reads the environment variable NAME; anything else is literal.
pub(super) fn resolve_credential(v: &str, env: EnvLookup) -> Result<String, String> {
    let Some(var) = v.trim().strip_prefix('$') else {
        return Ok(v.to_string());
    };
    match env(var) {
        Some(val) if !val.is_empty() => Ok(val),
        Some(_) => Err(format!("environment variable {var} (from \"${var}\") is empty")),
        None => Err(format!("environment variable {var} (from \"${var}\") is not set")),
    }
}

/// `smtps://host[:port]` (465), `smtp+starttls://host[:port]` (587), `smtp://host[:port]` (25).
pub fn parse_smtp_server(v: &str) -> Result<(SmtpScheme, String, u16), String> {
    let v = v.trim();
    let expected = "expected smtps://HOST[:PORT], smtp+starttls://HOST[:PORT] or smtp://HOST[:PORT]";
    let Some((scheme, rest)) = v.split_once("://") else {
        return Err(format!("invalid SMTP server \"{v}\": {expected}"));
    };
    let (scheme, default_port) = match scheme.to_ascii_lowercase().as_str() {
        "smtps" => (SmtpScheme::Smtps, 465),
        "smtp+starttls" => (SmtpScheme::StartTls, 587),
        "smtp" => (SmtpScheme::Plain, 25),
        other => {
            return Err(format!("unknown SMTP scheme \"{other}\" in \"{v}\": {expected}"));
        }
    };
    let rest = rest.trim_end_matches('/');
    let (host, port) = match rest.rsplit_once(':') {
        Some((h, p)) if !h.ends_with(']') || h.starts_with('[') => {
            let port = p.parse::<u16>().map_err(|_| format!("invalid port \"{p}\" in \"{v}\": {expected}"))?;
            (h, port)
        }
        _ => (rest, default_port),
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    if host.is_empty() || host.contains(['/', '@', ' ']) {
        return Err(format!("invalid host in \"{v}\": {expected}"));
    }
    Ok((scheme, host.to_string(), port))
}

fn looks_like_mailbox(s: &str) -> bool {
    let s = s.trim();
    let addr = match (s.rfind('<'), s.ends_with('>')) {
        (Some(i), true) => &s[i + 1..s.len() - 1],
        _ => s,
    };
    matches!(addr.split_once('@'), Some((u, h)) if !u.is_empty() && !h.is_empty() && !addr.contains(char::is_whitespace))
}

/// Reads one `[user "NAME"]` of user.conf.
pub fn read_user(f: &mut Fields<'_>, file: &Path, name: &str, line: usize) -> Option<UserConfig> {
    let hash = match f.string("password") {
        Some((e, v)) => {
            let v = v.trim().to_string();
            let prefix_ok = ["$2a$", "$2b$", "$2y$"].iter().any(|p| v.starts_with(p));
            if !prefix_ok || v.len() != 60 {
                f.error(e, "expected a bcrypt hash ($2a$, $2b$ or $2y$, 60 characters); make one with `htpasswd -nbBC 10 USER PASSWORD`");
                return None;
            }
            v
        }
        None => {
            f.section_error("missing password: expected a bcrypt hash");
            return None;
        }
    };
    Some(UserConfig {
        name: name.to_string(),
        password_hash: Secret::new(hash),
        role: super::access::read_role(f),
        origin: Origin { file: file.to_path_buf(), line },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn smtp_servers() {
        assert_eq!(parse_smtp_server("smtps://mail.x").unwrap(), (SmtpScheme::Smtps, "mail.x".into(), 465));
        assert_eq!(parse_smtp_server("smtp+starttls://m:2525").unwrap(), (SmtpScheme::StartTls, "m".into(), 2525));
        assert_eq!(parse_smtp_server("smtp://127.0.0.1").unwrap(), (SmtpScheme::Plain, "127.0.0.1".into(), 25));
        assert!(parse_smtp_server("http://x").is_err());
        assert!(parse_smtp_server("smtps://").is_err());
        assert!(parse_smtp_server("smtps://x:port").is_err());
    }

    #[test]
    fn credentials_from_the_environment() {
        let env = |k: &str| match k {
            "SET" => Some("pw".to_string()),
            "EMPTY" => Some(String::new()),
            _ => None,
        };
        assert_eq!(resolve_credential("$SET", &env).unwrap(), "pw");
        assert_eq!(resolve_credential("plain", &env).unwrap(), "plain");
        assert!(resolve_credential("$EMPTY", &env).unwrap_err().contains("is empty"));
        assert!(resolve_credential("$UNSET", &env).unwrap_err().contains("not set"));
    }

    #[test]
    fn mailboxes() {
        assert!(looks_like_mailbox("a@b"));
        assert!(looks_like_mailbox("Ops Team <ops@example.com>"));
        assert!(!looks_like_mailbox("nobody"));
        assert!(!looks_like_mailbox("<@x>"));
    }
}
