//! The `list` table, fitted to a width: every column in full when there
//! is room (or with `--wide`), else times shown relative only, then the
//! schedule shortened, then LAST RUN dropped, then IDs shortened.
//!
//! Invariants: widths are counted in characters of the plain text, and
//! colour is added after padding, so colour never moves a column; rows
//! are sorted (jobs, then HTTP jobs, each by ID); no line has trailing
//! blanks; a shortened cell ends in `…`.

use proto::{Environment, Job, JobHttp, JobStatus};
use tabled::builder::Builder;
use tabled::settings::object::Segment;
use tabled::settings::{Padding, Style as TableStyle};

use super::Style;
use super::schedule::trigger;
use super::time::{relative, when};

/// Blanks between columns.
const GAP: usize = 2;
/// The narrowest a shortened SCHEDULE or ID gets.
const MIN_SHORTENED: usize = 10;

/// Which columns, and how times are shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Layout {
    /// Exact times with relative words.
    Full,
    /// Relative words only.
    Compact,
    /// Compact, without LAST RUN.
    Narrow,
}

/// One job's cells, before layout.
struct Item<'a> {
    kind: &'static str,
    id: &'a str,
    status: JobStatus,
    schedule: String,
    last_run: Option<chrono::DateTime<chrono::Utc>>,
    next_run: Option<chrono::DateTime<chrono::Utc>>,
}

/// `karajoctl list` fitted to `width` characters (`None`: no limit).
pub fn list(env: &Environment, style: &Style, width: Option<usize>) -> String {
    let items = items(env);
    if items.is_empty() {
        return "no jobs\n".into();
    }
    let Some(width) = width else { return render(&cells(&items, Layout::Full, style), style) };
    for layout in [Layout::Full, Layout::Compact] {
        let rows = cells(&items, layout, style);
        if total(&widths(&rows)) <= width {
            return render(&rows, style);
        }
    }
    let mut rows = cells(&items, Layout::Compact, style);
    if !shorten(&mut rows, 3, width) {
        rows = cells(&items, Layout::Narrow, style);
        if !shorten(&mut rows, 3, width) {
            shorten(&mut rows, 1, width);
        }
    }
    render(&rows, style)
}

fn items(env: &Environment) -> Vec<Item<'_>> {
    let mut jobs: Vec<&Job> = env.jobs.values().collect();
    jobs.sort_by(|a, b| a.base.id.cmp(&b.base.id));
    let mut https: Vec<&JobHttp> = env.http_jobs.values().collect();
    https.sort_by(|a, b| a.base.id.cmp(&b.base.id));
    let jobs = jobs.into_iter().map(|j| Item {
        kind: "job",
        id: j.base.id.as_str(),
        status: j.base.status,
        schedule: trigger(&j.base.schedule_text, &j.base.schedule, j.base.interval, &j.path),
        last_run: j.base.last_run,
        next_run: j.base.next_run,
    });
    let https = https.into_iter().map(|h| Item {
        kind: "http",
        id: h.base.id.as_str(),
        status: h.base.status,
        schedule: trigger(&h.base.schedule_text, &h.base.schedule, h.base.interval, ""),
        last_run: h.base.last_run,
        next_run: h.base.next_run,
    });
    jobs.chain(https).collect()
}

/// The header and rows as plain text. The STATUS column (2) is coloured at render.
fn cells(items: &[Item<'_>], layout: Layout, style: &Style) -> Vec<Vec<String>> {
    let time = |t, none: &str| match (t, layout) {
        (Some(t), Layout::Compact | Layout::Narrow) => relative(t, style.now),
        (t, _) => when(t, style.now, none),
    };
    let header: &[&str] = match layout {
        Layout::Full => &["KIND", "ID", "STATUS", "SCHEDULE", "LAST RUN (UTC)", "NEXT RUN (UTC)"],
        Layout::Compact => &["KIND", "ID", "STATUS", "SCHEDULE", "LAST RUN", "NEXT RUN"],
        Layout::Narrow => &["KIND", "ID", "STATUS", "SCHEDULE", "NEXT RUN"],
    };
    let mut rows = vec![header.iter().map(|h| h.to_string()).collect()];
    for i in items {
        let mut row =
            vec![i.kind.to_string(), i.id.to_string(), Style::status_word(i.status).to_string(), i.schedule.clone()];
        if layout != Layout::Narrow {
            row.push(time(i.last_run, "never"));
        }
        row.push(time(i.next_run, "-"));
        rows.push(row);
    }
    rows
}

fn widths(rows: &[Vec<String>]) -> Vec<usize> {
    let mut w = vec![0; rows[0].len()];
    for row in rows {
        for (w, cell) in w.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    w
}

fn total(widths: &[usize]) -> usize {
    widths.iter().sum::<usize>() + GAP * widths.len().saturating_sub(1)
}

/// Shortens column `col` (not below [`MIN_SHORTENED`]) so the table fits
/// `width`; true if it then fits.
fn shorten(rows: &mut [Vec<String>], col: usize, width: usize) -> bool {
    let w = widths(rows);
    let others = total(&w) - w[col];
    let room = width.saturating_sub(others).max(MIN_SHORTENED);
    for row in rows.iter_mut().skip(1) {
        let cell = &mut row[col];
        if cell.chars().count() > room {
            *cell = cell.chars().take(room - 1).chain(['…']).collect();
        }
    }
    total(&widths(rows)) <= width
}

/// The list table: the STATUS column coloured (tabled measures cells
/// without the colour codes).
pub(super) fn render(rows: &[Vec<String>], style: &Style) -> String {
    let painted = rows.iter().enumerate().map(|(r, row)| {
        let cells = row.iter().enumerate().map(|(c, cell)| match (r, c) {
            (1.., 2) => style.paint(rows_status(cell), cell),
            _ => cell.clone(),
        });
        cells.collect::<Vec<String>>()
    });
    borderless(painted)
}

/// A borderless table of these rows (the first is the header), columns
/// [`GAP`] apart, no trailing blanks.
pub fn borderless(rows: impl IntoIterator<Item = Vec<String>>) -> String {
    let mut b = Builder::default();
    for row in rows {
        b.push_record(row);
    }
    let mut t = b.build();
    t.with(TableStyle::empty()).modify(Segment::all(), Padding::new(0, GAP, 0, 0));
    let mut out = String::new();
    for line in t.to_string().lines() {
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// The status a STATUS cell shows (the cell holds [`Style::status_word`]).
fn rows_status(cell: &str) -> JobStatus {
    if cell == Style::status_word(JobStatus::Started) {
        JobStatus::Started
    } else {
        JobStatus::parse(cell).unwrap_or(JobStatus::Started)
    }
}
