//! Paths and reference paths: the JSONPath subset the workflows use.
//!
//! Supported: `$` (the state's input), `$$` (the context object), `.name`, `['name']` /
//! `["name"]` and `[index]`. Everything else JSONPath offers (wildcards, recursive descent,
//! filters, slices, unions, functions) is rejected when the definition is loaded: those return
//! lists of values, whose exact shape under Step Functions we would only be guessing at.

use serde_json::{Map, Value};

/// Where a path starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Root {
    /// `$`: the data the state is working on.
    Input,
    /// `$$`: the context object (`$$.Execution.Name`, ...).
    Context,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Segment {
    Field(String),
    Index(usize),
}

/// A parsed path. Every supported path selects at most one value, so it is also a valid
/// reference path when its root is `$`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Path {
    pub root: Root,
    pub segments: Vec<Segment>,
    pub text: String,
}

/// Why a path string was refused: a syntax error, or valid JSONPath this executor does not do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum PathError {
    Syntax(String),
    Unsupported(String),
}

impl PathError {
    /// Turns this into a load-time error about `field` of `state`.
    pub(crate) fn at(self, state: &str, field: &str, path: &str) -> crate::AslError {
        match self {
            PathError::Syntax(why) => crate::AslError::invalid(
                state,
                format!("{field}: `{path}` is not a valid path: {why}"),
            ),
            PathError::Unsupported(what) => {
                crate::AslError::unsupported(state, format!("{field} `{path}` ({what})"))
            }
        }
    }
}

/// Characters that end a dot-notation name, or that belong to JSONPath features we refuse.
fn is_name_char(c: char) -> bool {
    !matches!(
        c,
        '.' | '[' | ']' | '*' | '?' | '@' | '(' | ')' | '\'' | '"' | ',' | '$'
    ) && !c.is_whitespace()
}

impl Path {
    /// Parses `text`; `$$` paths are allowed only where `allow_context` says so.
    pub(crate) fn parse(text: &str, allow_context: bool) -> Result<Path, PathError> {
        let mut chars = text.char_indices().peekable();
        if chars.next().map(|(_, c)| c) != Some('$') {
            return Err(PathError::Syntax("a path must start with `$`".into()));
        }
        let root = if text[1..].starts_with('$') {
            chars.next();
            if !allow_context {
                return Err(PathError::Unsupported(
                    "`$$` context paths are not allowed here".into(),
                ));
            }
            Root::Context
        } else {
            Root::Input
        };
        let mut segments = Vec::new();
        while let Some((i, c)) = chars.next() {
            match c {
                '.' => {
                    let start = i + 1;
                    let mut end = start;
                    while let Some(&(j, c)) = chars.peek() {
                        if !is_name_char(c) {
                            break;
                        }
                        end = j + c.len_utf8();
                        chars.next();
                    }
                    if end == start {
                        return Err(match chars.peek().map(|&(_, c)| c) {
                            Some('.') => PathError::Unsupported("recursive descent `..`".into()),
                            Some('*') => PathError::Unsupported("wildcard `*`".into()),
                            _ => {
                                PathError::Syntax(format!("empty field name after `.` at byte {i}"))
                            }
                        });
                    }
                    segments.push(Segment::Field(text[start..end].to_string()));
                }
                '[' => {
                    let rest = &text[i + 1..];
                    let close = rest
                        .find(']')
                        .ok_or_else(|| PathError::Syntax("`[` without `]`".into()))?;
                    let inner = &rest[..close];
                    let quoted = inner.len() >= 2
                        && ((inner.starts_with('\'') && inner.ends_with('\''))
                            || (inner.starts_with('"') && inner.ends_with('"')));
                    let seg = if quoted {
                        let name = &inner[1..inner.len() - 1];
                        if name.contains(['\\', '\'', '"']) {
                            return Err(PathError::Unsupported(
                                "quotes or escapes inside a bracketed name".into(),
                            ));
                        }
                        Segment::Field(name.to_string())
                    } else if !inner.is_empty() && inner.bytes().all(|b| b.is_ascii_digit()) {
                        Segment::Index(
                            inner.parse().map_err(|_| {
                                PathError::Syntax(format!("index `{inner}` too large"))
                            })?,
                        )
                    } else if inner.contains('*') {
                        return Err(PathError::Unsupported("wildcard `[*]`".into()));
                    } else if inner.starts_with('?') {
                        return Err(PathError::Unsupported("filter expression".into()));
                    } else if inner.contains(':') || inner.starts_with('-') || inner.contains(',') {
                        return Err(PathError::Unsupported(
                            "slice, negative index or union".into(),
                        ));
                    } else {
                        return Err(PathError::Syntax(format!(
                            "`[{inner}]` is neither an index nor a quoted name"
                        )));
                    };
                    segments.push(seg);
                    // Skip the bracket's contents and the `]` itself.
                    let end = i + 1 + close;
                    while let Some(&(j, _)) = chars.peek() {
                        if j > end {
                            break;
                        }
                        chars.next();
                    }
                }
                '*' => return Err(PathError::Unsupported("wildcard `*`".into())),
                _ => return Err(PathError::Syntax(format!("unexpected `{c}` at byte {i}"))),
            }
        }
        Ok(Path {
            root,
            segments,
            text: text.to_string(),
        })
    }

    /// The value this path selects, or `None` when some step of it is absent.
    pub(crate) fn get<'a>(&self, input: &'a Value, context: &'a Value) -> Option<&'a Value> {
        let mut cur = match self.root {
            Root::Input => input,
            Root::Context => context,
        };
        for seg in &self.segments {
            cur = match (seg, cur) {
                (Segment::Field(name), Value::Object(map)) => map.get(name)?,
                (Segment::Index(i), Value::Array(items)) => items.get(*i)?,
                _ => return None,
            };
        }
        Some(cur)
    }

    /// Like [`Path::get`] but a missing value is the `States.Runtime` failure Step Functions reports.
    pub(crate) fn resolve<'a>(
        &self,
        input: &'a Value,
        context: &'a Value,
        field: &str,
    ) -> Result<&'a Value, crate::error::StateFailure> {
        self.get(input, context).ok_or_else(|| {
            let (what, data) = match self.root {
                Root::Input => ("input", input),
                Root::Context => ("context object", context),
            };
            crate::error::StateFailure::runtime(format!(
                "The JSONPath '{}' specified for the field '{field}' could not be found in the {what} '{}'",
                self.text,
                crate::history::truncate_json(data, 512)
            ))
        })
    }

    /// Writes `value` at this (reference) path inside `target`, creating missing objects on the
    /// way, as `ResultPath` does. Fails when a step meets a non-object (or an absent array slot).
    pub(crate) fn set(&self, target: &mut Value, value: Value) -> Result<(), String> {
        debug_assert_eq!(self.root, Root::Input);
        let Some((last, init)) = self.segments.split_last() else {
            *target = value;
            return Ok(());
        };
        let mut cur = target;
        for seg in init {
            if !can_descend(seg, cur) {
                return Err(cannot_descend(seg, cur));
            }
            cur = match (seg, cur) {
                (Segment::Field(name), Value::Object(map)) => map
                    .entry(name.clone())
                    .or_insert_with(|| Value::Object(Map::new())),
                (Segment::Index(i), Value::Array(items)) => &mut items[*i],
                _ => unreachable!("checked by can_descend"),
            };
        }
        if !can_descend(last, cur) {
            return Err(cannot_descend(last, cur));
        }
        match (last, cur) {
            (Segment::Field(name), Value::Object(map)) => {
                map.insert(name.clone(), value);
            }
            (Segment::Index(i), Value::Array(items)) => items[*i] = value,
            _ => unreachable!("checked by can_descend"),
        }
        Ok(())
    }
}

/// Whether `set` can step through (or write at) `seg` inside `value`.
fn can_descend(seg: &Segment, value: &Value) -> bool {
    match (seg, value) {
        (Segment::Field(_), Value::Object(_)) => true,
        (Segment::Index(i), Value::Array(items)) => *i < items.len(),
        _ => false,
    }
}

fn cannot_descend(seg: &Segment, value: &Value) -> String {
    let kind = match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    };
    match seg {
        Segment::Index(i) if value.is_array() => format!("index [{i}] is out of range"),
        Segment::Field(n) => format!("cannot set field '{n}' inside {kind}"),
        Segment::Index(i) => format!("cannot set index [{i}] inside {kind}"),
    }
}

/// `InputPath` / `OutputPath`: a path, or JSON `null` meaning "an empty object".
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum IoPath {
    Null,
    Path(Path),
}

impl IoPath {
    pub(crate) fn identity() -> Self {
        IoPath::Path(Path {
            root: Root::Input,
            segments: vec![],
            text: "$".into(),
        })
    }

    pub(crate) fn apply(
        &self,
        input: &Value,
        field: &str,
    ) -> Result<Value, crate::error::StateFailure> {
        match self {
            IoPath::Null => Ok(Value::Object(Map::new())),
            IoPath::Path(p) if p.segments.is_empty() => Ok(input.clone()),
            IoPath::Path(p) => p.resolve(input, &Value::Null, field).cloned(),
        }
    }
}

/// `ResultPath`: where the result goes in the state's input, or `null` to discard it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ResultPath {
    Discard,
    Path(Path),
}

impl ResultPath {
    pub(crate) fn identity() -> Self {
        ResultPath::Path(Path {
            root: Root::Input,
            segments: vec![],
            text: "$".into(),
        })
    }

    /// Combines the state's raw input with its result.
    pub(crate) fn apply(
        &self,
        raw_input: &Value,
        result: Value,
    ) -> Result<Value, crate::error::StateFailure> {
        match self {
            ResultPath::Discard => Ok(raw_input.clone()),
            ResultPath::Path(p) if p.segments.is_empty() => Ok(result),
            ResultPath::Path(p) => {
                let mut out = raw_input.clone();
                p.set(&mut out, result).map_err(|why| {
                    crate::error::StateFailure::runtime(format!(
                        "Unable to apply ResultPath '{}' to input '{}': {why}",
                        p.text,
                        crate::history::truncate_json(raw_input, 512)
                    ))
                })?;
                Ok(out)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn p(s: &str) -> Path {
        Path::parse(s, true).unwrap()
    }

    #[test]
    fn parses_supported_forms() {
        assert_eq!(p("$").segments, vec![]);
        assert_eq!(p("$$").root, Root::Context);
        assert_eq!(
            p("$.a.b-c[2]['d e'][\"f\"]").segments,
            vec![
                Segment::Field("a".into()),
                Segment::Field("b-c".into()),
                Segment::Index(2),
                Segment::Field("d e".into()),
                Segment::Field("f".into())
            ]
        );
        assert_eq!(
            p("$$.Execution.Name").segments,
            vec![
                Segment::Field("Execution".into()),
                Segment::Field("Name".into())
            ]
        );
    }

    #[test]
    fn refuses_unsupported_jsonpath() {
        for s in [
            "$..a",
            "$.a[*]",
            "$.*",
            "$.a[?(@.x)]",
            "$.a[0:2]",
            "$.a[-1]",
            "$.a[0,1]",
        ] {
            assert!(
                matches!(Path::parse(s, true), Err(PathError::Unsupported(_))),
                "{s}"
            );
        }
        for s in ["a.b", "", "$.", "$.a[", "$.a[x]", "$ .a", "$.a b"] {
            assert!(
                matches!(Path::parse(s, true), Err(PathError::Syntax(_))),
                "{s}"
            );
        }
        assert!(matches!(
            Path::parse("$$.Execution", false),
            Err(PathError::Unsupported(_))
        ));
    }

    #[test]
    fn get_walks_objects_and_arrays() {
        let v = json!({"a": {"b": [10, {"c": true}]}});
        assert_eq!(p("$.a.b[1].c").get(&v, &Value::Null), Some(&json!(true)));
        assert_eq!(p("$.a.b[2]").get(&v, &Value::Null), None);
        assert_eq!(p("$.a.x").get(&v, &Value::Null), None);
        assert_eq!(p("$.a.b.c").get(&v, &Value::Null), None);
        assert_eq!(p("$$.n").get(&v, &json!({"n": 1})), Some(&json!(1)));
    }

    #[test]
    fn set_creates_nested_objects_and_refuses_scalars() {
        let mut v = json!({"keep": 1});
        p("$.a.b.c").set(&mut v, json!("r")).unwrap();
        assert_eq!(v, json!({"keep": 1, "a": {"b": {"c": "r"}}}));
        p("$.keep").set(&mut v, json!(2)).unwrap();
        assert_eq!(v["keep"], json!(2));
        assert!(p("$.keep.x").set(&mut v, json!(0)).is_err());
        let mut arr = json!({"l": [1, 2]});
        p("$.l[1]").set(&mut arr, json!(9)).unwrap();
        assert_eq!(arr, json!({"l": [1, 9]}));
        assert!(p("$.l[5]").set(&mut arr, json!(9)).is_err());
    }
}
