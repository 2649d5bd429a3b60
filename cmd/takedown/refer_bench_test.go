package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/takedown-project/takedown"
	"github.com/takedown-project/takedown/internal/jobs"
	"github.com/takedown-project/takedown/internal/outbound"
	"github.com/takedown-project/takedown/internal/simnet"
)

// BenchmarkReferDeliver is the figure: 26,000 items of 20
// providers batched (at most 500 items a batch) and delivered to the
// simulator by e-mail (with the CSV of items) and by signed webhook, from
// the plan until every delivery is recorded, on SQLite and, when
// TAKEDOWN_TEST_DATABASE_URL is set, on PostgreSQL, side by side:
//
//	go test -run X -bench ReferDeliver -benchtime 3x ./cmd/takedown
func BenchmarkReferDeliver(b *testing.B) {
	const items, providers = 26_000, 20
	ctx := context.Background()
	sim, err := simnet.Start(ctx, simnet.Config{Scenario: readScenario(b, smallScenario), Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatal(err)
	}
	defer sim.Close()
	info := sim.Info()
	out, err := outbound.Simnet(outbound.SimnetInfo{HTTPS: info.HTTPS, HTTP: info.HTTP, SMTP: info.SMTP, CAPEM: info.CAPEM})
	if err != nil {
		b.Fatal(err)
	}
	// The items: websites on the providers' domains, as one agency's
	// export.
	dir := b.TempDir()
	csvPath := filepath.Join(dir, "items.csv")
	var sb strings.Builder
	sb.WriteString("url,title\n")
	for i := range items {
		fmt.Fprintf(&sb, "https://site-%02d.host-%02d.example/page/%d,Page %d\n", i%97, i%providers, i, i)
	}
	if err := os.WriteFile(csvPath, []byte(sb.String()), 0o600); err != nil {
		b.Fatal(err)
	}
	backends := benchBackends()
	for _, be := range backends {
		b.Run(fmt.Sprintf("%s/items=%d/providers=%d", be.name, items, providers), func(b *testing.B) {
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
				// An operation of its own each round: the simulator would
				// take the same keys again for resends.
				slug := fmt.Sprintf("rad-bench-%s-%d", be.name, i)
				mustRun(b, "--db", dsn, "operation", "create", slug, "--name", "bench", "--agencies", "aa-iru", "--evidence", "off")
				mustRun(b, "--db", dsn, "import", "--operation", slug, "--agency", "aa-iru", "--progress", "never", csvPath)
				g := &globals{db: dsn, logLevel: "error", logFormat: "text", logger: slog.New(slog.DiscardHandler), stdout: io.Discard, stderr: io.Discard}
				db, err := openDatabase(ctx, g)
				if err != nil {
					b.Fatal(err)
				}
				for p := range providers {
					sp := info.Providers[p%len(info.Providers)]
					code := fmt.Sprintf("host-%02d", p)
					if err := db.CreateProvider(ctx, &takedown.Provider{Code: code, Name: "Host " + code, Domains: []string{code + ".example"},
						Contacts: takedown.ProviderContacts{AbuseEmail: sp.AbuseEmail, Webhook: &takedown.WebhookContact{URL: sp.Webhook, Secret: sp.WebhookSecret}}}); err != nil {
						b.Fatal(err)
					}
				}
				o := &deliveryOptions{outbound: out, timeout: 30 * time.Second, senderEmail: "referrals@authority-alpha.example"}
				d, err := o.build(db, "127.0.0.1:8080")
				if err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
				start := time.Now()
				res, err := runRefer(ctx, db, &referOptions{operation: slug, basis: "referral", maxItems: 500}, time.Now())
				if err != nil {
					b.Fatal(err)
				}
				stop, err := startJobs(ctx, g, db, &queueOptions{concurrency: 16, retryBase: 100 * time.Millisecond, retryMax: time.Second}, jobs.Deps{Delivery: d})
				if err != nil {
					b.Fatal(err)
				}
				waitAllDelivered(b, db, 2*time.Minute)
				elapsed += time.Since(start)
				b.StopTimer()
				stop()
				db.Close()
				if n := len(res.Referrals); n < providers || res.Unattributed != 0 {
					b.Fatalf("%d batches, %d items unattributed", n, res.Unattributed)
				}
				got := map[string]int{}
				for _, rep := range sim.Reports() {
					got[rep.IdempotencyKey+" "+rep.Channel]++
				}
				for _, r := range res.Referrals {
					if got[r.IdempotencyKey+" mail"] != 1 || got[r.IdempotencyKey+" webhook"] != 1 {
						b.Fatalf("batch %s reached the simulator %d times by mail and %d by webhook", r.IdempotencyKey, got[r.IdempotencyKey+" mail"], got[r.IdempotencyKey+" webhook"])
					}
				}
				b.StartTimer()
			}
			b.ReportMetric(elapsed.Seconds()/float64(i), "s/op-wall")
			b.ReportMetric(float64(items)*float64(i)/elapsed.Seconds(), "items/s")
		})
	}
}

// waitAllDelivered waits until every delivery of every referral is done.
func waitAllDelivered(b *testing.B, db database, within time.Duration) {
	deadline := time.Now().Add(within)
	for {
		rs, err := db.ListReferrals(context.Background(), takedown.ReferralFilter{Undelivered: true})
		if err != nil {
			b.Fatal(err)
		}
		if len(rs) == 0 {
			return
		}
		if time.Now().After(deadline) {
			b.Fatalf("%d batches still undelivered after %v", len(rs), within)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
