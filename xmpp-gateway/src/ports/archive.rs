//! What the gateway asks of the node's message archive (XEP-0313), in the gateway's terms.

use chrono::{DateTime, Utc};
use jid::Jid;
use minidom::Element;

/// Which archived messages a query asks for, and which page of them (XEP-0313, XEP-0059).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ArchiveQuery {
    /// Exchanged with this JID: a bare JID matches each of its resources.
    pub with: Option<Jid>,
    /// Archived at or after.
    pub start: Option<DateTime<Utc>>,
    /// Archived at or before.
    pub end: Option<DateTime<Utc>>,
    /// Only messages after this archive id.
    pub after: Option<String>,
    /// `Some(None)` the last page, `Some(Some(id))` the page before this archive id.
    pub before: Option<Option<String>>,
    /// Most messages on the page.
    pub max: usize,
}

/// One archived message.
#[derive(Debug, Clone, PartialEq)]
pub struct Archived {
    /// Its archive id (XEP-0359 stanza-id).
    pub id: String,
    /// When it was archived.
    pub at: DateTime<Utc>,
    /// The message as archived.
    pub message: Element,
}

/// One page of a query's result.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ArchivePage {
    /// The messages, oldest first.
    pub items: Vec<Archived>,
    /// Whether the page reaches the end of the result in the direction of paging.
    pub complete: bool,
    /// How many messages match the query in all.
    pub count: usize,
    /// The position of the first item among them.
    pub first_index: usize,
}

/// The id and time of one archived message (XEP-0313 metadata).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArchiveMark {
    /// Its archive id.
    pub id: String,
    /// When it was archived.
    pub at: DateTime<Utc>,
}

/// Which messages are archived when no list names the other party (XEP-0313 "Archiving preferences").
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ArchiveDefault {
    /// All.
    #[default]
    Always,
    /// None.
    Never,
    /// Those with someone in the user's roster.
    Roster,
}

/// A user's archiving preferences.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ArchivePrefs {
    /// The default.
    pub default: ArchiveDefault,
    /// Always archived with these.
    pub always: Vec<Jid>,
    /// Never archived with these.
    pub never: Vec<Jid>,
}
