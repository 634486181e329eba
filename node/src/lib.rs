//! Lampfield node
