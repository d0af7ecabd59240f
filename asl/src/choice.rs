//! Choice rules: parsing (with the operators' operand types checked at load) and evaluation.
//!
//! Semantics follow the specification: a comparison whose variable holds a value of the wrong
//! type is simply false; a variable (or `...Path` operand) that does not exist at all is a
//! `States.Runtime` failure, except under `IsPresent`. `And`/`Or` short-circuit, which is what
//! makes `And: [IsPresent, StringEquals]` safe.

use serde_json::Value;

use crate::error::StateFailure;
use crate::paths::Path;
use crate::{timestamp, AslError};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Cmp {
    Eq,
    Lt,
    Gt,
    Le,
    Ge,
}

impl Cmp {
    fn holds(self, ord: std::cmp::Ordering) -> bool {
        use std::cmp::Ordering::*;
        match self {
            Cmp::Eq => ord == Equal,
            Cmp::Lt => ord == Less,
            Cmp::Gt => ord == Greater,
            Cmp::Le => ord != Greater,
            Cmp::Ge => ord != Less,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Operand<T> {
    Literal(T),
    Path(Path),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Glob {
    Text(String),
    Star,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TypeTest {
    Null,
    Present,
    Numeric,
    String,
    Boolean,
    Timestamp,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Op {
    String(Cmp, Operand<String>),
    Matches(Vec<Glob>),
    Numeric(Cmp, Operand<f64>),
    Boolean(Operand<bool>),
    Timestamp(Cmp, Operand<i128>),
    Is(TypeTest, bool),
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Rule {
    And(Vec<Rule>),
    Or(Vec<Rule>),
    Not(Box<Rule>),
    Compare { variable: Path, op: Op },
}

/// A top-level rule of `Choices`, with its target.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ChoiceRule {
    pub rule: Rule,
    pub next: String,
}

#[derive(Clone, Copy)]
enum Kind {
    Str,
    Num,
    Bool,
    Ts,
}

/// Operator name → (kind, comparison, takes a path operand).
fn comparison(name: &str) -> Option<(Kind, Cmp, bool)> {
    let (base, is_path) = match name.strip_suffix("Path") {
        Some(b) => (b, true),
        None => (name, false),
    };
    let (kind, rest) = [
        ("String", Kind::Str),
        ("Numeric", Kind::Num),
        ("Boolean", Kind::Bool),
        ("Timestamp", Kind::Ts),
    ]
    .into_iter()
    .find_map(|(p, k)| base.strip_prefix(p).map(|r| (k, r)))?;
    let cmp = match rest {
        "Equals" => Cmp::Eq,
        "LessThan" => Cmp::Lt,
        "GreaterThan" => Cmp::Gt,
        "LessThanEquals" => Cmp::Le,
        "GreaterThanEquals" => Cmp::Ge,
        _ => return None,
    };
    if matches!(kind, Kind::Bool) && cmp != Cmp::Eq {
        return None;
    }
    Some((kind, cmp, is_path))
}

fn type_test(name: &str) -> Option<TypeTest> {
    Some(match name {
        "IsNull" => TypeTest::Null,
        "IsPresent" => TypeTest::Present,
        "IsNumeric" => TypeTest::Numeric,
        "IsString" => TypeTest::String,
        "IsBoolean" => TypeTest::Boolean,
        "IsTimestamp" => TypeTest::Timestamp,
        _ => return None,
    })
}

fn parse_glob(pattern: &str) -> Result<Vec<Glob>, String> {
    let mut out = Vec::new();
    let mut text = String::new();
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some(e @ ('*' | '\\')) => text.push(e),
                _ => return Err("in StringMatches only `\\*` and `\\\\` are escapes".into()),
            },
            '*' => {
                if !text.is_empty() {
                    out.push(Glob::Text(std::mem::take(&mut text)));
                }
                if out.last() != Some(&Glob::Star) {
                    out.push(Glob::Star);
                }
            }
            c => text.push(c),
        }
    }
    if !text.is_empty() {
        out.push(Glob::Text(text));
    }
    Ok(out)
}

fn glob_matches(pattern: &[Glob], s: &str) -> bool {
    match pattern.split_first() {
        None => s.is_empty(),
        Some((Glob::Text(t), rest)) => s
            .strip_prefix(t.as_str())
            .is_some_and(|r| glob_matches(rest, r)),
        Some((Glob::Star, rest)) => {
            if rest.is_empty() {
                return true;
            }
            s.char_indices()
                .map(|(i, _)| i)
                .chain([s.len()])
                .any(|i| glob_matches(rest, &s[i..]))
        }
    }
}

struct Ctx<'a> {
    state: &'a str,
}

impl Ctx<'_> {
    fn invalid(&self, at: &str, why: impl std::fmt::Display) -> AslError {
        AslError::invalid(self.state, format!("{at}: {why}"))
    }

    fn path(&self, at: &str, v: &Value) -> Result<Path, AslError> {
        let Value::String(s) = v else {
            return Err(self.invalid(at, "must be a path string"));
        };
        Path::parse(s, true).map_err(|e| e.at(self.state, at, s))
    }

    fn rule(&self, at: &str, v: &Value, top: bool) -> Result<(Rule, Option<String>), AslError> {
        let Value::Object(m) = v else {
            return Err(self.invalid(at, "a choice rule must be an object"));
        };
        let next = match (m.get("Next"), top) {
            (Some(Value::String(n)), true) => Some(n.clone()),
            (Some(_), true) => return Err(self.invalid(at, "Next must be a string")),
            (None, true) => return Err(self.invalid(at, "a top-level choice rule needs Next")),
            (Some(_), false) => {
                return Err(self.invalid(at, "Next is only allowed on top-level choice rules"))
            }
            (None, false) => None,
        };
        let ops: Vec<(&String, &Value)> = m
            .iter()
            .filter(|(k, _)| !matches!(k.as_str(), "Next" | "Comment" | "Variable"))
            .collect();
        for (k, _) in &ops {
            let known = matches!(k.as_str(), "And" | "Or" | "Not")
                || comparison(k).is_some()
                || type_test(k).is_some()
                || *k == "StringMatches";
            if !known {
                return Err(AslError::unsupported(self.state, format!("{at}.{k}")));
            }
        }
        if m.get("Comment").is_some_and(|c| !c.is_string()) {
            return Err(self.invalid(at, "Comment must be a string"));
        }
        let [(name, operand)] = ops.as_slice() else {
            return Err(self.invalid(
                at,
                format!(
                    "a choice rule needs exactly one operator, found {}",
                    ops.len()
                ),
            ));
        };
        let name = name.as_str();
        let combinator = matches!(name, "And" | "Or" | "Not");
        match (combinator, m.get("Variable")) {
            (true, Some(_)) => {
                return Err(self.invalid(at, format!("{name} cannot have a Variable")))
            }
            (false, None) => return Err(self.invalid(at, format!("{name} needs a Variable"))),
            _ => {}
        }
        let rule = match name {
            "And" | "Or" => {
                let Value::Array(items) = operand else {
                    return Err(self.invalid(at, format!("{name} must be an array")));
                };
                if items.is_empty() {
                    return Err(self.invalid(at, format!("{name} must not be empty")));
                }
                let rules = items
                    .iter()
                    .enumerate()
                    .map(|(i, r)| {
                        self.rule(&format!("{at}.{name}[{i}]"), r, false)
                            .map(|(r, _)| r)
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                if name == "And" {
                    Rule::And(rules)
                } else {
                    Rule::Or(rules)
                }
            }
            "Not" => Rule::Not(Box::new(self.rule(&format!("{at}.Not"), operand, false)?.0)),
            _ => {
                let variable = self.path(&format!("{at}.Variable"), &m["Variable"])?;
                let op_at = format!("{at}.{name}");
                let op = if let Some(t) = type_test(name) {
                    let Value::Bool(b) = operand else {
                        return Err(self.invalid(&op_at, "must be true or false"));
                    };
                    Op::Is(t, *b)
                } else if name == "StringMatches" {
                    let Value::String(p) = operand else {
                        return Err(self.invalid(&op_at, "must be a string"));
                    };
                    Op::Matches(parse_glob(p).map_err(|e| self.invalid(&op_at, e))?)
                } else {
                    let (kind, cmp, is_path) = comparison(name).expect("checked above");
                    if is_path {
                        let p = self.path(&op_at, operand)?;
                        match kind {
                            Kind::Str => Op::String(cmp, Operand::Path(p)),
                            Kind::Num => Op::Numeric(cmp, Operand::Path(p)),
                            Kind::Bool => Op::Boolean(Operand::Path(p)),
                            Kind::Ts => Op::Timestamp(cmp, Operand::Path(p)),
                        }
                    } else {
                        match (kind, operand) {
                            (Kind::Str, Value::String(s)) => {
                                Op::String(cmp, Operand::Literal(s.clone()))
                            }
                            (Kind::Num, Value::Number(n)) => {
                                Op::Numeric(cmp, Operand::Literal(n.as_f64().unwrap_or(f64::NAN)))
                            }
                            (Kind::Bool, Value::Bool(b)) => Op::Boolean(Operand::Literal(*b)),
                            (Kind::Ts, Value::String(s)) => match timestamp::parse(s) {
                                Some(t) => Op::Timestamp(cmp, Operand::Literal(t)),
                                None => {
                                    return Err(self.invalid(
                                        &op_at,
                                        format!("`{s}` is not an RFC 3339 timestamp"),
                                    ))
                                }
                            },
                            _ => {
                                return Err(self.invalid(&op_at, "operand has the wrong JSON type"))
                            }
                        }
                    }
                };
                Rule::Compare { variable, op }
            }
        };
        Ok((rule, next))
    }
}

/// Parses the `Choices` array of state `state`.
pub(crate) fn parse_choices(state: &str, choices: &Value) -> Result<Vec<ChoiceRule>, AslError> {
    let ctx = Ctx { state };
    let Value::Array(items) = choices else {
        return Err(ctx.invalid("Choices", "must be an array"));
    };
    if items.is_empty() {
        return Err(ctx.invalid("Choices", "must not be empty"));
    }
    items
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let (rule, next) = ctx.rule(&format!("Choices[{i}]"), r, true)?;
            Ok(ChoiceRule {
                rule,
                next: next.expect("top-level rules have Next"),
            })
        })
        .collect()
}

fn operand<'a, T: Clone>(
    o: &'a Operand<T>,
    input: &'a Value,
    context: &'a Value,
    extract: impl Fn(&Value) -> Option<T>,
) -> Result<Option<T>, StateFailure> {
    Ok(match o {
        Operand::Literal(v) => Some(v.clone()),
        Operand::Path(p) => extract(p.resolve(input, context, "Choice")?),
    })
}

fn as_timestamp(v: &Value) -> Option<i128> {
    v.as_str().and_then(timestamp::parse)
}

impl Rule {
    /// Whether this rule holds for `input`.
    pub(crate) fn eval(&self, input: &Value, context: &Value) -> Result<bool, StateFailure> {
        match self {
            Rule::And(rules) => {
                for r in rules {
                    if !r.eval(input, context)? {
                        return Ok(false);
                    }
                }
                Ok(true)
            }
            Rule::Or(rules) => {
                for r in rules {
                    if r.eval(input, context)? {
                        return Ok(true);
                    }
                }
                Ok(false)
            }
            Rule::Not(r) => Ok(!r.eval(input, context)?),
            Rule::Compare {
                variable,
                op: Op::Is(TypeTest::Present, want),
            } => Ok(variable.get(input, context).is_some() == *want),
            Rule::Compare { variable, op } => {
                let v = variable.get(input, context).ok_or_else(|| {
                    StateFailure::runtime(format!(
                        "Invalid path '{}': The choice state's condition path references an invalid value.",
                        variable.text
                    ))
                })?;
                Ok(match op {
                    Op::Is(t, want) => {
                        let is = match t {
                            TypeTest::Null => v.is_null(),
                            TypeTest::Present => true,
                            TypeTest::Numeric => v.is_number(),
                            TypeTest::String => v.is_string(),
                            TypeTest::Boolean => v.is_boolean(),
                            TypeTest::Timestamp => as_timestamp(v).is_some(),
                        };
                        is == *want
                    }
                    Op::Matches(glob) => v.as_str().is_some_and(|s| glob_matches(glob, s)),
                    Op::String(cmp, o) => {
                        let rhs = operand(o, input, context, |x| x.as_str().map(str::to_string))?;
                        matches!((v.as_str(), rhs), (Some(a), Some(b)) if cmp.holds(a.cmp(b.as_str())))
                    }
                    Op::Numeric(cmp, o) => {
                        let rhs = operand(o, input, context, Value::as_f64)?;
                        matches!((v.as_f64(), rhs), (Some(a), Some(b)) if a.partial_cmp(&b).is_some_and(|ord| cmp.holds(ord)))
                    }
                    Op::Boolean(o) => {
                        let rhs = operand(o, input, context, Value::as_bool)?;
                        matches!((v.as_bool(), rhs), (Some(a), Some(b)) if a == b)
                    }
                    Op::Timestamp(cmp, o) => {
                        let rhs = operand(o, input, context, as_timestamp)?;
                        matches!((as_timestamp(v), rhs), (Some(a), Some(b)) if cmp.holds(a.cmp(&b)))
                    }
                })
            }
        }
    }
}

/// The `Next` of the first rule that holds, if any.
pub(crate) fn choose<'a>(
    rules: &'a [ChoiceRule],
    input: &Value,
    context: &Value,
) -> Result<Option<(usize, &'a str)>, StateFailure> {
    for (i, r) in rules.iter().enumerate() {
        if r.rule.eval(input, context)? {
            return Ok(Some((i, &r.next)));
        }
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn holds(rule: Value, input: Value) -> Result<bool, StateFailure> {
        let mut r = rule;
        r["Next"] = json!("X");
        let rules = parse_choices("C", &json!([r])).unwrap();
        rules[0]
            .rule
            .eval(&input, &json!({"Execution": {"Name": "e"}}))
    }

    fn yes(rule: Value, input: Value) {
        assert!(
            holds(rule.clone(), input.clone()).unwrap(),
            "expected true: {rule} on {input}"
        );
    }
    fn no(rule: Value, input: Value) {
        assert!(
            !holds(rule.clone(), input.clone()).unwrap(),
            "expected false: {rule} on {input}"
        );
    }

    #[test]
    fn string_operators() {
        let i = json!({"s": "beta", "t": "beta", "u": "gamma", "n": 1});
        yes(
            json!({"Variable": "$.s", "StringEquals": "beta"}),
            i.clone(),
        );
        no(
            json!({"Variable": "$.s", "StringEquals": "Beta"}),
            i.clone(),
        );
        yes(
            json!({"Variable": "$.s", "StringEqualsPath": "$.t"}),
            i.clone(),
        );
        no(
            json!({"Variable": "$.s", "StringEqualsPath": "$.u"}),
            i.clone(),
        );
        yes(
            json!({"Variable": "$.s", "StringLessThan": "gamma"}),
            i.clone(),
        );
        yes(
            json!({"Variable": "$.s", "StringGreaterThanEquals": "beta"}),
            i.clone(),
        );
        no(
            json!({"Variable": "$.s", "StringGreaterThan": "beta"}),
            i.clone(),
        );
        yes(
            json!({"Variable": "$.u", "StringGreaterThanPath": "$.s"}),
            i.clone(),
        );
        // Type mismatch is false, not an error.
        no(json!({"Variable": "$.n", "StringEquals": "1"}), i.clone());
        no(
            json!({"Variable": "$.s", "StringEqualsPath": "$.n"}),
            i.clone(),
        );
        yes(
            json!({"Variable": "$$.Execution.Name", "StringEquals": "e"}),
            i,
        );
    }

    #[test]
    fn string_matches_wildcards_and_escapes() {
        let m = |p: &str, s: &str| {
            holds(
                json!({"Variable": "$.s", "StringMatches": p}),
                json!({"s": s}),
            )
            .unwrap()
        };
        assert!(m("log-*.txt", "log-2026.txt"));
        assert!(m("*", ""));
        assert!(m("a*b*c", "aXbYbZc"));
        assert!(!m("a*b", "aXbY"));
        assert!(m(r"a\*b", "a*b"));
        assert!(!m(r"a\*b", "aXb"));
        assert!(m(r"back\\slash", r"back\slash"));
        assert!(!m("exact", "exactly"));
    }

    #[test]
    fn numeric_operators() {
        let i = json!({"n": 5, "f": 5.0, "m": 7.5, "s": "5"});
        yes(json!({"Variable": "$.n", "NumericEquals": 5}), i.clone());
        yes(
            json!({"Variable": "$.n", "NumericEqualsPath": "$.f"}),
            i.clone(),
        );
        yes(
            json!({"Variable": "$.n", "NumericLessThan": 5.5}),
            i.clone(),
        );
        no(json!({"Variable": "$.n", "NumericLessThan": 5}), i.clone());
        yes(
            json!({"Variable": "$.n", "NumericLessThanEquals": 5}),
            i.clone(),
        );
        yes(
            json!({"Variable": "$.m", "NumericGreaterThan": 7}),
            i.clone(),
        );
        yes(
            json!({"Variable": "$.m", "NumericGreaterThanEquals": 7.5}),
            i.clone(),
        );
        yes(
            json!({"Variable": "$.m", "NumericGreaterThanPath": "$.n"}),
            i.clone(),
        );
        no(
            json!({"Variable": "$.n", "NumericLessThanPath": "$.f"}),
            i.clone(),
        );
        no(json!({"Variable": "$.s", "NumericEquals": 5}), i);
    }

    #[test]
    fn boolean_and_timestamp_operators() {
        let i = json!({"b": true, "c": false, "t": "2026-01-01T00:00:00Z", "u": "2026-01-01T01:00:00+01:00", "bad": "soon"});
        yes(json!({"Variable": "$.b", "BooleanEquals": true}), i.clone());
        no(
            json!({"Variable": "$.b", "BooleanEqualsPath": "$.c"}),
            i.clone(),
        );
        no(json!({"Variable": "$.t", "BooleanEquals": true}), i.clone());
        yes(
            json!({"Variable": "$.t", "TimestampEquals": "2026-01-01T00:00:00.000Z"}),
            i.clone(),
        );
        yes(
            json!({"Variable": "$.t", "TimestampEqualsPath": "$.u"}),
            i.clone(),
        );
        yes(
            json!({"Variable": "$.t", "TimestampLessThan": "2026-01-01T00:00:01Z"}),
            i.clone(),
        );
        yes(
            json!({"Variable": "$.t", "TimestampGreaterThan": "2025-12-31T23:59:59Z"}),
            i.clone(),
        );
        yes(
            json!({"Variable": "$.t", "TimestampLessThanEquals": "2026-01-01T00:00:00Z"}),
            i.clone(),
        );
        no(
            json!({"Variable": "$.t", "TimestampGreaterThanEqualsPath": "$.bad"}),
            i.clone(),
        );
        no(
            json!({"Variable": "$.bad", "TimestampLessThan": "2030-01-01T00:00:00Z"}),
            i,
        );
    }

    #[test]
    fn type_tests_and_presence() {
        let i = json!({"n": null, "x": 1, "s": "s", "b": false, "t": "2026-01-01T00:00:00Z"});
        yes(json!({"Variable": "$.n", "IsNull": true}), i.clone());
        no(json!({"Variable": "$.x", "IsNull": true}), i.clone());
        yes(json!({"Variable": "$.x", "IsNumeric": true}), i.clone());
        yes(json!({"Variable": "$.s", "IsString": true}), i.clone());
        yes(json!({"Variable": "$.s", "IsNumeric": false}), i.clone());
        yes(json!({"Variable": "$.b", "IsBoolean": true}), i.clone());
        yes(json!({"Variable": "$.t", "IsTimestamp": true}), i.clone());
        no(json!({"Variable": "$.s", "IsTimestamp": true}), i.clone());
        yes(json!({"Variable": "$.n", "IsPresent": true}), i.clone());
        yes(
            json!({"Variable": "$.missing", "IsPresent": false}),
            i.clone(),
        );
        no(
            json!({"Variable": "$.missing.deeper", "IsPresent": true}),
            i,
        );
    }

    #[test]
    fn combinators_short_circuit() {
        let and = json!({"And": [{"Variable": "$.opt", "IsPresent": true}, {"Variable": "$.opt", "StringEquals": "y"}]});
        no(and.clone(), json!({}));
        yes(and, json!({"opt": "y"}));
        let or = json!({"Or": [{"Variable": "$.a", "BooleanEquals": true}, {"Variable": "$.missing", "BooleanEquals": true}]});
        yes(or.clone(), json!({"a": true}));
        assert_eq!(
            holds(or, json!({"a": false})).unwrap_err().error,
            "States.Runtime"
        );
        yes(
            json!({"Not": {"Variable": "$.a", "NumericEquals": 1}}),
            json!({"a": 2}),
        );
    }

    #[test]
    fn missing_variable_is_runtime_failure() {
        let e = holds(
            json!({"Variable": "$.nope", "StringEquals": "x"}),
            json!({}),
        )
        .unwrap_err();
        assert_eq!(e.error, "States.Runtime");
        assert!(e.cause.contains("$.nope"));
        let e = holds(
            json!({"Variable": "$.a", "NumericEqualsPath": "$.nope"}),
            json!({"a": 1}),
        )
        .unwrap_err();
        assert_eq!(e.error, "States.Runtime");
    }

    #[test]
    fn load_time_validation() {
        let bad = |rule: Value| parse_choices("C", &json!([rule])).unwrap_err();
        assert!(matches!(
            bad(json!({"Variable": "$.a", "StringContains": "x", "Next": "N"})),
            AslError::Unsupported { .. }
        ));
        assert!(matches!(
            bad(json!({"Variable": "$.a", "Next": "N"})),
            AslError::Invalid { .. }
        ));
        assert!(matches!(
            bad(json!({"Variable": "$.a", "StringEquals": "x", "IsNull": true, "Next": "N"})),
            AslError::Invalid { .. }
        ));
        assert!(matches!(
            bad(json!({"Variable": "$.a", "StringEquals": "x"})),
            AslError::Invalid { .. }
        ));
        assert!(matches!(
            bad(json!({"Variable": "$.a", "NumericEquals": "1", "Next": "N"})),
            AslError::Invalid { .. }
        ));
        assert!(matches!(
            bad(json!({"Variable": "$.a", "TimestampEquals": "tomorrow", "Next": "N"})),
            AslError::Invalid { .. }
        ));
        assert!(matches!(
            bad(json!({"Variable": "$.a", "BooleanLessThan": true, "Next": "N"})),
            AslError::Unsupported { .. }
        ));
        assert!(matches!(
            bad(json!({"And": [{"Variable": "$.a", "IsNull": true, "Next": "N"}], "Next": "N"})),
            AslError::Invalid { .. }
        ));
        assert!(matches!(
            bad(json!({"And": [], "Next": "N"})),
            AslError::Invalid { .. }
        ));
        assert!(matches!(
            bad(json!({"Variable": "$.a[*]", "IsNull": true, "Next": "N"})),
            AslError::Unsupported { .. }
        ));
        assert!(matches!(
            parse_choices("C", &json!([])),
            Err(AslError::Invalid { .. })
        ));
    }
}
