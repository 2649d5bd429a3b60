package takedown

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Hash seeds: PDQ hashes of known propaganda images (logos, avatars,
// posters) that an agency brings into an operation from a hash list, a
// platform's or a partner's. A network that comes back re-uses its
// images, so a candidate whose avatar is within the PDQ match radius of a
// seed is flagged (a seed hit) even when it resembles no removed item the
// operation knows: the list's owner has seen the network elsewhere.

// HashSeed is one PDQ hash seeded into an operation.
type HashSeed struct {
	ID          int64  `json:"id"`
	OperationID int64  `json:"-"`
	Agency      string `json:"agency"` // the code of the agency that brought it
	// Value is the hash, 64 lower-case hex digits.
	Value string `json:"value"`
	// Quality is the PDQ quality 0-100 the list gives, -1 when it gives
	// none (a plain hex list).
	Quality int       `json:"quality"`
	Labels  []string  `json:"labels,omitempty"`
	Source  string    `json:"source,omitempty"` // the list's source column, or the file it came from
	URL     string    `json:"url,omitempty"`
	AddedAt time.Time `json:"added_at"`
}

// Limits of what a seed keeps of its list's entry: a label or a source is
// a word or a name, not a text, and a list line is bounded, so a longer
// one is a mistake to report rather than keep.
const (
	MaxSeedLabels      = 20
	MaxSeedLabelLength = 100
	MaxSeedSource      = 200
	MaxSeedURL         = MaxRawInputLength
)

// Clean puts a seed in its stored form: the hash in lower case, labels,
// source and URL trimmed of spaces, empty labels dropped.
func (s *HashSeed) Clean() {
	s.Value = strings.ToLower(strings.TrimSpace(s.Value))
	s.Source, s.URL = strings.TrimSpace(s.Source), strings.TrimSpace(s.URL)
	labels := s.Labels[:0:0]
	for _, l := range s.Labels {
		if l = strings.TrimSpace(l); l != "" {
			labels = append(labels, l)
		}
	}
	s.Labels = labels
}

// Validate reports an EINVALID error for a seed that cannot be stored.
// The message names the seed by its hash; CleanHashSeeds names its
// position in the batch too.
func (s *HashSeed) Validate() error {
	if len(s.Value) != 64 || strings.IndexFunc(s.Value, func(r rune) bool { return !('0' <= r && r <= '9' || 'a' <= r && r <= 'f') }) >= 0 {
		return Errorf(EINVALID, "hash %q: want 64 hex digits", truncateUTF8(s.Value, 80))
	}
	switch {
	case s.Quality < -1 || s.Quality > 100:
		return Errorf(EINVALID, "hash %s: quality %d: want 0 to 100, or -1 for unknown", s.Value, s.Quality)
	case len(s.Labels) > MaxSeedLabels:
		return Errorf(EINVALID, "hash %s: %d labels, at most %d", s.Value, len(s.Labels), MaxSeedLabels)
	case utf8.RuneCountInString(s.Source) > MaxSeedSource:
		return Errorf(EINVALID, "hash %s: the source is longer than %d characters", s.Value, MaxSeedSource)
	case len(s.URL) > MaxSeedURL:
		return Errorf(EINVALID, "hash %s: the URL is longer than %d bytes", s.Value, MaxSeedURL)
	case !utf8.ValidString(s.Source) || !utf8.ValidString(s.URL) || strings.ContainsRune(s.Source+s.URL, 0):
		return Errorf(EINVALID, "hash %s: the source or URL is not valid UTF-8 text", s.Value)
	}
	for _, l := range s.Labels {
		if utf8.RuneCountInString(l) > MaxSeedLabelLength {
			return Errorf(EINVALID, "hash %s: label %q is longer than %d characters", s.Value, truncateUTF8(l, 40), MaxSeedLabelLength)
		}
		if !utf8.ValidString(l) || strings.ContainsRune(l, 0) {
			return Errorf(EINVALID, "hash %s: a label is not valid UTF-8 text", s.Value)
		}
	}
	return nil
}

// CleanHashSeeds cleans and validates a batch of seeds as a store takes
// it; the error names the first bad seed by its position (1-based) and
// its hash, so that a caller can find it in its list.
func CleanHashSeeds(seeds []HashSeed) error {
	for i := range seeds {
		seeds[i].Clean()
		if err := seeds[i].Validate(); err != nil {
			return Errorf(EINVALID, "hash seed %d: %s", i+1, ErrorMessage(err))
		}
	}
	return nil
}

// HashSeedSources are the distinct sources of a batch of seeds, sorted,
// as its audit event records them.
func HashSeedSources(seeds []HashSeed) []string {
	out := []string{}
	for _, s := range seeds {
		if s.Source != "" {
			out = append(out, s.Source)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// SeedHit is an item of an operation whose avatar matched one of its
// seeds.
type SeedHit struct {
	ID     int64 `json:"id"`
	ItemID int64 `json:"item_id"`
	SeedID int64 `json:"seed_id"`
	// Distance is the bits the avatar's PDQ hash differs from the seed's.
	Distance int       `json:"distance"`
	At       time.Time `json:"at"`
	// The seed and the item as a list shows them, filled when read.
	Seed HashSeed  `json:"seed"`
	Item MatchItem `json:"item"`
}

// SeedService keeps an operation's hash seeds and the items that matched
// them.
type SeedService interface {
	// AddHashSeeds adds seeds to an operation in the name of an agency,
	// in one transaction: a hash the operation has as a seed already is
	// kept once, as first added. It returns how many seeds were new.
	// Returns EINVALID naming the first bad seed (and adds none),
	// ENOTFOUND for an unknown operation, ECONFLICT for an operation
	// that is not open, EINVALID for an agency that does not take part
	// in it.
	AddHashSeeds(ctx context.Context, operationID int64, agencyID int64, seeds []HashSeed) (added int, err error)
	// ListHashSeeds returns up to limit seeds of an operation with an ID
	// above afterID, in ID order (seeds are only ever added: a reader
	// keeps its place by ID).
	ListHashSeeds(ctx context.Context, operationID, afterID int64, limit int) ([]HashSeed, error)
	// RecordSeedHits records hits: one for an item and a seed is kept
	// once, as first recorded. It returns how many were new. Returns
	// ENOTFOUND for an unknown item or seed, EINVALID for an item and a
	// seed of different operations.
	RecordSeedHits(ctx context.Context, hits []SeedHit) (int, error)
	// ListSeedHits returns up to limit hits of an operation with an ID
	// above afterID, in ID order, with their seed and item.
	ListSeedHits(ctx context.Context, operationID int64, afterID int64, limit int) ([]SeedHit, error)
}

// Validate reports an EINVALID error for a hit that cannot be stored.
func (h *SeedHit) Validate() error {
	switch {
	case h.ItemID <= 0 || h.SeedID <= 0:
		return Errorf(EINVALID, "a seed hit needs its item and its seed")
	case h.Distance < 0 || h.Distance > 256:
		return Errorf(EINVALID, "seed hit of item %d: distance %d: want 0 to 256 bits", h.ItemID, h.Distance)
	}
	return nil
}

// maxAuditSources bounds the sources an event names: a pdq-photo-hasher
// list gives every line its own file name, and the chain needs to say
// where a batch came from, not repeat it.
const maxAuditSources = 20

// AuditHashSeeds records one batch of seeds brought into an operation:
// who, from which lists, and what it added.
func AuditHashSeeds(slug, agency string, sources []string, given, added int) AuditRecord {
	d := map[string]any{"agency": agency, "sources": sources, "seeds": given, "new": added, "known": given - added}
	if len(sources) > maxAuditSources {
		d["sources"], d["more_sources"] = sources[:maxAuditSources], len(sources)-maxAuditSources
	}
	return AuditRecord{Action: "hash_seeds.add", Subject: "operation:" + slug, Operation: slug, Details: d}
}

// AuditSeedHit records an item whose avatar matched a seed: as a match
// found, it is a lead an analyst acts on.
func AuditSeedHit(operation string, h *SeedHit, value string) AuditRecord {
	return AuditRecord{Action: "hash_seeds.hit", Subject: "item:" + strconv.FormatInt(h.ItemID, 10), Operation: operation,
		Details: map[string]any{"seed": h.SeedID, "hash": value, "distance": h.Distance}}
}
