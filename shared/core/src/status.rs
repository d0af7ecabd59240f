//! The deployment status state machine: which transitions are legal.
//!
//! Every status write in DynamoDB is conditional on the status it leaves (see
//! the deployment store port), and this table decides which `from` statuses a writer may leave,
//! so a stale writer (a workflow step racing a destroy request) can never overwrite newer state.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Status {
    /// Accepted; the workflow is starting.
    Pending,
    /// Instances and security groups are being created.
    Provisioning,
    /// Target groups are being created and instances registered.
    Registering,
    /// The listener rule is being added (baseline and canary at weight 0).
    Routing,
    /// Waiting for both target groups to report healthy.
    WaitingHealthy,
    /// Baseline and canary take their share of traffic.
    Active,
    /// The rule and every created resource are being removed.
    TearingDown,
    /// Torn down on request or by cleanup (TTL).
    Destroyed,
    /// Torn down after a failure; `statusReason` says which.
    Failed,
    /// Refused before anything was created; `statusReason` says why.
    Rejected,
}

impl Status {
    pub const ALL: [Status; 10] = [
        Status::Pending,
        Status::Provisioning,
        Status::Registering,
        Status::Routing,
        Status::WaitingHealthy,
        Status::Active,
        Status::TearingDown,
        Status::Destroyed,
        Status::Failed,
        Status::Rejected,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pending => "PENDING",
            Status::Provisioning => "PROVISIONING",
            Status::Registering => "REGISTERING",
            Status::Routing => "ROUTING",
            Status::WaitingHealthy => "WAITING_HEALTHY",
            Status::Active => "ACTIVE",
            Status::TearingDown => "TEARING_DOWN",
            Status::Destroyed => "DESTROYED",
            Status::Failed => "FAILED",
            Status::Rejected => "REJECTED",
        }
    }

    pub fn parse(s: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|st| st.as_str() == s)
    }

    /// Nothing more will happen to a deployment in a final status.
    pub fn is_final(self) -> bool {
        matches!(self, Status::Destroyed | Status::Failed | Status::Rejected)
    }

    /// Statuses in which the deploy workflow is still moving forward.
    pub fn is_deploying(self) -> bool {
        matches!(self, Status::Pending | Status::Provisioning | Status::Registering | Status::Routing | Status::WaitingHealthy)
    }

    /// The statuses a deployment may be in right before entering `self`.
    pub fn allowed_predecessors(self) -> &'static [Status] {
        use Status::*;
        match self {
            Pending => &[],
            Provisioning => &[Pending],
            Registering => &[Provisioning],
            Routing => &[Registering],
            WaitingHealthy => &[Routing],
            // Active -> Active is a traffic change on a running canary.
            Active => &[WaitingHealthy, Active],
            // Teardown may start from anywhere that is not final; re-entering it is a retry.
            TearingDown => &[Pending, Provisioning, Registering, Routing, WaitingHealthy, Active, TearingDown],
            Destroyed => &[TearingDown],
            Failed => &[TearingDown],
            Rejected => &[Pending],
        }
    }

    pub fn can_transition(from: Status, to: Status) -> bool {
        to.allowed_predecessors().contains(&from)
    }
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn happy_path_is_a_chain() {
        use Status::*;
        let path = [Pending, Provisioning, Registering, Routing, WaitingHealthy, Active, TearingDown, Destroyed];
        for w in path.windows(2) {
            assert!(Status::can_transition(w[0], w[1]), "{} -> {}", w[0], w[1]);
        }
    }

    #[test]
    fn final_states_are_final() {
        for from in Status::ALL.into_iter().filter(|s| s.is_final()) {
            for to in Status::ALL {
                assert!(!Status::can_transition(from, to), "{from} -> {to} must be impossible");
            }
        }
    }

    #[test]
    fn no_going_back_and_no_skipping_health() {
        assert!(!Status::can_transition(Status::TearingDown, Status::Active));
        assert!(!Status::can_transition(Status::Routing, Status::Active));
        assert!(!Status::can_transition(Status::Provisioning, Status::Rejected));
        assert!(!Status::can_transition(Status::Active, Status::Destroyed));
    }

    #[test]
    fn names_round_trip() {
        for s in Status::ALL {
            assert_eq!(Status::parse(s.as_str()), Some(s));
            assert_eq!(serde_json::to_value(s).unwrap(), serde_json::Value::String(s.as_str().into()));
        }
    }
}
