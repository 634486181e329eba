//! XEP-0191 (1.3): the gateway's block list over the engine's access rules. An entry is a rule at
//! level blocked: `contact:<jid>` for a bare JID, `domain:<domain>` for a domain JID
//! (docs/ACCESS.md, "Editing rules"), so a client's block list, `lampfield rule list`, the API and
//! the ad-hoc commands show one truth. Changes go through the engine, which stores them and
//! republishes the user's presence at once, like any rule change.

use jid::{BareJid, Jid};
use lampfield_xmpp::{BlockError, BlockFuture, Blocklist};

use super::presence::EngineAuthority;
use crate::engine::EngineError;
use lampfield_domain::access::{Level, Rules, Selector};

/// The rule a block list entry is: a domain JID names a domain, any other a contact.
fn selector(entry: &BareJid) -> Selector {
    match entry.node() {
        Some(_) => Selector::Contact(entry.clone()),
        None => Selector::Domain(entry.domain().to_owned()),
    }
}

/// Every rule at blocked, as block list entries: contacts, then domains.
fn entries(rules: &Rules) -> Vec<BareJid> {
    let contacts = rules
        .contacts
        .iter()
        .filter(|(_, l)| **l == Level::Blocked)
        .map(|(j, _)| j.clone());
    let domains = rules
        .domains
        .iter()
        .filter(|(_, l)| **l == Level::Blocked)
        .map(|(d, _)| BareJid::from_parts(None, d));
    contacts.chain(domains).collect()
}

fn refused(e: EngineError) -> BlockError {
    match e {
        EngineError::Rules(_) => BlockError::Full,
        other => BlockError::Failed(other.to_string()),
    }
}

impl Blocklist for EngineAuthority {
    fn blocked(&self, user: &BareJid) -> Result<Vec<BareJid>, BlockError> {
        self.engine()
            .with_rules(user, entries)
            .map_err(|e| BlockError::Failed(e.to_string()))
    }

    fn blocks(&self, user: &BareJid, target: &Jid) -> bool {
        let target = target.to_bare();
        self.engine()
            .with_rules(user, |rules| {
                rules.contacts.get(&target) == Some(&Level::Blocked)
                    || rules.domains.get(target.domain()) == Some(&Level::Blocked)
            })
            .unwrap_or(false)
    }

    fn block<'a>(&'a self, user: &'a BareJid, jids: &'a [BareJid]) -> BlockFuture<'a> {
        Box::pin(async move {
            self.engine()
                .edit_rules(user, |rules| {
                    for jid in jids {
                        rules.set(selector(jid), Some(Level::Blocked));
                    }
                })
                .await
                .map_err(refused)
        })
    }

    fn unblock<'a>(&'a self, user: &'a BareJid, jids: Option<&'a [BareJid]>) -> BlockFuture<'a> {
        Box::pin(async move {
            self.engine()
                .edit_rules(user, |rules| {
                    let all;
                    let jids = match jids {
                        Some(j) => j,
                        None => {
                            all = entries(rules);
                            &all
                        }
                    };
                    for jid in jids {
                        // A rule at another level is the user's choice of detail, not a block.
                        let selector = selector(jid);
                        if rules.get(&selector) == Some(Level::Blocked) {
                            rules.set(selector, None);
                        }
                    }
                })
                .await
                .map_err(refused)
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::adapters::presence::tests::engine_with;

    fn jid(s: &str) -> BareJid {
        BareJid::new(s).unwrap()
    }

    #[tokio::test]
    async fn the_block_list_is_the_contact_and_domain_rules_at_blocked() {
        let alice = jid("alice@example.org");
        let (engine, store) = engine_with(&alice).await;
        let authority = EngineAuthority::new(engine.clone(), store);
        let (bob, carol, spam) = (
            jid("bob@example.org"),
            jid("carol@example.org"),
            jid("spam.example"),
        );
        engine
            .edit_rules(&alice, |r| {
                r.set(Selector::Contact(carol.clone()), Some(Level::Team));
                r.set(Selector::Group("Friends".into()), Some(Level::Blocked));
            })
            .await
            .unwrap();

        authority
            .block(&alice, &[bob.clone(), spam.clone()])
            .await
            .unwrap();
        assert_eq!(
            authority.blocked(&alice).unwrap(),
            vec![bob.clone(), spam.clone()]
        );
        let rules = engine.rules(&alice).unwrap();
        assert_eq!(rules.contacts.get(&bob), Some(&Level::Blocked));
        assert!(authority.blocks(&alice, &Jid::new("eve@spam.example/x").unwrap()));
        assert!(!authority.blocks(&alice, &Jid::new("carol@example.org").unwrap()));

        // Unblocking all leaves carol's team rule and the group rule alone.
        authority.unblock(&alice, None).await.unwrap();
        assert!(authority.blocked(&alice).unwrap().is_empty());
        let rules = engine.rules(&alice).unwrap();
        assert_eq!(rules.contacts.get(&carol), Some(&Level::Team));
        assert_eq!(rules.groups.get("Friends"), Some(&Level::Blocked));
        authority
            .unblock(&alice, Some(std::slice::from_ref(&carol)))
            .await
            .unwrap();
        assert_eq!(
            engine.rules(&alice).unwrap().contacts.get(&carol),
            Some(&Level::Team)
        );
    }
}
