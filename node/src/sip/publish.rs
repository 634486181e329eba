//! RFC 3903 event state publication for `Event: dialog`: the publications a PBX holds here, each
//! under an entity-tag, refreshed, modified or removed by `SIP-If-Match`, and expiring when the
//! PBX stops refreshing, so that a crashed PBX's calls do not stay on the lamps.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use lampfield_domain::presence::{LineId, LineState};

use super::dialog_info::LineReport;
use super::reply::token;

/// One publication: what it says about which extension, until when.
#[derive(Debug, Clone)]
struct Publication {
    ext: LineId,
    report: LineReport,
    expires_at: Instant,
}

/// Why a publication request cannot be applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum PublishError {
    /// `SIP-If-Match` names no publication of this extension: 412 Conditional Request Failed.
    UnknownTag,
    /// As many publications as allowed are held: 503.
    Full,
}

/// Every live publication, by entity-tag; at most `cap` of them.
#[derive(Debug)]
pub(super) struct Publications {
    by_tag: HashMap<String, Publication>,
    cap: usize,
}

impl Publications {
    pub(super) fn new(cap: usize) -> Self {
        Publications {
            by_tag: HashMap::new(),
            cap,
        }
    }

    /// A new publication (§6 step 4, no `SIP-If-Match`); its entity-tag.
    pub(super) fn insert(
        &mut self,
        ext: LineId,
        report: LineReport,
        now: Instant,
        seconds: u32,
    ) -> Result<String, PublishError> {
        if self.by_tag.len() >= self.cap {
            return Err(PublishError::Full);
        }
        let tag = token();
        let expires_at = now + Duration::from_secs(u64::from(seconds));
        self.by_tag.insert(
            tag.clone(),
            Publication {
                ext,
                report,
                expires_at,
            },
        );
        Ok(tag)
    }

    /// Refresh (`report` `None`) or modify the publication `tag` of `ext`; it gets a new
    /// entity-tag (§6 step 7), returned.
    pub(super) fn update(
        &mut self,
        tag: &str,
        ext: &LineId,
        report: Option<LineReport>,
        now: Instant,
        seconds: u32,
    ) -> Result<String, PublishError> {
        let mut publication = self.take(tag, ext)?;
        if let Some(report) = report {
            publication.report = report;
        }
        publication.expires_at = now + Duration::from_secs(u64::from(seconds));
        let fresh = token();
        self.by_tag.insert(fresh.clone(), publication);
        Ok(fresh)
    }

    /// Remove the publication `tag` of `ext` (`Expires: 0`).
    pub(super) fn remove(&mut self, tag: &str, ext: &LineId) -> Result<(), PublishError> {
        self.take(tag, ext).map(|_| ())
    }

    fn take(&mut self, tag: &str, ext: &LineId) -> Result<Publication, PublishError> {
        match self.by_tag.get(tag) {
            Some(p) if &p.ext == ext => self.by_tag.remove(tag).ok_or(PublishError::UnknownTag),
            _ => Err(PublishError::UnknownTag),
        }
    }

    /// Drop every publication expired at `now`; the extensions whose state that may change.
    pub(super) fn expire(&mut self, now: Instant) -> Vec<LineId> {
        let mut touched = Vec::new();
        self.by_tag.retain(|_, p| {
            let live = p.expires_at > now;
            if !live && !touched.contains(&p.ext) {
                touched.push(p.ext.clone());
            }
            live
        });
        touched
    }

    /// The line state of `ext` all its publications add up to (the most active one), idle when
    /// none is left.
    pub(super) fn state_of(&self, ext: &LineId) -> LineState {
        self.by_tag
            .values()
            .filter(|p| &p.ext == ext)
            .map(|p| p.report.state)
            .max_by_key(|s| match s {
                LineState::OnCall(_) => 2,
                LineState::Ringing => 1,
                LineState::Idle | LineState::OutOfOrder => 0,
            })
            .unwrap_or(LineState::Idle)
    }
}

#[allow(clippy::unwrap_used)]
#[cfg(test)]
mod tests {
    use super::*;
    use lampfield_domain::presence::Call;

    fn report(state: LineState) -> LineReport {
        LineReport {
            state,
            direction: None,
            remote: None,
        }
    }

    fn ext(s: &str) -> LineId {
        LineId::new(s.to_owned()).unwrap()
    }

    #[test]
    fn etags_refresh_modify_and_remove_and_unknown_ones_fail() {
        let now = Instant::now();
        let mut pubs = Publications::new(10);
        let first = pubs
            .insert(ext("201"), report(LineState::Ringing), now, 60)
            .unwrap();
        assert_eq!(pubs.state_of(&ext("201")), LineState::Ringing);
        let up = LineState::OnCall(Call::default());
        let second = pubs
            .update(&first, &ext("201"), Some(report(up)), now, 60)
            .unwrap();
        assert_ne!(first, second, "each success gives a new entity-tag");
        assert_eq!(pubs.state_of(&ext("201")), up);
        assert_eq!(
            pubs.update(&first, &ext("201"), None, now, 60),
            Err(PublishError::UnknownTag),
            "the old tag is spent"
        );
        assert_eq!(
            pubs.remove(&second, &ext("202")),
            Err(PublishError::UnknownTag),
            "a tag of another extension"
        );
        let third = pubs.update(&second, &ext("201"), None, now, 60).unwrap();
        assert_eq!(pubs.state_of(&ext("201")), up, "a refresh keeps the state");
        pubs.remove(&third, &ext("201")).unwrap();
        assert_eq!(pubs.state_of(&ext("201")), LineState::Idle);
    }

    #[test]
    fn an_unrefreshed_publication_expires_to_idle() {
        let now = Instant::now();
        let mut pubs = Publications::new(10);
        pubs.insert(ext("201"), report(LineState::Ringing), now, 5)
            .unwrap();
        pubs.insert(ext("202"), report(LineState::Ringing), now, 60)
            .unwrap();
        assert!(pubs.expire(now + Duration::from_secs(4)).is_empty());
        assert_eq!(pubs.expire(now + Duration::from_secs(5)), vec![ext("201")]);
        assert_eq!(pubs.state_of(&ext("201")), LineState::Idle);
        assert_eq!(pubs.state_of(&ext("202")), LineState::Ringing);
    }

    #[test]
    fn the_table_is_bounded() {
        let now = Instant::now();
        let mut pubs = Publications::new(1);
        pubs.insert(ext("201"), report(LineState::Idle), now, 60)
            .unwrap();
        assert_eq!(
            pubs.insert(ext("202"), report(LineState::Idle), now, 60),
            Err(PublishError::Full)
        );
    }
}
