//! RFC 3863 PIDF with RFC 4480 RPID activities (`application/pidf+xml`): the presence document a
//! softphone's contact list or a presence-aware phone reads for `Event: presence`.

use lampfield_domain::access::View;
use lampfield_domain::presence::Availability;
use minidom::Element;

const PIDF_NS: &str = "urn:ietf:params:xml:ns:pidf";
const DM_NS: &str = "urn:ietf:params:xml:ns:pidf:data-model";
const RPID_NS: &str = "urn:ietf:params:xml:ns:pidf:rpid";
/// The media type of the body.
pub(super) const CONTENT_TYPE: &str = "application/pidf+xml";

/// What one presence document shows, taken from a view, so that two can be compared.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct PresenceDoc {
    /// `open` unless the view shows the person offline (RFC 3863 §4.1.4).
    open: bool,
    /// The RPID activity (RFC 4480 §3.2), if any.
    activity: Option<&'static str>,
    /// The status line of the view, as its level renders it.
    note: Option<String>,
}

impl PresenceDoc {
    /// The document for `view`: only what that view holds (its level already reduced it).
    pub(super) fn of(view: &View) -> Self {
        let presence = view.presence();
        let activity = if presence.lamp.on_call() {
            Some("on-the-phone")
        } else {
            match presence.availability {
                Availability::Busy | Availability::DoNotDisturb => Some("busy"),
                Availability::Away | Availability::Inactive => Some("away"),
                Availability::Available | Availability::Offline => None,
            }
        };
        let open = presence.availability != Availability::Offline;
        let note = Some(presence.status_line.trim())
            .filter(|s| open && !s.is_empty())
            .map(|s| s.chars().take(256).collect());
        PresenceDoc {
            open,
            activity: activity.filter(|_| open),
            note,
        }
    }

    /// The PIDF document for `entity`.
    pub(super) fn render(&self, entity: &str) -> String {
        let basic = if self.open { "open" } else { "closed" };
        let tuple = Element::builder("tuple", PIDF_NS)
            .attr(rxml::xml_ncname!("id").to_owned(), "lampfield")
            .append(
                Element::builder("status", PIDF_NS)
                    .append(Element::builder("basic", PIDF_NS).append(basic).build())
                    .build(),
            )
            .build();
        let mut root = Element::builder("presence", PIDF_NS)
            .attr(rxml::xml_ncname!("entity").to_owned(), entity)
            .append(tuple);
        if let Some(activity) = self.activity {
            let activities = Element::builder("activities", RPID_NS)
                .append(Element::builder(activity, RPID_NS).build())
                .build();
            root = root.append(
                Element::builder("person", DM_NS)
                    .attr(rxml::xml_ncname!("id").to_owned(), "person")
                    .append(activities)
                    .build(),
            );
        }
        if let Some(note) = &self.note {
            root = root.append(
                Element::builder("note", PIDF_NS)
                    .append(note.as_str())
                    .build(),
            );
        }
        let mut out = Vec::new();
        // Writing to a Vec cannot fail.
        let _ = root.build().write_to_decl(&mut out);
        String::from_utf8(out).unwrap_or_default()
    }
}

#[allow(clippy::unwrap_used)]
#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    #[test]
    fn documents_carry_basic_activity_and_note() {
        let busy = PresenceDoc {
            open: true,
            activity: Some("on-the-phone"),
            note: Some("On the phone <&>".into()),
        };
        let root = Element::from_str(&busy.render("sip:201@localhost")).unwrap();
        assert!(root.is("presence", PIDF_NS));
        assert_eq!(root.attr("entity"), Some("sip:201@localhost"));
        let basic: String = root
            .get_child("tuple", PIDF_NS)
            .and_then(|t| t.get_child("status", PIDF_NS))
            .and_then(|s| s.get_child("basic", PIDF_NS))
            .unwrap()
            .texts()
            .collect();
        assert_eq!(basic, "open");
        let activities = root
            .get_child("person", DM_NS)
            .and_then(|p| p.get_child("activities", RPID_NS))
            .unwrap();
        assert!(activities.has_child("on-the-phone", RPID_NS));
        let note: String = root.get_child("note", PIDF_NS).unwrap().texts().collect();
        assert_eq!(note, "On the phone <&>");

        let offline = View::unavailable();
        let doc = PresenceDoc::of(&offline);
        assert_eq!(
            doc,
            PresenceDoc {
                open: false,
                activity: None,
                note: None
            }
        );
        let root = Element::from_str(&doc.render("sip:201@localhost")).unwrap();
        assert!(root.get_child("person", DM_NS).is_none());
        assert!(root.get_child("note", PIDF_NS).is_none());
    }
}
