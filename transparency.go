package takedown

import (
	"context"
	"slices"
	"strings"
	"time"
)

// Transparency is the year's figures a competent authority publishes
// under Article 8 of Regulation (EU) 2021/784: the removal orders it
// issued and what the providers did with them, and, beside the
// Regulation, the voluntary referrals and their answers. Every figure
// counts items (URLs) unless its name says orders or referrals; an item
// is counted by its answer as recorded when the report was made.
type Transparency struct {
	Year int `json:"year"`
	// Authority restricts the removal orders to those this issuing
	// authority issued; "" for all.
	Authority string    `json:"authority,omitempty"`
	AsOf      time.Time `json:"as_of"`
	// Preliminary: the year is not over, or answers are still pending.
	Preliminary bool `json:"preliminary"`

	RemovalOrders TransparencyOrders    `json:"removal_orders"`
	Referrals     TransparencyReferrals `json:"referrals"`
	// NotRecorded names what Article 8 asks for that takedown keeps no
	// record of: those figures come from the authority's case files.
	NotRecorded []string `json:"not_recorded"`
}

// TransparencyOrders are the removal orders issued in the year (by the
// date of issue; drafts never sent are not issued).
type TransparencyOrders struct {
	Orders int `json:"orders"`
	Items  int `json:"items"`
	// Outcomes counts the items by the provider's answer: removed,
	// disabled (access disabled in the EU), rejected, not_found,
	// need_info, no_answer and pending.
	Outcomes map[Outcome]int `json:"outcomes"`
	// WithinHour counts the items removed or disabled within one hour of
	// the order's receipt, by the time the provider says it acted (else
	// the time of its answer, which it acted no later than).
	WithinHour int `json:"within_hour"`
	// CannotComply counts the items for which the provider said it could
	// not comply (Article 3(7) and 3(8)), by ground.
	CannotComply map[string]int `json:"cannot_comply"`
	// Overdue counts the orders escalated because items were unanswered
	// past the hour.
	Overdue int `json:"overdue"`
	// Reinstated counts the items confirmed offline after an order that
	// were later seen online again (restored, e.g. after a complaint).
	Reinstated int `json:"reinstated"`
	// ByProvider is the same per provider, by provider code.
	ByProvider []TransparencyProvider `json:"by_provider"`
}

// TransparencyProvider is one provider's share of the year's orders or
// referrals.
type TransparencyProvider struct {
	Provider string          `json:"provider"`
	Orders   int             `json:"orders"` // orders or referrals
	Items    int             `json:"items"`
	Outcomes map[Outcome]int `json:"outcomes"`
}

// TransparencyReferrals are the voluntary referrals sent in the year (by
// the date they were made; drafts never sent are left out).
type TransparencyReferrals struct {
	Referrals  int                    `json:"referrals"`
	Items      int                    `json:"items"`
	Outcomes   map[Outcome]int        `json:"outcomes"`
	Reinstated int                    `json:"reinstated"`
	ByProvider []TransparencyProvider `json:"by_provider"`
}

// TransparencyNotRecorded are the figures of Article 8(1) takedown keeps
// no record of.
var TransparencyNotRecorded = []string{
	"removal orders scrutinised under Article 4 and their outcome",
	"decisions under Article 5(4), (6) and (7) on specific measures",
	"administrative or judicial review of orders and decisions, and its outcome",
	"penalties imposed under Article 18",
}

// TransparencySource is what a transparency report reads.
type TransparencySource interface {
	ListReferrals(ctx context.Context, f ReferralFilter) ([]*Referral, error)
	FindReferral(ctx context.Context, id int64) (*Referral, error)
	ListItems(ctx context.Context, f ItemFilter) (*ItemPage, error)
}

// TransparencyReport computes the year's figures as of now; authority,
// when set, keeps the removal orders of that issuing authority only
// (compared as written in the orders).
func TransparencyReport(ctx context.Context, st TransparencySource, year int, authority string, now time.Time) (*Transparency, error) {
	if year < 2000 || year > 9999 {
		return nil, Errorf(EINVALID, "year %d: want a year such as %d", year, now.Year())
	}
	from := time.Date(year, 1, 1, 0, 0, 0, 0, time.UTC)
	until := from.AddDate(1, 0, 0)
	t := &Transparency{Year: year, Authority: authority, AsOf: now.UTC().Truncate(time.Second), Preliminary: !now.After(until),
		NotRecorded: TransparencyNotRecorded}
	t.RemovalOrders.Outcomes, t.RemovalOrders.CannotComply = map[Outcome]int{}, map[string]int{}
	t.Referrals.Outcomes = map[Outcome]int{}
	orders, referrals := map[string]*TransparencyProvider{}, map[string]*TransparencyProvider{}
	reinstated := map[int64]map[int64]bool{} // operation -> its reinstated items
	list, err := st.ListReferrals(ctx, ReferralFilter{})
	if err != nil {
		return nil, err
	}
	for _, summary := range list {
		if summary.Status == ReferralDraft {
			continue
		}
		at := summary.CreatedAt
		if summary.LegalBasis == BasisRemovalOrder && summary.Order != nil {
			at = summary.Order.IssuedAt
			if authority != "" && summary.Order.IssuingAuthority != authority {
				continue
			}
		} else if authority != "" && summary.LegalBasis == BasisRemovalOrder {
			continue
		}
		if at.Before(from) || !at.Before(until) {
			continue
		}
		r, err := st.FindReferral(ctx, summary.ID)
		if err != nil {
			return nil, err
		}
		byProvider, outcomes := referrals, t.Referrals.Outcomes
		if r.LegalBasis == BasisRemovalOrder {
			byProvider, outcomes = orders, t.RemovalOrders.Outcomes
			t.RemovalOrders.Orders++
			t.RemovalOrders.Items += len(r.Items)
			if r.EscalatedAt != nil {
				t.RemovalOrders.Overdue++
			}
		} else {
			t.Referrals.Referrals++
			t.Referrals.Items += len(r.Items)
		}
		p := byProvider[r.Provider]
		if p == nil {
			p = &TransparencyProvider{Provider: r.Provider, Outcomes: map[Outcome]int{}}
			byProvider[r.Provider] = p
		}
		p.Orders++
		p.Items += len(r.Items)
		back, ok := reinstated[r.OperationID]
		if !ok {
			if back, err = reinstatedItems(ctx, st, r.OperationID); err != nil {
				return nil, err
			}
			reinstated[r.OperationID] = back
		}
		for _, it := range r.Items {
			if back[it.ItemID] {
				if r.LegalBasis == BasisRemovalOrder {
					t.RemovalOrders.Reinstated++
				} else {
					t.Referrals.Reinstated++
				}
			}
			outcomes[it.Outcome]++
			p.Outcomes[it.Outcome]++
			if it.Outcome == OutcomePending || it.Outcome == OutcomeNeedInfo {
				t.Preliminary = true
			}
			if r.LegalBasis != BasisRemovalOrder {
				continue
			}
			// When it acted: as the provider says, else (no feedback) no
			// later than its answer.
			acted := it.AnsweredAt
			if it.Feedback != nil {
				if it.Feedback.CannotComply != "" {
					t.RemovalOrders.CannotComply[it.Feedback.CannotComply]++
				}
				if it.Feedback.ActedAt != nil {
					acted = it.Feedback.ActedAt
				}
			}
			removed := it.Outcome == OutcomeRemoved || it.Outcome == OutcomeDisabled
			if removed && r.ReceivedAt != nil && acted != nil && !acted.After(r.ReceivedAt.Add(time.Hour)) {
				t.RemovalOrders.WithinHour++
			}
		}
	}
	t.RemovalOrders.ByProvider = providerFigures(orders)
	t.Referrals.ByProvider = providerFigures(referrals)
	return t, nil
}

// reinstatedItems returns the operation's items reinstated after removal.
func reinstatedItems(ctx context.Context, st TransparencySource, operationID int64) (map[int64]bool, error) {
	out := map[int64]bool{}
	err := EachItem(ctx, st, ItemFilter{OperationID: operationID, Status: ItemReinstated}, func(it *Item) error {
		out[it.ID] = true
		return nil
	})
	return out, err
}

func providerFigures(m map[string]*TransparencyProvider) []TransparencyProvider {
	out := make([]TransparencyProvider, 0, len(m))
	for _, p := range m {
		out = append(out, *p)
	}
	slices.SortFunc(out, func(a, b TransparencyProvider) int { return strings.Compare(a.Provider, b.Provider) })
	return out
}
