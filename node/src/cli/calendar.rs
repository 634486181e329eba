//! `lampfield calendar import USER FILE.ics`: replace a user's appointments with an iCalendar
//! file's, through the running node (docs/PROFILES.md).

use std::path::Path;

use anyhow::{Context, bail};
use lampfield_node::Config;
use lampfield_node::admin::protocol::ProfileOp;

/// `lampfield calendar --help`.
pub(crate) const HELP: &str = "\
Import a user's calendar from an iCalendar (.ics) file (docs/PROFILES.md).

The running node reads the file (give a path it can read; at most 1 MiB) and keeps the
appointments from now to [profiles] import_days ahead, recurring events expanded.
An appointment whose category is \"@<profile name>\" activates that profile while it
runs (when the user's event mode is full_profile). The import replaces the user's
appointments; it fails when no node runs.";

/// `calendar import`.
pub(crate) async fn import(config: &Config, jid: &str, file: &Path) -> anyhow::Result<()> {
    let path = std::fs::canonicalize(file).with_context(|| format!("{}", file.display()))?;
    let Some(path) = path.to_str() else {
        bail!("{}: the path is not UTF-8", path.display());
    };
    let info = super::profile::send(
        config,
        jid,
        ProfileOp::ImportCalendar {
            path: path.to_owned(),
        },
    )
    .await?;
    match info.imported {
        Some(s) => println!(
            "imported {} appointments for {} ({} events skipped{})",
            s.imported,
            info.jid,
            s.skipped,
            if s.truncated {
                ", cut at the limit"
            } else {
                ""
            }
        ),
        None => println!("imported for {}", info.jid),
    }
    Ok(())
}
