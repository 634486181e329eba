//! XEP-0050: Ad-Hoc Commands at the server's JID. The wire side is here (pure): reading a
//! `<command/>` request and writing the response, and the disco#items answer that lists the
//! commands; `handler` runs them through the node's [`AdHocCommands`](crate::AdHocCommands) port.

mod handler;

use jid::{FullJid, Jid};
use minidom::Element;
use rxml::xml_ncname;
use xmpp_parsers::data_forms::DataForm;
use xmpp_parsers::iq::Iq;

use crate::ports::adhoc::{CommandInfo, CommandReply};

/// XEP-0050's namespace, also the disco node that lists the commands.
pub(crate) const NS: &str = "http://jabber.org/protocol/commands";
const NS_DATA: &str = "jabber:x:data";

/// What the client asks for.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Request {
    /// The command's node.
    pub(crate) node: String,
    /// The session, when continuing one.
    pub(crate) session: Option<String>,
    /// `cancel` ends the session without doing anything.
    pub(crate) cancel: bool,
    /// The submitted form, if any.
    pub(crate) form: Option<DataForm>,
}

/// Reads a `<command/>` payload; `None` if it is not one or lacks a node.
pub(crate) fn parse(payload: &Element) -> Option<Request> {
    if !payload.is("command", NS) {
        return None;
    }
    let node = payload.attr("node")?.to_owned();
    let action = payload.attr("action").unwrap_or("execute");
    let form = payload
        .get_child("x", NS_DATA)
        .and_then(|x| DataForm::try_from(x.clone()).ok());
    Some(Request {
        node,
        session: payload.attr("sessionid").map(str::to_owned),
        cancel: action == "cancel",
        form,
    })
}

/// The `<command/>` result for `reply` (`Unknown` has none: the caller answers with an error).
pub(crate) fn response(node: &str, session: &str, reply: CommandReply) -> Option<Element> {
    let command = |status: &str| {
        Element::builder("command", NS)
            .attr(xml_ncname!("node").to_owned(), node)
            .attr(xml_ncname!("sessionid").to_owned(), session)
            .attr(xml_ncname!("status").to_owned(), status)
    };
    let note = |kind: &str, text: String| {
        Element::builder("note", NS)
            .attr(xml_ncname!("type").to_owned(), kind)
            .append(text)
            .build()
    };
    Some(match reply {
        CommandReply::Form(form) => {
            let actions = Element::builder("actions", NS)
                .attr(xml_ncname!("execute").to_owned(), "complete")
                .append(Element::builder("complete", NS).build())
                .build();
            command("executing")
                .append(actions)
                .append(Element::from(form))
                .build()
        }
        CommandReply::Done { note: text, result } => {
            let mut c = command("completed").append(note("info", text));
            if let Some(form) = result {
                c = c.append(Element::from(form));
            }
            c.build()
        }
        CommandReply::Refused(text) => command("completed").append(note("error", text)).build(),
        CommandReply::Unknown => return None,
    })
}

/// `<command status='canceled'/>`.
pub(crate) fn canceled(node: &str, session: &str) -> Element {
    Element::builder("command", NS)
        .attr(xml_ncname!("node").to_owned(), node)
        .attr(xml_ncname!("sessionid").to_owned(), session)
        .attr(xml_ncname!("status").to_owned(), "canceled")
        .build()
}

/// The disco#items result listing `commands`, each at the server's JID.
pub(crate) fn items(
    id: &str,
    requester: &FullJid,
    server: Jid,
    commands: &[CommandInfo],
) -> Element {
    let mut query = Element::builder("query", xmpp_parsers::ns::DISCO_ITEMS)
        .attr(xml_ncname!("node").to_owned(), NS);
    for c in commands {
        query = query.append(
            Element::builder("item", xmpp_parsers::ns::DISCO_ITEMS)
                .attr(xml_ncname!("jid").to_owned(), server.as_str())
                .attr(xml_ncname!("node").to_owned(), c.node.as_str())
                .attr(xml_ncname!("name").to_owned(), c.name.as_str())
                .build(),
        );
    }
    result(id, requester, server, query.build())
}

/// The disco#info result for one command node (XEP-0050 §2.3).
pub(crate) fn info(id: &str, requester: &FullJid, server: Jid, command: &CommandInfo) -> Element {
    let query = Element::builder("query", xmpp_parsers::ns::DISCO_INFO)
        .attr(xml_ncname!("node").to_owned(), command.node.as_str())
        .append(
            Element::builder("identity", xmpp_parsers::ns::DISCO_INFO)
                .attr(xml_ncname!("category").to_owned(), "automation")
                .attr(xml_ncname!("type").to_owned(), "command-node")
                .attr(xml_ncname!("name").to_owned(), command.name.as_str())
                .build(),
        )
        .append(
            Element::builder("feature", xmpp_parsers::ns::DISCO_INFO)
                .attr(xml_ncname!("var").to_owned(), NS)
                .build(),
        )
        .append(
            Element::builder("feature", xmpp_parsers::ns::DISCO_INFO)
                .attr(xml_ncname!("var").to_owned(), NS_DATA)
                .build(),
        )
        .build();
    result(id, requester, server, query)
}

/// An iq result from `server` carrying `payload`.
pub(crate) fn result(id: &str, requester: &FullJid, server: Jid, payload: Element) -> Element {
    Iq::Result {
        from: Some(server),
        to: Some(requester.clone().into()),
        id: id.to_owned(),
        payload: Some(payload),
    }
    .into()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use xmpp_parsers::data_forms::{DataFormType, Field};

    #[test]
    fn a_submitted_form_and_its_session_are_read() {
        let el: Element = "<command xmlns='http://jabber.org/protocol/commands' node='n' \
            sessionid='s1' action='complete'><x xmlns='jabber:x:data' type='submit'>\
            <field var='level'><value>team</value></field></x></command>"
            .parse()
            .unwrap();
        let r = parse(&el).unwrap();
        assert_eq!(
            (r.node.as_str(), r.session.as_deref(), r.cancel),
            ("n", Some("s1"), false)
        );
        assert_eq!(r.form.unwrap().fields[0].values, vec!["team".to_owned()]);
        let no_node: Element = "<command xmlns='http://jabber.org/protocol/commands'/>"
            .parse()
            .unwrap();
        assert!(parse(&no_node).is_none());
    }

    #[test]
    fn a_form_reply_is_executing_with_complete_as_the_action() {
        let form = DataForm::new(DataFormType::Form, "", vec![Field::text_single("x", "")]);
        let el = response("n", "s", CommandReply::Form(form)).unwrap();
        assert_eq!(el.attr("status"), Some("executing"));
        assert!(el.get_child("actions", NS).is_some());
        assert!(el.get_child("x", NS_DATA).is_some());
        let done = response("n", "s", CommandReply::Refused("no".into())).unwrap();
        assert_eq!(done.attr("status"), Some("completed"));
        assert_eq!(
            done.get_child("note", NS).unwrap().attr("type"),
            Some("error")
        );
        assert!(response("n", "s", CommandReply::Unknown).is_none());
    }
}
