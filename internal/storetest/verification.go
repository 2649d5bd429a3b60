package storetest

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	gocmp "github.com/google/go-cmp/cmp"

	"github.com/takedown-project/takedown"
)

// verifyT0 is when the referrals of the verification tests are received.
var verifyT0 = time.Date(2026, 11, 20, 9, 0, 0, 250000000, time.UTC)

// testSchedule probes 1, 5 and 15 minutes after receipt and then every 15
// minutes; confirms after 10 minutes; rechecks confirmed items daily.
var testSchedule = takedown.Schedule{
	After:        []time.Duration{time.Minute, 5 * time.Minute, 15 * time.Minute},
	Recheck:      24 * time.Hour,
	Retry:        2 * time.Minute,
	ConfirmAfter: 10 * time.Minute,
}

// refer refers items to the provider with every channel and records the
// first delivery at at: the receipt.
func (hb *holdBundle) refer(t *testing.T, at time.Time, names ...string) *takedown.Referral {
	t.Helper()
	var ids []int64
	for _, n := range names {
		ids = append(ids, hb.items[n])
	}
	r := &takedown.Referral{OperationID: hb.op.ID, Provider: "telegram", LegalBasis: takedown.BasisReferral}
	if _, err := hb.db.CreateReferral(ctx, r, ids); err != nil {
		t.Fatal(err)
	}
	if err := hb.db.RecordDelivery(ctx, r.ID, takedown.DeliveryUpdate{Channel: takedown.ChannelEmail, State: takedown.DeliveryDelivered, At: at}); err != nil {
		t.Fatal(err)
	}
	return r
}

func (hb *holdBundle) verification(t *testing.T, name string) *takedown.Verification {
	t.Helper()
	v, err := hb.db.FindVerification(ctx, hb.items[name])
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func at(t time.Time) *time.Time { return &t }

func targetIDs(ts []takedown.ProbeTarget) []int64 {
	out := []int64{}
	for _, t := range ts {
		out = append(out, t.ItemID)
	}
	return out
}

// testVerificationReceipt: the receipt of a referral, however it comes,
// schedules the verification of its items, once.
func testVerificationReceipt(t *testing.T, open Opener) {
	hb := setupDelivery(t, open, "one", "two", "three", "four")
	db := hb.db
	r := &takedown.Referral{OperationID: hb.op.ID, Provider: "telegram", LegalBasis: takedown.BasisReferral}
	if _, err := db.CreateReferral(ctx, r, []int64{hb.items["one"], hb.items["two"]}); err != nil {
		t.Fatal(err)
	}
	// Sent, not received: nothing is scheduled.
	if v := hb.verification(t, "one"); v.Status != takedown.ItemSubmitted || v.ReferredAt != nil || v.NextProbeAt != nil || v.Probes != 0 {
		t.Errorf("an item of a referral not yet received: %+v", v)
	}
	if got, err := db.ClaimDueProbes(ctx, verifyT0.Add(1000*time.Hour), 100, time.Minute); err != nil || len(got) != 0 {
		t.Errorf("due probes before any receipt: %v %v", got, err)
	}
	// A failed attempt is no receipt; the first delivery is.
	if err := db.RecordDelivery(ctx, r.ID, takedown.DeliveryUpdate{Channel: takedown.ChannelAPI, State: takedown.DeliveryRetrying, Error: "503", At: verifyT0.Add(-time.Minute)}); err != nil {
		t.Fatal(err)
	}
	if v := hb.verification(t, "one"); v.ReferredAt != nil {
		t.Errorf("a failed attempt scheduled verification: %+v", v)
	}
	if err := db.RecordDelivery(ctx, r.ID, takedown.DeliveryUpdate{Channel: takedown.ChannelEmail, State: takedown.DeliveryDelivered, At: verifyT0}); err != nil {
		t.Fatal(err)
	}
	want := &takedown.Verification{Status: takedown.ItemReferred, ReferredAt: at(verifyT0), NextProbeAt: at(verifyT0)}
	for _, n := range []string{"one", "two"} {
		if diff := gocmp.Diff(want, hb.verification(t, n)); diff != "" {
			t.Errorf("%s after receipt (-want +got):\n%s", n, diff)
		}
	}
	// Later deliveries and the acknowledgement do not move the receipt.
	if err := db.RecordDelivery(ctx, r.ID, takedown.DeliveryUpdate{Channel: takedown.ChannelAPI, State: takedown.DeliveryDelivered, At: verifyT0.Add(time.Minute)}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.AcknowledgeReferral(ctx, r.ID); err != nil {
		t.Fatal(err)
	}
	if diff := gocmp.Diff(want, hb.verification(t, "one")); diff != "" {
		t.Errorf("after a second delivery and the acknowledgement (-want +got):\n%s", diff)
	}
	if v := hb.verification(t, "three"); v.Status != takedown.ItemSubmitted || v.NextProbeAt != nil {
		t.Errorf("an item not referred was scheduled: %+v", v)
	}
	// An acknowledgement before any delivery is the receipt.
	r2 := &takedown.Referral{OperationID: hb.op.ID, Provider: "telegram", LegalBasis: takedown.BasisReferral}
	if _, err := db.CreateReferral(ctx, r2, []int64{hb.items["three"]}); err != nil {
		t.Fatal(err)
	}
	ack, err := db.AcknowledgeReferral(ctx, r2.ID)
	if err != nil {
		t.Fatal(err)
	}
	if v := hb.verification(t, "three"); v.Status != takedown.ItemReferred || v.ReferredAt == nil || !v.ReferredAt.Equal(*ack.ReceivedAt) || !v.NextProbeAt.Equal(*ack.ReceivedAt) {
		t.Errorf("an item received by acknowledgement at %v: %+v", ack.ReceivedAt, v)
	}
	// An item referred again keeps its first receipt.
	if _, err := db.AnswerReferral(ctx, r.ID, []takedown.ItemAnswer{{ItemID: hb.items["two"], Outcome: takedown.OutcomeRejected, Reason: "no violation"}}, "x"); err != nil {
		t.Fatal(err)
	}
	hb.refer(t, verifyT0.Add(time.Hour), "two")
	if v := hb.verification(t, "two"); !v.ReferredAt.Equal(verifyT0) || !v.NextProbeAt.Equal(verifyT0) {
		t.Errorf("a second receipt moved the first: %+v", v)
	}
	// The new statuses filter lists.
	for status, names := range map[takedown.ItemStatus][]string{takedown.ItemReferred: {"one", "two", "three"}, takedown.ItemSubmitted: {"four"}} {
		page, err := db.ListItems(ctx, takedown.ItemFilter{OperationID: hb.op.ID, Status: status})
		if err != nil {
			t.Fatal(err)
		}
		var got, want []int64
		for _, it := range page.Items {
			got = append(got, it.ID)
			if it.Status != status {
				t.Errorf("item %d listed as %s is %s", it.ID, status, it.Status)
			}
		}
		for _, n := range names {
			want = append(want, hb.items[n])
		}
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("items %s: %v, want %v", status, got, want)
		}
	}

	// A provider reached only through the portal has the referral from
	// its creation: that is the receipt, though the referral's own waits
	// for the acknowledgement.
	pb := setupHolds(t, open, "portal_one", "portal_two")
	pr := &takedown.Referral{OperationID: pb.op.ID, Provider: "telegram", LegalBasis: takedown.BasisReferral}
	if _, err := pb.db.CreateReferral(ctx, pr, []int64{pb.items["portal_one"]}); err != nil {
		t.Fatal(err)
	}
	if pr.Status != takedown.ReferralDelivered {
		t.Fatalf("a referral to a provider reached only through the portal is %s", pr.Status)
	}
	want = &takedown.Verification{Status: takedown.ItemReferred, ReferredAt: at(pr.CreatedAt), NextProbeAt: at(pr.CreatedAt)}
	if diff := gocmp.Diff(want, pb.verification(t, "portal_one")); diff != "" {
		t.Errorf("an item referred through the portal only (-want +got):\n%s", diff)
	}
	if v := pb.verification(t, "portal_two"); v.Status != takedown.ItemSubmitted || v.NextProbeAt != nil {
		t.Errorf("an item not referred: %+v", v)
	}
	if got, _ := pb.db.FindReferral(ctx, pr.ID); got.ReceivedAt != nil {
		t.Errorf("the portal referral's own receipt was set at creation: %v", got.ReceivedAt)
	}
	if _, err := pb.db.AcknowledgeReferral(ctx, pr.ID); err != nil {
		t.Fatal(err)
	}
	if diff := gocmp.Diff(want, pb.verification(t, "portal_one")); diff != "" {
		t.Errorf("the acknowledgement moved the portal receipt (-want +got):\n%s", diff)
	}
}

// testClaimDueProbes: due items come earliest first, once per lease, and
// concurrent claimers share none.
func testClaimDueProbes(t *testing.T, open Opener) {
	var names []string
	for i := range 20 {
		names = append(names, fmt.Sprintf("due_%02d", i))
	}
	hb := setupDelivery(t, open, names...)
	db := hb.db
	// Four referrals of five items each; the items with the highest IDs
	// are received first.
	for g := range 4 {
		hb.refer(t, verifyT0.Add(time.Duration(3-g)*time.Minute), names[5*g:5*g+5]...)
	}
	ids := func(from, to int) []int64 {
		var out []int64
		for _, n := range names[from:to] {
			out = append(out, hb.items[n])
		}
		return out
	}
	now := verifyT0.Add(90 * time.Second) // the groups received at +0 and +1m are due
	lease := 10 * time.Minute
	got, err := db.ClaimDueProbes(ctx, now, 100, lease)
	if err != nil {
		t.Fatal(err)
	}
	if want := append(ids(15, 20), ids(10, 15)...); !slices.Equal(targetIDs(got), want) {
		t.Errorf("first claim: %v, want %v (earliest first, then by ID)", targetIDs(got), want)
	}
	if len(got) > 0 {
		it, _ := db.FindItem(ctx, got[0].ItemID)
		if w := (takedown.ProbeTarget{ItemID: it.ID, OperationID: hb.op.ID, URL: it.URL, Platform: it.Platform, Kind: it.Kind}); got[0] != w || w.URL != "https://t.me/"+names[15] {
			t.Errorf("target %+v, want %+v", got[0], w)
		}
	}
	if v := hb.verification(t, names[15]); !v.NextProbeAt.Equal(now.Add(lease)) {
		t.Errorf("a claimed item is next due at %v, want the end of the lease %v", v.NextProbeAt, now.Add(lease))
	}
	if again, _ := db.ClaimDueProbes(ctx, now.Add(10*time.Second), 100, lease); len(again) != 0 {
		t.Errorf("claimed again within the lease: %v", targetIDs(again))
	}
	// The limit, earliest first.
	got, _ = db.ClaimDueProbes(ctx, verifyT0.Add(5*time.Minute), 3, lease)
	if want := ids(5, 8); !slices.Equal(targetIDs(got), want) {
		t.Errorf("claim of 3: %v, want %v", targetIDs(got), want)
	}
	// After the lease the first claim's items are due again, after the
	// items due before them.
	got, _ = db.ClaimDueProbes(ctx, now.Add(lease), 100, lease)
	want := append(append(ids(8, 10), ids(0, 5)...), ids(10, 20)...) // the first claim's items are due at one time: by ID
	if !slices.Equal(targetIDs(got), want) {
		t.Errorf("claim after the lease: %v, want %v", targetIDs(got), want)
	}
	_, err = db.ClaimDueProbes(ctx, now, 0, lease)
	wantCode(t, err, takedown.EINVALID)
	_, err = db.ClaimDueProbes(ctx, now, 10, 0)
	wantCode(t, err, takedown.EINVALID)
}

// testConcurrentClaims: workers claiming at once get every due item once.
func testConcurrentClaims(t *testing.T, open Opener) {
	var names []string
	for i := range 300 {
		names = append(names, fmt.Sprintf("many_%03d", i))
	}
	hb := setupDelivery(t, open, names...)
	hb.refer(t, verifyT0, names[:150]...)
	hb.refer(t, verifyT0.Add(time.Second), names[150:]...)
	var (
		mu     sync.Mutex
		seen   = map[int64]int{}
		errs   []error
		wg     sync.WaitGroup
		now    = verifyT0.Add(time.Minute)
		claims int
	)
	for range 4 {
		wg.Go(func() {
			for {
				got, err := hb.db.ClaimDueProbes(ctx, now, 7, time.Hour)
				mu.Lock()
				if err != nil {
					errs = append(errs, err)
				}
				claims++
				for _, pt := range got {
					seen[pt.ItemID]++
				}
				mu.Unlock()
				if err != nil || len(got) == 0 {
					return
				}
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		t.Error(err)
	}
	for id, n := range seen {
		if n != 1 {
			t.Errorf("item %d was claimed %d times", id, n)
		}
	}
	if len(seen) != len(names) {
		t.Errorf("%d items claimed, want %d (in %d claims)", len(seen), len(names), claims)
	}
}

// observation is an observation with every evidence field set.
func observation(itemID int64, at time.Time, verdict takedown.Verdict) takedown.Observation {
	o := takedown.Observation{ItemID: itemID, At: at, Verdict: verdict, Rule: "test." + string(verdict), Bytes: 1234, LatencyMS: 87, Region: "eu-west"}
	switch verdict {
	case takedown.VerdictOnline:
		o.Reason, o.Status, o.FinalURL = takedown.ReasonPresent, 200, "https://t.me/s/x"
	case takedown.VerdictOffline:
		o.Reason, o.Status, o.FinalURL = takedown.ReasonNotFound, 404, "https://t.me/x?removed=1"
	default:
		o.Reason, o.Error = takedown.ReasonNetwork, "dial tcp: connection refused"
	}
	return o
}

// model is what the store must hold for an item: the domain's own
// Verification, fed the same observations.
type model struct {
	v   takedown.Verification
	obs []takedown.Observation
}

func (m *model) observe(o takedown.Observation, s takedown.Schedule) takedown.Change {
	applied := m.v.LastProbeAt == nil || !o.At.Before(*m.v.LastProbeAt)
	ch := m.v.Observe(o, s.ConfirmAfter)
	if applied {
		m.v.NextProbeAt = at(s.Next(&m.v, o.At, o.Verdict))
	}
	m.obs = append(m.obs, o)
	return ch
}

// testRecordObservations follows items through verification: online,
// offline, confirmed, reinstated; out of order and unknown observations;
// the figures; the chain.
func testRecordObservations(t *testing.T, open Opener) {
	hb := setupDelivery(t, open, "one", "two", "three", "four", "never")
	db := hb.db
	s := testSchedule
	hb.refer(t, verifyT0, "one", "two", "three", "four")
	models := map[string]*model{}
	for _, n := range []string{"one", "two", "three", "four"} {
		models[n] = &model{v: takedown.Verification{Status: takedown.ItemReferred, ReferredAt: at(verifyT0), NextProbeAt: at(verifyT0)}}
	}
	check := func(step, name string) {
		t.Helper()
		if diff := gocmp.Diff(&models[name].v, hb.verification(t, name)); diff != "" {
			t.Errorf("%s: %s (-want +got):\n%s", step, name, diff)
		}
	}
	record := func(step string, obs []takedown.Observation, names []string, want []takedown.Change) {
		t.Helper()
		got, err := db.RecordObservations(ctx, obs, s)
		if err != nil {
			t.Fatalf("%s: %v", step, err)
		}
		// The model applies an item's observations in time order, as the
		// store does within a batch.
		order := make([]int, len(obs))
		for i := range order {
			order[i] = i
		}
		slices.SortStableFunc(order, func(a, b int) int {
			return cmp.Or(cmp.Compare(obs[a].ItemID, obs[b].ItemID), obs[a].At.Compare(obs[b].At))
		})
		modelled := make([]takedown.Change, len(obs))
		for _, i := range order {
			modelled[i] = models[names[i]].observe(obs[i], s)
		}
		if !slices.Equal(got, want) || !slices.Equal(modelled, want) {
			t.Errorf("%s: changes %q, want %q (the domain says %q)", step, got, want, modelled)
		}
		for _, n := range names {
			check(step, n)
		}
	}
	one, two, three := hb.items["one"], hb.items["two"], hb.items["three"]
	on, off, unknown := takedown.VerdictOnline, takedown.VerdictOffline, takedown.VerdictUnknown
	m := time.Minute

	record("online", []takedown.Observation{observation(one, verifyT0.Add(m), on)}, []string{"one"}, []takedown.Change{takedown.ChangeOnline})
	if v := hb.verification(t, "one"); v.Status != takedown.ItemOnline || !v.NextProbeAt.Equal(verifyT0.Add(2*m)) || v.Probes != 1 {
		t.Errorf("online after referral: %+v, next probe %v (want the schedule's first step, 1 min, after the first probe)", v, v.NextProbeAt)
	}
	record("online again", []takedown.Observation{observation(one, verifyT0.Add(2*m), on)}, []string{"one"}, []takedown.Change{takedown.ChangeNone})
	record("offline", []takedown.Observation{observation(one, verifyT0.Add(3*m), off)}, []string{"one"}, []takedown.Change{takedown.ChangeOffline})
	if v := hb.verification(t, "one"); v.Status != takedown.ItemOffline || !v.OfflineSince.Equal(verifyT0.Add(3*m)) || !v.NextProbeAt.Equal(verifyT0.Add(13*m)) {
		t.Errorf("first offline: %+v (next probe when the interval allows confirmation)", v)
	}
	record("offline within the interval", []takedown.Observation{observation(one, verifyT0.Add(5*m), off)}, []string{"one"}, []takedown.Change{takedown.ChangeNone})
	if v := hb.verification(t, "one"); v.Status != takedown.ItemOffline || v.ConfirmedAt != nil || v.RemovedAt != nil {
		t.Errorf("offline twice within the interval: %+v", v)
	}
	record("offline after the interval", []takedown.Observation{observation(one, verifyT0.Add(14*m), off)}, []string{"one"}, []takedown.Change{takedown.ChangeConfirmed})
	v := hb.verification(t, "one")
	if v.Status != takedown.ItemConfirmed || !v.RemovedAt.Equal(verifyT0.Add(3*m)) || !v.ConfirmedAt.Equal(verifyT0.Add(14*m)) || !v.NextProbeAt.Equal(verifyT0.Add(14*m+s.Recheck)) {
		t.Errorf("confirmed: %+v", v)
	}
	if d, ok := v.TimeToRemoval(); !ok || d != 3*m {
		t.Errorf("time to removal %v %v, want 3m", d, ok)
	}
	record("older, out of order", []takedown.Observation{observation(one, verifyT0.Add(4*m), on)}, []string{"one"}, []takedown.Change{takedown.ChangeNone})
	if v := hb.verification(t, "one"); v.Status != takedown.ItemConfirmed || v.Probes != 6 || !v.LastProbeAt.Equal(verifyT0.Add(14*m)) {
		t.Errorf("an older observation changed more than the count: %+v", v)
	}
	record("unknown", []takedown.Observation{observation(one, verifyT0.Add(20*m), unknown)}, []string{"one"}, []takedown.Change{takedown.ChangeNone})
	if v := hb.verification(t, "one"); v.Status != takedown.ItemConfirmed || v.LastVerdict != unknown || v.LastReason != takedown.ReasonNetwork || v.Probes != 7 {
		t.Errorf("unknown after confirmation: %+v", v)
	}
	record("reinstated", []takedown.Observation{observation(one, verifyT0.Add(30*m), on)}, []string{"one"}, []takedown.Change{takedown.ChangeReinstated})
	if v := hb.verification(t, "one"); v.Status != takedown.ItemReinstated || !v.ReinstatedAt.Equal(verifyT0.Add(30*m)) || v.ConfirmedAt != nil || !v.RemovedAt.Equal(verifyT0.Add(3*m)) {
		t.Errorf("reinstated: %+v", v)
	}

	// One batch of several items, one item's observations out of order:
	// they apply in time order, the changes come in the batch's order.
	record("batch", []takedown.Observation{
		observation(two, verifyT0.Add(12*m), off),
		observation(three, verifyT0.Add(m), unknown),
		observation(two, verifyT0.Add(m), off),
	}, []string{"two", "three", "two"}, []takedown.Change{takedown.ChangeConfirmed, takedown.ChangeNone, takedown.ChangeOffline})
	if v := hb.verification(t, "three"); v.Status != takedown.ItemReferred || v.LastVerdict != unknown || v.Probes != 1 || !v.NextProbeAt.Equal(verifyT0.Add(2*m)) {
		t.Errorf("unknown first: %+v (retry after 2 min, or the schedule's step if shorter: 1 min)", v)
	}
	if v := hb.verification(t, "two"); v.Status != takedown.ItemConfirmed || !v.RemovedAt.Equal(verifyT0.Add(m)) {
		t.Errorf("confirmed in one batch: %+v", v)
	}

	// An item no provider received: its observations are kept and counted,
	// and nothing else.
	never := hb.items["never"]
	got, err := db.RecordObservations(ctx, []takedown.Observation{observation(never, verifyT0.Add(m), off), observation(never, verifyT0.Add(30*m), off)}, s)
	if err != nil || !slices.Equal(got, []takedown.Change{takedown.ChangeNone, takedown.ChangeNone}) {
		t.Errorf("observations of an item not referred: %v %v", got, err)
	}
	wantNever := &takedown.Verification{Status: takedown.ItemSubmitted, LastProbeAt: at(verifyT0.Add(30 * m)), LastVerdict: off, LastReason: takedown.ReasonNotFound, Probes: 2}
	if diff := gocmp.Diff(wantNever, hb.verification(t, "never")); diff != "" {
		t.Errorf("an item not referred, observed (-want +got):\n%s", diff)
	}

	// Refusals change nothing.
	_, err = db.RecordObservations(ctx, []takedown.Observation{observation(three, verifyT0.Add(40*m), off), observation(99999, verifyT0.Add(40*m), off)}, s)
	wantCode(t, err, takedown.ENOTFOUND)
	_, err = db.RecordObservations(ctx, []takedown.Observation{observation(three, verifyT0.Add(40*m), "gone")}, s)
	wantCode(t, err, takedown.EINVALID)
	check("after refusals", "three")
	if obs, _ := db.ListObservations(ctx, three, 100); len(obs) != 1 {
		t.Errorf("a refused batch stored observations: %d", len(obs))
	}
	_, err = db.FindVerification(ctx, 99999)
	wantCode(t, err, takedown.ENOTFOUND)
	_, err = db.ListObservations(ctx, 99999, 10)
	wantCode(t, err, takedown.ENOTFOUND)
	if got, err := db.RecordObservations(ctx, nil, s); err != nil || len(got) != 0 {
		t.Errorf("no observations: %v %v", got, err)
	}

	// An item's observations, newest first, with all their evidence.
	list, err := db.ListObservations(ctx, one, 100)
	if err != nil {
		t.Fatal(err)
	}
	wantObs := slices.Clone(models["one"].obs)
	slices.SortStableFunc(wantObs, func(a, b takedown.Observation) int { return b.At.Compare(a.At) })
	for i := range list {
		if list[i].ID == 0 {
			t.Errorf("observation without an ID: %+v", list[i])
		}
		list[i].ID = 0
	}
	if diff := gocmp.Diff(wantObs, list); diff != "" {
		t.Errorf("observations of one (-want +got):\n%s", diff)
	}
	if two, _ := db.ListObservations(ctx, one, 2); len(two) != 2 || !two[0].At.Equal(verifyT0.Add(30*m)) || !two[1].At.Equal(verifyT0.Add(20*m)) {
		t.Errorf("the two newest: %+v", two)
	}
	if none, err := db.ListObservations(ctx, hb.items["four"], 10); err != nil || len(none) != 0 {
		t.Errorf("observations of an item not probed: %v %v", none, err)
	}

	// The figures.
	times, err := db.RemovalTimes(ctx, hb.op.ID)
	if err != nil {
		t.Fatal(err)
	}
	wantTimes := []takedown.RemovalTime{
		{ItemID: one, Provider: "telegram", Platform: takedown.PlatformTelegram, ReferredAt: verifyT0, RemovedAt: verifyT0.Add(3 * m)},
		{ItemID: two, Provider: "telegram", Platform: takedown.PlatformTelegram, ReferredAt: verifyT0, RemovedAt: verifyT0.Add(m)},
		// Referred and not removed: censored in the survival curves.
		{ItemID: hb.items["three"], Provider: "telegram", Platform: takedown.PlatformTelegram, ReferredAt: verifyT0},
		{ItemID: hb.items["four"], Provider: "telegram", Platform: takedown.PlatformTelegram, ReferredAt: verifyT0},
	}
	slices.SortFunc(wantTimes, func(a, b takedown.RemovalTime) int { return cmp.Compare(a.ItemID, b.ItemID) })
	if diff := gocmp.Diff(wantTimes, times); diff != "" {
		t.Errorf("removal times (-want +got):\n%s", diff)
	}
	counts, err := db.CountByStatus(ctx, hb.op.ID)
	if err != nil {
		t.Fatal(err)
	}
	wantCounts := map[takedown.ItemStatus]int{takedown.ItemReinstated: 1, takedown.ItemConfirmed: 1, takedown.ItemReferred: 2, takedown.ItemSubmitted: 1}
	if diff := gocmp.Diff(wantCounts, counts); diff != "" {
		t.Errorf("counts by status (-want +got):\n%s", diff)
	}
	for status, want := range map[takedown.ItemStatus][]int64{takedown.ItemConfirmed: {two}, takedown.ItemReinstated: {one}, takedown.ItemOnline: {}} {
		page, err := db.ListItems(ctx, takedown.ItemFilter{OperationID: hb.op.ID, Status: status})
		if err != nil {
			t.Fatal(err)
		}
		got := []int64{}
		for _, it := range page.Items {
			got = append(got, it.ID)
		}
		if !slices.Equal(got, want) {
			t.Errorf("items %s: %v, want %v", status, got, want)
		}
	}
	other := &takedown.Operation{Slug: "rad-2", Name: "Quiet", Status: takedown.OperationOpen}
	if err := db.CreateOperation(ctx, other); err != nil {
		t.Fatal(err)
	}
	if times, err := db.RemovalTimes(ctx, other.ID); err != nil || len(times) != 0 {
		t.Errorf("removal times of an operation without items: %v %v", times, err)
	}
	if counts, err := db.CountByStatus(ctx, other.ID); err != nil || len(counts) != 0 {
		t.Errorf("counts of an operation without items: %v %v", counts, err)
	}
	_, err = db.RemovalTimes(ctx, 99999)
	wantCode(t, err, takedown.ENOTFOUND)
	_, err = db.CountByStatus(ctx, 99999)
	wantCode(t, err, takedown.ENOTFOUND)

	// The chain: a confirmation per removal, a reinstatement, with their
	// evidence, and it still verifies.
	var confirmed, reinstated []*takedown.AuditEvent
	for _, id := range []int64{one, two, three, never} {
		evs, err := db.ListAudit(ctx, takedown.AuditFilter{Subject: "item:" + strconv.FormatInt(id, 10)})
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range evs {
			switch e.Action {
			case "item.confirm_offline":
				confirmed = append(confirmed, e)
			case "item.reinstate":
				reinstated = append(reinstated, e)
			default:
				t.Errorf("unexpected event %s %s", e.Action, e.Subject)
			}
		}
	}
	if len(confirmed) != 2 || len(reinstated) != 1 {
		t.Fatalf("%d confirmations and %d reinstatements in the chain, want 2 and 1", len(confirmed), len(reinstated))
	}
	want := fmt.Sprintf(`{"at":"%s","confirmed_at":"%s","final_url":"https://t.me/x?removed=1","reason":"not_found","referred_at":"%s","region":"eu-west","removed_at":"%s","rule":"test.offline","status":404,"url":"https://t.me/one","verdict":"offline"}`,
		verifyT0.Add(14*m).Format(time.RFC3339Nano), verifyT0.Add(14*m).Format(time.RFC3339Nano), verifyT0.Format(time.RFC3339Nano), verifyT0.Add(3*m).Format(time.RFC3339Nano))
	if e := confirmed[0]; e.Subject != "item:"+strconv.FormatInt(one, 10) || e.Operation != "rad-1" || string(e.Details) != want {
		t.Errorf("the confirmation of one: %s %s %s\nwant details %s", e.Subject, e.Operation, e.Details, want)
	}
	if e := reinstated[0]; e.Subject != "item:"+strconv.FormatInt(one, 10) || !jsonHas(e.Details, `"verdict":"online"`, `"status":200`, `"reinstated_at":"`+verifyT0.Add(30*m).Format(time.RFC3339Nano)+`"`) {
		t.Errorf("the reinstatement of one: %s", e.Details)
	}
	if _, _, err := takedown.VerifyAudit(ctx, db); err != nil {
		t.Errorf("the chain after verification: %v", err)
	}
}

func jsonHas(b []byte, parts ...string) bool {
	for _, p := range parts {
		if !strings.Contains(string(b), p) {
			return false
		}
	}
	return true
}

// testProbeTargets: the items of an operation a filter selects, in ID
// order, a page at a time.
func testProbeTargets(t *testing.T, open Opener) {
	hb := setupDelivery(t, open, "alpha", "beta", "gamma", "delta")
	db := hb.db
	hb.refer(t, verifyT0, "alpha", "beta", "gamma")
	if _, err := db.RecordObservations(ctx, []takedown.Observation{
		observation(hb.items["alpha"], verifyT0.Add(time.Minute), takedown.VerdictOnline),
		observation(hb.items["gamma"], verifyT0.Add(time.Minute), takedown.VerdictOnline),
		observation(hb.items["beta"], verifyT0.Add(time.Minute), takedown.VerdictOffline),
	}, testSchedule); err != nil {
		t.Fatal(err)
	}
	if err := db.SetAttributions(ctx, []takedown.ItemAttribution{{ItemID: hb.items["alpha"], Provider: "telegram", Via: "platform"}, {ItemID: hb.items["delta"], Provider: "telegram", Via: "platform"}}); err != nil {
		t.Fatal(err)
	}
	ids := func(names ...string) []int64 {
		out := []int64{}
		for _, n := range names {
			out = append(out, hb.items[n])
		}
		slices.Sort(out)
		return out
	}
	for _, tt := range []struct {
		name  string
		f     takedown.ItemFilter
		after int64
		limit int
		want  []int64
	}{
		{"all", takedown.ItemFilter{}, 0, 0, ids("alpha", "beta", "gamma", "delta")},
		{"online", takedown.ItemFilter{Status: takedown.ItemOnline}, 0, 10, ids("alpha", "gamma")},
		{"offline", takedown.ItemFilter{Status: takedown.ItemOffline}, 0, 10, ids("beta")},
		{"online of a provider", takedown.ItemFilter{Status: takedown.ItemOnline, Provider: "telegram"}, 0, 10, ids("alpha")},
		{"platform", takedown.ItemFilter{Platform: takedown.PlatformWeb}, 0, 10, ids()},
		{"a page", takedown.ItemFilter{}, 0, 2, ids("alpha", "beta", "gamma", "delta")[:2]},
		{"the next page", takedown.ItemFilter{}, ids("alpha", "beta", "gamma", "delta")[1], 2, ids("alpha", "beta", "gamma", "delta")[2:]},
	} {
		tt.f.OperationID = hb.op.ID
		got, err := db.ProbeTargets(ctx, tt.f, tt.after, tt.limit)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if !slices.Equal(targetIDs(got), tt.want) {
			t.Errorf("%s: %v, want %v", tt.name, targetIDs(got), tt.want)
		}
		for _, pt := range got {
			if pt.OperationID != hb.op.ID || pt.Platform != takedown.PlatformTelegram || pt.Kind != takedown.KindChannel || !strings.HasPrefix(pt.URL, "https://t.me/") {
				t.Errorf("%s: target %+v", tt.name, pt)
			}
		}
	}
	_, err := db.ProbeTargets(ctx, takedown.ItemFilter{OperationID: 99999}, 0, 10)
	wantCode(t, err, takedown.ENOTFOUND)
}

// testObservationBatch records a round of 500 observations, as the prober
// makes them, and says how long it took.
func testObservationBatch(t *testing.T, open Opener) {
	const n = 500
	var names []string
	for i := range n {
		names = append(names, fmt.Sprintf("batch_%03d", i))
	}
	hb := setupDelivery(t, open, names...)
	hb.refer(t, verifyT0, names...)
	index := map[int64]int{}
	for i, name := range names {
		index[hb.items[name]] = i
	}
	// Each item has a verdict of its own: online, offline, offline,
	// unknown. Two rounds an hour apart confirm the offline ones; the
	// third probes the others.
	for round := range 3 {
		now := verifyT0.Add(time.Duration(round) * time.Hour)
		targets, err := hb.db.ClaimDueProbes(ctx, now, n, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		if want := []int{n, n, n / 2}[round]; len(targets) != want {
			t.Fatalf("round %d: %d due, want %d", round, len(targets), want)
		}
		obs := make([]takedown.Observation, len(targets))
		for i, pt := range targets {
			verdict := []takedown.Verdict{takedown.VerdictOnline, takedown.VerdictOffline, takedown.VerdictOffline, takedown.VerdictUnknown}[index[pt.ItemID]%4]
			obs[i] = observation(pt.ItemID, now.Add(time.Duration(i)*time.Millisecond), verdict)
		}
		start := time.Now()
		changes, err := hb.db.RecordObservations(ctx, obs, testSchedule)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("round %d: recorded %d observations in %v", round, len(obs), time.Since(start))
		if len(changes) != len(obs) {
			t.Errorf("%d changes for %d observations", len(changes), len(obs))
		}
	}
	counts, err := hb.db.CountByStatus(ctx, hb.op.ID)
	if err != nil {
		t.Fatal(err)
	}
	// Every other item was offline three times an hour apart: confirmed.
	if counts[takedown.ItemConfirmed] != n/2 || counts[takedown.ItemOnline] != n/4 || counts[takedown.ItemReferred] != n/4 {
		t.Errorf("counts after three rounds: %v", counts)
	}
	if _, _, err := takedown.VerifyAudit(ctx, hb.db); err != nil {
		t.Error(err)
	}
}
