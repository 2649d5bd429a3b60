package exchange

import (
	"context"
	"time"

	"github.com/takedown-project/takedown"
)

// Source is what an export reads: the items with their submissions, the
// agencies, and the avatar hashes the resurgence watch computed.
type Source interface {
	takedown.ItemService
	takedown.AgencyService
	takedown.ResurgenceService
}

// Options say what of an operation an export holds.
type Options struct {
	// Filter selects the items (OperationID is set by Collect; Cursor
	// and Limit are its own).
	Filter takedown.ItemFilter
	// Notes keeps the submissions' notes and attributes. They can say
	// more than a recipient outside the agencies should read (an
	// investigation's file number, a source), so they are left out
	// unless asked for.
	Notes bool
}

// Collect calls write for each item of op that opts select, newest
// first, with its submissions and its avatar's PDQ hash when known, and
// returns how many it wrote. It first calls begin with what the export
// is about.
func Collect(ctx context.Context, src Source, op *takedown.Operation, opts Options, begin func(Export) error, write func(ExportItem) error) (int, error) {
	agencies, err := src.ListAgencies(ctx)
	if err != nil {
		return 0, err
	}
	exp := Export{Operation: op, Agencies: map[string]*takedown.Agency{}, Created: time.Now().UTC()}
	for _, a := range agencies {
		for _, code := range op.Agencies {
			if a.Code == code {
				exp.Agencies[code] = a
			}
		}
	}
	hashes, err := avatarHashes(ctx, src, op.ID)
	if err != nil {
		return 0, err
	}
	if err := begin(exp); err != nil {
		return 0, err
	}
	f := opts.Filter
	f.OperationID = op.ID
	n := 0
	err = takedown.EachItem(ctx, src, f, func(it *takedown.Item) error {
		full, err := src.FindItem(ctx, it.ID)
		if err != nil {
			return err
		}
		if !opts.Notes {
			for _, s := range full.Submissions {
				s.Notes, s.Attributes = "", nil
			}
		}
		item := ExportItem{Item: full}
		if h, ok := hashes[it.ID]; ok {
			item.Hashes = []Hash{h}
		}
		if err := write(item); err != nil {
			return err
		}
		n++
		return nil
	})
	return n, err
}

// avatarHashes returns the avatar PDQ hash of each item of the operation
// that has one: removed items and candidates (the signals the matcher
// reads).
func avatarHashes(ctx context.Context, src takedown.ResurgenceService, operationID int64) (map[int64]Hash, error) {
	out := map[int64]Hash{}
	for _, removed := range []bool{true, false} {
		f := takedown.MatchInputFilter{OperationID: operationID, Removed: removed, Limit: takedown.MaxPageSize}
		for {
			recs, err := src.MatchInputs(ctx, f)
			if err != nil {
				return nil, err
			}
			for _, r := range recs {
				if r.AvatarPDQ != "" {
					out[r.ItemID] = Hash{Algorithm: "pdq", Value: r.AvatarPDQ, Quality: r.AvatarQuality}
				}
			}
			if len(recs) < f.Limit {
				break
			}
			f.AfterID = recs[len(recs)-1].ItemID
		}
	}
	return out, nil
}
