//! `lampfield token add|list|remove`: integration API tokens, through the running node's admin
//! socket when a node runs, directly on the database otherwise (like `lampfield user`).

use anyhow::bail;
use lampfield_domain::access::Level;
use lampfield_node::Config;
use lampfield_node::admin::protocol::{Request, Response};
use lampfield_node::tokens::TokenScope;

use super::user::execute;

/// `lampfield token --help`.
pub(crate) const HELP: &str = "\
Manage the integration API's tokens; works whether or not the node is running.

`token add NAME` prints a new random token once; the node stores only its SHA-256, so
keep the token where the integration needs it. Requests send it as
`Authorization: Bearer <token>`. The level (default team) is the most the token may
read of anyone's presence; managing access rules over the API needs personal.

A token may be scoped: --user JID and --domain DOMAIN (both repeatable) name whom it
acts for (default: every user), --can read,sources,rules,profiles what it may do
(default: all), and --rate N how many requests a second it may make (default 20, in
bursts of twice that; 429 beyond). For example, a PBX that only reports Alice's and
Bob's lines:

    lampfield token add pbx --user alice@example.org --user bob@example.org --can sources

A scope cannot be changed: remove the token and add a new one. Removing a token
refuses its next request and ends its open change streams at once.

Tokens can also be written in the configuration file, by their SHA-256, under
[[http.tokens]] (with users, domains, can and rate); those are not listed or
removed here.";

/// `token add`.
pub(crate) async fn add(
    config: &Config,
    name: &str,
    level: Level,
    scope: TokenScope,
    rate: Option<u32>,
) -> anyhow::Result<()> {
    let request = Request::AddToken {
        name: name.to_owned(),
        level,
        scope,
        rate,
    };
    match execute(config, request).await? {
        Response::TokenAdded {
            token,
            name,
            level,
            scope,
            rate,
        } => {
            eprintln!(
                "added token {name} (level {level}; {}; {}; {rate} requests/s); \
                 it is shown only this once:",
                scope.users_text(),
                scope.actions_text()
            );
            println!("{token}");
        }
        other => unexpected(other)?,
    }
    Ok(())
}

/// `token list`: name, level, users, actions and rate, tab-separated.
pub(crate) async fn list(config: &Config) -> anyhow::Result<()> {
    match execute(config, Request::ListTokens).await? {
        Response::Tokens { tokens } => {
            for t in tokens {
                println!(
                    "{}\t{}\t{}\t{}\t{}/s",
                    t.name,
                    t.level,
                    t.scope.users_text(),
                    t.scope.actions_text(),
                    t.rate
                );
            }
        }
        other => unexpected(other)?,
    }
    Ok(())
}

/// `token remove`.
pub(crate) async fn remove(config: &Config, name: &str) -> anyhow::Result<()> {
    let request = Request::RemoveToken {
        name: name.to_owned(),
    };
    match execute(config, request).await? {
        Response::TokenRemoved {
            name,
            existed: true,
        } => println!("removed token {name}"),
        Response::TokenRemoved {
            name,
            existed: false,
        } => bail!("no token named {name}"),
        other => unexpected(other)?,
    }
    Ok(())
}

fn unexpected(response: Response) -> anyhow::Result<()> {
    match response {
        Response::Error { message } => bail!("{message}"),
        Response::TokenAdded { name, .. } => bail!("unexpected answer from the node ({name})"),
        other => bail!("unexpected answer from the node: {other:?}"),
    }
}
