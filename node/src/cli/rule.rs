//! `lampfield rule list|set|remove|explain`: who sees what of a user's presence, through the
//! running node's admin socket when a node runs (watchers see the change at once), directly on the
//! database otherwise (like `lampfield user`).

use anyhow::bail;
use lampfield_domain::access::Level;
use lampfield_node::Config;
use lampfield_node::admin::protocol::{Request, Response};

use super::user::execute;

/// `lampfield rule --help`.
pub(crate) const HELP: &str = "\
Manage a user's access rules (docs/ACCESS.md); works whether or not the node is running.

A rule names whom it is for and a level:
  contact:bob@example.org   one contact
  group:Friends             everyone in that roster group of the user
  domain:partner.example    everyone at that organization
  federated                 every other organization
  default                   everyone else
Levels, least to most: blocked, public, business, team, personal. The most specific rule
wins; the node's [access] ceilings cap every rule. A running node sends every watcher
the new view at once.";

/// `rule list`.
pub(crate) async fn list(config: &Config, jid: &str) -> anyhow::Result<()> {
    match execute(
        config,
        Request::ListRules {
            jid: jid.to_owned(),
        },
    )
    .await?
    {
        Response::Rules(info) => {
            if info.entries.is_empty() {
                println!("# {} has no rules of their own", info.jid);
            }
            for e in info.entries {
                println!("{}\t{}", e.selector, e.level);
            }
            println!(
                "# node defaults: own domain {}, other organizations {}; ceilings {} and {}",
                info.default_local,
                info.default_federated,
                info.ceiling_local,
                info.ceiling_federated
            );
        }
        other => unexpected(other)?,
    }
    Ok(())
}

/// `rule set` (with a level) and `rule remove` (without).
pub(crate) async fn set(
    config: &Config,
    jid: &str,
    selector: &str,
    level: Option<Level>,
) -> anyhow::Result<()> {
    let request = Request::SetRule {
        jid: jid.to_owned(),
        selector: selector.to_owned(),
        level,
    };
    match execute(config, request).await? {
        Response::RuleSet {
            jid,
            selector,
            level: Some(level),
        } => println!("{jid}: {selector} now sees level {level}"),
        Response::RuleSet {
            jid,
            selector,
            level: None,
        } => println!("{jid}: the rule for {selector} is removed"),
        other => unexpected(other)?,
    }
    Ok(())
}

/// `rule explain`.
pub(crate) async fn explain(config: &Config, jid: &str, viewer: &str) -> anyhow::Result<()> {
    let request = Request::ExplainRule {
        jid: jid.to_owned(),
        viewer: viewer.to_owned(),
    };
    match execute(config, request).await? {
        Response::Explained { level, reason } => println!("{level}\t({reason})"),
        other => unexpected(other)?,
    }
    Ok(())
}

fn unexpected(response: Response) -> anyhow::Result<()> {
    match response {
        Response::Error { message } => bail!("{message}"),
        other => bail!("unexpected answer from the node: {other:?}"),
    }
}
