//! No code. Each Lambda crate depends on this crate so that building one function alone resolves
//! its dependencies' features exactly as building all of them together does (see Cargo.toml):
//! `sam build` builds one function at a time, and without it every function recompiled serde,
//! hyper and the AWS SDK with its own feature set.
