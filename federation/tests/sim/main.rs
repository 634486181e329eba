//! Federation scenarios on the in-process simulation harness (loopback TCP): three
//! organizations, convergence of 20 nodes, partition and heal, crash and restart, bad
//! actors, and size limits. Every wait is bounded.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod bad_actors;
mod limits;
mod scenarios;
mod support;
