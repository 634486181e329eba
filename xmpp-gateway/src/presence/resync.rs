//! RFC 6121 §4.3 and §3.1.2 across servers: resynchronizing with another domain after its link came (back) up: the stanzas
//! sent while it was unreachable may be lost, so every local user's subscribers at that
//! domain get the user's current presence again, and every contact the user watches
//! there is probed again (RFC 6121 §4.3). A pending subscription request is sent again
//! too (§3.1.2 lets a server resend it).
//!
//! A subscriber first gets an unavailable from the user's bare JID, which clears every
//! resource it may still show (one that went away while the link was down would
//! otherwise stay "available" forever), then the view it may see now, if any.

use jid::BareJid;
use minidom::Element;

use crate::ns::JABBER_CLIENT;
use crate::ports::backend::Backend;
use crate::presence;
use crate::router::Router;

impl<B: Backend> Router<B> {
    /// Resend presence to, and probe, the contacts at `domain` of each of `users`
    /// (local accounts; the node knows them, the router does not).
    pub async fn resync_domain(&self, domain: &str, users: &[BareJid]) {
        for user in users.iter().filter(|u| self.is_local(u)) {
            let contacts = self.contacts_or_empty(user).await;
            let there = contacts
                .iter()
                .filter(|c| c.jid.domain().as_str().eq_ignore_ascii_case(domain));
            for contact in there {
                if contact.subscription.from {
                    let table = self.table();
                    self.deliver_presence(&table, &contact.jid, &bare_unavailable(user));
                    drop(table);
                    self.send_presence(user, &contact.jid);
                }
                if contact.subscription.to {
                    self.to_remote(presence::probe(user, &contact.jid));
                } else if contact.subscription.pending_out {
                    let el = presence::subscription_stanza(
                        crate::subscription::Event::OutSubscribe,
                        user,
                        &contact.jid,
                    );
                    self.to_remote(el);
                }
            }
        }
    }
}

/// `<presence type='unavailable'/>` from a bare JID: all of its resources went away.
fn bare_unavailable(user: &BareJid) -> Element {
    Element::builder("presence", JABBER_CLIENT)
        .attr(rxml::xml_ncname!("type").to_owned(), "unavailable")
        .attr(rxml::xml_ncname!("from").to_owned(), user.as_str())
        .build()
}
