//! The binary's command-line subcommands (`lampfield run`, `user`, `token`, ...): the edge where
//! errors become messages for the operator.

pub(crate) mod calendar;
pub(crate) mod identity;
pub(crate) mod profile;
pub(crate) mod rule;
pub(crate) mod run;
pub(crate) mod token;
pub(crate) mod user;

use std::io::IsTerminal;
use std::path::Path;

use anyhow::Context;
use lampfield_node::Config;
use tracing_subscriber::EnvFilter;

/// Human-readable logs on stderr, filtered by `RUST_LOG` (default: `default_level`).
pub(crate) fn init_logging(default_level: &str) {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_level));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
}

/// The configuration file, or the built-in default when none is given.
pub(crate) fn load_config(path: Option<&Path>) -> anyhow::Result<Config> {
    match path {
        Some(path) => {
            Config::from_file(path).with_context(|| format!("configuration {}", path.display()))
        }
        None => Config::builtin().context("built-in configuration"),
    }
}
