//! Kayenta-compatible canary judge (filled in by the judge work).
