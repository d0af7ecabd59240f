//! Intrinsic functions (`"field.$": "States.Format('{}-x', $.id)"`), parsed when the definition
//! is loaded and evaluated when the state runs.
//!
//! Supported: `States.Format`, `States.StringToJson`, `States.JsonToString`, `States.Array`,
//! `States.ArrayLength`, `States.ArrayGetItem`, `States.MathAdd`. Any other `States.*` name is
//! refused at load time rather than passed through as text.
//!
//! String literals use single quotes; `\'`, `\{`, `\}` and `\\` are escapes. In a
//! `States.Format` template an unescaped `{}` is a placeholder; a lone `{` or `}` is an error.

use serde_json::Value;

use crate::error::StateFailure;
use crate::paths::{Path, PathError};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Func {
    Format,
    StringToJson,
    JsonToString,
    Array,
    ArrayLength,
    ArrayGetItem,
    MathAdd,
}

impl Func {
    fn from_name(name: &str) -> Option<Func> {
        Some(match name {
            "States.Format" => Func::Format,
            "States.StringToJson" => Func::StringToJson,
            "States.JsonToString" => Func::JsonToString,
            "States.Array" => Func::Array,
            "States.ArrayLength" => Func::ArrayLength,
            "States.ArrayGetItem" => Func::ArrayGetItem,
            "States.MathAdd" => Func::MathAdd,
            _ => return None,
        })
    }

    fn name(self) -> &'static str {
        match self {
            Func::Format => "States.Format",
            Func::StringToJson => "States.StringToJson",
            Func::JsonToString => "States.JsonToString",
            Func::Array => "States.Array",
            Func::ArrayLength => "States.ArrayLength",
            Func::ArrayGetItem => "States.ArrayGetItem",
            Func::MathAdd => "States.MathAdd",
        }
    }

    /// Allowed argument counts (min, max).
    fn arity(self) -> (usize, usize) {
        match self {
            Func::Format => (1, usize::MAX),
            Func::StringToJson | Func::JsonToString | Func::ArrayLength => (1, 1),
            Func::Array => (0, usize::MAX),
            Func::ArrayGetItem | Func::MathAdd => (2, 2),
        }
    }
}

/// A piece of a string literal: text, or an unescaped `{}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Piece {
    Text(String),
    Placeholder,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Arg {
    Str(Vec<Piece>),
    Literal(Value),
    Path(Path),
    Call(Call),
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Call {
    func: Func,
    args: Vec<Arg>,
}

/// Load-time problem with an intrinsic expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum IntrinsicError {
    Syntax(String),
    Unsupported(String),
}

impl IntrinsicError {
    pub(crate) fn at(self, state: &str, field: &str, expr: &str) -> crate::AslError {
        match self {
            IntrinsicError::Syntax(why) => crate::AslError::invalid(
                state,
                format!("{field}: `{expr}` is not a valid intrinsic function call: {why}"),
            ),
            IntrinsicError::Unsupported(what) => {
                crate::AslError::unsupported(state, format!("{field} `{expr}` ({what})"))
            }
        }
    }
}

impl From<PathError> for IntrinsicError {
    fn from(e: PathError) -> Self {
        match e {
            PathError::Syntax(s) => IntrinsicError::Syntax(s),
            PathError::Unsupported(s) => IntrinsicError::Unsupported(s),
        }
    }
}

fn pieces_text(pieces: &[Piece]) -> String {
    pieces
        .iter()
        .map(|p| match p {
            Piece::Text(t) => t.as_str(),
            Piece::Placeholder => "{}",
        })
        .collect()
}

struct Parser<'a> {
    src: &'a str,
    pos: usize,
}

impl<'a> Parser<'a> {
    fn rest(&self) -> &'a str {
        &self.src[self.pos..]
    }
    fn skip_ws(&mut self) {
        let trimmed = self.rest().trim_start();
        self.pos = self.src.len() - trimmed.len();
    }
    fn eat(&mut self, c: char) -> bool {
        if self.rest().starts_with(c) {
            self.pos += c.len_utf8();
            true
        } else {
            false
        }
    }
    fn err<T>(&self, why: impl Into<String>) -> Result<T, IntrinsicError> {
        Err(IntrinsicError::Syntax(format!(
            "{} (at byte {})",
            why.into(),
            self.pos
        )))
    }

    fn call(&mut self) -> Result<Call, IntrinsicError> {
        let name_len = self
            .rest()
            .find('(')
            .ok_or_else(|| IntrinsicError::Syntax("missing `(`".into()))?;
        let name = self.rest()[..name_len].trim_end();
        if !name.starts_with("States.")
            || !name[7..].chars().all(|c| c.is_ascii_alphanumeric())
            || name.len() == 7
        {
            return self.err(format!("`{name}` is not an intrinsic function name"));
        }
        let func = Func::from_name(name).ok_or_else(|| {
            IntrinsicError::Unsupported(format!("intrinsic function {name} is not implemented"))
        })?;
        self.pos += name_len + 1;
        let mut args = Vec::new();
        self.skip_ws();
        if !self.eat(')') {
            loop {
                self.skip_ws();
                args.push(self.arg()?);
                self.skip_ws();
                if self.eat(')') {
                    break;
                }
                if !self.eat(',') {
                    return self.err("expected `,` or `)`");
                }
            }
        }
        let (min, max) = func.arity();
        if args.len() < min || args.len() > max {
            return Err(IntrinsicError::Syntax(format!(
                "{} takes {} argument(s), got {}",
                func.name(),
                arity_text(min, max),
                args.len()
            )));
        }
        if func == Func::Format {
            let Arg::Str(template) = &args[0] else {
                return Err(IntrinsicError::Unsupported(
                    "States.Format's template must be a string literal here".into(),
                ));
            };
            let holes = template
                .iter()
                .filter(|p| **p == Piece::Placeholder)
                .count();
            if holes != args.len() - 1 {
                return Err(IntrinsicError::Syntax(format!(
                    "States.Format template has {holes} placeholder(s) but {} value(s) follow",
                    args.len() - 1
                )));
            }
        }
        Ok(Call { func, args })
    }

    fn arg(&mut self) -> Result<Arg, IntrinsicError> {
        let rest = self.rest();
        if rest.starts_with('\'') {
            return self.string().map(Arg::Str);
        }
        if rest.starts_with('$') {
            return self.path().map(Arg::Path);
        }
        if rest.starts_with("States.") {
            return self.call().map(Arg::Call);
        }
        for (word, value) in [
            ("true", Value::Bool(true)),
            ("false", Value::Bool(false)),
            ("null", Value::Null),
        ] {
            if rest.starts_with(word)
                && !rest[word.len()..].starts_with(|c: char| c.is_ascii_alphanumeric())
            {
                self.pos += word.len();
                return Ok(Arg::Literal(value));
            }
        }
        let len = rest
            .find(|c: char| !(c.is_ascii_digit() || matches!(c, '-' | '+' | '.' | 'e' | 'E')))
            .unwrap_or(rest.len());
        if len > 0 {
            if let Ok(n @ Value::Number(_)) = serde_json::from_str::<Value>(&rest[..len]) {
                self.pos += len;
                return Ok(Arg::Literal(n));
            }
        }
        self.err("expected a 'string', number, true, false, null, path or States.* call")
    }

    fn string(&mut self) -> Result<Vec<Piece>, IntrinsicError> {
        self.pos += 1; // opening quote
        let mut pieces = Vec::new();
        let mut text = String::new();
        let mut chars = self.rest().char_indices();
        while let Some((i, c)) = chars.next() {
            match c {
                '\'' => {
                    self.pos += i + 1;
                    if !text.is_empty() {
                        pieces.push(Piece::Text(text));
                    }
                    return Ok(pieces);
                }
                '\\' => match chars.next() {
                    Some((_, e @ ('\'' | '{' | '}' | '\\'))) => text.push(e),
                    other => {
                        return Err(IntrinsicError::Syntax(format!(
                            "unknown escape `\\{}` in string literal",
                            other.map(|(_, c)| c.to_string()).unwrap_or_default()
                        )))
                    }
                },
                '{' => {
                    if matches!(chars.next(), Some((_, '}'))) {
                        if !text.is_empty() {
                            pieces.push(Piece::Text(std::mem::take(&mut text)));
                        }
                        pieces.push(Piece::Placeholder);
                    } else {
                        return Err(IntrinsicError::Syntax(
                            "unescaped `{` in string literal (write `\\{`)".into(),
                        ));
                    }
                }
                '}' => {
                    return Err(IntrinsicError::Syntax(
                        "unescaped `}` in string literal (write `\\}`)".into(),
                    ))
                }
                c => text.push(c),
            }
        }
        self.err("unterminated string literal")
    }

    fn path(&mut self) -> Result<Path, IntrinsicError> {
        // A path ends at `,`, `)` or whitespace outside brackets/quotes.
        let rest = self.rest();
        let mut end = rest.len();
        let mut in_bracket = false;
        let mut quote: Option<char> = None;
        for (i, c) in rest.char_indices() {
            match (quote, c) {
                (Some(q), c) if c == q => quote = None,
                (Some(_), _) => {}
                (None, '\'' | '"') if in_bracket => quote = Some(c),
                (None, '[') => in_bracket = true,
                (None, ']') => in_bracket = false,
                (None, ',' | ')') if !in_bracket => {
                    end = i;
                    break;
                }
                (None, c) if c.is_whitespace() && !in_bracket => {
                    end = i;
                    break;
                }
                _ => {}
            }
        }
        let path = Path::parse(&rest[..end], true)?;
        self.pos += end;
        Ok(path)
    }
}

fn arity_text(min: usize, max: usize) -> String {
    match (min, max) {
        (a, b) if a == b => a.to_string(),
        (a, usize::MAX) => format!("at least {a}"),
        (a, b) => format!("{a}..={b}"),
    }
}

/// Parses a whole `States.*(...)` expression.
pub(crate) fn parse(expr: &str) -> Result<Call, IntrinsicError> {
    let mut p = Parser { src: expr, pos: 0 };
    p.skip_ws();
    let call = p.call()?;
    p.skip_ws();
    if p.pos != expr.len() {
        return p.err("unexpected text after the closing `)`");
    }
    Ok(call)
}

fn fail(func: Func, why: impl std::fmt::Display) -> StateFailure {
    StateFailure::runtime(format!("{} failed: {why}", func.name()))
}

impl Call {
    /// Evaluates the call against the state's data and the context object.
    pub(crate) fn eval(
        &self,
        input: &Value,
        context: &Value,
        field: &str,
    ) -> Result<Value, StateFailure> {
        let arg = |a: &Arg| -> Result<Value, StateFailure> {
            Ok(match a {
                Arg::Str(pieces) => Value::String(pieces_text(pieces)),
                Arg::Literal(v) => v.clone(),
                Arg::Path(p) => p.resolve(input, context, field)?.clone(),
                Arg::Call(c) => c.eval(input, context, field)?,
            })
        };
        let f = self.func;
        match f {
            Func::Format => {
                let Arg::Str(template) = &self.args[0] else {
                    unreachable!("checked at load")
                };
                let mut values = self.args[1..].iter();
                let mut out = String::new();
                for piece in template {
                    match piece {
                        Piece::Text(t) => out.push_str(t),
                        Piece::Placeholder => {
                            match arg(values.next().expect("arity checked at load"))? {
                                Value::String(s) => out.push_str(&s),
                                v @ (Value::Number(_) | Value::Bool(_) | Value::Null) => {
                                    out.push_str(&v.to_string())
                                }
                                _ => {
                                    return Err(fail(
                                        f,
                                        "arguments must be strings, numbers, booleans or null",
                                    ))
                                }
                            }
                        }
                    }
                }
                Ok(Value::String(out))
            }
            Func::StringToJson => match arg(&self.args[0])? {
                Value::String(s) => {
                    serde_json::from_str(&s).map_err(|e| fail(f, format!("not JSON: {e}")))
                }
                _ => Err(fail(f, "argument must be a string")),
            },
            Func::JsonToString => Ok(Value::String(arg(&self.args[0])?.to_string())),
            Func::Array => Ok(Value::Array(
                self.args.iter().map(arg).collect::<Result<_, _>>()?,
            )),
            Func::ArrayLength => match arg(&self.args[0])? {
                Value::Array(a) => Ok(Value::from(a.len())),
                _ => Err(fail(f, "argument must be an array")),
            },
            Func::ArrayGetItem => {
                let (array, index) = (arg(&self.args[0])?, arg(&self.args[1])?);
                let (Value::Array(items), Some(i)) = (array, index.as_u64()) else {
                    return Err(fail(
                        f,
                        "arguments must be an array and a non-negative integer",
                    ));
                };
                usize::try_from(i)
                    .ok()
                    .and_then(|i| items.get(i).cloned())
                    .ok_or_else(|| fail(f, format!("index {i} is out of range")))
            }
            Func::MathAdd => {
                let int = |v: Value| -> Result<i64, StateFailure> {
                    v.as_i64()
                        .filter(|n| i32::try_from(*n).is_ok())
                        .ok_or_else(|| {
                            fail(f, format!("{v} is not an integer in the 32-bit range"))
                        })
                };
                Ok(Value::from(
                    int(arg(&self.args[0])?)? + int(arg(&self.args[1])?)?,
                ))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn eval(expr: &str, input: Value) -> Result<Value, StateFailure> {
        parse(expr)
            .unwrap()
            .eval(&input, &json!({"Execution": {"Name": "run-1"}}), "f.$")
    }

    #[test]
    fn format_substitutes_in_order_and_honours_escapes() {
        let v = eval(
            r"States.Format('canary-{}-{} \{x\} it\'s \\ ok', $.id, $$.Execution.Name)",
            json!({"id": 7}),
        )
        .unwrap();
        assert_eq!(v, json!(r"canary-7-run-1 {x} it's \ ok"));
        let v = eval("States.Format('{}|{}|{}', 'a', true, null)", json!({})).unwrap();
        assert_eq!(v, json!("a|true|null"));
    }

    #[test]
    fn format_rejects_objects_and_bad_arity() {
        assert_eq!(
            eval("States.Format('{}', $.o)", json!({"o": {}}))
                .unwrap_err()
                .error,
            "States.Runtime"
        );
        assert!(matches!(
            parse("States.Format('{} {}', $.a)"),
            Err(IntrinsicError::Syntax(_))
        ));
        assert!(matches!(
            parse("States.Format('{')"),
            Err(IntrinsicError::Syntax(_))
        ));
    }

    #[test]
    fn json_round_trip_and_arrays() {
        assert_eq!(
            eval("States.StringToJson($.s)", json!({"s": "{\"a\":[1,2]}"})).unwrap(),
            json!({"a": [1, 2]})
        );
        assert_eq!(
            eval("States.JsonToString($.o)", json!({"o": {"a": 1}})).unwrap(),
            json!("{\"a\":1}")
        );
        assert_eq!(
            eval(
                "States.Array(1, 'two', $.x, States.Array())",
                json!({"x": [3]})
            )
            .unwrap(),
            json!([1, "two", [3], []])
        );
        assert_eq!(
            eval("States.ArrayLength($.l)", json!({"l": [1, 2, 3]})).unwrap(),
            json!(3)
        );
        assert_eq!(
            eval("States.ArrayGetItem($.l, 1)", json!({"l": ["a", "b"]})).unwrap(),
            json!("b")
        );
        assert_eq!(
            eval("States.MathAdd($.n, -1)", json!({"n": 5})).unwrap(),
            json!(4)
        );
        assert_eq!(
            eval("States.StringToJson($.s)", json!({"s": "{nope"}))
                .unwrap_err()
                .error,
            "States.Runtime"
        );
    }

    #[test]
    fn missing_path_is_runtime_failure() {
        let e = eval("States.Format('{}', $.nope)", json!({})).unwrap_err();
        assert_eq!(e.error, "States.Runtime");
        assert!(e.cause.contains("$.nope"), "{}", e.cause);
    }

    #[test]
    fn unknown_functions_are_unsupported_and_garbage_is_syntax() {
        assert!(matches!(
            parse("States.UUID()"),
            Err(IntrinsicError::Unsupported(_))
        ));
        assert!(matches!(
            parse("States.Hash($.a, 'SHA-256')"),
            Err(IntrinsicError::Unsupported(_))
        ));
        assert!(matches!(
            parse("States.Array(1) extra"),
            Err(IntrinsicError::Syntax(_))
        ));
        assert!(matches!(
            parse("States.Array(1"),
            Err(IntrinsicError::Syntax(_))
        ));
        assert!(matches!(
            parse("States.JsonToString()"),
            Err(IntrinsicError::Syntax(_))
        ));
        assert!(matches!(
            parse("States.Array($.a[*])"),
            Err(IntrinsicError::Unsupported(_))
        ));
    }
}
