package probe

import (
	"context"
	"fmt"
	"math"
	"net"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/takedown-project/takedown"
	"github.com/takedown-project/takedown/internal/outbound"
)

// BenchmarkProbe probes b.N URLs over 1,000 host names, all routed to one
// loopback server by the simulator's override, through ProbeAll: "raw"
// without a rate limit, "polite" at the default 2 requests a second per
// host (at most 2,000 probes/s over 1,000 hosts).
func BenchmarkProbe(b *testing.B) {
	page := []byte("<html><head><title>channel</title></head><body>" + string(make([]byte, 2048)) + "</body></html>")
	var conns atomic.Int64
	srv := loopbackServer(b, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.Write(page)
	}))
	srv.Config.ConnState = func(c net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	for _, bc := range []struct {
		name string
		rate float64
	}{{"raw", math.Inf(1)}, {"polite", 2}} {
		b.Run(bc.name, func(b *testing.B) {
			sim := &outbound.Config{Override: map[string]string{"*:80": srv.Listener.Addr().String()}, Simulated: true}
			p, err := New(Config{Outbound: sim, Allow: loopbackAllowed, PerHostRate: bc.rate, Timeout: 10 * time.Second})
			if err != nil {
				b.Fatal(err)
			}
			defer p.Close()
			in := make(chan takedown.ProbeTarget, 1024)
			out := make(chan takedown.Observation, 1024)
			b.ResetTimer()
			conns0 := conns.Load()
			start := time.Now()
			go func() {
				defer close(in)
				for i := range b.N {
					in <- takedown.ProbeTarget{ItemID: int64(i), URL: fmt.Sprintf("http://h%d.bench.example/item/%d", i%1000, i)}
				}
			}()
			go p.ProbeAll(context.Background(), in, out)
			bad := 0
			for o := range out {
				if o.Verdict != takedown.VerdictOnline {
					bad++
				}
			}
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "probes/s")
			b.ReportMetric(float64(conns.Load()-conns0)/float64(b.N), "conns/probe")
			if bad > 0 {
				b.Errorf("%d probes not online", bad)
			}
		})
	}
}
