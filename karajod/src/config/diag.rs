//! Configuration diagnostics: every error and warning names the file, the
//! line, the section and the key, and says what was expected.
//!
//! Bounded output: a message is at most [`MAX_MESSAGE_CHARS`] characters and
//! a list prints at most [`MAX_SHOWN`] entries, then says how many more
//! there were; a file of garbage cannot turn into megabytes of messages.

use std::collections::HashSet;
use std::fmt;
use std::path::{Path, PathBuf};

/// A message longer than this is cut (with `…`); quoted text is cut much
/// earlier (see [`super::ini::quote`]), this is the backstop.
pub const MAX_MESSAGE_CHARS: usize = 400;
/// How many errors (or warnings) are printed before "… and N more".
pub const MAX_SHOWN: usize = 50;

/// One problem found while loading, located as precisely as known.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Diagnostic {
    pub file: PathBuf,
    pub line: Option<usize>,
    /// The section as written in the file, e.g. `[job "backup"]`.
    pub section: Option<String>,
    pub key: Option<String>,
    pub message: String,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
        }
        f.write_str(":")?;
        if let Some(section) = &self.section {
            write!(f, " {section}")?;
        }
        if let Some(key) = &self.key {
            write!(f, " {key}:")?;
        } else if self.section.is_some() {
            f.write_str(":")?;
        }
        write!(f, " {}", self.message)
    }
}

/// Every error of a failed load, in file order, and the warnings found on
/// the way (an unknown key may be why a required one seems missing).
/// `Display` shows the errors only, at most [`MAX_SHOWN`] of them.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ConfigErrors {
    pub errors: Vec<Diagnostic>,
    pub warnings: Vec<Diagnostic>,
}

impl fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_capped(f, &self.errors, "", "error")
    }
}

/// Writes one diagnostic a line, each after `prefix`, at most [`MAX_SHOWN`]
/// of them, then "… and N more {noun}s".
pub fn write_capped(out: &mut dyn fmt::Write, list: &[Diagnostic], prefix: &str, noun: &str) -> fmt::Result {
    for (i, d) in list.iter().take(MAX_SHOWN).enumerate() {
        if i > 0 {
            out.write_str("\n")?;
        }
        write!(out, "{prefix}{d}")?;
    }
    if let Some(more) = list.len().checked_sub(MAX_SHOWN).filter(|&n| n > 0) {
        let s = if more == 1 { "" } else { "s" };
        write!(out, "\n{prefix}… and {more} more {noun}{s}")?;
    }
    Ok(())
}

/// [`write_capped`] into a string, ending with a newline unless empty.
pub fn render_capped(list: &[Diagnostic], prefix: &str, noun: &str) -> String {
    let mut out = String::new();
    let _ = write_capped(&mut out, list, prefix, noun);
    if !out.is_empty() {
        out.push('\n');
    }
    out
}

/// Collects errors and warnings while a load goes on, so one pass reports all.
#[derive(Debug, Default)]
pub struct Diagnostics {
    pub errors: Vec<Diagnostic>,
    pub warnings: Vec<Diagnostic>,
    /// The warnings already given, for "printed once" in constant time.
    warned: HashSet<Diagnostic>,
}

/// Where in the files a diagnostic points.
#[derive(Debug, Clone, Copy)]
pub struct At<'a> {
    pub file: &'a Path,
    pub line: Option<usize>,
    pub section: Option<&'a str>,
    pub key: Option<&'a str>,
}

impl At<'_> {
    fn diagnostic(&self, message: String) -> Diagnostic {
        Diagnostic {
            file: self.file.to_path_buf(),
            line: self.line,
            section: self.section.map(str::to_string),
            key: self.key.map(str::to_string),
            message: cap(message),
        }
    }
}

impl Diagnostics {
    pub fn error(&mut self, at: At<'_>, message: impl Into<String>) {
        self.errors.push(at.diagnostic(message.into()));
    }

    pub fn warn(&mut self, at: At<'_>, message: impl Into<String>) {
        let d = at.diagnostic(message.into());
        // "Printed once": the same file/line/key never warns twice.
        if self.warned.insert(d.clone()) {
            self.warnings.push(d);
        }
    }
}

fn cap(mut message: String) -> String {
    if let Some((i, _)) = message.char_indices().nth(MAX_MESSAGE_CHARS) {
        message.truncate(i);
        message.push('…');
    }
    message
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_names_file_line_section_and_key() {
        let d = Diagnostic {
            file: "a/karajo.conf".into(),
            line: Some(12),
            section: Some("[job \"x\"]".into()),
            key: Some("interval".into()),
            message: "expected a duration".into(),
        };
        assert_eq!(d.to_string(), "a/karajo.conf:12: [job \"x\"] interval: expected a duration");
        let d = Diagnostic { line: None, section: None, key: None, ..d };
        assert_eq!(d.to_string(), "a/karajo.conf: expected a duration");
    }

    fn numbered(n: usize) -> Vec<Diagnostic> {
        let at = At { file: Path::new("k.conf"), line: None, section: None, key: None };
        (1..=n).map(|i| at.diagnostic(format!("error {i}"))).collect()
    }

    #[test]
    fn long_lists_stop_after_max_shown_and_say_how_many_more() {
        let errors = ConfigErrors { errors: numbered(MAX_SHOWN + 7), warnings: vec![] };
        let shown = errors.to_string();
        assert_eq!(shown.lines().count(), MAX_SHOWN + 1, "{shown}");
        assert!(shown.ends_with("… and 7 more errors"), "{shown}");
        let one_more = render_capped(&numbered(MAX_SHOWN + 1), "warning: ", "warning");
        assert!(one_more.ends_with("warning: … and 1 more warning\n"), "{one_more}");
        assert_eq!(render_capped(&numbered(2), "w: ", "warning"), "w: k.conf: error 1\nw: k.conf: error 2\n");
    }

    #[test]
    fn messages_are_capped() {
        let at = At { file: Path::new("k.conf"), line: None, section: None, key: None };
        let d = at.diagnostic("x".repeat(10 * MAX_MESSAGE_CHARS));
        assert_eq!(d.message.chars().count(), MAX_MESSAGE_CHARS + 1);
        assert!(d.message.ends_with('…'));
    }
}
