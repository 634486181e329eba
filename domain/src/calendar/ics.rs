//! iCalendar import (RFC 5545): VEVENTs from `.ics` bytes, recurring ones expanded over a window.
//!
//! The bytes come from a user over the API or the CLI and are treated as hostile: the input size,
//! the component nesting (the parser recurses), the number of events, of recurring events, of
//! produced occurrences and of recurrence iterations are all capped, and no garbage panics. Events
//! that cannot be read are skipped and counted; caps that cut the result set `truncated`.
//!
//! Parsing is the `icalendar` crate's, recurrence expansion (RRULE) the `rrule` crate's, with
//! EXDATE, RDATE and RECURRENCE-ID overrides applied here. Time zones are IANA names; an unknown
//! `TZID` falls back to the user's zone. VTIMEZONE definitions are not read.

use std::collections::HashSet;

use chrono::{NaiveDateTime, NaiveTime};
use icalendar::parser::{Component, Property, read_calendar, unfold};
use rrule::RRuleSet;

use super::appointment::{Appointment, Origin, ShowAs, category_profile};
use super::ics_values::{IcsTime, param, parse_duration, parse_time, parse_times, text_note};
use super::zone::Zone;
use crate::presence::{Note, Timestamp};

/// Caps on one import.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImportLimits {
    /// Largest accepted file.
    pub max_bytes: usize,
    /// Deepest BEGIN/END nesting (VCALENDAR > VEVENT > VALARM is 3).
    pub max_depth: usize,
    /// Most VEVENTs read.
    pub max_events: usize,
    /// Most recurring VEVENTs expanded.
    pub max_recurring: usize,
    /// Most appointments produced.
    pub max_occurrences: usize,
    /// Most recurrence instances generated over all events, including those before the window.
    pub max_iterations: usize,
}

impl Default for ImportLimits {
    fn default() -> Self {
        ImportLimits {
            max_bytes: 1 << 20,
            max_depth: 8,
            max_events: 10_000,
            max_recurring: 500,
            max_occurrences: 5_000,
            max_iterations: 200_000,
        }
    }
}

/// What an import needs besides the bytes.
#[derive(Debug, Clone, Copy)]
pub struct ImportOptions<'a> {
    /// Appointments ending at or before this are dropped (typically "now").
    pub window_start: Timestamp,
    /// Appointments starting at or after this are dropped (typically "now + 30 days", XPhone T5).
    pub window_end: Timestamp,
    /// The user's zone: for floating times, all-day events and unknown `TZID`s.
    pub zone: Zone,
    /// The user's own addresses (`mailto:` optional); an ORGANIZER not among them makes the event
    /// an invitation. Empty: every event counts as the user's own.
    pub owner_addresses: &'a [String],
    /// Caps.
    pub limits: ImportLimits,
}

/// The result of an import.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Imported {
    /// The appointments in the window, sorted by start.
    pub appointments: Vec<Appointment>,
    /// Events that could not be read (no start, bad dates, bad recurrence rule) or were cancelled.
    pub skipped: usize,
    /// A cap cut the result short.
    pub truncated: bool,
}

/// Why a file was rejected as a whole.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IcsError {
    /// Larger than [`ImportLimits::max_bytes`].
    #[error("the calendar file is {len} bytes, at most {max} allowed")]
    TooLarge {
        /// Size of the file.
        len: usize,
        /// The cap.
        max: usize,
    },
    /// Not UTF-8 (RFC 5545 §3.1.4).
    #[error("the calendar file is not UTF-8")]
    NotUtf8,
    /// Components nested deeper than [`ImportLimits::max_depth`].
    #[error("calendar components are nested deeper than {max}")]
    TooDeep {
        /// The cap.
        max: usize,
    },
    /// Not parseable as iCalendar. The parser's message is not passed on: it quotes the input.
    #[error("not an iCalendar file")]
    Syntax,
}

/// Imports the VEVENTs of an `.ics` file that overlap the window.
pub fn import_ics(bytes: &[u8], opts: &ImportOptions<'_>) -> Result<Imported, IcsError> {
    let limits = opts.limits;
    if bytes.len() > limits.max_bytes {
        return Err(IcsError::TooLarge {
            len: bytes.len(),
            max: limits.max_bytes,
        });
    }
    let text = std::str::from_utf8(bytes).map_err(|_| IcsError::NotUtf8)?;
    let text = unfold(text);
    check_depth(&text, limits.max_depth)?;
    let calendar = read_calendar(&text).map_err(|_| IcsError::Syntax)?;

    let mut events: Vec<&Component<'_>> = calendar
        .components
        .iter()
        .filter(|c| c.name.as_str().eq_ignore_ascii_case("VEVENT"))
        .collect();
    let mut run = Run::new(opts);
    if events.len() > limits.max_events {
        events.truncate(limits.max_events);
        run.out.truncated = true;
    }
    let overridden: HashSet<(String, Timestamp)> = events
        .iter()
        .filter_map(|e| {
            let rid = e.find_prop("RECURRENCE-ID")?;
            let t = parse_times(rid, opts.zone).into_iter().next()?;
            Some((uid(e), t.instant(opts.zone)?))
        })
        .collect();
    for event in events {
        if run.event(event, &overridden).is_none() {
            run.out.skipped += 1;
        }
    }
    let mut out = run.out;
    out.appointments
        .sort_by(|a, b| a.start.cmp(&b.start).then(a.end.cmp(&b.end)));
    Ok(out)
}

/// Rejects deep BEGIN nesting before the recursive parser sees it.
fn check_depth(text: &str, max: usize) -> Result<(), IcsError> {
    let mut depth = 0usize;
    for line in text.lines() {
        let head = line.get(..6).unwrap_or("");
        if head.eq_ignore_ascii_case("BEGIN:") {
            depth += 1;
            if depth > max {
                return Err(IcsError::TooDeep { max });
            }
        } else if line
            .get(..4)
            .is_some_and(|h| h.eq_ignore_ascii_case("END:"))
        {
            depth = depth.saturating_sub(1);
        }
    }
    Ok(())
}

fn prop_value<'a>(e: &'a Component<'_>, name: &str) -> Option<&'a str> {
    e.properties
        .iter()
        .find(|p| p.name.as_str().eq_ignore_ascii_case(name))
        .map(|p| p.val.as_str())
}

fn props<'a, 'b>(e: &'a Component<'b>, name: &'a str) -> impl Iterator<Item = &'a Property<'b>> {
    e.properties
        .iter()
        .filter(move |p| p.name.as_str().eq_ignore_ascii_case(name))
}

fn uid(e: &Component<'_>) -> String {
    prop_value(e, "UID")
        .unwrap_or("")
        .chars()
        .take(256)
        .collect()
}

/// How long each occurrence lasts.
#[derive(Debug, Clone, Copy)]
enum Span {
    /// Whole days in the event's zone (all-day events stay midnight to midnight across DST).
    Days(u32),
    /// Exact milliseconds.
    Exact(u64),
}

/// One import in progress.
struct Run<'o> {
    opts: &'o ImportOptions<'o>,
    out: Imported,
    recurring: usize,
    iterations: usize,
}

impl<'o> Run<'o> {
    fn new(opts: &'o ImportOptions<'o>) -> Self {
        Run {
            opts,
            out: Imported::default(),
            recurring: 0,
            iterations: 0,
        }
    }

    /// Adds the occurrences of one event; `None` means it was skipped.
    fn event(
        &mut self,
        e: &Component<'_>,
        overridden: &HashSet<(String, Timestamp)>,
    ) -> Option<()> {
        let zone = self.opts.zone;
        if prop_value(e, "STATUS").is_some_and(|s| s.eq_ignore_ascii_case("CANCELLED")) {
            return None;
        }
        let start_prop = e.find_prop("DTSTART")?;
        let start = parse_time(start_prop.val.as_str(), param(start_prop, "TZID"), zone)?;
        let ev_zone = start.zone(zone);
        let start_ts = start.instant(zone)?;
        let span = span(e, start, start_ts, zone)?;
        let template = template(e, self.opts.owner_addresses);
        let local_start = match start {
            IcsTime::Date(d) => d.and_time(NaiveTime::MIN),
            IcsTime::Local(t, _) | IcsTime::Utc(t) => t,
        };

        let is_override = e.find_prop("RECURRENCE-ID").is_some();
        let mut starts: Vec<NaiveDateTime> = Vec::new();
        match prop_value(e, "RRULE") {
            Some(rule) if !is_override => {
                self.recurring += 1;
                if self.recurring > self.opts.limits.max_recurring {
                    self.out.truncated = true;
                    return Some(());
                }
                self.expand(start, ev_zone, local_start, rule, span, &mut starts)?;
            }
            _ => starts.push(local_start),
        }
        for p in props(e, "RDATE") {
            starts.extend(parse_times(p, ev_zone).into_iter().filter_map(|t| match t {
                IcsTime::Date(d) => Some(d.and_time(NaiveTime::MIN)),
                IcsTime::Local(t, z) => z.resolve(t).and_then(|ts| ev_zone.local(ts)),
                IcsTime::Utc(t) => {
                    super::zone::from_utc(t.and_utc()).and_then(|ts| ev_zone.local(ts))
                }
            }));
        }
        let excluded: HashSet<Timestamp> = props(e, "EXDATE")
            .flat_map(|p| parse_times(p, ev_zone))
            .filter_map(|t| t.instant(ev_zone))
            .collect();
        let key = uid(e);
        starts.sort();
        starts.dedup();
        for local in starts {
            let Some(s) = ev_zone.resolve(local) else {
                continue;
            };
            if excluded.contains(&s) || (!is_override && overridden.contains(&(key.clone(), s))) {
                continue;
            }
            let end = match span {
                Span::Days(n) => ev_zone.resolve(local + chrono::Duration::days(i64::from(n))),
                Span::Exact(ms) => Some(s.saturating_add(std::time::Duration::from_millis(ms))),
            };
            let Some(end) = end.filter(|e| *e > s) else {
                continue;
            };
            if end <= self.opts.window_start || s >= self.opts.window_end {
                continue;
            }
            if self.out.appointments.len() >= self.opts.limits.max_occurrences {
                self.out.truncated = true;
                return Some(());
            }
            let mut a = template.clone();
            a.start = s;
            a.end = end;
            self.out.appointments.push(a);
        }
        Some(())
    }

    /// Expands an RRULE into local start times up to the window's end, within the iteration budget.
    fn expand(
        &mut self,
        start: IcsTime,
        zone: Zone,
        local_start: NaiveDateTime,
        rule: &str,
        span: Span,
        starts: &mut Vec<NaiveDateTime>,
    ) -> Option<()> {
        let fmt = "%Y%m%dT%H%M%S";
        let dtstart = match start {
            IcsTime::Utc(t) => format!("DTSTART:{}Z", t.format(fmt)),
            _ => format!("DTSTART;TZID={}:{}", zone.name(), local_start.format(fmt)),
        };
        let rule = until_as_utc(rule, zone)?;
        let set: RRuleSet = format!("{dtstart}\nRRULE:{rule}").parse().ok()?;
        let set = set.limit();
        // An occurrence that began before the window may still be running at its start.
        let longest = match span {
            Span::Days(n) => u64::from(n) * 86_400_000 + 3_600_000,
            Span::Exact(ms) => ms,
        };
        let earliest = self.opts.window_start.unix_ms().saturating_sub(longest);
        for dt in &set {
            self.iterations += 1;
            if self.iterations > self.opts.limits.max_iterations {
                self.out.truncated = true;
                break;
            }
            let ms = u64::try_from(dt.timestamp_millis()).unwrap_or(0);
            if ms >= self.opts.window_end.unix_ms() {
                break;
            }
            if ms < earliest {
                continue;
            }
            if starts.len() >= self.opts.limits.max_occurrences {
                self.out.truncated = true;
                break;
            }
            starts.push(dt.naive_local());
        }
        Some(())
    }
}

/// The length of each occurrence: DTEND − DTSTART, else DURATION, else one day for a date.
fn span(e: &Component<'_>, start: IcsTime, start_ts: Timestamp, zone: Zone) -> Option<Span> {
    if let Some(p) = e.find_prop("DTEND") {
        let end = parse_time(p.val.as_str(), param(p, "TZID"), zone)?;
        return match (start, end) {
            (IcsTime::Date(s), IcsTime::Date(en)) => {
                let days = (en - s).num_days().clamp(1, 3660);
                Some(Span::Days(u32::try_from(days).ok()?))
            }
            _ => {
                let end_ts = end.instant(zone)?;
                (end_ts > start_ts).then(|| Span::Exact(end_ts.unix_ms() - start_ts.unix_ms()))
            }
        };
    }
    if let Some(d) = prop_value(e, "DURATION") {
        let secs = parse_duration(d)?;
        return match start {
            IcsTime::Date(_) if secs % 86_400 == 0 => Some(Span::Days(
                u32::try_from((secs / 86_400).clamp(1, 3660)).ok()?,
            )),
            _ => (secs > 0).then(|| Span::Exact(secs.saturating_mul(1000))),
        };
    }
    matches!(start, IcsTime::Date(_)).then_some(Span::Days(1))
}

/// The fields every occurrence shares.
fn template(e: &Component<'_>, owner: &[String]) -> Appointment {
    let show_as = show_as(e);
    let private = prop_value(e, "CLASS").is_some_and(|c| {
        c.eq_ignore_ascii_case("PRIVATE") || c.eq_ignore_ascii_case("CONFIDENTIAL")
    });
    let profile = props(e, "CATEGORIES")
        .flat_map(|p| p.val.as_str().split(','))
        .take(64)
        .find_map(category_profile);
    let origin = match prop_value(e, "ORGANIZER") {
        Some(org) if !owner.is_empty() && !owner.iter().any(|o| same_address(o, org)) => {
            Origin::Invitation {
                organizer: Note::new(org.chars().take(256).collect::<String>()).ok(),
            }
        }
        _ => Origin::Own,
    };
    let mut a = Appointment::template(show_as)
        .with_private(private)
        .with_origin(origin);
    if let Some(p) = profile {
        a = a.with_profile(p);
    }
    if let Some(s) = prop_value(e, "SUMMARY").and_then(text_note) {
        a = a.with_subject(s);
    }
    a
}

fn same_address(a: &str, b: &str) -> bool {
    fn bare(s: &str) -> &str {
        let s = s.trim();
        s.get(..7)
            .filter(|h| h.eq_ignore_ascii_case("mailto:"))
            .and_then(|_| s.get(7..))
            .unwrap_or(s)
    }
    bare(a).eq_ignore_ascii_case(bare(b))
}

/// Outlook's busy status if present, else TRANSP and STATUS (RFC 5545 §3.8.2.7, §3.8.1.11).
fn show_as(e: &Component<'_>) -> ShowAs {
    if let Some(s) = prop_value(e, "X-MICROSOFT-CDO-BUSYSTATUS") {
        match s.trim().to_ascii_uppercase().as_str() {
            "FREE" => return ShowAs::Free,
            "TENTATIVE" => return ShowAs::Tentative,
            "OOF" => return ShowAs::OutOfOffice,
            "WORKINGELSEWHERE" => return ShowAs::WorkingElsewhere,
            "BUSY" => return ShowAs::Busy,
            _ => {}
        }
    }
    if prop_value(e, "TRANSP").is_some_and(|t| t.eq_ignore_ascii_case("TRANSPARENT")) {
        return ShowAs::Free;
    }
    if prop_value(e, "STATUS").is_some_and(|t| t.eq_ignore_ascii_case("TENTATIVE")) {
        return ShowAs::Tentative;
    }
    ShowAs::Busy
}

/// RFC 5545 wants UNTIL in UTC when DTSTART has a zone; calendars often send a date or a local
/// time. Rewrites UNTIL to UTC (end of day for a date) so the rule is accepted.
fn until_as_utc(rule: &str, zone: Zone) -> Option<String> {
    if rule.len() > 1024 {
        return None;
    }
    let parts: Vec<String> = rule
        .split(';')
        .map(|part| {
            let Some(v) = part
                .get(..6)
                .filter(|k| k.eq_ignore_ascii_case("UNTIL="))
                .and_then(|_| part.get(6..))
            else {
                return part.to_owned();
            };
            let ts = match parse_time(v, None, zone) {
                Some(IcsTime::Date(d)) => {
                    zone.resolve(d.and_hms_opt(23, 59, 59).unwrap_or_default())
                }
                Some(IcsTime::Local(t, z)) => z.resolve(t),
                _ => return part.to_owned(),
            };
            match ts.and_then(super::zone::to_utc) {
                Some(u) => format!("UNTIL={}", u.format("%Y%m%dT%H%M%SZ")),
                None => part.to_owned(),
            }
        })
        .collect();
    Some(parts.join(";"))
}
