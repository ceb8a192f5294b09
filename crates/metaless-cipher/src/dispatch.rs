//! Runtime CPU-feature dispatch (being written).
