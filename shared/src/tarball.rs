//! Streaming checks of `docker save` tarballs (filled in by the tarball work).
