//! Lampfield tests
