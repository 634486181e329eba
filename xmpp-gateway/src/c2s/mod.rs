//! Client-to-server connections (RFC 6120, RFC 6121): the listener and one task per
//! connection that negotiates (STARTTLS, SASL, binding) and then runs the bound session.

mod auth;
mod bind;
mod config;
mod conn;
mod listener;
mod negotiate;
mod session;
mod sm;

pub use config::C2sConfig;
pub(crate) use listener::{Ctx, connection};
pub use listener::{serve_c2s, serve_c2s_direct_tls};
pub(crate) use negotiate::Transport;
