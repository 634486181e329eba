//! `lampfield user add|edit|list|remove`: through the running node's admin socket when a
//! node runs, directly on the database otherwise.

use std::io::BufRead;
use std::time::Duration;

use anyhow::{Context, bail};
use lampfield_node::admin::client::{self, ClientError};
use lampfield_node::admin::protocol::{DirectoryFields, Request, Response, UserListing};
use lampfield_node::admin::{self, Service};
use lampfield_node::store::{Store, StoreError};
use lampfield_node::{Config, DB_DIR};

/// `lampfield user --help`.
pub(crate) const HELP: &str = "\
Manage accounts; works whether or not the node is running.

A running node holds its database (sled allows one process per database), so these
commands first try the node's admin socket, <data_dir>/admin.sock (mode 0600; only
the data folder's owner and root are served). When no node answers there, they open
the database directly. Use the same --config as the node, so that both find the same
data folder and domain.

Passwords are never stored: the node keeps salted SCRAM-SHA-1 and SCRAM-SHA-256
keys. Prefer --password-stdin, e.g. `printf %s \"$PW\" | lampfield user add
alice@example.org --password-stdin`.

--name, --department, --extension and --email (on add and edit) set what the organization
directory shows colleagues (docs/DIRECTORY.md); an empty value clears a field on edit.";

/// Times to retry while a starting node holds the database but has no socket yet.
const LOCKED_RETRIES: u32 = 10;

/// The first line of standard input, without its line ending.
pub(crate) fn read_password_stdin() -> anyhow::Result<String> {
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .context("reading the password from standard input")?;
    let password = line.strip_suffix('\n').unwrap_or(&line);
    let password = password.strip_suffix('\r').unwrap_or(password);
    Ok(password.to_owned())
}

/// `user add`.
pub(crate) async fn add(
    config: &Config,
    jid: &str,
    password: String,
    details: DirectoryFields,
) -> anyhow::Result<()> {
    let request = Request::AddUser {
        jid: jid.to_owned(),
        password,
        details,
    };
    match execute(config, request).await? {
        Response::Added { jid } => println!("added {jid}"),
        other => unexpected(other)?,
    }
    Ok(())
}

/// `user edit`.
pub(crate) async fn edit(
    config: &Config,
    jid: &str,
    details: DirectoryFields,
) -> anyhow::Result<()> {
    let request = Request::EditUser {
        jid: jid.to_owned(),
        details,
    };
    match execute(config, request).await? {
        Response::Edited { user } => println!("{}", listing_line(&user)),
        other => unexpected(other)?,
    }
    Ok(())
}

/// `user list`: one account a line, its JID, then (when it has any directory field) its name,
/// department, extensions and e-mail, separated by tabs (`-` for none).
pub(crate) async fn list(config: &Config) -> anyhow::Result<()> {
    match execute(config, Request::ListUsers).await? {
        Response::Users { users } => users.iter().for_each(|u| println!("{}", listing_line(u))),
        other => unexpected(other)?,
    }
    Ok(())
}

fn listing_line(user: &UserListing) -> String {
    let d = &user.details;
    // An account without directory fields is listed as before they existed: its JID alone.
    if *d == DirectoryFields::default() {
        return user.jid.clone();
    }
    let field = |f: &Option<String>| f.clone().unwrap_or_else(|| "-".to_owned());
    format!(
        "{}\t{}\t{}\t{}\t{}",
        user.jid,
        field(&d.name),
        field(&d.department),
        field(&d.extension),
        field(&d.email)
    )
}

/// `user remove`.
pub(crate) async fn remove(config: &Config, jid: &str) -> anyhow::Result<()> {
    let request = Request::RemoveUser {
        jid: jid.to_owned(),
    };
    match execute(config, request).await? {
        Response::Removed { jid, existed: true } => println!("removed {jid}"),
        Response::Removed {
            jid,
            existed: false,
        } => bail!("no account {jid}"),
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

/// Send `request` to the running node, or apply it to the database directly.
pub(crate) async fn execute(config: &Config, request: Request) -> anyhow::Result<Response> {
    let socket = config.data_dir.join(admin::SOCKET_FILE);
    let db = config.data_dir.join(DB_DIR);
    lampfield_node::create_data_dir(&config.data_dir)?;
    for _ in 0..LOCKED_RETRIES {
        match client::send(&socket, &request).await {
            Ok(response) => return Ok(response),
            Err(ClientError::NotRunning) => {}
            Err(e) => return Err(e).context("talking to the running node"),
        }
        match Store::open(&db).await {
            Ok(store) => {
                let service = Service::new(config.domain.clone(), store).with_policy(config.access);
                return Ok(service.apply(request).await);
            }
            // A node is starting: its socket appears right after it opens the database.
            Err(StoreError::Locked { .. }) => {
                tokio::time::sleep(Duration::from_millis(300)).await;
            }
            Err(e) => {
                return Err(e).with_context(|| format!("opening the database {}", db.display()));
            }
        }
    }
    bail!(
        "the database {} is held by another process, but no node answers on {}",
        db.display(),
        socket.display()
    )
}
