package takedown

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// fakeReferrals is a TransparencySource over referrals in memory.
type fakeReferrals struct {
	refs       []*Referral
	reinstated map[int64][]int64 // operation -> items
}

func (f *fakeReferrals) ListReferrals(_ context.Context, _ ReferralFilter) ([]*Referral, error) {
	out := make([]*Referral, len(f.refs))
	for i, r := range f.refs {
		c := *r
		c.Items = nil // a list carries no items, as the stores'
		out[i] = &c
	}
	return out, nil
}

func (f *fakeReferrals) FindReferral(_ context.Context, id int64) (*Referral, error) {
	for _, r := range f.refs {
		if r.ID == id {
			return r, nil
		}
	}
	return nil, Errorf(ENOTFOUND, "no referral %d", id)
}

func (f *fakeReferrals) ListItems(_ context.Context, fl ItemFilter) (*ItemPage, error) {
	page := &ItemPage{}
	if fl.Status == ItemReinstated {
		for _, id := range f.reinstated[fl.OperationID] {
			page.Items = append(page.Items, &Item{ID: id, Status: ItemReinstated})
		}
	}
	return page, nil
}

// TestTransparencyReport: the year's orders by date of issue (drafts,
// other years and, when asked, other authorities left out), each item
// by its answer, removals within the hour by the time the provider
// acted, cannot-comply grounds, escalations, reinstated items, and
// referrals apart.
func TestTransparencyReport(t *testing.T) {
	day := time.Date(2026, 3, 10, 9, 0, 0, 0, time.UTC)
	at := func(d time.Duration) *time.Time { x := day.Add(d); return &x }
	order := func(id int64, provider, authority string, issued time.Time, items ...ReferralItem) *Referral {
		return &Referral{ID: id, OperationID: 1, Provider: provider, LegalBasis: BasisRemovalOrder, Status: ReferralAnswered, CreatedAt: issued,
			Order: &RemovalOrder{IssuingAuthority: authority, IssuedAt: issued}, ReceivedAt: at(0), Items: items}
	}
	acted := func(o Outcome, d time.Duration) ReferralItem {
		return ReferralItem{Outcome: o, Feedback: &OrderFeedback{ActedAt: at(d), Action: string(o)}}
	}
	escalated := order(2, "bb-host", "Unit A", day, ReferralItem{ItemID: 7, Outcome: OutcomePending, Feedback: &OrderFeedback{CannotComply: "technical"}},
		ReferralItem{ItemID: 8, Outcome: OutcomeRejected, AnswerReason: "satire"},
		ReferralItem{ItemID: 11, Outcome: OutcomeRemoved, AnsweredAt: at(30 * time.Minute)}, // no feedback: by its answer
		ReferralItem{ItemID: 12, Outcome: OutcomeRemoved, AnsweredAt: at(90 * time.Minute)})
	escalated.EscalatedAt = at(2 * time.Hour)
	draft := order(4, "aa-host", "Unit A", day, acted(OutcomeRemoved, time.Minute))
	draft.Status = ReferralDraft
	src := &fakeReferrals{refs: []*Referral{
		order(1, "aa-host", "Unit A", day, ReferralItem{ItemID: 5, Outcome: OutcomeRemoved, Feedback: &OrderFeedback{ActedAt: at(20 * time.Minute)}},
			ReferralItem{ItemID: 6, Outcome: OutcomeDisabled, Feedback: &OrderFeedback{ActedAt: at(2 * time.Hour)}}),
		escalated,
		order(3, "aa-host", "Unit A", time.Date(2025, 12, 31, 23, 59, 0, 0, time.UTC), acted(OutcomeRemoved, time.Minute)),
		draft,
		order(5, "aa-host", "Unit B", day.AddDate(0, 6, 0), acted(OutcomeRemoved, time.Minute)),
		{ID: 6, OperationID: 1, Provider: "aa-host", LegalBasis: BasisReferral, Status: ReferralAnswered, CreatedAt: day,
			Items: []ReferralItem{{ItemID: 9, Outcome: OutcomeRemoved}, {ItemID: 10, Outcome: OutcomeNoAnswer}}},
	}, reinstated: map[int64][]int64{1: {5, 9, 99}}}
	now := time.Date(2027, 1, 15, 0, 0, 0, 0, time.UTC)

	got, err := TransparencyReport(context.Background(), src, 2026, "Unit A", now)
	if err != nil {
		t.Fatal(err)
	}
	want := &Transparency{Year: 2026, Authority: "Unit A", AsOf: now, Preliminary: true, NotRecorded: TransparencyNotRecorded,
		RemovalOrders: TransparencyOrders{Orders: 2, Items: 6, WithinHour: 2, Overdue: 1, Reinstated: 1,
			Outcomes:     map[Outcome]int{OutcomeRemoved: 3, OutcomeDisabled: 1, OutcomePending: 1, OutcomeRejected: 1},
			CannotComply: map[string]int{"technical": 1},
			ByProvider: []TransparencyProvider{
				{Provider: "aa-host", Orders: 1, Items: 2, Outcomes: map[Outcome]int{OutcomeRemoved: 1, OutcomeDisabled: 1}},
				{Provider: "bb-host", Orders: 1, Items: 4, Outcomes: map[Outcome]int{OutcomePending: 1, OutcomeRejected: 1, OutcomeRemoved: 2}},
			}},
		Referrals: TransparencyReferrals{Referrals: 1, Items: 2, Reinstated: 1, Outcomes: map[Outcome]int{OutcomeRemoved: 1, OutcomeNoAnswer: 1},
			ByProvider: []TransparencyProvider{{Provider: "aa-host", Orders: 1, Items: 2, Outcomes: map[Outcome]int{OutcomeRemoved: 1, OutcomeNoAnswer: 1}}}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("transparency mismatch (-want +got):\n%s", diff)
	}
	all, err := TransparencyReport(context.Background(), src, 2026, "", now)
	if err != nil {
		t.Fatal(err)
	}
	if all.RemovalOrders.Orders != 3 || all.RemovalOrders.WithinHour != 3 {
		t.Errorf("all authorities: %d orders, %d within the hour; want 3 and 3", all.RemovalOrders.Orders, all.RemovalOrders.WithinHour)
	}
	if _, err := TransparencyReport(context.Background(), src, 26, "", now); ErrorCode(err) != EINVALID {
		t.Errorf("year 26: %v, want EINVALID", err)
	}
}
