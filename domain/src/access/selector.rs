//! Naming one entry of a user's rules, for the API, the CLI (`lampfield rule set alice
//! group:Friends team`) and the XEP-0050 ad-hoc commands, which all edit rules one entry at a time.

use std::fmt;
use std::str::FromStr;

use jid::{BareJid, DomainPart};
use serde::{Deserialize, Serialize};

use super::level::Level;
use super::rules::{MAX_GROUP_BYTES, Rules};

/// Whom one rule is for. The text form is `contact:<bare jid>`, `group:<name>`, `domain:<domain>`,
/// `federated` or `default`, listed here in precedence order.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "name")]
pub enum Selector {
    /// One contact.
    Contact(BareJid),
    /// One roster group.
    Group(String),
    /// One organization (exactly this domain).
    Domain(DomainPart),
    /// Every other domain.
    Federated,
    /// Everyone else.
    Default,
}

/// A selector that does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SelectorError {
    /// Not one of the five forms.
    #[error("expected contact:<jid>, group:<name>, domain:<domain>, federated or default")]
    Form,
    /// The contact is not a bare JID with a local part.
    #[error("contact must be a bare JID such as bob@example.org")]
    Contact,
    /// The domain is not a valid domain.
    #[error("invalid domain")]
    Domain,
    /// The group name is empty or too long.
    #[error("roster group names must be 1 to {MAX_GROUP_BYTES} bytes long")]
    Group,
}

impl FromStr for Selector {
    type Err = SelectorError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        match s.split_once(':') {
            Some(("contact", jid)) => match jid::Jid::new(jid.trim()).map(|j| j.try_into_full()) {
                Ok(Err(bare)) if bare.node().is_some() => Ok(Selector::Contact(bare)),
                _ => Err(SelectorError::Contact),
            },
            Some(("group", name)) if !name.is_empty() && name.len() <= MAX_GROUP_BYTES => {
                Ok(Selector::Group(name.to_owned()))
            }
            Some(("group", _)) => Err(SelectorError::Group),
            Some(("domain", d)) => d
                .trim()
                .parse::<DomainPart>()
                .map(Selector::Domain)
                .map_err(|_| SelectorError::Domain),
            None if s == "federated" => Ok(Selector::Federated),
            None if s == "default" => Ok(Selector::Default),
            _ => Err(SelectorError::Form),
        }
    }
}

impl fmt::Display for Selector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Selector::Contact(j) => write!(f, "contact:{j}"),
            Selector::Group(g) => write!(f, "group:{g}"),
            Selector::Domain(d) => write!(f, "domain:{d}"),
            Selector::Federated => f.write_str("federated"),
            Selector::Default => f.write_str("default"),
        }
    }
}

impl Rules {
    /// The level of one entry, if set.
    pub fn get(&self, selector: &Selector) -> Option<Level> {
        match selector {
            Selector::Contact(j) => self.contacts.get(j).copied(),
            Selector::Group(g) => self.groups.get(g).copied(),
            Selector::Domain(d) => self.domains.get(d).copied(),
            Selector::Federated => self.federated,
            Selector::Default => self.default,
        }
    }

    /// Sets (`Some`) or removes (`None`) one entry and returns the previous level. The caller runs
    /// [`Rules::check`] before storing and `rule_changes` to tell the affected watchers.
    pub fn set(&mut self, selector: Selector, level: Option<Level>) -> Option<Level> {
        fn put<K: Ord>(
            map: &mut std::collections::BTreeMap<K, Level>,
            k: K,
            l: Option<Level>,
        ) -> Option<Level> {
            match l {
                Some(l) => map.insert(k, l),
                None => map.remove(&k),
            }
        }
        match selector {
            Selector::Contact(j) => put(&mut self.contacts, j, level),
            Selector::Group(g) => put(&mut self.groups, g, level),
            Selector::Domain(d) => put(&mut self.domains, d, level),
            Selector::Federated => std::mem::replace(&mut self.federated, level),
            Selector::Default => std::mem::replace(&mut self.default, level),
        }
    }

    /// Every entry, in precedence order (contacts, groups, domains, federated, default).
    pub fn entries(&self) -> Vec<(Selector, Level)> {
        let contacts = self
            .contacts
            .iter()
            .map(|(j, l)| (Selector::Contact(j.clone()), *l));
        let groups = self
            .groups
            .iter()
            .map(|(g, l)| (Selector::Group(g.clone()), *l));
        let domains = self
            .domains
            .iter()
            .map(|(d, l)| (Selector::Domain(d.clone()), *l));
        contacts
            .chain(groups)
            .chain(domains)
            .chain(self.federated.map(|l| (Selector::Federated, l)))
            .chain(self.default.map(|l| (Selector::Default, l)))
            .collect()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn selectors_parse_and_print_in_their_text_form() {
        for s in [
            "contact:bob@example.org",
            "group:Project X",
            "domain:partner.com",
            "federated",
            "default",
        ] {
            assert_eq!(s.parse::<Selector>().unwrap().to_string(), s);
        }
        let c: Selector = "contact:Bob@Example.ORG".parse().unwrap();
        assert_eq!(c.to_string(), "contact:bob@example.org");
        for bad in [
            "contact:example.org",
            "contact:bob@example.org/phone",
            "group:",
            "domain:",
            "everyone",
            "",
        ] {
            assert!(bad.parse::<Selector>().is_err(), "{bad:?}");
        }
    }

    #[test]
    fn set_get_remove_and_list_in_precedence_order() {
        let mut r = Rules::default();
        let bob: Selector = "contact:bob@example.org".parse().unwrap();
        assert_eq!(r.set(Selector::Default, Some(Level::Public)), None);
        assert_eq!(r.set(bob.clone(), Some(Level::Team)), None);
        assert_eq!(r.set(bob.clone(), Some(Level::Business)), Some(Level::Team));
        assert_eq!(r.get(&bob), Some(Level::Business));
        let listed: Vec<String> = r.entries().iter().map(|(s, _)| s.to_string()).collect();
        assert_eq!(listed, vec!["contact:bob@example.org", "default"]);
        assert_eq!(r.set(bob.clone(), None), Some(Level::Business));
        assert_eq!(r.get(&bob), None);
        let j = serde_json::to_string(&Selector::Federated).unwrap();
        assert_eq!(j, r#"{"kind":"federated"}"#);
    }
}
