package resurgence

import (
	"cmp"
	"slices"
	"sync"

	"github.com/takedown-project/takedown/internal/pdq"
	"github.com/takedown-project/takedown/internal/signals"
)

// Index holds an operation's removed items for matching new ones: a new
// item is scored only against the removed items that share something
// with it (an avatar within the PDQ radius, the same handle core, or word
// pairs of their posts), not against all of them. Since a match needs
// what the item says (see Score), a successor shares its predecessor's
// posts or description; the avatar and handle lookups find the rest of
// what an analyst should see. It is safe for concurrent use.
type Index struct {
	mu      sync.RWMutex
	items   []*Item
	avatars *pdq.Index
	handles map[string][]int32
	pairs   map[uint64][]int32
	desc    map[uint16][]int32 // the description fingerprint's top 16 bits: exact-band lookup
}

// NewIndex returns an empty index.
func NewIndex() *Index {
	return &Index{avatars: pdq.NewIndex(), handles: map[string][]int32{}, pairs: map[uint64][]int32{}, desc: map[uint16][]int32{}}
}

// maxPosting is how many removed items a word pair may name before it
// says nothing (a phrase everyone uses): longer lists are not read.
const maxPosting = 2000

// minSharedPairs is how many word pairs of its posts a candidate shares
// with a removed item for the pair to be scored.
const minSharedPairs = 3

// Add puts a removed item in the index.
func (x *Index) Add(it *Item) {
	x.mu.Lock()
	defer x.mu.Unlock()
	pos := int32(len(x.items))
	x.items = append(x.items, it)
	if it.hasPDQ {
		x.avatars.Add(int64(pos), it.avatar, pdq.MinQuality)
	}
	if it.Handle != "" {
		core := signals.HandleCore(it.Handle)
		x.handles[core] = append(x.handles[core], pos)
	}
	for _, p := range it.posts {
		x.pairs[p] = append(x.pairs[p], pos)
	}
	if it.desc != 0 {
		band := uint16(uint64(it.desc) >> 48)
		x.desc[band] = append(x.desc[band], pos)
	}
}

// Len is the number of removed items.
func (x *Index) Len() int {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return len(x.items)
}

// Match scores a candidate against the removed items it shares
// something with and returns the pairs at or above threshold, best first.
func (x *Index) Match(c *Item, threshold float64) []Match {
	x.mu.RLock()
	defer x.mu.RUnlock()
	cand := map[int32]int{} // position -> shared word pairs
	for _, p := range c.posts {
		list := x.pairs[p]
		if len(list) > maxPosting {
			continue
		}
		for _, pos := range list {
			cand[pos]++
		}
	}
	for pos, n := range cand {
		if n < minSharedPairs {
			delete(cand, pos)
		}
	}
	if c.hasPDQ {
		for _, m := range x.avatars.Query(c.avatar, pdq.DefaultRadius) {
			cand[int32(m.ID)] += 0
		}
	}
	if c.Handle != "" {
		for _, pos := range x.handles[signals.HandleCore(c.Handle)] {
			cand[pos] += 0
		}
	}
	if c.desc != 0 {
		for _, pos := range x.desc[uint16(uint64(c.desc)>>48)] {
			cand[pos] += 0
		}
	}
	var out []Match
	for pos := range cand {
		r := x.items[pos]
		if r.ID == c.ID {
			continue
		}
		if s, sig := Score(r, c); s >= threshold {
			out = append(out, Match{Candidate: c.ID, Predecessor: r.ID, Score: s, Signals: sig})
		}
	}
	slices.SortFunc(out, func(a, b Match) int {
		return cmp.Or(cmp.Compare(b.Score, a.Score), cmp.Compare(a.Predecessor, b.Predecessor))
	})
	return out
}
