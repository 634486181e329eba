//! Many federation services in one process (placeholder until the harness lands).
