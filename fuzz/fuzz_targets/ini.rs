//! The git-config INI parser: never panics; every error names a line of the
//! input; and whatever it parsed, written back out canonically, parses to
//! the same document (same sections, keys and values), with no errors and
//! at exactly the lines the canonical text puts them on.
#![no_main]

use karajod::config::ini::{self, Document};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let (doc, errors) = ini::parse(text);
    let lines = text.split('\n').count();
    for e in &errors {
        assert!(e.line >= 1 && e.line <= lines, "error line {} outside 1..={lines}: {e}", e.line);
        assert!(!e.message.is_empty(), "an error without a message at line {}", e.line);
    }
    for s in &doc.sections {
        assert!(s.line >= 1 && s.line <= lines, "section line {} outside 1..={lines}", s.line);
        assert_eq!(s.name, s.name.to_ascii_lowercase(), "section names are lowercased");
        for e in &s.entries {
            assert!(e.line >= s.line && e.line <= lines, "entry line {} outside {}..={lines}", e.line, s.line);
            assert_eq!(e.key, e.key.to_ascii_lowercase(), "keys are lowercased");
        }
    }
    let (canon, expected_lines) = render(&doc);
    let (again, errors) = ini::parse(&canon);
    assert!(errors.is_empty(), "the canonical form of a parsed document has errors: {errors:?}\n{canon}");
    assert_eq!(strip_lines(&again), strip_lines(&doc), "round trip changed the document:\n{canon}");
    assert_eq!(line_numbers(&again), expected_lines, "round trip moved lines:\n{canon}");
    // Parsing is a function of the text.
    assert_eq!(ini::parse(text).0, doc);
});

/// One header or entry per line; every value quoted and escaped. Returns the
/// text and the line each section and entry must be read at.
fn render(doc: &Document) -> (String, Vec<usize>) {
    let (mut out, mut lines, mut line) = (String::new(), Vec::new(), 0);
    for s in &doc.sections {
        line += 1;
        lines.push(line);
        match &s.sub {
            Some(sub) => {
                out.push_str(&format!("[{} \"{}\"]\n", s.name, sub.replace('\\', "\\\\").replace('"', "\\\"")))
            }
            None => out.push_str(&format!("[{}]\n", s.name)),
        }
        for e in &s.entries {
            line += 1;
            lines.push(line);
            match &e.value {
                None => out.push_str(&format!("\t{}\n", e.key)),
                Some(v) => out.push_str(&format!("\t{} = \"{}\"\n", e.key, escape(v))),
            }
        }
    }
    (out, lines)
}

fn escape(v: &str) -> String {
    let mut out = String::new();
    for c in v.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            c => out.push(c),
        }
    }
    out
}

/// The document without what the canonical form cannot keep: line numbers,
/// and the comments that cut values (it has none).
fn strip_lines(doc: &Document) -> Document {
    let mut d = doc.clone();
    for s in &mut d.sections {
        s.line = 0;
        for e in &mut s.entries {
            e.line = 0;
            e.cut = None;
        }
    }
    d
}

fn line_numbers(doc: &Document) -> Vec<usize> {
    let mut v = Vec::new();
    for s in &doc.sections {
        v.push(s.line);
        v.extend(s.entries.iter().map(|e| e.line));
    }
    v
}
