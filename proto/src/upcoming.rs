//! `GET /karajo/api/upcoming` (SPEC 16): the timer runs due in the next
//! hours, soonest first, for the dashboard and `karajoctl upcoming`.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::{JobId, JobKind};

/// One timer run to come. `at` is when it starts (`slot` plus the job's
/// jitter offset); `slot` is the schedule's nominal time. Both RFC 3339 UTC.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Upcoming {
    pub kind: JobKind,
    pub id: JobId,
    pub name: String,
    pub at: DateTime<Utc>,
    pub slot: DateTime<Utc>,
}

/// The default and largest `hours` and `limit` of the query.
pub const DEFAULT_HOURS: u32 = 24;
pub const MAX_HOURS: u32 = 24 * 31;
pub const DEFAULT_LIMIT: usize = 500;
pub const MAX_LIMIT: usize = 5000;
