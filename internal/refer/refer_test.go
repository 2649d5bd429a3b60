package refer

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/takedown-project/takedown"
	"github.com/takedown-project/takedown/internal/attribute"
	"github.com/takedown-project/takedown/internal/canon"
	"github.com/takedown-project/takedown/internal/sqlite"
)

var ctx = context.Background()

// t0 is when the first items were submitted.
var t0 = time.Date(2026, 11, 24, 8, 0, 0, 0, time.UTC)

type fixture struct {
	db     *sqlite.DB
	op     *takedown.Operation
	agency *takedown.Agency
}

// setup opens a fresh store with one agency taking part in one operation,
// and providers running Telegram and X.
func setup(t *testing.T) *fixture {
	t.Helper()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "refer.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	f := &fixture{db: db, agency: &takedown.Agency{Code: "nl-iru", Name: "Unit", Country: "NL"}}
	if err := db.CreateAgency(ctx, f.agency); err != nil {
		t.Fatal(err)
	}
	f.op = &takedown.Operation{Slug: "rad-1", Name: "Action day", Status: takedown.OperationOpen, Agencies: []string{"nl-iru"}, Evidence: takedown.EvidenceOff}
	if err := db.CreateOperation(ctx, f.op); err != nil {
		t.Fatal(err)
	}
	f.provider(t, &takedown.Provider{Code: "telegram", Name: "Telegram", Platforms: []takedown.Platform{takedown.PlatformTelegram}})
	f.provider(t, &takedown.Provider{Code: "x-corp", Name: "X", Platforms: []takedown.Platform{takedown.PlatformX}})
	return f
}

func (f *fixture) provider(t *testing.T, p *takedown.Provider) {
	t.Helper()
	if err := f.db.CreateProvider(ctx, p); err != nil {
		t.Fatal(err)
	}
}

// submit submits the URLs, first submitted at `at`, and returns their
// item IDs in order.
func (f *fixture) submit(t *testing.T, at time.Time, urls ...string) []int64 {
	t.Helper()
	var subs []takedown.NewSubmission
	for _, u := range urls {
		rec, err := canon.Recognize(u)
		if err != nil {
			t.Fatal(err)
		}
		subs = append(subs, takedown.NewSubmission{
			Item:       rec,
			Submission: takedown.Submission{AgencyID: f.agency.ID, RawInput: u, Source: "test", SubmittedAt: at},
		})
	}
	res, err := f.db.Submit(ctx, f.op.ID, subs)
	if err != nil {
		t.Fatal(err)
	}
	ids := make([]int64, len(res))
	for i, r := range res {
		ids[i] = r.ItemID
	}
	return ids
}

// channels returns n Telegram channel URLs named prefix_01...
func channels(prefix string, n int) []string {
	var out []string
	for i := 1; i <= n; i++ {
		out = append(out, fmt.Sprintf("https://t.me/%s_%02d", prefix, i))
	}
	return out
}

func accounts(n int) []string {
	var out []string
	for i := 1; i <= n; i++ {
		out = append(out, fmt.Sprintf("https://x.com/voice_%02d", i))
	}
	return out
}

// attributor is the real one over the store's current directory.
func (f *fixture) attributor(t *testing.T) *attribute.Attributor {
	t.Helper()
	ps, err := f.db.ListProviders(ctx)
	if err != nil {
		t.Fatal(err)
	}
	a, err := attribute.New(ps, attribute.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	return a
}

func (f *fixture) plan(t *testing.T, st Store, attr Attributor, rule Rule, now time.Time) *Result {
	t.Helper()
	res, err := Plan(ctx, st, attr, f.op.ID, rule, now)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// shape lists each referral as "provider:n" with n its item count.
func shape(rs []*takedown.Referral) []string {
	var out []string
	for _, r := range rs {
		out = append(out, fmt.Sprintf("%s:%d", r.Provider, len(r.Items)))
	}
	return out
}

// itemIDs lists the item IDs of the referrals, in order.
func itemIDs(rs ...*takedown.Referral) []int64 {
	var out []int64
	for _, r := range rs {
		for _, it := range r.Items {
			out = append(out, it.ItemID)
		}
	}
	return out
}

func sorted(ids ...[]int64) []int64 {
	out := slices.Concat(ids...)
	slices.Sort(out)
	return out
}

// stored checks that every referral of res is in the store as returned.
func (f *fixture) stored(t *testing.T, res *Result) {
	t.Helper()
	for _, r := range res.Referrals {
		got, err := f.db.FindReferral(ctx, r.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Provider != r.Provider || got.OperationID != f.op.ID || got.LegalBasis != r.LegalBasis || !slices.Equal(itemIDs(got), itemIDs(r)) {
			t.Errorf("referral %d in the store: %+v, planned %+v", r.ID, got, r)
		}
	}
}

func TestPlanBatchesPerProvider(t *testing.T) {
	t.Parallel()
	f := setup(t)
	f.provider(t, &takedown.Provider{Code: "example-host", Name: "Example hosting", Domains: []string{"example.org"}})
	tg := f.submit(t, t0, channels("chan", 7)...)
	x := f.submit(t, t0, accounts(2)...)
	web := f.submit(t, t0, "https://www.example.org/manifesto.pdf")

	res := f.plan(t, f.db, f.attributor(t), Rule{LegalBasis: takedown.BasisReferral, MaxItems: 3}, t0)
	// Providers in code order; each one's items in batches of at most
	// three, in the order they were submitted.
	want := []string{"example-host:1", "telegram:3", "telegram:3", "telegram:1", "x-corp:2"}
	if diff := cmp.Diff(want, shape(res.Referrals)); diff != "" {
		t.Errorf("batches (-want +got):\n%s", diff)
	}
	if len(res.Referrals) == len(want) {
		for i, ids := range [][]int64{web, tg[:3], tg[3:6], tg[6:], x} {
			if got := itemIDs(res.Referrals[i]); !slices.Equal(got, ids) {
				t.Errorf("batch %d holds %v, want %v", i, got, ids)
			}
		}
	}
	for _, r := range res.Referrals {
		if r.ID == 0 || r.OperationID != f.op.ID || r.LegalBasis != takedown.BasisReferral || r.Order != nil || r.IdempotencyKey == "" {
			t.Errorf("referral %+v", r)
		}
	}
	if res.Attributed != 10 || res.Unattributed != 0 || res.Waiting != 0 || len(res.Held) != 0 {
		t.Errorf("result: attributed %d, unattributed %d, waiting %d, held %v", res.Attributed, res.Unattributed, res.Waiting, res.Held)
	}
	f.stored(t, res)

	// The attributions are recorded on the items.
	for _, c := range []struct {
		id            int64
		provider, via string
	}{{tg[0], "telegram", "platform"}, {x[1], "x-corp", "platform"}, {web[0], "example-host", "domain example.org"}} {
		it, err := f.db.FindItem(ctx, c.id)
		if err != nil {
			t.Fatal(err)
		}
		if it.Provider != c.provider || it.Attribution != c.via {
			t.Errorf("item %d attributed to %q via %q, want %q via %q", c.id, it.Provider, it.Attribution, c.provider, c.via)
		}
	}

	// A second round finds nothing left to refer, and nothing to
	// attribute again.
	again := f.plan(t, f.db, f.attributor(t), Rule{LegalBasis: takedown.BasisReferral, MaxItems: 3}, t0.Add(time.Hour))
	if len(again.Referrals) != 0 || again.Attributed != 0 || again.Unattributed != 0 || again.Waiting != 0 {
		t.Errorf("second round: %+v", again)
	}
	all, err := f.db.ListReferrals(ctx, takedown.ReferralFilter{OperationID: f.op.ID})
	if err != nil || len(all) != 5 {
		t.Errorf("%d referrals in the store, %v", len(all), err)
	}
	// Items submitted since are referred, and only they.
	late := f.submit(t, t0.Add(2*time.Hour), "https://t.me/late_one")
	third := f.plan(t, f.db, f.attributor(t), Rule{LegalBasis: takedown.BasisReferral, MaxItems: 3}, t0.Add(2*time.Hour))
	if diff := cmp.Diff([]string{"telegram:1"}, shape(third.Referrals)); diff != "" || !slices.Equal(itemIDs(third.Referrals...), late) {
		t.Errorf("third round: %v %v", shape(third.Referrals), itemIDs(third.Referrals...))
	}
}

func TestPlanDefaultMaxItems(t *testing.T) {
	t.Parallel()
	f := setup(t)
	f.submit(t, t0, channels("chan", 7)...)
	res := f.plan(t, f.db, f.attributor(t), Rule{LegalBasis: takedown.BasisReferral}, t0)
	if diff := cmp.Diff([]string{"telegram:7"}, shape(res.Referrals)); diff != "" {
		t.Errorf("batches (-want +got):\n%s", diff)
	}
}

func TestPlanExactChunks(t *testing.T) {
	t.Parallel()
	f := setup(t)
	f.submit(t, t0, channels("chan", 6)...)
	res := f.plan(t, f.db, f.attributor(t), Rule{LegalBasis: takedown.BasisReferral, MaxItems: 3}, t0)
	if diff := cmp.Diff([]string{"telegram:3", "telegram:3"}, shape(res.Referrals)); diff != "" {
		t.Errorf("batches (-want +got):\n%s", diff)
	}
}

func TestPlanNothingToRefer(t *testing.T) {
	t.Parallel()
	f := setup(t)
	res := f.plan(t, f.db, f.attributor(t), Rule{LegalBasis: takedown.BasisReferral}, t0)
	if len(res.Referrals) != 0 || res.Attributed != 0 || res.Unattributed != 0 || res.Waiting != 0 || len(res.Held) != 0 {
		t.Errorf("result %+v", res)
	}
}

func TestPlanUnknownOperation(t *testing.T) {
	t.Parallel()
	f := setup(t)
	_, err := Plan(ctx, f.db, f.attributor(t), f.op.ID+100, Rule{LegalBasis: takedown.BasisReferral}, t0)
	if takedown.ErrorCode(err) != takedown.ENOTFOUND {
		t.Errorf("plan of an unknown operation: %v", err)
	}
}

func TestPlanProvidersFilter(t *testing.T) {
	t.Parallel()
	f := setup(t)
	tg := f.submit(t, t0, channels("chan", 4)...)
	x := f.submit(t, t0, accounts(2)...)
	res := f.plan(t, f.db, f.attributor(t), Rule{LegalBasis: takedown.BasisReferral, MaxItems: 3, Providers: []string{"x-corp"}}, t0)
	if diff := cmp.Diff([]string{"x-corp:2"}, shape(res.Referrals)); diff != "" || !slices.Equal(itemIDs(res.Referrals...), x) {
		t.Errorf("batches (-want +got):\n%s%v", diff, itemIDs(res.Referrals...))
	}
	// Every item was attributed, those of other providers too; they are
	// neither waiting nor unattributed, just not planned.
	if res.Attributed != 6 || res.Waiting != 0 || res.Unattributed != 0 {
		t.Errorf("result %+v", res)
	}
	it, _ := f.db.FindItem(ctx, tg[0])
	if it.Provider != "telegram" {
		t.Errorf("an item of a provider left out was not attributed: %+v", it)
	}

	// A filter naming several providers, one with nothing to refer.
	res = f.plan(t, f.db, f.attributor(t), Rule{LegalBasis: takedown.BasisReferral, MaxItems: 3, Providers: []string{"x-corp", "telegram", "nobody"}}, t0)
	if diff := cmp.Diff([]string{"telegram:3", "telegram:1"}, shape(res.Referrals)); diff != "" || !slices.Equal(itemIDs(res.Referrals...), tg) {
		t.Errorf("second round (-want +got):\n%s", diff)
	}
	if res.Attributed != 0 {
		t.Errorf("second round attributed %d again", res.Attributed)
	}
}

func TestPlanLeavesHeldItemsOut(t *testing.T) {
	t.Parallel()
	f := setup(t)
	free := f.submit(t, t0, channels("chan", 3)...)
	held := f.submit(t, t0, "https://t.me/held_one", "https://t.me/held_two", "https://t.me/held_two/15")
	h := &takedown.Hold{OperationID: f.op.ID, Agency: "nl-iru", Scope: takedown.HoldPattern, Pattern: "t.me/held_*",
		Reason: takedown.HoldInvestigation, Note: "case 2026/17", ExpiresAt: time.Now().Add(takedown.DefaultHoldDuration)}
	if err := f.db.PlaceHold(ctx, h); err != nil {
		t.Fatal(err)
	}
	res := f.plan(t, f.db, f.attributor(t), Rule{LegalBasis: takedown.BasisReferral}, t0)
	if !slices.Equal(itemIDs(res.Referrals...), free) {
		t.Errorf("referred %v, want only the free items %v", itemIDs(res.Referrals...), free)
	}
	// An item held before the round is not read at all (ReferableItems
	// leaves it out): it is neither referred nor counted anywhere. Held
	// counts the items a hold caught while their batch was being made
	// (TestPlanHoldDuringRound).
	if len(res.Held) != 0 || res.Waiting != 0 || res.Unattributed != 0 {
		t.Errorf("result %+v", res)
	}
	// Once the hold ends, its items go at the next round.
	if _, err := f.db.ReleaseHold(ctx, h.ID); err != nil {
		t.Fatal(err)
	}
	res = f.plan(t, f.db, f.attributor(t), Rule{LegalBasis: takedown.BasisReferral}, t0)
	if !slices.Equal(itemIDs(res.Referrals...), held) {
		t.Errorf("after the release referred %v, want %v", itemIDs(res.Referrals...), held)
	}
}

// interceptingStore runs before ahead of each CreateReferral call (a hold
// placed while a round runs, a failure), and may fail it.
type interceptingStore struct {
	*sqlite.DB
	calls  int
	before func(call int) error
}

func (s *interceptingStore) CreateReferral(ctx context.Context, r *takedown.Referral, ids []int64) ([]int64, error) {
	s.calls++
	if s.before != nil {
		if err := s.before(s.calls); err != nil {
			return nil, err
		}
	}
	return s.DB.CreateReferral(ctx, r, ids)
}

func TestPlanHoldDuringRound(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ids := f.submit(t, t0, channels("chan", 7)...)
	hold := func(h *takedown.Hold) {
		h.OperationID, h.Agency, h.Reason, h.Note, h.ExpiresAt = f.op.ID, "nl-iru", takedown.HoldInvestigation, "case 2026/17", time.Now().Add(takedown.DefaultHoldDuration)
		if err := f.db.PlaceHold(ctx, h); err != nil {
			t.Fatal(err)
		}
	}
	st := &interceptingStore{DB: f.db, before: func(call int) error {
		if call == 1 {
			// After the items were read, before any batch is made: one
			// item of the first batch and the whole last batch get held.
			hold(&takedown.Hold{Scope: takedown.HoldItem, ItemID: ids[1]})
			hold(&takedown.Hold{Scope: takedown.HoldPattern, Pattern: "t.me/chan_07"})
		}
		return nil
	}}
	res := f.plan(t, st, f.attributor(t), Rule{LegalBasis: takedown.BasisReferral, MaxItems: 3}, t0)
	if diff := cmp.Diff([]string{"telegram:2", "telegram:3"}, shape(res.Referrals)); diff != "" {
		t.Errorf("batches (-want +got):\n%s", diff)
	}
	if want := []int64{ids[0], ids[2], ids[3], ids[4], ids[5]}; !slices.Equal(itemIDs(res.Referrals...), want) {
		t.Errorf("referred %v, want %v", itemIDs(res.Referrals...), want)
	}
	if want := []int64{ids[1], ids[6]}; !slices.Equal(sorted(res.Held), want) {
		t.Errorf("held %v, want %v", res.Held, want)
	}
	if st.calls != 3 {
		t.Errorf("%d batches tried, want 3", st.calls)
	}
	f.stored(t, res)
}

func TestPlanRemovalOrder(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ids := f.submit(t, t0, channels("chan", 7)...)
	order := &takedown.RemovalOrder{IssuingAuthority: "Example competent authority", Reference: "RO-2026-0001", Contact: "orders@authority.example",
		LegalBasis: "Regulation (EU) 2021/784, Article 3", Reasons: "terrorist content within Article 2(7)(a)", IssuedAt: time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC),
		Redress: "Article 9: an administrative review before the issuing authority"}

	refused := []struct {
		name string
		rule Rule
	}{
		{"no order", Rule{LegalBasis: takedown.BasisRemovalOrder}},
		{"no redress", Rule{LegalBasis: takedown.BasisRemovalOrder, Order: func() *takedown.RemovalOrder { o := *order; o.Redress = " "; return &o }()}},
		{"no date", Rule{LegalBasis: takedown.BasisRemovalOrder, Order: func() *takedown.RemovalOrder { o := *order; o.IssuedAt = time.Time{}; return &o }()}},
		{"no authority", Rule{LegalBasis: takedown.BasisRemovalOrder, Order: func() *takedown.RemovalOrder { o := *order; o.IssuingAuthority = ""; return &o }()}},
		{"a voluntary referral with an order", Rule{LegalBasis: takedown.BasisReferral, Order: order}},
		{"no legal basis", Rule{}},
		{"an unknown legal basis", Rule{LegalBasis: "court_order"}},
	}
	for _, c := range refused {
		res, err := Plan(ctx, f.db, f.attributor(t), f.op.ID, c.rule, t0)
		if takedown.ErrorCode(err) != takedown.EINVALID || res != nil {
			t.Errorf("%s: %+v, %v; want EINVALID", c.name, res, err)
		}
	}
	// Refused before anything was done: nothing referred, nothing
	// attributed.
	if all, _ := f.db.ListReferrals(ctx, takedown.ReferralFilter{OperationID: f.op.ID}); len(all) != 0 {
		t.Errorf("%d referrals after refused rounds", len(all))
	}
	if it, _ := f.db.FindItem(ctx, ids[0]); it.Provider != "" || it.Attribution != "" {
		t.Errorf("a refused round attributed %+v", it)
	}

	rule := Rule{LegalBasis: takedown.BasisRemovalOrder, Order: order, MaxItems: 3}
	res := f.plan(t, f.db, f.attributor(t), rule, t0)
	if diff := cmp.Diff([]string{"telegram:3", "telegram:3", "telegram:1"}, shape(res.Referrals)); diff != "" {
		t.Fatalf("batches (-want +got):\n%s", diff)
	}
	seen := map[*takedown.RemovalOrder]bool{}
	for _, r := range res.Referrals {
		if r.LegalBasis != takedown.BasisRemovalOrder || r.Order == nil {
			t.Fatalf("referral %+v", r)
		}
		if r.Order == order || seen[r.Order] {
			t.Errorf("referral %d shares its order with the rule or another batch", r.ID)
		}
		seen[r.Order] = true
		if diff := cmp.Diff(order, r.Order); diff != "" {
			t.Errorf("referral %d's order (-want +got):\n%s", r.ID, diff)
		}
		got, err := f.db.FindReferral(ctx, r.ID)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(order, got.Order); diff != "" {
			t.Errorf("referral %d's stored order (-want +got):\n%s", r.ID, diff)
		}
	}
	// A change to one batch's order touches neither the others nor the
	// rule.
	res.Referrals[0].Order.Reasons = "changed"
	if order.Reasons != "terrorist content within Article 2(7)(a)" || res.Referrals[1].Order.Reasons != order.Reasons {
		t.Error("the batches share their order")
	}
}

func TestPlanMinItems(t *testing.T) {
	t.Parallel()
	f := setup(t)
	tg := f.submit(t, t0, channels("chan", 4)...)
	x := f.submit(t, t0, accounts(2)...)
	rule := Rule{LegalBasis: takedown.BasisReferral, MinItems: 3}
	res := f.plan(t, f.db, f.attributor(t), rule, t0.Add(24*time.Hour))
	if diff := cmp.Diff([]string{"telegram:4"}, shape(res.Referrals)); diff != "" || !slices.Equal(itemIDs(res.Referrals...), tg) {
		t.Errorf("batches (-want +got):\n%s", diff)
	}
	if res.Waiting != 2 || res.Attributed != 6 {
		t.Errorf("result %+v: want x-corp's 2 items waiting", res)
	}
	// The waiting items stay attributed, and wait until there are enough.
	if it, _ := f.db.FindItem(ctx, x[0]); it.Provider != "x-corp" {
		t.Errorf("a waiting item %+v", it)
	}
	res = f.plan(t, f.db, f.attributor(t), rule, t0.Add(24*time.Hour))
	if len(res.Referrals) != 0 || res.Waiting != 2 || res.Attributed != 0 {
		t.Errorf("second round %+v", res)
	}
	// The third one makes exactly MinItems.
	x = append(x, f.submit(t, t0.Add(time.Hour), "https://x.com/voice_03")...)
	res = f.plan(t, f.db, f.attributor(t), rule, t0.Add(24*time.Hour))
	if diff := cmp.Diff([]string{"x-corp:3"}, shape(res.Referrals)); diff != "" || res.Waiting != 0 {
		t.Errorf("third round (-want +got):\n%s; waiting %d", diff, res.Waiting)
	}
	if !slices.Equal(itemIDs(res.Referrals...), x) {
		t.Errorf("referred %v, want %v", itemIDs(res.Referrals...), x)
	}
}

func TestPlanMaxWait(t *testing.T) {
	t.Parallel()
	f := setup(t)
	f.submit(t, t0.Add(90*time.Minute), channels("chan", 5)...) // enough, however new
	x := f.submit(t, t0, "https://x.com/voice_01")
	x = append(x, f.submit(t, t0.Add(90*time.Minute), "https://x.com/voice_02")...)
	rule := Rule{LegalBasis: takedown.BasisReferral, MinItems: 5, MaxWait: 2 * time.Hour}

	res := f.plan(t, f.db, f.attributor(t), rule, t0.Add(2*time.Hour-time.Second))
	if diff := cmp.Diff([]string{"telegram:5"}, shape(res.Referrals)); diff != "" || res.Waiting != 2 {
		t.Errorf("before MaxWait (-want +got):\n%s; waiting %d", diff, res.Waiting)
	}
	// The oldest item has waited MaxWait: it makes the batch, and the
	// newer one goes along.
	res = f.plan(t, f.db, f.attributor(t), rule, t0.Add(2*time.Hour))
	if diff := cmp.Diff([]string{"x-corp:2"}, shape(res.Referrals)); diff != "" || res.Waiting != 0 {
		t.Errorf("at MaxWait (-want +got):\n%s; waiting %d", diff, res.Waiting)
	}
	if !slices.Equal(itemIDs(res.Referrals...), x) {
		t.Errorf("referred %v, want %v", itemIDs(res.Referrals...), x)
	}
}

func TestPlanMaxWaitAlone(t *testing.T) {
	t.Parallel()
	f := setup(t)
	f.submit(t, t0, "https://x.com/voice_01")
	rule := Rule{LegalBasis: takedown.BasisReferral, MaxWait: time.Hour}
	if res := f.plan(t, f.db, f.attributor(t), rule, t0.Add(59*time.Minute)); len(res.Referrals) != 0 || res.Waiting != 1 {
		t.Errorf("before MaxWait: %+v", res)
	}
	if res := f.plan(t, f.db, f.attributor(t), rule, t0.Add(61*time.Minute)); len(res.Referrals) != 1 || res.Waiting != 0 {
		t.Errorf("after MaxWait: %+v", res)
	}
}

func TestReady(t *testing.T) {
	t.Parallel()
	items := []*takedown.Item{{FirstSubmittedAt: t0.Add(time.Hour)}, {FirstSubmittedAt: t0}}
	now := t0.Add(3 * time.Hour)
	for _, c := range []struct {
		rule Rule
		want bool
	}{
		{Rule{}, true},
		{Rule{MinItems: 2}, true},
		{Rule{MinItems: 3}, false},
		{Rule{MaxWait: 3 * time.Hour}, true},
		{Rule{MaxWait: 3*time.Hour + time.Nanosecond}, false},
		{Rule{MinItems: 3, MaxWait: 3 * time.Hour}, true},
		{Rule{MinItems: 3, MaxWait: 4 * time.Hour}, false},
	} {
		if got := ready(items, c.rule, now); got != c.want {
			t.Errorf("ready under %+v: %v, want %v", c.rule, got, c.want)
		}
	}
}

// fakeAttributor attributes by a function and counts its calls.
type fakeAttributor struct {
	calls atomic.Int64
	fn    func(it *takedown.Item) takedown.ItemAttribution
}

func (a *fakeAttributor) Attribute(_ context.Context, it *takedown.Item) takedown.ItemAttribution {
	a.calls.Add(1)
	return a.fn(it)
}

func TestPlanAttributesOnlyUnattributed(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ids := f.submit(t, t0, channels("chan", 3)...)
	// One item attributed by hand to X: an attribution made stays.
	if err := f.db.SetAttributions(ctx, []takedown.ItemAttribution{{ItemID: ids[2], Provider: "x-corp", Via: "by hand"}}); err != nil {
		t.Fatal(err)
	}
	attr := &fakeAttributor{fn: func(it *takedown.Item) takedown.ItemAttribution {
		// The item ID is Plan's to set.
		return takedown.ItemAttribution{ItemID: -1, Provider: "telegram", Via: "fake rule"}
	}}
	res := f.plan(t, f.db, attr, Rule{LegalBasis: takedown.BasisReferral}, t0)
	if attr.calls.Load() != 2 {
		t.Errorf("the attributor was asked %d times, want 2 (the item attributed by hand is not asked about)", attr.calls.Load())
	}
	if diff := cmp.Diff([]string{"telegram:2", "x-corp:1"}, shape(res.Referrals)); diff != "" {
		t.Errorf("batches (-want +got):\n%s", diff)
	}
	if res.Attributed != 2 {
		t.Errorf("attributed %d, want 2", res.Attributed)
	}
	for i, want := range []struct{ provider, via string }{{"telegram", "fake rule"}, {"telegram", "fake rule"}, {"x-corp", "by hand"}} {
		it, err := f.db.FindItem(ctx, ids[i])
		if err != nil {
			t.Fatal(err)
		}
		if it.Provider != want.provider || it.Attribution != want.via {
			t.Errorf("item %d: %q via %q, want %q via %q", i, it.Provider, it.Attribution, want.provider, want.via)
		}
	}
}

func TestPlanWithoutAttributor(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ids := f.submit(t, t0, channels("chan", 3)...)
	if err := f.db.SetAttributions(ctx, []takedown.ItemAttribution{{ItemID: ids[0], Provider: "telegram", Via: "by hand"}}); err != nil {
		t.Fatal(err)
	}
	res := f.plan(t, f.db, nil, Rule{LegalBasis: takedown.BasisReferral}, t0)
	if diff := cmp.Diff([]string{"telegram:1"}, shape(res.Referrals)); diff != "" || res.Unattributed != 2 || res.Attributed != 0 {
		t.Errorf("without an attributor (-want +got):\n%s; %+v", diff, res)
	}
}

// countingStore counts the attributions recorded.
type countingStore struct {
	*sqlite.DB
	calls, recorded int
}

func (s *countingStore) SetAttributions(ctx context.Context, as []takedown.ItemAttribution) error {
	s.calls++
	s.recorded += len(as)
	return s.DB.SetAttributions(ctx, as)
}

func TestPlannerAttributesFromTheCurrentDirectory(t *testing.T) {
	t.Parallel()
	f := setup(t)
	tg := f.submit(t, t0, channels("chan", 2)...)
	web := f.submit(t, t0, "https://blog.example.org/2026/11/call-to-arms")
	insta := f.submit(t, t0, "https://www.instagram.com/some_account/")
	st := &countingStore{DB: f.db}
	now := t0.Add(time.Hour)
	plan := Planner(st, attribute.Options{}, func() time.Time { return now })
	rule := Rule{LegalBasis: takedown.BasisReferral}

	res, err := plan(ctx, f.op.ID, rule)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"telegram:2"}, shape(res.Referrals)); diff != "" || !slices.Equal(itemIDs(res.Referrals...), tg) {
		t.Errorf("first round (-want +got):\n%s", diff)
	}
	// Attributed and Unattributed count different items: the website and
	// the Instagram account found no provider.
	if res.Unattributed != 2 || res.Attributed != 2 {
		t.Errorf("first round: attributed %d, unattributed %d; want 2 and 2", res.Attributed, res.Unattributed)
	}
	// Why no provider was found is recorded, for the unattributed queue.
	for _, id := range []int64{web[0], insta[0]} {
		it, _ := f.db.FindItem(ctx, id)
		if it.Provider != "" || !strings.HasPrefix(it.Attribution, "none") {
			t.Errorf("unattributed item %+v", it)
		}
	}
	page, err := f.db.ListItems(ctx, takedown.ItemFilter{OperationID: f.op.ID, Unattributed: true})
	if err != nil || len(page.Items) != 2 {
		t.Errorf("the unattributed queue: %+v, %v", page, err)
	}

	// Nothing changed: the unattributed items are attributed again, to no
	// one, and nothing new is recorded.
	st.calls, st.recorded = 0, 0
	res, err = plan(ctx, f.op.ID, rule)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Referrals) != 0 || res.Unattributed != 2 || res.Attributed != 0 || st.recorded != 0 {
		t.Errorf("second round: %+v, %d attributions recorded", res, st.recorded)
	}

	// A provider claiming the website's domain joins the directory: the
	// next round takes the site out of the queue.
	f.provider(t, &takedown.Provider{Code: "example-host", Name: "Example hosting", Domains: []string{"example.org"}})
	res, err = plan(ctx, f.op.ID, rule)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"example-host:1"}, shape(res.Referrals)); diff != "" || !slices.Equal(itemIDs(res.Referrals...), web) {
		t.Errorf("third round (-want +got):\n%s", diff)
	}
	if res.Attributed != 1 || res.Unattributed != 1 {
		t.Errorf("third round: attributed %d, unattributed %d; want 1 and 1", res.Attributed, res.Unattributed)
	}
	it, _ := f.db.FindItem(ctx, web[0])
	if it.Provider != "example-host" || it.Attribution != "domain example.org" {
		t.Errorf("the website: %q via %q", it.Provider, it.Attribution)
	}

	// And a provider of Instagram, added as an update of one that was
	// there: the directory is read afresh each round.
	p, err := f.db.FindProvider(ctx, "x-corp")
	if err != nil {
		t.Fatal(err)
	}
	p.Platforms = append(p.Platforms, takedown.PlatformInstagram)
	if err := f.db.UpdateProvider(ctx, p); err != nil {
		t.Fatal(err)
	}
	res, err = plan(ctx, f.op.ID, rule)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"x-corp:1"}, shape(res.Referrals)); diff != "" || res.Unattributed != 0 || res.Attributed != 1 {
		t.Errorf("fourth round (-want +got):\n%s; %+v", diff, res)
	}
	if it, _ := f.db.FindItem(ctx, insta[0]); it.Provider != "x-corp" || it.Attribution != "platform" {
		t.Errorf("the Instagram account: %q via %q", it.Provider, it.Attribution)
	}
}

// directoryStore serves a directory of its own.
type directoryStore struct {
	*sqlite.DB
	providers []*takedown.Provider
	err       error
}

func (s *directoryStore) ListProviders(context.Context) ([]*takedown.Provider, error) {
	return s.providers, s.err
}

func TestPlannerDirectoryErrors(t *testing.T) {
	t.Parallel()
	f := setup(t)
	f.submit(t, t0, channels("chan", 2)...)
	now := func() time.Time { return t0 }
	boom := errors.New("directory unavailable")
	if _, err := Planner(&directoryStore{DB: f.db, err: boom}, attribute.Options{}, now)(ctx, f.op.ID, Rule{LegalBasis: takedown.BasisReferral}); !errors.Is(err, boom) {
		t.Errorf("a directory that cannot be read: %v", err)
	}
	// Two providers claiming Telegram: the directory is ambiguous.
	ambiguous := &directoryStore{DB: f.db, providers: []*takedown.Provider{
		{Code: "telegram", Name: "Telegram", Platforms: []takedown.Platform{takedown.PlatformTelegram}},
		{Code: "x-corp", Name: "X", Platforms: []takedown.Platform{takedown.PlatformTelegram}},
	}}
	if _, err := Planner(ambiguous, attribute.Options{}, now)(ctx, f.op.ID, Rule{LegalBasis: takedown.BasisReferral}); takedown.ErrorCode(err) != takedown.EINVALID {
		t.Errorf("an ambiguous directory: %v", err)
	}
	if _, err := Planner(f.db, attribute.Options{ASNDatabase: filepath.Join(t.TempDir(), "missing.mmdb")}, now)(ctx, f.op.ID, Rule{LegalBasis: takedown.BasisReferral}); takedown.ErrorCode(err) != takedown.EINVALID {
		t.Errorf("a missing ASN database: %v", err)
	}
	if all, _ := f.db.ListReferrals(ctx, takedown.ReferralFilter{OperationID: f.op.ID}); len(all) != 0 {
		t.Errorf("%d referrals after failed rounds", len(all))
	}
}

// pagedStore reads items a few at a time, to exercise Plan's paging.
type pagedStore struct {
	*sqlite.DB
	page  int
	reads int
}

func (s *pagedStore) ReferableItems(ctx context.Context, operationID, afterID int64, limit int) ([]*takedown.Item, error) {
	s.reads++
	return s.DB.ReferableItems(ctx, operationID, afterID, min(limit, s.page))
}

func TestPlanPages(t *testing.T) {
	t.Parallel()
	f := setup(t)
	tg := f.submit(t, t0, channels("chan", 5)...)
	x := f.submit(t, t0, accounts(2)...)
	tg = append(tg, f.submit(t, t0, "https://t.me/chan_06")...)
	st := &pagedStore{DB: f.db, page: 3}
	res := f.plan(t, st, f.attributor(t), Rule{LegalBasis: takedown.BasisReferral, MaxItems: 4}, t0)
	if diff := cmp.Diff([]string{"telegram:4", "telegram:2", "x-corp:2"}, shape(res.Referrals)); diff != "" {
		t.Errorf("batches (-want +got):\n%s", diff)
	}
	if !slices.Equal(itemIDs(res.Referrals...), slices.Concat(tg, x)) {
		t.Errorf("referred %v", itemIDs(res.Referrals...))
	}
	if res.Attributed != 8 || st.reads != 4 { // 3 + 3 + 2, then an empty page
		t.Errorf("attributed %d in %d reads", res.Attributed, st.reads)
	}
}

// failingStore fails its calls on demand.
type failingStore struct {
	*sqlite.DB
	readErr, attrErr error
}

func (s *failingStore) ReferableItems(ctx context.Context, operationID, afterID int64, limit int) ([]*takedown.Item, error) {
	if s.readErr != nil {
		return nil, s.readErr
	}
	return s.DB.ReferableItems(ctx, operationID, afterID, limit)
}

func (s *failingStore) SetAttributions(ctx context.Context, as []takedown.ItemAttribution) error {
	if s.attrErr != nil {
		return s.attrErr
	}
	return s.DB.SetAttributions(ctx, as)
}

func TestPlanStoreErrors(t *testing.T) {
	t.Parallel()
	f := setup(t)
	f.submit(t, t0, channels("chan", 5)...)
	boom := errors.New("disk on fire")
	rule := Rule{LegalBasis: takedown.BasisReferral, MaxItems: 2}

	if res, err := Plan(ctx, &failingStore{DB: f.db, readErr: boom}, f.attributor(t), f.op.ID, rule, t0); !errors.Is(err, boom) || res != nil {
		t.Errorf("reading fails: %+v, %v", res, err)
	}
	if res, err := Plan(ctx, &failingStore{DB: f.db, attrErr: boom}, f.attributor(t), f.op.ID, rule, t0); !errors.Is(err, boom) || res != nil {
		t.Errorf("recording attributions fails: %+v, %v", res, err)
	}
	if all, _ := f.db.ListReferrals(ctx, takedown.ReferralFilter{}); len(all) != 0 {
		t.Errorf("%d referrals after failed rounds", len(all))
	}

	// The second batch fails: the round stops, and says what it did.
	st := &interceptingStore{DB: f.db, before: func(call int) error {
		if call == 2 {
			return boom
		}
		return nil
	}}
	res, err := Plan(ctx, st, f.attributor(t), f.op.ID, rule, t0)
	if !errors.Is(err, boom) || res == nil || len(res.Referrals) != 1 || st.calls != 2 {
		t.Fatalf("a batch fails: %+v, %v after %d batches", res, err, st.calls)
	}
	if !strings.Contains(err.Error(), "telegram") {
		t.Errorf("the error does not name the provider: %v", err)
	}
	// The next round picks up what was left.
	res = f.plan(t, f.db, f.attributor(t), rule, t0)
	if diff := cmp.Diff([]string{"telegram:2", "telegram:1"}, shape(res.Referrals)); diff != "" {
		t.Errorf("next round (-want +got):\n%s", diff)
	}
}

// Rule.Only plans the items it names and leaves the rest for their own
// round (the successors an analyst just confirmed).
func TestPlanOnlyItems(t *testing.T) {
	t.Parallel()
	f := setup(t)
	tg := f.submit(t, t0, channels("chan", 4)...)
	x := f.submit(t, t0, accounts(2)...)
	only := map[int64]bool{tg[1]: true, x[0]: true}
	res := f.plan(t, f.db, f.attributor(t), Rule{LegalBasis: takedown.BasisReferral, Only: only}, t0)
	got := itemIDs(res.Referrals...)
	slices.Sort(got)
	want := []int64{tg[1], x[0]}
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("planned %v, want only %v", got, want)
	}
	res = f.plan(t, f.db, f.attributor(t), Rule{LegalBasis: takedown.BasisReferral}, t0)
	if n := len(itemIDs(res.Referrals...)); n != 4 {
		t.Errorf("the next round planned %d items, want the 4 left", n)
	}
}
