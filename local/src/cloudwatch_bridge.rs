//! CloudWatch on the emulator. The Rust SDK speaks smithy-rpc-v2-cbor to CloudWatch (`POST
//! /service/<service>/operation/<op>`, CBOR bodies), which moto 5.2 does not serve; moto serves
//! the same operations over awsJson1_0. This bridge, on a loopback port, translates each call, so
//! the SDK's CloudWatch client (and with it Aviary's CloudWatch metric source, the judge and the
//! live verdict) runs against the emulator unchanged. [`LocalRuntime::cloudwatch`] gives a client
//! pointed at it.
//!
//! [`LocalRuntime::cloudwatch`]: crate::runtime::LocalRuntime::cloudwatch

use axum::body::Bytes;
use axum::extract::Path;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::Router;
use serde_json::{json, Value};

/// The subset of CBOR (RFC 8949) the CloudWatch operations use: maps, arrays, text, integers,
/// floats, booleans, null and tag 1 (epoch-seconds timestamps, which JSON writes as numbers).
pub mod cbor {
    use serde_json::{Map, Number, Value};

    pub fn decode(bytes: &[u8]) -> Result<Value, String> {
        Dec { b: bytes, i: 0 }.item()?.ok_or_else(|| "a break at the top level".to_string())
    }

    struct Dec<'a> {
        b: &'a [u8],
        i: usize,
    }

    fn num(f: f64) -> Value {
        Number::from_f64(f).map(Value::Number).unwrap_or(Value::Null)
    }

    fn half(h: u16) -> f64 {
        let (exp, mant) = ((h >> 10) & 0x1f, f64::from(h & 0x3ff));
        let v = match exp {
            0 => mant * 2f64.powi(-24),
            31 if mant == 0.0 => f64::INFINITY,
            31 => f64::NAN,
            e => (mant + 1024.0) * 2f64.powi(i32::from(e) - 25),
        };
        if h & 0x8000 != 0 { -v } else { v }
    }

    impl Dec<'_> {
        fn take(&mut self, n: usize) -> Result<&[u8], String> {
            let s = self.b.get(self.i..self.i + n).ok_or("truncated CBOR")?;
            self.i += n;
            Ok(s)
        }

        fn fixed<const N: usize>(&mut self) -> Result<[u8; N], String> {
            Ok(self.take(N)?.try_into().expect("length"))
        }

        /// The argument of a head; None for indefinite length.
        fn arg(&mut self, info: u8) -> Result<Option<u64>, String> {
            Ok(Some(match info {
                0..=23 => u64::from(info),
                24 => u64::from(self.fixed::<1>()?[0]),
                25 => u64::from(u16::from_be_bytes(self.fixed()?)),
                26 => u64::from(u32::from_be_bytes(self.fixed()?)),
                27 => u64::from_be_bytes(self.fixed()?),
                31 => return Ok(None),
                _ => return Err(format!("reserved additional info {info}")),
            }))
        }

        /// The next item; None for a break (the end of an indefinite-length item).
        fn item(&mut self) -> Result<Option<Value>, String> {
            let ib = self.fixed::<1>()?[0];
            if ib == 0xff {
                return Ok(None);
            }
            let (major, info) = (ib >> 5, ib & 0x1f);
            let v = match major {
                0 => Value::from(self.arg(info)?.ok_or("indefinite integer")?),
                1 => Value::from(-1 - self.arg(info)?.ok_or("indefinite integer")? as i64),
                3 => match self.arg(info)? {
                    Some(n) => Value::String(String::from_utf8(self.take(n as usize)?.to_vec()).map_err(|e| e.to_string())?),
                    None => {
                        let mut s = String::new();
                        while let Some(Value::String(part)) = self.item()? {
                            s.push_str(&part);
                        }
                        Value::String(s)
                    }
                },
                4 => {
                    let mut a = Vec::new();
                    match self.arg(info)? {
                        Some(n) => {
                            for _ in 0..n {
                                a.push(self.item()?.ok_or("break inside a definite array")?);
                            }
                        }
                        None => {
                            while let Some(v) = self.item()? {
                                a.push(v);
                            }
                        }
                    }
                    Value::Array(a)
                }
                5 => {
                    let (len, mut m, mut read) = (self.arg(info)?, Map::new(), 0u64);
                    while len != Some(read) {
                        let Some(key) = self.item()? else { break };
                        let Value::String(key) = key else { return Err("a map key that is not text".into()) };
                        m.insert(key, self.item()?.ok_or("break after a map key")?);
                        read += 1;
                    }
                    Value::Object(m)
                }
                // Tag 1 wraps epoch seconds; awsJson writes a timestamp as that number.
                6 => {
                    self.arg(info)?;
                    self.item()?.ok_or("break after a tag")?
                }
                7 => match info {
                    20 => Value::Bool(false),
                    21 => Value::Bool(true),
                    22 | 23 => Value::Null,
                    25 => num(half(u16::from_be_bytes(self.fixed()?))),
                    26 => num(f64::from(f32::from_be_bytes(self.fixed()?))),
                    27 => num(f64::from_be_bytes(self.fixed()?)),
                    _ => return Err(format!("simple value {info}")),
                },
                _ => return Err(format!("major type {major} (byte strings are not used here)")),
            };
            Ok(Some(v))
        }
    }

    pub fn encode(v: &Value) -> Vec<u8> {
        let mut out = Vec::new();
        enc(v, false, &mut out);
        out
    }

    fn head(major: u8, n: usize, out: &mut Vec<u8>) {
        let n = n as u64;
        match n {
            0..=23 => out.push(major << 5 | n as u8),
            24..=0xff => out.extend([major << 5 | 24, n as u8]),
            0x100..=0xffff => {
                out.push(major << 5 | 25);
                out.extend((n as u16).to_be_bytes());
            }
            _ => {
                out.push(major << 5 | 26);
                out.extend((n as u32).to_be_bytes());
            }
        }
    }

    /// Every number becomes a double (the bridged outputs have no integer members); numbers
    /// under `Timestamp(s)` get tag 1.
    fn enc(v: &Value, timestamp: bool, out: &mut Vec<u8>) {
        match v {
            Value::Null => out.push(0xf6),
            Value::Bool(b) => out.push(if *b { 0xf5 } else { 0xf4 }),
            Value::Number(n) => {
                if timestamp {
                    out.push(0xc1);
                }
                out.push(0xfb);
                out.extend(n.as_f64().unwrap_or(f64::NAN).to_be_bytes());
            }
            Value::String(s) => {
                head(3, s.len(), out);
                out.extend(s.as_bytes());
            }
            Value::Array(a) => {
                head(4, a.len(), out);
                a.iter().for_each(|x| enc(x, timestamp, out));
            }
            Value::Object(m) => {
                head(5, m.len(), out);
                for (k, x) in m {
                    enc(&Value::String(k.clone()), false, out);
                    enc(x, k == "Timestamps" || k == "Timestamp", out);
                }
            }
        }
    }
}


/// The bridge's server; stopped on drop.
pub struct CloudWatchBridge {
    /// `http://127.0.0.1:<port>`
    pub url: String,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for CloudWatchBridge {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn cbor_answer(status: StatusCode, v: &Value) -> (StatusCode, [(&'static str, &'static str); 2], Vec<u8>) {
    (status, [("content-type", "application/cbor"), ("smithy-protocol", "rpc-v2-cbor")], cbor::encode(v))
}

/// Serves rpc-v2-cbor on a free loopback port and forwards each call to moto as awsJson1_0.
pub async fn start(moto_url: &str) -> std::io::Result<CloudWatchBridge> {
    let moto = moto_url.trim_end_matches('/').to_string();
    let http = reqwest::Client::new();
    let app = Router::new().route(
        "/service/{service}/operation/{op}",
        post(move |Path((service, op)): Path<(String, String)>, headers: HeaderMap, body: Bytes| {
            let (http, moto) = (http.clone(), moto.clone());
            async move {
                let request = if body.is_empty() {
                    json!({})
                } else {
                    match cbor::decode(&body) {
                        Ok(v) => v,
                        Err(e) => return cbor_answer(StatusCode::BAD_REQUEST, &json!({"__type": "SerializationException", "message": e})),
                    }
                };
                let mut call = http
                    .post(format!("{moto}/"))
                    .header("X-Amz-Target", format!("{service}.{op}"))
                    .header("Content-Type", "application/x-amz-json-1.0")
                    .body(request.to_string());
                // moto reads the region (and, when it enforces IAM, the caller) from it.
                if let Some(auth) = headers.get("authorization").and_then(|a| a.to_str().ok()) {
                    call = call.header("Authorization", auth);
                }
                let answer = match call.send().await {
                    Ok(a) => a,
                    Err(e) => return cbor_answer(StatusCode::BAD_GATEWAY, &json!({"__type": "ServiceUnavailable", "message": e.to_string()})),
                };
                let status = StatusCode::from_u16(answer.status().as_u16()).unwrap_or(StatusCode::BAD_GATEWAY);
                let text = answer.text().await.unwrap_or_default();
                let v: Value = if text.trim().is_empty() {
                    json!({})
                } else {
                    serde_json::from_str(&text).unwrap_or_else(|_| json!({"__type": "InternalFailure", "message": text}))
                };
                cbor_answer(status, &v)
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Ok(CloudWatchBridge { url: format!("http://{addr}"), task })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cbor_bridge_round_trips_what_the_sdk_sends() {
        // {"StartTime": 1(1795700000.5), "Period": 60, "Ids": ["a"], "Ok": true} as the SDK encodes it
        // (indefinite map, tagged double, small int, definite array).
        let mut b = vec![0xbf];
        for (k, v) in [
            ("StartTime", [&[0xc1u8, 0xfb][..], &1_795_700_000.5f64.to_be_bytes()[..]].concat()),
            ("Period", vec![0x18, 60]),
            ("Ids", vec![0x81, 0x61, b'a']),
            ("Ok", vec![0xf5]),
            ("Neg", vec![0x38, 99]),
            ("Half", vec![0xf9, 0x3e, 0x00]),
        ] {
            b.push(0x60 | k.len() as u8);
            b.extend(k.as_bytes());
            b.extend(v);
        }
        b.push(0xff);
        let v = cbor::decode(&b).unwrap();
        assert_eq!(v, json!({"StartTime": 1_795_700_000.5, "Period": 60, "Ids": ["a"], "Ok": true, "Neg": -100, "Half": 1.5}));
        let out = json!({"MetricDataResults": [{"Id": "baseline", "Timestamps": [1795700000], "Values": [0.5]}]});
        let enc = cbor::encode(&out);
        assert!(enc.windows(9).any(|w| w[0] == 0xc1 && w[1] == 0xfb), "timestamps are tagged");
        assert_eq!(cbor::decode(&enc).unwrap(), json!({"MetricDataResults": [{"Id": "baseline", "Timestamps": [1795700000.0], "Values": [0.5]}]}));
        assert!(cbor::decode(&[0xbf, 0x61]).is_err());
    }

    #[tokio::test]
    async fn a_body_that_is_not_cbor_is_a_400_and_an_unreachable_emulator_a_502() {
        let bridge = start("http://127.0.0.1:9").await.unwrap();
        let http = reqwest::Client::new();
        let url = format!("{}/service/GraniteServiceVersion20100801/operation/GetMetricData", bridge.url);
        let bad = http.post(&url).body(vec![0xbf, 0x61]).send().await.unwrap();
        assert_eq!(bad.status().as_u16(), 400);
        let v = cbor::decode(&bad.bytes().await.unwrap()).unwrap();
        assert_eq!(v["__type"], "SerializationException");
        let down = http.post(&url).body(cbor::encode(&json!({}))).send().await.unwrap();
        assert_eq!(down.status().as_u16(), 502);
        assert_eq!(cbor::decode(&down.bytes().await.unwrap()).unwrap()["__type"], "ServiceUnavailable");
    }
}
