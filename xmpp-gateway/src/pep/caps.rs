//! XEP-0115 Entity Capabilities (version 1.6.0) resolved to features, for the `+notify`
//! filtering of XEP-0163 §4.2 (XEP-0060 §9.2): a client's caps `ver` is asked once with
//! disco#info, the answer checked against the hash (so no client can poison what others are
//! said to want) and kept by hash, bounded in entries and features.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};

use jid::FullJid;
use minidom::Element;
use xmpp_parsers::caps::{Caps, hash_caps};
use xmpp_parsers::disco::DiscoInfoResult;

use crate::ports::authority::Disclosure;
use crate::presence::extensions::Extensions;

/// Most verified caps kept; the oldest goes first.
const MAX_KNOWN: usize = 1024;
/// Most `+notify` interests kept per caps.
const MAX_INTERESTS: usize = 64;
/// Most disco#info queries awaiting an answer; a new one pushes out the oldest, so clients that
/// never answer cannot stop the node from asking others.
const MAX_PENDING: usize = 256;
/// Ids of our queries start so.
const ID_PREFIX: &str = "pep-caps-";
const NOTIFY: &str = "+notify";

/// The node names a client asked to be notified of.
pub(crate) type Interests = Arc<HashSet<String>>;

/// The caps cache and the queries under way.
#[derive(Default)]
pub(crate) struct CapsCache {
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    known: HashMap<String, Interests>,
    order: VecDeque<String>,
    /// Query number -> (who was asked, the caps it claimed), oldest first.
    pending: BTreeMap<u64, (FullJid, Caps)>,
    next: u64,
}

/// The key of a caps claim: its hash algorithm and value.
fn key(caps: &Caps) -> String {
    format!("{:?} {}", caps.hash, ver(caps))
}

/// The caps `ver` as sent.
fn ver(caps: &Caps) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(&caps.ver)
}

/// The XEP-0115 claim in a session's presence extensions, if any.
pub(crate) fn claim(extensions: &Extensions) -> Option<Caps> {
    extensions
        .at(Disclosure::Everything)
        .find(|e| e.is("c", xmpp_parsers::ns::CAPS))
        .and_then(|e| Caps::try_from(e.clone()).ok())
}

/// XEP-0115 §5.1: the string a caps `ver` hashes. Written here rather than taken from
/// `xmpp_parsers::caps::compute_disco`, which sorts each item with its `<` appended and so gets
/// `shim#SubID` and `shim` (which slixmpp advertises) the wrong way round.
fn verification_string(info: &DiscoInfoResult) -> Vec<u8> {
    let sorted = |mut items: Vec<String>| {
        items.sort();
        items
    };
    let mut out = String::new();
    let mut push = |item: &str| {
        out.push_str(item);
        out.push('<');
    };
    let identities = info.identities.iter().map(|i| {
        let lang = i.lang.as_deref().unwrap_or_default();
        let name = i.name.as_deref().unwrap_or_default();
        format!("{}/{}/{lang}/{name}", i.category, i.type_)
    });
    for identity in sorted(identities.collect()) {
        push(&identity);
    }
    // A set: already in byte order.
    for feature in &info.features {
        push(feature);
    }
    let mut forms: Vec<_> = info.extensions.iter().collect();
    forms.sort_by_key(|f| f.form_type().map(str::to_owned));
    for form in forms {
        push(form.form_type().unwrap_or_default());
        let mut fields: Vec<_> = form
            .fields
            .iter()
            .filter(|f| f.var.as_deref() != Some("FORM_TYPE"))
            .collect();
        fields.sort_by_key(|f| f.var.clone());
        for field in fields {
            push(field.var.as_deref().unwrap_or_default());
            for value in sorted(field.values.clone()) {
                push(&value);
            }
        }
    }
    out.into_bytes()
}

/// Whether a session's caps claim differs between two presences (then what it wants to be
/// notified of may have changed).
pub(crate) fn claim_changed(before: &Extensions, after: &Extensions) -> bool {
    claim(before).map(|c| key(&c)) != claim(after).map(|c| key(&c))
}

/// The node names of the `+notify` features in `features`, bounded.
fn interests<'a>(features: impl Iterator<Item = &'a String>) -> Interests {
    Arc::new(
        features
            .filter_map(|f| f.strip_suffix(NOTIFY))
            .take(MAX_INTERESTS)
            .map(str::to_owned)
            .collect(),
    )
}

/// What to do about a session's caps.
pub(crate) enum Lookup {
    /// Known: these are its interests.
    Known(Interests),
    /// Ask the client with this disco#info query (its id already pending).
    Ask(Element),
    /// Nothing to ask: already asked.
    Unknown,
}

impl CapsCache {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The interests of a session with `caps`, if known.
    pub(crate) fn interests(&self, caps: &Caps) -> Option<Interests> {
        self.lock().known.get(&key(caps)).cloned()
    }

    /// The interests of `jid`'s `caps`, or the query to send it.
    pub(crate) fn lookup(&self, jid: &FullJid, caps: Caps, server: &str) -> Lookup {
        let mut inner = self.lock();
        let k = key(&caps);
        if let Some(known) = inner.known.get(&k) {
            return Lookup::Known(known.clone());
        }
        let asked = inner.pending.values().any(|(j, c)| j == jid && key(c) == k);
        if asked {
            return Lookup::Unknown;
        }
        if inner.pending.len() >= MAX_PENDING {
            inner.pending.pop_first();
        }
        inner.next += 1;
        let number = inner.next;
        let id = format!("{ID_PREFIX}{number}");
        let node = format!("{}#{}", caps.node, ver(&caps));
        inner.pending.insert(number, (jid.clone(), caps));
        let query = Element::builder("query", xmpp_parsers::ns::DISCO_INFO)
            .attr(rxml::xml_ncname!("node").to_owned(), node)
            .build();
        Lookup::Ask(
            Element::builder("iq", crate::ns::JABBER_CLIENT)
                .attr(rxml::xml_ncname!("type").to_owned(), "get")
                .attr(rxml::xml_ncname!("id").to_owned(), id)
                .attr(rxml::xml_ncname!("from").to_owned(), server)
                .attr(rxml::xml_ncname!("to").to_owned(), jid.to_string())
                .append(query)
                .build(),
        )
    }

    /// Whether `id` names one of our queries.
    pub(crate) fn is_ours(id: &str) -> bool {
        id.starts_with(ID_PREFIX)
    }

    /// The answer `result` (`None`: an error) from `from` to query `id`: the session's
    /// interests, once the answer matches the hash it claimed.
    pub(crate) fn answered(
        &self,
        from: &FullJid,
        id: &str,
        result: Option<Element>,
    ) -> Option<Interests> {
        let mut inner = self.lock();
        let number = id.strip_prefix(ID_PREFIX)?.parse::<u64>().ok()?;
        let (asked, caps) = inner.pending.remove(&number)?;
        if asked != *from {
            return None;
        }
        let info = DiscoInfoResult::try_from(result?).ok()?;
        let hash = hash_caps(&verification_string(&info), caps.hash.clone()).ok()?;
        if hash.hash != caps.ver {
            tracing::debug!(%from, "caps answer does not match its hash; not kept");
            return None;
        }
        let found = interests(info.features.iter());
        let k = key(&caps);
        if inner.known.len() >= MAX_KNOWN
            && let Some(oldest) = inner.order.pop_front()
        {
            inner.known.remove(&oldest);
        }
        inner.order.push_back(k.clone());
        inner.known.insert(k, found.clone());
        Some(found)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use xmpp_parsers::hashes::{Algo, Hash};

    fn info(features: &[&str]) -> DiscoInfoResult {
        DiscoInfoResult {
            node: None,
            identities: vec![xmpp_parsers::disco::Identity::new(
                "client", "pc", "en", "x",
            )],
            features: features.iter().map(|f| (*f).to_owned()).collect(),
            extensions: vec![],
        }
    }

    #[test]
    fn a_verified_answer_gives_the_notify_interests_and_a_forged_one_nothing() {
        let cache = CapsCache::default();
        let me: FullJid = "a@d/r".parse().unwrap();
        let good = info(&["urn:xmpp:avatar:metadata+notify", "urn:x"]);
        let caps = Caps::new(
            "n",
            hash_caps(&verification_string(&good), Algo::Sha_1).unwrap(),
        );
        let Lookup::Ask(query) = cache.lookup(&me, caps.clone(), "d") else {
            panic!("asks first")
        };
        assert!(matches!(
            cache.lookup(&me, caps.clone(), "d"),
            Lookup::Unknown
        ));
        let id = query.attr("id").unwrap().to_owned();
        let forged = info(&["urn:other+notify"]);
        assert!(cache.answered(&me, &id, Some(forged.into())).is_none());
        let Lookup::Ask(query) = cache.lookup(&me, caps.clone(), "d") else {
            panic!("asks again after a forged answer")
        };
        let id = query.attr("id").unwrap().to_owned();
        let found = cache.answered(&me, &id, Some(good.into())).unwrap();
        assert!(found.contains("urn:xmpp:avatar:metadata") && found.len() == 1);
        assert!(matches!(cache.lookup(&me, caps, "d"), Lookup::Known(_)));
    }

    #[test]
    fn unanswered_queries_make_way_for_new_ones() {
        let cache = CapsCache::default();
        let me: FullJid = "a@d/r".parse().unwrap();
        let ask = |n: u16| {
            let mut hash = vec![0u8; 20];
            hash[..2].copy_from_slice(&n.to_be_bytes());
            match cache.lookup(&me, Caps::new("n", Hash::new(Algo::Sha_1, hash)), "d") {
                Lookup::Ask(q) => q.attr("id").unwrap().to_owned(),
                _ => panic!("not asked"),
            }
        };
        let first = ask(0);
        for n in 1..=u16::try_from(MAX_PENDING).unwrap() {
            ask(n);
        }
        assert_eq!(cache.lock().pending.len(), MAX_PENDING);
        assert!(
            cache
                .answered(&me, &first, Some(info(&[]).into()))
                .is_none()
        );
    }

    /// What slixmpp 1.8 with xep_0084 answered in a test run, with its `ver`.
    #[test]
    fn slixmpp_caps_verify() {
        let caps: Element =
            "<c xmlns='http://jabber.org/protocol/caps' node='http://slixmpp.com/ver/1.17.0' \
             hash='sha-1' ver='kwIV8tEtD/ks9sDgw6PFahvemVU='/>"
                .parse()
                .unwrap();
        let caps = Caps::try_from(caps).unwrap();
        let answer: Element = "<query xmlns='http://jabber.org/protocol/disco#info'>\
             <identity category='client' type='bot'/>\
             <feature var='http://jabber.org/protocol/disco#info'/><feature var='urn:xmpp:ping'/>\
             <feature var='jabber:x:data'/><feature var='http://jabber.org/protocol/shim'/>\
             <feature var='http://jabber.org/protocol/shim#SubID'/>\
             <feature var='http://jabber.org/protocol/caps'/>\
             <feature var='urn:xmpp:avatar:metadata+notify'/>\
             <feature var='urn:xmpp:avatar:metadata'/></query>"
            .parse()
            .unwrap();
        let info = DiscoInfoResult::try_from(answer).unwrap();
        let hash = hash_caps(&verification_string(&info), caps.hash.clone()).unwrap();
        assert_eq!(hash.hash, caps.ver);
    }
}
