package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/spf13/cobra"

	"github.com/takedown-project/takedown/internal/api"
	"github.com/takedown-project/takedown/internal/canon"
)

// serveOptions is serve's own configuration.
type serveOptions struct {
	listen  string
	migrate bool
	jobs    bool
	// concurrency is how many jobs this process works at once.
	concurrency int
	// ready, when set, is told the address the server listens on (tests
	// listen on port 0).
	ready func(addr string)
}

func newServeCommand(g *globals) *cobra.Command {
	o := &serveOptions{}
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Serve the HTTP API (and, by default, run background jobs)",
		Long: `serve answers the HTTP API under /api/v1 (described at /api/v1/openapi.json)
until it is interrupted, then shuts down gracefully. By default it also runs
the background job workers in the same process; a scale-out deployment on
PostgreSQL runs serve --jobs=false beside separate takedown worker processes.

There is no authentication yet: serve listens on 127.0.0.1 by default. Do not
expose it to a network until users and tokens exist.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return serve(cmd.Context(), g, o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.listen, "listen", "127.0.0.1:8080", "address to listen on")
	f.BoolVar(&o.migrate, "migrate", false, "apply database migrations before serving (SQLite files are always migrated)")
	f.BoolVar(&o.jobs, "jobs", true, "run the background job workers in this process")
	f.IntVar(&o.concurrency, "concurrency", 10, "jobs worked at once when --jobs is on")
	return cmd
}

func serve(ctx context.Context, g *globals, o *serveOptions) error {
	db, err := openDatabase(ctx, g)
	if err != nil {
		return err
	}
	defer db.Close()
	if o.migrate {
		if err := db.Migrate(ctx); err != nil {
			return err
		}
	}
	if o.jobs {
		stop, err := startJobs(ctx, g, db, o.concurrency)
		if err != nil {
			return err
		}
		defer stop()
	}

	mux := http.NewServeMux()
	mux.Handle("/api/", api.New(api.Config{Store: db, Recognize: canon.Recognize, Logger: g.logger}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintln(w, "takedown: the API is under /api/v1; its OpenAPI document is /api/v1/openapi.json")
	})

	ln, err := net.Listen("tcp", o.listen)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", o.listen, err)
	}
	srv := &http.Server{
		Handler:           http.NewCrossOriginProtection().Handler(mux),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       2 * time.Minute,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(g.logger.Handler(), slog.LevelWarn),
	}
	addr := ln.Addr().String()
	g.logger.Info("serving", "addr", "http://"+addr, "db", redactDSN(g.db), "jobs", o.jobs)
	if o.ready != nil {
		o.ready(addr)
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	g.logger.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("shut down: %w", err)
	}
	return nil
}
