//! The `karajoctl upcoming` table: one row per timer run to come, in the
//! order the daemon sends them (by start time).

use proto::{JobKind, Upcoming};

use super::Style;
use super::table::borderless;
use super::time::{exact, relative};

/// AT (UTC, with "in 5 min"), KIND, ID, and the jitter when the run starts
/// after its slot.
pub fn table(runs: &[Upcoming], style: &Style) -> String {
    if runs.is_empty() {
        return "no timer runs in that time\n".into();
    }
    let header = ["AT (UTC)", "KIND", "ID", "JITTER"].map(String::from).to_vec();
    let rows = runs.iter().map(|u| {
        let kind = match u.kind {
            JobKind::Job => "job",
            JobKind::JobHttp => "http",
        };
        let jitter = (u.at - u.slot).num_milliseconds();
        let jitter = if jitter == 0 { String::new() } else { format!("+{:.1}s", jitter as f64 / 1000.0) };
        vec![format!("{} ({})", exact(u.at), relative(u.at, style.now)), kind.into(), u.id.to_string(), jitter]
    });
    borderless(std::iter::once(header).chain(rows))
}
