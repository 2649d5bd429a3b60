package probe

import (
	"context"
	"fmt"
	"net/http"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/takedown-project/takedown"
)

// hostTargets makes n targets on each of hosts host names, interleaved
// by host unless grouped.
func hostTargets(port string, hosts, n int, grouped bool) []takedown.ProbeTarget {
	var ts []takedown.ProbeTarget
	add := func(h, i int) {
		ts = append(ts, takedown.ProbeTarget{ItemID: int64(len(ts) + 1), URL: fmt.Sprintf("http://h%d.example:%s/item/%d", h, port, i)})
	}
	if grouped {
		for h := range hosts {
			for i := range n {
				add(h, i)
			}
		}
		return ts
	}
	for i := range n {
		for h := range hosts {
			add(h, i)
		}
	}
	return ts
}

func TestPerHostConcurrency(t *testing.T) {
	t.Parallel()
	c := newInflight()
	srv := loopbackServer(t, c.handler(20*time.Millisecond))
	p := newTestProber(t, Config{Allow: loopbackAllowed, Resolve: hostsResolver, PerHostConcurrency: 2, GlobalConcurrency: 64})
	obs, err := probeAll(context.Background(), p, hostTargets(srv.port, 10, 20, true))
	if err != nil || len(obs) != 200 {
		t.Fatalf("%d observations, %v", len(obs), err)
	}
	seen := map[int64]bool{}
	for _, o := range obs {
		if o.Verdict != takedown.VerdictOnline || seen[o.ItemID] {
			t.Fatalf("%+v (seen before: %v)", o, seen[o.ItemID])
		}
		seen[o.ItemID] = true
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for h, n := range c.peak {
		if n > 2 {
			t.Errorf("%s: %d requests at once, want at most 2", h, n)
		}
	}
	if c.peak["h0.example"] != 2 || c.peakAll < 10 {
		t.Errorf("peaks %v, %d in all: the limits were not used", c.peak, c.peakAll)
	}
}

// TestPerHostConcurrencyDirect: Probe called from many goroutines (as a
// plain worker pool does) keeps the limit too.
func TestPerHostConcurrencyDirect(t *testing.T) {
	t.Parallel()
	c := newInflight()
	srv := loopbackServer(t, c.handler(10*time.Millisecond))
	p := newTestProber(t, Config{Allow: loopbackAllowed, Resolve: hostsResolver, PerHostConcurrency: 2})
	var wg sync.WaitGroup
	for i := range 40 {
		wg.Go(func() {
			p.Probe(context.Background(), takedown.ProbeTarget{URL: fmt.Sprintf("http://same.example:%s/%d", srv.port, i)})
		})
	}
	wg.Wait()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.peak["same.example"] != 2 {
		t.Errorf("peak %d, want 2", c.peak["same.example"])
	}
}

func TestGlobalConcurrency(t *testing.T) {
	t.Parallel()
	c := newInflight()
	srv := loopbackServer(t, c.handler(20*time.Millisecond))
	p := newTestProber(t, Config{Allow: loopbackAllowed, Resolve: hostsResolver, PerHostConcurrency: 2, GlobalConcurrency: 3})
	obs, err := probeAll(context.Background(), p, hostTargets(srv.port, 10, 3, false))
	if err != nil || len(obs) != 30 {
		t.Fatalf("%d observations, %v", len(obs), err)
	}
	// Direct calls share the limit with ProbeAll.
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Go(func() {
			p.Probe(context.Background(), takedown.ProbeTarget{URL: fmt.Sprintf("http://d%d.example:%s/", i, srv.port)})
		})
	}
	wg.Wait()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.peakAll != 3 {
		t.Errorf("%d requests at once, want 3", c.peakAll)
	}
}

func TestPerHostRate(t *testing.T) {
	t.Parallel()
	c := newInflight()
	srv := loopbackServer(t, c.handler(0))
	const perSecond = 20
	p := newTestProber(t, Config{Allow: loopbackAllowed, Resolve: hostsResolver, PerHostRate: perSecond, PerHostConcurrency: 4})
	start := time.Now()
	obs, err := probeAll(context.Background(), p, hostTargets(srv.port, 3, 11, true))
	took := time.Since(start)
	if err != nil || len(obs) != 33 {
		t.Fatalf("%d observations, %v", len(obs), err)
	}
	// 11 requests with a burst of 1: 10 intervals of 50 ms, the three
	// hosts side by side.
	if took < 450*time.Millisecond || took > 2*time.Second {
		t.Errorf("took %v, want about 500 ms", took)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for h, ts := range c.arrivals {
		if len(ts) != 11 {
			t.Errorf("%s: %d requests", h, len(ts))
		}
		for i := 1; i < len(ts); i++ {
			if gap := ts[i].Sub(ts[i-1]); gap < 35*time.Millisecond {
				t.Errorf("%s: requests %d and %d %v apart, want about 50 ms", h, i-1, i, gap)
			}
		}
	}
}

// TestFairness: a slow host with many items, listed first, does not hold
// up the others.
func TestFairness(t *testing.T) {
	t.Parallel()
	srv := loopbackServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Host[:4] == "slow" {
			select {
			case <-time.After(300 * time.Millisecond):
			case <-r.Context().Done():
			}
		}
		w.Write([]byte("ok"))
	}))
	p := newTestProber(t, Config{Allow: loopbackAllowed, Resolve: hostsResolver, PerHostConcurrency: 2, GlobalConcurrency: 16})
	var targets []takedown.ProbeTarget
	for i := range 200 {
		targets = append(targets, takedown.ProbeTarget{ItemID: int64(i), URL: fmt.Sprintf("http://slow.example:%s/%d", srv.port, i)})
	}
	fast := hostTargets(srv.port, 10, 10, true)
	for i := range fast {
		fast[i].ItemID += 1000
	}
	targets = append(targets, fast...)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	in := make(chan takedown.ProbeTarget, len(targets))
	for _, t := range targets {
		in <- t
	}
	close(in)
	out := make(chan takedown.Observation)
	errc := make(chan error, 1)
	start := time.Now()
	go func() { errc <- p.ProbeAll(ctx, in, out) }()
	fastDone, slowDone := 0, 0
	for o := range out {
		if o.ItemID >= 1000 {
			fastDone++
		} else {
			slowDone++
		}
		if fastDone == len(fast) {
			break
		}
	}
	took := time.Since(start)
	cancel()
	for range out {
	}
	if err := <-errc; err != context.Canceled {
		t.Errorf("ProbeAll = %v, want context.Canceled", err)
	}
	if took > 2*time.Second || slowDone > 20 {
		t.Errorf("the fast hosts took %v, while %d slow items were done", took, slowDone)
	}
}

func TestProbeAllCancel(t *testing.T) {
	t.Parallel()
	srv := loopbackServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-time.After(5 * time.Second):
		case <-r.Context().Done():
		}
	}))
	p := newTestProber(t, Config{Allow: loopbackAllowed, Resolve: hostsResolver, GlobalConcurrency: 4})
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	obs, err := probeAll(ctx, p, hostTargets(srv.port, 5, 10, false))
	if err != context.DeadlineExceeded || len(obs) != 0 || time.Since(start) > 2*time.Second {
		t.Errorf("%d observations, %v, after %v", len(obs), err, time.Since(start))
	}
	// Every slot taken was given back.
	time.Sleep(50 * time.Millisecond)
	p.hosts.mu.Lock()
	defer p.hosts.mu.Unlock()
	for k, h := range p.hosts.m {
		if h.refs != 0 || h.inflight != 0 {
			t.Errorf("%s: %d refs, %d in flight", k, h.refs, h.inflight)
		}
	}
}

func TestProbeAllNotHTTP(t *testing.T) {
	t.Parallel()
	p := newTestProber(t, Config{})
	obs, err := probeAll(context.Background(), p, []takedown.ProbeTarget{{ItemID: 1, URL: "mailto:x@example.com"}, {ItemID: 2, URL: "http://127.0.0.1/"}})
	if err != nil || len(obs) != 2 {
		t.Fatalf("%d observations, %v", len(obs), err)
	}
	for _, o := range obs {
		if o.Reason != takedown.ReasonRefused {
			t.Errorf("%+v", o)
		}
	}
}

// TestProbeAllMemoryFlat: a million targets over a hundred thousand
// hosts (in -short mode a tenth) go through with the host table, the
// backlog and the heap bounded.
func TestProbeAllMemoryFlat(t *testing.T) {
	targets, hosts := 1_000_000, 100_000
	if testing.Short() || raceEnabled {
		targets, hosts = 100_000, 10_000
	}
	p := newTestProber(t, Config{PerHostRate: 1000, GlobalConcurrency: 256})
	var probed, maxHosts atomic.Int64
	p.probeLeased = func(ctx context.Context, tg takedown.ProbeTarget, h *hostState) takedown.Observation {
		if h != nil {
			h.release()
			p.hosts.unref(h)
		}
		if probed.Add(1)%1000 == 0 {
			n := int64(p.hosts.len())
			for m := maxHosts.Load(); n > m && !maxHosts.CompareAndSwap(m, n); m = maxHosts.Load() {
			}
		}
		return takedown.Observation{ItemID: tg.ItemID, Verdict: takedown.VerdictOnline}
	}
	in := make(chan takedown.ProbeTarget, 1024)
	out := make(chan takedown.Observation, 1024)
	go func() {
		defer close(in)
		for i := range targets {
			in <- takedown.ProbeTarget{ItemID: int64(i), URL: fmt.Sprintf("https://h%d.example/item/%d", i%hosts, i)}
		}
	}()
	var peakHeap atomic.Uint64
	stop := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		var ms runtime.MemStats
		for {
			select {
			case <-stop:
				return
			case <-time.After(100 * time.Millisecond):
			}
			runtime.GC()
			runtime.ReadMemStats(&ms)
			if ms.HeapAlloc > peakHeap.Load() {
				peakHeap.Store(ms.HeapAlloc)
			}
		}
	}()
	errc := make(chan error, 1)
	go func() { errc <- p.ProbeAll(context.Background(), in, out) }()
	n := 0
	for range out {
		n++
	}
	close(stop)
	<-sampled
	if err := <-errc; err != nil || n != targets {
		t.Fatalf("%d observations of %d, %v", n, targets, err)
	}
	if m := maxHosts.Load(); m > int64(4*p.cfg.Backlog) {
		t.Errorf("host table reached %d hosts, want at most %d", m, 4*p.cfg.Backlog)
	}
	if h := peakHeap.Load(); h > 64<<20 {
		t.Errorf("heap reached %d MiB", h>>20)
	}
	t.Logf("%d targets, %d hosts: host table at most %d, heap at most %d KiB", targets, hosts, maxHosts.Load(), peakHeap.Load()>>10)
}

func TestProbeBatch(t *testing.T) {
	t.Parallel()
	srv := loopbackServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/item/3" {
			http.NotFound(w, r)
			return
		}
		w.Write([]byte("ok"))
	}))
	p := newTestProber(t, Config{Allow: loopbackAllowed, Resolve: hostsResolver, GlobalConcurrency: 4})
	targets := hostTargets(srv.port, 3, 5, true)
	targets = append(targets, takedown.ProbeTarget{ItemID: 99, URL: "ftp://example.com/"})
	obs, err := p.ProbeBatch(context.Background(), targets)
	if err != nil || len(obs) != len(targets) {
		t.Fatalf("%d observations, %v", len(obs), err)
	}
	for i, o := range obs {
		want := takedown.VerdictOnline
		switch {
		case i == len(targets)-1:
			want = takedown.VerdictUnknown
		case i%5 == 3:
			want = takedown.VerdictOffline
		}
		if o.ItemID != targets[i].ItemID || o.Verdict != want {
			t.Errorf("%d: %+v, want item %d %s", i, o, targets[i].ItemID, want)
		}
	}
}
