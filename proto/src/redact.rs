//! Credentials as the daemon shows them: the values of credential headers
//! and the userinfo of URLs become [`HIDDEN`] in every view and log.
//!
//! Invariant: these functions only hide; what is sent is never changed.

use std::borrow::Cow;

/// What a hidden credential is shown as.
pub const HIDDEN: &str = "***";

/// Headers whose values are credentials (lower case).
pub const CREDENTIAL_HEADERS: [&str; 4] = ["authorization", "proxy-authorization", "cookie", "set-cookie"];

/// True for a header whose value is a credential (any case).
pub fn is_credential_header(name: &str) -> bool {
    CREDENTIAL_HEADERS.iter().any(|h| h.eq_ignore_ascii_case(name.trim()))
}

/// The value of header `name` as shown.
pub fn header_value<'a>(name: &str, value: &'a str) -> &'a str {
    if is_credential_header(name) { HIDDEN } else { value }
}

/// `url` with its userinfo (`user:password@`) shown as `***@`.
pub fn url(url: &str) -> Cow<'_, str> {
    let Some(start) = url.find("://").map(|i| i + 3) else { return Cow::Borrowed(url) };
    let rest = &url[start..];
    let authority = &rest[..rest.find(['/', '?', '#']).unwrap_or(rest.len())];
    match authority.rfind('@') {
        Some(at) => Cow::Owned(format!("{}{HIDDEN}{}", &url[..start], &url[start + at..])),
        None => Cow::Borrowed(url),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn userinfo_is_hidden() {
        assert_eq!(url("https://bob:hunter2@example.com/x?a=b@c"), "https://***@example.com/x?a=b@c");
        assert_eq!(url("http://token@h:8080"), "http://***@h:8080");
        assert_eq!(url("http://a:b@c@h/"), "http://***@h/");
        assert_eq!(url("http://h/p?u=a@b"), "http://h/p?u=a@b");
        assert_eq!(url("/karajo/health"), "/karajo/health");
    }

    #[test]
    fn credential_headers_are_hidden() {
        assert_eq!(header_value("Authorization", "Bearer x"), HIDDEN);
        assert_eq!(header_value("proxy-AUTHORIZATION", "Basic x"), HIDDEN);
        assert_eq!(header_value("Cookie", "a=b"), HIDDEN);
        assert_eq!(header_value("X-Other", "v"), "v");
    }
}
