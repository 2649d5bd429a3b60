package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"time"

	"github.com/spf13/cobra"

	"github.com/takedown-project/takedown"
	"github.com/takedown-project/takedown/internal/api"
	"github.com/takedown-project/takedown/internal/attribute"
	"github.com/takedown-project/takedown/internal/auth"
	"github.com/takedown-project/takedown/internal/canon"
	"github.com/takedown-project/takedown/internal/evidence"
	"github.com/takedown-project/takedown/internal/jobs"
	"github.com/takedown-project/takedown/internal/metrics"
	"github.com/takedown-project/takedown/internal/refer"
	"github.com/takedown-project/takedown/internal/web"
)

// serveOptions is serve's own configuration.
type serveOptions struct {
	listen  string
	migrate bool
	jobs    bool
	// queue is how this process works jobs, when jobs is on.
	queue queueOptions
	// ready, when set, is told the address the server listens on (tests
	// listen on port 0).
	ready func(addr string)
	// metrics is where the metrics can be read besides serve's address.
	metrics metricsOptions
	// delivery is how this process's workers send referrals, probes how
	// they probe referred items.
	delivery deliveryOptions
	probes   probeOptions
	captures captureOptions
	watch    watchOptions
	// asnDB is the IP-to-ASN database for attributing websites.
	asnDB string

	// Sign-in.
	secureCookies  bool
	sessionIdle    time.Duration
	sessionMax     time.Duration
	trustedProxies []string
	oidcIssuer     string
	oidcClientID   string
	oidcSecret     string
	oidcRedirect   string
	oidcName       string
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

Everything but the OpenAPI document needs a signed-in user: a browser
session (the UI at /, login with a password or, with --oidc-issuer, the
organisation's identity provider) or an API token ("Authorization: Bearer
tdk_..."; takedown token create). Create the first user on the command line:
takedown user add NAME --roles admin. Behind HTTPS (any deployment but a
laptop) pass --secure-cookies.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return serve(cmd.Context(), g, o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.listen, "listen", "127.0.0.1:8080", "address to listen on")
	f.BoolVar(&o.migrate, "migrate", false, "apply database migrations before serving (SQLite files are always migrated)")
	f.BoolVar(&o.jobs, "jobs", true, "run the background job workers in this process")
	o.queue.register(f)
	f.StringVar(&o.asnDB, "asn-db", "", "IP-to-ASN database (MaxMind MMDB) for attributing websites that no provider claims by domain")
	o.delivery.register(f)
	o.probes.register(f, true)
	o.captures.registerCapture(f, true)
	o.watch.register(f, true)
	o.metrics.register(f)
	f.BoolVar(&o.secureCookies, "secure-cookies", false, "mark cookies Secure (__Host- prefix) and send HSTS: set it whenever takedown is served over HTTPS")
	f.DurationVar(&o.sessionIdle, "session-idle", 30*time.Minute, "a browser session unused this long ends")
	f.DurationVar(&o.sessionMax, "session-max", 12*time.Hour, "a browser session ends this long after login")
	f.StringSliceVar(&o.trustedProxies, "trusted-proxies", nil, "reverse proxies (CIDR) whose X-Forwarded-For is believed, e.g. 10.0.0.0/8")
	f.StringVar(&o.oidcIssuer, "oidc-issuer", "", "OpenID Connect: the identity provider's issuer URL (turns on \"Sign in with\")")
	f.StringVar(&o.oidcClientID, "oidc-client-id", "", "OpenID Connect: takedown's client ID")
	f.StringVar(&o.oidcSecret, "oidc-client-secret", "", "OpenID Connect: the client secret (better in TAKEDOWN_OIDC_CLIENT_SECRET)")
	f.StringVar(&o.oidcRedirect, "oidc-redirect-url", "", "OpenID Connect: https://HOST/login/oidc/callback as registered with the provider")
	f.StringVar(&o.oidcName, "oidc-name", "", "OpenID Connect: the provider's name on the sign-in button")
	return cmd
}

func serve(ctx context.Context, g *globals, o *serveOptions) error {
	db, err := openDatabase(ctx, g)
	if err != nil {
		return err
	}
	defer db.Close()
	return serveDB(ctx, g, o, db)
}

// serveDB serves the API on an open database until ctx ends.
func serveDB(ctx context.Context, g *globals, o *serveOptions, db database) error {
	if o.migrate {
		if err := migrate(ctx, db); err != nil {
			return err
		}
	}
	m := metrics.New(db, g.logger)
	handler, err := newHandler(ctx, g, o, db, m)
	if err != nil {
		return err
	}
	stopMetrics, _, err := serveMetrics(g.logger, o.metrics.listen, m, db)
	if err != nil {
		return err
	}
	defer stopMetrics()

	ln, err := net.Listen("tcp", o.listen)
	if err != nil {
		return fmt.Errorf("listen on %s (use --listen to choose another address): %w", o.listen, err)
	}
	if o.jobs {
		// After listening: the portal links in referrals name the
		// address really listened on (port 0 in tests).
		d, err := o.delivery.build(db, ln.Addr().String())
		if err != nil {
			ln.Close()
			return err
		}
		d.Metrics = m
		if o.probes.simnet == "" {
			o.probes.simnet = o.delivery.simnet
		}
		v, err := o.probes.verify(db)
		if err != nil {
			ln.Close()
			return err
		}
		if v != nil {
			v.Metrics = m
		}
		ev, err := o.captures.evidenceJob(g, db, &o.probes)
		if err != nil {
			ln.Close()
			return err
		}
		rs, err := o.watch.job(g, db, &o.probes)
		if err != nil {
			ln.Close()
			return err
		}
		stop, err := startJobs(ctx, g, db, &o.queue, jobs.Deps{Delivery: d, Verify: v, Evidence: ev, Resurgence: rs})
		if err != nil {
			ln.Close()
			return err
		}
		defer stop()
	}
	srv := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       2 * time.Minute,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(g.logger.Handler(), slog.LevelWarn),
	}
	addr := ln.Addr().String()
	g.logger.Info("serving", "addr", "http://"+addr, "db", redactDSN(g.db), "jobs", o.jobs, "deliveries", o.delivery.describe(), "probes", o.probes.describe())
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

// newHandler wires the API, the UI and their sign-in together.
func newHandler(ctx context.Context, g *globals, o *serveOptions, db database, m *metrics.Metrics) (http.Handler, error) {
	var proxies []netip.Prefix
	for _, p := range o.trustedProxies {
		pfx, err := netip.ParsePrefix(p)
		if err != nil {
			return nil, takedown.Errorf(takedown.EINVALID, "--trusted-proxies %q: want a CIDR prefix such as 10.0.0.0/8", p)
		}
		proxies = append(proxies, pfx)
	}
	authn := auth.New(auth.Config{Users: db, SecureCookies: o.secureCookies, SessionIdle: o.sessionIdle, SessionMax: o.sessionMax,
		TrustedProxies: proxies, Logger: g.logger.With("component", "auth")})
	var oidc *auth.OIDC
	if o.oidcIssuer != "" {
		var err error
		oidc, err = auth.NewOIDC(ctx, auth.OIDCConfig{Issuer: o.oidcIssuer, ClientID: o.oidcClientID, ClientSecret: o.oidcSecret, RedirectURL: o.oidcRedirect}, authn, nil)
		if err != nil {
			return nil, err
		}
	}
	// The evidence store, when this process reaches one: the UI shows
	// captures from it.
	var blobs evidence.BlobStore
	if store, err := evidenceStore(g); err == nil {
		blobs = store
	} else {
		g.logger.Warn("captures will not be shown: no evidence store", "error", takedown.ErrorMessage(err))
	}
	ui, err := web.New(web.Config{Store: db, Auth: authn, OIDC: oidc, OIDCName: o.oidcName, HSTS: o.secureCookies, Evidence: blobs, Logger: g.logger.With("component", "web")})
	if err != nil {
		return nil, err
	}
	// A million items take seconds to count: the open operations' figures
	// are computed while the server starts, not at the first look.
	ui.Warm(ctx)
	mux := http.NewServeMux()
	plan := refer.Planner(db, attribute.Options{ASNDatabase: o.asnDB}, time.Now)
	mux.Handle("/api/", m.Instrument("api", api.New(api.Config{Store: db, Recognize: canon.Recognize, Auth: authn, Plan: plan, Logger: g.logger})))
	mux.HandleFunc("GET /healthz", healthHandler)
	mux.Handle("GET /readyz", readyHandler(db))
	mux.Handle("GET /metrics", loopbackOnly(m.Handler()))
	mux.Handle("/", m.Instrument("ui", ui))
	// Every state-changing request from a browser must come from takedown's
	// own pages (Fetch metadata and Origin checks); API clients with
	// tokens send neither and pass.
	return http.NewCrossOriginProtection().Handler(mux), nil
}
