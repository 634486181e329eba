//! `lampfield`: run a Lampfield node, manage its accounts.

mod cli;

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
    #[command(long_about = cli::user::HELP)]
    User {
        #[command(subcommand)]
        action: UserAction,
    },
    /// Manage integration API tokens; works whether or not the node is running.
    #[command(long_about = cli::token::HELP)]
    Token {
        #[command(subcommand)]
        action: TokenAction,
    },
    /// Manage a user's presence profiles; needs the running node.
    #[command(long_about = cli::profile::HELP)]
    Profile {
        #[command(subcommand)]
        action: ProfileAction,
    },
    /// Import a user's calendar; needs the running node.
    #[command(long_about = cli::calendar::HELP)]
    Calendar {
        #[command(subcommand)]
        action: CalendarAction,
    },
    /// Manage who sees what of a user's presence; works whether or not the node is running.
    #[command(long_about = cli::rule::HELP)]
    Rule {
        #[command(subcommand)]
        action: RuleAction,
    },
}

#[derive(Debug, Subcommand)]
enum ProfileAction {
    /// The user's profiles, one per line; `*` marks the active one.
    List {
        /// The user, `user@domain`.
        jid: String,
    },
    /// One profile's settings as JSON.
    Show {
        /// The user, `user@domain`.
        jid: String,
        /// The profile's name.
        name: String,
    },
    /// Create a profile (its name cannot be changed later).
    Create {
        /// The user, `user@domain`.
        jid: String,
        /// The profile's name, shown to colleagues as the status text.
        name: String,
        /// All settings as JSON (docs/PROFILES.md); the options below apply on top.
        #[arg(long)]
        spec: Option<String>,
        /// available, busy, do_not_disturb or away.
        #[arg(long)]
        availability: Option<String>,
        /// Info text shown to colleagues.
        #[arg(long)]
        note: Option<String>,
        /// No trigger may replace it, only a manual switch.
        #[arg(long)]
        sticky: bool,
    },
    /// Switch to a profile by hand.
    Activate {
        /// The user, `user@domain`.
        jid: String,
        /// The profile's name.
        name: String,
    },
    /// Leave the hand-set profile.
    Deactivate {
        /// The user, `user@domain`.
        jid: String,
    },
    /// Delete a profile (not while it is active; never a system profile).
    Delete {
        /// The user, `user@domain`.
        jid: String,
        /// The profile's name.
        name: String,
    },
}

#[derive(Debug, Subcommand)]
enum CalendarAction {
    /// Replace the user's appointments with those of an .ics file.
    Import {
        /// The user, `user@domain`.
        jid: String,
        /// The iCalendar file.
        file: PathBuf,
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
        level: lampfield_domain::access::Level,
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
    Add(AddToken),
    /// List stored tokens, one per line: name, level, users, actions, rate (tab-separated).
    List,
    /// Revoke a token.
    Remove {
        /// The token's name.
        name: String,
    },
}

#[derive(Debug, Args)]
struct AddToken {
    /// A name for the integration: letters, digits, '.', '_', '-'.
    name: String,
    /// The most the token may read: blocked, public, business, team or personal.
    #[arg(long, default_value = "team")]
    level: lampfield_domain::access::Level,
    /// An account the token may act for (repeatable). With no --user and no --domain, the
    /// token acts for every user.
    #[arg(long = "user", value_name = "JID")]
    users: Vec<String>,
    /// A domain whose every account the token may act for (repeatable; the node's domain).
    #[arg(long = "domain", value_name = "DOMAIN")]
    domains: Vec<String>,
    /// What the token may do, comma-separated: read (presence, change stream), sources (lines,
    /// queues, external, manual incl. appear offline, idle, settings, extensions), rules,
    /// profiles (profiles and calendar). Default: all of them.
    #[arg(long, value_name = "ACTIONS", value_delimiter = ',')]
    can: Option<Vec<lampfield_node::tokens::Action>>,
    /// Requests per second, with bursts of twice that (429 beyond). Default: 20.
    #[arg(long, value_name = "N")]
    rate: Option<u32>,
}

#[derive(Debug, Subcommand)]
enum UserAction {
    /// Create an account.
    Add(AddUser),
    /// Change an account's directory entry or extension (an empty value clears it).
    Edit {
        /// The account, `user@domain` (the configured domain).
        jid: String,
        #[command(flatten)]
        details: DirectoryArgs,
    },
    /// List every account, one a line: its JID, then name, department, extensions and e-mail
    /// (tab-separated, `-` for none) when it has any.
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
    #[command(flatten)]
    details: DirectoryArgs,
}

/// What the organization directory shows of an account (docs/DIRECTORY.md).
#[derive(Debug, Args)]
struct DirectoryArgs {
    /// The display name colleagues see.
    #[arg(long, value_name = "NAME")]
    name: Option<String>,
    /// The department: colleagues see the account in this roster group.
    #[arg(long, value_name = "DEPARTMENT")]
    department: Option<String>,
    /// The PBX extension (replaces the account's earlier ones).
    #[arg(long, value_name = "EXT")]
    extension: Option<String>,
    /// An e-mail address.
    #[arg(long, value_name = "ADDRESS")]
    email: Option<String>,
}

impl From<DirectoryArgs> for lampfield_node::admin::protocol::DirectoryFields {
    fn from(a: DirectoryArgs) -> Self {
        Self {
            name: a.name,
            department: a.department,
            extension: a.extension,
            email: a.email,
        }
    }
}

fn main() -> ExitCode {
    let args = Cli::parse();
    let default_level = match args.command {
        Command::Run => "info",
        Command::Identity => "warn",
        Command::User { .. } | Command::Token { .. } | Command::Rule { .. } => "warn",
        Command::Profile { .. } | Command::Calendar { .. } => "warn",
    };
    cli::init_logging(default_level);
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
        let config = cli::load_config(args.config.as_deref())?;
        match args.command {
            Command::Run => cli::run::run(config).await,
            Command::Identity => cli::identity::print(&config),
            Command::User { action } => match action {
                UserAction::Add(add) => {
                    let password = match add.password {
                        Some(p) => p,
                        None => cli::user::read_password_stdin()?,
                    };
                    cli::user::add(&config, &add.jid, password, add.details.into()).await
                }
                UserAction::Edit { jid, details } => {
                    cli::user::edit(&config, &jid, details.into()).await
                }
                UserAction::List => cli::user::list(&config).await,
                UserAction::Remove { jid } => cli::user::remove(&config, &jid).await,
            },
            Command::Token { action } => match action {
                TokenAction::Add(add) => {
                    let scope = lampfield_node::tokens::TokenScope::new(
                        &add.users,
                        &add.domains,
                        add.can.as_deref(),
                        &config.domain,
                    )
                    .map_err(anyhow::Error::msg)?;
                    cli::token::add(&config, &add.name, add.level, scope, add.rate).await
                }
                TokenAction::List => cli::token::list(&config).await,
                TokenAction::Remove { name } => cli::token::remove(&config, &name).await,
            },
            Command::Profile { action } => match action {
                ProfileAction::List { jid } => cli::profile::list(&config, &jid).await,
                ProfileAction::Show { jid, name } => cli::profile::show(&config, &jid, &name).await,
                ProfileAction::Create {
                    jid,
                    name,
                    spec,
                    availability,
                    note,
                    sticky,
                } => {
                    let args = cli::profile::CreateArgs {
                        spec,
                        availability,
                        note,
                        sticky,
                    };
                    cli::profile::create(&config, &jid, &name, args).await
                }
                ProfileAction::Activate { jid, name } => {
                    cli::profile::activate(&config, &jid, &name).await
                }
                ProfileAction::Deactivate { jid } => cli::profile::deactivate(&config, &jid).await,
                ProfileAction::Delete { jid, name } => {
                    cli::profile::delete(&config, &jid, &name).await
                }
            },
            Command::Calendar { action } => match action {
                CalendarAction::Import { jid, file } => {
                    cli::calendar::import(&config, &jid, &file).await
                }
            },
            Command::Rule { action } => match action {
                RuleAction::List { jid } => cli::rule::list(&config, &jid).await,
                RuleAction::Set {
                    jid,
                    selector,
                    level,
                } => cli::rule::set(&config, &jid, &selector, Some(level)).await,
                RuleAction::Remove { jid, selector } => {
                    cli::rule::set(&config, &jid, &selector, None).await
                }
                RuleAction::Explain { jid, viewer } => {
                    cli::rule::explain(&config, &jid, &viewer).await
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
