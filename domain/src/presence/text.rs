//! Bounded text values: status notes and the names of lines, queues, profiles and sources.
//!
//! Notes and names arrive from clients, PBXs and integrations, all of them outside input. Checking
//! length and characters once, at construction, lets the HTTP and XMPP edges answer with a precise
//! error and lets everything downstream (store, fan-out to 1,000 watchers) rely on the bound.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Why a text value was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TextError {
    /// The value is empty where a name is required.
    #[error("must not be empty")]
    Empty,
    /// The value is longer than allowed.
    #[error("is {len} bytes long, at most {max} allowed")]
    TooLong {
        /// Length of the rejected value in bytes.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// The value contains a control character (a note may not smuggle line breaks into a status line).
    #[error("contains a control character")]
    Control,
}

/// Longest note in bytes: about two lines of text, more than any client shows in a roster.
pub const MAX_NOTE_BYTES: usize = 512;
/// Longest name (line, queue, profile, source) in bytes.
pub const MAX_NAME_BYTES: usize = 64;

fn check(s: &str, max: usize, allow_empty: bool) -> Result<(), TextError> {
    if s.is_empty() && !allow_empty {
        return Err(TextError::Empty);
    }
    if s.len() > max {
        return Err(TextError::TooLong { len: s.len(), max });
    }
    if s.chars().any(char::is_control) {
        return Err(TextError::Control);
    }
    Ok(())
}

/// A free status note ("Back at 3", "Working on the Q3 report"), at most [`MAX_NOTE_BYTES`], one line.
///
/// An empty note is rejected: "no note" is `None`, so there is one way to say it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Note(String);

impl Note {
    /// Validates and wraps a note.
    pub fn new(s: impl Into<String>) -> Result<Self, TextError> {
        let s = s.into();
        check(&s, MAX_NOTE_BYTES, false)?;
        Ok(Note(s))
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Note {
    type Error = TextError;
    fn try_from(s: String) -> Result<Self, TextError> {
        Note::new(s)
    }
}

impl From<Note> for String {
    fn from(n: Note) -> String {
        n.0
    }
}

impl fmt::Display for Note {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Declares a non-empty, bounded, single-line name type; distinct types keep a queue id from being
/// passed where a line id is expected.
macro_rules! name_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            /// Validates and wraps a name (non-empty, at most [`MAX_NAME_BYTES`], no control chars).
            pub fn new(s: impl Into<String>) -> Result<Self, TextError> {
                let s = s.into();
                check(&s, MAX_NAME_BYTES, false)?;
                Ok($name(s))
            }

            /// The name.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl TryFrom<String> for $name {
            type Error = TextError;
            fn try_from(s: String) -> Result<Self, TextError> {
                $name::new(s)
            }
        }

        impl From<$name> for String {
            fn from(n: $name) -> String {
                n.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

name_type!(
    /// A telephone line or extension of a user, as the PBX names it ("201", "sip:anna@pbx").
    LineId
);
name_type!(
    /// A call queue (group function) an agent can log in to ("support", "sales").
    QueueId
);
name_type!(
    /// The name of a presence profile; shown to colleagues as the status text (pascom S15).
    ProfileName
);
name_type!(
    /// The name of an external presence source ("teams", "meetings"); one entry per name.
    SourceName
);

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn notes_are_bounded_single_lines() {
        assert!(Note::new("Back at 3").is_ok());
        assert_eq!(Note::new(""), Err(TextError::Empty));
        assert_eq!(Note::new("a\nb"), Err(TextError::Control));
        let long = "x".repeat(MAX_NOTE_BYTES + 1);
        assert!(matches!(Note::new(long), Err(TextError::TooLong { .. })));
    }

    #[test]
    fn names_reject_bad_input_also_when_deserialized() {
        assert!(LineId::new("201").is_ok());
        assert!(serde_json::from_str::<QueueId>("\"\"").is_err());
        let long = format!("\"{}\"", "q".repeat(MAX_NAME_BYTES + 1));
        assert!(serde_json::from_str::<QueueId>(&long).is_err());
        let ok: QueueId = serde_json::from_str("\"support\"").unwrap();
        assert_eq!(ok.as_str(), "support");
    }
}
