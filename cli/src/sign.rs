//! SigV4 signing for the Aviary API: the same signer the web console uses.

pub use aviary_console::sigv4::{is_loopback, region_from_host, SignError, Signer};
