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
        Command::User { .. } | Command::Token { .. } => "warn",
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
