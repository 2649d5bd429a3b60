package simnet

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"net"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// pagesBench is the simulator and the clients BenchmarkPages shares
// between the benchmark's calibration runs: starting the demo's world and
// opening the clients' connections is set-up, not serving.
var pagesBench struct {
	once   sync.Once
	srv    *Server
	client *http.Client
	urls   []string
	err    error
}

// benchConcurrency is how many requests are in flight: a prober's order.
const benchConcurrency = 32

func pagesBenchSetup() {
	b := &pagesBench
	s := Demo()
	b.srv, b.err = Start(context.Background(), Config{Scenario: s})
	if b.err != nil {
		return
	}
	info := b.srv.Info()
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM([]byte(info.CAPEM))
	transport := &http.Transport{
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, network, info.HTTPS)
		},
		TLSClientConfig:     &tls.Config{RootCAs: pool},
		MaxIdleConnsPerHost: benchConcurrency,
	}
	b.client = &http.Client{Transport: transport, Timeout: 30 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	// The pages of the big services and the file hosts, a tenth of them
	// removed: channel previews and pages, posts, invites, profiles,
	// statuses, channels, videos, files. The web host's hundreds of sites
	// are left out: each needs its own TLS connections, and a mix with
	// them measures handshakes, not pages.
	w := b.srv.World()
	for i, e := range w.Entities {
		if e.Platform == WebHost {
			continue
		}
		if i%10 == 0 {
			w.apply(Decision{Entity: e, Outcome: OutcomeRemoved, DecidedAt: s.Start})
		}
		u := e.URL
		if e.Platform == Telegram && e.Kind == KindChannel && i%2 == 0 {
			u = strings.Replace(u, "https://t.me/", "https://t.me/s/", 1)
		}
		b.urls = append(b.urls, u)
	}
	// Open the connections.
	var wg sync.WaitGroup
	for g := 0; g < benchConcurrency; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := g; i < 2000; i += benchConcurrency {
				if resp, err := b.client.Get(b.urls[i*13%len(b.urls)]); err == nil {
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
			}
		}()
	}
	wg.Wait()
}

// BenchmarkPages measures how many pages the simulator serves per second
// over HTTPS on loopback to keep-alive clients in the same process (which
// take about half of the two cores), on the demo's world. The simulator
// must never be what limits a prober's measurement: the goal is at least
// 20,000 pages/s on this machine.
//
//	go test -run '^$' -bench Pages -benchtime 100000x -count 5 ./internal/simnet
func BenchmarkPages(b *testing.B) {
	pagesBench.once.Do(pagesBenchSetup)
	if pagesBench.err != nil {
		b.Fatal(pagesBench.err)
	}
	client, urls := pagesBench.client, pagesBench.urls
	var next, bytes atomic.Int64
	b.SetParallelism(benchConcurrency / max(1, runtime.GOMAXPROCS(0)))
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			u := urls[int(next.Add(1)*7919)%len(urls)]
			resp, err := client.Get(u)
			if err != nil {
				b.Error(err)
				return
			}
			n, _ := io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			bytes.Add(n)
		}
	})
	elapsed := time.Since(start)
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "pages/s")
	b.ReportMetric(float64(bytes.Load())/float64(b.N), "bytes/page")
}
