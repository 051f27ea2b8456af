//! A Server-Sent Events parser for the log streams: bytes in, whole events
//! out, however the bytes were split across reads.
//!
//! Invariants: lines end in `\n`, `\r\n` or `\r`; an event is dispatched on
//! a blank line; `:` lines (keep-alives) and unknown fields are ignored; one
//! leading space after `data:` is dropped, as the format says.

/// One dispatched event; `event` is `message` when the stream did not name it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    pub event: String,
    pub data: String,
}

/// Incremental parser state.
#[derive(Debug, Default)]
pub struct Parser {
    line: Vec<u8>,
    /// A `\r` ended the last line; a `\n` right after it belongs to it.
    after_cr: bool,
    event: Option<String>,
    data: Option<String>,
}

impl Parser {
    /// Feeds bytes; returns the events they complete, in order.
    pub fn push(&mut self, bytes: &[u8]) -> Vec<Event> {
        let mut out = Vec::new();
        for &b in bytes {
            if std::mem::take(&mut self.after_cr) && b == b'\n' {
                continue;
            }
            match b {
                b'\n' | b'\r' => {
                    self.after_cr = b == b'\r';
                    let line = std::mem::take(&mut self.line);
                    if let Some(ev) = self.line_done(&line) {
                        out.push(ev);
                    }
                }
                _ => self.line.push(b),
            }
        }
        out
    }

    fn line_done(&mut self, line: &[u8]) -> Option<Event> {
        if line.is_empty() {
            let data = self.data.take();
            let event = self.event.take();
            // An event with no data is not dispatched.
            return data.map(|data| Event { event: event.unwrap_or_else(|| "message".into()), data });
        }
        let text = String::from_utf8_lossy(line);
        let (field, value) = match text.split_once(':') {
            Some((f, v)) => (f, v.strip_prefix(' ').unwrap_or(v)),
            None => (&*text, ""),
        };
        match field {
            "" => {} // a comment: keep-alive
            "data" => match &mut self.data {
                Some(d) => {
                    d.push('\n');
                    d.push_str(value);
                }
                None => self.data = Some(value.to_string()),
            },
            "event" => self.event = Some(value.to_string()),
            _ => {} // id, retry: nothing to do for a log
        }
        None
    }
}

/// The `end` event's payload: which run ended and how.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct End {
    pub counter: u64,
    pub status: String,
}

impl End {
    /// Reads `{"counter": N, "status": "..."}`.
    pub fn parse(data: &str) -> Option<End> {
        let v: serde_json::Value = serde_json::from_str(data).ok()?;
        Some(End { counter: v.get("counter")?.as_u64()?, status: v.get("status")?.as_str()?.to_string() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(data: &str) -> Event {
        Event { event: "message".into(), data: data.into() }
    }

    #[test]
    fn events_survive_any_split() {
        let stream = b": keep-alive\n\ndata: line one\n\ndata:line two\r\n\r\nevent: end\ndata: {\"counter\":3,\"status\":\"success\"}\n\n";
        let want = vec![
            msg("line one"),
            msg("line two"),
            Event { event: "end".into(), data: r#"{"counter":3,"status":"success"}"#.into() },
        ];
        for split in 0..stream.len() {
            let mut p = Parser::default();
            let mut got = p.push(&stream[..split]);
            got.extend(p.push(&stream[split..]));
            assert_eq!(got, want, "split at {split}");
        }
        let mut p = Parser::default();
        let got: Vec<Event> = stream.iter().flat_map(|b| p.push(&[*b])).collect();
        assert_eq!(got, want);
    }

    #[test]
    fn multi_line_data_empty_data_and_bare_cr() {
        let mut p = Parser::default();
        let got = p.push(b"data: a\ndata: b\n\ndata:\n\rid: 7\rretry: 5\r\r");
        assert_eq!(got, vec![msg("a\nb"), msg("")]);
        // Only one space is dropped after the colon.
        assert_eq!(p.push(b"data:  indented\n\n"), vec![msg(" indented")]);
    }

    #[test]
    fn end_payload() {
        assert_eq!(
            End::parse(r#"{"counter": 12, "status": "failed"}"#),
            Some(End { counter: 12, status: "failed".into() })
        );
        assert_eq!(End::parse("nope"), None);
        assert_eq!(End::parse(r#"{"status":"x"}"#), None);
    }
}
