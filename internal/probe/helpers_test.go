package probe

import (
	"context"
	"fmt"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/takedown-project/takedown"
)

type testServer struct {
	*httptest.Server
	port string
}

// loopbackServer starts a server on 127.0.0.1.
func loopbackServer(t testing.TB, h http.Handler) *testServer {
	t.Helper()
	s := httptest.NewServer(h)
	t.Cleanup(s.Close)
	return &testServer{s, portOf(t, s.URL)}
}

func portOf(t testing.TB, raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return u.Port()
}

// newTestProber builds a prober with test defaults: no rate limit, short
// backoff and timeouts, unless cfg says otherwise.
func newTestProber(t testing.TB, cfg Config) *Prober {
	t.Helper()
	if cfg.PerHostRate == 0 {
		cfg.PerHostRate = math.Inf(1)
	}
	if cfg.Backoff == 0 {
		cfg.Backoff = 5 * time.Millisecond
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = 5 * time.Second
	}
	p, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	return p
}

// publicNet stands for the internet in tests: host names resolve to
// public-looking addresses, and connections to addresses in publicRange
// go to the same port on 127.0.0.1 instead. Nothing else is dialled, so
// no test traffic leaves the machine whatever the code under test does.
type publicNet struct {
	mu      sync.Mutex
	answers map[string][][]netip.Addr // successive answers per host; the last repeats
	lookups map[string]int
	dialled []netip.Addr
}

var publicRange = netip.MustParsePrefix("93.184.215.0/24")

func newPublicNet() *publicNet {
	return &publicNet{answers: map[string][][]netip.Addr{}, lookups: map[string]int{}}
}

// answer sets what successive lookups of host give.
func (n *publicNet) answer(host string, addrs ...string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	for _, a := range addrs {
		n.answers[host] = append(n.answers[host], []netip.Addr{netip.MustParseAddr(a)})
	}
}

func (n *publicNet) resolve(ctx context.Context, host string) ([]netip.Addr, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	as := n.answers[host]
	if len(as) == 0 {
		return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
	}
	i := min(n.lookups[host], len(as)-1)
	n.lookups[host]++
	return as[i], nil
}

func (n *publicNet) dial(ctx context.Context, network string, ap netip.AddrPort) (net.Conn, error) {
	n.mu.Lock()
	n.dialled = append(n.dialled, ap.Addr())
	n.mu.Unlock()
	if !publicRange.Contains(ap.Addr()) {
		return nil, fmt.Errorf("publicNet: no route to %s in tests", ap)
	}
	var d net.Dialer
	return d.DialContext(ctx, network, netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), ap.Port()).String())
}

func (n *publicNet) dialledAny(p netip.Prefix) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	for _, a := range n.dialled {
		if p.Contains(a.Unmap()) {
			return true
		}
	}
	return false
}

// withPublicNet builds a prober on n.
func withPublicNet(t testing.TB, n *publicNet, cfg Config) *Prober {
	cfg.Resolve = n.resolve
	p := newTestProber(t, cfg)
	p.dialIP = n.dial
	return p
}

// recorder is a classifier that keeps what it was shown and says
// online for any answer.
type recorder struct {
	mu   sync.Mutex
	last *Response
}

func (c *recorder) Classify(_ takedown.Platform, _ takedown.Kind, r *Response) Verdict {
	c.mu.Lock()
	c.last = r
	c.mu.Unlock()
	return fallback{}.Classify("", "", r)
}

func (c *recorder) response() *Response {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.last
}

// inflight counts requests in flight, per Host and in all, and keeps the
// highest counts seen.
type inflight struct {
	mu       sync.Mutex
	now      map[string]int
	peak     map[string]int
	all      int
	peakAll  int
	arrivals map[string][]time.Time
}

func newInflight() *inflight {
	return &inflight{now: map[string]int{}, peak: map[string]int{}, arrivals: map[string][]time.Time{}}
}

func (c *inflight) enter(host string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now[host]++
	c.peak[host] = max(c.peak[host], c.now[host])
	c.all++
	c.peakAll = max(c.peakAll, c.all)
	c.arrivals[host] = append(c.arrivals[host], time.Now())
}

func (c *inflight) leave(host string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now[host]--
	c.all--
}

func (c *inflight) handler(delay time.Duration) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host, _, _ := net.SplitHostPort(r.Host)
		c.enter(host)
		defer c.leave(host)
		time.Sleep(delay)
		w.Write([]byte("ok"))
	})
}

// hostsResolver resolves every name to 127.0.0.1.
func hostsResolver(ctx context.Context, host string) ([]netip.Addr, error) {
	return []netip.Addr{netip.MustParseAddr("127.0.0.1")}, nil
}

var loopbackAllowed = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}

// probeAll runs ProbeAll over targets and returns the observations.
func probeAll(ctx context.Context, p *Prober, targets []takedown.ProbeTarget) ([]takedown.Observation, error) {
	in := make(chan takedown.ProbeTarget)
	out := make(chan takedown.Observation)
	go func() {
		defer close(in)
		for _, t := range targets {
			select {
			case in <- t:
			case <-ctx.Done():
				return
			}
		}
	}()
	errc := make(chan error, 1)
	go func() { errc <- p.ProbeAll(ctx, in, out) }()
	var obs []takedown.Observation
	for o := range out {
		obs = append(obs, o)
	}
	return obs, <-errc
}
