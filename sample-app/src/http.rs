//! Just enough HTTP/1.1 for a demo service: request head parsing with size limits, bodies read
//! and discarded by `Content-Length`, keep-alive, and response writing. No chunked request
//! bodies (answered 411/400), no pipelining guarantees beyond sequential requests.

use std::io::{self, BufRead, Read, Write};

/// Largest request head accepted (request line + headers).
pub const MAX_HEAD_BYTES: usize = 16 * 1024;
/// Largest request body read (and discarded).
pub const MAX_BODY_BYTES: u64 = 1024 * 1024;

#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    pub method: String,
    /// Path without the query string.
    pub path: String,
    pub keep_alive: bool,
    pub content_length: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    #[error("connection closed")]
    Closed,
    #[error("request head larger than {MAX_HEAD_BYTES} bytes")]
    HeadTooLarge,
    #[error("malformed request: {0}")]
    Malformed(&'static str),
    #[error("request body larger than {MAX_BODY_BYTES} bytes")]
    BodyTooLarge,
    #[error("chunked request bodies are not supported")]
    Chunked,
    #[error(transparent)]
    Io(#[from] io::Error),
}

impl HttpError {
    /// The status to answer with before closing, if any.
    pub fn status(&self) -> Option<u16> {
        match self {
            HttpError::Closed | HttpError::Io(_) => None,
            HttpError::HeadTooLarge => Some(431),
            HttpError::Malformed(_) => Some(400),
            HttpError::BodyTooLarge => Some(413),
            HttpError::Chunked => Some(411),
        }
    }
}

/// Reads one request head (and skips its body). `Closed` means the peer went away cleanly
/// between requests.
pub fn read_request(reader: &mut impl BufRead) -> Result<Request, HttpError> {
    let mut head = Vec::with_capacity(512);
    loop {
        let before = head.len();
        let n = reader.by_ref().take((MAX_HEAD_BYTES + 1 - head.len()) as u64).read_until(b'\n', &mut head)?;
        if n == 0 {
            return if head.is_empty() { Err(HttpError::Closed) } else { Err(HttpError::Malformed("truncated head")) };
        }
        if head.len() > MAX_HEAD_BYTES {
            return Err(HttpError::HeadTooLarge);
        }
        let line = &head[before..];
        // Tolerate empty lines before the request line (RFC 9112 §2.2).
        if (line == b"\r\n" || line == b"\n") && before == 0 {
            head.clear();
            continue;
        }
        if line == b"\r\n" || line == b"\n" {
            break;
        }
    }
    let text = std::str::from_utf8(&head).map_err(|_| HttpError::Malformed("head is not UTF-8"))?;
    let mut lines = text.lines();
    let request_line = lines.next().ok_or(HttpError::Malformed("no request line"))?;
    let mut parts = request_line.split(' ');
    let (method, target, version) = match (parts.next(), parts.next(), parts.next(), parts.next()) {
        (Some(m), Some(t), Some(v), None) if !m.is_empty() && t.starts_with('/') => (m, t, v),
        _ => return Err(HttpError::Malformed("bad request line")),
    };
    let mut keep_alive = match version {
        "HTTP/1.1" => true,
        "HTTP/1.0" => false,
        _ => return Err(HttpError::Malformed("unsupported HTTP version")),
    };
    let mut content_length = 0u64;
    for line in lines {
        if line.is_empty() {
            continue;
        }
        let (name, value) = line.split_once(':').ok_or(HttpError::Malformed("header without ':'"))?;
        let value = value.trim();
        if name.eq_ignore_ascii_case("content-length") {
            content_length = value.parse().map_err(|_| HttpError::Malformed("bad Content-Length"))?;
        } else if name.eq_ignore_ascii_case("transfer-encoding") && !value.eq_ignore_ascii_case("identity") {
            return Err(HttpError::Chunked);
        } else if name.eq_ignore_ascii_case("connection") {
            for token in value.split(',').map(str::trim) {
                if token.eq_ignore_ascii_case("close") {
                    keep_alive = false;
                } else if token.eq_ignore_ascii_case("keep-alive") {
                    keep_alive = true;
                }
            }
        }
    }
    if content_length > MAX_BODY_BYTES {
        return Err(HttpError::BodyTooLarge);
    }
    let copied = io::copy(&mut reader.by_ref().take(content_length), &mut io::sink())?;
    if copied != content_length {
        return Err(HttpError::Malformed("truncated body"));
    }
    let path = target.split(['?', '#']).next().unwrap_or("/").to_string();
    Ok(Request { method: method.to_string(), path, keep_alive, content_length })
}

pub fn reason(code: u16) -> &'static str {
    match code {
        200 => "OK",
        400 => "Bad Request",
        404 => "Not Found",
        405 => "Method Not Allowed",
        411 => "Length Required",
        413 => "Content Too Large",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "Unknown",
    }
}

/// Writes a complete response. `head_only` omits the body (HEAD requests) but keeps its length.
pub fn write_response(
    w: &mut impl Write,
    code: u16,
    content_type: &str,
    body: &[u8],
    keep_alive: bool,
    head_only: bool,
) -> io::Result<()> {
    let connection = if keep_alive { "keep-alive" } else { "close" };
    write!(
        w,
        "HTTP/1.1 {code} {}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: {connection}\r\nCache-Control: no-store\r\n\r\n",
        reason(code),
        body.len()
    )?;
    if !head_only {
        w.write_all(body)?;
    }
    w.flush()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    fn parse(raw: &str) -> Result<Request, HttpError> {
        read_request(&mut Cursor::new(raw.as_bytes().to_vec()))
    }

    #[test]
    fn parses_a_simple_get() {
        let r = parse("GET /health?x=1 HTTP/1.1\r\nHost: a\r\n\r\n").unwrap();
        assert_eq!(r.method, "GET");
        assert_eq!(r.path, "/health");
        assert!(r.keep_alive);
    }

    #[test]
    fn sequential_requests_on_one_connection() {
        let raw = "POST / HTTP/1.1\r\nContent-Length: 5\r\n\r\nhelloGET /metrics HTTP/1.0\r\n\r\n";
        let mut c = Cursor::new(raw.as_bytes().to_vec());
        let a = read_request(&mut c).unwrap();
        assert_eq!((a.method.as_str(), a.content_length), ("POST", 5));
        let b = read_request(&mut c).unwrap();
        assert_eq!(b.path, "/metrics");
        assert!(!b.keep_alive, "HTTP/1.0 closes by default");
        assert!(matches!(read_request(&mut c), Err(HttpError::Closed)));
    }

    #[test]
    fn connection_close_is_honoured() {
        assert!(!parse("GET / HTTP/1.1\r\nConnection: close\r\n\r\n").unwrap().keep_alive);
        assert!(parse("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n").unwrap().keep_alive);
    }

    #[test]
    fn rejects_bad_input_with_a_status() {
        assert_eq!(parse("GARBAGE\r\n\r\n").unwrap_err().status(), Some(400));
        assert_eq!(parse("GET / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n").unwrap_err().status(), Some(411));
        assert_eq!(parse("GET / HTTP/1.1\r\nContent-Length: 99999999\r\n\r\n").unwrap_err().status(), Some(413));
        let big = format!("GET / HTTP/1.1\r\nX: {}\r\n\r\n", "a".repeat(MAX_HEAD_BYTES));
        assert_eq!(parse(&big).unwrap_err().status(), Some(431));
        assert!(matches!(parse("GET / HTTP/1.1\r\nHost"), Err(HttpError::Malformed(_))));
    }

    #[test]
    fn head_responses_keep_length_but_no_body() {
        let mut out = Vec::new();
        write_response(&mut out, 200, "text/plain", b"hello", false, true).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.starts_with("HTTP/1.1 200 OK\r\n"));
        assert!(text.contains("Content-Length: 5\r\n"));
        assert!(text.ends_with("\r\n\r\n"));
    }
}
