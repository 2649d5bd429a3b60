// Package submitplan is the storage-independent half of recording a batch
// of submissions: which identities the batch holds, what each new item
// starts with, and, once a backend has written the batch set-based, the
// outcome of every submission and what each existing item gained. Both
// backends use it, so they cannot disagree on what "merged" means.
package submitplan

import (
	"slices"
	"time"

	"github.com/takedown-project/takedown"
)

// Item is what a batch says of one identity.
type Item struct {
	Identity    string
	First       int // index of the first submission of it in the batch
	Count       int // distinct submissions (by fingerprint)
	From, Until time.Time
	Title       string // first non-empty title
}

// Plan is a batch taken apart.
type Plan struct {
	Subs         []takedown.NewSubmission
	Fingerprints []string
	// Items in identity order: backends create and update items in this
	// order, so concurrent batches lock them in the same order.
	Items []*Item
}

// New plans subs; times are truncated to microseconds, as stored. Returns
// the EINVALID error of the first submission that fails validation.
func New(subs []takedown.NewSubmission) (*Plan, error) {
	for i := range subs {
		if err := subs[i].Validate(); err != nil {
			return nil, err
		}
	}
	p := &Plan{Subs: subs, Fingerprints: make([]string, len(subs))}
	byIdentity := make(map[string]*Item, len(subs))
	seen := make(map[string]bool, len(subs))
	for i := range subs {
		r, s := &subs[i].Item, &subs[i].Submission
		p.Fingerprints[i] = subs[i].Fingerprint()
		at := s.SubmittedAt.UTC().Truncate(time.Microsecond)
		it := byIdentity[r.Identity]
		if it == nil {
			it = &Item{Identity: r.Identity, First: i, From: at, Until: at}
			byIdentity[r.Identity] = it
			p.Items = append(p.Items, it)
		}
		if key := r.Identity + "\x00" + p.Fingerprints[i]; seen[key] {
			continue
		} else {
			seen[key] = true
		}
		it.Count++
		it.From, it.Until = minTime(it.From, at), maxTime(it.Until, at)
		if it.Title == "" {
			it.Title = s.Title
		}
	}
	slices.SortFunc(p.Items, func(a, b *Item) int {
		switch {
		case a.Identity < b.Identity:
			return -1
		case a.Identity > b.Identity:
			return 1
		}
		return 0
	})
	return p, nil
}

// Written is what a backend reports after writing the batch.
type Written struct {
	ItemID   map[string]int64 // identity -> item ID, for every identity of the batch
	NewItems map[string]bool  // identities whose item this batch created
	// Inserted holds the (item ID, fingerprint) pairs whose submission
	// this batch stored.
	Inserted map[Key]bool
	// Status is the status of each item that existed before the batch;
	// Submitted holds the (item ID, agency ID) pairs of those items
	// that the agency had submitted before it. Counts reads them.
	Status    map[int64]takedown.ItemStatus
	Submitted map[[2]int64]bool
}

// Key names a stored submission.
type Key struct {
	ItemID      int64
	Fingerprint string
}

// Gain is what an item that existed before the batch gained from it.
type Gain struct {
	ItemID      int64
	Count       int
	From, Until time.Time
	Title       string
}

// Outcomes returns the result of every submission, in input order, and the
// gains of the items that existed before, in item ID order.
func (p *Plan) Outcomes(w Written) ([]takedown.SubmitResult, []Gain) {
	results := make([]takedown.SubmitResult, len(p.Subs))
	gains := map[int64]*Gain{}
	counted := map[Key]bool{}
	for i := range p.Subs {
		identity := p.Subs[i].Item.Identity
		id := w.ItemID[identity]
		k := Key{id, p.Fingerprints[i]}
		results[i].ItemID = id
		switch {
		case !w.Inserted[k] || counted[k]:
			results[i].Outcome = takedown.SubmitDuplicate
			continue
		case w.NewItems[identity] && p.first(identity) == i:
			results[i].Outcome = takedown.SubmitNewItem
		default:
			results[i].Outcome = takedown.SubmitMerged
		}
		counted[k] = true
		if w.NewItems[identity] {
			continue // created whole from the plan
		}
		s := &p.Subs[i].Submission
		at := s.SubmittedAt.UTC().Truncate(time.Microsecond)
		g := gains[id]
		if g == nil {
			g = &Gain{ItemID: id, From: at, Until: at}
			gains[id] = g
		}
		g.Count++
		g.From, g.Until = minTime(g.From, at), maxTime(g.Until, at)
		if g.Title == "" {
			g.Title = s.Title
		}
	}
	out := make([]Gain, 0, len(gains))
	for _, g := range gains {
		out = append(out, *g)
	}
	slices.SortFunc(out, func(a, b Gain) int { return int(a.ItemID - b.ItemID) })
	return results, out
}

// first returns the index of the first submission of identity.
func (p *Plan) first(identity string) int {
	i, _ := slices.BinarySearchFunc(p.Items, identity, func(it *Item, id string) int {
		switch {
		case it.Identity < id:
			return -1
		case it.Identity > id:
			return 1
		}
		return 0
	})
	return p.Items[i].First
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// AgencyIDs returns the distinct submitting agencies of the batch, in ID
// order: who the audit chain says submitted it.
func (p *Plan) AgencyIDs() []int64 {
	var ids []int64
	for i := range p.Subs {
		ids = append(ids, p.Subs[i].Submission.AgencyID)
	}
	slices.Sort(ids)
	return slices.Compact(ids)
}

// Sources returns the distinct sources of the batch ("import:FILE",
// "api"...), sorted.
func (p *Plan) Sources() []string {
	var out []string
	for i := range p.Subs {
		out = append(out, p.Subs[i].Submission.Source)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// Counts returns what the batch adds to the operation's item counts
// (takedown.BreakdownRow, with Count as the change), given Outcomes'
// results: each new item under its kind, platform and provider (none yet)
// as submitted, and each agency that submitted an item for the first
// time under the item's status. What the batch then changes of existing items (a candidate
// becoming submitted) is the stores' to count, as any other change.
func (p *Plan) Counts(w Written, results []takedown.SubmitResult, agencyCode func(id int64) string) []takedown.BreakdownRow {
	add := map[takedown.BreakdownRow]int{}
	for _, it := range p.Items {
		if !w.NewItems[it.Identity] {
			continue
		}
		r := &p.Subs[it.First].Item
		add[takedown.BreakdownRow{Dimension: "kind", Group: string(r.Kind), Status: takedown.ItemSubmitted}]++
		add[takedown.BreakdownRow{Dimension: "platform", Group: string(r.Platform), Status: takedown.ItemSubmitted}]++
		add[takedown.BreakdownRow{Dimension: "provider", Group: "", Status: takedown.ItemSubmitted}]++
	}
	// results (Outcomes') say which submissions were stored, once each.
	counted := map[[2]int64]bool{}
	for i := range p.Subs {
		if results[i].Outcome == takedown.SubmitDuplicate {
			continue
		}
		pair := [2]int64{results[i].ItemID, p.Subs[i].Submission.AgencyID}
		if counted[pair] || w.Submitted[pair] {
			continue
		}
		counted[pair] = true
		status, existed := w.Status[pair[0]]
		if !existed {
			status = takedown.ItemSubmitted
		}
		add[takedown.BreakdownRow{Dimension: "agency", Group: agencyCode(pair[1]), Status: status}]++
	}
	out := make([]takedown.BreakdownRow, 0, len(add))
	for r, n := range add {
		r.Count = n
		out = append(out, r)
	}
	takedown.SortBreakdown(out)
	return out
}

// Existing returns the IDs of the batch's items that existed before it,
// in identity order: those whose statuses and submitters Counts needs.
func (p *Plan) Existing(w Written) []int64 {
	var ids []int64
	for _, it := range p.Items {
		if id, ok := w.ItemID[it.Identity]; ok && !w.NewItems[it.Identity] {
			ids = append(ids, id)
		}
	}
	return ids
}
