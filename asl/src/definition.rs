//! State machine definitions: JSON → typed, validated structures.
//!
//! Everything is checked when the definition is loaded, so a workflow that would be refused by
//! Step Functions — or that uses a feature this executor does not implement — fails the local
//! run immediately with an [`AslError`] naming the state and field, rather than half-way through.
//! Unknown fields are never ignored: a typo like `"Retrys"` is an error, as in Step Functions.

use std::collections::{HashMap, HashSet, VecDeque};

use serde_json::{Map, Value};

use crate::choice::{self, ChoiceRule};
use crate::intrinsics::{self, Call};
use crate::paths::{IoPath, Path, ResultPath};
use crate::retry::{self, Catcher, Retrier};
use crate::template::Template;
use crate::{substitute, timestamp, AslError};

/// Name used in errors about machine-level fields.
pub(crate) const TOP_LEVEL: &str = "(top level)";

/// A parsed and validated state machine.
#[derive(Debug, Clone)]
pub struct StateMachine {
    pub(crate) comment: Option<String>,
    pub(crate) start_at: String,
    pub(crate) timeout_seconds: Option<u64>,
    /// Sorted by name (serde_json's map order; the definition's own order is not kept).
    pub(crate) states: Vec<State>,
    pub(crate) index: HashMap<String, usize>,
}

#[derive(Debug, Clone)]
pub(crate) struct State {
    pub name: String,
    pub kind: StateKind,
}

#[derive(Debug, Clone)]
pub(crate) enum StateKind {
    Task(TaskState),
    Pass(PassState),
    Wait(WaitState),
    Choice(ChoiceState),
    Succeed(SucceedState),
    Fail(FailState),
}

impl StateKind {
    pub(crate) fn type_name(&self) -> &'static str {
        match self {
            StateKind::Task(_) => "Task",
            StateKind::Pass(_) => "Pass",
            StateKind::Wait(_) => "Wait",
            StateKind::Choice(_) => "Choice",
            StateKind::Succeed(_) => "Succeed",
            StateKind::Fail(_) => "Fail",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Transition {
    Next(String),
    End,
}

#[derive(Debug, Clone)]
pub(crate) struct TaskState {
    pub resource: String,
    pub input_path: IoPath,
    pub parameters: Option<Template>,
    pub result_selector: Option<Template>,
    pub result_path: ResultPath,
    pub output_path: IoPath,
    pub timeout_seconds: Option<u64>,
    pub retry: Vec<Retrier>,
    pub catch: Vec<Catcher>,
    pub transition: Transition,
}

#[derive(Debug, Clone)]
pub(crate) struct PassState {
    pub input_path: IoPath,
    pub parameters: Option<Template>,
    pub result: Option<Value>,
    pub result_path: ResultPath,
    pub output_path: IoPath,
    pub transition: Transition,
}

#[derive(Debug, Clone)]
pub(crate) enum WaitFor {
    Seconds(u64),
    SecondsPath(Path),
    /// Unix nanoseconds.
    Timestamp(i128),
    TimestampPath(Path),
}

#[derive(Debug, Clone)]
pub(crate) struct WaitState {
    pub input_path: IoPath,
    pub output_path: IoPath,
    pub wait: WaitFor,
    pub transition: Transition,
}

#[derive(Debug, Clone)]
pub(crate) struct ChoiceState {
    pub input_path: IoPath,
    pub output_path: IoPath,
    pub choices: Vec<ChoiceRule>,
    pub default: Option<String>,
}

#[derive(Debug, Clone)]
pub(crate) struct SucceedState {
    pub input_path: IoPath,
    pub output_path: IoPath,
}

/// Where a Fail state's `Error`/`Cause` comes from.
#[derive(Debug, Clone)]
pub(crate) enum Text {
    Literal(String),
    Path(Path),
    Call(Call),
}

#[derive(Debug, Clone)]
pub(crate) struct FailState {
    pub error: Option<Text>,
    pub cause: Option<Text>,
}

const COMMON: &[&str] = &["Type", "Comment"];
const TASK: &[&str] = &[
    "Resource",
    "Next",
    "End",
    "InputPath",
    "OutputPath",
    "Parameters",
    "ResultSelector",
    "ResultPath",
    "Retry",
    "Catch",
    "TimeoutSeconds",
    "HeartbeatSeconds",
];
const PASS: &[&str] = &[
    "Next",
    "End",
    "InputPath",
    "OutputPath",
    "Parameters",
    "Result",
    "ResultPath",
];
const WAIT: &[&str] = &[
    "Next",
    "End",
    "InputPath",
    "OutputPath",
    "Seconds",
    "SecondsPath",
    "Timestamp",
    "TimestampPath",
];
const CHOICE: &[&str] = &["InputPath", "OutputPath", "Choices", "Default"];
const SUCCEED: &[&str] = &["InputPath", "OutputPath"];
const FAIL: &[&str] = &["Error", "Cause", "ErrorPath", "CausePath"];
const MACHINE: &[&str] = &["Comment", "StartAt", "States", "TimeoutSeconds", "Version"];

/// Field access with errors that name the state.
struct Fields<'a> {
    state: &'a str,
    map: &'a Map<String, Value>,
}

impl<'a> Fields<'a> {
    fn check_allowed(&self, allowed: &[&[&str]]) -> Result<(), AslError> {
        for key in self.map.keys() {
            if !allowed.iter().any(|set| set.contains(&key.as_str())) {
                return Err(AslError::unsupported(self.state, format!("field `{key}`")));
            }
        }
        Ok(())
    }

    fn get(&self, key: &str) -> Option<&'a Value> {
        self.map.get(key)
    }

    fn string(&self, key: &str) -> Result<Option<&'a str>, AslError> {
        match self.map.get(key) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(v) => Err(AslError::invalid(
                self.state,
                format!("{key} must be a string, got {v}"),
            )),
        }
    }

    fn required_string(&self, key: &str) -> Result<&'a str, AslError> {
        self.string(key)?
            .ok_or_else(|| AslError::invalid(self.state, format!("{key} is required")))
    }

    fn uint(&self, key: &str, min: u64) -> Result<Option<u64>, AslError> {
        match self.map.get(key) {
            None => Ok(None),
            Some(v) => match v.as_u64() {
                Some(n) if n >= min && n <= 99_999_999 => Ok(Some(n)),
                _ => Err(AslError::invalid(
                    self.state,
                    format!("{key} must be an integer in {min}..=99999999, got {v}"),
                )),
            },
        }
    }

    fn io_path(&self, key: &str) -> Result<IoPath, AslError> {
        match self.map.get(key) {
            None => Ok(IoPath::identity()),
            Some(Value::Null) => Ok(IoPath::Null),
            Some(Value::String(s)) => Ok(IoPath::Path(
                Path::parse(s, false).map_err(|e| e.at(self.state, key, s))?,
            )),
            Some(v) => Err(AslError::invalid(
                self.state,
                format!("{key} must be a path string or null, got {v}"),
            )),
        }
    }

    fn template(&self, key: &str) -> Result<Option<Template>, AslError> {
        match self.map.get(key) {
            None => Ok(None),
            Some(v @ Value::Object(_)) => Ok(Some(Template::compile(v, self.state, key)?)),
            Some(v) => Err(AslError::invalid(
                self.state,
                format!("{key} must be an object, got {v}"),
            )),
        }
    }

    fn transition(&self) -> Result<Transition, AslError> {
        match (self.string("Next")?, self.map.get("End")) {
            (Some(next), None) => Ok(Transition::Next(next.to_string())),
            (None, Some(Value::Bool(true))) => Ok(Transition::End),
            (None, Some(v)) => Err(AslError::invalid(
                self.state,
                format!("End must be true when present, got {v}"),
            )),
            (Some(_), Some(_)) => Err(AslError::invalid(
                self.state,
                "Next and End are mutually exclusive",
            )),
            (None, None) => Err(AslError::invalid(
                self.state,
                "needs either Next or End: true",
            )),
        }
    }

    /// `Error`/`ErrorPath` (or `Cause`/`CausePath`) of a Fail state.
    fn fail_text(&self, literal: &str, path: &str) -> Result<Option<Text>, AslError> {
        match (self.string(literal)?, self.string(path)?) {
            (Some(_), Some(_)) => Err(AslError::invalid(
                self.state,
                format!("{literal} and {path} are mutually exclusive"),
            )),
            (Some(s), None) => Ok(Some(Text::Literal(s.to_string()))),
            (None, Some(expr)) if expr.starts_with("States.") => Ok(Some(Text::Call(
                intrinsics::parse(expr).map_err(|e| e.at(self.state, path, expr))?,
            ))),
            (None, Some(p)) => Ok(Some(Text::Path(
                Path::parse(p, true).map_err(|e| e.at(self.state, path, p))?,
            ))),
            (None, None) => Ok(None),
        }
    }
}

fn parse_state(name: &str, value: &Value) -> Result<State, AslError> {
    let Value::Object(map) = value else {
        return Err(AslError::invalid(name, "a state must be a JSON object"));
    };
    let f = Fields { state: name, map };
    f.string("Comment")?;
    let ty = f.required_string("Type")?;
    let kind = match ty {
        "Task" => {
            f.check_allowed(&[COMMON, TASK])?;
            let timeout_seconds = f.uint("TimeoutSeconds", 1)?;
            // Accepted for compatibility with the deployed definition; heartbeats only matter
            // for activities and callback tasks, which this executor does not run.
            if let Some(hb) = f.uint("HeartbeatSeconds", 1)? {
                if timeout_seconds.is_some_and(|t| hb >= t) {
                    return Err(AslError::invalid(
                        name,
                        "HeartbeatSeconds must be smaller than TimeoutSeconds",
                    ));
                }
            }
            let resource = f.required_string("Resource")?;
            if resource.is_empty() {
                return Err(AslError::invalid(name, "Resource must not be empty"));
            }
            StateKind::Task(TaskState {
                resource: resource.to_string(),
                input_path: f.io_path("InputPath")?,
                parameters: f.template("Parameters")?,
                result_selector: f.template("ResultSelector")?,
                result_path: retry::parse_result_path(name, "ResultPath", f.get("ResultPath"))?,
                output_path: f.io_path("OutputPath")?,
                timeout_seconds,
                retry: f
                    .get("Retry")
                    .map(|v| retry::parse_retry(name, v))
                    .transpose()?
                    .unwrap_or_default(),
                catch: f
                    .get("Catch")
                    .map(|v| retry::parse_catch(name, v))
                    .transpose()?
                    .unwrap_or_default(),
                transition: f.transition()?,
            })
        }
        "Pass" => {
            f.check_allowed(&[COMMON, PASS])?;
            StateKind::Pass(PassState {
                input_path: f.io_path("InputPath")?,
                parameters: f.template("Parameters")?,
                result: f.get("Result").cloned(),
                result_path: retry::parse_result_path(name, "ResultPath", f.get("ResultPath"))?,
                output_path: f.io_path("OutputPath")?,
                transition: f.transition()?,
            })
        }
        "Wait" => {
            f.check_allowed(&[COMMON, WAIT])?;
            let given: Vec<&str> = ["Seconds", "SecondsPath", "Timestamp", "TimestampPath"]
                .into_iter()
                .filter(|k| map.contains_key(*k))
                .collect();
            if given.len() != 1 {
                return Err(AslError::invalid(name, "a Wait state needs exactly one of Seconds, SecondsPath, Timestamp, TimestampPath"));
            }
            let path = |key: &str| -> Result<Path, AslError> {
                let p = f.required_string(key)?;
                Path::parse(p, true).map_err(|e| e.at(name, key, p))
            };
            let wait = match given[0] {
                "Seconds" => WaitFor::Seconds(f.uint("Seconds", 0)?.expect("present")),
                "SecondsPath" => WaitFor::SecondsPath(path("SecondsPath")?),
                "Timestamp" => {
                    let s = f.required_string("Timestamp")?;
                    WaitFor::Timestamp(timestamp::parse(s).ok_or_else(|| {
                        AslError::invalid(
                            name,
                            format!("Timestamp `{s}` is not an RFC 3339 timestamp"),
                        )
                    })?)
                }
                _ => WaitFor::TimestampPath(path("TimestampPath")?),
            };
            StateKind::Wait(WaitState {
                input_path: f.io_path("InputPath")?,
                output_path: f.io_path("OutputPath")?,
                wait,
                transition: f.transition()?,
            })
        }
        "Choice" => {
            f.check_allowed(&[COMMON, CHOICE])?;
            let choices = f
                .get("Choices")
                .ok_or_else(|| AslError::invalid(name, "Choices is required"))?;
            StateKind::Choice(ChoiceState {
                input_path: f.io_path("InputPath")?,
                output_path: f.io_path("OutputPath")?,
                choices: choice::parse_choices(name, choices)?,
                default: f.string("Default")?.map(str::to_string),
            })
        }
        "Succeed" => {
            f.check_allowed(&[COMMON, SUCCEED])?;
            StateKind::Succeed(SucceedState {
                input_path: f.io_path("InputPath")?,
                output_path: f.io_path("OutputPath")?,
            })
        }
        "Fail" => {
            f.check_allowed(&[COMMON, FAIL])?;
            StateKind::Fail(FailState {
                error: f.fail_text("Error", "ErrorPath")?,
                cause: f.fail_text("Cause", "CausePath")?,
            })
        }
        other => return Err(AslError::unsupported(name, format!("state type `{other}`"))),
    };
    Ok(State {
        name: name.to_string(),
        kind,
    })
}

/// Every (field, target) transition of a state, for reference and reachability checks.
fn targets(state: &State) -> Vec<(String, &str)> {
    let mut out = Vec::new();
    fn next(t: &Transition) -> Option<&str> {
        match t {
            Transition::Next(n) => Some(n.as_str()),
            Transition::End => None,
        }
    }
    match &state.kind {
        StateKind::Task(t) => {
            out.extend(next(&t.transition).map(|n| ("Next".to_string(), n)));
            out.extend(
                t.catch
                    .iter()
                    .enumerate()
                    .map(|(i, c)| (format!("Catch[{i}].Next"), c.next.as_str())),
            );
        }
        StateKind::Pass(p) => out.extend(next(&p.transition).map(|n| ("Next".to_string(), n))),
        StateKind::Wait(w) => out.extend(next(&w.transition).map(|n| ("Next".to_string(), n))),
        StateKind::Choice(c) => {
            out.extend(
                c.choices
                    .iter()
                    .enumerate()
                    .map(|(i, r)| (format!("Choices[{i}].Next"), r.next.as_str())),
            );
            out.extend(c.default.as_deref().map(|d| ("Default".to_string(), d)));
        }
        StateKind::Succeed(_) | StateKind::Fail(_) => {}
    }
    out
}

/// Finds a `${Name}` left in any string of the definition: the caller forgot to substitute.
fn find_placeholder(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => substitute::placeholder_names(s)
            .ok()
            .and_then(|n| n.into_iter().next()),
        Value::Array(a) => a.iter().find_map(find_placeholder),
        Value::Object(m) => m.values().find_map(find_placeholder),
        _ => None,
    }
}

impl StateMachine {
    /// Parses and validates a definition.
    pub fn from_value(definition: &Value) -> Result<StateMachine, AslError> {
        let Value::Object(map) = definition else {
            return Err(AslError::invalid(
                TOP_LEVEL,
                "a definition must be a JSON object",
            ));
        };
        let f = Fields {
            state: TOP_LEVEL,
            map,
        };
        f.check_allowed(&[MACHINE])?;
        if let Some(v) = f.string("Version")? {
            if v != "1.0" {
                return Err(AslError::unsupported(TOP_LEVEL, format!("Version `{v}`")));
            }
        }
        if let Some(name) = find_placeholder(definition) {
            return Err(AslError::invalid(
                TOP_LEVEL,
                format!("`${{{name}}}` was not substituted (see substitute())"),
            ));
        }
        let comment = f.string("Comment")?.map(str::to_string);
        let start_at = f.required_string("StartAt")?.to_string();
        let timeout_seconds = f.uint("TimeoutSeconds", 1)?;
        let Some(Value::Object(states_map)) = f.get("States") else {
            return Err(AslError::invalid(TOP_LEVEL, "States must be an object"));
        };
        if states_map.is_empty() {
            return Err(AslError::invalid(TOP_LEVEL, "States must not be empty"));
        }
        let mut states = Vec::with_capacity(states_map.len());
        let mut index = HashMap::with_capacity(states_map.len());
        for (name, v) in states_map {
            if name.is_empty() || name.chars().count() > 80 {
                return Err(AslError::invalid(
                    name,
                    "state names must be 1 to 80 characters",
                ));
            }
            index.insert(name.clone(), states.len());
            states.push(parse_state(name, v)?);
        }
        if !index.contains_key(&start_at) {
            return Err(AslError::UnknownState {
                state: TOP_LEVEL.into(),
                field: "StartAt".into(),
                target: start_at,
            });
        }
        for s in &states {
            for (field, target) in targets(s) {
                if !index.contains_key(target) {
                    return Err(AslError::UnknownState {
                        state: s.name.clone(),
                        field,
                        target: target.to_string(),
                    });
                }
            }
        }
        // Step Functions refuses definitions with states no path reaches; so do we.
        let mut seen = HashSet::from([start_at.as_str()]);
        let mut queue = VecDeque::from([start_at.as_str()]);
        while let Some(name) = queue.pop_front() {
            for (_, t) in targets(&states[index[name]]) {
                if seen.insert(t) {
                    queue.push_back(t);
                }
            }
        }
        if let Some(s) = states.iter().find(|s| !seen.contains(s.name.as_str())) {
            return Err(AslError::invalid(
                &s.name,
                format!("state is not reachable from StartAt `{start_at}`"),
            ));
        }
        Ok(StateMachine {
            comment,
            start_at,
            timeout_seconds,
            states,
            index,
        })
    }

    /// Parses JSON text and validates it.
    pub fn from_json(text: &str) -> Result<StateMachine, AslError> {
        let v: Value = serde_json::from_str(text).map_err(|e| AslError::Json(e.to_string()))?;
        StateMachine::from_value(&v)
    }

    /// Applies `DefinitionSubstitutions` to an ASL file's text, then parses and validates it.
    pub fn from_template(
        text: &str,
        substitutions: &HashMap<String, String>,
    ) -> Result<StateMachine, AslError> {
        StateMachine::from_json(&substitute::substitute(text, substitutions)?)
    }

    pub fn comment(&self) -> Option<&str> {
        self.comment.as_deref()
    }

    pub fn start_at(&self) -> &str {
        &self.start_at
    }

    /// Machine-level `TimeoutSeconds`.
    pub fn timeout_seconds(&self) -> Option<u64> {
        self.timeout_seconds
    }

    /// State names, sorted (whatever order the definition's map had).
    pub fn state_names(&self) -> impl Iterator<Item = &str> {
        let mut names: Vec<&str> = self.states.iter().map(|s| s.name.as_str()).collect();
        names.sort_unstable();
        names.into_iter()
    }

    /// `(state name, Resource)` of every Task, sorted by state name.
    pub fn task_resources(&self) -> Vec<(&str, &str)> {
        let mut tasks = self
            .states
            .iter()
            .filter_map(|s| match &s.kind {
                StateKind::Task(t) => Some((s.name.as_str(), t.resource.as_str())),
                _ => None,
            })
            .collect::<Vec<_>>();
        tasks.sort_unstable();
        tasks
    }

    pub(crate) fn state(&self, name: &str) -> &State {
        &self.states[self.index[name]]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn machine(states: Value) -> Result<StateMachine, AslError> {
        StateMachine::from_value(&json!({"StartAt": "A", "States": states}))
    }

    #[test]
    fn accepts_every_supported_field() {
        let m = StateMachine::from_value(&json!({
            "Comment": "all fields", "Version": "1.0", "TimeoutSeconds": 3600, "StartAt": "T",
            "States": {
                "T": {"Type": "Task", "Comment": "c", "Resource": "arn:aws:lambda:us-east-1:1:function:f",
                      "InputPath": "$.in", "Parameters": {"a.$": "$.x"}, "ResultSelector": {"r.$": "$.y"},
                      "ResultPath": "$.res", "OutputPath": "$", "TimeoutSeconds": 60, "HeartbeatSeconds": 30,
                      "Retry": [{"ErrorEquals": ["E"], "IntervalSeconds": 2, "MaxAttempts": 6, "BackoffRate": 2,
                                 "MaxDelaySeconds": 30, "JitterStrategy": "FULL", "Comment": "r"}],
                      "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "F", "ResultPath": "$.error", "Comment": "c"}],
                      "Next": "P"},
                "P": {"Type": "Pass", "InputPath": null, "Parameters": {}, "Result": 1, "ResultPath": null, "OutputPath": null, "Next": "W"},
                "W": {"Type": "Wait", "SecondsPath": "$.s", "InputPath": "$", "OutputPath": "$", "Next": "C"},
                "C": {"Type": "Choice", "InputPath": "$", "OutputPath": "$",
                      "Choices": [{"Variable": "$.a", "IsPresent": true, "Next": "S", "Comment": "x"}], "Default": "F"},
                "S": {"Type": "Succeed", "InputPath": "$", "OutputPath": "$", "Comment": "ok"},
                "F": {"Type": "Fail", "ErrorPath": "$.error.Error", "CausePath": "States.Format('x {}', $.c)"}
            }
        }))
        .unwrap();
        assert_eq!(m.start_at(), "T");
        assert_eq!(m.timeout_seconds(), Some(3600));
        // Map order depends on serde_json's `preserve_order` feature, which another crate in
        // the workspace may switch on: compare as a set.
        let mut names = m.state_names().collect::<Vec<_>>();
        names.sort_unstable();
        assert_eq!(names, vec!["C", "F", "P", "S", "T", "W"]);
        assert_eq!(
            m.task_resources(),
            vec![("T", "arn:aws:lambda:us-east-1:1:function:f")]
        );
    }

    #[test]
    fn rejects_unknown_fields_and_state_types_naming_them() {
        let e = machine(json!({"A": {"Type": "Pass", "End": true, "Retrys": []}})).unwrap_err();
        assert_eq!(
            e,
            AslError::Unsupported {
                state: "A".into(),
                field: "field `Retrys`".into()
            }
        );
        let e = machine(json!({"A": {"Type": "Map", "End": true}})).unwrap_err();
        assert_eq!(
            e,
            AslError::Unsupported {
                state: "A".into(),
                field: "state type `Map`".into()
            }
        );
        assert!(matches!(
            machine(json!({"A": {"Type": "Parallel", "End": true, "Branches": []}})),
            Err(AslError::Unsupported { .. })
        ));
        // Valid ASL, but not on this state type.
        assert!(matches!(
            machine(json!({"A": {"Type": "Pass", "End": true, "ResultSelector": {}}})),
            Err(AslError::Unsupported { .. })
        ));
        assert!(matches!(
            machine(
                json!({"A": {"Type": "Task", "Resource": "r", "End": true, "Credentials": {}}})
            ),
            Err(AslError::Unsupported { .. })
        ));
        assert!(matches!(
            machine(json!({"A": {"Type": "Succeed", "Assign": {}}})),
            Err(AslError::Unsupported { .. })
        ));
        let e = StateMachine::from_value(&json!({"StartAt": "A", "QueryLanguage": "JSONata", "States": {"A": {"Type": "Succeed"}}})).unwrap_err();
        assert_eq!(
            e,
            AslError::Unsupported {
                state: TOP_LEVEL.into(),
                field: "field `QueryLanguage`".into()
            }
        );
    }

    #[test]
    fn rejects_dangling_references() {
        let e = machine(json!({"A": {"Type": "Pass", "Next": "Nope"}})).unwrap_err();
        assert_eq!(
            e,
            AslError::UnknownState {
                state: "A".into(),
                field: "Next".into(),
                target: "Nope".into()
            }
        );
        let e = StateMachine::from_value(
            &json!({"StartAt": "X", "States": {"A": {"Type": "Succeed"}}}),
        )
        .unwrap_err();
        assert!(matches!(e, AslError::UnknownState { field, .. } if field == "StartAt"));
        let e = machine(json!({"A": {"Type": "Task", "Resource": "r", "End": true, "Catch": [{"ErrorEquals": ["E"], "Next": "Gone"}]}})).unwrap_err();
        assert!(matches!(e, AslError::UnknownState { field, .. } if field == "Catch[0].Next"));
        let e = machine(json!({"A": {"Type": "Choice", "Choices": [{"Variable": "$.x", "IsNull": true, "Next": "A"}], "Default": "Gone"}})).unwrap_err();
        assert!(matches!(e, AslError::UnknownState { field, .. } if field == "Default"));
    }

    #[test]
    fn rejects_structural_mistakes() {
        let inv = |states: Value| matches!(machine(states), Err(AslError::Invalid { .. }));
        assert!(inv(json!({"A": {"Type": "Pass"}})));
        assert!(inv(
            json!({"A": {"Type": "Pass", "End": true, "Next": "A"}})
        ));
        assert!(inv(json!({"A": {"Type": "Pass", "End": false}})));
        assert!(inv(json!({"A": {"Type": "Task", "End": true}})));
        assert!(inv(
            json!({"A": {"Type": "Task", "Resource": "r", "End": true, "TimeoutSeconds": 0}})
        ));
        assert!(inv(
            json!({"A": {"Type": "Task", "Resource": "r", "End": true, "TimeoutSeconds": 10, "HeartbeatSeconds": 10}})
        ));
        assert!(inv(json!({"A": {"Type": "Wait", "End": true}})));
        assert!(inv(
            json!({"A": {"Type": "Wait", "End": true, "Seconds": 1, "SecondsPath": "$.s"}})
        ));
        assert!(inv(
            json!({"A": {"Type": "Wait", "End": true, "Timestamp": "tomorrow"}})
        ));
        assert!(inv(
            json!({"A": {"Type": "Fail", "Error": "E", "ErrorPath": "$.e"}})
        ));
        assert!(
            inv(json!({"A": {"Type": "Succeed"}, "B": {"Type": "Succeed"}})),
            "unreachable B"
        );
        assert!(inv(
            json!({"A": {"Type": "Pass", "End": true, "Parameters": {"x.$": "no path"}}})
        ));
        assert!(
            inv(json!({"A": {"Type": "Task", "Resource": "${FnArn}", "End": true}})),
            "unsubstituted"
        );
        assert!(inv(json!({})));
    }

    #[test]
    fn from_template_substitutes_then_parses() {
        let text =
            r#"{"StartAt":"A","States":{"A":{"Type":"Task","Resource":"${Fn}","End":true}}}"#;
        let vars = HashMap::from([(
            "Fn".to_string(),
            "arn:aws:lambda:r:1:function:f".to_string(),
        )]);
        let m = StateMachine::from_template(text, &vars).unwrap();
        assert_eq!(m.task_resources()[0].1, "arn:aws:lambda:r:1:function:f");
        assert_eq!(
            StateMachine::from_template(text, &HashMap::new()).unwrap_err(),
            AslError::UndefinedSubstitution { name: "Fn".into() }
        );
        assert!(matches!(
            StateMachine::from_json("{not json"),
            Err(AslError::Json(_))
        ));
    }
}
