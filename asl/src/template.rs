//! Payload templates: `Parameters` and `ResultSelector`.
//!
//! A key ending in `.$` takes its value from a path (`$.x`, `$$.Execution.Name`) or an
//! intrinsic function call, and loses the `.$` suffix in the output; everything else is copied.
//! Nested objects, including objects inside arrays, are processed the same way.

use serde_json::{Map, Value};

use crate::error::StateFailure;
use crate::intrinsics::{self, Call};
use crate::paths::Path;
use crate::AslError;

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Template {
    /// A subtree with no `.$` keys: copied as is.
    Literal(Value),
    Object(Vec<(String, Template)>),
    Array(Vec<Template>),
    /// `"key.$": "$.path"`; the string is the original key, for error messages.
    Path(Path, String),
    Call(Call, String),
}

impl Template {
    /// Compiles `value`, reporting problems as errors of `field` (e.g. `Parameters`) of `state`.
    pub(crate) fn compile(value: &Value, state: &str, field: &str) -> Result<Template, AslError> {
        compile(value, state, field)
    }

    pub(crate) fn apply(&self, input: &Value, context: &Value) -> Result<Value, StateFailure> {
        Ok(match self {
            Template::Literal(v) => v.clone(),
            Template::Object(fields) => {
                let mut out = Map::with_capacity(fields.len());
                for (k, t) in fields {
                    out.insert(k.clone(), t.apply(input, context)?);
                }
                Value::Object(out)
            }
            Template::Array(items) => Value::Array(
                items
                    .iter()
                    .map(|t| t.apply(input, context))
                    .collect::<Result<_, _>>()?,
            ),
            Template::Path(p, key) => p.resolve(input, context, key)?.clone(),
            Template::Call(c, key) => c.eval(input, context, key)?,
        })
    }
}

fn has_dynamic(value: &Value) -> bool {
    match value {
        Value::Object(m) => m.iter().any(|(k, v)| k.ends_with(".$") || has_dynamic(v)),
        Value::Array(a) => a.iter().any(has_dynamic),
        _ => false,
    }
}

fn compile(value: &Value, state: &str, field: &str) -> Result<Template, AslError> {
    if !has_dynamic(value) {
        return Ok(Template::Literal(value.clone()));
    }
    match value {
        Value::Array(items) => Ok(Template::Array(
            items
                .iter()
                .map(|v| compile(v, state, field))
                .collect::<Result<_, _>>()?,
        )),
        Value::Object(map) => {
            let mut fields: Vec<(String, Template)> = Vec::with_capacity(map.len());
            for (key, v) in map {
                let (name, t) = match key.strip_suffix(".$") {
                    Some(name) => {
                        let where_ = format!("{field}.{key}");
                        let Value::String(expr) = v else {
                            return Err(AslError::invalid(
                                state,
                                format!(
                                    "{where_} must be a string (a path or an intrinsic function)"
                                ),
                            ));
                        };
                        let t = if expr.starts_with("States.") {
                            Template::Call(
                                intrinsics::parse(expr).map_err(|e| e.at(state, &where_, expr))?,
                                key.clone(),
                            )
                        } else if expr.starts_with('$') {
                            Template::Path(
                                Path::parse(expr, true).map_err(|e| e.at(state, &where_, expr))?,
                                key.clone(),
                            )
                        } else {
                            return Err(AslError::invalid(state, format!("{where_}: `{expr}` is neither a path nor an intrinsic function")));
                        };
                        (name.to_string(), t)
                    }
                    None => (key.clone(), compile(v, state, field)?),
                };
                if fields.iter().any(|(n, _)| *n == name) {
                    return Err(AslError::invalid(
                        state,
                        format!("{field}: both `{name}` and `{name}.$` are present"),
                    ));
                }
                fields.push((name, t));
            }
            Ok(Template::Object(fields))
        }
        _ => unreachable!("scalars have no dynamic parts"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn apply(template: Value, input: Value) -> Result<Value, StateFailure> {
        Template::compile(&template, "S", "Parameters")
            .unwrap()
            .apply(&input, &json!({"Execution": {"Name": "ex"}}))
    }

    #[test]
    fn nested_objects_arrays_and_context() {
        let out = apply(
            json!({
                "static": {"k": "$.not-a-path"},
                "id.$": "$.canary.id",
                "nested": {"name.$": "$$.Execution.Name", "list": [{"v.$": "$.n"}, 2]},
                "msg.$": "States.Format('{}/{}', $.canary.id, $$.Execution.Name)"
            }),
            json!({"canary": {"id": "c1"}, "n": 3}),
        )
        .unwrap();
        assert_eq!(
            out,
            json!({
                "static": {"k": "$.not-a-path"},
                "id": "c1",
                "nested": {"name": "ex", "list": [{"v": 3}, 2]},
                "msg": "c1/ex"
            })
        );
    }

    #[test]
    fn missing_path_is_runtime_failure_naming_field() {
        let e = apply(json!({"x.$": "$.missing"}), json!({})).unwrap_err();
        assert_eq!(e.error, "States.Runtime");
        assert!(
            e.cause.contains("'x.$'") && e.cause.contains("$.missing"),
            "{}",
            e.cause
        );
    }

    #[test]
    fn load_time_errors() {
        let c = |v: Value| Template::compile(&v, "S", "Parameters");
        assert!(matches!(
            c(json!({"a.$": 1})),
            Err(AslError::Invalid { .. })
        ));
        assert!(matches!(
            c(json!({"a.$": "nope"})),
            Err(AslError::Invalid { .. })
        ));
        assert!(matches!(
            c(json!({"a.$": "$.x", "a": 1})),
            Err(AslError::Invalid { .. })
        ));
        assert!(matches!(
            c(json!({"a.$": "$..x"})),
            Err(AslError::Unsupported { .. })
        ));
        assert!(matches!(
            c(json!({"a.$": "States.UUID()"})),
            Err(AslError::Unsupported { .. })
        ));
    }
}
