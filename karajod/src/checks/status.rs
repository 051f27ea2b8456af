//! The state machine of one check, pure: what its pings so far mean at a
//! given instant, and when that changes next without a new ping.
//!
//! `new` until the first success; `up` until the next ping is due (the
//! last success + `period`, or the first `schedule` slot after it);
//! `late` for `grace` after that; then `down`. A fail ping (or a non-zero
//! exit code) is `down` at once; a start ping changes nothing. `paused`
//! wins over everything.

use chrono::{DateTime, TimeDelta, Utc};
use proto::CheckStatus;

use crate::config::{CheckConfig, CheckTimer};

/// What a ping says, from the path after its key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PingKind {
    Success,
    Start,
    Fail,
    /// `/KEY/EXIT_CODE`: 0 is a success, anything else a failure.
    Exit(u8),
}

impl PingKind {
    /// `""`, `start`, `fail` or an exit code from 0 to 255; else `None`.
    pub fn parse(tail: &str) -> Option<PingKind> {
        match tail {
            "" => Some(PingKind::Success),
            "start" => Some(PingKind::Start),
            "fail" => Some(PingKind::Fail),
            n if !n.is_empty() && n.len() <= 3 && n.bytes().all(|b| b.is_ascii_digit()) => {
                n.parse().ok().map(PingKind::Exit)
            }
            _ => None,
        }
    }

    pub fn ok(self) -> bool {
        matches!(self, PingKind::Success | PingKind::Exit(0))
    }

    pub fn failed(self) -> bool {
        matches!(self, PingKind::Fail) || matches!(self, PingKind::Exit(n) if n != 0)
    }

    /// The status of its history row.
    pub fn row_status(self) -> &'static str {
        if self.ok() {
            "success"
        } else if self.failed() {
            "failed"
        } else {
            "started"
        }
    }

    /// How the API shows it.
    pub fn word(self) -> String {
        match self {
            PingKind::Success => "success".into(),
            PingKind::Start => "start".into(),
            PingKind::Fail => "fail".into(),
            PingKind::Exit(n) => format!("exit {n}"),
        }
    }

    pub fn exit_code(self) -> Option<i64> {
        match self {
            PingKind::Exit(n) => Some(i64::from(n)),
            _ => None,
        }
    }
}

/// What is remembered of a check's pings.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tracked {
    pub counter: u64,
    pub last_ping: Option<(DateTime<Utc>, PingKind)>,
    /// The last success.
    pub last_ok: Option<DateTime<Utc>>,
    /// The last ping that was a success or a failure was a failure.
    pub failed: bool,
    pub paused: bool,
}

impl Tracked {
    /// Takes in a ping received at `at`.
    pub fn ping(&mut self, kind: PingKind, at: DateTime<Utc>) {
        self.last_ping = Some((at, kind));
        if kind.ok() {
            self.last_ok = Some(at);
            self.failed = false;
        } else if kind.failed() {
            self.failed = true;
        }
    }
}

/// When the next ping is due after a success at `ok`.
pub fn due_after(cfg: &CheckConfig, ok: DateTime<Utc>) -> DateTime<Utc> {
    match &cfg.timer {
        CheckTimer::Period(d) => ok + TimeDelta::from_std(*d).unwrap_or(TimeDelta::MAX),
        CheckTimer::Schedule(s) => s.next_after(ok),
    }
}

/// The status at `now`, and when it changes next by time alone.
pub fn status(cfg: &CheckConfig, t: &Tracked, now: DateTime<Utc>) -> (CheckStatus, Option<DateTime<Utc>>) {
    if t.paused {
        return (CheckStatus::Paused, None);
    }
    if t.failed {
        return (CheckStatus::Down, None);
    }
    let Some(ok) = t.last_ok else { return (CheckStatus::New, None) };
    let due = due_after(cfg, ok);
    let down_at = due + TimeDelta::from_std(cfg.grace).unwrap_or(TimeDelta::MAX);
    if now < due {
        (CheckStatus::Up, Some(due))
    } else if now < down_at {
        (CheckStatus::Late, Some(down_at))
    } else {
        (CheckStatus::Down, None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Origin, Secret};
    use chrono::TimeZone;
    use std::time::Duration;

    fn cfg() -> CheckConfig {
        CheckConfig {
            name: "c".into(),
            id: proto::JobId::from_name("c"),
            key: Secret::new("k".repeat(16)),
            timer: CheckTimer::Period(Duration::from_secs(60)),
            timer_text: "1m".into(),
            timezone: crate::schedule::Tz::UTC,
            grace: Duration::from_secs(30),
            notif_on_down: vec![],
            notif_on_up: vec![],
            origin: Origin::default(),
        }
    }

    #[test]
    fn new_up_late_down_and_up_again() {
        let (c, t0) = (cfg(), Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap());
        let mut t = Tracked::default();
        assert_eq!(status(&c, &t, t0).0, CheckStatus::New);
        t.ping(PingKind::Start, t0);
        assert_eq!(status(&c, &t, t0).0, CheckStatus::New, "a start ping is not a success");
        t.ping(PingKind::Success, t0);
        assert_eq!(status(&c, &t, t0 + TimeDelta::seconds(59)), (CheckStatus::Up, Some(t0 + TimeDelta::seconds(60))));
        assert_eq!(status(&c, &t, t0 + TimeDelta::seconds(60)).0, CheckStatus::Late);
        assert_eq!(status(&c, &t, t0 + TimeDelta::seconds(90)).0, CheckStatus::Down);
        t.ping(PingKind::Exit(0), t0 + TimeDelta::seconds(100));
        assert_eq!(status(&c, &t, t0 + TimeDelta::seconds(100)).0, CheckStatus::Up);
        t.ping(PingKind::Exit(3), t0 + TimeDelta::seconds(101));
        assert_eq!(status(&c, &t, t0 + TimeDelta::seconds(101)), (CheckStatus::Down, None));
        t.paused = true;
        assert_eq!(status(&c, &t, t0).0, CheckStatus::Paused);
    }

    #[test]
    fn ping_paths() {
        assert_eq!(PingKind::parse(""), Some(PingKind::Success));
        assert_eq!(PingKind::parse("start"), Some(PingKind::Start));
        assert_eq!(PingKind::parse("fail"), Some(PingKind::Fail));
        assert_eq!(PingKind::parse("0"), Some(PingKind::Exit(0)));
        assert_eq!(PingKind::parse("255"), Some(PingKind::Exit(255)));
        for bad in ["256", "-1", "x", "1000", "start/x"] {
            assert_eq!(PingKind::parse(bad), None, "{bad}");
        }
    }
}
