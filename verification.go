package takedown

import (
	"cmp"
	"context"
	"slices"
	"time"
)

// Verification: a figure such as "26,000 items taken offline" is only
// defensible if each item was observed offline. Probes observe an item's
// URL; two offline observations far enough apart confirm a removal; a
// confirmed item seen online again is reinstated, and flagged.

// Verdict is what one probe saw.
type Verdict string

const (
	VerdictOnline  Verdict = "online"
	VerdictOffline Verdict = "offline"
	// VerdictUnknown: the probe could not tell (a network error, a login
	// wall, rate limiting, a challenge page); it neither confirms nor
	// clears anything.
	VerdictUnknown Verdict = "unknown"
)

// Reasons a probe gives for its verdict.
const (
	ReasonPresent     = "present"      // online: the page shows the item
	ReasonRemoved     = "removed"      // offline: taken down by the provider
	ReasonSuspended   = "suspended"    // offline: the account or channel is suspended
	ReasonNotFound    = "not_found"    // offline: nothing there
	ReasonWithheld    = "withheld"     // offline: withheld in the probing region
	ReasonNetwork     = "network"      // unknown: no answer (refused, reset, timeout, DNS)
	ReasonLoginWall   = "login_wall"   // unknown: the page wants a login
	ReasonRateLimited = "rate_limited" // unknown: the host throttles
	ReasonChallenge   = "challenge"    // unknown: a bot challenge
	ReasonUnexpected  = "unexpected"   // unknown: an answer no rule explains
	ReasonRefused     = "refused"      // unknown: the safety guard refused the address
)

// Observation is one probe of an item's URL, with its evidence.
type Observation struct {
	ID      int64     `json:"id,omitempty"`
	ItemID  int64     `json:"item_id"`
	At      time.Time `json:"at"`
	Verdict Verdict   `json:"verdict"`
	Reason  string    `json:"reason"`
	// Rule names the classification rule that matched.
	Rule string `json:"rule"`
	// Status is the final HTTP status (0 without an answer), FinalURL
	// where the redirects ended.
	Status   int    `json:"status"`
	FinalURL string `json:"final_url,omitempty"`
	Bytes    int64  `json:"bytes"`
	// LatencyMS is the time to the end of the answer, in milliseconds.
	LatencyMS int64  `json:"latency_ms"`
	Error     string `json:"error,omitempty"`
	// Region is where the probe looked from (withholding is regional).
	Region string `json:"region,omitempty"`
}

// Verification states of an item, after referral.
const (
	// ItemReferred: in a referral a provider received; not yet seen
	// offline.
	ItemReferred ItemStatus = "referred"
	// ItemOnline: probed after referral and still there.
	ItemOnline ItemStatus = "online"
	// ItemOffline: seen offline once; a second observation after the
	// confirmation interval confirms it.
	ItemOffline ItemStatus = "offline"
	// ItemConfirmed: confirmed offline: the only status that counts as
	// taken offline.
	ItemConfirmed ItemStatus = "confirmed_offline"
	// ItemReinstated: confirmed offline once, online again.
	ItemReinstated ItemStatus = "reinstated"
)

// Verification is where an item stands in verification.
type Verification struct {
	Status ItemStatus `json:"status"`
	// ReferredAt is when a provider first received a referral of it: the
	// start of its time to removal.
	ReferredAt *time.Time `json:"referred_at,omitempty"`
	// OfflineSince is the first offline observation of the current run
	// of offline observations; nil while online.
	OfflineSince *time.Time `json:"offline_since,omitempty"`
	// ConfirmedAt is when the current removal was confirmed.
	ConfirmedAt *time.Time `json:"confirmed_at,omitempty"`
	// RemovedAt is the first offline observation of the first confirmed
	// removal: the end of its time to removal.
	RemovedAt *time.Time `json:"removed_at,omitempty"`
	// ReinstatedAt is when a confirmed item was last seen online again.
	ReinstatedAt *time.Time `json:"reinstated_at,omitempty"`
	LastProbeAt  *time.Time `json:"last_probe_at,omitempty"`
	LastVerdict  Verdict    `json:"last_verdict,omitempty"`
	LastReason   string     `json:"last_reason,omitempty"`
	Probes       int        `json:"probes"`
	// NextProbeAt is when the schedule probes it next; nil: not
	// scheduled (not referred yet).
	NextProbeAt *time.Time `json:"next_probe_at,omitempty"`
	// TimeToRemovalSeconds is TimeToRemoval for readers; set by Derive,
	// not stored.
	TimeToRemovalSeconds *int64 `json:"time_to_removal_seconds,omitempty"`
}

// Derive sets the fields computed for readers.
func (v *Verification) Derive() {
	v.TimeToRemovalSeconds = nil
	if d, ok := v.TimeToRemoval(); ok {
		s := int64(d / time.Second)
		v.TimeToRemovalSeconds = &s
	}
}

// TimeToRemoval is from the referral's receipt to the first offline
// observation of a confirmed removal; zero and false until both are known.
func (v *Verification) TimeToRemoval() (time.Duration, bool) {
	if v.ReferredAt == nil || v.RemovedAt == nil {
		return 0, false
	}
	return max(v.RemovedAt.Sub(*v.ReferredAt), 0), true
}

// Change is what an observation changed in a verification.
type Change string

const (
	ChangeNone       Change = ""
	ChangeOffline    Change = "offline"    // first offline observation
	ChangeConfirmed  Change = "confirmed"  // a removal confirmed
	ChangeReinstated Change = "reinstated" // a confirmed item online again
	ChangeOnline     Change = "online"     // an unconfirmed offline item online again, or online after referral
)

// Observe applies an observation: two offline observations at least
// confirmAfter apart confirm a removal; a confirmed item seen online is
// reinstated; an unknown verdict changes nothing but the counters.
// Observations older than the last one applied count for the record but
// change nothing (a slow probe must not undo a newer one).
func (v *Verification) Observe(o Observation, confirmAfter time.Duration) Change {
	if v.LastProbeAt != nil && o.At.Before(*v.LastProbeAt) {
		v.Probes++
		return ChangeNone
	}
	at := o.At
	v.Probes++
	v.LastProbeAt, v.LastVerdict, v.LastReason = &at, o.Verdict, o.Reason
	switch o.Verdict {
	case VerdictOffline:
		switch {
		case v.Status == ItemConfirmed:
			return ChangeNone
		case v.OfflineSince == nil:
			v.OfflineSince = &at
			if confirmAfter <= 0 {
				return v.confirm(at)
			}
			v.Status = ItemOffline
			return ChangeOffline
		case at.Sub(*v.OfflineSince) >= confirmAfter:
			return v.confirm(at)
		}
		v.Status = ItemOffline
		return ChangeNone
	case VerdictOnline:
		v.OfflineSince = nil
		switch v.Status {
		case ItemConfirmed:
			v.Status, v.ReinstatedAt, v.ConfirmedAt = ItemReinstated, &at, nil
			return ChangeReinstated
		case ItemReinstated, ItemOnline:
			return ChangeNone
		}
		v.Status = ItemOnline
		return ChangeOnline
	}
	return ChangeNone
}

func (v *Verification) confirm(at time.Time) Change {
	v.Status, v.ConfirmedAt = ItemConfirmed, &at
	if v.RemovedAt == nil {
		since := *v.OfflineSince
		v.RemovedAt = &since
	}
	return ChangeConfirmed
}

// Schedule is when items are probed: after referral at growing intervals
// until a removal is confirmed, then at a slow rate to catch
// reinstatement.
type Schedule struct {
	// After are the waits after the referral's receipt and after each
	// probe that confirmed nothing; the last repeats.
	After []time.Duration
	// Recheck is the wait between probes of a confirmed item.
	Recheck time.Duration
	// Retry is the wait after an unknown verdict (a network error, rate
	// limiting); at most the next step of After.
	Retry time.Duration
	// ConfirmAfter is the least time between the two offline
	// observations that confirm a removal.
	ConfirmAfter time.Duration
}

// DefaultSchedule probes 1 min, 5 min, 15 min, 1 h and 6 h after referral,
// then daily; confirms after 10 minutes; rechecks confirmed items weekly.
var DefaultSchedule = Schedule{
	After:        []time.Duration{time.Minute, 5 * time.Minute, 15 * time.Minute, time.Hour, 6 * time.Hour, 24 * time.Hour},
	Recheck:      7 * 24 * time.Hour,
	Retry:        2 * time.Minute,
	ConfirmAfter: 10 * time.Minute,
}

// Next is when an item is probed next after an observation at at.
func (s Schedule) Next(v *Verification, at time.Time, verdict Verdict) time.Time {
	step := func(n int) time.Duration {
		if len(s.After) == 0 {
			return time.Hour
		}
		return s.After[min(max(n, 0), len(s.After)-1)]
	}
	switch {
	case v.Status == ItemConfirmed:
		return at.Add(s.Recheck)
	case v.Status == ItemOffline:
		// Confirm as soon as the interval allows.
		return v.OfflineSince.Add(max(s.ConfirmAfter, time.Second))
	}
	// v.Probes counts the observation at at: the first probe (at the
	// receipt) waits After[0] for the next, the second After[1], ...
	wait := step(v.Probes - 1)
	if verdict == VerdictUnknown && s.Retry > 0 {
		wait = min(s.Retry, wait)
	}
	return at.Add(wait)
}

// First is when an item referred at at is probed first.
func (s Schedule) First(at time.Time) time.Time {
	if len(s.After) == 0 {
		return at
	}
	return at.Add(s.After[0])
}

// ProbeTarget is an item as the prober needs it.
type ProbeTarget struct {
	ItemID      int64    `json:"item_id"`
	OperationID int64    `json:"-"`
	URL         string   `json:"url"`
	Platform    Platform `json:"platform"`
	Kind        Kind     `json:"kind"`
}

// RemovalTime is one referred item's time to removal: from the
// provider's receipt to the first offline observation of its confirmed
// removal; RemovedAt is zero while it has none.
type RemovalTime struct {
	ItemID     int64
	Provider   string
	Platform   Platform
	ReferredAt time.Time
	RemovedAt  time.Time
}

// Removed says whether the item has a confirmed removal.
func (t RemovalTime) Removed() bool { return !t.RemovedAt.IsZero() }

// RemovalFigure sums up the times to removal of a group of items (a
// provider's, a platform's).
type RemovalFigure struct {
	Group  string `json:"group"`
	Count  int    `json:"count"`
	Median int64  `json:"median_seconds"`
	P90    int64  `json:"p90_seconds"`
	Min    int64  `json:"min_seconds"`
	Max    int64  `json:"max_seconds"`
}

// SummarizeRemovalTimes groups times to removal by key and sums each group
// up, groups sorted by name.
func SummarizeRemovalTimes(ts []RemovalTime, key func(RemovalTime) string) []RemovalFigure {
	groups := map[string][]time.Duration{}
	for _, t := range ts {
		if t.Removed() {
			groups[key(t)] = append(groups[key(t)], max(t.RemovedAt.Sub(t.ReferredAt), 0))
		}
	}
	var out []RemovalFigure
	for g, ds := range groups {
		slices.Sort(ds)
		out = append(out, RemovalFigure{Group: g, Count: len(ds), Median: secs(quantile(ds, 0.5)), P90: secs(quantile(ds, 0.9)),
			Min: secs(ds[0]), Max: secs(ds[len(ds)-1])})
	}
	slices.SortFunc(out, func(a, b RemovalFigure) int { return cmp.Compare(a.Group, b.Group) })
	return out
}

// quantile of sorted durations, nearest rank.
func quantile(sorted []time.Duration, q float64) time.Duration {
	i := int(float64(len(sorted))*q+0.999999) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

func secs(d time.Duration) int64 { return int64(d / time.Second) }

// VerificationService records probes and serves the figures built on them.
type VerificationService interface {
	// ClaimDueProbes returns up to limit items whose next probe is due at
	// now, earliest first, and moves their next probe to now+lease, so
	// that concurrent workers do not probe the same item; recording an
	// observation sets the real next time.
	ClaimDueProbes(ctx context.Context, now time.Time, limit int, lease time.Duration) ([]ProbeTarget, error)
	// ProbeTargets returns the items of an operation that f selects, as
	// the prober needs them, after item afterID in ID order, up to limit.
	ProbeTargets(ctx context.Context, f ItemFilter, afterID int64, limit int) ([]ProbeTarget, error)
	// RecordObservations stores observations with their evidence and
	// applies each to its item's verification (Verification.Observe)
	// under s, in one transaction; a confirmation or a reinstatement is
	// recorded in the audit chain. It returns the changes, one per
	// observation. Returns ENOTFOUND for an unknown item.
	RecordObservations(ctx context.Context, obs []Observation, s Schedule) ([]Change, error)
	// ListObservations returns an item's observations, newest first, up
	// to limit.
	ListObservations(ctx context.Context, itemID int64, limit int) ([]Observation, error)
	// FindVerification returns an item's verification.
	FindVerification(ctx context.Context, itemID int64) (*Verification, error)
	// RemovalTimes returns the times to removal of an operation's items
	// a provider received, with a zero RemovedAt for those without a
	// confirmed removal (still online, as of now: censored).
	RemovalTimes(ctx context.Context, operationID int64) ([]RemovalTime, error)
	// CountByStatus counts an operation's items by status.
	CountByStatus(ctx context.Context, operationID int64) (map[ItemStatus]int, error)
	// Breakdown counts an operation's items by kind, platform,
	// submitting agency (an item counts once for each agency that
	// submitted it) and provider ("" for none yet), each by status;
	// sorted by dimension (as in Dimensions), group and status.
	Breakdown(ctx context.Context, operationID int64) ([]BreakdownRow, error)
}

// Figures are an operation's counts and times to removal as of a moment.
type Figures struct {
	Operation string    `json:"operation"`
	AsOf      time.Time `json:"as_of"`
	// Preliminary: the operation is still open, and the figures move.
	Preliminary bool `json:"preliminary"`
	// Items counts the items by status; only confirmed_offline counts as
	// taken offline.
	Items map[ItemStatus]int `json:"items"`
	// TimeToRemoval: from the referral's receipt to the first offline
	// observation of a confirmed removal, over all items, per provider
	// and per platform.
	TimeToRemoval struct {
		All        []RemovalFigure `json:"all"`
		ByProvider []RemovalFigure `json:"by_provider"`
		ByPlatform []RemovalFigure `json:"by_platform"`
	} `json:"time_to_removal"`
}

// TakenOffline is the figure an operation reports as taken offline: the
// items confirmed offline, nothing else.
func (f *Figures) TakenOffline() int { return f.Items[ItemConfirmed] }

// OperationFigures computes an operation's figures as of now.
func OperationFigures(ctx context.Context, st VerificationService, op *Operation, now time.Time) (*Figures, error) {
	counts, err := st.CountByStatus(ctx, op.ID)
	if err != nil {
		return nil, err
	}
	times, err := st.RemovalTimes(ctx, op.ID)
	if err != nil {
		return nil, err
	}
	f := &Figures{Operation: op.Slug, AsOf: now.UTC().Truncate(time.Second), Preliminary: op.Status == OperationOpen, Items: counts}
	if f.Items == nil {
		f.Items = map[ItemStatus]int{}
	}
	group := func(key func(RemovalTime) string) []RemovalFigure {
		if g := SummarizeRemovalTimes(times, key); g != nil {
			return g
		}
		return []RemovalFigure{}
	}
	f.TimeToRemoval.All = group(func(RemovalTime) string { return "all" })
	f.TimeToRemoval.ByProvider = group(func(t RemovalTime) string { return t.Provider })
	f.TimeToRemoval.ByPlatform = group(func(t RemovalTime) string { return string(t.Platform) })
	return f, nil
}

// ObservedItem is an item as a store reads it to apply observations to
// it: its verification, and what the audit chain names it by.
type ObservedItem struct {
	ID, OperationID int64
	Operation, URL  string
	Verification    Verification
}

// PrepareObservations checks observations and returns them as stored:
// times in UTC, to the microsecond (what both stores keep); a zero time is
// now.
func PrepareObservations(obs []Observation, now time.Time) ([]Observation, error) {
	out := slices.Clone(obs)
	for i := range out {
		o := &out[i]
		switch o.Verdict {
		case VerdictOnline, VerdictOffline, VerdictUnknown:
		default:
			return nil, Errorf(EINVALID, "observation of item %d: verdict %q: want online, offline or unknown", o.ItemID, o.Verdict)
		}
		if o.At.IsZero() {
			o.At = now
		}
		o.At = o.At.UTC().Truncate(time.Microsecond)
	}
	return out, nil
}

// ApplyObservations applies each item's observations in time order (a
// batch may hold an item's observations out of order; those older than
// the item's last probe count but change nothing) and returns the changes,
// in the order of obs, and the chain's records of confirmations and
// reinstatements. Every observed item must be in items.
//
// The verification of an item no provider has received yet does not
// start: its observation is kept and counted (probes, last probe, verdict
// and reason), but it neither takes the item offline nor schedules it, and
// the item stays submitted. Counting it would credit a referral with a
// removal that came before it.
func ApplyObservations(obs []Observation, items map[int64]*ObservedItem, s Schedule) ([]Change, []AuditRecord) {
	order := make([]int, len(obs))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int {
		return cmp.Or(cmp.Compare(obs[a].ItemID, obs[b].ItemID), obs[a].At.Compare(obs[b].At))
	})
	changes := make([]Change, len(obs))
	var recs []AuditRecord
	for _, i := range order {
		o := obs[i]
		it := items[o.ItemID]
		v := &it.Verification
		if v.ReferredAt == nil {
			w := *v
			w.Observe(o, s.ConfirmAfter)
			v.Probes, v.LastProbeAt, v.LastVerdict, v.LastReason = w.Probes, w.LastProbeAt, w.LastVerdict, w.LastReason
			continue
		}
		applied := v.LastProbeAt == nil || !o.At.Before(*v.LastProbeAt)
		changes[i] = v.Observe(o, s.ConfirmAfter)
		if applied {
			next := s.Next(v, o.At, o.Verdict).UTC().Truncate(time.Microsecond)
			v.NextProbeAt = &next
		}
		switch changes[i] {
		case ChangeConfirmed:
			recs = append(recs, AuditConfirmed(it.Operation, it.ID, it.URL, v, o))
		case ChangeReinstated:
			recs = append(recs, AuditReinstated(it.Operation, it.ID, it.URL, v, o))
		}
	}
	return changes, recs
}
