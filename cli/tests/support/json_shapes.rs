//! The `--json` shapes docs/cli.md documents ("JSON output"), checked against real output: each
//! command's always-present fields, and the conventions every document follows (RFC 3339 times,
//! numeric priorities, one shape of weights).

use serde_json::Value;

/// Keys that hold times, wherever they appear.
const TIME_KEYS: [&str; 9] = ["createdAt", "updatedAt", "expiresAt", "healthDeadline", "trafficLeaseUntil", "time", "through", "start", "end"];

fn doc() -> String {
    std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/cli.md")).expect("docs/cli.md")
}

/// The table's rows: (command, fields always present), "a deployment" expanded.
pub fn documented() -> Vec<(String, Vec<String>)> {
    let doc = doc();
    let section = doc.split("## JSON output").nth(1).expect("docs/cli.md has a JSON output section");
    let section = section.split("\n## ").next().unwrap();
    let ticked = |cell: &str| -> Vec<String> { cell.split('`').skip(1).step_by(2).map(str::to_string).collect() };
    let mut rows = Vec::new();
    let mut deployment = Vec::new();
    for line in section.lines().filter(|l| l.starts_with("| ") && !l.starts_with("| ---") && !l.starts_with("| Command")) {
        let cells: Vec<&str> = line.trim_matches('|').split(" | ").map(str::trim).collect();
        assert_eq!(cells.len(), 3, "a JSON output row has 3 cells: {line}");
        if cells[0] == "(a deployment)" {
            deployment = ticked(cells[2]);
            continue;
        }
        let command = cells[0].trim_matches('`').to_string();
        let fields = if cells[2] == "a deployment" { deployment.clone() } else { ticked(cells[2]) };
        assert!(!fields.is_empty(), "no fields documented for {command}");
        rows.push((command, fields));
    }
    assert!(!deployment.is_empty(), "the deployment's fields are documented");
    rows
}

/// The documented fields of `command`.
pub fn fields_of(command: &str) -> Vec<String> {
    documented().into_iter().find(|(c, _)| c == command).unwrap_or_else(|| panic!("docs/cli.md documents no JSON for `{command}`")).1
}

/// Checks one document of `command` (each element of an array): the documented fields, and the
/// conventions everywhere inside it.
pub fn check(command: &str, v: &Value) {
    let fields = fields_of(command);
    let docs: Vec<&Value> = match v {
        Value::Array(items) => items.iter().collect(),
        other => vec![other],
    };
    for d in docs {
        let obj = d.as_object().unwrap_or_else(|| panic!("`{command} --json`: not an object: {d}"));
        for f in &fields {
            assert!(obj.contains_key(f), "`{command} --json` lacks the documented field `{f}`: {d}");
        }
    }
    conventions(command, "", v);
}

fn conventions(command: &str, path: &str, v: &Value) {
    match v {
        Value::Object(map) => {
            for (k, x) in map {
                let here = format!("{path}.{k}");
                assert_ne!(k, "atMs", "`{command} --json`: {here}: times are RFC 3339 (`time`), not milliseconds");
                if TIME_KEYS.contains(&k.as_str()) && !x.is_null() {
                    let t = x.as_str().unwrap_or_else(|| panic!("`{command} --json`: {here} is a time and must be an RFC 3339 string: {x}"));
                    assert!(aviary_core::times::parse_rfc3339(t).is_some() && t.ends_with('Z'), "`{command} --json`: {here} = {t:?} is not RFC 3339 UTC");
                }
                if k == "priority" {
                    assert!(x.is_u64() || x.is_null(), "`{command} --json`: {here} must be a number (null: the default rule): {x}");
                }
                if k == "weights" && !x.is_null() {
                    let list = x.as_array().unwrap_or_else(|| panic!("`{command} --json`: {here} must be a list: {x}"));
                    for w in list {
                        for f in ["role", "targetGroupArn", "weight"] {
                            assert!(w.get(f).is_some(), "`{command} --json`: {here} entries have `{f}`: {w}");
                        }
                    }
                }
                conventions(command, &here, x);
            }
        }
        Value::Array(items) => {
            for (i, x) in items.iter().enumerate() {
                conventions(command, &format!("{path}[{i}]"), x);
            }
        }
        _ => {}
    }
}
