//! XEP-0163 §3 and XEP-0060 §6-§8 requests to an account's own PEP service, and §6.5 item
//! reads by others as far as docs/ACCESS.md lets them.

use jid::{BareJid, FullJid};
use minidom::Element;
use xmpp_parsers::stanza_error::DefinedCondition;

use super::config::{self, Options};
use super::notify::Change;
use super::{
    Answer, Failure, MAX_NAME, NS, NS_EVENT, NS_OWNER, access, item_element, items_answer,
    node_name, pubsub, trim,
};
use crate::ports::backend::Backend;
use crate::ports::pep::{Item, Node};
use crate::router::Router;
use crate::stanza::error::{Head, reply_with};
use crate::stanza::iq_result;

impl<B: Backend> Router<B> {
    /// A pubsub request to `owner`'s bare JID, which exists and does not hide from the sender.
    pub(crate) async fn pep_iq(
        &self,
        from: &FullJid,
        head: &Head,
        owner: BareJid,
        (id, payload, get): (String, Element, bool),
    ) {
        let answer = if owner == from.to_bare() {
            self.pep_own(&owner, payload, get).await
        } else {
            self.pep_other(&owner, &from.to_bare(), payload, get).await
        };
        let replier: jid::Jid = owner.into();
        let reply = match answer {
            Ok(payload) => Some(iq_result(&id, from.clone().into(), Some(replier), payload)),
            Err(failure) => reply_with(head, from, replier, failure.to_error()),
        };
        if let Some(reply) = reply {
            self.send_to(from, reply);
        }
    }

    /// §6.5: someone else reads items; everything else is refused.
    async fn pep_other(
        &self,
        owner: &BareJid,
        viewer: &BareJid,
        payload: Element,
        get: bool,
    ) -> Answer {
        let Some(op) = payload.children().next() else {
            return Err(Failure::Plain(DefinedCondition::BadRequest));
        };
        if !(get && payload.is("pubsub", NS) && op.is("items", NS)) {
            // §7.1.3.1: only the owner publishes to, configures or deletes its own nodes.
            return Err(Failure::Plain(DefinedCondition::Forbidden));
        }
        let name = node_name(op)?;
        let level = self.viewer_level(owner, viewer).await;
        let node = self.pep_read(owner, name).await?;
        let Some(node) =
            node.filter(|n| access::may_see(false, level, name, n.config.access_model))
        else {
            // As if never published (docs/ACCESS.md).
            return Err(Failure::Plain(DefinedCondition::ItemNotFound));
        };
        Ok(Some(items_answer(name, &node, op)))
    }

    /// A pubsub request from `viewer` at another domain to `owner`'s bare JID: item reads as
    /// for a local viewer at the same level (docs/ACCESS.md), everything else refused. `None`
    /// when `payload` is no pubsub request.
    pub(crate) async fn pep_for_remote(
        &self,
        owner: &BareJid,
        viewer: &BareJid,
        payload: Element,
        get: bool,
    ) -> Option<Result<Option<Element>, DefinedCondition>> {
        if !super::is_pubsub(&payload) {
            return None;
        }
        let answer = self.pep_other(owner, viewer, payload, get).await;
        Some(answer.map_err(|failure| failure.to_error().defined_condition))
    }

    /// The owner's own service.
    async fn pep_own(&self, owner: &BareJid, payload: Element, get: bool) -> Answer {
        let owner_ns = payload.is("pubsub", NS_OWNER);
        let mut children = payload.children();
        let Some(op) = children.next() else {
            return Err(Failure::Plain(DefinedCondition::BadRequest));
        };
        let second = children.next();
        match (owner_ns, op.name(), get) {
            (false, "items", true) => {
                let name = node_name(op)?;
                match self.pep_read(owner, name).await? {
                    Some(node) => Ok(Some(items_answer(name, &node, op))),
                    None => Err(Failure::Plain(DefinedCondition::ItemNotFound)),
                }
            }
            (false, "publish", false) => {
                let options = second
                    .filter(|s| s.is("publish-options", NS))
                    .and_then(|s| s.children().next());
                let published = self.pep_publish(owner, op, options).await?;
                // XEP-0398 §3.1: the avatar goes into the vCard too.
                if op.attr("node") == Some(crate::avatar_conversion::METADATA) {
                    let payload = op
                        .children()
                        .find(|c| c.is("item", NS))
                        .and_then(|item| item.children().next());
                    if let Some(metadata) = payload {
                        self.avatar_metadata_published(owner, metadata).await;
                    }
                }
                Ok(published)
            }
            (false, "retract", false) => self.pep_retract(owner, op).await,
            (false, "create", false) => {
                let form = second
                    .filter(|s| s.is("configure", NS))
                    .and_then(|s| s.children().next());
                self.pep_create(owner, op, form).await
            }
            (true, "delete", false) => self.pep_delete(owner, op).await,
            (true, "configure", true) => {
                let name = node_name(op)?;
                let Some(node) = self.pep_read(owner, name).await? else {
                    return Err(Failure::Plain(DefinedCondition::ItemNotFound));
                };
                let configure = Element::builder("configure", NS_OWNER)
                    .attr(rxml::xml_ncname!("node").to_owned(), name)
                    .append(config::form(&node.config))
                    .build();
                Ok(Some(pubsub(NS_OWNER, configure)))
            }
            (true, "configure", false) => self.pep_configure(owner, op).await,
            (_, "subscribe" | "unsubscribe" | "options", _) => {
                Err(Failure::Unsupported("subscribe"))
            }
            (_, "subscriptions", _) => Err(Failure::Unsupported("retrieve-subscriptions")),
            (_, "affiliations", _) => Err(Failure::Unsupported("modify-affiliations")),
            (_, "default", _) => Err(Failure::Unsupported("retrieve-default")),
            (_, "purge", _) => Err(Failure::Unsupported("purge-nodes")),
            // A supported request of the wrong type or namespace.
            (_, "items" | "publish" | "retract" | "create" | "delete" | "configure", _) => {
                Err(Failure::Plain(DefinedCondition::BadRequest))
            }
            // Collections, subscription lists and the rest of XEP-0060.
            _ => Err(Failure::Unsupported("collections")),
        }
    }

    /// Publish `payload` as item `id` of `owner`'s node `name` on the owner's behalf, as a
    /// publish of theirs with no options would (XEP-0398 §3.2).
    pub(crate) async fn pep_publish_for(
        &self,
        owner: &BareJid,
        name: &str,
        id: &str,
        payload: Element,
    ) -> Result<(), Failure> {
        let item = Element::builder("item", NS)
            .attr(rxml::xml_ncname!("id").to_owned(), id)
            .append(payload)
            .build();
        let op = Element::builder("publish", NS)
            .attr(rxml::xml_ncname!("node").to_owned(), name)
            .append(item)
            .build();
        self.pep_publish(owner, &op, None).await.map(|_| ())
    }

    async fn pep_read(&self, owner: &BareJid, name: &str) -> Result<Option<Node>, Failure> {
        self.backend().pep_node(owner, name).await.map_err(|e| {
            tracing::warn!(%owner, error = %e, "PEP node unreadable");
            Failure::Backend
        })
    }

    async fn pep_write(&self, owner: &BareJid, name: &str, node: &Node) -> Result<(), Failure> {
        match self.backend().put_pep_node(owner, name, node).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(refused)) => Err(Failure::Refused(refused)),
            Err(e) => {
                tracing::warn!(%owner, error = %e, "PEP node not stored");
                Err(Failure::Backend)
            }
        }
    }

    /// §7.1 with §7.1.5 publish-options and XEP-0163 §3 auto-create.
    async fn pep_publish(
        &self,
        owner: &BareJid,
        op: &Element,
        options: Option<&Element>,
    ) -> Answer {
        let name = node_name(op)?;
        let mut items = op.children().filter(|c| c.is("item", NS));
        let (Some(item), None) = (items.next(), items.next()) else {
            // §7.1.3.6 item-required; more than one item is not supported (§7.1.3.5).
            return Err(Failure::Plain(DefinedCondition::BadRequest));
        };
        let mut payloads = item.children();
        let (payload, None) = (payloads.next().cloned(), payloads.next()) else {
            return Err(Failure::Plain(DefinedCondition::BadRequest));
        };
        let id = match item.attr("id") {
            Some(id) if !id.is_empty() && id.len() <= MAX_NAME => id.to_owned(),
            Some(_) => return Err(Failure::Plain(DefinedCondition::BadRequest)),
            None => {
                let mut raw = [0u8; 8];
                rand::fill(&mut raw[..]);
                format!("{:016x}", u64::from_be_bytes(raw))
            }
        };
        let options = Options::of(options).map_err(|_| Failure::Precondition)?;
        let writer = self.write_lock(owner).await;
        let mut node = match self.pep_read(owner, name).await? {
            Some(node) if !options.met_by(&node.config) => return Err(Failure::Precondition),
            Some(node) => node,
            None => Node {
                config: options.applied_to(config::DEFAULT),
                items: Vec::new(),
            },
        };
        let item = Item { id, payload };
        node.items.retain(|i| i.id != item.id);
        node.items.push(item.clone());
        trim(&mut node);
        self.pep_write(owner, name, &node).await?;
        drop(writer);
        let event = item_element(NS_EVENT, &item);
        self.pep_notify(owner, name, &node.config, Change::Items(event))
            .await;
        let published = Element::builder("publish", NS)
            .attr(rxml::xml_ncname!("node").to_owned(), name)
            .append(
                Element::builder("item", NS)
                    .attr(rxml::xml_ncname!("id").to_owned(), item.id.as_str())
                    .build(),
            )
            .build();
        Ok(Some(pubsub(NS, published)))
    }

    /// §7.2: retract one item, telling those interested when `notify` asks.
    async fn pep_retract(&self, owner: &BareJid, op: &Element) -> Answer {
        let name = node_name(op)?;
        let Some(id) = op.get_child("item", NS).and_then(|i| i.attr("id")) else {
            return Err(Failure::Plain(DefinedCondition::BadRequest));
        };
        let notify = matches!(op.attr("notify"), Some("1" | "true"));
        let writer = self.write_lock(owner).await;
        let Some(mut node) = self.pep_read(owner, name).await? else {
            return Err(Failure::Plain(DefinedCondition::ItemNotFound));
        };
        let before = node.items.len();
        node.items.retain(|i| i.id != id);
        if node.items.len() == before {
            return Err(Failure::Plain(DefinedCondition::ItemNotFound));
        }
        self.pep_write(owner, name, &node).await?;
        drop(writer);
        if notify {
            let retract = Element::builder("retract", NS_EVENT)
                .attr(rxml::xml_ncname!("id").to_owned(), id)
                .build();
            self.pep_notify(owner, name, &node.config, Change::Items(retract))
                .await;
        }
        Ok(None)
    }

    /// §8.1: create a node, with the configuration asked.
    async fn pep_create(&self, owner: &BareJid, op: &Element, form: Option<&Element>) -> Answer {
        let name = node_name(op)?;
        let options =
            Options::of(form).map_err(|_| Failure::Plain(DefinedCondition::NotAcceptable))?;
        let _writer = self.write_lock(owner).await;
        if self.pep_read(owner, name).await?.is_some() {
            return Err(Failure::Plain(DefinedCondition::Conflict));
        }
        let node = Node {
            config: options.applied_to(config::DEFAULT),
            items: Vec::new(),
        };
        self.pep_write(owner, name, &node).await?;
        Ok(None)
    }

    /// §8.2.4: change the configuration; items beyond a lower `max_items` go.
    async fn pep_configure(&self, owner: &BareJid, op: &Element) -> Answer {
        let name = node_name(op)?;
        let form = op.children().next();
        if form.is_some_and(|f| f.attr("type") == Some("cancel")) {
            return Ok(None);
        }
        let options =
            Options::of(form).map_err(|_| Failure::Plain(DefinedCondition::NotAcceptable))?;
        let _writer = self.write_lock(owner).await;
        let Some(mut node) = self.pep_read(owner, name).await? else {
            return Err(Failure::Plain(DefinedCondition::ItemNotFound));
        };
        node.config = options.applied_to(node.config);
        trim(&mut node);
        self.pep_write(owner, name, &node).await?;
        Ok(None)
    }

    /// §8.4: delete a node and its items, telling those interested (§8.4.2).
    async fn pep_delete(&self, owner: &BareJid, op: &Element) -> Answer {
        let name = node_name(op)?;
        let writer = self.write_lock(owner).await;
        let Some(node) = self.pep_read(owner, name).await? else {
            return Err(Failure::Plain(DefinedCondition::ItemNotFound));
        };
        if let Err(e) = self.backend().remove_pep_node(owner, name).await {
            tracing::warn!(%owner, error = %e, "PEP node not deleted");
            return Err(Failure::Backend);
        }
        drop(writer);
        self.pep_notify(owner, name, &node.config, Change::Deleted)
            .await;
        Ok(None)
    }
}
