//! Typed reading of one INI section's keys, with every problem reported
//! against the file, line, section and key, and unknown keys warned about.

use std::collections::HashSet;
use std::path::Path;

use super::diag::{At, Diagnostics};
use super::duration;
use super::ini::{Entry, Section};

/// Reads the keys of one section; `finish` warns about the keys never read.
pub struct Fields<'a> {
    file: &'a Path,
    section: &'a Section,
    title: String,
    pub diag: &'a mut Diagnostics,
    used: HashSet<&'static str>,
}

/// How a section prints in messages: `[job "name"]`.
pub fn section_title(s: &Section) -> String {
    match &s.sub {
        Some(sub) => format!("[{} \"{}\"]", s.name, sub.replace('\\', "\\\\").replace('"', "\\\"")),
        None => format!("[{}]", s.name),
    }
}

impl<'a> Fields<'a> {
    pub fn new(file: &'a Path, section: &'a Section, diag: &'a mut Diagnostics) -> Fields<'a> {
        Fields { file, section, title: section_title(section), diag, used: HashSet::new() }
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

    /// Warns once about each key of the section that no reader asked for.
    pub fn finish(mut self) {
        let section: &'a Section = self.section;
        for e in &section.entries {
            if !self.used.contains(e.key.as_str()) {
                self.warn(e, "unknown key, ignored");
            }
        }
    }
}
