package takedown

import (
	"reflect"
	"testing"
	"time"
)

func TestStillOnlineAndTimeline(t *testing.T) {
	t0 := time.Date(2026, 11, 20, 8, 0, 0, 0, time.UTC)
	h := time.Hour
	ts := []RemovalTime{
		{ItemID: 1, Platform: PlatformTelegram, ReferredAt: t0, RemovedAt: t0.Add(h)},
		{ItemID: 2, Platform: PlatformTelegram, ReferredAt: t0, RemovedAt: t0.Add(3 * h)},
		{ItemID: 3, Platform: PlatformTelegram, ReferredAt: t0.Add(2 * h)}, // online, censored at now (2 h after its referral)
		{ItemID: 4, Platform: PlatformX, ReferredAt: t0, RemovedAt: t0.Add(h)},
	}
	now := t0.Add(4 * h)
	got := StillOnline(ts, now, func(t RemovalTime) string { return string(t.Platform) })
	// Telegram: at 1 h 3 at risk, one removed: 2/3; the censored item
	// leaves at 2 h; at 3 h 1 at risk, removed: 0.
	want := []SurvivalCurve{
		{Group: "telegram", Items: 3, Events: 2, Points: []SurvivalPoint{{0, 1, 3}, {3600, 0.666667, 3}, {3 * 3600, 0, 1}}, FollowUpSeconds: 3 * 3600},
		{Group: "x", Items: 1, Events: 1, Points: []SurvivalPoint{{0, 1, 1}, {3600, 0, 1}}, FollowUpSeconds: 3600},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("still online %+v, want %+v", got, want)
	}
	line := RemovalTimeline(ts, 200)
	wantLine := []TimelinePoint{{t0.Add(h), 2}, {t0.Add(3 * h), 3}}
	if !reflect.DeepEqual(line, wantLine) {
		t.Errorf("timeline %v, want %v", line, wantLine)
	}
	var many []RemovalTime
	for i := range 1000 {
		many = append(many, RemovalTime{ReferredAt: t0, RemovedAt: t0.Add(time.Duration(i) * time.Minute)})
	}
	line = RemovalTimeline(many, 100)
	if len(line) != 100 || line[len(line)-1].Count != 1000 || line[0].Count != 10 {
		t.Errorf("a thinned timeline of %d points, from %v to %v", len(line), line[0], line[len(line)-1])
	}
}

func TestOrderClocks(t *testing.T) {
	now := time.Date(2026, 11, 20, 8, 0, 0, 0, time.UTC)
	at := func(d time.Duration) *time.Time { x := now.Add(d); return &x }
	refs := []*Referral{
		{LegalBasis: BasisRemovalOrder, Deadline: at(30 * time.Minute), Counts: map[Outcome]int{OutcomePending: 2}},
		{LegalBasis: BasisRemovalOrder, Deadline: at(10 * time.Minute), Counts: map[Outcome]int{OutcomePending: 1, OutcomeRemoved: 3}},
		{LegalBasis: BasisRemovalOrder, Deadline: at(-time.Minute), Counts: map[Outcome]int{OutcomePending: 1}},
		{LegalBasis: BasisRemovalOrder, Deadline: at(-time.Minute), Counts: map[Outcome]int{OutcomeRemoved: 1}},
		{LegalBasis: BasisReferral, Counts: map[Outcome]int{OutcomePending: 5}},
	}
	c := orderClocks(refs, now)
	if c.Running != 2 || c.Overdue != 1 || c.NextDeadline == nil || !c.NextDeadline.Equal(now.Add(10*time.Minute)) {
		t.Errorf("clocks %+v", c)
	}
}
