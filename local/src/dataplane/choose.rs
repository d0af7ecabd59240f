//! Which target group of a forward action gets a request: weighted at random, or — with
//! target-group stickiness on — the group named by the request's `AWSALBTG` cookie, as long as
//! the action still forwards to it with a weight above zero. A request without a valid cookie
//! is weighed afresh and gets a cookie for `duration` seconds (the ALB encrypts the cookie's
//! value; this data plane writes the group's name).

use crate::dataplane::matcher::Forward;

/// The ALB's target-group stickiness cookie.
pub const STICKY_COOKIE: &str = "AWSALBTG";

/// A tiny deterministic generator (xorshift*): reproducible routing in tests and benches.
#[derive(Debug, Clone)]
pub struct Dice(u64);

impl Dice {
    pub fn new(seed: u64) -> Dice {
        Dice(seed.max(1))
    }

    /// Uniform in `0..n` (n > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) % n
    }
}

/// `arn:…:targetgroup/<name>/<id>` → `<name>`.
pub fn group_name(arn: &str) -> &str {
    arn.split_once(":targetgroup/").map(|(_, rest)| rest.split('/').next().unwrap_or(rest)).unwrap_or(arn)
}

/// The value of `name` in a `Cookie` header.
pub fn cookie<'a>(header: Option<&'a str>, name: &str) -> Option<&'a str> {
    header?.split(';').map(str::trim).find_map(|kv| kv.split_once('=').filter(|(k, _)| *k == name).map(|(_, v)| v))
}

/// The chosen group's ARN and, when stickiness is on and the request had no valid cookie, the
/// `Set-Cookie` value to send back.
pub fn choose_group(f: &Forward, cookie_header: Option<&str>, dice: &mut Dice) -> Option<(String, Option<String>)> {
    let live: Vec<&(String, u32)> = f.groups.iter().filter(|(_, w)| *w > 0).collect();
    if live.is_empty() {
        return None;
    }
    if let Some(secs) = f.stickiness_seconds {
        if let Some(name) = cookie(cookie_header, STICKY_COOKIE) {
            if let Some((arn, _)) = live.iter().find(|(arn, _)| group_name(arn) == name) {
                return Some((arn.clone(), None));
            }
        }
        let arn = weighted(&live, dice);
        let set = format!("{STICKY_COOKIE}={}; Max-Age={secs}; Path=/", group_name(&arn));
        return Some((arn, Some(set)));
    }
    Some((weighted(&live, dice), None))
}

fn weighted(live: &[&(String, u32)], dice: &mut Dice) -> String {
    let total: u64 = live.iter().map(|(_, w)| u64::from(*w)).sum();
    let mut x = dice.below(total);
    for (arn, w) in live {
        if x < u64::from(*w) {
            return arn.clone();
        }
        x -= u64::from(*w);
    }
    live[live.len() - 1].0.clone()
}

#[cfg(test)]
mod tests {
    use super::*;

    const PROD: &str = "arn:aws:elasticloadbalancing:us-east-1:1:targetgroup/prod-web/aa";
    const BASE: &str = "arn:aws:elasticloadbalancing:us-east-1:1:targetgroup/av-x-b/bb";
    const CAN: &str = "arn:aws:elasticloadbalancing:us-east-1:1:targetgroup/av-x-c/cc";

    fn forward(weights: [u32; 3], sticky: Option<u32>) -> Forward {
        Forward { groups: vec![(PROD.into(), weights[0]), (BASE.into(), weights[1]), (CAN.into(), weights[2])], stickiness_seconds: sticky }
    }

    #[test]
    fn shares_follow_the_weights_within_a_point_over_20000_requests() {
        let f = forward([900, 50, 50], None);
        let mut dice = Dice::new(7);
        let mut counts = [0u32; 3];
        for _ in 0..20_000 {
            let (arn, cookie) = choose_group(&f, None, &mut dice).unwrap();
            assert!(cookie.is_none());
            counts[[PROD, BASE, CAN].iter().position(|a| *a == arn).unwrap()] += 1;
        }
        let share = |i: usize| f64::from(counts[i]) / 200.0;
        assert!((share(0) - 90.0).abs() < 1.0 && (share(1) - 5.0).abs() < 1.0 && (share(2) - 5.0).abs() < 1.0, "{counts:?}");
    }

    #[test]
    fn weight_zero_is_never_chosen() {
        let f = forward([1, 0, 0], None);
        let mut dice = Dice::new(3);
        assert!((0..1000).all(|_| choose_group(&f, None, &mut dice).unwrap().0 == PROD));
        assert!(choose_group(&forward([0, 0, 0], None), None, &mut dice).is_none());
    }

    #[test]
    fn a_sticky_client_stays_on_its_group_while_it_has_weight() {
        let f = forward([900, 50, 50], Some(600));
        let mut dice = Dice::new(11);
        // Find a fresh client's group and its cookie.
        let (first, set) = choose_group(&f, None, &mut dice).unwrap();
        let set = set.expect("a cookie for a new client");
        assert!(set.starts_with("AWSALBTG=") && set.contains("Max-Age=600"), "{set}");
        let header = set.split(';').next().unwrap().to_string();
        for _ in 0..500 {
            let (again, cookie) = choose_group(&f, Some(&format!("other=1; {header}")), &mut dice).unwrap();
            assert_eq!((again.as_str(), cookie), (first.as_str(), None));
        }
        // The canary's cookie once the canary is gone from the rule: weighed afresh.
        let gone = forward([1, 0, 0], Some(600));
        let (arn, cookie) = choose_group(&gone, Some("AWSALBTG=av-x-c"), &mut dice).unwrap();
        assert_eq!(arn, PROD);
        assert!(cookie.is_some());
        // Without stickiness the cookie is ignored.
        let plain = forward([1, 0, 1], None);
        let to_canary = (0..200).filter(|_| choose_group(&plain, Some("AWSALBTG=prod-web"), &mut dice).unwrap().0 == CAN).count();
        assert!(to_canary > 50, "{to_canary}");
    }

    #[test]
    fn cookies_and_names_are_read_exactly() {
        assert_eq!(cookie(Some("a=1; AWSALBTG=x; b=2"), "AWSALBTG"), Some("x"));
        assert_eq!(cookie(Some("AWSALBTGX=y"), "AWSALBTG"), None);
        assert_eq!(group_name(CAN), "av-x-c");
    }
}
