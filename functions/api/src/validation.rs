//! Checks of everything a client types — JSON bodies, path ids, query parameters,
//! idempotency keys — each failing with a field-level 400, so nothing a user sends can reach
//! the cloud in a shape it would refuse (which would surface as a 502) or crash the handler.
//! Pure: no I/O, no HTTP types beyond the raw text of the request. Cursors are opaque here;
//! the store that issued them checks them (a bad one is its `InvalidInput`).

use std::collections::HashMap;

use aviary_core::spec::FieldError;
use aviary_core::status::Status;
use aviary_core::StepError;
use serde::de::DeserializeOwned;

use crate::error::ApiError;

/// Deployment ids are `<name>-<10 hex digits>`; anything of this shape that is not stored is
/// a 404, anything else a 400.
pub const MAX_ID_LEN: usize = 64;
pub const MAX_IDEMPOTENCY_KEY_LEN: usize = 128;
/// Longer cursors were never issued by a store (DynamoDB keys are at most 2 KiB; hex doubles that).
pub const MAX_CURSOR_LEN: usize = 4096;

/// Parses the JSON body into `T`, reporting the JSON path of the first problem (serde stops
/// at the first one; the spec's own validation then reports all of its problems at once).
/// An empty body counts as none.
pub fn json_body<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    if bytes.is_empty() {
        return Err(ApiError::field("body", "a JSON body is required"));
    }
    // serde would also take a JSON array for a struct (fields by position); the API's
    // bodies are objects.
    match bytes.iter().find(|b| !b.is_ascii_whitespace()) {
        Some(b'{') => {}
        Some(b'[') | Some(b'"') | Some(b'0'..=b'9') | Some(b'-') | Some(b't') | Some(b'f') | Some(b'n') => {
            return Err(ApiError::field("body", "must be a JSON object"));
        }
        _ => {}
    }
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value: T = serde_path_to_error::deserialize(&mut de).map_err(|e| ApiError::Validation(vec![describe(&e)]))?;
    // Trailing bytes after the document (`{} {}`) are a malformed body too.
    de.end().map_err(|e| ApiError::field("body", format!("not valid JSON: {e}")))?;
    // serde reads `null` as "absent" for optional fields; the API documents no nullable
    // field, so an explicit null is refused rather than silently ignored.
    if let Ok(doc) = serde_json::from_slice::<serde_json::Value>(bytes) {
        if let Some(path) = first_null(&doc, String::new()) {
            return Err(ApiError::field(path, "must not be null (leave the field out instead)"));
        }
    }
    Ok(value)
}

/// The JSON path of the first `null` in the document, if any.
fn first_null(v: &serde_json::Value, path: String) -> Option<String> {
    match v {
        serde_json::Value::Null => Some(if path.is_empty() { "body".into() } else { path }),
        serde_json::Value::Array(items) => items.iter().enumerate().find_map(|(i, x)| first_null(x, format!("{path}[{i}]"))),
        serde_json::Value::Object(map) => map.iter().find_map(|(k, x)| first_null(x, if path.is_empty() { k.clone() } else { format!("{path}.{k}") })),
        _ => None,
    }
}

fn describe(e: &serde_path_to_error::Error<serde_json::Error>) -> FieldError {
    let inner = e.inner();
    if inner.is_syntax() || inner.is_eof() || inner.is_io() {
        return FieldError::new("body", format!("not valid JSON: {inner}"));
    }
    let path = e.path().to_string();
    let mut field = if path == "." { String::new() } else { path };
    let message = plain_message(&inner.to_string());
    // serde reports a missing key at its parent (an unknown one at the key); name the key.
    if let Some(key) = message.strip_prefix("missing field `").and_then(|r| r.split('`').next()) {
        field = if field.is_empty() { key.to_string() } else { format!("{field}.{key}") };
    }
    if field.is_empty() {
        field = "body".into();
    }
    FieldError::new(field, message)
}

/// serde's messages name Rust types (`expected struct DeploymentSpec`) and positions in the
/// text; clients need neither.
fn plain_message(m: &str) -> String {
    let m = match m.rfind(" at line ") {
        Some(i) => &m[..i],
        None => m,
    };
    let mut out = String::with_capacity(m.len());
    let mut rest = m;
    while let Some(i) = rest.find("expected struct ") {
        out.push_str(&rest[..i]);
        out.push_str("expected a JSON object");
        let after = &rest[i + "expected struct ".len()..];
        let end = after.find(|c: char| !c.is_ascii_alphanumeric() && c != '_').unwrap_or(after.len());
        rest = &after[end..];
    }
    out.push_str(rest);
    out
}

/// A deployment id from the path.
pub fn deployment_id(id: &str) -> Result<(), ApiError> {
    let ok = !id.is_empty()
        && id.len() <= MAX_ID_LEN
        && id.starts_with(|c: char| c.is_ascii_lowercase())
        && id.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if ok {
        Ok(())
    } else {
        Err(ApiError::field("id", format!("'{}' is not a deployment id (lowercase letters, digits and '-', at most {MAX_ID_LEN})", shorten(id))))
    }
}

/// An idempotency key: 1-128 visible ASCII characters.
pub fn idempotency_key(field: &str, key: &str) -> Result<(), ApiError> {
    if key.is_empty() || key.len() > MAX_IDEMPOTENCY_KEY_LEN || !key.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(ApiError::field(field, format!("must be 1-{MAX_IDEMPOTENCY_KEY_LEN} visible ASCII characters")));
    }
    Ok(())
}

/// Long user input is cut before it is echoed in a message.
pub fn shorten(s: &str) -> String {
    if s.chars().count() <= 80 {
        s.to_string()
    } else {
        format!("{}...", s.chars().take(80).collect::<String>())
    }
}

/// The query parameters of one route: only the named ones, each at most once.
pub struct Query<'a> {
    values: HashMap<&'a str, &'a str>,
}

impl<'a> Query<'a> {
    /// `pairs` as [`parse_query`] returns them.
    pub fn parse(pairs: &'a [(String, String)], allowed: &[&str]) -> Result<Query<'a>, ApiError> {
        let mut values = HashMap::new();
        let mut errors = Vec::new();
        for (k, v) in pairs {
            if !allowed.contains(&k.as_str()) {
                let known = if allowed.is_empty() { "this route takes no query parameters".to_string() } else { format!("allowed: {}", allowed.join(", ")) };
                errors.push(FieldError::new(shorten(k), format!("unknown query parameter; {known}")));
            } else if values.insert(k.as_str(), v.as_str()).is_some() {
                errors.push(FieldError::new(k.clone(), "given more than once"));
            }
        }
        if errors.is_empty() {
            Ok(Query { values })
        } else {
            Err(ApiError::Validation(errors))
        }
    }

    pub fn get(&self, key: &str) -> Option<&'a str> {
        self.values.get(key).copied()
    }

    /// `limit`: an integer in `1..=max`, `default` when absent.
    pub fn limit(&self, default: i32, max: i32) -> Result<i32, ApiError> {
        match self.get("limit") {
            None => Ok(default),
            Some(s) => match s.parse::<i32>() {
                Ok(n) if (1..=max).contains(&n) => Ok(n),
                _ => Err(ApiError::field("limit", format!("must be an integer from 1 to {max}, got '{}'", shorten(s)))),
            },
        }
    }

    /// `status`: one of the deployment statuses.
    pub fn status(&self) -> Result<Option<Status>, ApiError> {
        match self.get("status") {
            None => Ok(None),
            Some(s) => Status::parse(s).map(Some).ok_or_else(|| {
                let all: Vec<&str> = Status::ALL.iter().map(|s| s.as_str()).collect();
                ApiError::field("status", format!("'{}' is not a status; one of {}", shorten(s), all.join(", ")))
            }),
        }
    }
}

/// The answer to a cursor the store did not issue (or issued for another listing).
pub fn bad_cursor() -> ApiError {
    ApiError::field("cursor", "not a cursor this listing returned (pass `next` from the previous page unchanged)")
}

/// `cursor`: opaque, checked by the store; only its size is checked here.
pub fn cursor<'a>(q: &Query<'a>) -> Result<Option<&'a str>, ApiError> {
    match q.get("cursor") {
        Some(c) if c.is_empty() || c.len() > MAX_CURSOR_LEN => Err(bad_cursor()),
        other => Ok(other),
    }
}

/// A store's `InvalidInput` from a listing called with a cursor is the cursor's fault (the
/// stores refuse cursors they did not issue for that listing that way).
pub fn cursor_fault(had_cursor: bool) -> impl Fn(StepError) -> ApiError {
    move |e| match e {
        StepError::InvalidInput(_) if had_cursor => bad_cursor(),
        other => ApiError::Step(other),
    }
}

/// Splits `a=1&b=x%20y` into decoded pairs (`+` is a space, as in forms and API Gateway).
pub fn parse_query(raw: &str) -> Vec<(String, String)> {
    raw.split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (decode_component(k), decode_component(v))
        })
        .collect()
}

fn decode_component(s: &str) -> String {
    let spaced = s.replace('+', " ");
    match urlencoding::decode(&spaced) {
        Ok(c) => c.into_owned(),
        // Invalid UTF-8 after decoding: keep the text as sent, validation rejects it later.
        Err(_) => spaced,
    }
}

/// Percent-decodes one path segment (`%2F` stays inside the segment).
pub fn decode_segment(s: &str) -> String {
    match urlencoding::decode(s) {
        Ok(c) => c.into_owned(),
        Err(_) => s.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aviary_core::spec::DeploymentSpec;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Wrapper {
        spec: DeploymentSpec,
    }

    fn first_error(body: &str) -> FieldError {
        match json_body::<Wrapper>(body.as_bytes()) {
            Err(ApiError::Validation(f)) => f[0].clone(),
            other => panic!("{other:?}"),
        }
    }

    const OK: &str = r#""name":"web","listenerArn":"arn:aws:elasticloadbalancing:us-east-1:1:listener/app/a/b/c","trafficPercent":5,"appPort":8080"#;

    #[test]
    fn malformed_json_is_a_body_error() {
        for b in ["{", "{\"spec\": }", "nope", ""] {
            let e = first_error(b);
            assert_eq!(e.field, "body", "{b}: {e:?}");
        }
    }

    #[test]
    fn trailing_bytes_after_the_document_are_a_body_error() {
        match json_body::<serde_json::Value>(b"{} {}") {
            Err(ApiError::Validation(f)) => assert_eq!(f[0].field, "body"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn type_errors_name_the_json_path() {
        let e = first_error(&format!(r#"{{"spec":{{{OK},"conditions":{{"httpMethods":[1]}}}}}}"#));
        assert_eq!(e.field, "spec.conditions.httpMethods[0]");
        assert!(e.message.contains("expected a string"), "{e:?}");
        let e = first_error(&format!(r#"{{"spec":{{{OK},"appPort":70000}}}}"#).replace(r#""appPort":8080,"#, ""));
        assert_eq!(e.field, "spec.appPort", "{e:?}");
    }

    #[test]
    fn unknown_fields_name_the_key() {
        let e = first_error(&format!(r#"{{"spec":{{{OK},"weight":3}}}}"#));
        assert_eq!(e.field, "spec.weight", "{e:?}");
        assert!(e.message.starts_with("unknown field `weight`"), "{e:?}");
        let e = first_error(r#"{"speck":{}}"#);
        assert_eq!(e.field, "speck", "{e:?}");
        let e = first_error(r#"{}"#);
        assert_eq!((e.field.as_str(), e.message.as_str()), ("spec", "missing field `spec`"));
    }

    #[test]
    fn explicit_nulls_are_refused_with_their_path() {
        let e = first_error(&format!(r#"{{"spec":{{{OK},"stickiness":null}}}}"#));
        assert_eq!(e.field, "spec.stickiness", "{e:?}");
        let e = first_error(&format!(r#"{{"spec":{{{OK},"subnetIds":["subnet-12345678", null]}}}}"#));
        assert_eq!(e.field, "spec.subnetIds[1]", "{e:?}");
        let e = first_error(&format!(r#"{{"spec":{{{OK}}},"idempotencyKey":null}}"#));
        assert_eq!(e.field, "idempotencyKey", "{e:?}");
    }

    #[test]
    fn rust_type_names_do_not_leak() {
        let e = first_error("[]");
        assert_eq!((e.field.as_str(), e.message.as_str()), ("body", "must be a JSON object"));
        let e = first_error(r#"{"spec": 3}"#);
        assert!(!e.message.contains("DeploymentSpec"), "{e:?}");
    }

    #[test]
    fn ids_and_keys() {
        assert!(deployment_id("web-0123456789").is_ok());
        for bad in ["", "Web-1", "a/b", "a b", "-a", &"a".repeat(65), "1abc", "ä"] {
            assert!(deployment_id(bad).is_err(), "{bad}");
        }
        assert!(idempotency_key("k", "abc-123_XYZ:1").is_ok());
        for bad in ["", "with space", &"k".repeat(129), "tab\t", "é"] {
            assert!(idempotency_key("k", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn query_parameters_are_strict() {
        let mut r: Vec<(String, String)> = vec![("limit".into(), "5".into()), ("status".into(), "ACTIVE".into())];
        let q = Query::parse(&r, &["limit", "status", "cursor"]).unwrap();
        assert_eq!(q.limit(20, 100).unwrap(), 5);
        assert_eq!(q.status().unwrap(), Some(Status::Active));
        for (k, v) in [("limit", "0"), ("limit", "101"), ("limit", "x"), ("limit", "1.5"), ("status", "active"), ("status", "")] {
            r = vec![(k.into(), v.into())];
            let q = Query::parse(&r, &["limit", "status"]).unwrap();
            let res = if k == "limit" { q.limit(20, 100).map(|_| ()) } else { q.status().map(|_| ()) };
            assert!(matches!(res, Err(ApiError::Validation(ref f)) if f[0].field == k), "{k}={v}");
        }
        r = vec![("limit".into(), "1".into()), ("limit".into(), "2".into()), ("sort".into(), "x".into())];
        match Query::parse(&r, &["limit"]) {
            Err(ApiError::Validation(f)) => assert_eq!(f.iter().map(|f| f.field.as_str()).collect::<Vec<_>>(), vec!["limit", "sort"]),
            _ => panic!(),
        }
    }

    #[test]
    fn cursors_are_opaque_but_bounded() {
        let pairs = |c: &str| vec![("cursor".to_string(), c.to_string())];
        for (c, ok) in [("7b7d", true), ("12", true), ("", false)] {
            let p = pairs(c);
            assert_eq!(cursor(&Query::parse(&p, &["cursor"]).unwrap()).is_ok(), ok, "{c}");
        }
        let long = pairs(&"a".repeat(MAX_CURSOR_LEN + 1));
        assert!(cursor(&Query::parse(&long, &["cursor"]).unwrap()).is_err());
        assert_eq!(cursor(&Query::parse(&[], &["cursor"]).unwrap()).unwrap(), None);
    }

    #[test]
    fn query_strings_are_decoded_in_order() {
        assert_eq!(
            parse_query("status=ACTIVE&cursor=a%2Bb&x=1+2&flag&&empty="),
            vec![
                ("status".into(), "ACTIVE".into()),
                ("cursor".into(), "a+b".into()),
                ("x".into(), "1 2".into()),
                ("flag".into(), "".into()),
                ("empty".into(), "".into()),
            ]
        );
        assert_eq!(decode_segment("a%2Fb"), "a/b");
        assert_eq!(decode_segment("%FF"), "%FF");
    }
}
