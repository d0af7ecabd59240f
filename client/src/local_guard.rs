//! What a server on the user's loopback (the web console, the local API front of `aviary
//! local up`) accepts: a `Host` header naming a loopback address — so a web page on another
//! site cannot reach it through DNS rebinding — and, on requests that change something, an
//! `Origin` (when the browser sends one) that is itself a loopback page. Both servers apply
//! these two checks; the console pins its own port, the local front (reached on its own port
//! or through `--port`'s forwarder) any loopback port.

/// `127.0.0.1:PORT`, `localhost:PORT` or `[::1]:PORT`; with `port`, only that port.
pub fn host_allowed(host: &str, port: Option<u16>) -> bool {
    let Some((name, p)) = host.rsplit_once(':') else { return false };
    let loopback = matches!(name, "127.0.0.1" | "localhost" | "[::1]");
    let port_ok = match port {
        Some(want) => p.parse::<u16>() == Ok(want),
        None => p.parse::<u16>().is_ok(),
    };
    loopback && port_ok
}

/// `http://` + an allowed host.
pub fn origin_allowed(origin: &str, port: Option<u16>) -> bool {
    origin.strip_prefix("http://").is_some_and(|h| host_allowed(h, port))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_hosts_only_and_the_pinned_port_when_given() {
        assert!(host_allowed("127.0.0.1:8080", Some(8080)));
        assert!(host_allowed("localhost:8080", Some(8080)));
        assert!(host_allowed("[::1]:8080", Some(8080)));
        assert!(!host_allowed("127.0.0.1:8081", Some(8080)));
        assert!(host_allowed("127.0.0.1:8081", None));
        for bad in ["evil.example:8080", "127.0.0.1.evil.example:8080", "127.0.0.1", "", "localhost:http"] {
            assert!(!host_allowed(bad, None), "{bad}");
        }
        assert!(origin_allowed("http://127.0.0.1:8080", Some(8080)));
        assert!(!origin_allowed("https://evil.example", None));
        assert!(!origin_allowed("http://evil.example:8080", None));
        assert!(!origin_allowed("null", None));
    }
}
