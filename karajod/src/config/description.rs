//! Job descriptions ("text or simple HTML" in config files) as HTML that
//! is safe to put into the dashboard, derived once per config load.
//!
//! Invariant: the output holds only an allow-list of text tags and links
//! to absolute http(s) URLs (opened in a new tab, without a referrer);
//! nothing that runs, loads or styles survives, and text stays escaped.

use std::collections::HashSet;
use std::sync::OnceLock;

/// Tags a description may keep; any other tag is unwrapped to its text.
const TAGS: &[&str] = &[
    "a",
    "b",
    "strong",
    "i",
    "em",
    "u",
    "s",
    "small",
    "code",
    "kbd",
    "pre",
    "br",
    "p",
    "ul",
    "ol",
    "li",
    "blockquote",
];

/// Containers removed with their content (their text is code or markup,
/// not prose).
const DROPPED: &[&str] = &[
    "script",
    "style",
    "iframe",
    "object",
    "embed",
    "template",
    "noscript",
    "svg",
    "math",
    "textarea",
    "select",
    "title",
    "head",
    "noembed",
    "noframes",
    "xmp",
    "plaintext",
];

fn cleaner() -> &'static ammonia::Builder<'static> {
    static CLEANER: OnceLock<ammonia::Builder<'static>> = OnceLock::new();
    CLEANER.get_or_init(|| {
        let mut b = ammonia::Builder::empty();
        b.tags(TAGS.iter().copied().collect::<HashSet<_>>())
            .clean_content_tags(DROPPED.iter().copied().collect::<HashSet<_>>())
            .add_tag_attributes("a", ["href"])
            .url_schemes(["http", "https"].into_iter().collect::<HashSet<_>>())
            .url_relative(ammonia::UrlRelative::Deny)
            .link_rel(Some("noopener noreferrer nofollow"))
            .set_tag_attribute_value("a", "target", "_blank")
            .strip_comments(true);
        b
    })
}

/// `description` as sanitised HTML.
pub fn html(description: &str) -> String {
    if description.is_empty() {
        return String::new();
    }
    cleaner().clean(description).to_string()
}

#[cfg(test)]
mod tests {
    use super::html;

    #[test]
    fn text_tags_and_http_links_stay_everything_else_goes() {
        let cases = [
            ("every <b>minute</b>", "every <b>minute</b>"),
            (
                r#"<a href="https://example.com/x?a=1" onclick="alert(1)" style="color:red">ok</a>"#,
                r#"<a href="https://example.com/x?a=1" target="_blank" rel="noopener noreferrer nofollow">ok</a>"#,
            ),
            // A link to nowhere safe loses its href and so links nowhere.
            (
                r#"<a href="javascript:alert(1)">js</a><a href="/rel">r</a>"#,
                concat!(
                    r#"<a target="_blank" rel="noopener noreferrer nofollow">js</a>"#,
                    r#"<a target="_blank" rel="noopener noreferrer nofollow">r</a>"#,
                ),
            ),
            (r#"<img src=x onerror="alert(1)"><svg onload="alert(1)"><circle/></svg>"#, ""),
            (r#"<script>alert(1)</script><style>*{}</style><iframe src="https://e.com">f</iframe>x"#, "x"),
            (
                "<p>para <em>em</em></p><ul><li><code>c</code></li></ul>",
                "<p>para <em>em</em></p><ul><li><code>c</code></li></ul>",
            ),
            (r#"<div class="x"><span id="y">unwrapped</span></div>"#, "unwrapped"),
            ("plain & simple < 3 <!-- note -->", "plain &amp; simple &lt; 3 "),
            ("", ""),
        ];
        for (input, want) in cases {
            assert_eq!(html(input), want, "{input}");
        }
    }
}
