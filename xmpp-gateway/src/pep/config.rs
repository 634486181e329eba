//! XEP-0060 node configuration as far as it is supported: `pubsub#access_model`,
//! `pubsub#persist_items` (XEP-0223), `pubsub#max_items` (`max` included) and
//! `pubsub#send_last_published_item`, read from publish-options (§7.1.5), a create's
//! `<configure/>` (§8.1.3) and a configure submission (§8.2.4), and rendered for §8.2.

use minidom::Element;

use crate::ports::pep::{AccessModel, NodeConfig, SendLast};

/// XEP-0004 data forms.
const DATA: &str = "jabber:x:data";
/// §16.4.3: the form type of node configuration.
pub(crate) const NODE_CONFIG: &str = "http://jabber.org/protocol/pubsub#node_config";
/// Most items a node keeps; `max` means this. Matches the store's bound.
pub(crate) const MAX_ITEMS: usize = 256;

/// XEP-0163 §4.1 defaults for an auto-created node: presence access, one persistent item, the
/// last item sent at presence.
pub(crate) const DEFAULT: NodeConfig = NodeConfig {
    access_model: AccessModel::Presence,
    persist_items: true,
    max_items: 1,
    send_last: SendLast::OnSubAndPresence,
};

/// What a form asks of a node: each supported field it names.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Options {
    access_model: Option<AccessModel>,
    persist_items: Option<bool>,
    max_items: Option<usize>,
    send_last: Option<SendLast>,
}

/// A field value that is not one the node supports.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unsupported value {value:?} of {field}")]
pub(crate) struct BadOption {
    field: String,
    value: String,
}

impl Options {
    /// The supported fields of data form `form` (unsupported fields are ignored: a client's
    /// wish the node cannot grant shows when it reads the configuration back).
    pub(crate) fn of(form: Option<&Element>) -> Result<Options, BadOption> {
        let mut options = Options::default();
        let Some(form) = form.filter(|f| f.is("x", DATA)) else {
            return Ok(options);
        };
        for field in form.children().filter(|c| c.is("field", DATA)) {
            let Some(var) = field.attr("var") else {
                continue;
            };
            let value = field
                .get_child("value", DATA)
                .map(|v| v.text())
                .unwrap_or_default();
            let bad = || BadOption {
                field: var.to_owned(),
                value: value.clone(),
            };
            match var {
                "pubsub#access_model" => {
                    options.access_model = Some(match value.trim() {
                        "open" => AccessModel::Open,
                        "presence" => AccessModel::Presence,
                        "roster" => AccessModel::Roster,
                        "whitelist" => AccessModel::Whitelist,
                        _ => return Err(bad()),
                    })
                }
                "pubsub#persist_items" => {
                    options.persist_items = Some(match value.trim() {
                        "1" | "true" => true,
                        "0" | "false" => false,
                        _ => return Err(bad()),
                    })
                }
                "pubsub#max_items" => {
                    options.max_items = Some(match value.trim() {
                        "max" => MAX_ITEMS,
                        n => match n.parse::<usize>() {
                            Ok(n) if (1..=MAX_ITEMS).contains(&n) => n,
                            _ => return Err(bad()),
                        },
                    })
                }
                "pubsub#send_last_published_item" => {
                    options.send_last = Some(match value.trim() {
                        "never" => SendLast::Never,
                        "on_sub" => SendLast::OnSub,
                        "on_sub_and_presence" => SendLast::OnSubAndPresence,
                        _ => return Err(bad()),
                    })
                }
                _ => {}
            }
        }
        Ok(options)
    }

    /// `config` with every named field set.
    pub(crate) fn applied_to(&self, config: NodeConfig) -> NodeConfig {
        NodeConfig {
            access_model: self.access_model.unwrap_or(config.access_model),
            persist_items: self.persist_items.unwrap_or(config.persist_items),
            max_items: self.max_items.unwrap_or(config.max_items),
            send_last: self.send_last.unwrap_or(config.send_last),
        }
    }

    /// §7.1.5: whether an existing node's `config` already is what the options ask.
    pub(crate) fn met_by(&self, config: &NodeConfig) -> bool {
        self.applied_to(*config) == *config
    }
}

/// §8.2: the configuration form of a node.
pub(crate) fn form(config: &NodeConfig) -> Element {
    let access = match config.access_model {
        AccessModel::Open => "open",
        AccessModel::Presence => "presence",
        AccessModel::Roster => "roster",
        AccessModel::Whitelist => "whitelist",
    };
    let send_last = match config.send_last {
        SendLast::Never => "never",
        SendLast::OnSub => "on_sub",
        SendLast::OnSubAndPresence => "on_sub_and_presence",
    };
    let field = |var: &str, kind: &str, value: String| {
        Element::builder("field", DATA)
            .attr(rxml::xml_ncname!("var").to_owned(), var)
            .attr(rxml::xml_ncname!("type").to_owned(), kind)
            .append(Element::builder("value", DATA).append(value).build())
            .build()
    };
    Element::builder("x", DATA)
        .attr(rxml::xml_ncname!("type").to_owned(), "form")
        .append(field("FORM_TYPE", "hidden", NODE_CONFIG.to_owned()))
        .append(field(
            "pubsub#access_model",
            "list-single",
            access.to_owned(),
        ))
        .append(field(
            "pubsub#persist_items",
            "boolean",
            if config.persist_items { "1" } else { "0" }.to_owned(),
        ))
        .append(field(
            "pubsub#max_items",
            "text-single",
            config.max_items.to_string(),
        ))
        .append(field(
            "pubsub#send_last_published_item",
            "list-single",
            send_last.to_owned(),
        ))
        .build()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn options(fields: &str) -> Result<Options, BadOption> {
        let xml = format!("<x xmlns='jabber:x:data' type='submit'>{fields}</x>");
        Options::of(Some(&xml.parse().unwrap()))
    }

    #[test]
    fn bookmarks_options_create_then_must_match() {
        let asked = options(
            "<field var='FORM_TYPE'><value>http://jabber.org/protocol/pubsub#publish-options</value></field>\
             <field var='pubsub#access_model'><value>whitelist</value></field>\
             <field var='pubsub#max_items'><value>max</value></field>\
             <field var='pubsub#persist_items'><value>true</value></field>",
        )
        .unwrap();
        let created = asked.applied_to(DEFAULT);
        assert_eq!(created.access_model, AccessModel::Whitelist);
        assert_eq!(created.max_items, MAX_ITEMS);
        assert!(asked.met_by(&created));
        assert!(
            !asked.met_by(&DEFAULT),
            "a presence node does not meet whitelist"
        );
        assert!(Options::of(None).unwrap().met_by(&DEFAULT));
    }

    #[test]
    fn bad_values_are_refused_and_unknown_fields_ignored() {
        assert!(
            options("<field var='pubsub#access_model'><value>authorize</value></field>").is_err()
        );
        assert!(options("<field var='pubsub#max_items'><value>0</value></field>").is_err());
        assert!(options("<field var='pubsub#max_items'><value>100000</value></field>").is_err());
        assert_eq!(
            options("<field var='pubsub#title'><value>x</value></field>").unwrap(),
            Options::default()
        );
        let back = Options::of(Some(&form(&DEFAULT))).unwrap();
        assert_eq!(back.applied_to(DEFAULT), DEFAULT);
    }
}
