package resurgence

import (
	"context"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/takedown-project/takedown"
	"github.com/takedown-project/takedown/internal/pdq"
	"github.com/takedown-project/takedown/internal/sqlite"
)

// randomHash is a made-up PDQ hash.
func randomHash(r *rand.Rand) pdq.Hash {
	var h pdq.Hash
	for i := range h {
		h[i] = uint16(r.UintN(1 << 16))
	}
	return h
}

// flip is h with n distinct bits flipped: a near copy of the picture.
func flip(r *rand.Rand, h pdq.Hash, n int) pdq.Hash {
	for _, bit := range r.Perm(256)[:n] {
		h[bit/16] ^= 1 << (bit % 16)
	}
	return h
}

// TestWatchSeedHits runs the matcher's seed comparison on a real SQLite
// store: a candidate whose avatar is a near copy of a seeded hash gets a
// hit, one far from every seed or of too low a quality does not; a seed
// added later hits a candidate matched before; a hit is recorded once,
// by a later round or another process alike.
func TestWatchSeedHits(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "t.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	ag := &takedown.Agency{Code: "aa-iru", Name: "Agency A"}
	if err := db.CreateAgency(ctx, ag); err != nil {
		t.Fatal(err)
	}
	op := &takedown.Operation{Slug: "rad", Name: "Day", Status: takedown.OperationOpen, Agencies: []string{"aa-iru"}, Evidence: takedown.EvidenceOff}
	if err := db.CreateOperation(ctx, op); err != nil {
		t.Fatal(err)
	}
	handles := []string{"example_channel_17", "example_channel_18", "example_channel_19", "example_channel_20"}
	var subs []takedown.NewSubmission
	for _, h := range handles {
		subs = append(subs, takedown.NewSubmission{
			Item: takedown.Recognition{Identity: "telegram:" + h, Canonical: "https://t.me/" + h, Platform: takedown.PlatformTelegram,
				Kind: takedown.KindChannel, Handle: h},
			Submission: takedown.Submission{AgencyID: ag.ID, RawInput: "https://t.me/" + h, Source: "test", SubmittedAt: time.Now()},
		})
	}
	res, err := db.Submit(ctx, op.ID, subs)
	if err != nil {
		t.Fatal(err)
	}
	item := map[string]int64{}
	for i, r := range res {
		item[handles[i]] = r.ItemID
	}

	r := rand.New(rand.NewPCG(17, 18))
	logo, banner := randomHash(r), randomHash(r)
	avatars := map[string]struct {
		hash    pdq.Hash
		quality int
	}{
		"example_channel_17": {flip(r, logo, 5), 100},   // a re-encoded logo
		"example_channel_18": {randomHash(r), 100},      // another picture
		"example_channel_19": {flip(r, logo, 2), 30},    // the logo, but a hash that says little
		"example_channel_20": {flip(r, banner, 12), 90}, // the banner, seeded later
	}
	var sigs []*takedown.ItemSignals
	for h, a := range avatars {
		sigs = append(sigs, &takedown.ItemSignals{ItemID: item[h], At: time.Now(), Title: h, AvatarPDQ: a.hash.String(), AvatarQuality: a.quality})
	}
	if err := db.RecordSignals(ctx, sigs); err != nil {
		t.Fatal(err)
	}
	if pdq.Distance(avatars["example_channel_18"].hash, logo) <= 3*SeedRadius {
		t.Fatal("the far avatar is not far: pick another random seed")
	}

	// A plain hex list gives no quality: the seed is taken as it is.
	seed := func(value string) {
		t.Helper()
		if _, err := db.AddHashSeeds(ctx, op.ID, ag.ID, []takedown.HashSeed{{Value: value, Quality: -1, Labels: []string{"logo"}}}); err != nil {
			t.Fatal(err)
		}
	}
	seed(logo.String())
	w := &Watcher{Store: db, Operations: db}
	round := func(want int) {
		t.Helper()
		_, hits, err := w.Match(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if hits != want {
			t.Errorf("%d new seed hits, want %d", hits, want)
		}
	}
	round(1)
	round(0)
	seed(banner.String())
	round(1)
	round(0)
	// A long list is compared through an index of its own: among 300
	// other pictures, a near copy of the far avatar hits it.
	other := flip(r, avatars["example_channel_18"].hash, 20)
	var list []takedown.HashSeed
	for i := range 300 {
		v := randomHash(r)
		if i == 150 {
			v = other
		}
		list = append(list, takedown.HashSeed{Value: v.String(), Quality: 80})
	}
	if n, err := db.AddHashSeeds(ctx, op.ID, ag.ID, list); err != nil || n != 300 {
		t.Fatalf("the long list: %d seeds added, %v", n, err)
	}
	round(1)
	round(0)
	// Another process starts over: it compares every candidate with every
	// seed, and records nothing new.
	w2 := &Watcher{Store: db, Operations: db}
	if _, hits, err := w2.Match(ctx); err != nil || hits != 0 {
		t.Errorf("another process's first round: %d new seed hits, %v; want 0", hits, err)
	}

	hits, err := db.ListSeedHits(ctx, op.ID, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	type hit struct {
		handle, seed string
		distance     int
	}
	var got []hit
	for _, h := range hits {
		got = append(got, hit{h.Item.Handle, h.Seed.Value, h.Distance})
	}
	want := []hit{{"example_channel_17", logo.String(), 5}, {"example_channel_20", banner.String(), 12}, {"example_channel_18", other.String(), 20}}
	if !slices.Equal(got, want) {
		t.Errorf("hits %+v, want %+v", got, want)
	}
}
