package pdq

import (
	"math/rand/v2"
	"os"
	"runtime"
	"slices"
	"strconv"
	"testing"
	"time"
)

func randomHash(r *rand.Rand) Hash {
	var h Hash
	for i := range h {
		h[i] = uint16(r.Uint32())
	}
	return h
}

// near flips n distinct random bits of h.
func near(r *rand.Rand, h Hash, n int) Hash {
	for _, b := range r.Perm(256)[:n] {
		h[b/16] ^= 1 << (b % 16)
	}
	return h
}

// The index finds exactly what a scan of every hash finds, at the
// default radius and others, and leaves out hashes of low quality.
func TestIndexAgreesWithScan(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(1, 2))
	x := NewIndex()
	var all []Match
	for i := range 20000 {
		h := randomHash(r)
		if i%3 == 0 && len(all) > 0 {
			h = near(r, all[r.IntN(len(all))].Hash, r.IntN(48))
		}
		if !x.Add(int64(i), h, 100) {
			t.Fatal("a hash of quality 100 was refused")
		}
		all = append(all, Match{ID: int64(i), Hash: h})
	}
	if x.Add(99999, randomHash(r), MinQuality-1) || x.Len() != len(all) {
		t.Errorf("a hash of quality under %d was indexed", MinQuality)
	}
	for q := range 300 {
		query := near(r, all[r.IntN(len(all))].Hash, r.IntN(40))
		if q%10 == 0 {
			query = randomHash(r)
		}
		for _, radius := range []int{0, 15, 16, DefaultRadius, 32, 47, 60} {
			var want []Match
			for _, m := range all {
				if d := Distance(query, m.Hash); d <= radius {
					want = append(want, Match{ID: m.ID, Hash: m.Hash, Distance: d})
				}
			}
			slices.SortFunc(want, func(a, b Match) int {
				if a.Distance != b.Distance {
					return a.Distance - b.Distance
				}
				return int(a.ID - b.ID)
			})
			if got := x.Query(query, radius); !slices.Equal(got, want) {
				t.Fatalf("query %d at radius %d: %d matches, a scan finds %d", q, radius, len(got), len(want))
			}
		}
	}
	if got := x.Query(all[5].Hash, -1); len(got) == 0 || got[0].ID != 5 || got[0].Distance != 0 {
		t.Errorf("the default radius: %v", got)
	}
}

// BenchmarkIndexQuery: radius 31 over 1,000,000 random hashes.
func BenchmarkIndexQuery(b *testing.B) {
	r := rand.New(rand.NewPCG(3, 4))
	x := NewIndex()
	var hs []Hash
	for i := range 1_000_000 {
		h := randomHash(r)
		hs = append(hs, h)
		x.Add(int64(i), h, 100)
	}
	b.ResetTimer()
	i := 0
	for b.Loop() {
		x.Query(near(r, hs[i%len(hs)], 20), DefaultRadius)
		i++
	}
}

// BenchmarkIndexVersusScan builds an index of TAKEDOWN_BENCH_HASHES random
// hashes (1,000,000 unless set; the figure is at 10,000,000) and
// reports, side by side in one run, the median radius-31 query of the
// index and of a linear scan, their ratio, and the memory per hash.
//
//	TAKEDOWN_BENCH_HASHES=10000000 go test -run '^$' -bench IndexVersusScan -benchtime 1x ./internal/pdq
func BenchmarkIndexVersusScan(b *testing.B) {
	n := 1_000_000
	if s := os.Getenv("TAKEDOWN_BENCH_HASHES"); s != "" {
		v, err := strconv.Atoi(s)
		if err != nil || v < 1 {
			b.Fatalf("TAKEDOWN_BENCH_HASHES=%q", s)
		}
		n = v
	}
	r := rand.New(rand.NewPCG(7, 8))
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	x := NewIndex()
	hs := make([]Hash, 0, n)
	for i := range n {
		h := randomHash(r)
		hs = append(hs, h)
		x.Add(int64(i), h, 100)
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	indexBytes := float64(after.HeapAlloc-before.HeapAlloc) - float64(n*32) // less the test's own copy
	queries := make([]Hash, 201)
	for i := range queries {
		queries[i] = near(r, hs[r.IntN(n)], r.IntN(32))
	}
	median := func(f func(Hash)) time.Duration {
		ds := make([]time.Duration, len(queries))
		for i, q := range queries {
			start := time.Now()
			f(q)
			ds[i] = time.Since(start)
		}
		slices.Sort(ds)
		return ds[len(ds)/2]
	}
	for b.Loop() {
		found := 0
		idx := median(func(q Hash) { found += len(x.Query(q, DefaultRadius)) })
		scan := median(func(q Hash) {
			for _, h := range hs {
				if Distance(q, h) <= DefaultRadius {
					found++
				}
			}
		})
		b.ReportMetric(float64(idx.Nanoseconds()), "index-ns/query")
		b.ReportMetric(float64(scan.Nanoseconds()), "scan-ns/query")
		b.ReportMetric(float64(scan)/float64(idx), "speedup")
		b.ReportMetric(indexBytes/float64(n), "bytes/hash")
		if found == 0 {
			b.Fatal("no query found its hash")
		}
	}
}
