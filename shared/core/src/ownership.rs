//! Who may change a deployment through the API: the principal that created it, or one of the
//! installation's operators. A canary *name* belongs to the first principal that used it (a
//! claim in the deployment store), so another caller can neither upload under it nor start a
//! deployment of it. The stack's own functions (cleanup, the workflows) do not go through
//! this check: they act for the installation.
//!
//! Principals are IAM ARNs as API Gateway's IAM authoriser reports them. An owner matches
//! exactly (two sessions of one role are different owners when their session names differ).
//! An operator entry matches exactly, or, when it names a role
//! (`arn:aws:iam::<account>:role/[path/]<name>`), every session of that role
//! (`arn:aws:sts::<account>:assumed-role/<name>/<session>`).

/// The installation's operators and the rule above.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Ownership {
    pub operators: Vec<String>,
}

/// Why a caller may not act on a deployment or a name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NotOwner {
    #[error(
        "{what} belongs to {owner}; {caller} may not change it (ask its owner, or an operator listed in the \
         installation's OperatorArns)"
    )]
    OwnedByAnother { what: String, owner: String, caller: String },
    #[error(
        "{what} has no recorded owner (it was uploaded straight to S3 or made by an older Aviary), so only an operator \
         listed in the installation's OperatorArns may change it through the API; {caller} is not one"
    )]
    NoOwner { what: String, caller: String },
    #[error("the request carries no authenticated caller, so it cannot change {what}")]
    Unidentified { what: String },
}

impl Ownership {
    /// From the comma-separated `AVIARY_OPERATORS` value.
    pub fn from_list(value: &str) -> Ownership {
        Ownership { operators: value.split(',').map(str::trim).filter(|s| !s.is_empty()).map(str::to_string).collect() }
    }

    pub fn is_operator(&self, caller: &str) -> bool {
        self.operators.iter().any(|op| principal_matches(op, caller))
    }

    /// Whether `caller` may change `what` (a deployment id or a canary name) owned by `owner`.
    pub fn authorize(&self, what: &str, owner: Option<&str>, caller: Option<&str>) -> Result<(), NotOwner> {
        let Some(caller) = caller.filter(|c| !c.is_empty()) else {
            return Err(NotOwner::Unidentified { what: what.to_string() });
        };
        if self.is_operator(caller) {
            return Ok(());
        }
        match owner {
            Some(owner) if owner == caller => Ok(()),
            Some(owner) => Err(NotOwner::OwnedByAnother { what: what.into(), owner: owner.into(), caller: caller.into() }),
            None => Err(NotOwner::NoOwner { what: what.into(), caller: caller.into() }),
        }
    }
}

/// `entry` (from the operators list) names `caller`: the same ARN, or a role and one of its
/// sessions.
fn principal_matches(entry: &str, caller: &str) -> bool {
    if entry == caller {
        return true;
    }
    let (Some(role), Some(session)) = (role_of(entry), assumed_role_of(caller)) else {
        return false;
    };
    role == session
}

/// `arn:aws:iam::<account>:role/[path/]<name>` → (partition, account, name).
fn role_of(arn: &str) -> Option<(&str, &str, &str)> {
    let mut parts = arn.splitn(6, ':');
    let (Some("arn"), Some(partition), Some("iam"), Some(""), Some(account), Some(resource)) =
        (parts.next(), parts.next(), parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return None;
    };
    let name = resource.strip_prefix("role/")?.rsplit('/').next()?;
    (!name.is_empty() && !account.is_empty()).then_some((partition, account, name))
}

/// `arn:aws:sts::<account>:assumed-role/<name>/<session>` → (partition, account, name).
fn assumed_role_of(arn: &str) -> Option<(&str, &str, &str)> {
    let mut parts = arn.splitn(6, ':');
    let (Some("arn"), Some(partition), Some("sts"), Some(""), Some(account), Some(resource)) =
        (parts.next(), parts.next(), parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return None;
    };
    let mut segments = resource.strip_prefix("assumed-role/")?.splitn(2, '/');
    let (Some(name), Some(session)) = (segments.next(), segments.next()) else {
        return None;
    };
    (!name.is_empty() && !session.is_empty() && !account.is_empty()).then_some((partition, account, name))
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALICE: &str = "arn:aws:iam::111122223333:user/alice";
    const BOB: &str = "arn:aws:iam::111122223333:user/bob";
    const SRE_SESSION: &str = "arn:aws:sts::111122223333:assumed-role/sre/carol@example.com";

    #[test]
    fn the_owner_may_act_and_nobody_else() {
        let o = Ownership::default();
        assert!(o.authorize("d-1", Some(ALICE), Some(ALICE)).is_ok());
        let e = o.authorize("d-1", Some(ALICE), Some(BOB)).unwrap_err();
        assert!(matches!(e, NotOwner::OwnedByAnother { .. }));
        let text = e.to_string();
        assert!(text.contains(ALICE) && text.contains(BOB) && text.contains("OperatorArns"), "{text}");
    }

    #[test]
    fn an_unowned_record_is_for_operators_only() {
        let o = Ownership::from_list(&format!(" {BOB} ,"));
        assert!(matches!(o.authorize("d-1", None, Some(ALICE)), Err(NotOwner::NoOwner { .. })));
        assert!(o.authorize("d-1", None, Some(BOB)).is_ok());
    }

    #[test]
    fn an_unidentified_caller_never_acts() {
        let o = Ownership::from_list(ALICE);
        assert!(matches!(o.authorize("d-1", Some(ALICE), None), Err(NotOwner::Unidentified { .. })));
        assert!(matches!(o.authorize("d-1", None, Some("")), Err(NotOwner::Unidentified { .. })));
    }

    #[test]
    fn a_role_operator_covers_every_session_of_that_role_only() {
        let o = Ownership::from_list("arn:aws:iam::111122223333:role/ops/sre");
        assert!(o.is_operator(SRE_SESSION));
        assert!(o.authorize("d-1", Some(ALICE), Some(SRE_SESSION)).is_ok());
        // Another account, another role, a user of the same name, a role ARN that is not a session.
        assert!(!o.is_operator("arn:aws:sts::999999999999:assumed-role/sre/carol"));
        assert!(!o.is_operator("arn:aws:sts::111122223333:assumed-role/sre-admin/carol"));
        assert!(!o.is_operator("arn:aws:iam::111122223333:user/sre"));
        assert!(!o.is_operator("arn:aws:sts::111122223333:assumed-role/sre/"));
        // Sessions of one role are different owners.
        let other_session = "arn:aws:sts::111122223333:assumed-role/sre/dave";
        assert!(Ownership::default().authorize("d-1", Some(SRE_SESSION), Some(other_session)).is_err());
    }
}
