//! Fixture tests (filled in below).
