package postgres_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/takedown-project/takedown"
	"github.com/takedown-project/takedown/internal/postgres"
	"github.com/takedown-project/takedown/internal/storetest"
)

// BenchmarkRecordObservations records rounds of 500 observations, as the
// prober makes them, of referred items of an operation of 26,000 items:
// each round an hour after the one before, items going offline, confirmed
// and back online.
func BenchmarkRecordObservations(b *testing.B) {
	ctx := context.Background()
	db := openSchema(b)
	if err := db.Migrate(ctx); err != nil {
		b.Fatal(err)
	}
	a := &takedown.Agency{Code: "aa-iru", Name: "Agency"}
	if err := db.CreateAgency(ctx, a); err != nil {
		b.Fatal(err)
	}
	op := &takedown.Operation{Slug: "rad-1", Name: "Action day", Status: takedown.OperationOpen, Agencies: []string{"aa-iru"}, Evidence: takedown.EvidenceOff}
	if err := db.CreateOperation(ctx, op); err != nil {
		b.Fatal(err)
	}
	// Reached only through the portal: a referral is received when made.
	if err := db.CreateProvider(ctx, &takedown.Provider{Code: "telegram", Name: "Telegram", Platforms: []takedown.Platform{takedown.PlatformTelegram}}); err != nil {
		b.Fatal(err)
	}
	var ids []int64
	for start := 0; start < 26_000; start += 5000 {
		var subs []takedown.NewSubmission
		for i := start; i < start+5000 && i < 26_000; i++ {
			h := fmt.Sprintf("chan_%05d", i)
			subs = append(subs, takedown.NewSubmission{
				Item:       takedown.Recognition{Identity: "telegram:" + h, Canonical: "https://t.me/" + h, Platform: takedown.PlatformTelegram, Kind: takedown.KindChannel, Handle: h},
				Submission: takedown.Submission{AgencyID: a.ID, RawInput: "https://t.me/" + h, Source: "bench", SubmittedAt: time.Now()},
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
	items := ids[:500]
	if _, err := db.CreateReferral(ctx, &takedown.Referral{OperationID: op.ID, Provider: "telegram", LegalBasis: takedown.BasisReferral}, ids[:13_000]); err != nil {
		b.Fatal(err)
	}
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

// TestCountsFolded: the counts stay right when readers fold the deltas
// at every read, between every change.
func TestCountsFolded(t *testing.T) {
	defer postgres.FoldCountsAfter(1)()
	storetest.CountsFollowChanges(t, open)
}
