package takedown

import (
	"testing"
	"time"
)

// The confirmation and reinstatement logic, on a clock the test moves by
// hand: two offline observations at least ConfirmAfter apart confirm a
// removal, a confirmed item seen online is reinstated, unknown verdicts
// change nothing, and an observation older than the last applied counts
// but changes nothing.
func TestVerificationObserve(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)
	s := DefaultSchedule // confirms after 10 min
	type step struct {
		after   time.Duration // since t0
		verdict Verdict
		change  Change
		status  ItemStatus
		next    time.Duration // since t0: when the schedule probes next
	}
	cases := map[string][]step{
		"confirmed after the interval, then rechecked weekly": {
			{0, VerdictOnline, ChangeOnline, ItemOnline, time.Minute},
			{time.Minute, VerdictOffline, ChangeOffline, ItemOffline, 11 * time.Minute},
			{5 * time.Minute, VerdictOffline, ChangeNone, ItemOffline, 11 * time.Minute},
			{11 * time.Minute, VerdictOffline, ChangeConfirmed, ItemConfirmed, 11*time.Minute + s.Recheck},
			{12 * time.Minute, VerdictOffline, ChangeNone, ItemConfirmed, 12*time.Minute + s.Recheck},
		},
		"back online before confirmation: the run of offline starts again": {
			{0, VerdictOffline, ChangeOffline, ItemOffline, 10 * time.Minute},
			{9 * time.Minute, VerdictOnline, ChangeOnline, ItemOnline, 9*time.Minute + 5*time.Minute},
			{15 * time.Minute, VerdictOffline, ChangeOffline, ItemOffline, 25 * time.Minute},
			{24 * time.Minute, VerdictOffline, ChangeNone, ItemOffline, 25 * time.Minute},
			{25 * time.Minute, VerdictOffline, ChangeConfirmed, ItemConfirmed, 25*time.Minute + s.Recheck},
		},
		"reinstated, and confirmed again": {
			{0, VerdictOffline, ChangeOffline, ItemOffline, 10 * time.Minute},
			{10 * time.Minute, VerdictOffline, ChangeConfirmed, ItemConfirmed, 10*time.Minute + s.Recheck},
			{48 * time.Hour, VerdictOnline, ChangeReinstated, ItemReinstated, 48*time.Hour + 15*time.Minute},
			{49 * time.Hour, VerdictOnline, ChangeNone, ItemReinstated, 50 * time.Hour},
			{50 * time.Hour, VerdictOffline, ChangeOffline, ItemOffline, 50*time.Hour + 10*time.Minute},
			{50*time.Hour + 10*time.Minute, VerdictOffline, ChangeConfirmed, ItemConfirmed, 50*time.Hour + 10*time.Minute + s.Recheck},
		},
		"unknown verdicts change nothing and are retried sooner": {
			{0, VerdictUnknown, ChangeNone, ItemReferred, time.Minute},
			{time.Minute, VerdictUnknown, ChangeNone, ItemReferred, 3 * time.Minute},
			{3 * time.Minute, VerdictUnknown, ChangeNone, ItemReferred, 5 * time.Minute},
			{5 * time.Minute, VerdictOffline, ChangeOffline, ItemOffline, 15 * time.Minute},
			{7 * time.Minute, VerdictUnknown, ChangeNone, ItemOffline, 15 * time.Minute},
			{15 * time.Minute, VerdictOffline, ChangeConfirmed, ItemConfirmed, 15*time.Minute + s.Recheck},
		},
	}
	for name, steps := range cases {
		v := &Verification{Status: ItemReferred, ReferredAt: &t0}
		for i, st := range steps {
			at := t0.Add(st.after)
			got := v.Observe(Observation{At: at, Verdict: st.verdict}, s.ConfirmAfter)
			next := s.Next(v, at, st.verdict)
			if got != st.change || v.Status != st.status || !next.Equal(t0.Add(st.next)) {
				t.Errorf("%s, step %d (%s at +%s): change %q, status %s, next +%s; want %q, %s, +%s",
					name, i+1, st.verdict, st.after, got, v.Status, next.Sub(t0), st.change, st.status, st.next)
			}
		}
		if v.Probes != len(steps) {
			t.Errorf("%s: %d probes counted, want %d", name, v.Probes, len(steps))
		}
	}

	// The first removal's first offline observation ends the time to
	// removal, even after a reinstatement and a second removal.
	v := &Verification{Status: ItemReferred, ReferredAt: &t0}
	for _, o := range []struct {
		after   time.Duration
		verdict Verdict
	}{{time.Hour, VerdictOffline}, {2 * time.Hour, VerdictOffline}, {72 * time.Hour, VerdictOnline}, {96 * time.Hour, VerdictOffline}, {97 * time.Hour, VerdictOffline}} {
		v.Observe(Observation{At: t0.Add(o.after), Verdict: o.verdict}, s.ConfirmAfter)
	}
	if d, ok := v.TimeToRemoval(); !ok || d != time.Hour || v.Status != ItemConfirmed {
		t.Errorf("time to removal %s (%v), status %s; want 1h of the first removal", d, ok, v.Status)
	}
	v.Derive()
	if v.TimeToRemovalSeconds == nil || *v.TimeToRemovalSeconds != 3600 {
		t.Errorf("derived time to removal: %v", v.TimeToRemovalSeconds)
	}

	// A slow probe's older observation counts, but does not undo a newer.
	v = &Verification{Status: ItemReferred, ReferredAt: &t0}
	v.Observe(Observation{At: t0.Add(20 * time.Minute), Verdict: VerdictOffline}, s.ConfirmAfter)
	if c := v.Observe(Observation{At: t0.Add(5 * time.Minute), Verdict: VerdictOnline}, s.ConfirmAfter); c != ChangeNone || v.Status != ItemOffline || v.Probes != 2 {
		t.Errorf("an older observation changed %q, status %s, probes %d", c, v.Status, v.Probes)
	}
	// No confirmation interval: one offline observation confirms.
	v = &Verification{Status: ItemReferred, ReferredAt: &t0}
	if c := v.Observe(Observation{At: t0, Verdict: VerdictOffline}, 0); c != ChangeConfirmed {
		t.Errorf("without an interval: %q", c)
	}
}

func TestSummarizeRemovalTimes(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)
	var ts []RemovalTime
	for i := 1; i <= 10; i++ {
		ts = append(ts, RemovalTime{ItemID: int64(i), Provider: "a", Platform: PlatformTelegram, ReferredAt: t0, RemovedAt: t0.Add(time.Duration(i) * time.Minute)})
	}
	ts = append(ts, RemovalTime{ItemID: 11, Provider: "b", Platform: PlatformX, ReferredAt: t0, RemovedAt: t0.Add(-time.Minute)})
	got := SummarizeRemovalTimes(ts, func(r RemovalTime) string { return r.Provider })
	want := []RemovalFigure{
		{Group: "a", Count: 10, Median: 300, P90: 540, Min: 60, Max: 600},
		// A removal seen before the receipt (clocks apart) counts as 0, never negative.
		{Group: "b", Count: 1},
	}
	if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("figures %+v, want %+v", got, want)
	}
	if SummarizeRemovalTimes(nil, func(RemovalTime) string { return "" }) != nil {
		t.Error("figures of nothing")
	}
}
