package takedown

import (
	"cmp"
	"context"
	"slices"
	"time"
)

// Report is an operation's figures as a coordinator publishes them, each
// with what it counts and as of when: the same figures in the UI, in
// `takedown report` and in the API.
type Report struct {
	Operation   string    `json:"operation"`
	Name        string    `json:"name"`
	AsOf        time.Time `json:"as_of"`
	Preliminary bool      `json:"preliminary"`
	// Items counts the operation's items (one per canonical identity,
	// however often submitted), TakenOffline those confirmed offline now.
	Items        int                `json:"items"`
	TakenOffline int                `json:"taken_offline"`
	ByStatus     map[ItemStatus]int `json:"by_status"`
	// Breakdown counts the items by kind, platform, submitting agency and
	// provider, and status.
	Breakdown []BreakdownRow `json:"breakdown"`
	// TimeToRemoval sums up the times to removal; StillOnline estimates
	// per platform the share of referred items still online after t
	// since the referral's receipt (Kaplan-Meier, items not removed
	// censored at AsOf); TakenOfflineOverTime is the cumulative count of
	// confirmed removals by the time of their first offline observation.
	TimeToRemoval struct {
		All        []RemovalFigure `json:"all"`
		ByProvider []RemovalFigure `json:"by_provider"`
		ByPlatform []RemovalFigure `json:"by_platform"`
	} `json:"time_to_removal"`
	StillOnline          []SurvivalCurve `json:"still_online"`
	TakenOfflineOverTime []TimelinePoint `json:"taken_offline_over_time"`
	Orders               OrderClocks     `json:"removal_orders"`
	Resurgence           *Resurgence     `json:"resurgence"`
}

// BreakdownRow counts the items of one group (a kind, a platform, a
// submitting agency, a provider) with one status.
type BreakdownRow struct {
	Dimension string     `json:"dimension"` // kind, platform, agency or provider
	Group     string     `json:"group"`
	Status    ItemStatus `json:"status"`
	Count     int        `json:"count"`
}

// Dimensions of a breakdown, in display order.
var Dimensions = []string{"kind", "platform", "agency", "provider"}

// SortBreakdown sorts rows by dimension (in the order of Dimensions),
// group and status (in flow order): the order every store returns.
func SortBreakdown(rows []BreakdownRow) {
	slices.SortFunc(rows, func(a, b BreakdownRow) int {
		return cmp.Or(cmp.Compare(slices.Index(Dimensions, a.Dimension), slices.Index(Dimensions, b.Dimension)),
			cmp.Compare(a.Group, b.Group), cmp.Compare(slices.Index(ItemStatuses, a.Status), slices.Index(ItemStatuses, b.Status)))
	})
}

// SurvivalCurve is a Kaplan-Meier curve of one group.
type SurvivalCurve struct {
	Group  string          `json:"group"`
	Items  int             `json:"items"`
	Events int             `json:"events"`
	Points []SurvivalPoint `json:"points"`
	// FollowUpSeconds is the longest time any item was observed: the
	// curve says nothing beyond it.
	FollowUpSeconds int64 `json:"follow_up_seconds"`
}

// TimelinePoint is a cumulative count as of a time.
type TimelinePoint struct {
	At    time.Time `json:"at"`
	Count int       `json:"count"`
}

// OrderClocks counts the removal orders whose one-hour clock runs now
// (items still pending) and those past it.
type OrderClocks struct {
	Running      int        `json:"running"`
	Overdue      int        `json:"overdue"`
	NextDeadline *time.Time `json:"next_deadline,omitempty"`
}

// ReportSnapshotService keeps each operation's latest report, so that a
// process that starts serves the last figures (saying as of when) while
// it computes new ones: a million items take seconds to count.
type ReportSnapshotService interface {
	// SaveReportSnapshot keeps r as the operation's latest report, unless
	// a newer one is kept already.
	SaveReportSnapshot(ctx context.Context, operationID int64, r *Report) error
	// LoadReportSnapshot returns the operation's latest report. Returns
	// ENOTFOUND if there is none.
	LoadReportSnapshot(ctx context.Context, operationID int64) (*Report, error)
}

// ReportService is what a report reads.
type ReportService interface {
	OperationService
	VerificationService
	ReferralService
	ResurgenceService
}

// OperationReport computes an operation's report as of now.
func OperationReport(ctx context.Context, st ReportService, op *Operation, now time.Time) (*Report, error) {
	now = now.UTC().Truncate(time.Second)
	r := &Report{Operation: op.Slug, Name: op.Name, AsOf: now, Preliminary: op.Status == OperationOpen}
	counts, err := st.CountByStatus(ctx, op.ID)
	if err != nil {
		return nil, err
	}
	r.ByStatus = map[ItemStatus]int{}
	for s, n := range counts {
		r.ByStatus[s] = n
		r.Items += n
	}
	r.TakenOffline = r.ByStatus[ItemConfirmed]
	if r.Breakdown, err = st.Breakdown(ctx, op.ID); err != nil {
		return nil, err
	}
	times, err := st.RemovalTimes(ctx, op.ID)
	if err != nil {
		return nil, err
	}
	group := func(key func(RemovalTime) string) []RemovalFigure {
		if g := SummarizeRemovalTimes(times, key); g != nil {
			return g
		}
		return []RemovalFigure{}
	}
	r.TimeToRemoval.All = group(func(RemovalTime) string { return "all" })
	r.TimeToRemoval.ByProvider = group(func(t RemovalTime) string { return t.Provider })
	r.TimeToRemoval.ByPlatform = group(func(t RemovalTime) string { return string(t.Platform) })
	r.StillOnline = StillOnline(times, now, func(t RemovalTime) string { return string(t.Platform) })
	r.TakenOfflineOverTime = RemovalTimeline(times, 200)
	refs, err := st.ListReferrals(ctx, ReferralFilter{OperationID: op.ID})
	if err != nil {
		return nil, err
	}
	r.Orders = orderClocks(refs, now)
	if r.Resurgence, err = OperationResurgence(ctx, st, op, now); err != nil {
		return nil, err
	}
	return r, nil
}

// StillOnline estimates per group the share of referred items still
// online after t since the referral's receipt: an item's removal is the
// event, an item not removed is censored at now. Groups sorted by name.
func StillOnline(ts []RemovalTime, now time.Time, key func(RemovalTime) string) []SurvivalCurve {
	type acc struct {
		d     []time.Duration
		event []bool
	}
	groups := map[string]*acc{}
	for _, t := range ts {
		g := groups[key(t)]
		if g == nil {
			g = &acc{}
			groups[key(t)] = g
		}
		if t.Removed() {
			g.d, g.event = append(g.d, max(t.RemovedAt.Sub(t.ReferredAt), 0)), append(g.event, true)
		} else {
			g.d, g.event = append(g.d, max(now.Sub(t.ReferredAt), 0)), append(g.event, false)
		}
	}
	out := []SurvivalCurve{}
	for name, g := range groups {
		c := SurvivalCurve{Group: name, Items: len(g.d), Points: KaplanMeier(g.d, g.event)}
		for i, e := range g.event {
			if e {
				c.Events++
			}
			c.FollowUpSeconds = max(c.FollowUpSeconds, secs(g.d[i]))
		}
		out = append(out, c)
	}
	slices.SortFunc(out, func(a, b SurvivalCurve) int { return cmp.Compare(a.Group, b.Group) })
	return out
}

// RemovalTimeline is the cumulative count of confirmed removals by the
// time of their first offline observation, in at most max points (every
// removal when there are fewer; else evenly spaced ones and the last).
func RemovalTimeline(ts []RemovalTime, max int) []TimelinePoint {
	var at []time.Time
	for _, t := range ts {
		if t.Removed() {
			at = append(at, t.RemovedAt)
		}
	}
	slices.SortFunc(at, func(a, b time.Time) int { return a.Compare(b) })
	out := []TimelinePoint{}
	n := len(at)
	for i, t := range at {
		// Of several removals at one time, the last counts them all.
		if i+1 < n && at[i+1].Equal(t) {
			continue
		}
		if n > max && i+1 < n && (i+1)*max/n == i*max/n {
			continue
		}
		out = append(out, TimelinePoint{At: t, Count: i + 1})
	}
	return out
}

// orderClocks counts the removal orders with items pending: the clock
// runs until the deadline, and past it they are overdue.
func orderClocks(refs []*Referral, now time.Time) OrderClocks {
	var c OrderClocks
	for _, r := range refs {
		if r.LegalBasis != BasisRemovalOrder || r.Deadline == nil || r.Counts[OutcomePending] == 0 {
			continue
		}
		if now.After(*r.Deadline) {
			c.Overdue++
			continue
		}
		c.Running++
		if c.NextDeadline == nil || r.Deadline.Before(*c.NextDeadline) {
			d := *r.Deadline
			c.NextDeadline = &d
		}
	}
	return c
}
