//! Precedence rows: one test per step of contact > group > domain > federated > user default >
//! node default, the group tie-breaks, the ceiling, and the rule-change diff.

use jid::{BareJid, DomainPart};

use super::*;

fn jid(s: &str) -> BareJid {
    BareJid::new(s).unwrap()
}

fn domain(s: &str) -> DomainPart {
    s.parse().unwrap()
}

fn groups(names: &[&str]) -> Vec<String> {
    names.iter().map(|s| (*s).to_owned()).collect()
}

const OWNER: &str = "alice@example.org";
const LOCAL: &str = "bob@example.org";
const REMOTE: &str = "carol@partner.com";

fn level(viewer: &str, in_groups: &[&str], rules: &Rules) -> Level {
    level_for(
        &jid(OWNER),
        &jid(viewer),
        &groups(in_groups),
        rules,
        &NodePolicy::default(),
    )
}

/// A policy without ceilings, so the precedence rows show the rules alone.
fn open() -> NodePolicy {
    NodePolicy {
        ceiling_federated: Level::Personal,
        ..NodePolicy::default()
    }
}

#[test]
fn owner_always_sees_personal() {
    let rules = Rules {
        default: Some(Level::Blocked),
        ..Rules::default()
    };
    let policy = NodePolicy {
        ceiling_local: Level::Public,
        ..NodePolicy::default()
    };
    let d = decide(&jid(OWNER), &jid("Alice@Example.org"), &[], &rules, &policy);
    assert_eq!((d.level, d.basis), (Level::Personal, Basis::Owner));
}

#[test]
fn step_1_contact_beats_group() {
    let mut rules = Rules::default();
    rules.contacts.insert(jid(LOCAL), Level::Public);
    rules.groups.insert("Team".into(), Level::Team);
    assert_eq!(level(LOCAL, &["Team"], &rules), Level::Public);
    assert_eq!(level("dave@example.org", &["Team"], &rules), Level::Team);
}

#[test]
fn step_2_group_beats_domain() {
    let mut rules = Rules::default();
    rules.groups.insert("Team".into(), Level::Team);
    rules.domains.insert(domain("example.org"), Level::Public);
    assert_eq!(level(LOCAL, &["Team"], &rules), Level::Team);
    assert_eq!(level(LOCAL, &[], &rules), Level::Public);
}

#[test]
fn step_3_domain_beats_all_federated() {
    let mut rules = Rules::default();
    rules.domains.insert(domain("partner.com"), Level::Team);
    rules.federated = Some(Level::Public);
    let at = |v: &str| level_for(&jid(OWNER), &jid(v), &[], &rules, &open());
    assert_eq!(at(REMOTE), Level::Team);
    assert_eq!(at("erin@other.net"), Level::Public);
}

#[test]
fn step_4_all_federated_beats_user_default_and_spares_colleagues() {
    let rules = Rules {
        federated: Some(Level::Blocked),
        default: Some(Level::Team),
        ..Rules::default()
    };
    assert_eq!(level(REMOTE, &[], &rules), Level::Blocked);
    assert_eq!(level(LOCAL, &[], &rules), Level::Team);
}

#[test]
fn step_5_user_default_beats_node_default() {
    let rules = Rules {
        default: Some(Level::Public),
        ..Rules::default()
    };
    let d = decide(
        &jid(OWNER),
        &jid(LOCAL),
        &[],
        &rules,
        &NodePolicy::default(),
    );
    assert_eq!((d.level, d.basis), (Level::Public, Basis::UserDefault));
}

#[test]
fn step_6_node_default_per_viewer_class() {
    let rules = Rules::default();
    assert_eq!(level(LOCAL, &[], &rules), Level::Business);
    assert_eq!(level(REMOTE, &[], &rules), Level::Public);
    let d = decide(
        &jid(OWNER),
        &jid(REMOTE),
        &[],
        &rules,
        &NodePolicy::default(),
    );
    assert_eq!(d.basis, Basis::NodeDefault);
}

#[test]
fn tie_break_most_permissive_group_wins_in_any_order() {
    let mut rules = Rules::default();
    rules.groups.insert("Suppliers".into(), Level::Business);
    rules.groups.insert("Project X".into(), Level::Team);
    rules.groups.insert("Newsletter".into(), Level::Public);
    for order in [
        &["Suppliers", "Project X", "Newsletter"][..],
        &["Newsletter", "Project X", "Suppliers"][..],
    ] {
        let d = decide(&jid(OWNER), &jid(LOCAL), &groups(order), &rules, &open());
        assert_eq!(d.level, Level::Team);
        assert_eq!(d.basis, Basis::Group("Project X".into()));
    }
}

#[test]
fn tie_break_a_blocked_group_vetoes() {
    let mut rules = Rules::default();
    rules.groups.insert("Blocked".into(), Level::Blocked);
    rules.groups.insert("Project X".into(), Level::Team);
    assert_eq!(
        level(LOCAL, &["Project X", "Blocked"], &rules),
        Level::Blocked
    );
    // The contact rule is still more specific than any group.
    rules.contacts.insert(jid(LOCAL), Level::Business);
    assert_eq!(
        level(LOCAL, &["Project X", "Blocked"], &rules),
        Level::Business
    );
}

#[test]
fn groups_without_a_rule_do_not_count() {
    let mut rules = Rules::default();
    rules.groups.insert("Project X".into(), Level::Team);
    rules.default = Some(Level::Public);
    assert_eq!(level(LOCAL, &["Friends"], &rules), Level::Public);
    assert_eq!(level(LOCAL, &["Friends", "Project X"], &rules), Level::Team);
}

#[test]
fn ceiling_caps_a_permissive_contact_rule() {
    let mut rules = Rules::default();
    rules.contacts.insert(jid(REMOTE), Level::Personal);
    rules.contacts.insert(jid(LOCAL), Level::Personal);
    let policy = NodePolicy {
        ceiling_local: Level::Team,
        ..NodePolicy::default()
    };
    let d = decide(&jid(OWNER), &jid(REMOTE), &[], &rules, &policy);
    assert_eq!(d.level, Level::Business);
    assert_eq!(d.basis, Basis::Contact);
    assert_eq!(d.capped_from, Some(Level::Personal));
    let d = decide(&jid(OWNER), &jid(LOCAL), &[], &rules, &policy);
    assert_eq!(d.level, Level::Team);
}

#[test]
fn ceiling_caps_defaults_too() {
    let policy = NodePolicy {
        default_federated: Level::Personal,
        ceiling_federated: Level::Public,
        ..NodePolicy::default()
    };
    let rules = Rules::default();
    assert_eq!(
        level_for(&jid(OWNER), &jid(REMOTE), &[], &rules, &policy),
        Level::Public
    );
}

#[test]
fn domain_rules_match_the_exact_domain_only() {
    let mut rules = Rules::default();
    rules.domains.insert(domain("partner.com"), Level::Blocked);
    assert_eq!(level(REMOTE, &[], &rules), Level::Blocked);
    assert_eq!(level("dave@eu.partner.com", &[], &rules), Level::Public);
}

#[test]
fn jids_and_domains_compare_normalized() {
    let mut rules = Rules::default();
    rules.contacts.insert(jid("Bob@Example.ORG"), Level::Team);
    rules.domains.insert(domain("Partner.COM"), Level::Blocked);
    assert_eq!(level(LOCAL, &[], &rules), Level::Team);
    assert_eq!(level(REMOTE, &[], &rules), Level::Blocked);
}

#[test]
fn rule_change_names_exactly_the_watchers_whose_level_moved() {
    let (bob, carol, dave) = (jid(LOCAL), jid(REMOTE), jid("dave@example.org"));
    let project = groups(&["Project X"]);
    let watchers = [
        Watcher {
            jid: &bob,
            groups: &project,
        },
        Watcher {
            jid: &carol,
            groups: &[],
        },
        Watcher {
            jid: &dave,
            groups: &[],
        },
    ];
    let old = Rules::default();
    let mut new = Rules::default();
    new.groups.insert("Project X".into(), Level::Team);
    new.contacts.insert(dave.clone(), Level::Blocked);
    let changes = rule_changes(&jid(OWNER), watchers, &old, &new, &NodePolicy::default());
    assert_eq!(
        changes,
        vec![
            LevelChange {
                viewer: bob,
                from: Level::Business,
                to: Level::Team,
            },
            LevelChange {
                viewer: dave,
                from: Level::Business,
                to: Level::Blocked,
            },
        ]
    );
    assert!(!changes[0].lost_detail());
    assert!(changes[1].lost_detail());
}

#[test]
fn policy_change_reaches_watchers_under_the_new_ceiling() {
    let carol = jid(REMOTE);
    let mut rules = Rules::default();
    rules.contacts.insert(carol.clone(), Level::Business);
    let old = NodePolicy::default();
    let new = NodePolicy {
        ceiling_federated: Level::Public,
        ..old
    };
    let w = [Watcher {
        jid: &carol,
        groups: &[],
    }];
    let changes = policy_changes(&jid(OWNER), w, &rules, &old, &new);
    assert_eq!(changes.len(), 1);
    assert!(changes[0].lost_detail());
    assert!(policy_changes(&jid(OWNER), w, &rules, &old, &old).is_empty());
}

#[test]
fn rules_and_policy_round_trip_and_refuse_unknown_fields() {
    let mut rules = Rules::default();
    rules.contacts.insert(jid(LOCAL), Level::Team);
    rules.groups.insert("Project X".into(), Level::Business);
    rules.domains.insert(domain("partner.com"), Level::Public);
    rules.federated = Some(Level::Blocked);
    let j = serde_json::to_string(&rules).unwrap();
    assert_eq!(serde_json::from_str::<Rules>(&j).unwrap(), rules);
    assert_eq!(
        serde_json::from_str::<Rules>("{}").unwrap(),
        Rules::default()
    );
    assert!(serde_json::from_str::<Rules>(r#"{"owner":"x"}"#).is_err());

    let p: NodePolicy = toml::from_str("ceiling_federated = \"public\"").unwrap();
    assert_eq!(p.ceiling_federated, Level::Public);
    assert_eq!(p.default_local, Level::Business);
    assert!(toml::from_str::<NodePolicy>("ceiling = \"team\"").is_err());
}

#[test]
fn rule_sets_are_bounded() {
    let mut rules = Rules::default();
    rules.groups.insert(String::new(), Level::Team);
    assert_eq!(rules.check(), Err(RuleError::GroupName));
    let mut rules = Rules::default();
    for i in 0..=MAX_ENTRIES {
        rules.groups.insert(format!("g{i}"), Level::Public);
    }
    assert!(matches!(
        rules.check(),
        Err(RuleError::TooMany { kind: "group", .. })
    ));
    assert_eq!(Rules::default().check(), Ok(()));
}
