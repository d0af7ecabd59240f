//! The local data plane: real requests through the emulated listener's rules. [`matcher`] picks
//! the rule with the ALB's condition semantics, [`choose`] the target group (weights and
//! stickiness); the front that serves requests, starts `aviary-sample-app` processes for the
//! emulated instances and reports their health lives in [`front`].

pub mod choose;
pub mod front;
pub mod matcher;
