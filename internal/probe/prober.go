package probe

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"time"

	"golang.org/x/time/rate"

	"github.com/takedown-project/takedown"
	"github.com/takedown-project/takedown/internal/outbound"
)

// Config is how a Prober probes. Zero values take the defaults given.
type Config struct {
	// Outbound routes connections (the simulator's override), gives the
	// trusted roots and the User-Agent; nil means straight out, the
	// system's roots and outbound.DefaultUserAgent. Its proxy setting is
	// not used: the guard must see the address a probe connects to.
	Outbound *outbound.Config
	// Allow are address ranges the guard lets through despite its
	// ranges (the simulator's loopback, an operator's test network).
	Allow []netip.Prefix
	// Classifier turns an answer into a verdict; nil means a fallback
	// that knows only statuses (2xx online, 404 and 410 offline).
	Classifier Classifier
	// PerHostConcurrency is how many requests one host gets at once
	// (default 2); PerHostRate how many a second (default 2; +Inf for no
	// limit) with bursts of PerHostBurst (default 1). Retries and
	// redirects count.
	PerHostConcurrency int
	PerHostRate        float64
	PerHostBurst       int
	// HostLimits override the per-host limits for some hosts (a provider
	// that agrees to more, a slow site that asks for less), by host name
	// as written in URLs (case, a final dot and IDNA aside); a zero field
	// keeps the default.
	HostLimits map[string]HostLimit
	// GlobalConcurrency is how many requests are in flight at once in
	// all, and the number of ProbeAll's workers (default 256).
	GlobalConcurrency int
	// ConnectTimeout bounds one connection attempt (default 5 s),
	// HeaderTimeout the wait for an answer's headers (default 10 s), and
	// Timeout one probe from its first request to the end of its answer,
	// redirects and retries included (default 20 s); waiting for a turn
	// at a busy host does not count.
	ConnectTimeout time.Duration
	HeaderTimeout  time.Duration
	Timeout        time.Duration
	// MaxBytes is how much of an answer's body is read (default 256 KiB).
	MaxBytes int64
	// Retries is how many times a transient failure is tried again
	// (default 2; negative for none): connection refused or reset,
	// timeouts, 502, 503, 504 and 429. Backoff is the first wait between
	// tries (default 500 ms), doubled each time, with jitter; a
	// Retry-After is honoured up to MaxRetryAfter (default 10 s), beyond
	// which the answer stands.
	Retries       int
	Backoff       time.Duration
	MaxRetryAfter time.Duration
	// MaxRedirects is how many redirects a probe follows (default 5).
	MaxRedirects int
	// Backlog is how many targets ProbeAll holds waiting for their host
	// (default 16 per worker).
	Backlog int
	// Region is where the probes look from, recorded on observations.
	Region string
	// Resolve looks up a host's addresses; nil means the system's
	// resolver. Every address it gives is checked by the guard.
	Resolve func(ctx context.Context, host string) ([]netip.Addr, error)
}

// Prober probes items' URLs, safely and politely. It is safe for
// concurrent use; its limits hold across all its callers.
type Prober struct {
	cfg       Config
	out       *outbound.Config
	ua        string
	guard     guard
	resolve   resolveFunc
	classify  Classifier
	transport *http.Transport
	hosts     *hostTable
	global    chan struct{}

	// dialIP connects to an address the guard has passed; tests replace
	// it to reach loopback servers in place of public addresses.
	dialIP func(ctx context.Context, network string, ap netip.AddrPort) (net.Conn, error)
	// probeLeased is what ProbeAll's workers call; tests replace it.
	probeLeased func(ctx context.Context, t takedown.ProbeTarget, h *hostState) takedown.Observation
	// sleep waits between tries; tests record it.
	sleep func(ctx context.Context, d time.Duration) error
}

// New returns a Prober.
func New(cfg Config) (*Prober, error) {
	if cfg.PerHostConcurrency < 0 || cfg.GlobalConcurrency < 0 || cfg.PerHostRate < 0 || cfg.MaxBytes < 0 ||
		cfg.PerHostBurst < 0 || cfg.MaxRedirects < 0 || cfg.Backlog < 0 || math.IsNaN(cfg.PerHostRate) {
		return nil, errors.New("probe: limits must not be negative")
	}
	for _, p := range cfg.Allow {
		if !p.IsValid() {
			return nil, fmt.Errorf("probe: allowed range %v is not valid", p)
		}
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	defInt := func(n *int, v int) {
		if *n == 0 {
			*n = v
		}
	}
	defInt(&cfg.PerHostConcurrency, 2)
	defInt(&cfg.PerHostBurst, 1)
	defInt(&cfg.GlobalConcurrency, 256)
	defInt(&cfg.MaxRedirects, 5)
	defInt(&cfg.Retries, 2)
	cfg.Retries = max(cfg.Retries, 0)
	defInt(&cfg.Backlog, 16*cfg.GlobalConcurrency)
	if cfg.PerHostRate == 0 {
		cfg.PerHostRate = 2
	}
	if cfg.MaxBytes == 0 {
		cfg.MaxBytes = 256 << 10
	}
	def(&cfg.ConnectTimeout, 5*time.Second)
	def(&cfg.HeaderTimeout, 10*time.Second)
	def(&cfg.Timeout, 20*time.Second)
	def(&cfg.Backoff, 500*time.Millisecond)
	def(&cfg.MaxRetryAfter, 10*time.Second)

	p := &Prober{cfg: cfg, out: cfg.Outbound, guard: guard{allow: cfg.Allow}, classify: cfg.Classifier}
	if p.out == nil {
		p.out = &outbound.Config{}
	}
	p.ua = p.out.UserAgent
	if p.ua == "" {
		p.ua = outbound.DefaultUserAgent
	}
	p.resolve = cfg.Resolve
	if p.resolve == nil {
		p.resolve = defaultResolve
	}
	if p.classify == nil {
		p.classify = fallback{}
	}
	r := rate.Limit(cfg.PerHostRate)
	if math.IsInf(cfg.PerHostRate, 1) {
		r = rate.Inf
	}
	p.hosts = newHostTable(cfg.PerHostConcurrency, r, cfg.PerHostBurst)
	for host, l := range cfg.HostLimits {
		if l.Rate < 0 || l.Concurrency < 0 || math.IsNaN(l.Rate) {
			return nil, fmt.Errorf("probe: the limits of host %q must be positive", host)
		}
		o := hostOverride{rate: r, limit: cfg.PerHostConcurrency}
		if l.Rate > 0 {
			o.rate = rate.Limit(l.Rate)
			if math.IsInf(l.Rate, 1) {
				o.rate = rate.Inf
			}
		}
		if l.Concurrency > 0 {
			o.limit = l.Concurrency
		}
		p.hosts.overrides[keyOf(&url.URL{Host: host})] = o
	}
	p.global = make(chan struct{}, cfg.GlobalConcurrency)
	p.dialIP = p.dialChecked
	p.probeLeased = p.probe
	p.sleep = sleepCtx
	p.transport = p.newTransport()
	return p, nil
}

// Close drops the idle connections.
func (p *Prober) Close() { p.transport.CloseIdleConnections() }

// Probe probes one item's URL and says what it saw. It waits for a turn
// at the URL's host (its concurrency and rate), then fetches the URL,
// following redirects, with retries for transient failures, and asks
// the classifier. A refusal of the guard gives an unknown verdict, never
// an offline one: a probe that was not made proves nothing.
func (p *Prober) Probe(ctx context.Context, t takedown.ProbeTarget) takedown.Observation {
	return p.probe(ctx, t, nil)
}

// Fetch fetches a URL as a probe does (its turn at the host within the
// limits, the guard on every connection and redirect, retries for
// transient failures) and hands every exchange, redirects included, to
// record, for a capture of evidence. maxBytes caps each body (0: the
// prober's cap). The Response says how it ended, as for a probe.
func (p *Prober) Fetch(ctx context.Context, rawURL string, maxBytes int64, record func(Exchange)) *Response {
	f := fetch{p: p, record: record, maxBytes: maxBytes}
	defer f.releaseHost()
	return f.run(ctx, rawURL)
}

// probe is Probe with the target's host slot possibly already taken (by
// ProbeAll's dispatcher).
func (p *Prober) probe(ctx context.Context, t takedown.ProbeTarget, h *hostState) takedown.Observation {
	f := fetch{p: p, held: h}
	defer f.releaseHost()
	r := f.run(ctx, t.URL)
	o := takedown.Observation{
		ItemID: t.ItemID, At: f.start, Status: r.Status, FinalURL: r.FinalURL,
		Bytes: int64(len(r.Body)), Region: p.cfg.Region,
	}
	if o.At.IsZero() {
		o.At = time.Now()
	}
	o.LatencyMS = time.Since(o.At).Milliseconds()
	if r.Err != nil {
		o.Error = r.Err.Error()
	}
	var v Verdict
	if r.Guarded {
		v = Verdict{Verdict: takedown.VerdictUnknown, Reason: takedown.ReasonRefused, Rule: "guard"}
	} else {
		v = p.classify.Classify(t.Platform, t.Kind, r)
		if v.Verdict == "" {
			v = Verdict{Verdict: takedown.VerdictUnknown, Reason: takedown.ReasonUnexpected, Rule: "none"}
		}
	}
	o.Verdict, o.Reason, o.Rule = v.Verdict, v.Reason, v.Rule
	return o
}

// fallback classifies by status alone, for a prober built without rules.
type fallback struct{}

func (fallback) Classify(_ takedown.Platform, _ takedown.Kind, r *Response) Verdict {
	switch {
	case r.Guarded:
		return Verdict{takedown.VerdictUnknown, takedown.ReasonRefused, "guard"}
	case r.Err != nil || r.Status == 0:
		return Verdict{takedown.VerdictUnknown, takedown.ReasonNetwork, "fallback-network"}
	case r.Status >= 200 && r.Status < 300:
		return Verdict{takedown.VerdictOnline, takedown.ReasonPresent, "fallback-2xx"}
	case r.Status == http.StatusNotFound || r.Status == http.StatusGone:
		return Verdict{takedown.VerdictOffline, takedown.ReasonNotFound, "fallback-gone"}
	case r.Status == http.StatusTooManyRequests:
		return Verdict{takedown.VerdictUnknown, takedown.ReasonRateLimited, "fallback-429"}
	}
	return Verdict{takedown.VerdictUnknown, takedown.ReasonUnexpected, "fallback"}
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
