//! `lampfield identity`: what another organization's admin pastes into their
//! configuration to federate with this one.

use anyhow::Context;
use lampfield_node::Config;
use lampfield_node::federation::identity::{self, Identity};

/// Print the `[[federation.organizations]]` section describing this node, creating the
/// keys if this is the first time.
pub(crate) fn print(config: &Config) -> anyhow::Result<()> {
    lampfield_node::create_data_dir(&config.data_dir)
        .with_context(|| format!("data folder {}", config.data_dir.display()))?;
    let id = Identity::load_or_create(config).context("federation keys")?;
    let (org, peer) = identity::paths(config);
    let peer_id = id.peer_id();
    let addresses: Vec<String> = config
        .federation
        .listen
        .iter()
        .map(|a| format!("\"{a}/p2p/{peer_id}\""))
        .collect();
    println!(
        "# {} (organization key {}, peer key {})",
        config.domain,
        org.display(),
        peer.display()
    );
    println!("# Paste into the other organization's configuration; replace 127.0.0.1 or");
    println!("# 0.0.0.0 by an address the other node can reach.");
    println!("[[federation.organizations]]");
    println!("domain = \"{}\"", config.domain);
    println!("public_key = \"{}\"", id.public_key_base64());
    println!("addresses = [{}]", addresses.join(", "));
    Ok(())
}
