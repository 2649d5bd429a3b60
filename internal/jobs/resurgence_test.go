package jobs

import (
	"context"
	"net/netip"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/takedown-project/takedown"
	"github.com/takedown-project/takedown/internal/canon"
	"github.com/takedown-project/takedown/internal/evidence"
	"github.com/takedown-project/takedown/internal/outbound"
	"github.com/takedown-project/takedown/internal/probe"
	"github.com/takedown-project/takedown/internal/resurgence"
	"github.com/takedown-project/takedown/internal/simnet"
	"github.com/takedown-project/takedown/internal/sqlite"
	"github.com/takedown-project/takedown/internal/storetest"
)

// TestWatchFindsSuccessors runs resurgence as takedown does, against the
// simulated internet and a real SQLite store: the network's channels and
// accounts are submitted and captured, providers remove part of them,
// the adversary re-creates some under mutated names and the outlets'
// other channels announce them; the watch reads the live channels again,
// finds the announced successors, reads them, and matches them against
// the removed items. Every match is checked against the adversary's
// ground truth.
func TestWatchFindsSuccessors(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the simulated internet")
	}
	ctx := context.Background()
	b, err := os.ReadFile("../simnet/scenarios/small.yaml")
	if err != nil {
		t.Fatal(err)
	}
	s, err := simnet.ParseScenario(append(b, []byte("adversary: {recreate: 0.6, delay: {median: 2h, p90: 12h, max: 2d}, cross_platform: 0.2}\n")...))
	if err != nil {
		t.Fatal(err)
	}
	clock := simnet.NewClock(s.Start, 1)
	srv, err := simnet.Start(ctx, simnet.Config{Scenario: s, Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	info := srv.Info()
	out, err := outbound.Simnet(outbound.SimnetInfo{HTTPS: info.HTTPS, HTTP: info.HTTP, SMTP: info.SMTP, CAPEM: info.CAPEM})
	if err != nil {
		t.Fatal(err)
	}
	p, err := probe.New(probe.Config{Outbound: out, Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}, Classifier: probe.DefaultRules(),
		PerHostRate: 5000, PerHostConcurrency: 16, GlobalConcurrency: 64, Timeout: 5 * time.Second, Retries: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	dir := t.TempDir()
	blobs, err := evidence.NewFSStore(filepath.Join(dir, "evidence"))
	if err != nil {
		t.Fatal(err)
	}
	capturer, err := evidence.New(evidence.Config{Fetcher: p, Classifier: probe.DefaultRules(), Blobs: blobs, MaxResources: 1})
	if err != nil {
		t.Fatal(err)
	}
	db, err := sqlite.Open(ctx, filepath.Join(dir, "t.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	ag := &takedown.Agency{Code: "aa", Name: "Agency A"}
	if err := db.CreateAgency(ctx, ag); err != nil {
		t.Fatal(err)
	}
	op := &takedown.Operation{Slug: "rad", Name: "Day", Status: takedown.OperationOpen, Agencies: []string{"aa"}, Evidence: takedown.EvidenceOff}
	if err := db.CreateOperation(ctx, op); err != nil {
		t.Fatal(err)
	}
	if err := db.CreateProvider(ctx, &takedown.Provider{Code: "all", Name: "Every platform",
		Platforms: []takedown.Platform{takedown.PlatformTelegram, takedown.PlatformX, takedown.PlatformYouTube}}); err != nil {
		t.Fatal(err)
	}

	// 1. The agencies submit the network's channels and accounts.
	world := srv.World()
	var subs []takedown.NewSubmission
	for _, e := range world.Entities {
		if !e.IsContainer() || e.Platform == simnet.WebHost || e.Platform == simnet.FileHost {
			continue
		}
		rec, err := canon.Recognize(e.URL)
		if err != nil {
			t.Fatalf("%s: %v", e.URL, err)
		}
		subs = append(subs, takedown.NewSubmission{Item: rec, Submission: takedown.Submission{AgencyID: ag.ID, RawInput: e.URL, Source: "test", SubmittedAt: time.Now()}})
	}
	res, err := db.Submit(ctx, op.ID, subs)
	if err != nil {
		t.Fatal(err)
	}
	itemOf := map[string]int64{}
	for i, r := range res {
		itemOf[subs[i].Item.Canonical] = r.ItemID
	}

	// 2. Each is captured before its referral.
	var wg sync.WaitGroup
	work := make(chan takedown.NewSubmission)
	for range 16 {
		wg.Go(func() {
			for sub := range work {
				c, err := capturer.Capture(ctx, evidence.Target{ItemID: itemOf[sub.Item.Canonical], Operation: "rad", URL: sub.Item.Canonical,
					Platform: sub.Item.Platform, Kind: sub.Item.Kind, Handle: sub.Item.Handle})
				if err == nil {
					err = db.RecordCapture(ctx, c)
				}
				if err != nil {
					t.Error(err)
				}
			}
		})
	}
	for _, sub := range subs {
		work <- sub
	}
	close(work)
	wg.Wait()

	// 3. Providers remove part of them; takedown confirms it.
	removedAt := clock.Now()
	removed := world.RemoveForResurgence(0.4, removedAt)
	var ids []int64
	for _, e := range removed {
		rec, err := canon.Recognize(e.URL)
		if err != nil {
			t.Fatal(err)
		}
		if id, ok := itemOf[rec.Canonical]; ok {
			ids = append(ids, id)
		}
	}
	storetest.ConfirmOffline(t, db, op.ID, "all", ids)

	// 4. Days later the adversary's successors are up and announced.
	clock.Advance(3 * 24 * time.Hour)
	truth := world.Truth(clock.Now(), false)
	if len(truth) < 20 {
		t.Fatalf("the adversary made %d successors; the test needs more", len(truth))
	}
	w := &resurgence.Watcher{Store: db, Operations: db, Blobs: blobs, Fetcher: p, Classifier: probe.DefaultRules(), ReadEvery: time.Nanosecond, Batch: 100000, Concurrency: 16}
	var total resurgence.RoundSummary
	for i := range 3 {
		sum, err := w.Round(ctx)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("round %d: %+v", i+1, sum)
		total.Signals += sum.Signals
		total.Found += sum.Found
		total.Matches += sum.Matches
	}
	if total.Signals != len(subs) {
		t.Errorf("signals of %d items from their captures, want %d", total.Signals, len(subs))
	}

	// 5. Against the ground truth.
	// The ground truth in canonical URLs, as takedown keeps them.
	canonical := func(u string) string {
		rec, err := canon.Recognize(u)
		if err != nil {
			t.Fatal(err)
		}
		return rec.Canonical
	}
	succOf := map[string]simnet.Succession{}
	for i, pair := range truth {
		pair.Successor, pair.Predecessor = canonical(pair.Successor), canonical(pair.Predecessor)
		truth[i] = pair
		succOf[pair.Successor] = pair
	}
	page, err := db.ListItems(ctx, takedown.ItemFilter{OperationID: op.ID, Status: takedown.ItemCandidate, Limit: takedown.MaxPageSize})
	if err != nil {
		t.Fatal(err)
	}
	urlOf := map[int64]string{}
	foundSucc := 0
	for _, it := range page.Items {
		urlOf[it.ID] = it.URL
		if _, ok := succOf[it.URL]; ok {
			foundSucc++
		} else {
			t.Errorf("candidate %s is no successor: the watch adds only what the network's channels point to", it.URL)
		}
	}
	ms, err := db.ListMatches(ctx, takedown.MatchFilter{OperationID: op.ID, Limit: takedown.MaxPageSize})
	if err != nil {
		t.Fatal(err)
	}
	right, wrong := 0, 0
	perMutation := map[string][2]int{} // right, successors
	matched := map[string]bool{}
	for _, m := range ms {
		pair, ok := succOf[m.Successor.URL]
		if ok && pair.Predecessor == m.Predecessor.URL {
			right++
			matched[m.Successor.URL] = true
		} else {
			wrong++
			t.Logf("wrong match %.3f %v: %s -> %s", m.Score, m.Signals, m.Predecessor.URL, m.Successor.URL)
		}
	}
	for _, pair := range truth {
		for _, mu := range pair.Mutations {
			k := strings.SplitN(mu, ":", 2)[0]
			if strings.HasPrefix(mu, "platform:") {
				k = "cross-platform"
			}
			c := perMutation[k]
			c[1]++
			if matched[pair.Successor] {
				c[0]++
			}
			perMutation[k] = c
		}
	}
	var keys []string
	for k := range perMutation {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		t.Logf("mutation %-16s %3d of %3d successors matched", k, perMutation[k][0], perMutation[k][1])
	}
	precision := float64(right) / float64(max(right+wrong, 1))
	recall := float64(len(matched)) / float64(len(truth))
	t.Logf("%d successors in the ground truth; the watch found %d; %d matches, %d right: precision %.3f, recall %.3f", len(truth), foundSucc, len(ms), right, precision, recall)
	if recall < 0.9 || precision < 0.95 {
		t.Errorf("precision %.3f, recall %.3f: want at least 0.95 and 0.9", precision, recall)
	}
	// A later round finds nothing new and changes nothing.
	if sum, err := w.Round(ctx); err != nil || sum.Found != 0 || sum.Matches != 0 {
		t.Errorf("a round again: %+v, %v", sum, err)
	}
}
