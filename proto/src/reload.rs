//! The answer of a configuration reload (`POST /karajo/api/reload`,
//! `karajoctl reload`): what changed, or every error of a refused config.

use serde::{Deserialize, Serialize};

/// The jobs of one kind a reload added, removed or changed, by ID.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Changes {
    pub added: Vec<String>,
    pub removed: Vec<String>,
    pub changed: Vec<String>,
}

impl Changes {
    pub fn is_empty(&self) -> bool {
        self.added.is_empty() && self.removed.is_empty() && self.changed.is_empty()
    }
}

/// `data` of a reload that was applied.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReloadReport {
    /// The main configuration file that was read.
    pub config_file: String,
    pub jobs: Changes,
    pub http_jobs: Changes,
    /// Users whose sessions ended because they were removed or their password changed.
    pub sessions_ended_for: Vec<String>,
    /// Warnings of the new configuration, and settings that only a restart applies.
    pub warnings: Vec<String>,
}

/// `data` of a refused reload (400 `ERR_CONFIG`): the old configuration stays.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReloadRefused {
    pub errors: Vec<String>,
    /// Warnings of the refused configuration (unknown keys and the like).
    #[serde(default)]
    pub warnings: Vec<String>,
}
