//! Lampfield federation
