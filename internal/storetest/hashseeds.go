package storetest

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	gocmp "github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/takedown-project/takedown"
)

// seedHash is a made-up PDQ hash, one per n.
func seedHash(n int) string {
	return fmt.Sprintf("%064x", 0x5eed0000+n)
}

// allSeeds pages through an operation's seeds, page by page.
func allSeeds(t *testing.T, db Backend, operationID int64, page int) []takedown.HashSeed {
	t.Helper()
	var out []takedown.HashSeed
	after := int64(0)
	for {
		list, err := db.ListHashSeeds(ctx, operationID, after, page)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, list...)
		if len(list) < page {
			return out
		}
		after = list[len(list)-1].ID
	}
}

// testHashSeeds: seeds added in batches, each hash once, bad batches
// refused whole; hits recorded once and listed with their seed and item;
// both in the audit chain.
func testHashSeeds(t *testing.T, open Opener) {
	hb := setupHolds(t, open, "example_channel_17", "example_channel_18")
	db := hb.db
	start := time.Now().Add(-time.Second)

	first := []takedown.HashSeed{
		{Value: strings.ToUpper(seedHash(1)), Quality: 90, Labels: []string{"logo", " outlet_a "}, Source: "platform-list", URL: "https://files.example/1.png"},
		{Value: seedHash(2), Quality: -1},
		{Value: seedHash(3), Quality: 0, Labels: []string{""}},
	}
	added, err := db.AddHashSeeds(ctx, hb.op.ID, hb.a.ID, first)
	if err != nil || added != 3 {
		t.Fatalf("first batch: %d added, %v; want 3", added, err)
	}
	// Known hashes are kept once, as first added; a batch that holds a
	// hash twice adds it once.
	added, err = db.AddHashSeeds(ctx, hb.op.ID, hb.b.ID, []takedown.HashSeed{
		{Value: seedHash(1), Quality: 10, Labels: []string{"other"}, Source: "partner-list"},
		{Value: seedHash(4), Quality: 70, Source: "partner-list"},
		{Value: seedHash(4), Quality: 71},
	})
	if err != nil || added != 1 {
		t.Errorf("second batch: %d added, %v; want 1", added, err)
	}
	if added, err := db.AddHashSeeds(ctx, hb.op.ID, hb.a.ID, nil); err != nil || added != 0 {
		t.Errorf("an empty batch: %d added, %v", added, err)
	}

	// Bad entries: the batch is refused whole, naming the entry.
	for name, bad := range map[string]takedown.HashSeed{
		"short hash":    {Value: "abc"},
		"not hex":       {Value: strings.Repeat("g", 64)},
		"quality 101":   {Value: seedHash(9), Quality: 101},
		"quality -2":    {Value: seedHash(9), Quality: -2},
		"21 labels":     {Value: seedHash(9), Labels: strings.Split(strings.Repeat("x,", 20)+"x", ",")},
		"a long label":  {Value: seedHash(9), Labels: []string{strings.Repeat("l", takedown.MaxSeedLabelLength+1)}},
		"a long source": {Value: seedHash(9), Source: strings.Repeat("s", takedown.MaxSeedSource+1)},
	} {
		_, err := db.AddHashSeeds(ctx, hb.op.ID, hb.a.ID, []takedown.HashSeed{{Value: seedHash(5)}, bad})
		wantCode(t, err, takedown.EINVALID)
		if err != nil && !strings.Contains(err.Error(), "hash seed 2") {
			t.Errorf("%s: %v does not name the entry", name, err)
		}
	}
	_, err = db.AddHashSeeds(ctx, 999999, hb.a.ID, []takedown.HashSeed{{Value: seedHash(5)}})
	wantCode(t, err, takedown.ENOTFOUND)
	_, err = db.AddHashSeeds(ctx, hb.op.ID, hb.c.ID, []takedown.HashSeed{{Value: seedHash(5)}})
	wantCode(t, err, takedown.EINVALID)

	seeds := allSeeds(t, db, hb.op.ID, 1000)
	want := []takedown.HashSeed{
		{OperationID: hb.op.ID, Agency: "aa-iru", Value: seedHash(1), Quality: 90, Labels: []string{"logo", "outlet_a"}, Source: "platform-list", URL: "https://files.example/1.png"},
		{OperationID: hb.op.ID, Agency: "aa-iru", Value: seedHash(2), Quality: -1},
		{OperationID: hb.op.ID, Agency: "aa-iru", Value: seedHash(3), Quality: 0},
		{OperationID: hb.op.ID, Agency: "bb-iru", Value: seedHash(4), Quality: 70, Source: "partner-list"},
	}
	if diff := gocmp.Diff(want, seeds, cmpopts.IgnoreFields(takedown.HashSeed{}, "ID", "AddedAt"), cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("seeds mismatch (-want +got):\n%s", diff)
	}
	for i, s := range seeds {
		if s.ID == 0 || i > 0 && s.ID <= seeds[i-1].ID || s.AddedAt.Before(start) || s.AddedAt.Location() != time.UTC {
			t.Errorf("seed %d: ID %d, added at %v", i, s.ID, s.AddedAt)
		}
	}
	if paged := allSeeds(t, db, hb.op.ID, 3); !gocmp.Equal(paged, seeds) {
		t.Errorf("seeds in pages of 3: %+v, want %+v", paged, seeds)
	}
	if tail, err := db.ListHashSeeds(ctx, hb.op.ID, seeds[1].ID, 1); err != nil || len(tail) != 1 || tail[0].ID != seeds[2].ID {
		t.Errorf("the seed after the second: %+v, %v", tail, err)
	}

	// Another operation's seeds are its own.
	other := &takedown.Operation{Slug: "rad-2", Name: "Other day", Status: takedown.OperationOpen, Agencies: []string{"cc-iru"}, Evidence: takedown.EvidenceOff}
	if err := db.CreateOperation(ctx, other); err != nil {
		t.Fatal(err)
	}
	if added, err := db.AddHashSeeds(ctx, other.ID, hb.c.ID, []takedown.HashSeed{{Value: seedHash(1), Quality: -1}}); err != nil || added != 1 {
		t.Errorf("the same hash in another operation: %d added, %v", added, err)
	}
	otherSeeds := allSeeds(t, db, other.ID, 10)
	if len(otherSeeds) != 1 || otherSeeds[0].Agency != "cc-iru" {
		t.Fatalf("the other operation's seeds: %+v", otherSeeds)
	}

	// Hits: once per item and seed.
	item17, item18 := hb.items["example_channel_17"], hb.items["example_channel_18"]
	at := hb.now.Truncate(time.Second)
	n, err := db.RecordSeedHits(ctx, []takedown.SeedHit{
		{ItemID: item17, SeedID: seeds[0].ID, Distance: 4, At: at},
		{ItemID: item18, SeedID: seeds[1].ID, Distance: 0, At: at},
		{ItemID: item17, SeedID: seeds[0].ID, Distance: 5, At: at},
	})
	if err != nil || n != 2 {
		t.Errorf("first hits: %d new, %v; want 2", n, err)
	}
	n, err = db.RecordSeedHits(ctx, []takedown.SeedHit{
		{ItemID: item17, SeedID: seeds[0].ID, Distance: 9, At: at.Add(time.Hour)},
		{ItemID: item17, SeedID: seeds[3].ID, Distance: 30, At: at.Add(time.Hour)},
	})
	if err != nil || n != 1 {
		t.Errorf("second hits: %d new, %v; want 1", n, err)
	}
	for name, tc := range map[string]struct {
		hit  takedown.SeedHit
		code string
	}{
		"unknown item":          {takedown.SeedHit{ItemID: 999999, SeedID: seeds[0].ID}, takedown.ENOTFOUND},
		"unknown seed":          {takedown.SeedHit{ItemID: item17, SeedID: 999999}, takedown.ENOTFOUND},
		"another operation's":   {takedown.SeedHit{ItemID: item17, SeedID: otherSeeds[0].ID}, takedown.EINVALID},
		"a distance of 257":     {takedown.SeedHit{ItemID: item17, SeedID: seeds[2].ID, Distance: 257}, takedown.EINVALID},
		"a hit without an item": {takedown.SeedHit{SeedID: seeds[2].ID}, takedown.EINVALID},
	} {
		// A bad hit refuses the batch, with the good hit before it.
		_, err := db.RecordSeedHits(ctx, []takedown.SeedHit{{ItemID: item18, SeedID: seeds[2].ID, Distance: 1, At: at}, tc.hit})
		if got := takedown.ErrorCode(err); got != tc.code {
			t.Errorf("%s: error %v has code %q, want %q", name, err, got, tc.code)
		}
	}

	var hits []takedown.SeedHit
	for after := int64(0); ; {
		page, err := db.ListSeedHits(ctx, hb.op.ID, after, 2)
		if err != nil {
			t.Fatal(err)
		}
		hits = append(hits, page...)
		if len(page) < 2 {
			break
		}
		after = page[len(page)-1].ID
	}
	item := func(handle string) takedown.MatchItem {
		return takedown.MatchItem{Identity: "telegram:" + handle, URL: "https://t.me/" + handle, Platform: takedown.PlatformTelegram,
			Kind: takedown.KindChannel, Handle: handle, Status: takedown.ItemSubmitted}
	}
	wantHits := []takedown.SeedHit{
		{ItemID: item17, SeedID: seeds[0].ID, Distance: 4, At: at, Seed: seeds[0], Item: item("example_channel_17")},
		{ItemID: item18, SeedID: seeds[1].ID, Distance: 0, At: at, Seed: seeds[1], Item: item("example_channel_18")},
		{ItemID: item17, SeedID: seeds[3].ID, Distance: 30, At: at.Add(time.Hour), Seed: seeds[3], Item: item("example_channel_17")},
	}
	if diff := gocmp.Diff(wantHits, hits, cmpopts.IgnoreFields(takedown.SeedHit{}, "ID"), cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("hits mismatch (-want +got):\n%s", diff)
	}
	if others, err := db.ListSeedHits(ctx, other.ID, 0, 10); err != nil || len(others) != 0 {
		t.Errorf("the other operation's hits: %+v, %v", others, err)
	}

	// The chain: one event per batch of seeds (the refused ones left
	// none), one per new hit.
	evs, err := db.ListAudit(ctx, takedown.AuditFilter{Operation: "rad-1"})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range evs {
		if strings.HasPrefix(e.Action, "hash_seeds.") {
			var d map[string]any
			if err := json.Unmarshal(e.Details, &d); err != nil {
				t.Fatal(err)
			}
			if e.Action == "hash_seeds.add" {
				got = append(got, fmt.Sprintf("add %v %v %v/%v", d["agency"], d["sources"], d["new"], d["seeds"]))
			} else {
				got = append(got, fmt.Sprintf("hit %s %v", e.Subject, d["distance"]))
			}
		}
	}
	wantEvents := []string{
		"add aa-iru [platform-list] 3/3",
		"add bb-iru [partner-list] 1/3",
		"add aa-iru [] 0/0",
		fmt.Sprintf("hit item:%d 4", item17),
		fmt.Sprintf("hit item:%d 0", item18),
		fmt.Sprintf("hit item:%d 30", item17),
	}
	if diff := gocmp.Diff(wantEvents, got); diff != "" {
		t.Errorf("hash seed events mismatch (-want +got):\n%s", diff)
	}
	if _, _, err := takedown.VerifyAudit(ctx, db); err != nil {
		t.Errorf("the chain: %v", err)
	}
}
