// A conformant agent in Java with the JDK only: com.sun.net.httpserver.HttpServer.
//
// POST /chat answers JSON, or Server-Sent Events when Accept includes text/event-stream (q>0).
// The JVM-specific points: an executor (HttpServer's default runs every exchange on its one
// dispatcher thread, so a stream in flight blocks the probes), a chunked response flushed after
// every event, and a shutdown hook that stops the server: the JVM runs it on SIGTERM, as PID 1 too.
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

public class Agent {
    static final long TOKEN_DELAY_MS = 30;
    static final int MAX_BODY = 1 << 20;
    static final AtomicInteger ACTIVE = new AtomicInteger(); // exchanges in flight

    public static void main(String[] args) throws IOException {
        // HttpServer writes the response head and the body separately: without TCP_NODELAY, Nagle's
        // algorithm holds the body until the client's delayed ACK, 40 ms on every keep-alive answer.
        System.setProperty("sun.net.httpserver.nodelay", "true");
        // 0.0.0.0: all interfaces, the platform connects to the pod's address.
        HttpServer server = HttpServer.create(new InetSocketAddress("0.0.0.0", 8080), 0);
        ExecutorService pool = Executors.newFixedThreadPool(32);
        server.setExecutor(pool);
        server.createContext("/", Agent::route);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            System.err.println("SIGTERM: stopping");
            // HttpServer.stop(delay) waits the whole delay even when idle (before JDK 21):
            // wait for the exchanges in flight here, up to 5 s, then stop at once.
            long deadline = System.nanoTime() + 5_000_000_000L;
            while (ACTIVE.get() > 0 && System.nanoTime() < deadline) sleep(20);
            server.stop(0);
            pool.shutdownNow();
        }));
        server.start();
        System.err.println("listening on 0.0.0.0:8080");
    }

    static void route(HttpExchange ex) throws IOException {
        ACTIVE.incrementAndGet();
        try {
            String path = ex.getRequestURI().getRawPath();
            String method = ex.getRequestMethod();
            if (path.equals("/ready") || path.equals("/health")) {
                if (method.equals("GET") || method.equals("HEAD")) sendJson(ex, 200, "{\"status\": \"ok\"}");
                else notAllowed(ex, "GET, HEAD");
            } else if (path.equals("/chat")) {
                if (method.equals("POST")) chat(ex);
                else notAllowed(ex, "POST");
            } else {
                sendError(ex, 404, "no route " + path);
            }
        } catch (RuntimeException e) {
            e.printStackTrace();
            try { sendError(ex, 500, "internal error"); } catch (IOException | RuntimeException ignored) { }
        } finally {
            ex.close();
            ACTIVE.decrementAndGet();
        }
    }

    static void chat(HttpExchange ex) throws IOException {
        byte[] raw = readBody(ex.getRequestBody());
        if (raw == null) { sendError(ex, 413, "body too large"); return; }
        Object body;
        try {
            body = new Json(new String(raw, StandardCharsets.UTF_8)).parseDocument();
        } catch (IllegalArgumentException e) {
            sendError(ex, 400, "body is not JSON: " + e.getMessage());
            return;
        }
        if (!(body instanceof Map<?, ?> map) || !(map.get("message") instanceof String message)) {
            sendError(ex, 422, "expected {\"message\": \"<text>\", \"thread_id\": \"<id>\"}");
            return;
        }
        String threadId = map.get("thread_id") instanceof String t && !t.isEmpty() ? t : "default";
        List<String> tokens = new ArrayList<>(List.of("Echo:"));
        for (String word : message.trim().split("\\s+")) if (!word.isEmpty() && tokens.size() <= 20) tokens.add(word);
        tokens.add("(done)");
        if (!wantsSse(ex.getRequestHeaders().getFirst("Accept"))) {
            sendJson(ex, 200, "{\"reply\": " + Json.quote(String.join(" ", tokens)) + ", \"thread_id\": " + Json.quote(threadId) + "}");
            return;
        }
        ex.getResponseHeaders().set("Content-Type", "text/event-stream");
        ex.getResponseHeaders().set("Cache-Control", "no-cache");
        ex.sendResponseHeaders(200, 0); // 0: length unknown, chunked
        OutputStream out = ex.getResponseBody();
        for (String token : tokens) {
            sleep(TOKEN_DELAY_MS);
            out.write(("event: token\ndata: " + Json.quote(token) + "\n\n").getBytes(StandardCharsets.UTF_8));
            out.flush(); // one chunk per event, sent now
        }
        out.write(("event: done\ndata: {\"thread_id\": " + Json.quote(threadId) + "}\n\n").getBytes(StandardCharsets.UTF_8));
        out.flush();
    }

    // text/event-stream with a q-value above 0 ("text/event-stream;q=0" means not wanted).
    static boolean wantsSse(String accept) {
        if (accept == null) return false;
        for (String range : accept.split(",")) {
            String[] parts = range.split(";");
            // ";".split(";") is an empty array in Java: guard it, or "Accept: ;" is a 500.
            if (parts.length == 0 || !parts[0].trim().equalsIgnoreCase("text/event-stream")) continue;
            double q = 1;
            for (int i = 1; i < parts.length; i++) {
                String[] kv = parts[i].split("=", 2);
                if (kv.length == 2 && kv[0].trim().equalsIgnoreCase("q")) {
                    try { q = Double.parseDouble(kv[1].trim()); } catch (NumberFormatException ignored) { }
                }
            }
            if (q > 0) return true;
        }
        return false;
    }

    static byte[] readBody(InputStream in) throws IOException {
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        byte[] chunk = new byte[8192];
        long size = 0;
        for (int n; (n = in.read(chunk)) > 0; ) { // past the limit: keep reading, keep nothing
            size += n;
            if (size <= MAX_BODY) buf.write(chunk, 0, n);
        }
        return size > MAX_BODY ? null : buf.toByteArray();
    }

    static void notAllowed(HttpExchange ex, String allow) throws IOException {
        ex.getResponseHeaders().set("Allow", allow);
        sendError(ex, 405, "method " + ex.getRequestMethod() + " not allowed");
    }

    static void sendError(HttpExchange ex, int status, String message) throws IOException {
        sendJson(ex, status, "{\"error\": " + Json.quote(message) + "}");
    }

    static void sendJson(HttpExchange ex, int status, String json) throws IOException {
        byte[] body = json.getBytes(StandardCharsets.UTF_8);
        ex.getResponseHeaders().set("Content-Type", "application/json");
        if (ex.getRequestMethod().equals("HEAD")) {
            ex.sendResponseHeaders(status, -1); // -1: no body
        } else {
            ex.sendResponseHeaders(status, body.length);
            ex.getResponseBody().write(body);
        }
    }

    static void sleep(long ms) {
        try { Thread.sleep(ms); } catch (InterruptedException e) { Thread.currentThread().interrupt(); }
    }

    /** The JDK has no JSON parser: a small one (objects, arrays, strings, numbers, literals). */
    static final class Json {
        private final String s;
        private int i;
        private int depth; // nesting is bounded: "[[[[…" must not overflow the stack

        Json(String s) { this.s = s; }

        Object parseDocument() {
            Object value = value();
            skipSpace();
            if (i != s.length()) throw error("trailing data");
            return value;
        }

        private Object value() {
            skipSpace();
            if (i >= s.length()) throw error("unexpected end");
            char c = s.charAt(i);
            if (c == '{' || c == '[') {
                if (++depth > 64) throw error("nested too deep");
                Object container = c == '{' ? object() : array();
                depth--;
                return container;
            }
            if (c == '"') return string();
            if (s.startsWith("true", i)) { i += 4; return Boolean.TRUE; }
            if (s.startsWith("false", i)) { i += 5; return Boolean.FALSE; }
            if (s.startsWith("null", i)) { i += 4; return null; }
            int start = i;
            while (i < s.length() && "+-0123456789.eE".indexOf(s.charAt(i)) >= 0) i++;
            try { return Double.parseDouble(s.substring(start, i)); } catch (NumberFormatException e) { throw error("bad value"); }
        }

        private Map<String, Object> object() {
            Map<String, Object> map = new LinkedHashMap<>();
            i++;
            skipSpace();
            if (peek() == '}') { i++; return map; }
            while (true) {
                skipSpace();
                if (peek() != '"') throw error("expected a key");
                String key = string();
                skipSpace();
                if (peek() != ':') throw error("expected ':'");
                i++;
                map.put(key, value());
                skipSpace();
                char c = next();
                if (c == '}') return map;
                if (c != ',') throw error("expected ',' or '}'");
            }
        }

        private List<Object> array() {
            List<Object> list = new ArrayList<>();
            i++;
            skipSpace();
            if (peek() == ']') { i++; return list; }
            while (true) {
                list.add(value());
                skipSpace();
                char c = next();
                if (c == ']') return list;
                if (c != ',') throw error("expected ',' or ']'");
            }
        }

        private String string() {
            StringBuilder out = new StringBuilder();
            i++;
            while (true) {
                char c = next();
                if (c == '"') return out.toString();
                if (c < 0x20) throw error("control character in string");
                if (c != '\\') { out.append(c); continue; }
                char e = next();
                switch (e) {
                    case '"', '\\', '/' -> out.append(e);
                    case 'b' -> out.append('\b');
                    case 'f' -> out.append('\f');
                    case 'n' -> out.append('\n');
                    case 'r' -> out.append('\r');
                    case 't' -> out.append('\t');
                    case 'u' -> {
                        if (i + 4 > s.length()) throw error("bad \\u escape");
                        try { out.append((char) Integer.parseInt(s.substring(i, i + 4), 16)); } catch (NumberFormatException x) { throw error("bad \\u escape"); }
                        i += 4;
                    }
                    default -> throw error("bad escape");
                }
            }
        }

        private void skipSpace() { while (i < s.length() && " \t\r\n".indexOf(s.charAt(i)) >= 0) i++; }
        private char peek() { return i < s.length() ? s.charAt(i) : '\0'; }
        private char next() { if (i >= s.length()) throw error("unexpected end"); return s.charAt(i++); }
        private IllegalArgumentException error(String what) { return new IllegalArgumentException(what + " at offset " + i); }

        /** A JSON string literal; lone surrogates and controls escaped, so the output is valid UTF-8. */
        static String quote(String value) {
            StringBuilder out = new StringBuilder("\"");
            for (char c : value.toCharArray()) {
                if (c == '"' || c == '\\') out.append('\\').append(c);
                else if (c < 0x20 || Character.isSurrogate(c)) out.append(String.format("\\u%04x", (int) c));
                else out.append(c);
            }
            return out.append('"').toString();
        }
    }
}
