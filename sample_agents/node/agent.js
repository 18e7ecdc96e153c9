// A conformant agent in Node.js with the `http` module only (no npm packages).
//
// POST /chat answers JSON, or Server-Sent Events when Accept includes text/event-stream (q>0).
// The Node-specific points: listen on 0.0.0.0 explicitly, JSON for the parser's own errors
// ('clientError' answers a bare 400 otherwise), and a SIGTERM handler: Node as PID 1 has none,
// so without one the kernel drops SIGTERM and the platform kills the container at the deadline.
//
// DEFECT=localhost (set by the broken twin, sample_agents/broken/node-localhost) makes the classic
// Node mistake: server.listen(8080, "localhost"). It works with `curl localhost:8080` inside the
// container and with `node agent.js` on a laptop, but the platform connects to the pod's address.
"use strict";
const http = require("http");

const TOKEN_DELAY_MS = 30;
const MAX_BODY = 1 << 20;

function sendJSON(res, status, payload, headers = {}) {
  const body = JSON.stringify(payload);
  res.writeHead(status, { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(body), ...headers });
  res.end(body);
}

// text/event-stream with a q-value above 0 ("text/event-stream;q=0" means not wanted).
function wantsSSE(accept) {
  return String(accept || "").split(",").some((range) => {
    const [type, ...params] = range.split(";").map((s) => s.trim().toLowerCase());
    if (type !== "text/event-stream") return false;
    const q = params.find((p) => p.replace(/\s/g, "").startsWith("q="));
    const value = q === undefined ? 1 : parseFloat(q.split("=")[1]);
    return Number.isNaN(value) || value > 0;
  });
}

function replyTokens(message) {
  return ["Echo:", ...message.split(/\s+/).filter(Boolean).slice(0, 20), "(done)"];
}

function readBody(req, callback) {
  const chunks = [];
  let size = 0;
  req.on("data", (chunk) => {
    size += chunk.length;
    if (size <= MAX_BODY) chunks.push(chunk); // past the limit: keep reading, keep nothing
  });
  req.on("end", () => callback(size > MAX_BODY ? null : Buffer.concat(chunks).toString("utf8")));
  req.on("error", () => {});
}

function chat(req, res) {
  readBody(req, (text) => {
    if (text === null) return sendJSON(res, 413, { error: "body too large" });
    let body;
    try {
      body = JSON.parse(text);
    } catch (err) {
      return sendJSON(res, 400, { error: `body is not JSON: ${err.message}` });
    }
    if (body === null || typeof body !== "object" || typeof body.message !== "string") {
      return sendJSON(res, 422, { error: 'expected {"message": "<text>", "thread_id": "<id>"}' });
    }
    const threadId = typeof body.thread_id === "string" && body.thread_id ? body.thread_id : "default";
    const tokens = replyTokens(body.message);
    if (!wantsSSE(req.headers.accept)) {
      return sendJSON(res, 200, { reply: tokens.join(" "), thread_id: threadId });
    }
    res.writeHead(200, { "Content-Type": "text/event-stream", "Cache-Control": "no-cache" });
    res.flushHeaders();
    let i = 0;
    const timer = setInterval(() => {
      if (i < tokens.length) {
        res.write(`event: token\ndata: ${JSON.stringify(tokens[i++])}\n\n`); // JSON: one line
      } else {
        clearInterval(timer);
        res.end(`event: done\ndata: ${JSON.stringify({ thread_id: threadId })}\n\n`);
      }
    }, TOKEN_DELAY_MS);
    res.on("close", () => clearInterval(timer)); // the client went away
  });
}

const routes = {
  "/ready": { GET: (req, res) => sendJSON(res, 200, { status: "ok" }) },
  "/health": { GET: (req, res) => sendJSON(res, 200, { status: "ok" }) },
  "/chat": { POST: chat },
};

const server = http.createServer({ noDelay: true }, (req, res) => {
  const path = (req.url || "").split("?")[0];
  const route = Object.prototype.hasOwnProperty.call(routes, path) ? routes[path] : null;
  const method = req.method === "HEAD" ? "GET" : req.method; // Node drops the body of HEAD answers
  if (!route) {
    req.resume();
    return sendJSON(res, 404, { error: "no route" });
  }
  if (!Object.prototype.hasOwnProperty.call(route, method)) {
    req.resume();
    return sendJSON(res, 405, { error: `method ${req.method} not allowed` }, { Allow: Object.keys(route).join(", ") });
  }
  try {
    route[method](req, res);
  } catch (err) {
    console.error(err);
    if (!res.headersSent) sendJSON(res, 500, { error: "internal error" });
  }
});

// Requests the HTTP parser refuses (bad header bytes, oversized head): a JSON 400/431, then close.
server.on("clientError", (err, socket) => {
  if (err.code === "ECONNRESET" || !socket.writable) return socket.destroy();
  const status = err.code === "HPE_HEADER_OVERFLOW" ? 431 : 400;
  const body = JSON.stringify({ error: status === 431 ? "request header too large" : "bad request" });
  socket.end(`HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\nContent-Type: application/json\r\n` +
    `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
});

function shutdown(signal) {
  console.log(`${signal}: closing`);
  server.close(() => process.exit(0)); // stop accepting; exit when open requests are done
  server.closeIdleConnections(); // keep-alive connections would hold close() open
  setTimeout(() => process.exit(0), 5000).unref();
}
process.on("SIGTERM", shutdown);
process.on("SIGINT", shutdown);

// 0.0.0.0 explicitly: "localhost" binds loopback only, unreachable from the pod's address.
const HOST = process.env.DEFECT === "localhost" ? "localhost" : "0.0.0.0";
server.listen(8080, HOST, () => console.log(`listening on ${HOST}:8080`));
