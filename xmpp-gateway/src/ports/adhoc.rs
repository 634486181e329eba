//! The port for XEP-0050 ad-hoc commands: the node offers commands (switch a presence profile, set
//! who sees what) that any desktop client with an ad-hoc menu can run against the server.

use std::future::Future;
use std::pin::Pin;

use jid::BareJid;
use xmpp_parsers::data_forms::DataForm;

/// One command as disco#items lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandInfo {
    /// The command's node, e.g. `lampfield:profile`.
    pub node: String,
    /// Human-readable name.
    pub name: String,
}

/// What one step of a command produced.
#[derive(Debug, Clone, PartialEq)]
pub enum CommandReply {
    /// More input is needed: show this form (status `executing`).
    Form(DataForm),
    /// Done (status `completed`): an info note and an optional result form.
    Done {
        /// What happened, for the user.
        note: String,
        /// Data to show, if any.
        result: Option<DataForm>,
    },
    /// The input was not acceptable (status `completed` with an error note); nothing changed.
    Refused(String),
    /// No such command for this user (`item-not-found`).
    Unknown,
}

/// A boxed future, so the port can live behind `dyn`.
pub type CommandFuture<'a> = Pin<Box<dyn Future<Output = CommandReply> + Send + 'a>>;

/// The commands a node offers its users.
pub trait AdHocCommands: Send + Sync + 'static {
    /// The commands `user` may run.
    fn list(&self, user: &BareJid) -> Vec<CommandInfo>;

    /// Run one step of `node` for `user`: `form` is `None` on the first `execute` and the
    /// submitted form afterwards.
    fn execute<'a>(
        &'a self,
        user: &'a BareJid,
        node: &'a str,
        form: Option<DataForm>,
    ) -> CommandFuture<'a>;
}
