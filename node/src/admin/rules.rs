//! Access rules through the admin socket and the offline CLI (`lampfield rule ...`).
//!
//! A running node applies a change through its engine, so every watcher gets the new view at
//! once; a stopped node's store is written directly and the rules apply from the next start.

use jid::BareJid;

use super::protocol::{RuleEntry, RulesInfo};
use super::service::{AdminError, Service};
use lampfield_domain::access::{self, Basis, Level, Rules, Selector};
use lampfield_domain::users::parse_user;

impl Service {
    /// `user`'s rules with the node's defaults and ceilings.
    pub fn rules(&self, jid: &str) -> Result<RulesInfo, AdminError> {
        let user = self.local_user(jid)?;
        let rules = self.current_rules(&user)?;
        let policy = self.policy();
        Ok(RulesInfo {
            jid: user.to_string(),
            entries: rules
                .entries()
                .into_iter()
                .map(|(selector, level)| RuleEntry {
                    selector: selector.to_string(),
                    level,
                })
                .collect(),
            default_local: policy.default_local,
            default_federated: policy.default_federated,
            ceiling_local: policy.ceiling_local,
            ceiling_federated: policy.ceiling_federated,
        })
    }

    /// Set (`Some`) or remove (`None`) one rule entry of `user`; durable on return.
    pub async fn set_rule(
        &self,
        jid: &str,
        selector: &str,
        level: Option<Level>,
    ) -> Result<(BareJid, Selector), AdminError> {
        let user = self.local_user(jid)?;
        let selector: Selector = selector
            .parse()
            .map_err(|e| AdminError::Rules(format!("{selector:?}: {e}")))?;
        self.change_rule(&user, &selector, level).await?;
        Ok((user, selector))
    }

    /// Set or remove one rule entry of an existing account `user`.
    async fn change_rule(
        &self,
        user: &BareJid,
        selector: &Selector,
        level: Option<Level>,
    ) -> Result<(), AdminError> {
        match self.engine() {
            Some(engine) => {
                engine
                    .edit_rules(user, |rules| {
                        rules.set(selector.clone(), level);
                    })
                    .await
                    .map_err(|e| AdminError::Rules(e.to_string()))?;
            }
            None => {
                let mut rules = self.store().rules(user)?;
                rules.set(selector.clone(), level);
                rules
                    .check()
                    .map_err(|e| AdminError::Rules(e.to_string()))?;
                self.store().put_rules(user, &rules).await?;
            }
        }
        tracing::info!(%user, %selector, level = ?level, "access rule changed");
        Ok(())
    }

    /// Which level `viewer` gets of `jid`, and which rule decided it.
    pub fn explain_rule(&self, jid: &str, viewer: &str) -> Result<(Level, String), AdminError> {
        let user = self.local_user(jid)?;
        let viewer = BareJid::new(viewer)
            .map_err(|e| AdminError::Rules(format!("viewer {viewer:?}: {e}")))?;
        let rules = self.current_rules(&user)?;
        let groups = self
            .store()
            .contact(&user, &viewer)?
            .map(|c| c.groups)
            .unwrap_or_default();
        let d = access::decide(&user, &viewer, &groups, &rules, &self.policy());
        let basis = match d.basis {
            Basis::Owner => "the viewer is the user".to_owned(),
            Basis::Contact => format!("the rule for contact:{viewer}"),
            Basis::Group(g) => format!("the rule for group:{g}"),
            Basis::Domain => format!("the rule for domain:{}", viewer.domain()),
            Basis::Federated => "the rule for federated".to_owned(),
            Basis::UserDefault => "the user's default rule".to_owned(),
            Basis::NodeDefault => "the node's default".to_owned(),
        };
        let reason = match d.capped_from {
            Some(named) => format!(
                "{basis} says {}, capped by the node's ceiling",
                named.name()
            ),
            None => basis,
        };
        Ok((d.level, reason))
    }

    /// Drop every `contact:` rule naming `removed`, a removed account, from every account's
    /// rules; durable on return. The stored rules are read first (the engine writes them
    /// before it uses them), so only accounts with such a rule are loaded into the engine.
    pub(super) async fn forget_in_rules(&self, removed: &BareJid) -> Result<(), AdminError> {
        for user in self.store().users()? {
            if !self.store().rules(&user)?.contacts.contains_key(removed) {
                continue;
            }
            self.change_rule(&user, &Selector::Contact(removed.clone()), None)
                .await?;
        }
        Ok(())
    }

    /// `user`'s rules as the running node's engine has them, else as stored.
    fn current_rules(&self, user: &BareJid) -> Result<Rules, AdminError> {
        match self.engine() {
            Some(engine) => engine
                .rules(user)
                .map_err(|e| AdminError::Rules(e.to_string())),
            None => Ok(self.store().rules(user)?),
        }
    }

    fn local_user(&self, jid: &str) -> Result<BareJid, AdminError> {
        let user = parse_user(self.domain(), jid)?;
        if !self.store().account_exists(&user)? {
            return Err(AdminError::Rules(format!("no such user: {user}")));
        }
        Ok(user)
    }
}
