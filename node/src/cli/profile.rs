//! `lampfield profile list|show|create|activate|deactivate|delete USER ...`: presence profiles
//! through the running node's admin socket (docs/PROFILES.md).

use anyhow::{Context, bail};
use lampfield_domain::presence::Settable;
use lampfield_domain::profiles::ProfileSpec;
use lampfield_node::Config;
use lampfield_node::admin::protocol::{ProfileOp, ProfilesInfo};
use lampfield_node::admin::protocol::{Request, Response};

/// `lampfield profile --help`.
pub(crate) const HELP: &str = "\
Manage a user's presence profiles: a name with a presence, a note, call forwarding,
queue actions and action chains (docs/PROFILES.md).

These commands talk to the running node over its admin socket, so a switch reaches
watchers and the connector at once; they fail when no node runs. System profiles come
from the [profiles] section of the configuration and cannot be changed here.";

/// Send one profile operation and return the answer.
pub(crate) async fn send(
    config: &Config,
    jid: &str,
    op: ProfileOp,
) -> anyhow::Result<ProfilesInfo> {
    let request = Request::Profiles {
        jid: jid.to_owned(),
        request: op,
    };
    match super::user::execute(config, request).await? {
        Response::Profiles(info) => Ok(info),
        Response::Error { message } => bail!("{message}"),
        other => bail!("unexpected answer from the node: {other:?}"),
    }
}

fn print_active(info: &ProfilesInfo) {
    match &info.active {
        Some(p) => println!("{}: active profile {p}", info.jid),
        None => println!("{}: no active profile", info.jid),
    }
}

/// `profile list`: one line per profile, `*` marks the active one.
pub(crate) async fn list(config: &Config, jid: &str) -> anyhow::Result<()> {
    let info = send(config, jid, ProfileOp::List).await?;
    for p in &info.profiles {
        let mark = if p.active { "*" } else { " " };
        let scope = match p.scope {
            lampfield_domain::profiles::Scope::System => "system",
            lampfield_domain::profiles::Scope::User => "user",
        };
        let state = if p.enabled { "" } else { " (disabled)" };
        println!("{mark} {} [{scope}]{state}", p.name);
    }
    Ok(())
}

/// `profile show`: the profile's settings as JSON.
pub(crate) async fn show(config: &Config, jid: &str, name: &str) -> anyhow::Result<()> {
    let info = send(config, jid, ProfileOp::Show { name: name.into() }).await?;
    for p in &info.profiles {
        println!("{}", serde_json::to_string_pretty(p)?);
    }
    Ok(())
}

/// What `profile create` takes besides the name.
#[derive(Debug, Default)]
pub(crate) struct CreateArgs {
    /// The whole spec as JSON (the other options are applied on top).
    pub(crate) spec: Option<String>,
    /// available, busy, do_not_disturb or away.
    pub(crate) availability: Option<String>,
    /// Info text.
    pub(crate) note: Option<String>,
    /// Pinned against triggers.
    pub(crate) sticky: bool,
}

/// `profile create`.
pub(crate) async fn create(
    config: &Config,
    jid: &str,
    name: &str,
    args: CreateArgs,
) -> anyhow::Result<()> {
    let mut spec: ProfileSpec = match &args.spec {
        Some(json) => serde_json::from_str(json).context("--spec")?,
        None => ProfileSpec::default(),
    };
    if let Some(a) = &args.availability {
        spec.availability =
            serde_json::from_value::<Settable>(serde_json::Value::String(a.clone()))
                .context("--availability: available, busy, do_not_disturb or away")?;
    }
    if let Some(n) = args.note {
        spec.note = Some(lampfield_domain::presence::Note::new(n).context("--note")?);
    }
    if args.sticky {
        spec.sticky = true;
    }
    let info = send(
        config,
        jid,
        ProfileOp::Create {
            name: name.into(),
            spec,
        },
    )
    .await?;
    println!("created profile {name} for {}", info.jid);
    Ok(())
}

/// `profile activate`.
pub(crate) async fn activate(config: &Config, jid: &str, name: &str) -> anyhow::Result<()> {
    let info = send(config, jid, ProfileOp::Activate { name: name.into() }).await?;
    print_active(&info);
    Ok(())
}

/// `profile deactivate`.
pub(crate) async fn deactivate(config: &Config, jid: &str) -> anyhow::Result<()> {
    let info = send(config, jid, ProfileOp::Deactivate).await?;
    print_active(&info);
    Ok(())
}

/// `profile delete`.
pub(crate) async fn delete(config: &Config, jid: &str, name: &str) -> anyhow::Result<()> {
    let info = send(config, jid, ProfileOp::Delete { name: name.into() }).await?;
    println!("deleted profile {name} of {}", info.jid);
    Ok(())
}
