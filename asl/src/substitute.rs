//! `DefinitionSubstitutions`: the `${Name}` placeholders that SAM / CloudFormation replace in an
//! ASL file before creating the state machine (function ARNs, table names, ...).
//!
//! The local executor must run the same files, so it performs the same textual replacement.
//! Unlike CloudFormation we refuse to leave an unknown `${...}` in place: a placeholder the
//! template forgot to define would otherwise surface much later as a confusing Resource string.

use std::collections::{BTreeSet, HashMap};

use crate::AslError;

/// One `${Name}` occurrence: its byte range in the text and the name inside.
struct Placeholder<'a> {
    start: usize,
    end: usize,
    name: &'a str,
}

fn valid_name_char(c: char) -> bool {
    // Logical IDs and map keys as used in templates: letters, digits and a few separators.
    c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | ':')
}

fn scan(text: &str) -> Result<Vec<Placeholder<'_>>, AslError> {
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(rel) = text[from..].find("${") {
        let start = from + rel;
        let name_start = start + 2;
        let Some(close_rel) = text[name_start..].find('}') else {
            return Err(AslError::MalformedSubstitution {
                offset: start,
                reason: "`${` without a closing `}`".into(),
            });
        };
        let name = &text[name_start..name_start + close_rel];
        if name.is_empty() || !name.chars().all(valid_name_char) {
            return Err(AslError::MalformedSubstitution {
                offset: start,
                reason: format!(
                    "`${{{name}}}` is not a placeholder name (letters, digits, _ - . :)"
                ),
            });
        }
        let end = name_start + close_rel + 1;
        out.push(Placeholder { start, end, name });
        from = end;
    }
    Ok(out)
}

/// Replaces every `${Name}` in `text` with `vars[Name]`.
///
/// Values are inserted verbatim (as CloudFormation does), so a value used inside a JSON string
/// must not contain `"` or `\`; ARNs and names never do.
/// Errors: [`AslError::UndefinedSubstitution`] for a name missing from `vars`,
/// [`AslError::MalformedSubstitution`] for an unterminated or empty placeholder.
pub fn substitute(text: &str, vars: &HashMap<String, String>) -> Result<String, AslError> {
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    for p in scan(text)? {
        let value = vars
            .get(p.name)
            .ok_or_else(|| AslError::UndefinedSubstitution {
                name: p.name.to_string(),
            })?;
        out.push_str(&text[copied..p.start]);
        out.push_str(value);
        copied = p.end;
    }
    out.push_str(&text[copied..]);
    Ok(out)
}

/// The distinct placeholder names used in `text`, sorted — e.g. to check that a SAM template's
/// `DefinitionSubstitutions` defines exactly what each ASL file uses.
pub fn placeholder_names(text: &str) -> Result<BTreeSet<String>, AslError> {
    Ok(scan(text)?
        .into_iter()
        .map(|p| p.name.to_string())
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn replaces_every_occurrence() {
        let text = r#"{"Resource":"${ProvisionArn}","Other":"${ProvisionArn}-x ${Table}"}"#;
        let out = substitute(
            text,
            &vars(&[
                ("ProvisionArn", "arn:aws:lambda:r:1:function:p"),
                ("Table", "t"),
            ]),
        )
        .unwrap();
        assert_eq!(
            out,
            r#"{"Resource":"arn:aws:lambda:r:1:function:p","Other":"arn:aws:lambda:r:1:function:p-x t"}"#
        );
    }

    #[test]
    fn text_without_placeholders_is_unchanged() {
        let text = r#"{"a.$":"$.b","c":"$ {not} {}"}"#;
        assert_eq!(substitute(text, &HashMap::new()).unwrap(), text);
    }

    #[test]
    fn undefined_name_is_an_error() {
        let err = substitute("x ${Known} ${Missing}", &vars(&[("Known", "k")])).unwrap_err();
        assert_eq!(
            err,
            AslError::UndefinedSubstitution {
                name: "Missing".into()
            }
        );
    }

    #[test]
    fn malformed_placeholders_are_errors() {
        assert!(matches!(
            substitute("a ${Open", &HashMap::new()),
            Err(AslError::MalformedSubstitution { offset: 2, .. })
        ));
        assert!(matches!(
            substitute("${}", &HashMap::new()),
            Err(AslError::MalformedSubstitution { .. })
        ));
        assert!(matches!(
            substitute("${a b}", &vars(&[("a b", "x")])),
            Err(AslError::MalformedSubstitution { .. })
        ));
    }

    #[test]
    fn value_containing_placeholder_syntax_is_not_rescanned() {
        let out = substitute("${A}", &vars(&[("A", "${B}")])).unwrap();
        assert_eq!(out, "${B}");
    }

    #[test]
    fn lists_distinct_names_sorted() {
        let names = placeholder_names("${B} ${A} ${B} ${Fn.Arn}").unwrap();
        assert_eq!(
            names.into_iter().collect::<Vec<_>>(),
            vec!["A", "B", "Fn.Arn"]
        );
    }
}
