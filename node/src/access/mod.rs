//! Access levels and rules: the view of a presence that a viewer may see (pure).
