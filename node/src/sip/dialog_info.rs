//! RFC 4235 dialog-info documents (`application/dialog-info+xml`): reading a PBX's report of one
//! extension's calls, and writing the full-state document a busy lamp key reads.

use std::str::FromStr;

use lampfield_domain::presence::{Call, LineState};
use minidom::Element;

/// The dialog-info namespace (RFC 4235 §4.1).
pub(super) const NS: &str = "urn:ietf:params:xml:ns:dialog-info";
/// The media type of the body.
pub(super) const CONTENT_TYPE: &str = "application/dialog-info+xml";

/// Which side started a dialog (RFC 4235 §4.1.6 `direction`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Direction {
    /// The extension placed the call.
    Initiator,
    /// The call was offered to the extension.
    Recipient,
}

/// What one published document says about the extension's line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct LineReport {
    /// The line state the dialogs add up to.
    pub(super) state: LineState,
    /// The direction of the dialog that decided it, where given.
    pub(super) direction: Option<Direction>,
    /// The remote party's identity of that dialog, where given.
    pub(super) remote: Option<String>,
}

/// Why a body is not a usable dialog-info document.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(super) enum DialogInfoError {
    /// Not well-formed XML.
    #[error("body is not well-formed XML")]
    Xml,
    /// Well-formed, but not a `dialog-info` element in the RFC 4235 namespace.
    #[error("body is not a dialog-info document")]
    NotDialogInfo,
    /// A dialog without a known `state`.
    #[error("a dialog has no valid state")]
    BadState,
}

/// How active a dialog is, for choosing the one that decides the lamp.
fn rank(state: &LineState) -> u8 {
    match state {
        LineState::OnCall(_) => 2,
        LineState::Ringing => 1,
        LineState::Idle | LineState::OutOfOrder => 0,
    }
}

/// Read a dialog-info body. Among several dialogs the most active decides (a call up beats one
/// ringing beats none), the way a BLF key shows them. Dialog states (RFC 4235 §4.1.10): `early`
/// (and `trying`, `proceeding`) offered to the extension is ringing; the same on a call the
/// extension places is already "on the phone", since nobody is invited to pick it up;
/// `confirmed` is on a call; `terminated` or no dialog is idle.
pub(super) fn parse(body: &[u8]) -> Result<LineReport, DialogInfoError> {
    let text = std::str::from_utf8(body).map_err(|_| DialogInfoError::Xml)?;
    let root = Element::from_str(text).map_err(|_| DialogInfoError::Xml)?;
    if !root.is("dialog-info", NS) {
        return Err(DialogInfoError::NotDialogInfo);
    }
    let mut best = LineReport {
        state: LineState::Idle,
        direction: None,
        remote: None,
    };
    for dialog in root.children().filter(|c| c.is("dialog", NS)) {
        let direction = match dialog.attr("direction") {
            Some("initiator") => Some(Direction::Initiator),
            Some("recipient") => Some(Direction::Recipient),
            _ => None,
        };
        let state_text: String = dialog
            .get_child("state", NS)
            .ok_or(DialogInfoError::BadState)?
            .texts()
            .collect();
        let state = match state_text.trim() {
            "trying" | "proceeding" | "early" if direction == Some(Direction::Initiator) => {
                LineState::OnCall(Call::default())
            }
            "trying" | "proceeding" | "early" => LineState::Ringing,
            "confirmed" => LineState::OnCall(Call::default()),
            "terminated" => LineState::Idle,
            _ => return Err(DialogInfoError::BadState),
        };
        if rank(&state) > rank(&best.state) {
            let remote = dialog
                .get_child("remote", NS)
                .and_then(|r| r.get_child("identity", NS))
                .map(|i| {
                    i.texts()
                        .collect::<String>()
                        .trim()
                        .chars()
                        .take(256)
                        .collect()
                });
            best = LineReport {
                state,
                direction,
                remote,
            };
        }
    }
    Ok(best)
}

/// The full-state document for `entity` (`sip:EXT@domain`) showing `state`, as a NOTIFY
/// carries it: no dialog when the line is idle (or unknown, or not visible to the watcher), one
/// `early` dialog while it rings, one `confirmed` dialog during a call. Nothing about the call
/// but its state leaves: the watcher's view may hold no more.
pub(super) fn render(entity: &str, version: u64, state: Option<LineState>) -> String {
    let mut root = Element::builder("dialog-info", NS)
        .attr(rxml::xml_ncname!("version").to_owned(), version.to_string())
        .attr(rxml::xml_ncname!("state").to_owned(), "full")
        .attr(rxml::xml_ncname!("entity").to_owned(), entity);
    let shown = match state {
        Some(LineState::Ringing) => Some(("early", "recipient")),
        Some(LineState::OnCall(_)) => Some(("confirmed", "")),
        _ => None,
    };
    if let Some((dialog_state, direction)) = shown {
        let mut dialog = Element::builder("dialog", NS)
            .attr(rxml::xml_ncname!("id").to_owned(), "lampfield-line");
        if !direction.is_empty() {
            dialog = dialog.attr(rxml::xml_ncname!("direction").to_owned(), direction);
        }
        root = root.append(
            dialog
                .append(Element::builder("state", NS).append(dialog_state).build())
                .build(),
        );
    }
    let mut out = Vec::new();
    // Writing to a Vec cannot fail; an empty body would still be answered as idle.
    let _ = root.build().write_to_decl(&mut out);
    String::from_utf8(out).unwrap_or_default()
}

#[allow(clippy::unwrap_used, clippy::expect_used)]
#[cfg(test)]
mod tests {
    use super::*;

    fn doc(dialogs: &str) -> String {
        format!(
            "<?xml version=\"1.0\"?>\n<dialog-info xmlns=\"{NS}\" version=\"3\" state=\"full\" \
             entity=\"sip:201@pbx.example\">{dialogs}</dialog-info>"
        )
    }

    #[test]
    fn early_confirmed_terminated_give_ringing_on_call_idle() {
        let early = doc(
            "<dialog id=\"a\" direction=\"recipient\"><state>early</state>\
             <remote><identity>sip:0301234@pbx.example</identity></remote></dialog>",
        );
        let report = parse(early.as_bytes()).unwrap();
        assert_eq!(report.state, LineState::Ringing);
        assert_eq!(report.direction, Some(Direction::Recipient));
        assert_eq!(report.remote.as_deref(), Some("sip:0301234@pbx.example"));
        let up = doc("<dialog id=\"a\"><state>confirmed</state></dialog>");
        assert_eq!(
            parse(up.as_bytes()).unwrap().state,
            LineState::OnCall(Call::default())
        );
        let down = doc("<dialog id=\"a\"><state event=\"local-bye\">terminated</state></dialog>");
        assert_eq!(parse(down.as_bytes()).unwrap().state, LineState::Idle);
        assert_eq!(parse(doc("").as_bytes()).unwrap().state, LineState::Idle);
    }

    #[test]
    fn a_call_placed_is_on_the_phone_and_the_most_active_dialog_wins() {
        let dialing = doc("<dialog id=\"a\" direction=\"initiator\"><state>early</state></dialog>");
        assert_eq!(
            parse(dialing.as_bytes()).unwrap().state,
            LineState::OnCall(Call::default())
        );
        let both = doc("<dialog id=\"a\"><state>early</state></dialog>\
             <dialog id=\"b\" direction=\"initiator\"><state>confirmed</state></dialog>\
             <dialog id=\"c\"><state>terminated</state></dialog>");
        let report = parse(both.as_bytes()).unwrap();
        assert_eq!(report.state, LineState::OnCall(Call::default()));
        assert_eq!(report.direction, Some(Direction::Initiator));
    }

    #[test]
    fn hostile_or_foreign_bodies_are_refused() {
        assert_eq!(parse(b"\xff\xfe").unwrap_err(), DialogInfoError::Xml);
        assert_eq!(parse(b"<dialog-info").unwrap_err(), DialogInfoError::Xml);
        assert_eq!(
            parse(b"<presence xmlns='urn:ietf:params:xml:ns:pidf'/>").unwrap_err(),
            DialogInfoError::NotDialogInfo
        );
        let bad = doc("<dialog id=\"a\"><state>dancing</state></dialog>");
        assert_eq!(
            parse(bad.as_bytes()).unwrap_err(),
            DialogInfoError::BadState
        );
        let entity = "<!DOCTYPE x [<!ENTITY a \"aaaa\">]><x>&a;</x>";
        assert!(parse(entity.as_bytes()).is_err());
    }

    #[test]
    fn rendered_documents_read_back_as_the_state_they_show() {
        for state in [
            None,
            Some(LineState::Idle),
            Some(LineState::Ringing),
            Some(LineState::OnCall(Call::default())),
        ] {
            let body = render("sip:201@localhost", 7, state);
            let root = Element::from_str(&body).unwrap();
            assert_eq!(root.attr("version"), Some("7"), "{body}");
            assert_eq!(root.attr("state"), Some("full"), "{body}");
            let expected = state.unwrap_or(LineState::Idle);
            assert_eq!(parse(body.as_bytes()).unwrap().state, expected, "{body}");
        }
        let odd = render("sip:a\"<&@localhost", 1, None);
        assert!(Element::from_str(&odd).is_ok(), "{odd}");
    }
}
