//! One generated file of the monitor stack: what the renderers produce and the user data
//! packs (a module of its own so both can name it without importing each other).

/// One generated file, its path relative to the monitor root ([`super::MONITOR_ROOT`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderedFile {
    pub path: String,
    pub contents: String,
    /// Unix permission bits.
    pub mode: u32,
}

impl RenderedFile {
    pub(crate) fn new(path: &str, contents: String, mode: u32) -> Self {
        RenderedFile { path: path.to_string(), contents, mode }
    }
}
