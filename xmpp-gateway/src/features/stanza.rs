//! RFC 6120 §8.1.1: stanza addressing, done on the element itself so that a
//! stanza built once can be readdressed cheaply for each recipient of a fan-out.

use minidom::Element;
use rxml::{Namespace, xml_ncname};

/// Set the `to` attribute.
pub(crate) fn set_to(stanza: &mut Element, to: &str) {
    stanza.set_attr(Namespace::NONE, xml_ncname!("to").to_owned(), to);
}

/// Set the `from` attribute.
pub(crate) fn set_from(stanza: &mut Element, from: &str) {
    stanza.set_attr(Namespace::NONE, xml_ncname!("from").to_owned(), from);
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn readdress() {
        let mut e: Element = "<presence xmlns='jabber:client' from='forged@x' to='a@b'/>"
            .parse()
            .unwrap();
        set_to(&mut e, "c@d");
        assert_eq!(e.attr("from"), Some("forged@x"), "only `to` changes");
        assert_eq!(e.attr("to"), Some("c@d"));
        let mut f: Element = "<presence xmlns='jabber:client'/>".parse().unwrap();
        set_to(&mut f, "c@d");
        assert_eq!(f.attr("to"), Some("c@d"));
    }
}
