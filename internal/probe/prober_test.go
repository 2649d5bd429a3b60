package probe

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/takedown-project/takedown"
	"github.com/takedown-project/takedown/internal/outbound"
)

func TestProbeObservation(t *testing.T) {
	t.Parallel()
	srv := loopbackServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/gone":
			http.Error(w, "gone", http.StatusGone)
		case "/moved":
			http.Redirect(w, r, "/here#frag", http.StatusMovedPermanently)
		default:
			w.Write([]byte("present"))
		}
	}))
	p := newTestProber(t, Config{Allow: loopbackAllowed, Region: "EU"})
	before := time.Now()
	o := p.Probe(context.Background(), takedown.ProbeTarget{ItemID: 3, URL: srv.URL + "/moved"})
	if o.At.Before(before) || o.At.After(time.Now()) {
		t.Errorf("At %v out of the probe's time", o.At)
	}
	o.At, o.LatencyMS = time.Time{}, 0
	want := takedown.Observation{ItemID: 3, Verdict: takedown.VerdictOnline, Reason: takedown.ReasonPresent, Rule: "fallback-2xx",
		Status: 200, FinalURL: srv.URL + "/here", Bytes: 7, Region: "EU"}
	if diff := cmp.Diff(want, o); diff != "" {
		t.Errorf("mismatch (-want +got):\n%s", diff)
	}
	o = p.Probe(context.Background(), takedown.ProbeTarget{URL: srv.URL + "/gone"})
	if o.Verdict != takedown.VerdictOffline || o.Reason != takedown.ReasonNotFound || o.Status != 410 {
		t.Errorf("gone: %+v", o)
	}
}

func TestRedirectIntoPrivateRefused(t *testing.T) {
	t.Parallel()
	var secret atomic.Int32
	inside := loopbackServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		secret.Add(1)
		w.Write([]byte("internal"))
	}))
	outside := loopbackServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if to := r.URL.Query().Get("to"); to != "" {
			http.Redirect(w, r, to, http.StatusFound)
			return
		}
		w.Write([]byte("public page"))
	}))
	n := newPublicNet()
	n.answer("public.example", "93.184.215.14")
	n.answer("internal.example", "10.0.0.1")
	n.answer("meta.example", "169.254.169.254")
	rec := &recorder{}
	p := withPublicNet(t, n, Config{Classifier: rec})
	start := "http://public.example:" + outside.port + "/start?to="

	o := p.Probe(context.Background(), takedown.ProbeTarget{URL: start + "/fine"})
	if o.Verdict != takedown.VerdictOnline {
		t.Fatalf("the public page: %+v", o)
	}
	rec.last = nil
	for _, to := range []string{
		"http://127.0.0.1:" + inside.port + "/secret",
		"http://[::1]:" + inside.port + "/secret",
		"http://internal.example:" + outside.port + "/secret",
		"http://meta.example:" + outside.port + "/latest/meta-data/",
		"http://2130706433:" + inside.port + "/secret",
	} {
		o := p.Probe(context.Background(), takedown.ProbeTarget{URL: start + to})
		if o.Verdict != takedown.VerdictUnknown || o.Reason != takedown.ReasonRefused || o.Rule != "guard" {
			t.Errorf("redirect to %s: %+v, want unknown/refused/guard", to, o)
		}
		if r := rec.response(); r != nil {
			t.Errorf("the classifier was asked about a guarded probe: %+v", r)
		}
	}
	if secret.Load() != 0 {
		t.Error("a redirect reached the loopback server")
	}
	if n.dialledAny(netip.MustParsePrefix("10.0.0.0/8")) || n.dialledAny(netip.MustParsePrefix("169.254.0.0/16")) {
		t.Error("a private address was dialled")
	}
}

func TestDNSRebinding(t *testing.T) {
	t.Parallel()
	var paths []string
	var mu sync.Mutex
	srv := loopbackServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		paths = append(paths, r.URL.Path)
		mu.Unlock()
		// A new connection for the next request: a new lookup.
		w.Header().Set("Connection", "close")
		if r.URL.Path == "/a" {
			http.Redirect(w, r, "/b", http.StatusFound)
			return
		}
		w.Write([]byte("b"))
	}))
	n := newPublicNet()
	n.answer("rebind.example", "93.184.215.14", "10.0.0.1")
	p := withPublicNet(t, n, Config{})
	o := p.Probe(context.Background(), takedown.ProbeTarget{URL: "http://rebind.example:" + srv.port + "/a"})
	if o.Reason != takedown.ReasonRefused || !strings.Contains(o.Error, "10.0.0.1") {
		t.Errorf("%+v, want refused at 10.0.0.1", o)
	}
	if n.dialledAny(netip.MustParsePrefix("10.0.0.0/8")) {
		t.Error("the rebound address was dialled")
	}
	if diff := cmp.Diff([]string{"/a"}, paths); diff != "" {
		t.Errorf("paths mismatch (-want +got):\n%s", diff)
	}
	// And a later probe of the same name, on a new connection, too.
	o = p.Probe(context.Background(), takedown.ProbeTarget{URL: "http://rebind.example:" + srv.port + "/b"})
	if o.Reason != takedown.ReasonRefused {
		t.Errorf("second probe: %+v, want refused", o)
	}
}

func TestRedirectSchemesAndLimit(t *testing.T) {
	t.Parallel()
	var loops atomic.Int32
	srv := loopbackServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/loop" {
			n, _ := strconv.Atoi(r.URL.Query().Get("n"))
			loops.Add(1)
			http.Redirect(w, r, fmt.Sprintf("/loop?n=%d", n+1), http.StatusTemporaryRedirect)
			return
		}
		w.Header().Set("Location", r.URL.Query().Get("to"))
		w.WriteHeader(http.StatusFound)
	}))
	rec := &recorder{}
	p := newTestProber(t, Config{Allow: loopbackAllowed, Classifier: rec})
	for _, to := range []string{"file:///etc/passwd", "gopher://example.com/", "ftp://example.com/x", "javascript:alert(1)", "data:text/html,hi", "tg://resolve?domain=x"} {
		o := p.Probe(context.Background(), takedown.ProbeTarget{URL: srv.URL + "/?to=" + strings.ReplaceAll(to, "&", "%26")})
		if o.Reason != takedown.ReasonRefused || o.Rule != "guard" {
			t.Errorf("redirect to %s: %+v, want refused", to, o)
		}
	}
	o := p.Probe(context.Background(), takedown.ProbeTarget{URL: srv.URL + "/loop?n=0"})
	if o.Verdict != takedown.VerdictUnknown || !strings.Contains(o.Error, "too many redirects") || o.Status != http.StatusTemporaryRedirect {
		t.Errorf("loop: %+v", o)
	}
	if n := loops.Load(); n != 6 {
		t.Errorf("%d requests in the loop, want 6 (5 redirects followed)", n)
	}
	if r := rec.response(); len(r.Redirects) != 6 || r.Redirects[4] != srv.URL+"/loop?n=5" {
		t.Errorf("redirects recorded: %q", r.Redirects)
	}
}

// sleeps records the waits between tries.
func recordSleeps(p *Prober) func() []time.Duration {
	var mu sync.Mutex
	var ds []time.Duration
	p.sleep = func(ctx context.Context, d time.Duration) error {
		mu.Lock()
		ds = append(ds, d)
		mu.Unlock()
		return sleepCtx(ctx, d)
	}
	return func() []time.Duration {
		mu.Lock()
		defer mu.Unlock()
		return append([]time.Duration(nil), ds...)
	}
}

func TestRetries(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	hits := map[string]int{}
	srv := loopbackServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		hits[r.URL.Path]++
		n := hits[r.URL.Path]
		mu.Unlock()
		switch r.URL.Path {
		case "/flaky":
			if n <= 2 {
				http.Error(w, "busy", http.StatusServiceUnavailable)
				return
			}
			w.Write([]byte("ok"))
		case "/gateway":
			http.Error(w, "bad gateway", http.StatusBadGateway)
		case "/missing":
			http.NotFound(w, r)
		case "/forbidden":
			http.Error(w, "no", http.StatusForbidden)
		case "/throttled":
			http.Error(w, "slow down", http.StatusTooManyRequests)
		}
	}))
	const backoff = 20 * time.Millisecond
	p := newTestProber(t, Config{Allow: loopbackAllowed, Backoff: backoff})
	sleeps := recordSleeps(p)
	probe := func(path string) takedown.Observation {
		return p.Probe(context.Background(), takedown.ProbeTarget{URL: srv.URL + path})
	}
	if o := probe("/flaky"); o.Verdict != takedown.VerdictOnline {
		t.Errorf("flaky: %+v", o)
	}
	ds := sleeps()
	if len(ds) != 2 || ds[0] < backoff/2 || ds[0] > backoff || ds[1] < backoff || ds[1] > 2*backoff {
		t.Errorf("waits %v, want one in [%v, %v] and one in [%v, %v]", ds, backoff/2, backoff, backoff, 2*backoff)
	}
	if o := probe("/gateway"); o.Status != 502 || o.Verdict != takedown.VerdictUnknown {
		t.Errorf("gateway: %+v", o)
	}
	if o := probe("/missing"); o.Verdict != takedown.VerdictOffline {
		t.Errorf("missing: %+v", o)
	}
	probe("/forbidden")
	if o := probe("/throttled"); o.Reason != takedown.ReasonRateLimited {
		t.Errorf("throttled: %+v", o)
	}
	mu.Lock()
	defer mu.Unlock()
	if diff := cmp.Diff(map[string]int{"/flaky": 3, "/gateway": 3, "/missing": 1, "/forbidden": 1, "/throttled": 3}, hits); diff != "" {
		t.Errorf("requests mismatch (-want +got):\n%s", diff)
	}
}

func TestBackoffJitter(t *testing.T) {
	t.Parallel()
	p := newTestProber(t, Config{Backoff: time.Second})
	seen := map[time.Duration]bool{}
	for range 100 {
		d := p.backoff(1)
		if d < time.Second || d > 2*time.Second {
			t.Fatalf("backoff(1) = %v, want within [1s, 2s]", d)
		}
		seen[d] = true
	}
	if len(seen) < 50 {
		t.Errorf("only %d distinct waits in 100: no jitter", len(seen))
	}
}

// resetListener resets the first n connections after reading the
// request, as an overloaded server or a middlebox does.
type resetListener struct {
	net.Listener
	n atomic.Int32
}

func (l *resetListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil || l.n.Add(-1) < 0 {
			return c, err
		}
		go func() {
			buf := make([]byte, 1024)
			c.Read(buf)
			c.(*net.TCPConn).SetLinger(0)
			c.Close()
		}()
	}
}

func TestRetryAfterReset(t *testing.T) {
	t.Parallel()
	var hits atomic.Int32
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.Write([]byte("ok"))
	}))
	rl := &resetListener{Listener: srv.Listener}
	rl.n.Store(2)
	srv.Listener = rl
	srv.Start()
	t.Cleanup(srv.Close)
	p := newTestProber(t, Config{Allow: loopbackAllowed})
	sleeps := recordSleeps(p)
	o := p.Probe(context.Background(), takedown.ProbeTarget{URL: srv.URL})
	if o.Verdict != takedown.VerdictOnline || hits.Load() != 1 || len(sleeps()) != 2 {
		t.Errorf("%+v after %d waits, %d answers; want online after 2 resets", o, len(sleeps()), hits.Load())
	}

	// Connection refused: tried 3 times, then no answer.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := l.Addr().String()
	l.Close()
	var dials atomic.Int32
	p2 := newTestProber(t, Config{Allow: loopbackAllowed})
	dial := p2.dialIP
	p2.dialIP = func(ctx context.Context, network string, ap netip.AddrPort) (net.Conn, error) {
		dials.Add(1)
		return dial(ctx, network, ap)
	}
	o = p2.Probe(context.Background(), takedown.ProbeTarget{URL: "http://" + closed + "/"})
	if o.Verdict != takedown.VerdictUnknown || o.Reason != takedown.ReasonNetwork || !strings.Contains(o.Error, "refused") {
		t.Errorf("refused: %+v", o)
	}
	if n := dials.Load(); n != 3 {
		t.Errorf("%d dials of a closed port, want 3", n)
	}
}

func TestRetryAfterHeader(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var times []time.Time
	srv := loopbackServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		times = append(times, time.Now())
		n := len(times)
		mu.Unlock()
		switch {
		case r.URL.Path == "/long":
			w.Header().Set("Retry-After", "3600")
			http.Error(w, "come back in an hour", http.StatusTooManyRequests)
		case n == 1:
			w.Header().Set("Retry-After", "1")
			http.Error(w, "slow down", http.StatusTooManyRequests)
		default:
			w.Write([]byte("ok"))
		}
	}))
	p := newTestProber(t, Config{Allow: loopbackAllowed, MaxRetryAfter: 1500 * time.Millisecond})
	o := p.Probe(context.Background(), takedown.ProbeTarget{URL: srv.URL + "/short"})
	mu.Lock()
	if o.Verdict != takedown.VerdictOnline || len(times) != 2 {
		t.Fatalf("%+v after %d requests", o, len(times))
	}
	if gap := times[1].Sub(times[0]); gap < time.Second || gap > 2500*time.Millisecond {
		t.Errorf("tried again after %v, want the 1 s of Retry-After", gap)
	}
	mu.Unlock()

	// Beyond the bound the answer stands, at once, and the host is left
	// alone for the bound.
	start := time.Now()
	o = p.Probe(context.Background(), takedown.ProbeTarget{URL: srv.URL + "/long"})
	if o.Reason != takedown.ReasonRateLimited || o.Status != 429 || time.Since(start) > 500*time.Millisecond {
		t.Errorf("long Retry-After: %+v after %v", o, time.Since(start))
	}
	start = time.Now()
	p.Probe(context.Background(), takedown.ProbeTarget{URL: srv.URL + "/short"})
	if waited := time.Since(start); waited < time.Second {
		t.Errorf("the next probe of the host waited %v, want the bound, 1.5 s", waited)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(times) != 4 {
		t.Errorf("%d requests, want 4", len(times))
	}
}

func TestRetryAfterParse(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 5, 10, 0, 0, 0, time.UTC)
	tests := []struct {
		v  string
		d  time.Duration
		ok bool
	}{
		{"", 0, false},
		{"7", 7 * time.Second, true},
		{"-1", 0, false},
		{"soon", 0, false},
		{"Thu, 05 Nov 2026 10:00:30 GMT", 30 * time.Second, true},
		{"Thu, 05 Nov 2026 09:00:00 GMT", 0, true},
	}
	for _, tt := range tests {
		d, ok := retryAfter(tt.v, now)
		if d != tt.d || ok != tt.ok {
			t.Errorf("retryAfter(%q) = %v, %v; want %v, %v", tt.v, d, ok, tt.d, tt.ok)
		}
	}
}

func TestByteCap(t *testing.T) {
	t.Parallel()
	chunk := []byte(strings.Repeat("x", 64<<10))
	var written atomic.Int64
	srv := loopbackServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		size := 10 << 20
		if r.URL.Path == "/exact" {
			size = 256 << 10
		}
		w.Header().Set("Content-Length", strconv.Itoa(size))
		for sent := 0; sent < size; sent += len(chunk) {
			n, err := w.Write(chunk)
			written.Add(int64(n))
			if err != nil {
				return
			}
		}
	}))
	rec := &recorder{}
	p := newTestProber(t, Config{Allow: loopbackAllowed, Classifier: rec})
	o := p.Probe(context.Background(), takedown.ProbeTarget{URL: srv.URL + "/big"})
	r := rec.response()
	if o.Bytes != 256<<10 || !r.Truncated || len(r.Body) != 256<<10 || o.Error != "" || o.Verdict != takedown.VerdictOnline {
		t.Errorf("10 MB: %+v, truncated %v", o, r.Truncated)
	}
	o = p.Probe(context.Background(), takedown.ProbeTarget{URL: srv.URL + "/exact"})
	if r := rec.response(); o.Bytes != 256<<10 || r.Truncated {
		t.Errorf("exactly the cap: %+v, truncated %v", o, r.Truncated)
	}
	// The server could not send the 10 MB: the client stopped reading.
	srv.CloseClientConnections()
	if n := written.Load(); n >= 10<<20 {
		t.Errorf("the server wrote %d bytes: the whole answer was read", n)
	}
}

func TestTimeouts(t *testing.T) {
	t.Parallel()
	var silentHits atomic.Int32
	srv := loopbackServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/silent":
			silentHits.Add(1)
			<-r.Context().Done()
		case "/trickle":
			w.WriteHeader(200)
			for {
				if _, err := w.Write([]byte("x")); err != nil {
					return
				}
				w.(http.Flusher).Flush()
				select {
				case <-r.Context().Done():
					return
				case <-time.After(20 * time.Millisecond):
				}
			}
		}
	}))
	p := newTestProber(t, Config{Allow: loopbackAllowed, HeaderTimeout: 150 * time.Millisecond, Timeout: 600 * time.Millisecond})
	start := time.Now()
	o := p.Probe(context.Background(), takedown.ProbeTarget{URL: srv.URL + "/silent"})
	if took := time.Since(start); o.Reason != takedown.ReasonNetwork || o.Status != 0 || took > 2*time.Second {
		t.Errorf("silent: %+v after %v", o, took)
	}
	if n := silentHits.Load(); n != 3 {
		t.Errorf("silent: %d tries, want 3 (timeouts are transient)", n)
	}

	rec := &recorder{}
	p = newTestProber(t, Config{Allow: loopbackAllowed, Timeout: 400 * time.Millisecond, Classifier: rec})
	start = time.Now()
	o = p.Probe(context.Background(), takedown.ProbeTarget{URL: srv.URL + "/trickle"})
	took := time.Since(start)
	if o.Reason != takedown.ReasonNetwork || o.Status != 200 || o.Bytes == 0 || took < 350*time.Millisecond || took > 2*time.Second {
		t.Errorf("trickle: %+v after %v", o, took)
	}
	if r := rec.response(); r.Err == nil || !r.Truncated || !errors.Is(r.Err, context.DeadlineExceeded) {
		t.Errorf("trickle: err %v, truncated %v", r.Err, r.Truncated)
	}
}

func TestUserAgent(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var got []string
	srv := loopbackServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		got = append(got, r.UserAgent())
		mu.Unlock()
	}))
	p := newTestProber(t, Config{Allow: loopbackAllowed})
	p.Probe(context.Background(), takedown.ProbeTarget{URL: srv.URL})
	p = newTestProber(t, Config{Allow: loopbackAllowed, Outbound: &outbound.Config{UserAgent: "takedown-test/1"}})
	p.Probe(context.Background(), takedown.ProbeTarget{URL: srv.URL})
	mu.Lock()
	defer mu.Unlock()
	if diff := cmp.Diff([]string{outbound.DefaultUserAgent, "takedown-test/1"}, got); diff != "" {
		t.Errorf("User-Agent mismatch (-want +got):\n%s", diff)
	}
}

// connCounter counts the connections a server accepts.
func connCounter(srv *httptest.Server) *atomic.Int32 {
	var n atomic.Int32
	srv.Config.ConnState = func(c net.Conn, s http.ConnState) {
		if s == http.StateNew {
			n.Add(1)
		}
	}
	return &n
}

func TestConnectionReuse(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	protos := map[string]int{}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		protos[r.Proto]++
		mu.Unlock()
		time.Sleep(5 * time.Millisecond)
		w.Write([]byte("ok"))
	})
	tlsSrv := httptest.NewUnstartedServer(h)
	tlsSrv.EnableHTTP2 = true
	tlsConns := connCounter(tlsSrv)
	tlsSrv.StartTLS()
	t.Cleanup(tlsSrv.Close)
	plain := httptest.NewUnstartedServer(h)
	plainConns := connCounter(plain)
	plain.Start()
	t.Cleanup(plain.Close)

	roots := x509.NewCertPool()
	roots.AddCert(tlsSrv.Certificate())
	p := newTestProber(t, Config{Allow: loopbackAllowed, Outbound: &outbound.Config{RootCAs: roots}, PerHostConcurrency: 4})
	for _, u := range []string{tlsSrv.URL, plain.URL} {
		for range 20 {
			if o := p.Probe(context.Background(), takedown.ProbeTarget{URL: u}); o.Verdict != takedown.VerdictOnline {
				t.Fatalf("%s: %+v", u, o)
			}
		}
	}
	if n := tlsConns.Load(); n != 1 {
		t.Errorf("HTTP/2: %d connections for 20 sequential probes, want 1", n)
	}
	if n := plainConns.Load(); n != 1 {
		t.Errorf("HTTP/1.1: %d connections for 20 sequential probes, want 1", n)
	}
	// Concurrent probes share the HTTP/2 connection.
	targets := make([]takedown.ProbeTarget, 40)
	for i := range targets {
		targets[i].URL = tlsSrv.URL
	}
	obs, err := probeAll(context.Background(), p, targets)
	if err != nil || len(obs) != 40 {
		t.Fatalf("%d observations, %v", len(obs), err)
	}
	if n := tlsConns.Load(); n != 1 {
		t.Errorf("HTTP/2: %d connections after concurrent probes, want 1", n)
	}
	mu.Lock()
	defer mu.Unlock()
	if diff := cmp.Diff(map[string]int{"HTTP/2.0": 60, "HTTP/1.1": 20}, protos); diff != "" {
		t.Errorf("protocols mismatch (-want +got):\n%s", diff)
	}
}

func TestSimulatorOverride(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var hosts []string
	srv := loopbackServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		hosts = append(hosts, r.Host)
		mu.Unlock()
		if r.URL.Path == "/s/removed_channel" {
			http.NotFound(w, r)
			return
		}
		w.Write([]byte("channel"))
	}))
	sim := &outbound.Config{Override: map[string]string{"*:80": srv.Listener.Addr().String()}, Simulated: true}
	noLookups := func(ctx context.Context, host string) ([]netip.Addr, error) {
		t.Errorf("looked up %s in simulator mode", host)
		return nil, errors.New("no lookups here")
	}
	p := newTestProber(t, Config{Outbound: sim, Allow: loopbackAllowed, Resolve: noLookups})
	if o := p.Probe(context.Background(), takedown.ProbeTarget{URL: "http://t.me/s/some_channel"}); o.Verdict != takedown.VerdictOnline {
		t.Errorf("some_channel: %+v", o)
	}
	if o := p.Probe(context.Background(), takedown.ProbeTarget{URL: "http://t.me/s/removed_channel"}); o.Verdict != takedown.VerdictOffline {
		t.Errorf("removed_channel: %+v", o)
	}
	// A port the simulator does not stand in for goes nowhere.
	if o := p.Probe(context.Background(), takedown.ProbeTarget{URL: "http://t.me:8080/"}); o.Reason != takedown.ReasonNetwork || !strings.Contains(o.Error, "no route") {
		t.Errorf("port 8080: %+v", o)
	}
	// The guard checks where the override goes: without the simulator's
	// range allowed, loopback is refused.
	p = newTestProber(t, Config{Outbound: sim, Resolve: noLookups})
	if o := p.Probe(context.Background(), takedown.ProbeTarget{URL: "http://t.me/s/some_channel"}); o.Reason != takedown.ReasonRefused {
		t.Errorf("not allowed: %+v", o)
	}
	mu.Lock()
	defer mu.Unlock()
	if diff := cmp.Diff([]string{"t.me", "t.me"}, hosts); diff != "" {
		t.Errorf("hosts mismatch (-want +got):\n%s", diff)
	}
}

func TestBadTargets(t *testing.T) {
	t.Parallel()
	p := newTestProber(t, Config{})
	for _, u := range []string{"", "not a url", "t.me/s/x", "ftp://example.com/", "http://%zz/"} {
		o := p.Probe(context.Background(), takedown.ProbeTarget{URL: u})
		if o.Verdict != takedown.VerdictUnknown || o.Reason != takedown.ReasonRefused || o.Error == "" || o.At.IsZero() {
			t.Errorf("%q: %+v", u, o)
		}
	}
}

func TestNewRejectsNegativeLimits(t *testing.T) {
	t.Parallel()
	for _, c := range []Config{{PerHostConcurrency: -1}, {GlobalConcurrency: -1}, {PerHostRate: -1}, {MaxBytes: -1}, {Allow: []netip.Prefix{{}}}} {
		if _, err := New(c); err == nil {
			t.Errorf("New(%+v) accepted", c)
		}
	}
}

// A host's own limits replace the defaults for it alone, whatever case or
// form its name is written in.
func TestHostLimits(t *testing.T) {
	p, err := New(Config{PerHostRate: 2, PerHostConcurrency: 2, HostLimits: map[string]HostLimit{"T.ME.": {Rate: 50, Concurrency: 8}, "slow.example": {Rate: 0.5}}})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	for _, tc := range []struct {
		host  string
		rate  float64
		limit int
	}{{"t.me", 50, 8}, {"slow.example", 0.5, 2}, {"x.com", 2, 2}} {
		h := p.hosts.ref(tc.host)
		if float64(h.lim.Limit()) != tc.rate || h.limit != tc.limit {
			t.Errorf("%s: %v a second, %d at once; want %v and %d", tc.host, h.lim.Limit(), h.limit, tc.rate, tc.limit)
		}
		p.hosts.unref(h)
	}
	if _, err := New(Config{HostLimits: map[string]HostLimit{"t.me": {Rate: -1}}}); err == nil {
		t.Error("a negative rate was taken")
	}
}
