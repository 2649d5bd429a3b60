package pdq

import (
	"cmp"
	"math/bits"
	"slices"
	"sync"
)

// Matching: two PDQ hashes within 31 bits of each other are taken for
// the same picture (the reference's threshold), and hashes of quality
// under 50 are not trusted to say anything.
const (
	DefaultRadius = 31
	MinQuality    = 50
)

// Index answers radius queries over many hashes by multi-index hashing,
// as the PDQ reference's MIH does: the 256 bits are 16 slots of 16 bits,
// and two hashes within r bits agree within r/16 bits on at least one
// slot (if every slot differed by more, the hashes would differ by more
// than r). A query looks up, slot by slot, the few 16-bit values that
// close to its own, and checks the full distance of what it finds. It is
// safe for concurrent use.
type Index struct {
	mu     sync.RWMutex
	hashes []Hash
	ids    []int64
	// slots[s][v] are the hashes whose slot s holds v: their position,
	// and the six slots after s (a sketch that rules out almost every
	// false candidate without reading the hash itself, whose reads were
	// most of a query's time: they miss the caches).
	slots [16][][]entry
}

// entry is one hash in a slot's bucket.
type entry struct {
	pos    int32
	sketch [sketchWords]uint16
}

const sketchWords = 6

// sketchOf is the words of h after slot s that an entry of s keeps.
func sketchOf(h *Hash, s int) (k [sketchWords]uint16) {
	for i := range sketchWords {
		k[i] = h[(s+1+i)%16]
	}
	return k
}

// NewIndex returns an empty index.
func NewIndex() *Index {
	x := &Index{}
	for s := range x.slots {
		x.slots[s] = make([][]entry, 1<<16)
	}
	return x
}

// Len is the number of hashes in the index.
func (x *Index) Len() int {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return len(x.hashes)
}

// Add puts a hash in the index under id, unless its quality is under
// MinQuality; it says whether it did.
func (x *Index) Add(id int64, h Hash, quality int) bool {
	if quality < MinQuality {
		return false
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	pos := int32(len(x.hashes))
	x.hashes = append(x.hashes, h)
	x.ids = append(x.ids, id)
	for s, v := range h {
		x.slots[s][v] = append(x.slots[s][v], entry{pos: pos, sketch: sketchOf(&h, s)})
	}
	return true
}

// Match is a hash of the index near a query.
type Match struct {
	ID       int64
	Hash     Hash
	Distance int
}

// Query returns the hashes within radius bits of h, nearest first (then
// by ID). A radius under 0 is taken as DefaultRadius.
func (x *Index) Query(h Hash, radius int) []Match {
	if radius < 0 {
		radius = DefaultRadius
	}
	x.mu.RLock()
	defer x.mu.RUnlock()
	var out []Match
	consider := func(pos int32) {
		if d := Distance(h, x.hashes[pos]); d <= radius {
			out = append(out, Match{ID: x.ids[pos], Hash: x.hashes[pos], Distance: d})
		}
	}
	perSlot := radius / 16
	if perSlot > 2 {
		// Past two bits a slot, the neighbourhoods are larger than a
		// scan is slow.
		for pos := range x.hashes {
			consider(int32(pos))
		}
	} else {
		// A hash near the query is found on every slot it agrees on:
		// the matches (few) are deduplicated, not the candidates (many;
		// checking one twice costs less than remembering each).
		var seen map[int32]bool
		for s, v := range h {
			k := sketchOf(&h, s)
			for _, nv := range neighbours(v, perSlot) {
				for i := range x.slots[s][nv] {
					e := &x.slots[s][nv][i]
					// The sketch's distance is at most the whole's.
					sd := 0
					for w := range sketchWords {
						sd += bits.OnesCount16(e.sketch[w] ^ k[w])
					}
					if sd > radius {
						continue
					}
					pos := e.pos
					d := Distance(h, x.hashes[pos])
					if d > radius || seen[pos] {
						continue
					}
					if seen == nil {
						seen = map[int32]bool{}
					}
					seen[pos] = true
					out = append(out, Match{ID: x.ids[pos], Hash: x.hashes[pos], Distance: d})
				}
			}
		}
	}
	slices.SortFunc(out, func(a, b Match) int { return cmp.Or(cmp.Compare(a.Distance, b.Distance), cmp.Compare(a.ID, b.ID)) })
	return out
}

// neighbours are the 16-bit values within r bits of v (r at most 2).
func neighbours(v uint16, r int) []uint16 {
	out := []uint16{v}
	if r >= 1 {
		for i := range 16 {
			out = append(out, v^1<<i)
		}
	}
	if r >= 2 {
		for i := range 16 {
			for j := i + 1; j < 16; j++ {
				out = append(out, v^1<<i^1<<j)
			}
		}
	}
	return out
}
