//! A conformant agent in Rust: hyper 0.14 on tokio.
//!
//! POST /chat answers JSON, or Server-Sent Events when Accept includes text/event-stream (q>0).
//! The Rust-specific points: no `unwrap()` on anything a client sends (a panic drops the
//! connection), a body read with a size limit, the stream fed through a channel by a task that
//! stops when the client goes away, and graceful shutdown on SIGTERM (PID 1 has no default handler).
//!
//! DEFECT=header-unwrap (set by the broken twin, sample_agents/broken/rust-header-unwrap) makes the
//! classic Rust mistake: `.to_str().unwrap()` on request header values. `to_str()` fails on bytes
//! that are not visible ASCII, which HTTP allows (obs-text, e.g. `X-Title: café` in UTF-8): the
//! panic ends the connection's task, and the client sees the connection dropped with no answer.
use std::collections::HashMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::time::Duration;

use hyper::body::{Bytes, HttpBody};
use hyper::header::{HeaderValue, ACCEPT, ALLOW, CACHE_CONTROL, CONTENT_TYPE};
use hyper::service::{make_service_fn, service_fn};
use hyper::{Body, Method, Request, Response, Server, StatusCode};
use serde_json::{json, Value};

const TOKEN_DELAY: Duration = Duration::from_millis(30);
const MAX_BODY: usize = 1 << 20;

fn json_response(status: StatusCode, payload: Value) -> Response<Body> {
    let mut response = Response::new(Body::from(payload.to_string()));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

fn error(status: StatusCode, message: &str) -> Response<Body> {
    json_response(status, json!({ "error": message }))
}

fn not_allowed(method: &Method, allow: &'static str) -> Response<Body> {
    let mut response = error(
        StatusCode::METHOD_NOT_ALLOWED,
        &format!("method {method} not allowed"),
    );
    response
        .headers_mut()
        .insert(ALLOW, HeaderValue::from_static(allow));
    response
}

/// text/event-stream with a q-value above 0 ("text/event-stream;q=0" means not wanted).
/// A header that is not visible ASCII counts as absent: `to_str()` is an Err, never an unwrap.
fn wants_sse(req: &Request<Body>) -> bool {
    let accept = req
        .headers()
        .get_all(ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok());
    accept.flat_map(|v| v.split(',')).any(|range| {
        let mut params = range.split(';').map(str::trim);
        if !params
            .next()
            .unwrap_or("")
            .eq_ignore_ascii_case("text/event-stream")
        {
            return false;
        }
        let q = params
            .filter_map(|p| p.split_once('='))
            .find(|(name, _)| name.trim().eq_ignore_ascii_case("q"))
            .and_then(|(_, value)| value.trim().parse::<f64>().ok())
            .unwrap_or(1.0);
        q > 0.0
    })
}

/// The body, or None past MAX_BODY (Content-Length is only a hint: chunked bodies have none).
async fn read_body(body: &mut Body) -> Result<Option<Vec<u8>>, hyper::Error> {
    let mut buf = Vec::new();
    while let Some(chunk) = body.data().await {
        let chunk = chunk?;
        if buf.len() + chunk.len() > MAX_BODY {
            return Ok(None);
        }
        buf.extend_from_slice(&chunk);
    }
    Ok(Some(buf))
}

async fn chat(mut req: Request<Body>) -> Response<Body> {
    let sse = wants_sse(&req);
    if std::env::var("DEFECT").as_deref() == Ok("header-unwrap") {
        // The request's headers as text, for the agent's context (trace ids, credentials to forward):
        // fine with every header a test sends, a panic on the first non-ASCII byte.
        let context: HashMap<String, String> = req
            .headers()
            .iter()
            .map(|(name, value)| (name.to_string(), value.to_str().unwrap().to_string()))
            .collect();
        let trace = context.get("traceparent").map_or("-", String::as_str);
        eprintln!("POST /chat traceparent={trace}");
    }
    let raw = match read_body(req.body_mut()).await {
        Ok(Some(raw)) => raw,
        Ok(None) => return error(StatusCode::PAYLOAD_TOO_LARGE, "body too large"),
        Err(e) => {
            return error(
                StatusCode::BAD_REQUEST,
                &format!("could not read the body: {e}"),
            )
        }
    };
    let body: Value = match serde_json::from_slice(&raw) {
        Ok(body) => body,
        Err(e) => return error(StatusCode::BAD_REQUEST, &format!("body is not JSON: {e}")),
    };
    let message = match body.get("message").and_then(Value::as_str) {
        Some(message) => message,
        None => {
            return error(
                StatusCode::UNPROCESSABLE_ENTITY,
                r#"expected {"message": "<text>", "thread_id": "<id>"}"#,
            )
        }
    };
    let thread_id = body
        .get("thread_id")
        .and_then(Value::as_str)
        .filter(|t| !t.is_empty())
        .unwrap_or("default");
    let mut tokens = vec!["Echo:".to_string()];
    tokens.extend(message.split_whitespace().take(20).map(String::from));
    tokens.push("(done)".to_string());

    if !sse {
        return json_response(
            StatusCode::OK,
            json!({ "reply": tokens.join(" "), "thread_id": thread_id }),
        );
    }
    let (mut tx, stream) = Body::channel();
    let done = json!({ "thread_id": thread_id }).to_string();
    tokio::spawn(async move {
        for token in tokens {
            tokio::time::sleep(TOKEN_DELAY).await;
            // serde_json escapes newlines: one data line. Each send is written out as one chunk.
            let event = format!("event: token\ndata: {}\n\n", Value::from(token));
            if tx.send_data(Bytes::from(event)).await.is_err() {
                return; // the client went away
            }
        }
        let _ = tx
            .send_data(Bytes::from(format!("event: done\ndata: {done}\n\n")))
            .await;
    });
    let mut response = Response::new(stream);
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("text/event-stream"));
    response
        .headers_mut()
        .insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}

async fn route(req: Request<Body>) -> Result<Response<Body>, Infallible> {
    let response = match (req.uri().path(), req.method()) {
        ("/ready" | "/health", &Method::GET | &Method::HEAD) => {
            json_response(StatusCode::OK, json!({ "status": "ok" }))
        }
        ("/ready" | "/health", method) => not_allowed(method, "GET, HEAD"),
        ("/chat", &Method::POST) => chat(req).await,
        ("/chat", method) => not_allowed(method, "POST"),
        (path, _) => error(StatusCode::NOT_FOUND, &format!("no route {path}")),
    };
    Ok(response)
}

/// Resolves on SIGTERM, what the platform sends (PID 1 has no default handler: without this, ignored).
async fn terminated() {
    use tokio::signal::unix::{signal, SignalKind};
    match signal(SignalKind::terminate()) {
        Ok(mut term) => term.recv().await,
        Err(_) => std::future::pending().await,
    };
    eprintln!("SIGTERM: stopping");
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime");
    runtime.block_on(async {
        // 0.0.0.0: all interfaces, the platform connects to the pod's address.
        let addr = SocketAddr::from(([0, 0, 0, 0], 8080));
        let make_service =
            make_service_fn(|_conn| async { Ok::<_, Infallible>(service_fn(route)) });
        let server = match Server::try_bind(&addr) {
            Ok(builder) => builder
                .http1_header_read_timeout(Duration::from_secs(10))
                .serve(make_service),
            Err(e) => {
                eprintln!("cannot listen on {addr}: {e}");
                std::process::exit(1);
            }
        };
        eprintln!("listening on {addr}");
        // Stops accepting, lets the requests (and streams) in flight finish, then returns.
        if let Err(e) = server.with_graceful_shutdown(terminated()).await {
            eprintln!("server error: {e}");
        }
    });
}
