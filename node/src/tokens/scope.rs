//! Token scopes (docs/API.md, "Tokens and scopes"): for which users a token may act (bare JIDs,
//! whole domains), which actions it may take (`read`, `sources`, `rules`, `profiles`), and how many
//! requests a second it may make. A token that names none of them acts for every user with every
//! action, which is what tokens made before scopes existed mean.

use std::fmt;
use std::str::FromStr;

use jid::BareJid;
use serde::{Deserialize, Serialize};

use lampfield_domain::users::parse_user;

/// Sustained requests per second of a token that names no rate.
/// High enough for a PBX connector of a large site (a few hundred line changes a second at peak),
/// low enough that one runaway client cannot occupy the node.
pub const DEFAULT_RATE: u32 = 200;
/// Highest rate a token may be given, requests per second.
pub const MAX_RATE: u32 = 100_000;
/// Requests a token may make at once after a quiet spell, per request a second of its rate.
pub const BURST_PER_RATE: u32 = 2;
/// Most users and domains one token may name together.
pub const MAX_SCOPE_ENTRIES: usize = 1_000;

/// What a route does, as a token's scope names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Presence reads and the change stream.
    Read,
    /// `sources`: presence sources (lines, queues, external claims, the manual setting including
    /// "appear offline", idle), and what feeds them: the user's settings and extension mappings.
    #[serde(rename = "sources")]
    Source,
    /// Reading and writing access rules.
    Rules,
    /// Presence profiles and calendars.
    Profiles,
}

impl Action {
    /// Every action, in the order docs and lists show them.
    pub const ALL: [Action; 4] = [
        Action::Read,
        Action::Source,
        Action::Rules,
        Action::Profiles,
    ];

    /// Its name in the CLI, the configuration and error answers.
    pub fn name(self) -> &'static str {
        match self {
            Action::Read => "read",
            Action::Source => "sources",
            Action::Rules => "rules",
            Action::Profiles => "profiles",
        }
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Action {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let s = s.trim();
        Action::ALL
            .into_iter()
            .find(|a| a.name().eq_ignore_ascii_case(s))
            .ok_or_else(|| {
                format!(
                    "unknown action {:?}: read, sources, rules or profiles",
                    s.chars().take(32).collect::<String>()
                )
            })
    }
}

/// For whom and what a token acts. Build it with [`TokenScope::new`], which checks and normalizes the
/// entries; the default names nothing: every user, every action.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenScope {
    /// Users the token may act for, as normalized bare JIDs, sorted.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    users: Vec<String>,
    /// Domains whose every user the token may act for, normalized, sorted.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    domains: Vec<String>,
    /// The actions it may take; `None`: all of them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    actions: Option<Vec<Action>>,
}

impl TokenScope {
    /// A scope for a token of the node serving `node_domain`: `users` must be accounts of that
    /// domain and `domains` that domain (a node serves one; an entry for another could never
    /// match, so it is refused as the mistake it is). Empty `users` and `domains`: every user.
    /// `actions` `None`: every action; an empty list is refused (a token that may do nothing).
    pub fn new(
        users: &[String],
        domains: &[String],
        actions: Option<&[Action]>,
        node_domain: &str,
    ) -> Result<TokenScope, String> {
        if users.len() + domains.len() > MAX_SCOPE_ENTRIES {
            return Err(format!(
                "a token may name at most {MAX_SCOPE_ENTRIES} users and domains"
            ));
        }
        let mut checked_users = users
            .iter()
            .map(|u| {
                parse_user(node_domain, u)
                    .map(|jid| jid.to_string())
                    .map_err(|e| format!("user scope: {e}"))
            })
            .collect::<Result<Vec<_>, _>>()?;
        checked_users.sort();
        checked_users.dedup();
        let ours = normalize_domain(node_domain);
        let mut checked_domains = domains
            .iter()
            .map(|d| match normalize_domain(d) {
                Some(d) if Some(&d) == ours.as_ref() => Ok(d),
                Some(d) => Err(format!(
                    "domain scope {d}: this node serves only {node_domain}"
                )),
                None => Err(format!(
                    "domain scope {:?} is not a domain name",
                    d.chars().take(64).collect::<String>()
                )),
            })
            .collect::<Result<Vec<_>, _>>()?;
        checked_domains.sort();
        checked_domains.dedup();
        let actions = match actions {
            None => None,
            Some([]) => {
                return Err(
                    "name at least one action (read, sources, rules, profiles), or none for all"
                        .to_owned(),
                );
            }
            Some(list) => {
                let mut list = list.to_vec();
                list.sort();
                list.dedup();
                Some(list)
            }
        };
        Ok(TokenScope {
            users: checked_users,
            domains: checked_domains,
            actions,
        })
    }

    /// Whether the token may act for `user`.
    pub fn covers(&self, user: &BareJid) -> bool {
        self.every_user()
            || self.users.iter().any(|u| u == user.as_str())
            || self.domains.iter().any(|d| d == user.domain().as_str())
    }

    /// Whether it names nothing: every user, every action (what tokens made before scopes mean).
    pub fn is_everything(&self) -> bool {
        *self == Self::default()
    }

    /// Whether the token acts for every user (names neither users nor domains).
    pub fn every_user(&self) -> bool {
        self.users.is_empty() && self.domains.is_empty()
    }

    /// Whether the token may take `action`.
    pub fn allows(&self, action: Action) -> bool {
        self.actions.as_ref().is_none_or(|a| a.contains(&action))
    }

    /// The users named, normalized.
    pub fn users(&self) -> &[String] {
        &self.users
    }

    /// The domains named, normalized.
    pub fn domains(&self) -> &[String] {
        &self.domains
    }

    /// The actions named; `None` for all.
    pub fn actions(&self) -> Option<&[Action]> {
        self.actions.as_deref()
    }

    /// `alice@example.org,@example.org` or `all users`, for lists and logs.
    pub fn users_text(&self) -> String {
        if self.every_user() {
            return "all users".to_owned();
        }
        let domains = self.domains.iter().map(|d| format!("@{d}"));
        self.users
            .iter()
            .cloned()
            .chain(domains)
            .collect::<Vec<_>>()
            .join(",")
    }

    /// `read,sources` or `all actions`.
    pub fn actions_text(&self) -> String {
        match &self.actions {
            None => "all actions".to_owned(),
            Some(list) => list.iter().map(|a| a.name()).collect::<Vec<_>>().join(","),
        }
    }
}

/// A domain name as JIDs normalize it; `None` if it is not one.
fn normalize_domain(text: &str) -> Option<String> {
    let jid = BareJid::new(text.trim()).ok()?;
    jid.node()
        .is_none()
        .then(|| jid.domain().as_str().to_owned())
}

/// A token's rate in requests per second: `None` is [`DEFAULT_RATE`]; 1 to [`MAX_RATE`].
pub fn check_rate(rate: Option<u32>) -> Result<u32, String> {
    match rate {
        None => Ok(DEFAULT_RATE),
        Some(r) if (1..=MAX_RATE).contains(&r) => Ok(r),
        Some(r) => Err(format!(
            "rate {r}: must be 1 to {MAX_RATE} requests per second"
        )),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn jid(s: &str) -> BareJid {
        BareJid::new(s).unwrap()
    }

    fn strings(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn an_empty_scope_is_every_user_and_every_action() {
        let scope = TokenScope::default();
        assert!(scope.covers(&jid("anyone@example.org")));
        assert!(Action::ALL.into_iter().all(|a| scope.allows(a)));
        assert_eq!(scope.users_text(), "all users");
        assert_eq!(scope.actions_text(), "all actions");
    }

    #[test]
    fn users_and_domains_are_normalized_and_checked() {
        let scope = TokenScope::new(
            &strings(&["Bob@Example.org", "alice@example.org", "bob@example.org"]),
            &[],
            Some(&[Action::Source, Action::Read, Action::Source]),
            "example.org",
        )
        .unwrap();
        assert_eq!(scope.users(), ["alice@example.org", "bob@example.org"]);
        assert_eq!(scope.actions(), Some(&[Action::Read, Action::Source][..]));
        assert!(scope.covers(&jid("alice@example.org")));
        assert!(!scope.covers(&jid("carol@example.org")));
        assert!(scope.allows(Action::Source) && !scope.allows(Action::Rules));
        assert_eq!(scope.users_text(), "alice@example.org,bob@example.org");
        assert_eq!(scope.actions_text(), "read,sources");

        let domain = TokenScope::new(&[], &strings(&["Example.ORG"]), None, "example.org").unwrap();
        assert!(domain.covers(&jid("carol@example.org")));
        assert_eq!(domain.users_text(), "@example.org");

        let other_user = TokenScope::new(&strings(&["a@other.org"]), &[], None, "example.org");
        assert!(other_user.unwrap_err().contains("@example.org"));
        let other_domain = TokenScope::new(&[], &strings(&["other.org"]), None, "example.org");
        assert!(other_domain.unwrap_err().contains("serves only"));
        let not_domain = TokenScope::new(&[], &strings(&["a@example.org"]), None, "example.org");
        assert!(not_domain.unwrap_err().contains("not a domain"));
        let nothing = TokenScope::new(&[], &[], Some(&[]), "example.org");
        assert!(nothing.unwrap_err().contains("at least one action"));
        let many: Vec<String> = (0..=MAX_SCOPE_ENTRIES)
            .map(|i| format!("u{i}@example.org"))
            .collect();
        assert!(TokenScope::new(&many, &[], None, "example.org").is_err());
    }

    #[test]
    fn actions_parse_by_name() {
        assert_eq!("Sources".parse::<Action>(), Ok(Action::Source));
        assert!(
            "write"
                .parse::<Action>()
                .unwrap_err()
                .contains("read, sources")
        );
    }

    #[test]
    fn rates_default_and_are_bounded() {
        assert_eq!(check_rate(None), Ok(DEFAULT_RATE));
        assert_eq!(check_rate(Some(5)), Ok(5));
        assert!(check_rate(Some(0)).is_err());
        assert!(check_rate(Some(MAX_RATE + 1)).is_err());
    }
}
