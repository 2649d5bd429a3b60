package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/spf13/pflag"

	"github.com/takedown-project/takedown/internal/metrics"
)

// metricsOptions say where a process's metrics can be read besides.
type metricsOptions struct {
	listen string
}

func (m *metricsOptions) register(f *pflag.FlagSet) {
	f.StringVar(&m.listen, "metrics-listen", "", "also answer /metrics (Prometheus), /healthz and /readyz on this address, e.g. a private interface Prometheus scrapes")
}

// readyHandler answers 200 while the database answers within two
// seconds (the queue's depth, read as the metrics read it), 503 when it
// does not: a load balancer sends no requests to a process that cannot
// reach its database.
func readyHandler(db database) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		if _, err := db.JobCounts(ctx); err != nil {
			w.WriteHeader(http.StatusServiceUnavailable)
			fmt.Fprintln(w, "not ready: the database does not answer")
			return
		}
		fmt.Fprintln(w, "ready")
	})
}

func healthHandler(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	fmt.Fprintln(w, "ok")
}

// loopbackOnly answers only requests made on this machine, not through a
// proxy: on serve's own address the metrics are for a local scraper
// (--metrics-listen gives them an address of their own).
func loopbackOnly(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host, _, err := net.SplitHostPort(r.RemoteAddr)
		ip := net.ParseIP(host)
		if err != nil || ip == nil || !ip.IsLoopback() || r.Header.Get("X-Forwarded-For") != "" || r.Header.Get("Forwarded") != "" {
			http.Error(w, "/metrics answers only this machine here; use --metrics-listen to serve them on another address", http.StatusForbidden)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// serveMetrics answers /metrics, /healthz and /readyz on listen until
// the returned function stops it; nothing when listen is "".
func serveMetrics(logger *slog.Logger, listen string, m *metrics.Metrics, db database) (stop func(), addr string, err error) {
	if listen == "" {
		return func() {}, "", nil
	}
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return nil, "", fmt.Errorf("listen for metrics on %s: %w", listen, err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", m.Handler())
	mux.HandleFunc("GET /healthz", healthHandler)
	mux.Handle("GET /readyz", readyHandler(db))
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			logger.Error("metrics server", "error", err)
		}
	}()
	logger.Info("metrics", "addr", "http://"+ln.Addr().String()+"/metrics")
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	}, ln.Addr().String(), nil
}
