//! Presence: states, sources, and their aggregation into one effective presence (pure).
