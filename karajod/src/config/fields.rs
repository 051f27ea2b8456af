//! Typed reading of one INI section's keys, with every problem reported
//! against the file, line, section and key, and unknown keys warned about
//! (with the nearest known key when one is a typo away).

use std::collections::HashSet;
use std::path::Path;

use super::diag::{At, Diagnostics};
use super::duration;
use super::ini::{Entry, Section, quote};

/// Reads the keys of one section; `finish` warns about the keys never read.
pub struct Fields<'a> {
    file: &'a Path,
    section: &'a Section,
    title: String,
    pub diag: &'a mut Diagnostics,
    used: HashSet<&'static str>,
    /// Lines of entries already reported as errors, which `finish` skips.
    reported: HashSet<usize>,
}

impl<'a> Fields<'a> {
    pub fn new(file: &'a Path, section: &'a Section, diag: &'a mut Diagnostics) -> Fields<'a> {
        Fields { file, section, title: section.title(), diag, used: HashSet::new(), reported: HashSet::new() }
    }

    pub fn error(&mut self, entry: &Entry, message: impl Into<String>) {
        let at = At { file: self.file, line: Some(entry.line), section: Some(&self.title), key: Some(&entry.key) };
        self.diag.error(at, message);
    }

    pub fn warn(&mut self, entry: &Entry, message: impl Into<String>) {
        let at = At { file: self.file, line: Some(entry.line), section: Some(&self.title), key: Some(&entry.key) };
        self.diag.warn(at, message);
    }

    pub fn section_error(&mut self, message: impl Into<String>) {
        let at = At { file: self.file, line: Some(self.section.line), section: Some(&self.title), key: None };
        self.diag.error(at, message);
    }

    fn entries(&self, key: &str) -> impl Iterator<Item = &'a Entry> + use<'a, '_> {
        let section: &'a Section = self.section;
        let key = key.to_string();
        section.entries.iter().filter(move |e| e.key == key)
    }

    /// The last entry of a single-valued key (git-config: the last one wins);
    /// earlier ones get a warning.
    pub fn last(&mut self, key: &'static str) -> Option<&'a Entry> {
        self.used.insert(key);
        let all: Vec<&'a Entry> = self.entries(key).collect();
        let last = *all.last()?;
        for e in &all[..all.len() - 1] {
            self.warn(e, format!("set again on line {}; the last value wins", last.line));
        }
        Some(last)
    }

    /// A text value; a bare key (no `=`) reads as empty.
    pub fn string(&mut self, key: &'static str) -> Option<(&'a Entry, String)> {
        let e = self.last(key)?;
        Some((e, e.value.clone().unwrap_or_default()))
    }

    /// Every value of a repeatable key, in order; empty values are dropped.
    pub fn list(&mut self, key: &'static str) -> Vec<(&'a Entry, String)> {
        self.used.insert(key);
        self.entries(key)
            .filter_map(|e| e.value.as_ref().filter(|v| !v.trim().is_empty()).map(|v| (e, v.clone())))
            .collect()
    }

    /// `true/false/yes/no/on/off/1/0`; a bare key is true.
    pub fn bool(&mut self, key: &'static str) -> Option<bool> {
        let e = self.last(key)?;
        let Some(v) = &e.value else { return Some(true) };
        match v.trim().to_ascii_lowercase().as_str() {
            "true" | "yes" | "on" | "1" => Some(true),
            "false" | "no" | "off" | "0" | "" => Some(false),
            _ => {
                self.error(e, format!("invalid boolean \"{v}\": expected true/false, yes/no, on/off or 1/0"));
                None
            }
        }
    }

    /// A Go-style duration in signed nanoseconds.
    pub fn duration(&mut self, key: &'static str) -> Option<(&'a Entry, i64)> {
        let (e, v) = self.string(key)?;
        match duration::parse(&v) {
            Ok(n) => Some((e, n)),
            Err(err) => {
                self.error(e, format!("{err}; expected a duration like 90s, 5m or 1h30m"));
                None
            }
        }
    }

    /// A whole number.
    pub fn int(&mut self, key: &'static str) -> Option<(&'a Entry, i64)> {
        let (e, v) = self.string(key)?;
        match v.trim().parse::<i64>() {
            Ok(n) => Some((e, n)),
            Err(_) => {
                self.error(e, format!("invalid number \"{v}\": expected a whole number"));
                None
            }
        }
    }

    /// Warns when an unquoted `#` or `;` ended `entry`'s value: git-config
    /// (and the original) read the rest as a comment, so `command = make;
    /// make install` runs `make` only. The meaning stays; the user is told.
    pub fn warn_if_cut(&mut self, entry: &Entry) {
        if let Some(cut) = &entry.cut {
            let first = cut.chars().next().unwrap_or('#');
            let kept = quote(entry.value.as_deref().unwrap_or_default());
            let msg = format!(
                "an unquoted '{first}' starts a comment, so the value is \"{kept}\" and \"{cut}\" is ignored; \
                 quote the value to keep it (or put the comment on a line of its own)"
            );
            self.warn(entry, msg);
        }
    }

    /// The entries whose key starts with `prefix` that no reader asked
    /// for yet: for a family of keys (`notif_on_*`) where a stranger is an
    /// error, not a typo to warn about. Each is reported with `message`.
    pub fn reject_unknown(&mut self, prefix: &str, message: impl Fn(&str) -> String) {
        let section: &'a Section = self.section;
        for e in &section.entries {
            if e.key.starts_with(prefix) && !self.used.contains(e.key.as_str()) {
                self.reported.insert(e.line);
                self.error(e, message(&e.key));
            }
        }
    }

    /// Warns once about each key of the section that no reader asked for,
    /// suggesting the known key it most likely misspells.
    pub fn finish(mut self) {
        let section: &'a Section = self.section;
        for e in &section.entries {
            if !self.used.contains(e.key.as_str()) && !self.reported.contains(&e.line) {
                let msg = match did_you_mean(&e.key, self.used.iter().copied()) {
                    Some(known) => format!("unknown key, ignored; did you mean \"{known}\"?"),
                    None => "unknown key, ignored".to_string(),
                };
                self.warn(e, msg);
            }
        }
    }
}

/// The known key nearest to `key`, if it is close enough to be a typo: at
/// most one edit for short keys, two from six characters on. Ties go to
/// the alphabetically first, so the suggestion does not depend on order.
fn did_you_mean<'k>(key: &str, known: impl Iterator<Item = &'k str>) -> Option<&'k str> {
    let len = key.chars().count();
    let limit = if len < 6 { 1 } else { 2 };
    // Lengths further apart than the limit are further apart in edits too;
    // skipping them keeps a huge key from costing a huge table.
    known
        .filter(|k| k.chars().count().abs_diff(len) <= limit)
        .map(|k| (edit_distance(key, k), k))
        .filter(|&(d, _)| d <= limit)
        .min()
        .map(|(_, k)| k)
}

/// Levenshtein distance with adjacent swaps counted as one edit
/// (`comamnd` is one typo away from `command`, not two).
fn edit_distance(a: &str, b: &str) -> usize {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    // Rows i-2, i-1 and i of the table.
    let mut before: Vec<usize> = Vec::new();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for i in 1..=a.len() {
        let mut row = vec![i; b.len() + 1];
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            row[j] = (prev[j] + 1).min(row[j - 1] + 1).min(prev[j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                row[j] = row[j].min(before[j - 2] + 1);
            }
        }
        before = std::mem::replace(&mut prev, row);
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edit_distances() {
        assert_eq!(edit_distance("command", "command"), 0);
        assert_eq!(edit_distance("comand", "command"), 1);
        assert_eq!(edit_distance("comamnd", "command"), 1);
        assert_eq!(edit_distance("intervall", "interval"), 1);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
    }

    #[test]
    fn suggestions_only_for_near_misses() {
        let known = ["command", "schedule", "interval", "path", "timeout"];
        assert_eq!(did_you_mean("comand", known.into_iter()), Some("command"));
        assert_eq!(did_you_mean("shedule", known.into_iter()), Some("schedule"));
        assert_eq!(did_you_mean("pth", known.into_iter()), Some("path"));
        assert_eq!(did_you_mean("colour", known.into_iter()), None);
        assert_eq!(did_you_mean("x", known.into_iter()), None);
        assert_eq!(did_you_mean(&"c".repeat(1 << 20), known.into_iter()), None);
    }
}
