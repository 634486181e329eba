//! XEP-0398: User Avatar to vCard-Based Avatars Conversion (version 1.0.0). A client that
//! publishes its avatar with XEP-0084 (PEP) also gets it in its vCard (XEP-0153), for clients and
//! group chats that read vCards; one that sets a vCard photo also gets it in PEP, for clients that
//! only read XEP-0084; and the server puts the avatar's hash into the user's available presence
//! (§4), so a client need not download its own avatar at every login to announce it.
//!
//! This module is the pure part: which metadata entry to convert, the vCard with or without a
//! photo, the hash, the presence rewrite. `handler.rs` does it on the router.

mod handler;
mod hashes;

pub(crate) use hashes::Hashes;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use minidom::Element;
use sha1::{Digest, Sha1};

/// What the account advertises (§2).
pub(crate) const FEATURE: &str = "urn:xmpp:pep-vcard-conversion:0";
/// XEP-0084 nodes.
pub(crate) const DATA: &str = "urn:xmpp:avatar:data";
pub(crate) const METADATA: &str = "urn:xmpp:avatar:metadata";
/// XEP-0054 and XEP-0153.
const VCARD: &str = "vcard-temp";
const UPDATE: &str = "vcard-temp:x:update";

/// The picture a metadata item names: its id (the SHA-1 of the image, hex) and media type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Picture {
    pub(crate) id: String,
    pub(crate) mime: String,
}

/// §3.1: the `<info/>` of a metadata payload the server can convert: the one that does not point
/// to an external URL. `None` when there is none, which is also how a client says it removed its
/// avatar (an empty `<metadata/>`).
pub(crate) fn picked(metadata: &Element) -> Option<Picture> {
    metadata
        .children()
        .filter(|c| c.is("info", METADATA) && c.attr("url").is_none())
        .find_map(|info| {
            Some(Picture {
                id: info.attr("id")?.to_ascii_lowercase(),
                mime: info.attr("type").unwrap_or("image/png").to_owned(),
            })
        })
}

/// The image bytes of an avatar data payload, when they are what `id` says (§3.1: the service
/// should check the hash).
pub(crate) fn image(data: &Element, id: &str) -> Option<Vec<u8>> {
    if !data.is("data", DATA) {
        return None;
    }
    let text: String = data
        .text()
        .chars()
        .filter(|c| !c.is_ascii_whitespace())
        .collect();
    let bytes = B64.decode(text).ok()?;
    (hash(&bytes) == id).then_some(bytes)
}

/// The SHA-1 of an image in lower-case hex: its XEP-0084 id and its XEP-0153 hash.
pub(crate) fn hash(bytes: &[u8]) -> String {
    Sha1::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The vCard's photo: its media type and image bytes.
pub(crate) fn photo(vcard: &Element) -> Option<(String, Vec<u8>)> {
    let photo = vcard.get_child("PHOTO", VCARD)?;
    let binval: String = photo
        .get_child("BINVAL", VCARD)?
        .text()
        .chars()
        .filter(|c| !c.is_ascii_whitespace())
        .collect();
    let bytes = B64.decode(binval).ok().filter(|b| !b.is_empty())?;
    let mime = photo
        .get_child("TYPE", VCARD)
        .map(Element::text)
        .filter(|t| !t.is_empty())
        .unwrap_or_else(|| "image/png".to_owned());
    Some((mime, bytes))
}

/// `vcard` (or an empty one) with its photo replaced by `image`, or removed when `None`;
/// everything else in it stays as the user wrote it.
pub(crate) fn with_photo(vcard: Option<Element>, image: Option<(&str, &[u8])>) -> Element {
    let mut rebuilt = Element::builder("vCard", VCARD);
    if let Some(vcard) = &vcard {
        for child in vcard.children().filter(|c| !c.is("PHOTO", VCARD)) {
            rebuilt = rebuilt.append(child.clone());
        }
    }
    if let Some((mime, bytes)) = image {
        let photo = Element::builder("PHOTO", VCARD)
            .append(Element::builder("TYPE", VCARD).append(mime.to_owned()))
            .append(Element::builder("BINVAL", VCARD).append(B64.encode(bytes)))
            .build();
        rebuilt = rebuilt.append(photo);
    }
    rebuilt.build()
}

/// The XEP-0084 items the server publishes for a vCard photo (§3.2): the data item and the
/// metadata item, both with the image's hash as id.
pub(crate) fn pep_items(mime: &str, bytes: &[u8]) -> (String, Element, Element) {
    let id = hash(bytes);
    let data = Element::builder("data", DATA)
        .append(B64.encode(bytes))
        .build();
    let info = Element::builder("info", METADATA)
        .attr(rxml::xml_ncname!("id").to_owned(), id.as_str())
        .attr(
            rxml::xml_ncname!("bytes").to_owned(),
            bytes.len().to_string(),
        )
        .attr(rxml::xml_ncname!("type").to_owned(), mime)
        .build();
    let metadata = Element::builder("metadata", METADATA).append(info).build();
    (id, data, metadata)
}

/// §4: put `hash` into an available presence's payloads: added when there is no
/// `vcard-temp:x:update`, written into one without a `<photo/>`; an empty `<photo/>` (the client
/// says it has no avatar, or is not ready) and a client's own non-empty one are left alone.
pub(crate) fn inject(payloads: &mut Vec<Element>, hash: &str) {
    let update = || {
        Element::builder("x", UPDATE)
            .append(Element::builder("photo", UPDATE).append(hash.to_owned()))
            .build()
    };
    match payloads.iter_mut().find(|p| p.is("x", UPDATE)) {
        None => payloads.push(update()),
        Some(x) if !x.has_child("photo", UPDATE) => *x = update(),
        Some(_) => {}
    }
}

/// [`inject`] for a presence element as written.
pub(crate) fn inject_element(presence: &mut Element, hash: &str) {
    let update = presence.get_child("x", UPDATE);
    if update.is_some_and(|x| x.has_child("photo", UPDATE)) {
        return;
    }
    let mut payloads: Vec<Element> = presence.remove_child("x", UPDATE).into_iter().collect();
    inject(&mut payloads, hash);
    for p in payloads {
        presence.append_child(p);
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    const PNG: &[u8] = b"\x89PNG\r\n\x1a\nnot really an image";

    #[test]
    fn the_metadata_entry_without_a_url_is_converted() {
        let id = hash(PNG);
        let metadata: Element = format!(
            "<metadata xmlns='{METADATA}'>\
             <info id='aaaa' url='https://example.org/a.png' type='image/png' bytes='1'/>\
             <info id='{id}' type='image/jpeg' bytes='{}'/></metadata>",
            PNG.len()
        )
        .parse()
        .unwrap();
        assert_eq!(
            picked(&metadata),
            Some(Picture {
                id: id.clone(),
                mime: "image/jpeg".into()
            })
        );
        let empty: Element = format!("<metadata xmlns='{METADATA}'/>").parse().unwrap();
        assert_eq!(picked(&empty), None);
    }

    #[test]
    fn data_must_hash_to_its_id() {
        let (id, data, metadata) = pep_items("image/png", PNG);
        assert_eq!(image(&data, &id).as_deref(), Some(PNG));
        assert_eq!(image(&data, "0000"), None);
        assert_eq!(picked(&metadata).unwrap().id, id);
    }

    #[test]
    fn the_photo_is_replaced_and_the_rest_of_the_card_kept() {
        let card: Element = "<vCard xmlns='vcard-temp'><FN>Alice</FN>\
             <PHOTO><TYPE>image/gif</TYPE><BINVAL>R0lG</BINVAL></PHOTO></vCard>"
            .parse()
            .unwrap();
        let new = with_photo(Some(card), Some(("image/png", PNG)));
        assert_eq!(new.get_child("FN", VCARD).unwrap().text(), "Alice");
        assert_eq!(photo(&new), Some(("image/png".to_owned(), PNG.to_vec())));
        let removed = with_photo(Some(new), None);
        assert_eq!(photo(&removed), None);
        assert!(removed.has_child("FN", VCARD));
        assert_eq!(photo(&with_photo(None, None)), None);
    }

    #[test]
    fn presence_gets_the_hash_unless_the_client_said_otherwise() {
        let mut none = Vec::new();
        inject(&mut none, "abc");
        assert_eq!(
            String::from(&none[0]),
            "<x xmlns='vcard-temp:x:update'><photo>abc</photo></x>"
        );
        let mut directed: Element = "<presence xmlns='jabber:client' to='room@muc.example/me'>\
             <x xmlns='http://jabber.org/protocol/muc'/><x xmlns='vcard-temp:x:update'/></presence>"
            .parse()
            .unwrap();
        inject_element(&mut directed, "abc");
        assert!(directed.has_child("x", "http://jabber.org/protocol/muc"));
        assert_eq!(
            directed
                .get_child("x", UPDATE)
                .and_then(|x| x.get_child("photo", UPDATE))
                .map(Element::text)
                .as_deref(),
            Some("abc")
        );
        let mut bare: Vec<Element> = vec!["<x xmlns='vcard-temp:x:update'/>".parse().unwrap()];
        inject(&mut bare, "abc");
        assert!(String::from(&bare[0]).contains("<photo>abc</photo>"));
        for kept in [
            "<x xmlns='vcard-temp:x:update'><photo/></x>",
            "<x xmlns='vcard-temp:x:update'><photo>fff</photo></x>",
        ] {
            let mut payloads: Vec<Element> = vec![kept.parse().unwrap()];
            inject(&mut payloads, "abc");
            assert_eq!(payloads.len(), 1);
            assert_eq!(String::from(&payloads[0]), kept.replace('"', "'"));
        }
    }
}
