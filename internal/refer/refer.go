// Package refer puts an operation's ready items into referral batches: it
// attributes items to their providers, leaves out what holds cover and
// what is referred already, and groups the rest per provider and legal
// basis into batches of bounded size, by rule (enough items, or items
// waiting long enough) or all at once.
package refer

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/takedown-project/takedown"
	"github.com/takedown-project/takedown/internal/attribute"
)

// Attributor says which provider an item goes to (internal/attribute).
type Attributor interface {
	Attribute(ctx context.Context, it *takedown.Item) takedown.ItemAttribution
}

// Store is what planning needs of the storage backend.
type Store interface {
	ReferableItems(ctx context.Context, operationID, afterID int64, limit int) ([]*takedown.Item, error)
	SetAttributions(ctx context.Context, as []takedown.ItemAttribution) error
	CreateReferral(ctx context.Context, r *takedown.Referral, itemIDs []int64) ([]int64, error)
}

// Rule shapes the batches.
type Rule struct {
	LegalBasis takedown.LegalBasis
	// Order is the removal order every batch carries (LegalBasis
	// removal_order); each batch gets its own copy.
	Order *takedown.RemovalOrder
	// MaxItems bounds a batch; 0 means DefaultMaxItems.
	MaxItems int
	// Providers limits planning to these providers; empty means all.
	Providers []string
	// A provider's ready items are batched only when there are MinItems
	// of them, or the oldest has waited MaxWait since it was first
	// submitted; zero values batch whatever is ready.
	MinItems int
	MaxWait  time.Duration
	// Only, when set, limits planning to these items (the successors an
	// analyst just confirmed, say); the rest wait for their own round.
	Only map[int64]bool
}

// DefaultMaxItems keeps a batch readable by a person at the provider and
// small enough for any API.
const DefaultMaxItems = 500

// Result is what a round of planning did.
type Result struct {
	Referrals []*takedown.Referral `json:"referrals"`
	// Held are items left out because a hold covered them when their
	// batch was made.
	Held []int64 `json:"held"`
	// Attributed counts items attributed in this round; Unattributed
	// those no provider could be found for (the queue to resolve by hand).
	Attributed   int `json:"attributed"`
	Unattributed int `json:"unattributed"`
	// Waiting counts items of providers whose batch the rule holds back.
	Waiting int `json:"waiting"`
}

// pageSize is how many items are read at once.
const pageSize = 2000

// Plan makes the referral batches of an operation's ready items.
func Plan(ctx context.Context, st Store, attr Attributor, operationID int64, rule Rule, now time.Time) (*Result, error) {
	if rule.MaxItems <= 0 {
		rule.MaxItems = DefaultMaxItems
	}
	probe := takedown.Referral{LegalBasis: rule.LegalBasis, Order: rule.Order}
	if err := probe.Validate(); err != nil {
		return nil, err
	}
	res := &Result{}
	byProvider := map[string][]*takedown.Item{}
	var order []string
	after := int64(0)
	for {
		items, err := st.ReferableItems(ctx, operationID, after, pageSize)
		if err != nil {
			return nil, err
		}
		if len(items) == 0 {
			break
		}
		after = items[len(items)-1].ID
		var fresh []takedown.ItemAttribution
		for _, it := range items {
			if rule.Only != nil && !rule.Only[it.ID] {
				continue
			}
			// Items without a provider are attributed again each round:
			// a provider added to the directory since, or a domain it
			// now claims, takes them out of the unattributed queue. An
			// attribution made (or set by hand) stays.
			if it.Provider == "" && attr != nil {
				a := attr.Attribute(ctx, it)
				a.ItemID = it.ID
				if a.Provider != it.Provider || a.Via != it.Attribution {
					fresh = append(fresh, a)
					if a.Provider != "" {
						// Why none was found is recorded too, but
						// such an item counts as unattributed.
						res.Attributed++
					}
				}
				it.Provider, it.Attribution = a.Provider, a.Via
			}
			if it.Provider == "" {
				res.Unattributed++
				continue
			}
			if len(rule.Providers) > 0 && !slices.Contains(rule.Providers, it.Provider) {
				continue
			}
			if _, ok := byProvider[it.Provider]; !ok {
				order = append(order, it.Provider)
			}
			byProvider[it.Provider] = append(byProvider[it.Provider], it)
		}
		if len(fresh) > 0 {
			if err := st.SetAttributions(ctx, fresh); err != nil {
				return nil, fmt.Errorf("record attributions: %w", err)
			}
		}
	}
	slices.Sort(order)
	for _, p := range order {
		items := byProvider[p]
		if !ready(items, rule, now) {
			res.Waiting += len(items)
			continue
		}
		for chunk := range slices.Chunk(items, rule.MaxItems) {
			ids := make([]int64, len(chunk))
			for i, it := range chunk {
				ids[i] = it.ID
			}
			r := &takedown.Referral{OperationID: operationID, Provider: p, LegalBasis: rule.LegalBasis}
			if rule.Order != nil {
				o := *rule.Order
				if o.RestrictedUntil != nil {
					until := *o.RestrictedUntil
					o.RestrictedUntil = &until
				}
				r.Order = &o
			}
			held, err := st.CreateReferral(ctx, r, ids)
			if takedown.ErrorCode(err) == takedown.EINVALID {
				// Every item of the chunk got held since it was read:
				// nothing of it may go.
				res.Held = append(res.Held, ids...)
				continue
			}
			res.Held = append(res.Held, held...)
			if err != nil {
				return res, fmt.Errorf("refer %d items to %s: %w", len(ids), p, err)
			}
			res.Referrals = append(res.Referrals, r)
		}
	}
	return res, nil
}

// ready says whether a provider's items make a batch under the rule.
func ready(items []*takedown.Item, rule Rule, now time.Time) bool {
	if rule.MinItems == 0 && rule.MaxWait == 0 {
		return true
	}
	if rule.MinItems > 0 && len(items) >= rule.MinItems {
		return true
	}
	if rule.MaxWait > 0 {
		for _, it := range items {
			if now.Sub(it.FirstSubmittedAt) >= rule.MaxWait {
				return true
			}
		}
	}
	return false
}

// DirectoryStore is a Store that also lists the provider directory.
type DirectoryStore interface {
	Store
	ListProviders(ctx context.Context) ([]*takedown.Provider, error)
}

// Planner returns a function that plans an operation's batches with an
// attribution built afresh from the current provider directory, so that a
// provider added or changed during the day counts at the next round.
func Planner(st DirectoryStore, opts attribute.Options, now func() time.Time) func(ctx context.Context, operationID int64, rule Rule) (*Result, error) {
	return func(ctx context.Context, operationID int64, rule Rule) (*Result, error) {
		providers, err := st.ListProviders(ctx)
		if err != nil {
			return nil, err
		}
		attr, err := attribute.New(providers, opts)
		if err != nil {
			return nil, err
		}
		defer attr.Close()
		return Plan(ctx, st, attr, operationID, rule, now())
	}
}
