//! Unit tests of the use cases against the in-memory fakes: the whole lifecycle, a failure at
//! each cloud call, lost races, idempotent retries and teardown after every partial state.

mod admission_tests;
mod guardrail_tests;
mod lifecycle_tests;
mod ownership_tests;
mod secrets_tests;
mod teardown_tests;
mod traffic_tests;
