package resurgence

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"image"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/takedown-project/takedown"
	"github.com/takedown-project/takedown/internal/canon"
	"github.com/takedown-project/takedown/internal/evidence"
	"github.com/takedown-project/takedown/internal/pdq"
	"github.com/takedown-project/takedown/internal/probe"
)

// BestMargin is how close to a candidate's best pair another pair must
// score to be listed too: a re-created channel replaces one removed
// channel, and the others it resembles are its outlet's siblings.
const BestMargin = 0.001

// Watcher is resurgence at work on an operation's items, built once in
// cmd and run by the job queue: it computes signals from captures, reads
// watched items again for links and mentions of new channels, and
// matches candidates against removed items.
type Watcher struct {
	Store Store
	// Operations lists the operations whose items are matched.
	Operations interface {
		ListOperations(ctx context.Context) ([]*takedown.Operation, error)
	}
	// Blobs holds the captures signals are read from; nil: none are.
	Blobs evidence.BlobStore
	// Fetcher reads watched pages (the prober's: its safety guard and
	// per-host limits apply); nil: no page is read again. Classifier
	// says whether a page shows its item.
	Fetcher    evidence.Fetcher
	Classifier probe.Classifier
	// Threshold is the least score of a match (0: DefaultThreshold).
	Threshold float64
	// ReadEvery is how often a watched item is read again (0: 6 h);
	// Batch how many are read in one round (0: 200), Concurrency how
	// many at once (0: 8), MaxFound how many candidates one page may
	// add (0: 20).
	ReadEvery   time.Duration
	Batch       int
	Concurrency int
	MaxFound    int
	// MaxPageBytes caps a page read (0: 4 MiB), MaxImageBytes an avatar
	// (0: 2 MiB).
	MaxPageBytes  int64
	MaxImageBytes int64
	Now           func() time.Time

	mu  sync.Mutex
	ops map[int64]*operationIndex
	// captureAfter is the last capture read for signals: a process reads
	// every capture once, then what came since (rounds run one at a
	// time).
	captureAfter int64
}

// Store is what the watcher reads and records: signals and matches, and
// the operations' hash seeds and the candidates that hit them.
type Store interface {
	takedown.ResurgenceService
	takedown.SeedService
}

// captureOverlap is how far behind its last capture a round starts.
const captureOverlap = 1000

func (w *Watcher) now() time.Time {
	if w.Now != nil {
		return w.Now()
	}
	return time.Now()
}

func or[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}

// Round does one round of each part: signals from new captures, watch
// reads, matching. It returns what each did.
func (w *Watcher) Round(ctx context.Context) (RoundSummary, error) {
	var s RoundSummary
	var err error
	if s.Signals, err = w.SignalsFromCaptures(ctx, 5000); err != nil {
		return s, fmt.Errorf("signals from captures: %w", err)
	}
	if s.Reads, s.Found, err = w.Watch(ctx); err != nil {
		return s, fmt.Errorf("watch: %w", err)
	}
	if s.Matches, s.SeedHits, err = w.Match(ctx); err != nil {
		return s, fmt.Errorf("match: %w", err)
	}
	return s, nil
}

// RoundSummary is what a round did.
type RoundSummary struct {
	Signals, Reads, Found, Matches int
	// SeedHits are the new hits of candidates' avatars on hash seeds.
	SeedHits int
}

// SignalsFromCaptures computes the signals of up to limit items whose
// newest capture has not fed them yet.
func (w *Watcher) SignalsFromCaptures(ctx context.Context, limit int) (int, error) {
	if w.Blobs == nil {
		return 0, nil
	}
	// A round starts a little behind where the last one ended: on
	// PostgreSQL a capture can commit after one with a higher ID (what
	// fed its signals already is not read again).
	after := max(w.captureAfter-captureOverlap, 0)
	done := 0
	for done < limit {
		due, err := w.Store.DueSignals(ctx, after, min(200, limit-done))
		if err != nil || len(due) == 0 {
			return done, err
		}
		// Reading a capture and hashing its avatar is CPU work: one
		// worker per core is what the machine gives.
		batch := make([]*takedown.ItemSignals, len(due))
		errs := make([]error, len(due))
		work := make(chan int)
		var wg sync.WaitGroup
		for range runtime.GOMAXPROCS(0) {
			wg.Go(func() {
				for i := range work {
					batch[i], errs[i] = w.fromCapture(ctx, due[i])
				}
			})
		}
		for i := range due {
			work <- i
		}
		close(work)
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				return done, fmt.Errorf("item %d, capture %d: %w", due[i].ItemID, due[i].CaptureID, err)
			}
		}
		if err := w.Store.RecordSignals(ctx, batch); err != nil {
			return done, err
		}
		after = due[len(due)-1].CaptureID
		w.captureAfter = max(w.captureAfter, after)
		done += len(batch)
	}
	return done, nil
}

// fromCapture reads an item's signals from its capture: its page, its
// posts preview, its avatar.
func (w *Watcher) fromCapture(ctx context.Context, src takedown.SignalSource) (*takedown.ItemSignals, error) {
	rs, err := evidence.ReadResponses(ctx, w.Blobs, src.Location)
	if err != nil {
		return nil, err
	}
	var page Page
	seen := false
	posts := canon.PostsURL(src.Platform, src.Kind, src.Handle)
	for _, r := range rs {
		if r.Status < 200 || r.Status > 299 || !isHTML(r.ContentType) {
			continue
		}
		p := ReadPage(r.TargetURI, src.Platform, r.Body)
		switch {
		case !seen:
			page, seen = p, true
		case r.TargetURI == posts:
			page.Merge(p)
		}
	}
	var avatar *pdq.Result
	for _, r := range rs {
		if page.Avatar != "" && r.TargetURI == page.Avatar && r.Status >= 200 && r.Status <= 299 {
			avatar = hashImage(r.Body)
			break
		}
	}
	s := page.Signals(src.ItemID, avatar)
	s.At, s.CaptureID = w.now(), src.CaptureID
	return s, nil
}

func isHTML(ct string) bool {
	ct = strings.ToLower(ct)
	return strings.HasPrefix(ct, "text/html") || strings.HasPrefix(ct, "application/xhtml")
}

// hashImage is an image's PDQ hash, nil if it is no image it can decode.
func hashImage(b []byte) *pdq.Result {
	img, _, err := image.Decode(bytes.NewReader(b))
	if err != nil {
		return nil
	}
	r, err := pdq.Compute(img)
	if err != nil {
		return nil
	}
	return &r
}

// Watch reads the due watched items once each, Concurrency at a time,
// and records what their pages show: new signals of candidates and of
// items without any, and the channels their posts link to or mention
// that the operation does not know, as candidates. It returns the reads
// and the new candidates.
func (w *Watcher) Watch(ctx context.Context) (reads, found int, err error) {
	if w.Fetcher == nil {
		return 0, 0, nil
	}
	due, err := w.Store.DueWatch(ctx, takedown.WatchPolicy{ReadBefore: w.now().Add(-or(w.ReadEvery, 6*time.Hour))}, or(w.Batch, 200))
	if err != nil || len(due) == 0 {
		return 0, 0, err
	}
	results := make([]takedown.WatchResult, len(due))
	work := make(chan int)
	var wg sync.WaitGroup
	for range or(w.Concurrency, 8) {
		wg.Go(func() {
			for i := range work {
				results[i] = w.read(ctx, due[i])
			}
		})
	}
	for i := range due {
		if ctx.Err() != nil {
			break
		}
		work <- i
	}
	close(work)
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return 0, 0, err
	}
	found, err = w.Store.RecordWatch(ctx, results)
	return len(results), found, err
}

// read reads one watched item.
func (w *Watcher) read(ctx context.Context, t takedown.WatchTarget) takedown.WatchResult {
	res := takedown.WatchResult{ItemID: t.ItemID, At: w.now()}
	r := w.Fetcher.Fetch(ctx, t.URL, or(w.MaxPageBytes, 4<<20), nil)
	if !w.shows(t, r) {
		return res // nothing to read now; read again in its turn
	}
	page := ReadPage(r.FinalURL, t.Platform, r.Body)
	if posts := canon.PostsURL(t.Platform, t.Kind, t.Handle); posts != "" && posts != r.FinalURL {
		if pr := w.Fetcher.Fetch(ctx, posts, or(w.MaxPageBytes, 4<<20), nil); w.shows(t, pr) {
			page.Merge(ReadPage(pr.FinalURL, t.Platform, pr.Body))
		}
	}
	// A candidate's signals are what it is matched on; an item the
	// agencies submitted has them from its capture, and is read for
	// its links.
	if t.Status == takedown.ItemCandidate || !t.HasSignals {
		var avatar *pdq.Result
		if page.Avatar != "" {
			if ar := w.Fetcher.Fetch(ctx, page.Avatar, or(w.MaxImageBytes, 2<<20), nil); ar.Err == nil && ar.Status >= 200 && ar.Status <= 299 && !ar.Truncated {
				avatar = hashImage(ar.Body)
			}
		}
		res.Signals = page.Signals(t.ItemID, avatar)
		res.Signals.At = res.At
	}
	res.Found = w.discoveries(t, page)
	return res
}

// shows says whether a read got the item's page: an answer its rules
// call online.
func (w *Watcher) shows(t takedown.WatchTarget, r *probe.Response) bool {
	if r == nil || r.Err != nil || r.Truncated || r.Status < 200 || r.Status > 299 {
		return false
	}
	if w.Classifier == nil {
		return true
	}
	return w.Classifier.Classify(t.Platform, t.Kind, r).Verdict == takedown.VerdictOnline
}

// discoveries are the channels, groups and accounts a page's posts link
// to or mention, other than the item itself, at most MaxFound.
func (w *Watcher) discoveries(t takedown.WatchTarget, p Page) []takedown.Discovery {
	var out []takedown.Discovery
	seen := map[string]bool{}
	add := func(u, via string) {
		if len(out) >= or(w.MaxFound, 20) {
			return
		}
		rec, err := canon.Recognize(u)
		if err != nil || seen[rec.Identity] || rec.Canonical == t.URL || rec.Platform == takedown.PlatformWeb {
			return
		}
		switch rec.Kind {
		case takedown.KindAccount, takedown.KindChannel, takedown.KindGroup:
			seen[rec.Identity] = true
			out = append(out, takedown.Discovery{Recognition: rec, Via: via})
		}
	}
	for _, l := range p.Links {
		add(l, "link")
	}
	for _, m := range p.Mentions {
		add(m, "mention")
	}
	return out
}

// operationIndex is what the matcher keeps of an operation between
// rounds: its removed items, indexed, and its candidates, prepared.
type operationIndex struct {
	removed    *Index
	removedIDs map[int64]bool
	// watermark: removed items matchable since before it are in the
	// index.
	watermark  time.Time
	candidates map[int64]*candidate
	// seeds are the operation's hash seeds read so far, indexed by seed
	// ID (nil until there is one: an empty index takes 25 MB):
	// seedAfter is the highest ID read, seedIDs the IDs read (a round
	// reads from a little before seedAfter again).
	seeds     *pdq.Index
	seedIDs   map[int64]bool
	seedAfter int64
}

// SeedRadius is how near a candidate's avatar must be to a hash seed, in
// bits of their PDQ hashes, for a hit: 31, the threshold of PDQ's
// reference and of the hash-sharing tools whose lists are seeded. The
// lists' owners chose their hashes expecting it: a re-encoded, resized or
// lightly edited copy of a logo stays within it, and a different picture
// almost never comes so near.
const SeedRadius = pdq.DefaultRadius

// seedOverlap is how many seed IDs behind the last one read a round
// starts reading again: on PostgreSQL a batch of seeds can commit after
// one with higher IDs. Seeds read before are skipped by ID.
const seedOverlap = 1000

// seedScan is how many new seeds a round compares one by one rather
// than through an index of their own: a few added since the last round
// are the rule, and an index is a large allocation.
const seedScan = 256

// maxSeedHits bounds the hits a candidate gets in one round, nearest
// seeds first: an avatar within reach of dozens of seeds (a plain
// picture a list holds in many variants) needs no more to be looked at.
const maxSeedHits = 10

type candidate struct {
	item *Item
	at   time.Time // of its signals
}

// overlap is how far back each round reads removed items again: a
// change committed late with an earlier time is not missed.
const overlap = time.Minute

// Match matches the candidates of every open operation that watches for
// successors: new candidates (and those with new signals) against all its
// removed items and hash seeds, the others against the items removed and
// the seeds added since the last round. It returns the new matches and
// the new seed hits.
func (w *Watcher) Match(ctx context.Context) (matches, seedHits int, err error) {
	ops, err := w.Operations.ListOperations(ctx)
	if err != nil {
		return 0, 0, err
	}
	for _, op := range ops {
		// A closed operation's matches stay as they are; its index would
		// only take memory.
		if op.Successors == takedown.SuccessorsOff || op.Status != takedown.OperationOpen {
			continue
		}
		n, h, err := w.matchOperation(ctx, op)
		matches, seedHits = matches+n, seedHits+h
		if err != nil {
			return matches, seedHits, fmt.Errorf("operation %s: %w", op.Slug, err)
		}
	}
	return matches, seedHits, nil
}

func (w *Watcher) matchOperation(ctx context.Context, op *takedown.Operation) (matches, seedHits int, err error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.ops == nil {
		w.ops = map[int64]*operationIndex{}
	}
	x := w.ops[op.ID]
	fresh := map[int64]bool{}
	if x == nil {
		// A process's first round reads every candidate, and matches
		// them all against every removed item.
		x = &operationIndex{removed: NewIndex(), removedIDs: map[int64]bool{}, candidates: map[int64]*candidate{}, seedIDs: map[int64]bool{}}
		if err := w.eachInput(ctx, takedown.MatchInputFilter{OperationID: op.ID}, func(r *takedown.SignalRecord) {
			x.candidates[r.ItemID] = &candidate{item: FromSignals(r), at: r.At}
			fresh[r.ItemID] = true
		}); err != nil {
			return 0, 0, err
		}
		w.ops[op.ID] = x
	}
	start := w.now()
	// 1. Removed items since the last round.
	delta := NewIndex()
	var newest time.Time
	changedAfter := time.Time{}
	if !x.watermark.IsZero() {
		changedAfter = x.watermark.Add(-overlap)
	}
	if err := w.eachInput(ctx, takedown.MatchInputFilter{OperationID: op.ID, Removed: true, ChangedAfter: changedAfter}, func(r *takedown.SignalRecord) {
		if r.Since.After(newest) {
			newest = r.Since
		}
		delete(x.candidates, r.ItemID)
		delete(fresh, r.ItemID)
		if x.removedIDs[r.ItemID] {
			return
		}
		it := FromSignals(r)
		x.removed.Add(it)
		x.removedIDs[r.ItemID] = true
		delta.Add(it)
	}); err != nil {
		return 0, 0, err
	}
	if newest.After(x.watermark) {
		x.watermark = newest
	}
	// 2. Candidates with new signals.
	if err := w.eachInput(ctx, takedown.MatchInputFilter{OperationID: op.ID, Unmatched: true}, func(r *takedown.SignalRecord) {
		x.candidates[r.ItemID] = &candidate{item: FromSignals(r), at: r.At}
		fresh[r.ItemID] = true
	}); err != nil {
		return 0, 0, err
	}
	// 3. Score.
	threshold := or(w.Threshold, DefaultThreshold)
	var results []takedown.CandidateMatches
	for id, c := range x.candidates {
		var ms []Match
		switch {
		case fresh[id]:
			ms = x.removed.Match(c.item, threshold)
		case delta.Len() > 0:
			ms = delta.Match(c.item, threshold)
		}
		if !fresh[id] && len(ms) == 0 {
			continue
		}
		r := takedown.CandidateMatches{SuccessorID: id, SignalsAt: c.at}
		for _, m := range Best(ms, BestMargin) {
			pred, _ := strconv.ParseInt(m.Predecessor, 10, 64)
			r.Pairs = append(r.Pairs, takedown.ScoredPair{PredecessorID: pred, Score: m.Score, Signals: m.Signals})
		}
		results = append(results, r)
	}
	// 4. Hash seeds. Their hits are recorded before the matches: a
	// failure leaves the candidates unmatched, and the next round
	// compares them again (a hit recorded twice is kept once).
	if seedHits, err = w.matchSeeds(ctx, op, x, fresh, start); err != nil {
		return 0, seedHits, err
	}
	for len(results) > 0 {
		n := min(len(results), 500)
		k, err := w.Store.RecordMatches(ctx, op.ID, start, results[:n])
		matches += k
		if err != nil {
			return matches, seedHits, err
		}
		results = results[n:]
	}
	return matches, seedHits, nil
}

// seedHash is a hash seed as the matcher reads it.
type seedHash struct {
	id      int64
	hash    pdq.Hash
	quality int
}

// matchSeeds reads the operation's seeds added since the last round and
// compares the candidates' avatars with them: fresh candidates with every
// seed, the others with the new seeds only. The new seeds join the
// operation's index once the hits are recorded, so that a failed round
// compares them again.
func (w *Watcher) matchSeeds(ctx context.Context, op *takedown.Operation, x *operationIndex, fresh map[int64]bool, at time.Time) (int, error) {
	var added []seedHash
	newest := x.seedAfter
	for after := max(x.seedAfter-seedOverlap, 0); ; {
		page, err := w.Store.ListHashSeeds(ctx, op.ID, after, takedown.MaxPageSize)
		if err != nil {
			return 0, err
		}
		for _, s := range page {
			newest = max(newest, s.ID)
			if x.seedIDs[s.ID] {
				continue
			}
			h, err := pdq.Parse(s.Value)
			if err != nil {
				return 0, fmt.Errorf("hash seed %d: %w", s.ID, err)
			}
			// A list without qualities (a plain hex list) is taken on
			// its owner's word; a hash the list itself gives a low
			// quality is not trusted, as a candidate's is not.
			quality := s.Quality
			if quality < 0 {
				quality = pdq.MinQuality
			}
			added = append(added, seedHash{s.ID, h, quality})
		}
		if len(page) < takedown.MaxPageSize {
			break
		}
		after = page[len(page)-1].ID
	}
	queryAdded := scanSeeds(added)
	if len(added) > seedScan {
		ax := pdq.NewIndex()
		for _, s := range added {
			ax.Add(s.id, s.hash, s.quality)
		}
		queryAdded = func(h pdq.Hash) []pdq.Match { return ax.Query(h, SeedRadius) }
	}
	var hits []takedown.SeedHit
	if len(added) > 0 || x.seeds != nil {
		for id, c := range x.candidates {
			// Only an avatar whose hash says enough (quality
			// pdq.MinQuality or more), as for matching removed items.
			if !c.item.hasPDQ {
				continue
			}
			ms := queryAdded(c.item.avatar)
			if fresh[id] && x.seeds != nil {
				ms = append(ms, x.seeds.Query(c.item.avatar, SeedRadius)...)
			}
			slices.SortFunc(ms, func(a, b pdq.Match) int { return cmp.Or(cmp.Compare(a.Distance, b.Distance), cmp.Compare(a.ID, b.ID)) })
			for _, m := range ms[:min(len(ms), maxSeedHits)] {
				hits = append(hits, takedown.SeedHit{ItemID: id, SeedID: m.ID, Distance: m.Distance, At: at})
			}
		}
	}
	// In item order, nearest seed first: the round's events read so.
	slices.SortFunc(hits, func(a, b takedown.SeedHit) int {
		return cmp.Or(cmp.Compare(a.ItemID, b.ItemID), cmp.Compare(a.Distance, b.Distance), cmp.Compare(a.SeedID, b.SeedID))
	})
	found := 0
	for len(hits) > 0 {
		n := min(len(hits), 500)
		k, err := w.Store.RecordSeedHits(ctx, hits[:n])
		found += k
		if err != nil {
			return found, err
		}
		hits = hits[n:]
	}
	if len(added) > 0 && x.seeds == nil {
		x.seeds = pdq.NewIndex()
	}
	for _, s := range added {
		x.seeds.Add(s.id, s.hash, s.quality)
		x.seedIDs[s.id] = true
	}
	x.seedAfter = newest
	return found, nil
}

// scanSeeds compares a hash with each of a few seeds in turn, as an index
// of them would: seeds under pdq.MinQuality are left out.
func scanSeeds(seeds []seedHash) func(pdq.Hash) []pdq.Match {
	return func(h pdq.Hash) []pdq.Match {
		var out []pdq.Match
		for _, s := range seeds {
			if d := pdq.Distance(h, s.hash); s.quality >= pdq.MinQuality && d <= SeedRadius {
				out = append(out, pdq.Match{ID: s.id, Hash: s.hash, Distance: d})
			}
		}
		return out
	}
}

// eachInput pages through the match inputs f selects.
func (w *Watcher) eachInput(ctx context.Context, f takedown.MatchInputFilter, each func(*takedown.SignalRecord)) error {
	f.Limit = 1000
	for {
		page, err := w.Store.MatchInputs(ctx, f)
		if err != nil {
			return err
		}
		for _, r := range page {
			each(r)
		}
		if len(page) < f.Limit {
			return nil
		}
		f.AfterID = page[len(page)-1].ItemID
	}
}
