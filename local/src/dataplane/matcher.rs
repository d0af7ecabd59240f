//! Which rule of a listener answers a request, with the Application Load Balancer's documented
//! condition semantics:
//!
//! * rules are evaluated in priority order (lowest first), the default rule last; the first rule
//!   whose conditions all match (kinds are AND-ed) wins;
//! * within one condition the values are OR-ed;
//! * `path-pattern`: case-sensitive, `*` (any run of characters) and `?` (one character),
//!   matched against the path without the query string;
//! * `host-header`: case-insensitive, with wildcards; a port in the Host header is ignored;
//! * `http-header`: the header name case-insensitive and without wildcards, the values
//!   case-insensitive with wildcards; any of the request's values of that header may match;
//! * `http-request-method`: case-sensitive, exact (no wildcards);
//! * `query-string`: key/value pairs, case-insensitive with wildcards, matched against the
//!   URL-decoded parameters; a pair without a key matches any key;
//! * `source-ip`: the client's address inside one of the CIDR blocks (the connection's address,
//!   not `X-Forwarded-For`).

use std::net::IpAddr;

/// What the conditions look at in a request.
#[derive(Debug, Clone, PartialEq)]
pub struct RequestFacts {
    pub method: String,
    pub host: String,
    /// The path, without the query string.
    pub path: String,
    pub headers: Vec<(String, String)>,
    /// URL-decoded query parameters in order.
    pub query: Vec<(String, String)>,
    pub source_ip: IpAddr,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Condition {
    PathPattern(Vec<String>),
    HostHeader(Vec<String>),
    HttpRequestMethod(Vec<String>),
    HttpHeader { name: String, values: Vec<String> },
    QueryString(Vec<(Option<String>, String)>),
    SourceIp(Vec<String>),
}

/// A rule's forward action: target groups with weights, and group stickiness (seconds).
#[derive(Debug, Clone, PartialEq)]
pub struct Forward {
    pub groups: Vec<(String, u32)>,
    pub stickiness_seconds: Option<u32>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Rule {
    /// `None` for the default rule.
    pub priority: Option<u32>,
    pub conditions: Vec<Condition>,
    /// `None` for actions the data plane does not carry out (fixed response, redirect).
    pub forward: Option<Forward>,
}

/// `*` matches any run of characters (also none), `?` exactly one.
pub fn wildcard(pattern: &str, text: &str, ignore_case: bool) -> bool {
    let norm = |s: &str| if ignore_case { s.to_lowercase().chars().collect::<Vec<_>>() } else { s.chars().collect() };
    let (p, t) = (norm(pattern), norm(text));
    // Iterative matching with one backtrack point: linear in practice, no recursion.
    let (mut pi, mut ti, mut star, mut mark) = (0usize, 0usize, None::<usize>, 0usize);
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

/// Whether `ip` is inside `cidr` (`10.0.0.0/8`, `2001:db8::/32`, or a bare address).
pub fn in_cidr(ip: IpAddr, cidr: &str) -> bool {
    let (addr, bits) = match cidr.split_once('/') {
        Some((a, b)) => (a, b.parse::<u32>().ok()),
        None => (cidr, None),
    };
    let Ok(net) = addr.parse::<IpAddr>() else { return false };
    match (ip, net) {
        (IpAddr::V4(i), IpAddr::V4(n)) => {
            let bits = bits.unwrap_or(32).min(32);
            let mask = if bits == 0 { 0 } else { u32::MAX << (32 - bits) };
            u32::from(i) & mask == u32::from(n) & mask
        }
        (IpAddr::V6(i), IpAddr::V6(n)) => {
            let bits = bits.unwrap_or(128).min(128);
            let mask = if bits == 0 { 0 } else { u128::MAX << (128 - bits) };
            u128::from(i) & mask == u128::from(n) & mask
        }
        _ => false,
    }
}

impl Condition {
    pub fn matches(&self, r: &RequestFacts) -> bool {
        match self {
            Condition::PathPattern(v) => v.iter().any(|p| wildcard(p, &r.path, false)),
            Condition::HostHeader(v) => {
                let host = r.host.rsplit_once(':').filter(|(_, port)| port.bytes().all(|b| b.is_ascii_digit())).map_or(r.host.as_str(), |(h, _)| h);
                v.iter().any(|p| wildcard(p, host, true))
            }
            Condition::HttpRequestMethod(v) => v.iter().any(|m| m == &r.method),
            Condition::HttpHeader { name, values } => r
                .headers
                .iter()
                .filter(|(k, _)| k.eq_ignore_ascii_case(name))
                .any(|(_, got)| values.iter().any(|p| wildcard(p, got, true))),
            Condition::QueryString(pairs) => pairs.iter().any(|(key, value)| {
                r.query.iter().any(|(k, v)| key.as_ref().is_none_or(|key| wildcard(key, k, true)) && wildcard(value, v, true))
            }),
            Condition::SourceIp(v) => v.iter().any(|c| in_cidr(r.source_ip, c)),
        }
    }
}

/// The rule that answers the request: the first by priority whose conditions all match, else
/// the default rule.
pub fn select<'a>(rules: &'a [Rule], r: &RequestFacts) -> Option<&'a Rule> {
    let mut ordered: Vec<&Rule> = rules.iter().collect();
    ordered.sort_by_key(|rule| rule.priority.unwrap_or(u32::MAX));
    ordered.into_iter().find(|rule| rule.conditions.iter().all(|c| c.matches(r)))
}

/// The query string's decoded pairs, as the API decodes them (`+` is a space; an invalid
/// escape or invalid UTF-8 stays as sent).
pub use api::validation::parse_query;

#[cfg(test)]
mod tests {
    use super::*;

    fn req(method: &str, host: &str, target: &str, headers: &[(&str, &str)], ip: &str) -> RequestFacts {
        let (path, query) = target.split_once('?').unwrap_or((target, ""));
        RequestFacts {
            method: method.into(),
            host: host.into(),
            path: path.into(),
            headers: headers.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
            query: parse_query(query),
            source_ip: ip.parse().unwrap(),
        }
    }

    fn get(target: &str) -> RequestFacts {
        req("GET", "shop.example.com", target, &[], "203.0.113.9")
    }

    #[test]
    fn wildcards_match_any_run_and_one_character() {
        assert!(wildcard("/api/*", "/api/", false));
        assert!(wildcard("/api/*", "/api/v1/items", false));
        assert!(!wildcard("/api/*", "/api", false));
        assert!(wildcard("/img/?.png", "/img/a.png", false));
        assert!(!wildcard("/img/?.png", "/img/ab.png", false));
        assert!(wildcard("*.example.com", "shop.example.com", true));
        assert!(wildcard("*a*b*c", "xxaxxbxxc", false));
        assert!(!wildcard("*a*b*c", "xxaxxcxxb", false));
        assert!(wildcard("*", "", false));
        assert!(!wildcard("", "x", false));
    }

    #[test]
    fn paths_are_case_sensitive_and_ignore_the_query() {
        let c = Condition::PathPattern(vec!["/API/*".into()]);
        assert!(!c.matches(&get("/api/x")));
        assert!(c.matches(&get("/API/x?debug=1")));
        let c = Condition::PathPattern(vec!["/a".into(), "/b/*".into()]);
        assert!(c.matches(&get("/a")) && c.matches(&get("/b/c")) && !c.matches(&get("/c")), "values are OR-ed");
    }

    #[test]
    fn hosts_ignore_case_and_port() {
        let c = Condition::HostHeader(vec!["*.Example.COM".into()]);
        assert!(c.matches(&req("GET", "Shop.example.com:8080", "/", &[], "10.0.0.1")));
        assert!(!c.matches(&req("GET", "example.org", "/", &[], "10.0.0.1")));
    }

    #[test]
    fn methods_are_exact_and_case_sensitive() {
        let c = Condition::HttpRequestMethod(vec!["GET".into(), "HEAD".into()]);
        assert!(c.matches(&get("/")));
        assert!(!c.matches(&req("get", "h", "/", &[], "10.0.0.1")));
        assert!(!c.matches(&req("POST", "h", "/", &[], "10.0.0.1")));
    }

    #[test]
    fn headers_match_name_without_case_and_values_with_wildcards() {
        let c = Condition::HttpHeader { name: "X-Canary".into(), values: vec!["yes".into(), "beta-*".into()] };
        assert!(c.matches(&req("GET", "h", "/", &[("x-canary", "YES")], "10.0.0.1")));
        assert!(c.matches(&req("GET", "h", "/", &[("X-CANARY", "Beta-7")], "10.0.0.1")));
        assert!(c.matches(&req("GET", "h", "/", &[("x-canary", "no"), ("x-canary", "yes")], "10.0.0.1")), "any value of the header");
        assert!(!c.matches(&req("GET", "h", "/", &[("x-canaryx", "yes")], "10.0.0.1")));
        assert!(!c.matches(&get("/")), "an absent header never matches");
    }

    #[test]
    fn query_strings_are_decoded_and_a_missing_key_matches_any_key() {
        let c = Condition::QueryString(vec![(Some("beta".into()), "on".into())]);
        assert!(c.matches(&get("/?a=1&BETA=On")));
        assert!(!c.matches(&get("/?beta=off")));
        let any = Condition::QueryString(vec![(None, "hello world".into())]);
        assert!(any.matches(&get("/?q=hello%20world")) && any.matches(&get("/?x=hello+world")));
        let wild = Condition::QueryString(vec![(Some("v*".into()), "2*".into())]);
        assert!(wild.matches(&get("/?version=2.1")));
    }

    #[test]
    fn source_ips_are_cidr_blocks() {
        let c = Condition::SourceIp(vec!["10.0.0.0/8".into(), "2001:db8::/32".into()]);
        assert!(c.matches(&req("GET", "h", "/", &[], "10.20.30.40")));
        assert!(!c.matches(&req("GET", "h", "/", &[], "11.0.0.1")));
        assert!(c.matches(&req("GET", "h", "/", &[], "2001:db8::1")));
        assert!(in_cidr("127.0.0.1".parse().unwrap(), "127.0.0.1"));
        assert!(in_cidr("8.8.8.8".parse().unwrap(), "0.0.0.0/0"));
        assert!(!in_cidr("8.8.8.8".parse().unwrap(), "not-an-ip/8"));
    }

    fn fwd(tg: &str) -> Option<Forward> {
        Some(Forward { groups: vec![(tg.into(), 1)], stickiness_seconds: None })
    }

    #[test]
    fn the_lowest_priority_whose_conditions_all_match_wins_else_the_default() {
        let rules = vec![
            Rule { priority: None, conditions: vec![], forward: fwd("prod") },
            Rule {
                priority: Some(20),
                conditions: vec![Condition::PathPattern(vec!["/api/*".into()]), Condition::HttpHeader { name: "X-Canary".into(), values: vec!["1".into()] }],
                forward: fwd("canary"),
            },
            Rule { priority: Some(5), conditions: vec![Condition::PathPattern(vec!["/admin/*".into()])], forward: None },
            Rule { priority: Some(30), conditions: vec![Condition::PathPattern(vec!["/api/*".into()])], forward: fwd("api") },
        ];
        let pick = |r: &RequestFacts| select(&rules, r).map(|rule| rule.priority);
        assert_eq!(pick(&get("/admin/users")), Some(Some(5)));
        assert_eq!(pick(&req("GET", "h", "/api/x", &[("x-canary", "1")], "10.0.0.1")), Some(Some(20)), "kinds are AND-ed");
        assert_eq!(pick(&get("/api/x")), Some(Some(30)), "without the gate the next rule answers");
        assert_eq!(pick(&get("/")), Some(None), "the default rule last");
    }

    #[test]
    fn percent_decoding_tolerates_bad_escapes() {
        assert_eq!(parse_query("a=%41%42&b=%zz&c=100%"), vec![("a".into(), "AB".into()), ("b".into(), "%zz".into()), ("c".into(), "100%".into())]);
    }
}
