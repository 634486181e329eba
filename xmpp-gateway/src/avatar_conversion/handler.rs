//! XEP-0398 on the router: after a client publishes its XEP-0084 metadata the vCard photo
//! follows (§3.1); after it sets a vCard with a photo the XEP-0084 items follow (§3.2); and the
//! avatar hash goes into the user's available presence, broadcast and directed (§4).

use jid::BareJid;
use minidom::Element;

use super::{
    DATA, METADATA, hash, image, inject, inject_element, pep_items, photo, picked, with_photo,
};
use crate::ports::backend::{Backend, Kept};
use crate::router::Router;

impl<B: Backend> Router<B> {
    /// §3.1: `owner` published `metadata` to its XEP-0084 metadata node: store the image it
    /// names (from the data node, checked against its hash) as the vCard photo, or remove the
    /// photo when the metadata names none. Best effort: the publish itself has succeeded.
    pub(crate) async fn avatar_metadata_published(&self, owner: &BareJid, metadata: &Element) {
        let picture = picked(metadata);
        let image = match &picture {
            Some(p) => match self.backend().pep_node(owner, DATA).await {
                Ok(Some(node)) => node
                    .items
                    .iter()
                    .find(|i| i.id.eq_ignore_ascii_case(&p.id))
                    .and_then(|i| i.payload.as_ref())
                    .and_then(|data| image(data, &p.id)),
                Ok(None) => None,
                Err(e) => {
                    tracing::warn!(%owner, error = %e, "avatar data unreadable; vCard left as it is");
                    return;
                }
            },
            None => None,
        };
        if picture.is_some() && image.is_none() {
            // Metadata naming data that is not there (or not what it claims): nothing to convert.
            tracing::debug!(%owner, "avatar metadata without matching data; vCard left as it is");
            return;
        }
        let stored = match self.backend().vcard(owner).await {
            Ok(stored) => stored,
            Err(e) => {
                tracing::warn!(%owner, error = %e, "vCard unreadable; avatar not converted");
                return;
            }
        };
        let converted = match (&picture, &image) {
            (Some(p), Some(bytes)) => with_photo(stored, Some((&p.mime, bytes))),
            _ => with_photo(stored, None),
        };
        match self.backend().put_vcard(owner, &converted).await {
            Ok(Kept::Stored) => self
                .avatars()
                .set(owner, image.as_deref().map(hash).as_deref()),
            Ok(Kept::Full) => {
                tracing::info!(%owner, "avatar too large for the vCard; vCard left as it is");
            }
            Err(e) => tracing::warn!(%owner, error = %e, "vCard not stored; avatar not converted"),
        }
    }

    /// §3.2: `owner` stored `vcard`: publish its photo to XEP-0084 unless that is already the
    /// avatar there. Best effort, after the vCard is on disk.
    pub(crate) async fn vcard_stored(&self, owner: &BareJid, vcard: &Element) {
        let Some((mime, bytes)) = photo(vcard) else {
            self.avatars().set(owner, None);
            return;
        };
        let (id, data, metadata) = pep_items(&mime, &bytes);
        self.avatars().set(owner, Some(&id));
        let current = match self.backend().pep_node(owner, METADATA).await {
            Ok(node) => node.and_then(|n| n.items.last().map(|i| i.id.clone())),
            Err(e) => {
                tracing::warn!(%owner, error = %e, "avatar metadata unreadable; not published");
                return;
            }
        };
        if current.as_deref() == Some(id.as_str()) {
            return;
        }
        // Data first: a client that sees the metadata fetches the data at once.
        for (node, payload) in [(DATA, data), (METADATA, metadata)] {
            if let Err(e) = self.pep_publish_for(owner, node, &id, payload).await {
                tracing::info!(%owner, node, error = ?e, "vCard photo not published to PEP");
                return;
            }
        }
    }

    /// §4: `user`'s available presence with the avatar hash in it.
    pub(crate) async fn with_avatar_hash(&self, user: &BareJid, payloads: &mut Vec<Element>) {
        if let Some(hash) = self.avatar_hash(user).await {
            inject(payloads, &hash);
        }
    }

    /// §4 for a presence element as written (directed presence).
    pub(crate) async fn with_avatar_hash_in(&self, user: &BareJid, presence: &mut Element) {
        if let Some(hash) = self.avatar_hash(user).await {
            inject_element(presence, &hash);
        }
    }

    /// The hash of `user`'s avatar, from the cache or the stored vCard.
    async fn avatar_hash(&self, user: &BareJid) -> Option<std::sync::Arc<str>> {
        if let Some(cached) = self.avatars().get(user) {
            return cached;
        }
        let hash = match self.backend().vcard(user).await {
            Ok(stored) => stored
                .as_ref()
                .and_then(photo)
                .map(|(_, bytes)| hash(&bytes)),
            Err(e) => {
                tracing::debug!(%user, error = %e, "vCard unreadable; no avatar hash in presence");
                return None;
            }
        };
        self.avatars().set(user, hash.as_deref());
        hash.map(std::sync::Arc::from)
    }
}
