//! `lampfield`: run a Lampfield node, manage its accounts.

mod commands;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

/// A federated presence node that standard XMPP clients log in to.
#[derive(Debug, Parser)]
#[command(name = "lampfield", version)]
struct Cli {
    /// TOML configuration file; without it the built-in defaults apply
    /// (domain localhost, data in ./lampfield-data, clients on 127.0.0.1:5222).
    #[arg(
        long,
        short,
        global = true,
        value_name = "FILE",
        env = "LAMPFIELD_CONFIG"
    )]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the node until SIGINT or SIGTERM.
    Run,
    /// Print this organization's federation identity (domain, public key, peer
    /// addresses) as a section for another organization's configuration; creates the
    /// keys on first use.
    Identity,
    /// Manage accounts; works whether or not the node is running.
    #[command(long_about = commands::user::HELP)]
    User {
        #[command(subcommand)]
        action: UserAction,
    },
    /// Manage integration API tokens; works whether or not the node is running.
    #[command(long_about = commands::token::HELP)]
    Token {
        #[command(subcommand)]
        action: TokenAction,
    },
    /// Manage who sees what of a user's presence; works whether or not the node is running.
    #[command(long_about = commands::rule::HELP)]
    Rule {
        #[command(subcommand)]
        action: RuleAction,
    },
}

#[derive(Debug, Subcommand)]
enum RuleAction {
    /// A user's rules and the node's defaults.
    List {
        /// The user, `user@domain`.
        jid: String,
    },
    /// Set one rule: `rule set alice@example.org contact:bob@example.org team`.
    Set {
        /// The user, `user@domain`.
        jid: String,
        /// contact:<jid>, group:<name>, domain:<domain>, federated or default.
        selector: String,
        /// blocked, public, business, team or personal.
        level: lampfield_node::access::Level,
    },
    /// Remove one rule.
    Remove {
        /// The user, `user@domain`.
        jid: String,
        /// contact:<jid>, group:<name>, domain:<domain>, federated or default.
        selector: String,
    },
    /// Which level a viewer gets, and which rule decides it.
    Explain {
        /// The user, `user@domain`.
        jid: String,
        /// The viewer's bare JID.
        viewer: String,
    },
}

#[derive(Debug, Subcommand)]
enum TokenAction {
    /// Make a token and print it once (only its SHA-256 is stored).
    Add {
        /// A name for the integration: letters, digits, '.', '_', '-'.
        name: String,
        /// The most the token may read: blocked, public, business, team or personal.
        #[arg(long, default_value = "team")]
        level: lampfield_node::access::Level,
    },
    /// List stored tokens: name and level, one per line.
    List,
    /// Revoke a token.
    Remove {
        /// The token's name.
        name: String,
    },
}

#[derive(Debug, Subcommand)]
enum UserAction {
    /// Create an account.
    Add(AddUser),
    /// List every account, one JID per line.
    List,
    /// Remove an account and its roster.
    Remove {
        /// The account, `user@domain` (the configured domain).
        jid: String,
    },
}

#[derive(Debug, Args)]
struct AddUser {
    /// The account, `user@domain` (the configured domain).
    jid: String,
    /// The password (visible in the process list; prefer --password-stdin).
    #[arg(
        long,
        required_unless_present = "password_stdin",
        conflicts_with = "password_stdin"
    )]
    password: Option<String>,
    /// Read the password from the first line of standard input.
    #[arg(long)]
    password_stdin: bool,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let default_level = match cli.command {
        Command::Run => "info",
        Command::Identity => "warn",
        Command::User { .. } | Command::Token { .. } | Command::Rule { .. } => "warn",
    };
    commands::init_logging(default_level);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async move {
        let config = commands::load_config(cli.config.as_deref())?;
        match cli.command {
            Command::Run => commands::run::run(config).await,
            Command::Identity => commands::identity::print(&config),
            Command::User { action } => match action {
                UserAction::Add(add) => {
                    let password = match add.password {
                        Some(p) => p,
                        None => commands::user::read_password_stdin()?,
                    };
                    commands::user::add(&config, &add.jid, password).await
                }
                UserAction::List => commands::user::list(&config).await,
                UserAction::Remove { jid } => commands::user::remove(&config, &jid).await,
            },
            Command::Token { action } => match action {
                TokenAction::Add { name, level } => {
                    commands::token::add(&config, &name, level).await
                }
                TokenAction::List => commands::token::list(&config).await,
                TokenAction::Remove { name } => commands::token::remove(&config, &name).await,
            },
            Command::Rule { action } => match action {
                RuleAction::List { jid } => commands::rule::list(&config, &jid).await,
                RuleAction::Set {
                    jid,
                    selector,
                    level,
                } => commands::rule::set(&config, &jid, &selector, Some(level)).await,
                RuleAction::Remove { jid, selector } => {
                    commands::rule::set(&config, &jid, &selector, None).await
                }
                RuleAction::Explain { jid, viewer } => {
                    commands::rule::explain(&config, &jid, &viewer).await
                }
            },
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
