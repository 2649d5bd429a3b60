package sqlite_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/takedown-project/takedown"
	"github.com/takedown-project/takedown/internal/sqlite"
)

// referralFixture is an operation of n items, half of them referred (a
// tenth of those rejected, so referable again), with an item hold, a
// handle hold and a pattern hold.
func referralFixture(b *testing.B, n int) (*sqlite.DB, *takedown.Operation, []int64) {
	b.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "bench.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	if err := db.Migrate(ctx); err != nil {
		b.Fatal(err)
	}
	a := &takedown.Agency{Code: "aa-iru", Name: "A"}
	if err := db.CreateAgency(ctx, a); err != nil {
		b.Fatal(err)
	}
	op := &takedown.Operation{Slug: "rad-bench", Name: "bench", Status: takedown.OperationOpen, Agencies: []string{"aa-iru"}, Evidence: takedown.EvidenceOff}
	if err := db.CreateOperation(ctx, op); err != nil {
		b.Fatal(err)
	}
	if err := db.CreateProvider(ctx, &takedown.Provider{Code: "telegram", Name: "Telegram", Platforms: []takedown.Platform{takedown.PlatformTelegram}}); err != nil {
		b.Fatal(err)
	}
	at := time.Date(2026, 11, 20, 8, 0, 0, 0, time.UTC)
	var ids []int64
	for start := 0; start < n; start += 5000 {
		var subs []takedown.NewSubmission
		for i := start; i < min(start+5000, n); i++ {
			h := fmt.Sprintf("chan_%06d", i)
			subs = append(subs, takedown.NewSubmission{
				Item:       takedown.Recognition{Identity: "telegram:" + h, Canonical: "https://t.me/" + h, Platform: takedown.PlatformTelegram, Kind: takedown.KindChannel, Handle: h},
				Submission: takedown.Submission{AgencyID: a.ID, RawInput: "https://t.me/" + h, Source: "bench", SubmittedAt: at},
			})
		}
		res, err := db.Submit(ctx, op.ID, subs)
		if err != nil {
			b.Fatal(err)
		}
		for _, r := range res {
			ids = append(ids, r.ItemID)
		}
	}
	for _, h := range []*takedown.Hold{
		{Scope: takedown.HoldItem, ItemID: ids[n-1]},
		{Scope: takedown.HoldHandle, Platform: takedown.PlatformTelegram, Handle: fmt.Sprintf("chan_%06d", n-2)},
		{Scope: takedown.HoldPattern, Pattern: "t.me/chan_0*7"},
	} {
		h.OperationID, h.Agency, h.Reason, h.ExpiresAt = op.ID, "aa-iru", takedown.HoldInvestigation, time.Now().Add(time.Hour)
		if err := db.PlaceHold(ctx, h); err != nil {
			b.Fatal(err)
		}
	}
	half := ids[:n/2]
	for start := 0; start < len(half); start += 1000 {
		r := &takedown.Referral{OperationID: op.ID, Provider: "telegram", LegalBasis: takedown.BasisReferral}
		if _, err := db.CreateReferral(ctx, r, half[start:min(start+1000, len(half))]); err != nil {
			b.Fatal(err)
		}
		var answers []takedown.ItemAnswer
		for _, it := range r.Items[:len(r.Items)/10] {
			answers = append(answers, takedown.ItemAnswer{ItemID: it.ItemID, Outcome: takedown.OutcomeRejected, Reason: "no violation"})
		}
		if _, err := db.AnswerReferral(ctx, r.ID, answers, "bench"); err != nil {
			b.Fatal(err)
		}
	}
	return db, op, ids
}

// BenchmarkReferableItems reads every referable item of an operation of
// 26,000 items, a page of 1,000 at a time.
func BenchmarkReferableItems(b *testing.B) {
	ctx := context.Background()
	db, op, _ := referralFixture(b, 26_000)
	total := 0
	for b.Loop() {
		total = 0
		var after int64
		for {
			page, err := db.ReferableItems(ctx, op.ID, after, 1000)
			if err != nil {
				b.Fatal(err)
			}
			total += len(page)
			if len(page) < 1000 {
				break
			}
			after = page[len(page)-1].ID
		}
	}
	b.ReportMetric(float64(total), "items")
}

// BenchmarkSetAttributions attributes 26,000 items in one call.
func BenchmarkSetAttributions(b *testing.B) {
	ctx := context.Background()
	db, _, ids := referralFixture(b, 26_000)
	as := make([]takedown.ItemAttribution, len(ids))
	for i, id := range ids {
		as[i] = takedown.ItemAttribution{ItemID: id, Provider: "telegram", Via: "platform"}
		if i%10 == 0 {
			as[i] = takedown.ItemAttribution{ItemID: id, Via: "none"}
		}
	}
	for b.Loop() {
		if err := db.SetAttributions(ctx, as); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRecordObservations records rounds of 500 observations, as the
// prober makes them, of referred items of an operation of 26,000 items:
// each round an hour after the one before, items going offline, confirmed
// and back online.
func BenchmarkRecordObservations(b *testing.B) {
	ctx := context.Background()
	db, _, ids := referralFixture(b, 26_000)
	items := ids[:500] // referred to a provider reached only through the portal: received
	at := time.Now().Add(time.Hour)
	round := 0
	for b.Loop() {
		obs := make([]takedown.Observation, len(items))
		for i, id := range items {
			v := takedown.VerdictOffline
			switch (round/3 + i) % 4 {
			case 0:
				v = takedown.VerdictOnline
			case 1:
				v = takedown.VerdictUnknown
			}
			obs[i] = takedown.Observation{ItemID: id, At: at.Add(time.Duration(i) * time.Millisecond), Verdict: v, Reason: "test", Rule: "bench", Status: 404, FinalURL: "https://t.me/x", Bytes: 1000, LatencyMS: 50}
		}
		if _, err := db.RecordObservations(ctx, obs, takedown.DefaultSchedule); err != nil {
			b.Fatal(err)
		}
		at, round = at.Add(time.Hour), round+1
	}
}
