package simnet

import (
	"slices"
	"time"

	"github.com/takedown-project/takedown/internal/simnet/synth"
)

// Status is how an entity shows to a visitor at a moment.
type Status int

const (
	StatusLive     Status = iota
	StatusMissing         // never existed, or not yet
	StatusRemoved         // taken down by its provider (or its channel or site was)
	StatusWithheld        // blocked in the visitor's region
)

func (s Status) String() string {
	return [...]string{"live", "missing", "removed", "withheld"}[s]
}

// entityState is what happened to an entity; times may lie in the future,
// when a provider has decided but not yet acted.
type entityState struct {
	removedAt    time.Time // zero: not removed
	reinstatedAt time.Time // zero: not reinstated
	blockedAt    time.Time // zero: not withheld anywhere
	blockedIn    []string
	successor    *Entity
}

// Status returns how e shows at now to a visitor from region. A removed
// channel takes its posts with it, and a suspended site its pages.
func (w *World) Status(e *Entity, now time.Time, region string) Status {
	if e == nil || e.Created.After(now) {
		return StatusMissing
	}
	w.mu.RLock()
	defer w.mu.RUnlock()
	withheld := false
	for x := e; x != nil; x = x.Parent {
		st := w.state[x.ID]
		if st == nil {
			continue
		}
		if !st.removedAt.IsZero() && !st.removedAt.After(now) && (st.reinstatedAt.IsZero() || st.reinstatedAt.After(now)) {
			return StatusRemoved
		}
		if !st.blockedAt.IsZero() && !st.blockedAt.After(now) && slices.Contains(st.blockedIn, region) {
			withheld = true
		}
	}
	if withheld {
		return StatusWithheld
	}
	return StatusLive
}

// Removal outcomes a provider answers with.
const (
	OutcomeRemoved  = "removed"   // removed or suspended everywhere
	OutcomeDisabled = "disabled"  // access disabled in some regions only
	OutcomeRejected = "rejected"  // the provider keeps it, with a reason
	OutcomeNotFound = "not_found" // nothing at that address (or not this provider's)
	OutcomePending  = "pending"   // not decided yet, or never: some providers stay silent
)

// Legal bases of a report.
const (
	BasisReferral     = "referral"      // voluntary: checked against the terms of service
	BasisRemovalOrder = "removal_order" // Regulation (EU) 2021/784: one hour
)

// Decision is a provider's answer about one reported URL.
type Decision struct {
	URL    string  `json:"url"`
	Entity *Entity `json:"-"`
	// Outcome is what the provider will answer; OutcomePending forever
	// when it ignores the report.
	Outcome   string    `json:"outcome"`
	DecidedAt time.Time `json:"decided_at,omitzero"` // zero for no answer
	Reason    string    `json:"reason,omitempty"`
	Regions   []string  `json:"regions,omitempty"`
	// ReinstatedAt is when a removal is reversed; zero if it is not.
	ReinstatedAt time.Time `json:"reinstated_at,omitzero"`
}

// decide returns what provider p does about e, reported at `at` on a legal
// basis. The decision depends only on the seed, the entity and the basis:
// the same report gives the same answer in every run, and a second report
// on the same basis changes nothing.
func (w *World) decide(platform string, p ProviderSpec, e *Entity, rawURL, basis string, at time.Time) Decision {
	d := Decision{URL: rawURL, Entity: e}
	// A provider answers about what it hosts and what exists.
	if e == nil || hostPlatform(e) != platform || w.Status(e, at, "") == StatusMissing {
		d.Outcome, d.DecidedAt = OutcomeNotFound, at.Add(time.Duration(5+int(uniform(w.Seed, "notfound-delay", uint64(fnv64(rawURL)))*55))*time.Minute)
		return d
	}
	id := uint64(e.ID)
	delay := p.RemovalDelay
	if basis == BasisRemovalOrder {
		delay = p.OrderDelay
	}
	d.DecidedAt = at.Add(delay.Quantile(uniform(w.Seed, "delay/"+basis, id)))
	u := uniform(w.Seed, "decision/"+basis, id)
	switch {
	case u < p.Reject && basis == BasisReferral:
		// Removal orders are binding: a provider may contest one, but the
		// simulated ones comply.
		d.Outcome = OutcomeRejected
		d.Reason = p.RejectReasons[int(uniform(w.Seed, "reason", id)*float64(len(p.RejectReasons)))]
	case u < p.Reject+p.RegionBlock:
		d.Outcome, d.Regions = OutcomeDisabled, slices.Clone(p.BlockedRegions)
	case u < p.Reject+p.RegionBlock+p.Ignore && basis == BasisReferral:
		d.Outcome, d.DecidedAt = OutcomePending, time.Time{}
	default:
		d.Outcome = OutcomeRemoved
		if uniform(w.Seed, "reinstate", id) < p.Reinstate {
			d.ReinstatedAt = d.DecidedAt.Add(p.ReinstateDelay.Quantile(uniform(w.Seed, "reinstate-delay", id)))
		}
	}
	return d
}

// hostPlatform is the provider that hosts e.
func hostPlatform(e *Entity) string { return e.Platform }

// apply makes a decision take effect (at its time, which may be in the
// future) and lets the adversary react to a removal.
func (w *World) apply(d Decision) {
	e := d.Entity
	if e == nil || d.DecidedAt.IsZero() {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	st := w.state[e.ID]
	if st == nil {
		st = &entityState{}
		w.state[e.ID] = st
	}
	switch d.Outcome {
	case OutcomeRemoved:
		if st.removedAt.IsZero() || d.DecidedAt.Before(st.removedAt) {
			st.removedAt, st.reinstatedAt = d.DecidedAt, d.ReinstatedAt
		}
		if e.IsContainer() && st.successor == nil {
			st.successor = w.recreateLocked(e, d.DecidedAt)
		}
	case OutcomeDisabled:
		if st.blockedAt.IsZero() || d.DecidedAt.Before(st.blockedAt) {
			st.blockedAt = d.DecidedAt
		}
		for _, r := range d.Regions {
			if !slices.Contains(st.blockedIn, r) {
				st.blockedIn = append(st.blockedIn, r)
			}
		}
	}
}

// recreateLocked is the adversary: a share of removed channels, groups and
// accounts comes back after a delay under a mutated name, with the same
// logo varied, the same texts edited and the same links, sometimes on
// another platform. It returns the successor, or nil. w.mu is held.
func (w *World) recreateLocked(e *Entity, removedAt time.Time) *Entity {
	a := w.Scenario.Adversary
	id := uint64(e.ID)
	if e.Generation >= a.Generations || uniform(w.Seed, "recreate", id) >= a.Recreate {
		return nil
	}
	r := rng(w.Seed, "successor", id)
	platform := e.Platform
	if uniform(w.Seed, "cross-platform", id) < a.CrossPlatform {
		others := []string{}
		for _, p := range []string{Telegram, X, YouTube} {
			if p != e.Platform {
				others = append(others, p)
			}
		}
		platform = others[r.IntN(len(others))]
	}
	s := &Entity{
		ID: w.nextID, Platform: platform, Kind: e.Kind, Outlet: e.Outlet, Language: e.Language,
		Predecessor: e, Generation: e.Generation + 1, Subscribers: max(10, e.Subscribers/(5+r.IntN(20))),
		Created:        removedAt.Add(a.Delay.Quantile(uniform(w.Seed, "recreate-delay", id))),
		avatarMutation: r.Uint64() | 1,
	}
	w.nextID++
	var ops []string
	if platform == e.Platform {
		s.Handle, ops = synth.MutateHandle(r, e.Handle, platform)
	} else {
		s.Handle, ops = synth.MutateHandleCrossPlatform(r, e.Handle, e.Platform, platform)
		ops = append([]string{"platform:" + e.Platform + "->" + platform}, ops...)
	}
	for tries := 0; w.taken(platform, s.Handle); tries++ {
		var more []string
		s.Handle, more = synth.MutateHandle(r, s.Handle, platform)
		ops = append(ops, more...)
	}
	if platform != e.Platform {
		s.Kind = map[string]string{Telegram: KindChannel, X: KindAccount, YouTube: KindChannel}[platform]
	}
	title, titleOps := synth.MutateTitle(r, e.Title)
	desc, _ := synth.EditText(r, e.Description)
	s.Title, s.Description = title, desc
	s.Mutations = append(append(ops, prefixed("title:", titleOps)...), "avatar", "posts:reposted")
	s.PostCount = 3 + r.IntN(max(1, min(e.PostCount, recentPosts)))
	switch platform {
	case Telegram:
		s.URL = "https://t.me/" + s.Handle
	case X:
		s.URL = "https://x.com/" + s.Handle
	case YouTube:
		s.Code = "UC" + randomCode(r, 22)
		s.URL = "https://www.youtube.com/@" + s.Handle
	}
	w.register(s)
	w.successors = append(w.successors, s)
	// The outlet's other channels point their followers to it soon after.
	w.announcements[e.Outlet.ID] = append(w.announcements[e.Outlet.ID], announcement{at: s.Created.Add(time.Duration(10+r.IntN(120)) * time.Minute), successor: s})
	return s
}

func prefixed(p string, ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = p + s
	}
	return out
}

// Succession is one line of the adversary's ground truth: a successor and
// the removed entity it replaces.
type Succession struct {
	Successor      string    `json:"successor"`
	SuccessorID    int       `json:"successor_id"`
	Predecessor    string    `json:"predecessor"`
	PredecessorID  int       `json:"predecessor_id"`
	Platform       string    `json:"platform"`
	Generation     int       `json:"generation"`
	PredecessorOff time.Time `json:"predecessor_removed_at"`
	CreatedAt      time.Time `json:"created_at"`
	Mutations      []string  `json:"mutations"`
}

// Truth returns the successions the adversary has made by now, or also
// the ones it has scheduled when all is set, in creation order.
func (w *World) Truth(now time.Time, all bool) []Succession {
	w.mu.RLock()
	defer w.mu.RUnlock()
	out := []Succession{}
	for _, s := range w.successors {
		if !all && s.Created.After(now) {
			continue
		}
		p := s.Predecessor
		out = append(out, Succession{
			Successor: s.URL, SuccessorID: s.ID, Predecessor: p.URL, PredecessorID: p.ID,
			Platform: s.Platform, Generation: s.Generation, PredecessorOff: w.state[p.ID].removedAt,
			CreatedAt: s.Created, Mutations: s.Mutations,
		})
	}
	slices.SortStableFunc(out, func(a, b Succession) int { return a.CreatedAt.Compare(b.CreatedAt) })
	return out
}
