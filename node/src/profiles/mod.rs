//! Presence profiles, action chains and triggers (pure).
