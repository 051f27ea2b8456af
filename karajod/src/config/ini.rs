//! The git-config-flavoured INI syntax of karajo's configuration files.
//!
//! This module owns the syntax only: text in, sections of `key = value`
//! entries out, each carrying its 1-based line so that every later config
//! error can name the file, line, section and key. What the sections and keys
//! mean is the caller's business. A generic INI crate would not do: they drop
//! line numbers and lack git's quoted subsections (`[job "name"]`) and escapes.
//!
//! Invariants of a parsed [`Document`]:
//! - section names and keys are ASCII-lowercased; subsections keep their case;
//! - sections and entries are in file order, repeats included: merging or
//!   rejecting repeats is the caller's policy;
//! - a line with an error yields no entry, and the entries under a broken
//!   section header are dropped rather than credited to the section above it,
//!   where they would silently misconfigure another job;
//! - values are fully unescaped and unquoted; `None` means a bare key;
//! - an entry whose value an unquoted `#` or `;` ended records the text cut
//!   off, so callers can warn where a comment was probably not meant;
//! - text from the file quoted in a message is capped at [`MAX_QUOTED_CHARS`]
//!   characters, so a huge bad line cannot make a huge message.

use std::iter::Peekable;
use std::str::Chars;

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Document {
    pub sections: Vec<Section>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Section {
    /// Lowercased, e.g. "job", "job.http", "karajo".
    pub name: String,
    /// The quoted subsection with its case kept, e.g. `Some("Test job success")`.
    pub sub: Option<String>,
    /// 1-based line of the header.
    pub line: usize,
    /// In file order; keys may repeat.
    pub entries: Vec<Entry>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Lowercased.
    pub key: String,
    /// `None` for a bare key without '=' (boolean true); `Some("")` for `key =`.
    pub value: Option<String>,
    /// 1-based line where the key starts, even if the value continues further.
    pub line: usize,
    /// What an unquoted `#` or `;` cut off the value, from that character
    /// to the end of the line, capped like quoted text; `None` if nothing was.
    pub cut: Option<String>,
}

/// How much of the file's text a message quotes before it elides the rest.
pub const MAX_QUOTED_CHARS: usize = 120;

/// `text` as a message quotes it: at most [`MAX_QUOTED_CHARS`] characters,
/// control characters escaped (a NUL byte shows as `\0`), `…` when cut.
pub fn quote(text: &str) -> String {
    let (mut out, mut shown) = (String::new(), 0);
    for c in text.chars() {
        let piece: String = if c.is_control() { c.escape_debug().collect() } else { c.to_string() };
        // Counted as shown, so escapes cannot stretch the quote past the cap.
        shown += piece.chars().count();
        if shown > MAX_QUOTED_CHARS {
            out.push('…');
            break;
        }
        out.push_str(&piece);
    }
    out
}

/// How a section prints in messages: `[job "name"]`, `[karajo]`.
pub fn section_title(name: &str, sub: Option<&str>) -> String {
    match sub {
        Some(sub) => format!("[{name} \"{}\"]", quote(&sub.replace('\\', "\\\\").replace('"', "\\\""))),
        None => format!("[{name}]"),
    }
}

impl Section {
    /// How this section prints in messages.
    pub fn title(&self) -> String {
        section_title(&self.name, self.sub.as_deref())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct ParseError {
    pub line: usize,
    /// The title of the open section (see [`Section::title`]), if any.
    pub section: Option<String>,
    /// The key whose line it is, once the key itself was valid.
    pub key: Option<String>,
    pub message: String,
}

/// Parses a whole file. Recovers line by line: a bad line is reported and skipped,
/// so one pass reports every error in the file.
pub fn parse(text: &str) -> (Document, Vec<ParseError>) {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut parser = Parser {
        lines: text.split('\n').map(|l| l.strip_suffix('\r').unwrap_or(l)).collect(),
        next: 0,
        scope: Scope::TopLevel,
        doc: Document::default(),
        errors: Vec::new(),
    };
    while parser.next < parser.lines.len() {
        parser.logical_line();
    }
    (parser.doc, parser.errors)
}

/// Where the entries being read belong.
enum Scope {
    TopLevel,
    /// Under a header that had an error: entries are checked, then dropped.
    Broken,
    Open,
}

struct Parser<'a> {
    lines: Vec<&'a str>,
    /// Index of the next unread line, so also the 1-based number of the last read.
    next: usize,
    scope: Scope,
    doc: Document,
    errors: Vec<ParseError>,
}

impl<'a> Parser<'a> {
    /// Records an error on `line`, in the open section; `key` when the
    /// error is about that key's value.
    fn error(&mut self, line: usize, key: Option<&str>, message: String) {
        let section = match self.scope {
            Scope::Open => self.doc.sections.last().map(Section::title),
            Scope::TopLevel | Scope::Broken => None,
        };
        let key = key.map(str::to_ascii_lowercase);
        self.errors.push(ParseError { line, section, key, message });
    }

    /// Reads one line, plus any lines its value continues onto.
    fn logical_line(&mut self) {
        let text: &'a str = self.lines[self.next].trim_start_matches(is_space);
        self.next += 1;
        let line = self.next;
        match text.chars().next() {
            None | Some('#' | ';') => {}
            Some('[') => self.header(line, text),
            Some(_) => self.entry(line, text),
        }
    }

    fn header(&mut self, line: usize, text: &str) {
        match parse_header(text) {
            Ok((name, sub)) => {
                self.scope = Scope::Open;
                let entries = Vec::new();
                self.doc.sections.push(Section { name, sub, line, entries });
            }
            Err(why) => {
                self.scope = Scope::Broken;
                let shown = quote(text.trim_end_matches(is_space));
                self.error(line, None, format!("invalid section header \"{shown}\": {why}"));
            }
        }
    }

    fn entry(&mut self, line: usize, text: &'a str) {
        let end = text.find(|c| is_space(c) || matches!(c, '=' | '#' | ';'));
        let (key, rest) = text.split_at(end.unwrap_or(text.len()));
        let rest = rest.trim_start_matches(is_space);
        // One complaint about the key is enough; any error drops the entry.
        let before = self.errors.len();
        if let Err(why) = check_key(key) {
            self.error(line, None, why);
        } else if matches!(self.scope, Scope::TopLevel) {
            self.error(line, None, "key outside of any section".into());
        }
        let (value, cut) = if let Some(raw) = rest.strip_prefix('=') {
            let (value, cut) = self.value(line, raw, key);
            (Some(value), cut)
        } else if rest.is_empty() || rest.starts_with(['#', ';']) {
            (None, None)
        } else {
            if self.errors.len() == before {
                self.error(line, None, format!("expected '=' after key \"{}\"", quote(key)));
            }
            // Scan only to consume continuation lines: what follows a broken
            // key is not a value, so complaints about it would be noise.
            let reported = self.errors.len();
            self.value(line, rest, key);
            self.errors.truncate(reported);
            return;
        };
        let section = self.doc.sections.last_mut();
        if let (true, Scope::Open, Some(section)) = (self.errors.len() == before, &self.scope, section) {
            let key = key.to_ascii_lowercase();
            section.entries.push(Entry { key, value, line, cut });
        }
    }

    /// Unquotes and unescapes a value starting on `line`, consuming the lines
    /// it continues onto; errors go to `self.errors`. Also returns what an
    /// unquoted comment character cut off, if one did.
    fn value(&mut self, mut line: usize, mut text: &'a str, key: &str) -> (String, Option<String>) {
        let (mut out, mut quoted, mut cut) = (String::new(), false, None);
        // Length of `out` without trailing unquoted whitespace, as in git.
        let mut keep = 0;
        loop {
            let mut chars = text.chars();
            let mut continued = false;
            while let Some(c) = chars.next() {
                match c {
                    '\\' => match chars.next().map(|e| (e, unescape(e))) {
                        None => continued = true,
                        Some((_, Some(u))) => {
                            out.push(u);
                            keep = out.len();
                        }
                        Some((e, None)) => {
                            let msg = unknown_escape(e, key);
                            self.error(line, Some(key), msg);
                        }
                    },
                    '"' => {
                        quoted = !quoted;
                        keep = out.len();
                    }
                    '#' | ';' if !quoted => {
                        cut = Some(quote(format!("{c}{}", chars.as_str()).trim_end_matches(is_space)));
                        break;
                    }
                    c if is_space(c) && !quoted => {
                        if !out.is_empty() {
                            out.push(c);
                        }
                    }
                    c => {
                        out.push(c);
                        keep = out.len();
                    }
                }
            }
            if continued && self.next < self.lines.len() {
                text = self.lines[self.next];
                self.next += 1;
                line = self.next;
            } else {
                break;
            }
        }
        if quoted {
            self.error(line, Some(key), format!("missing closing quote in value of \"{}\"", quote(key)));
        }
        out.truncate(keep);
        (out, cut)
    }
}

/// Parses `[name]` or `[name "sub"]`; the error says what was expected.
fn parse_header(text: &str) -> Result<(String, Option<String>), String> {
    let mut chars = text[1..].chars().peekable();
    skip_spaces(&mut chars);
    let mut name = String::new();
    while let Some(c) = chars.next_if(|&c| is_name_char(c)) {
        name.push(c.to_ascii_lowercase());
    }
    match chars.peek() {
        Some(&c) if !is_space(c) && c != '"' && c != ']' => {
            return Err(format!(
                "invalid character '{}' in section name: names contain only letters, digits, '-', '.' and '_'",
                c.escape_debug()
            ));
        }
        _ if name.is_empty() => return Err("expected a section name".into()),
        _ => {}
    }
    skip_spaces(&mut chars);
    let sub = match chars.next_if_eq(&'"') {
        Some(_) => Some(subsection(&mut chars)?),
        None => None,
    };
    skip_spaces(&mut chars);
    if chars.next() != Some(']') {
        return Err(match sub {
            Some(_) => "expected closing ']'".into(),
            None => "expected a quoted subsection or closing ']'".into(),
        });
    }
    skip_spaces(&mut chars);
    match chars.next() {
        None | Some('#' | ';') => Ok((name, sub)),
        Some(c) => Err(format!("unexpected '{}' after ']': only a comment may follow", c.escape_debug())),
    }
}

/// Reads a subsection after its opening quote. Unlike git, which silently
/// drops the backslash of `\t`, an unknown escape is an error: a job named
/// `"C:\tmp"` should not quietly become `"C:tmp"`.
fn subsection(chars: &mut Peekable<Chars>) -> Result<String, String> {
    let mut sub = String::new();
    loop {
        match chars.next() {
            Some('"') => return Ok(sub),
            Some('\\') => match chars.next() {
                Some(c @ ('"' | '\\')) => sub.push(c),
                Some(c) => {
                    let c = c.escape_debug();
                    return Err(format!("unknown escape \"\\{c}\" in subsection: only \\\" and \\\\ are allowed"));
                }
                None => return Err("missing closing quote of subsection".into()),
            },
            Some(c) => sub.push(c),
            None => return Err("missing closing quote of subsection".into()),
        }
    }
}

/// A backslash before `#` or `;` is the natural guess for keeping them, so
/// the message says what works instead.
fn unknown_escape(e: char, key: &str) -> String {
    let (shown, key) = (e.escape_debug(), quote(key));
    let mut msg = format!("unknown escape \"\\{shown}\" in value of \"{key}\": expected \\\", \\\\, \\n, \\t or \\b");
    if matches!(e, '#' | ';') {
        msg.push_str(&format!("; to keep a '{e}' in the value, put the value in double quotes"));
    }
    msg
}

fn check_key(key: &str) -> Result<(), String> {
    let mut chars = key.chars();
    let first_ok = chars.next().is_some_and(|c| c.is_ascii_alphabetic());
    if first_ok && chars.all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
        Ok(())
    } else if key.is_empty() {
        Err("expected a key before '='".into())
    } else {
        Err(format!(
            "invalid key \"{}\": keys start with a letter and contain only letters, digits, '-' and '_'",
            quote(key)
        ))
    }
}

fn unescape(c: char) -> Option<char> {
    match c {
        '"' | '\\' => Some(c),
        'n' => Some('\n'),
        't' => Some('\t'),
        'b' => Some('\u{8}'),
        _ => None,
    }
}

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_')
}

fn is_space(c: char) -> bool {
    c.is_ascii_whitespace()
}

fn skip_spaces(chars: &mut Peekable<Chars>) {
    while chars.next_if(|&c| is_space(c)).is_some() {}
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn ok(text: &str) -> Document {
        let (doc, errors) = parse(text);
        assert!(errors.is_empty(), "unexpected errors: {errors:?}");
        doc
    }

    /// Renders a document compactly, one `|`-separated item per section or
    /// entry, each suffixed with `@line`; a bare key has no `=`.
    fn show(doc: &Document) -> String {
        let mut items = Vec::new();
        for s in &doc.sections {
            let sub = s.sub.as_ref().map(|sub| format!(" {sub:?}"));
            items.push(format!("[{}{}]@{}", s.name, sub.unwrap_or_default(), s.line));
            for e in &s.entries {
                let value = e.value.as_ref().map(|v| format!("={v}"));
                items.push(format!("{}{}@{}", e.key, value.unwrap_or_default(), e.line));
            }
        }
        items.join("|")
    }

    /// The value of `k` in `[s]\nk =<rhs>`.
    fn value(rhs: &str) -> Option<String> {
        let doc = ok(&format!("[s]\nk ={rhs}\n"));
        doc.sections[0].entries[0].value.clone()
    }

    /// Asserts exactly one error, on `line`, whose text contains `phrase`.
    fn one_error(text: &str, line: usize, phrase: &str) -> Document {
        let (doc, errors) = parse(text);
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert_eq!(errors[0].line, line, "{errors:?}");
        let shown = errors[0].to_string();
        assert!(shown.contains(phrase), "{shown:?} lacks {phrase:?}");
        doc
    }

    fn error_lines(text: &str) -> (Document, Vec<usize>) {
        let (doc, errors) = parse(text);
        (doc, errors.iter().map(|e| e.line).collect())
    }

    #[test]
    fn line_endings_bom_and_blank_lines() {
        let doc = ok("\u{feff}[a]\r\nk = v\r\n\r\n   \n[b]\nx=y");
        assert_eq!(show(&doc), "[a]@1|k=v@2|[b]@5|x=y@6");
        assert_eq!(parse(""), (Document::default(), vec![]));
    }

    #[test]
    fn comments() {
        let text =
            "# top\n; top\n[s] # header\n  # indented\na = 1 # trailing\nb = 2;x\nc = \"3 # ;\" ; real\nd # bare\n";
        assert_eq!(show(&ok(text)), "[s]@3|a=1@5|b=2@6|c=3 # ;@7|d@8");
    }

    #[test]
    fn section_headers() {
        let text =
            "[KaraJo]\n[ job \"Test Job\" ]\n[job\"q\\\"b\\\\s\"]\n[job.HTTP \"x\"]\n[core.Sub]\n[a-b_c]\n[e \"\"]\n";
        let want =
            r#"[karajo]@1|[job "Test Job"]@2|[job "q\"b\\s"]@3|[job.http "x"]@4|[core.sub]@5|[a-b_c]@6|[e ""]@7"#;
        assert_eq!(show(&ok(text)), want);
        let repeated = ok("[job \"a\"]\nx = 1\n[job \"a\"]\nx = 2\n");
        assert_eq!(show(&repeated), r#"[job "a"]@1|x=1@2|[job "a"]@3|x=2@4"#);
    }

    #[test]
    fn section_header_errors() {
        let msg = "line 1: invalid section header \"[job \"x\"\": expected closing ']'";
        assert!(one_error("[job \"x\"", 1, msg).sections.is_empty());
        one_error("[job", 1, "closing ']'");
        one_error("[job x]", 1, "expected a quoted subsection or closing ']'");
        one_error("[]", 1, "expected a section name");
        one_error("[ \"x\"]", 1, "expected a section name");
        one_error("[jo@b]", 1, "invalid character '@' in section name");
        one_error("[job \"x]", 1, "missing closing quote of subsection");
        one_error("[job \"a\\qb\"]", 1, "unknown escape \"\\q\" in subsection");
        one_error("[job \"x\"] key = v", 1, "unexpected 'k' after ']'");
    }

    #[test]
    fn entries_keys_and_bare_values() {
        let doc = ok("[s]\nKey = v\nk2=v2\nflag\nempty =\nempty2=   \nKEY = again\nx-y_z = 1\n");
        let want = "[s]@1|key=v@2|k2=v2@3|flag@4|empty=@5|empty2=@6|key=again@7|x-y_z=1@8";
        assert_eq!(show(&doc), want);
        assert_eq!(doc.sections[0].entries[3].value.as_deref(), Some(""));
        assert_eq!(doc.sections[0].entries[2].value, None);
    }

    #[test]
    fn key_errors() {
        let msg =
            "line 3: invalid key \"1abc\": keys start with a letter and contain only letters, digits, '-' and '_'";
        one_error("[s]\nok = 1\n1abc = x\n", 3, msg);
        one_error("[s]\nke.y = x\n", 2, "invalid key \"ke.y\"");
        one_error("[s]\n= x\n", 2, "expected a key before '='");
        one_error("[s]\nke y = v\n", 2, "expected '=' after key \"ke\"");
        one_error("k = v\n[s]\n", 1, "key outside of any section");
        one_error("flag\n", 1, "key outside of any section");
        one_error("[s]\n1abc def\n", 2, "invalid key \"1abc\"");
        one_error("1abc = x\n", 1, "invalid key");
    }

    #[test]
    fn whitespace_and_quotes() {
        assert_eq!(value("   a \t b   ").as_deref(), Some("a \t b"));
        assert_eq!(value("a \"b c\" d").as_deref(), Some("a b c d"));
        assert_eq!(value(" \"  padded  \"  ").as_deref(), Some("  padded  "));
        assert_eq!(value(" x\"y\"z").as_deref(), Some("xyz"));
        assert_eq!(value(" \"\"").as_deref(), Some(""));
        assert_eq!(value(" a \"\"").as_deref(), Some("a "));
    }

    #[test]
    fn escapes() {
        let want = "a\"b\\c\nd\te\u{8}f";
        assert_eq!(value(r#" a\"b\\c\nd\te\bf"#).as_deref(), Some(want));
        assert_eq!(value(r#" "\" \t ""#).as_deref(), Some("\" \t "));
        assert_eq!(value(r" x\t").as_deref(), Some("x\t"));
        let msg = "line 2: unknown escape \"\\q\" in value of \"command\"";
        let doc = one_error("[s]\ncommand = echo \\q\n", 2, msg);
        assert!(doc.sections[0].entries.is_empty());
        one_error("[s]\nk = \"\\x\"\n", 2, "unknown escape \"\\x\"");
    }

    #[test]
    fn an_unquoted_comment_records_what_it_cut() {
        let doc = ok("[s]\na = make; make install\nb = \"x ; y\"\nc = z   # note  \nd = plain\n");
        let cuts: Vec<Option<&str>> = doc.sections[0].entries.iter().map(|e| e.cut.as_deref()).collect();
        assert_eq!(cuts, [Some("; make install"), None, Some("# note"), None]);
        assert_eq!(doc.sections[0].entries[0].value.as_deref(), Some("make"));
        let long = ok(&format!("[s]\na = x #{}\n", "y".repeat(10_000)));
        assert!(long.sections[0].entries[0].cut.as_ref().unwrap().chars().count() <= MAX_QUOTED_CHARS + 1);
    }

    #[test]
    fn value_errors_name_their_section_and_key() {
        let (_, errors) = parse("[job \"a\"]\nCommand = echo a\\;b\n");
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert_eq!(errors[0].section.as_deref(), Some("[job \"a\"]"));
        assert_eq!(errors[0].key.as_deref(), Some("command"));
        assert!(errors[0].message.contains("put the value in double quotes"), "{errors:?}");
        let (_, errors) = parse("[job \"a\"]\nk = \"open\n1bad = x\n");
        assert_eq!(errors[0].key.as_deref(), Some("k"));
        assert_eq!((errors[1].section.as_deref(), errors[1].key.as_deref()), (Some("[job \"a\"]"), None));
        let (_, errors) = parse("[job \"a\"\nk = \\q\n");
        assert!(errors.iter().all(|e| e.section.is_none()), "no section is open: {errors:?}");
    }

    #[test]
    fn quoted_text_in_messages_is_capped_and_escaped() {
        let nuls = "\0".repeat(1_000_000);
        let (_, errors) = parse(&nuls);
        assert_eq!(errors.len(), 1);
        assert!(errors[0].message.len() < 1_000, "{} bytes", errors[0].message.len());
        assert!(errors[0].message.contains("\\0\\0") && errors[0].message.contains('…'), "{:?}", errors[0]);
        assert!(errors[0].message.ends_with("'-' and '_'"), "the explanation is whole: {:?}", errors[0]);
        let (_, errors) = parse(&format!("[{}", "x".repeat(100_000)));
        assert!(errors[0].message.len() < 1_000);
    }

    #[test]
    fn missing_closing_quote() {
        let msg = "line 2: missing closing quote in value of \"k\"";
        let doc = one_error("[s]\nk = \"abc\nnext = 1\n", 2, msg);
        assert_eq!(show(&doc), "[s]@1|next=1@3");
        one_error("[s]\nk = a\"b # c\n", 2, "missing closing quote");
    }

    #[test]
    fn continuation_lines() {
        let text = "[s]\na = one \\\n  two\nb = \"in \\\n  quote\"\nc = x # no \\\nd = end\\";
        let want = "[s]@1|a=one   two@2|b=in   quote@4|c=x@6|d=end@7";
        assert_eq!(show(&ok(text)), want);
        assert_eq!(value(" \\\n  lead").as_deref(), Some("lead"));
        one_error("[s]\nk = \"open \\\n", 3, "missing closing quote");
        // An error on a continued line names that line; the entry is dropped.
        let doc = one_error("[s]\nk = a \\\n b\\q\nz = 1\n", 3, "unknown escape \"\\q\"");
        assert_eq!(show(&doc), "[s]@1|z=1@4");
        // After a malformed key the continuation is still skipped, silently.
        let doc = one_error("[s]\nk v \"\\q \\\n x = 1\ny = 2\n", 2, "expected '='");
        assert_eq!(show(&doc), "[s]@1|y=2@4");
    }

    #[test]
    fn recovers_and_reports_every_error() {
        let (doc, lines) = error_lines("[s]\na = 1\n1bad = x\nb = 2\nc = \"open\nd = 3\n");
        assert_eq!(lines, [3, 5]);
        assert_eq!(show(&doc), "[s]@1|a=1@2|b=2@4|d=3@6");
    }

    #[test]
    fn entries_under_a_broken_header_are_dropped() {
        let text = "[job \"a\"]\nx = 1\n[job \"b]\nx = 2\n9 = 3\n[job \"c\"]\nx = 4\n";
        let (doc, lines) = error_lines(text);
        assert_eq!(lines, [3, 5]);
        assert_eq!(show(&doc), r#"[job "a"]@1|x=1@2|[job "c"]@6|x=4@7"#);
    }

    #[test]
    fn realistic_karajo_config() {
        let text = r#"## Karajo configuration.
[karajo]
name = My karajo
listen_address = 127.0.0.1:31937
is_development

[job "Test job success"]
description = "Job that always <b>succeed</b>."
command = echo "Test job success"
command = echo Counter is $KARAJO_JOB_COUNTER ; a comment
command = x=$(( 1 + 2 )) && \
	echo "$x"
notif_on_success = email

[job.http "x"]
http_url = /x

[notif "email"]
to = John <john@example.com>
"#;
        let want = [
            "[karajo]@2|name=My karajo@3|listen_address=127.0.0.1:31937@4|is_development@5",
            r#"[job "Test job success"]@7|description=Job that always <b>succeed</b>.@8"#,
            "command=echo Test job success@9|command=echo Counter is $KARAJO_JOB_COUNTER@10",
            "command=x=$(( 1 + 2 )) && \techo $x@11|notif_on_success=email@13",
            r#"[job.http "x"]@15|http_url=/x@16|[notif "email"]@18|to=John <john@example.com>@19"#,
        ];
        assert_eq!(show(&ok(text)), want.join("|"));
    }

    fn escape(s: &str) -> String {
        let mut out = String::new();
        for c in s.chars() {
            match c {
                '"' | '\\' => out.extend(['\\', c]),
                '\n' => out.push_str("\\n"),
                '\t' => out.push_str("\\t"),
                '\u{8}' => out.push_str("\\b"),
                c => out.push(c),
            }
        }
        out
    }

    proptest! {
        #[test]
        fn quoted_values_round_trip(s in any::<String>()) {
            let doc = ok(&format!("[s]\nkey = \"{}\"\n", escape(&s)));
            prop_assert_eq!(doc.sections[0].entries[0].value.as_deref(), Some(s.as_str()));
        }

        #[test]
        fn any_input_parses_without_panic(s in any::<String>()) {
            let (_, errors) = parse(&s);
            let lines = s.split('\n').count();
            prop_assert!(errors.iter().all(|e| (1..=lines).contains(&e.line)));
        }
    }
}
