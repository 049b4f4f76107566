//! The install timeline as an inline SVG: the story's dated facts
//! (`analysis::story::events`) on one time axis, one row each, oldest
//! first. Plain shapes and text, sized by its viewBox: no script, no font
//! or image from elsewhere.

use std::fmt::Write;

use super::markup::escape_html;
use crate::analysis::story::{Event, Source};

const WIDTH: i64 = 960;
const MARGIN: i64 = 24;
const AXIS_Y: i64 = 34;
const ROW: i64 = 24;
const FIRST_ROW: i64 = 80;

/// The SVG for `events` (oldest first), `id` on its root element.
pub fn timeline_svg(id: &str, events: &[Event]) -> String {
    let mut o = String::new();
    // Down to the last row's dot and label.
    let height = FIRST_ROW + ROW * (events.len() as i64 - 1) - ROW / 2 + 14;
    let _ = write!(
        o,
        r##"<svg xmlns="http://www.w3.org/2000/svg" id="{id}" class="timeline-svg" viewBox="0 0 {WIDTH} {height}" width="100%" role="img" aria-label="install timeline, {} dated fact(s)">"##,
        events.len()
    );
    let (Some(first), Some(last)) = (events.first(), events.last()) else {
        o.push_str("</svg>");
        return o;
    };
    let (t0, t1) = (first.time.unix_seconds(), last.time.unix_seconds());
    let span = (t1 - t0).max(0);
    let x = |t: i64| -> i64 {
        match span {
            0 => WIDTH / 2,
            s => MARGIN + ((t - t0) as i128 * (WIDTH - 2 * MARGIN) as i128 / s as i128) as i64,
        }
    };
    // The axis, its ends dated, and a tick for each new year inside it.
    let _ = write!(
        o,
        r##"<line class="axis" x1="{MARGIN}" y1="{AXIS_Y}" x2="{}" y2="{AXIS_Y}" stroke="#444" stroke-width="2"/>"##,
        WIDTH - MARGIN
    );
    let day = |t: i64| {
        chrono::DateTime::from_timestamp(t, 0)
            .map(|d| d.format("%Y-%m-%d").to_string())
            .unwrap_or_default()
    };
    let _ = write!(
        o,
        r##"<text class="axis-label" x="{MARGIN}" y="{}" font-size="12" fill="#444">{}</text>"##,
        AXIS_Y - 10,
        day(t0)
    );
    if span > 0 {
        let _ = write!(
            o,
            r##"<text class="axis-label" x="{}" y="{}" font-size="12" fill="#444" text-anchor="end">{}</text>"##,
            WIDTH - MARGIN,
            AXIS_Y - 10,
            day(t1)
        );
    }
    for (year, t) in year_starts(t0, t1) {
        let xt = x(t);
        let _ = write!(
            o,
            r##"<line class="tick" x1="{xt}" y1="{}" x2="{xt}" y2="{}" stroke="#444"/><text class="tick-label" x="{xt}" y="{}" font-size="11" fill="#666" text-anchor="middle">{year}</text>"##,
            AXIS_Y - 4,
            AXIS_Y + 4,
            AXIS_Y + 16
        );
    }
    for (n, e) in events.iter().enumerate() {
        let xe = x(e.time.unix_seconds());
        let y = FIRST_ROW + ROW * n as i64 - ROW / 2;
        let (class, colour) = match e.source {
            Source::ServicePack(_) => ("service-pack", "#1f5fa8"),
            Source::SetupKey => ("setup", "#6b4fa0"),
            Source::Hotfix(_) => ("hotfix", "#2e7d32"),
            Source::File(_) => ("file", "#b3261e"),
        };
        let (tx, anchor) = match xe < WIDTH * 3 / 5 {
            true => (xe + 10, "start"),
            false => (xe - 10, "end"),
        };
        let text = escape_html(&e.text);
        let _ = write!(
            o,
            r##"<g class="event event-{class}"><title>{} {text}</title><line x1="{xe}" y1="{AXIS_Y}" x2="{xe}" y2="{y}" stroke="{colour}" stroke-dasharray="3 3"/><circle cx="{xe}" cy="{y}" r="6" fill="{colour}"/><text x="{tx}" y="{}" font-size="13" fill="#111" text-anchor="{anchor}">{text}</text></g>"##,
            e.time.whole_seconds(),
            y + 4
        );
    }
    o.push_str("</svg>");
    o
}

/// January 1st of every year after `t0`'s up to `t1` (Unix seconds), at
/// most about a dozen: every n-th year on a long span.
fn year_starts(t0: i64, t1: i64) -> Vec<(i32, i64)> {
    use chrono::{Datelike, NaiveDate};
    let year = |t: i64| chrono::DateTime::from_timestamp(t, 0).map(|d| d.year());
    let (Some(y0), Some(y1)) = (year(t0), year(t1)) else {
        return Vec::new();
    };
    let step = ((y1 - y0) / 12).max(1);
    (y0 + 1..=y1)
        .filter(|y| (y - y0) % step == 0)
        .filter_map(|y| {
            let t = NaiveDate::from_ymd_opt(y, 1, 1)?
                .and_hms_opt(0, 0, 0)?
                .and_utc()
                .timestamp();
            Some((y, t))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::FileTime;

    fn at(unix: u64, text: &str, source: Source) -> Event {
        Event {
            time: FileTime((unix + 11_644_473_600) * 10_000_000),
            text: text.into(),
            source,
        }
    }

    #[test]
    fn events_are_drawn_in_order_with_their_text_escaped() {
        let events = [
            at(952_000_000, "Service Pack 6 applied", Source::SetupKey),
            at(
                1_000_000_000,
                "<script>x</script> written",
                Source::File("x".into()),
            ),
        ];
        let svg = timeline_svg("t", &events);
        assert!(svg.starts_with(r#"<svg xmlns="http://www.w3.org/2000/svg" id="t""#));
        assert_eq!(svg.matches("<circle").count(), 2);
        assert!(svg.contains("&lt;script&gt;x&lt;/script&gt; written"));
        assert!(!svg.contains("<script"));
        assert!(svg.contains(">2001</text>"), "{svg}");
        assert!(timeline_svg("e", &[]).ends_with("</svg>"));
    }
}
