// Command receiver is a webhook endpoint for trying PyTake on this
// machine: it listens on 127.0.0.1, checks each delivery's signature with
// Verify (the Go example of the integrator reference), ignores repeats of
// a webhook-id already seen, and prints each event as one JSON line on
// standard output. Bad signatures get 401, so PyTake retries and the
// delivery log shows it.
//
//	receiver -addr 127.0.0.1:4000 -secret "$WEBHOOK_SECRET" [-count 1] [-timeout 2m]
//
// With -count it exits (status 0) after that many distinct events; with
// -timeout it exits with status 1 if they have not all arrived in time.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:4000", "address to listen on")
	secret := flag.String("secret", os.Getenv("WEBHOOK_SECRET"), "the subscription's secret: whsec_... or one you chose (default $WEBHOOK_SECRET)")
	count := flag.Int("count", 0, "exit after this many distinct events (0: run until interrupted)")
	timeout := flag.Duration("timeout", 0, "give up after this long (0: never)")
	flag.Parse()
	if *secret == "" {
		log.Fatal("receiver: -secret (or WEBHOOK_SECRET) is required: the secret POST /v1/webhooks answered")
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if *timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, *timeout)
		defer cancel()
	}
	if err := run(ctx, *addr, *secret, *count, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "receiver:", err)
		os.Exit(1)
	}
}

// run serves until count events have been printed (count > 0) or ctx ends.
func run(ctx context.Context, addr, secret string, count int, out, logw io.Writer) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	h := &handler{secret: secret, out: out, log: logw, seen: map[string]bool{}, want: count, done: make(chan struct{}), now: time.Now}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	fmt.Fprintf(logw, "receiver: listening on http://%s\n", ln.Addr())
	var result error
	select {
	case <-h.done:
	case <-ctx.Done():
		if count > 0 && !errors.Is(ctx.Err(), context.Canceled) {
			result = fmt.Errorf("%d of %d events received before the timeout", h.printed(), count)
		}
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = srv.Shutdown(shutdown)
	return result
}

type handler struct {
	secret string
	out    io.Writer
	log    io.Writer
	now    func() time.Time

	mu   sync.Mutex
	seen map[string]bool
	n    int
	want int
	done chan struct{}
}

func (h *handler) printed() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.n
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		http.Error(w, "POST webhooks here", http.StatusMethodNotAllowed)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		http.Error(w, "read body", http.StatusBadRequest)
		return
	}
	if err := Verify(h.secret, r.Header, body, h.now()); err != nil {
		fmt.Fprintf(h.log, "receiver: rejected %s: %v\n", r.Header.Get("webhook-id"), err)
		http.Error(w, "invalid signature", http.StatusUnauthorized)
		return
	}
	id := r.Header.Get("webhook-id")
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.seen[id] {
		// A retry of an event already handled (our answer was lost or
		// late): acknowledge it again, do nothing twice.
		fmt.Fprintf(h.log, "receiver: %s again, ignored\n", id)
		w.WriteHeader(http.StatusNoContent)
		return
	}
	if h.want > 0 && h.n >= h.want {
		http.Error(w, "enough events", http.StatusServiceUnavailable)
		return
	}
	h.seen[id] = true
	h.n++
	fmt.Fprintf(h.out, "%s\n", body)
	w.WriteHeader(http.StatusNoContent)
	if h.want > 0 && h.n == h.want {
		close(h.done)
	}
}
