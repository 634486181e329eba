//! The node's XEP-0050 ad-hoc commands, so a plain desktop client can switch its presence profile,
//! set its presence and decide who sees what from its "Commands" menu (Gajim, Psi+, Pidgin).
//!
//! Each command is one form and one submit. Rules are edited one entry at a time with the same
//! selector syntax as the CLI and the API (`contact:bob@example.org`, `group:Friends`,
//! `domain:example.org`, `federated`, `default`).

use std::time::Duration;

use jid::BareJid;
use lampfield_xmpp::{AdHocCommands, CommandFuture, CommandInfo, CommandReply};
use xmpp_parsers::data_forms::{DataForm, DataFormType, Field, FieldType, Option_};

use crate::engine::{Engine, SourceChange, now};
use crate::profile_runtime::ProfileRuntime;
use lampfield_domain::access::{Level, Selector};
use lampfield_domain::presence::{Manual, ManualAvailability, Note, ProfileName};

/// Node of "Switch presence profile".
pub const PROFILE: &str = "lampfield:profile";
/// Node of "Set my presence".
pub const PRESENCE: &str = "lampfield:presence";
/// Node of "Set who sees what".
pub const RULE: &str = "lampfield:rule";
/// Node of "Show who sees what".
pub const RULES: &str = "lampfield:rules";
/// Form type of every Lampfield command form.
const FORM_TYPE: &str = "urn:lampfield:commands:0";
/// The "no profile" choice of the profile form.
const NO_PROFILE: &str = "-";
/// Longest "for how many minutes" accepted (one week).
const MAX_MINUTES: u64 = 7 * 24 * 60;

/// The commands, over the engine.
pub struct NodeCommands {
    engine: Engine,
    profile_runtime: ProfileRuntime,
}

impl NodeCommands {
    /// Over the engine and the profile runtime.
    pub fn new(engine: Engine, profile_runtime: ProfileRuntime) -> Self {
        NodeCommands {
            engine,
            profile_runtime,
        }
    }

    async fn run(&self, user: &BareJid, node: &str, form: Option<DataForm>) -> CommandReply {
        match (node, form) {
            (PROFILE, None) => self.profile_form(user),
            (PROFILE, Some(f)) => self.switch_profile(user, &f).await,
            (PRESENCE, None) => CommandReply::Form(presence_form()),
            (PRESENCE, Some(f)) => self.set_presence(user, &f).await,
            (RULE, None) => CommandReply::Form(rule_form()),
            (RULE, Some(f)) => self.set_rule(user, &f).await,
            (RULES, _) => self.show_rules(user),
            _ => CommandReply::Unknown,
        }
    }

    /// The user's enabled profiles, the active one preselected, plus "no profile".
    fn profile_form(&self, user: &BareJid) -> CommandReply {
        let entries = match self.profile_runtime.list(user) {
            Ok(e) => e,
            Err(e) => return CommandReply::Refused(e.to_string()),
        };
        let active = entries
            .iter()
            .find(|e| e.active)
            .map_or(NO_PROFILE.to_owned(), |e| e.name.as_str().to_owned());
        let names: Vec<(String, String)> = entries
            .iter()
            .filter(|e| e.enabled)
            .map(|e| (e.name.as_str().to_owned(), e.name.as_str().to_owned()))
            .chain([(NO_PROFILE.to_owned(), "No profile".to_owned())])
            .collect();
        let choices: Vec<(&str, &str)> = names
            .iter()
            .map(|(v, l)| (v.as_str(), l.as_str()))
            .collect();
        let mut form = DataForm::new(
            DataFormType::Form,
            FORM_TYPE,
            vec![list("profile", "Profile", &choices, &active)],
        );
        form.title = Some("Switch presence profile".to_owned());
        CommandReply::Form(form)
    }

    async fn switch_profile(&self, user: &BareJid, form: &DataForm) -> CommandReply {
        let choice = value(form, "profile").unwrap_or_default();
        let result = if choice == NO_PROFILE {
            self.profile_runtime.deactivate(user).await
        } else {
            match ProfileName::new(choice) {
                Ok(name) => self.profile_runtime.activate(user, &name).await,
                Err(e) => return CommandReply::Refused(format!("profile: {e}")),
            }
        };
        match result {
            Ok(_) if choice == NO_PROFILE => CommandReply::Done {
                note: "No profile is active now".to_owned(),
                result: None,
            },
            Ok(_) => CommandReply::Done {
                note: format!("Profile {choice} is active"),
                result: None,
            },
            Err(e) => CommandReply::Refused(e.to_string()),
        }
    }

    async fn set_presence(&self, user: &BareJid, form: &DataForm) -> CommandReply {
        let choice = value(form, "availability").unwrap_or_default();
        let manual = if choice == "clear" {
            None
        } else {
            let Ok(availability) = serde_json::from_value::<ManualAvailability>(
                serde_json::Value::String(choice.to_owned()),
            ) else {
                return CommandReply::Refused(format!("unknown availability {choice:?}"));
            };
            let note = match value(form, "note").filter(|n| !n.trim().is_empty()) {
                None => None,
                Some(n) => match Note::new(n.trim()) {
                    Ok(n) => Some(n),
                    Err(e) => return CommandReply::Refused(format!("note: {e}")),
                },
            };
            let until = match value(form, "minutes")
                .map(str::trim)
                .filter(|m| !m.is_empty())
            {
                None => None,
                Some(m) => match m.parse::<u64>() {
                    Ok(m) if (1..=MAX_MINUTES).contains(&m) => {
                        Some(now().saturating_add(Duration::from_secs(m * 60)))
                    }
                    _ => {
                        return CommandReply::Refused(format!(
                            "minutes must be a number from 1 to {MAX_MINUTES}"
                        ));
                    }
                },
            };
            Some(Manual {
                availability,
                activity: None,
                note,
                until,
                since: now(),
            })
        };
        match self.engine.update(user, SourceChange::Manual(manual)).await {
            Ok(p) => {
                // The status line leaves out a state the person's own note already explains;
                // the confirmation names the state anyway.
                let state = p.availability.label();
                let note = if p.status_line.starts_with(state) {
                    format!("Your presence is now: {}", p.status_line)
                } else {
                    format!("Your presence is now: {state} · {}", p.status_line)
                };
                CommandReply::Done { note, result: None }
            }
            Err(e) => CommandReply::Refused(e.to_string()),
        }
    }

    async fn set_rule(&self, user: &BareJid, form: &DataForm) -> CommandReply {
        let who = value(form, "who").unwrap_or_default();
        let selector: Selector = match who.parse() {
            Ok(s) => s,
            Err(e) => return CommandReply::Refused(format!("{who:?}: {e}")),
        };
        let level = match value(form, "level").unwrap_or_default() {
            "remove" => None,
            l => match l.parse::<Level>() {
                Ok(l) => Some(l),
                Err(e) => return CommandReply::Refused(e.to_string()),
            },
        };
        let mut rules = match self.engine.rules(user) {
            Ok(r) => r,
            Err(e) => return CommandReply::Refused(e.to_string()),
        };
        rules.set(selector.clone(), level);
        match self.engine.set_rules(user, rules).await {
            Ok(()) => CommandReply::Done {
                note: match level {
                    Some(l) => format!("{selector} now sees your presence at level {}", l.name()),
                    None => format!("The rule for {selector} is removed"),
                },
                result: None,
            },
            Err(e) => CommandReply::Refused(e.to_string()),
        }
    }

    fn show_rules(&self, user: &BareJid) -> CommandReply {
        let rules = match self.engine.rules(user) {
            Ok(r) => r,
            Err(e) => return CommandReply::Refused(e.to_string()),
        };
        let policy = self.engine.policy();
        let mut fields: Vec<Field> = rules
            .entries()
            .into_iter()
            .map(|(s, l)| fixed(&format!("{s}: {}", l.name())))
            .collect();
        if fields.is_empty() {
            fields.push(fixed("No rules of your own."));
        }
        fields.push(fixed(&format!(
            "Node defaults: colleagues {}, other organizations {} (at most {}).",
            policy.default_local.name(),
            policy.default_federated.name(),
            policy.ceiling_federated.name()
        )));
        CommandReply::Done {
            note: "Who sees what of your presence".to_owned(),
            result: Some(DataForm::new(DataFormType::Result_, FORM_TYPE, fields)),
        }
    }
}

impl AdHocCommands for NodeCommands {
    fn list(&self, _user: &BareJid) -> Vec<CommandInfo> {
        [
            (PROFILE, "Switch presence profile"),
            (PRESENCE, "Set my presence"),
            (RULE, "Set who sees what"),
            (RULES, "Show who sees what"),
        ]
        .into_iter()
        .map(|(node, name)| CommandInfo {
            node: node.to_owned(),
            name: name.to_owned(),
        })
        .collect()
    }

    fn execute<'a>(
        &'a self,
        user: &'a BareJid,
        node: &'a str,
        form: Option<DataForm>,
    ) -> CommandFuture<'a> {
        Box::pin(self.run(user, node, form))
    }
}

fn presence_form() -> DataForm {
    let choices = [
        ("available", "Available"),
        ("busy", "Busy"),
        ("do_not_disturb", "Do not disturb"),
        ("away", "Away"),
        ("appear_offline", "Appear offline"),
        ("clear", "Clear my setting"),
    ];
    let mut form = DataForm::new(
        DataFormType::Form,
        FORM_TYPE,
        vec![
            list("availability", "Availability", &choices, "available"),
            labelled(Field::text_single("note", ""), "Note"),
            labelled(
                Field::text_single("minutes", ""),
                "For how many minutes (empty: until you change it)",
            ),
        ],
    );
    form.title = Some("Set my presence".to_owned());
    form
}

fn rule_form() -> DataForm {
    let levels: Vec<(&str, &str)> = Level::ALL
        .iter()
        .map(|l| (l.name(), l.name()))
        .chain([("remove", "remove this rule")])
        .collect();
    let mut form = DataForm::new(
        DataFormType::Form,
        FORM_TYPE,
        vec![
            labelled(
                Field::text_single("who", ""),
                "Who: contact:bob@example.org, group:Friends, domain:example.org, federated or default",
            ),
            list("level", "Level", &levels, "business"),
        ],
    );
    form.title = Some("Set who sees what".to_owned());
    form
}

fn list(var: &str, label: &str, choices: &[(&str, &str)], default: &str) -> Field {
    let mut f = Field::new(var, FieldType::ListSingle).with_value(default);
    f.label = Some(label.to_owned());
    f.options = choices
        .iter()
        .map(|(value, label)| Option_ {
            label: Some((*label).to_owned()),
            value: (*value).to_owned(),
        })
        .collect();
    f
}

fn labelled(mut f: Field, label: &str) -> Field {
    f.label = Some(label.to_owned());
    f
}

fn fixed(text: &str) -> Field {
    let mut f = Field::new("", FieldType::Fixed).with_value(text);
    f.var = None;
    f
}

/// The first value of field `var`.
fn value<'a>(form: &'a DataForm, var: &str) -> Option<&'a str> {
    form.fields
        .iter()
        .find(|f| f.var.as_deref() == Some(var))
        .and_then(|f| f.values.first())
        .map(String::as_str)
}
