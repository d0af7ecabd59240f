//! Per-canary monitoring stack files (filled in by the monitoring work).
