//! The Lampfield domain: what presence means, who may see what of it, and how profiles and
//! calendars change it.
//!
//! Everything here is pure: functions take a clock and inputs and return decisions. Nothing does
//! I/O, spawns a task, or names a runtime, database or protocol crate (node/tests/layering.rs
//! checks the dependencies), so every rule is unit-testable with simulated time.
//!
//! - [`presence`]: states, sources, and their aggregation into one effective presence
//!   (docs/PRESENCE.md).
//! - [`access`]: access levels and rules, and the one function that turns a presence into the
//!   view a viewer may see (docs/ACCESS.md).
//! - [`record`]: one user's durable presence inputs and the changes made to them.
//! - [`profiles`]: presence profiles, action chains and triggers.
//! - [`calendar`]: appointments, overlap resolution, iCalendar import.
//! - [`users`]: which JIDs may name a local account.

pub mod access;
pub mod calendar;
pub mod presence;
pub mod profiles;
pub mod record;
pub mod users;
