// A conformant agent in Go with net/http only (no third-party modules).
//
// POST /chat answers JSON, or Server-Sent Events when Accept includes text/event-stream (q>0).
// The Go-specific points: http.Flusher after every event (net/http buffers 4 KiB otherwise, and a
// handler that returns before filling it gets a Content-Length: one lump), JSON for every error
// answer (http.Error and the default mux's 404 are text/plain), and http.Server.Shutdown on SIGTERM.
//
// DEFECT=no-flush (set by the broken twin, sample_agents/broken/go-no-flush) makes the classic Go
// mistake: events written without http.Flusher. net/http buffers them until the handler returns:
// they arrive in one lump, and as the whole stream fits the buffer, even with a Content-Length.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"
	"unicode/utf8"
)

const tokenDelay = 30 * time.Millisecond

var noFlush = os.Getenv("DEFECT") == "no-flush"

type chatRequest struct {
	Message  *string `json:"message"`
	ThreadID string  `json:"thread_id"`
}

func writeJSON(w http.ResponseWriter, status int, payload any) {
	body, _ := json.Marshal(payload)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	w.Write(body)
}

func writeError(w http.ResponseWriter, status int, message string) {
	writeJSON(w, status, map[string]string{"error": message})
}

// wantsSSE: Accept lists text/event-stream with a q-value above 0 ("text/event-stream;q=0" = not wanted).
func wantsSSE(accept string) bool {
	for _, mediaRange := range strings.Split(accept, ",") {
		params := strings.Split(mediaRange, ";")
		if !strings.EqualFold(strings.TrimSpace(params[0]), "text/event-stream") {
			continue
		}
		q := 1.0
		for _, p := range params[1:] {
			name, value, _ := strings.Cut(strings.TrimSpace(p), "=")
			if strings.EqualFold(strings.TrimSpace(name), "q") {
				if v, err := strconv.ParseFloat(strings.TrimSpace(value), 64); err == nil {
					q = v
				}
			}
		}
		if q > 0 {
			return true
		}
	}
	return false
}

func replyTokens(message string) []string {
	words := strings.Fields(message)
	if len(words) > 20 {
		words = words[:20]
	}
	return append(append([]string{"Echo:"}, words...), "(done)")
}

func probe(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		writeError(w, http.StatusMethodNotAllowed, "method "+r.Method+" not allowed")
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

func chat(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", "POST")
		writeError(w, http.StatusMethodNotAllowed, "method "+r.Method+" not allowed")
		return
	}
	var body chatRequest
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20))
	if err := dec.Decode(&body); err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			writeError(w, http.StatusRequestEntityTooLarge, "body too large")
			return
		}
		var wrongType *json.UnmarshalTypeError // JSON, but not the shape expected
		if errors.As(err, &wrongType) {
			writeError(w, http.StatusUnprocessableEntity, `expected {"message": string, "thread_id": string}`)
			return
		}
		writeError(w, http.StatusBadRequest, "body is not JSON: "+err.Error())
		return
	}
	if body.Message == nil || !utf8.ValidString(*body.Message) {
		writeError(w, http.StatusUnprocessableEntity, `expected {"message": string, "thread_id": string}`)
		return
	}
	if body.ThreadID == "" {
		body.ThreadID = "default"
	}
	tokens := replyTokens(*body.Message)
	if !wantsSSE(r.Header.Get("Accept")) {
		writeJSON(w, http.StatusOK, map[string]string{"reply": strings.Join(tokens, " "), "thread_id": body.ThreadID})
		return
	}
	flusher, ok := w.(http.Flusher)
	if !ok {
		writeError(w, http.StatusInternalServerError, "streaming unsupported")
		return
	}
	flush := func() {
		if !noFlush {
			flusher.Flush()
		}
	}
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	flush() // the response head goes out now, before the first token
	for _, token := range tokens {
		select {
		case <-r.Context().Done(): // the client went away
			return
		case <-time.After(tokenDelay):
		}
		data, _ := json.Marshal(token) // one line: JSON escapes newlines
		fmt.Fprintf(w, "event: token\ndata: %s\n\n", data)
		flush()
	}
	done, _ := json.Marshal(map[string]string{"thread_id": body.ThreadID})
	fmt.Fprintf(w, "event: done\ndata: %s\n\n", done)
	flush()
}

func main() {
	mux := http.NewServeMux()
	mux.HandleFunc("/ready", probe)
	mux.HandleFunc("/health", probe)
	mux.HandleFunc("/chat", chat)
	router := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// ServeMux answers unknown paths with a text/plain 404 and redirects unclean ones ("//x", "/a/../b").
		switch r.URL.Path {
		case "/ready", "/health", "/chat":
			mux.ServeHTTP(w, r)
		default:
			writeError(w, http.StatusNotFound, "no route "+r.URL.Path)
		}
	})
	srv := &http.Server{
		Addr:              "0.0.0.0:8080", // all interfaces: the platform connects to the pod's address
		Handler:           router,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       60 * time.Second,
		MaxHeaderBytes:    64 << 10,
	}

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	stopped := make(chan struct{})
	go func() {
		<-ctx.Done() // PID 1: without a handler the kernel drops SIGTERM
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(shutdown) // stops accepting, waits for the requests in flight
		close(stopped)
	}()
	log.Printf("listening on %s", srv.Addr)
	if err := srv.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
		log.Print(err)
		os.Exit(1)
	}
	// ListenAndServe returns as soon as Shutdown begins: returning from main now would cut the
	// streams still in flight.
	<-stopped
	log.Print("stopped")
}
