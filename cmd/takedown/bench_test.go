package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/takedown-project/takedown/internal/samplegen"
)

// BenchmarkImport imports generated files (TAKEDOWN_BENCH_ROWS rows in all,
// default 100,000; 20% duplicates across two agencies) with the real import
// command into a fresh SQLite file and, when TAKEDOWN_TEST_DATABASE_URL is
// set, a fresh PostgreSQL schema, side by side in one run. The issue's
// figure is for 1,000,000 rows:
//
//	TAKEDOWN_BENCH_ROWS=1000000 go test -run X -bench Import -benchtime 1x ./cmd/takedown
func BenchmarkImport(b *testing.B) {
	rows := 100_000
	if s := os.Getenv("TAKEDOWN_BENCH_ROWS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil {
			b.Fatalf("TAKEDOWN_BENCH_ROWS=%q: %v", s, err)
		}
		rows = n
	}
	dir := b.TempDir()
	files, err := writeSample(dir, samplegen.Options{Rows: rows, DuplicateShare: 0.2, Agencies: 2, Seed: 7})
	if err != nil {
		b.Fatal(err)
	}
	backends := benchBackends()
	for _, be := range backends {
		b.Run(fmt.Sprintf("%s/rows=%d", be.name, rows), func(b *testing.B) {
			var elapsed time.Duration
			i := 0
			for b.Loop() {
				b.StopTimer()
				dsn := be.dsn(b, i)
				i++
				if isPostgres(dsn) {
					mustRun(b, "--db", dsn, "migrate")
				}
				mustRun(b, "--db", dsn, "agency", "add", "aa-iru", "--name", "A")
				mustRun(b, "--db", dsn, "agency", "add", "bb-iru", "--name", "B")
				mustRun(b, "--db", dsn, "operation", "create", "rad-bench", "--name", "bench", "--agencies", "aa-iru,bb-iru")
				b.StartTimer()
				start := time.Now()
				mustRun(b, "--db", dsn, "import", "--operation", "rad-bench", "--agency", "aa-iru", "--progress", "never", files[0])
				mustRun(b, "--db", dsn, "import", "--operation", "rad-bench", "--agency", "bb-iru", "--progress", "never", files[1])
				elapsed += time.Since(start)
			}
			b.ReportMetric(float64(rows)*float64(i)/elapsed.Seconds(), "rows/s")
		})
	}
}

// benchBackend makes a fresh database for round i of a benchmark.
type benchBackend struct {
	name string
	dsn  func(b *testing.B, i int) string
}

// benchBackends are SQLite and, when TAKEDOWN_TEST_DATABASE_URL is set,
// PostgreSQL: benchmarks run them side by side.
func benchBackends() []benchBackend {
	bs := []benchBackend{{"sqlite", func(b *testing.B, i int) string { return filepath.Join(b.TempDir(), fmt.Sprintf("bench-%d.db", i)) }}}
	if url := os.Getenv("TAKEDOWN_TEST_DATABASE_URL"); url != "" {
		bs = append(bs, benchBackend{"postgres", func(b *testing.B, i int) string { return freshSchema(b, url) }})
	}
	return bs
}

// freshSchema creates an empty schema in the test database and returns a
// URL whose connections use it, so each benchmark round starts empty.
func freshSchema(tb testing.TB, url string) string {
	tb.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		tb.Fatal(err)
	}
	defer conn.Close(ctx)
	schema := fmt.Sprintf("bench_%d", time.Now().UnixNano())
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		c, err := pgx.Connect(context.Background(), url)
		if err == nil {
			c.Exec(context.Background(), "DROP SCHEMA "+schema+" CASCADE")
			c.Close(context.Background())
		}
	})
	sep := "?"
	if strings.Contains(url, "?") {
		sep = "&"
	}
	return url + sep + "search_path=" + schema
}
