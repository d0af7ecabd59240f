//! The little YAML the renderers write by hand (no YAML library): every string value goes
//! through [`q`], so no spec value can change a document's structure.

/// A double-quoted YAML scalar. JSON string syntax is a subset of YAML's double-quoted style,
/// so serde_json's escaping is exactly right (quotes, backslashes, control characters).
pub fn q(s: &str) -> String {
    serde_json::Value::String(s.to_string()).to_string()
}

/// A flow sequence of quoted strings: `["a", "b"]`.
pub fn list<S: AsRef<str>>(items: &[S]) -> String {
    let quoted: Vec<String> = items.iter().map(|s| q(s.as_ref())).collect();
    format!("[{}]", quoted.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting_neutralises_structure() {
        assert_eq!(q("plain"), "\"plain\"");
        assert_eq!(q("a\"b\\c\nd: e"), "\"a\\\"b\\\\c\\nd: e\"");
        assert_eq!(list(&["x", "y"]), "[\"x\", \"y\"]");
        assert_eq!(list::<&str>(&[]), "[]");
    }
}
