//! Configuration diagnostics: every error and warning names the file, the
//! line, the section and the key, and says what was expected.

use std::fmt;
use std::path::{Path, PathBuf};

/// One problem found while loading, located as precisely as known.
#[derive(Debug, Clone, PartialEq, Eq)]
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

/// Every error of a failed load, in file order.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ConfigErrors(pub Vec<Diagnostic>);

impl fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, d) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{d}")?;
        }
        Ok(())
    }
}

/// Collects errors and warnings while a load goes on, so one pass reports all.
#[derive(Debug, Default)]
pub struct Diagnostics {
    pub errors: Vec<Diagnostic>,
    pub warnings: Vec<Diagnostic>,
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
            message,
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
        if !self.warnings.contains(&d) {
            self.warnings.push(d);
        }
    }
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
}
