package takedown

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Resurgence: after an action day the network re-creates its channels
// under new names, with the same logos, texts and links. takedown keeps
// what each item's page showed (its signals), reads the pages of the
// items it watches again to find the links and mentions that point to new
// channels (candidates), scores every candidate against the operation's
// removed items, and lists the pairs above a threshold as matches for an
// analyst to confirm or reject. A confirmed match links a successor to its
// predecessor; chains follow (a successor's successor).

// ItemCandidate is the status of an item takedown found itself (linked or
// mentioned by an item it watches) and no agency submitted: it is matched
// against removed items, but never referred unless an analyst confirms it
// as a successor in an operation that refers successors, or an agency
// submits it.
const ItemCandidate ItemStatus = "candidate"

// CandidateCounts are what a new candidate adds to its operation's item
// counts: one under its kind, platform and provider (none yet); no
// agency has submitted it.
func CandidateCounts(r Recognition) []BreakdownRow {
	return []BreakdownRow{
		{Dimension: "kind", Group: string(r.Kind), Status: ItemCandidate, Count: 1},
		{Dimension: "platform", Group: string(r.Platform), Status: ItemCandidate, Count: 1},
		{Dimension: "provider", Group: "", Status: ItemCandidate, Count: 1},
	}
}

// SuccessorPolicy says what an operation does about resurgence.
type SuccessorPolicy string

const (
	// SuccessorsReview, the default: watch, match, and list the matches
	// for review.
	SuccessorsReview SuccessorPolicy = "review"
	// SuccessorsRefer: as review, and a confirmed successor goes into
	// the next referral batch (holds still apply).
	SuccessorsRefer SuccessorPolicy = "refer"
	// SuccessorsOff: no watching and no matching.
	SuccessorsOff SuccessorPolicy = "off"
)

// ItemSignals is what an item's page showed, as the matcher reads it:
// computed from a capture before the item was referred (a removed item's
// page is gone) or from a later read of a watched item.
type ItemSignals struct {
	ItemID int64     `json:"item_id"`
	At     time.Time `json:"at"`
	// CaptureID is the capture the signals were last computed from (0:
	// none, only watch reads).
	CaptureID   int64    `json:"capture_id,omitempty"`
	Title       string   `json:"title,omitempty"`
	Description string   `json:"description,omitempty"`
	Posts       []string `json:"posts,omitempty"`
	Links       []string `json:"links,omitempty"`
	// AvatarPDQ is the avatar's PDQ hash in hex, with its quality (0-100);
	// empty without an avatar.
	AvatarPDQ     string `json:"avatar_pdq,omitempty"`
	AvatarQuality int    `json:"avatar_quality,omitempty"`
}

// Limits of what signals keep of a page: enough to match a channel on
// (a channel preview shows 20 posts), bounded against pages that go on.
const (
	MaxSignalPosts      = 40
	MaxSignalPostBytes  = 2048
	MaxSignalLinks      = 100
	MaxSignalTextBytes  = 4096
	maxSignalLinkLength = 2048
)

// Trim cuts signals to the limits (at rune boundaries) and returns them
// as stored: time in UTC to the microsecond.
func (s *ItemSignals) Trim() {
	s.At = s.At.UTC().Truncate(time.Microsecond)
	s.Title = truncateUTF8(s.Title, MaxSignalTextBytes)
	s.Description = truncateUTF8(s.Description, MaxSignalTextBytes)
	if len(s.Posts) > MaxSignalPosts {
		s.Posts = s.Posts[:MaxSignalPosts]
	}
	for i := range s.Posts {
		s.Posts[i] = truncateUTF8(s.Posts[i], MaxSignalPostBytes)
	}
	links := s.Links[:0:0]
	for _, l := range s.Links {
		if len(l) <= maxSignalLinkLength && len(links) < MaxSignalLinks {
			links = append(links, l)
		}
	}
	s.Links = links
}

// truncateUTF8 cuts s to at most n bytes at a rune boundary, as valid
// UTF-8 without NUL bytes (which PostgreSQL's text refuses).
func truncateUTF8(s string, n int) string {
	s = strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "")
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// Validate reports an EINVALID error for signals that cannot be stored.
func (s *ItemSignals) Validate() error {
	switch {
	case s.ItemID <= 0:
		return Errorf(EINVALID, "signals need their item")
	case s.AvatarPDQ != "" && len(s.AvatarPDQ) != 64:
		return Errorf(EINVALID, "avatar hash %q: want 64 hex digits", s.AvatarPDQ)
	case s.AvatarQuality < 0 || s.AvatarQuality > 100:
		return Errorf(EINVALID, "avatar quality %d: want 0 to 100", s.AvatarQuality)
	}
	return nil
}

// SignalSource is a capture to compute an item's signals from.
type SignalSource struct {
	ItemID    int64    `json:"item_id"`
	Operation string   `json:"operation"`
	URL       string   `json:"url"`
	Platform  Platform `json:"platform"`
	Kind      Kind     `json:"kind"`
	Handle    string   `json:"handle,omitempty"`
	CaptureID int64    `json:"capture_id"`
	Location  string   `json:"location"`
}

// WatchTarget is an item whose page is read again: a live channel or
// account of an operation that watches for successors (its posts point
// to new channels), or a candidate found by such a read.
type WatchTarget struct {
	ItemID    int64      `json:"item_id"`
	Operation string     `json:"operation"`
	URL       string     `json:"url"`
	Platform  Platform   `json:"platform"`
	Kind      Kind       `json:"kind"`
	Handle    string     `json:"handle,omitempty"`
	Status    ItemStatus `json:"status"`
	// HasSignals says whether the item has signals already (a candidate
	// without them needs its avatar fetched).
	HasSignals bool `json:"has_signals"`
}

// Discovery is an item found on a watched item's page: a link or a
// mention of a channel or account the operation does not know yet.
type Discovery struct {
	Recognition
	// Via is how it was found: "link" or "mention".
	Via string `json:"via"`
}

// WatchResult is what one read of a watched item found.
type WatchResult struct {
	ItemID int64
	At     time.Time
	// Signals are the item's signals as read now; nil when the page
	// could not be read (they stay as they were).
	Signals *ItemSignals
	// Found are the items its page linked to or mentioned.
	Found []Discovery
}

// WatchPolicy is how often watched items are read again.
type WatchPolicy struct {
	// ReadBefore: an item last read after it is not due.
	ReadBefore time.Time
}

// SignalRecord is an item's signals with what the matcher needs of the
// item.
type SignalRecord struct {
	ItemSignals
	Operation string     `json:"operation"`
	URL       string     `json:"url"`
	Platform  Platform   `json:"platform"`
	Kind      Kind       `json:"kind"`
	Handle    string     `json:"handle,omitempty"`
	Status    ItemStatus `json:"status"`
	// Since is when the item became matchable as it is: for a removed
	// item, the later of its confirmation and its signals; for a
	// candidate, when its signals were recorded.
	Since time.Time `json:"since"`
	// MatchedAt is when a candidate was last matched (nil: never).
	MatchedAt *time.Time `json:"matched_at,omitempty"`
}

// MatchState is where a match stands in review.
type MatchState string

const (
	MatchOpen      MatchState = "open"
	MatchConfirmed MatchState = "confirmed"
	MatchRejected  MatchState = "rejected"
)

// Match is a candidate successor of a removed item, with its score and
// the signals that made it, and the analyst's verdict.
type Match struct {
	ID            int64              `json:"id"`
	OperationID   int64              `json:"-"`
	Operation     string             `json:"operation"`
	SuccessorID   int64              `json:"successor_id"`
	PredecessorID int64              `json:"predecessor_id"`
	Score         float64            `json:"score"`
	Signals       map[string]float64 `json:"signals"`
	State         MatchState         `json:"state"`
	FoundAt       time.Time          `json:"found_at"`
	ReviewedAt    *time.Time         `json:"reviewed_at,omitempty"`
	ReviewedBy    string             `json:"reviewed_by,omitempty"`
	Note          string             `json:"note,omitempty"`
	// The two items as a reviewer sees them, filled when read.
	Successor   MatchItem `json:"successor"`
	Predecessor MatchItem `json:"predecessor"`
}

// MatchItem is one side of a match as a list shows it.
type MatchItem struct {
	Identity string     `json:"identity"`
	URL      string     `json:"url"`
	Platform Platform   `json:"platform"`
	Kind     Kind       `json:"kind"`
	Handle   string     `json:"handle,omitempty"`
	Status   ItemStatus `json:"status"`
}

// ScoredPair is one pair the matcher scored at or above the threshold.
type ScoredPair struct {
	PredecessorID int64
	Score         float64
	Signals       map[string]float64
}

// CandidateMatches is a matching round's result for one candidate: every
// pair at or above the threshold (none is a result too: the candidate
// was matched).
type CandidateMatches struct {
	SuccessorID int64
	// SignalsAt is the time of the signals the round matched: signals
	// recorded since are matched again next round.
	SignalsAt time.Time
	Pairs     []ScoredPair
}

// MatchInputFilter selects the signals a matching round reads.
type MatchInputFilter struct {
	OperationID int64
	// Removed: the removed (confirmed offline) items; else the
	// candidates (items of every status but offline and confirmed
	// offline).
	Removed bool
	// ChangedAfter: only those matchable as they are since after it.
	ChangedAfter time.Time
	// Unmatched: only candidates never matched with their signals.
	Unmatched bool
	AfterID   int64
	Limit     int
}

// MatchFilter selects matches.
type MatchFilter struct {
	OperationID int64
	State       MatchState // "" for all
	// ItemID selects the matches an item is either side of.
	ItemID  int64
	AfterID int64 // matches with a larger ID (paging)
	Limit   int
}

// MatchReview is an analyst's verdict on a match.
type MatchReview struct {
	State MatchState `json:"state"` // confirmed or rejected
	Note  string     `json:"note,omitempty"`
	// Agency is the reviewer's agency: a confirmed successor that goes
	// to referral is submitted in its name.
	Agency string `json:"-"`
}

// Validate reports an EINVALID error for a review that cannot be stored.
func (r *MatchReview) Validate() error {
	if r.State != MatchConfirmed && r.State != MatchRejected {
		return Errorf(EINVALID, "review %q: want confirmed or rejected", r.State)
	}
	if len(r.Note) > 4000 {
		return Errorf(EINVALID, "a review note is at most 4000 bytes")
	}
	return nil
}

// MatchCounts are an operation's resurgence counts.
type MatchCounts struct {
	Open      int `json:"open"`
	Confirmed int `json:"confirmed"`
	Rejected  int `json:"rejected"`
	// Candidates are the items takedown found itself, not (yet)
	// submitted by an agency nor confirmed.
	Candidates int `json:"candidates"`
	// Successors are the items confirmed as a successor; Referred those
	// of them a provider has received since.
	Successors int `json:"successors"`
	Referred   int `json:"referred"`
}

// ReviewPlan checks a review of m under the operation's policy and
// returns the submission that puts a confirmed candidate successor into
// the next referral batch (its agency's ID is the store's to fill), or
// nil when the review submits nothing.
func ReviewPlan(m *Match, r MatchReview, policy SuccessorPolicy, now time.Time, by string) (*NewSubmission, error) {
	if m.State != MatchOpen {
		return nil, Errorf(ECONFLICT, "match %d was %s already", m.ID, m.State)
	}
	if r.State != MatchConfirmed || policy != SuccessorsRefer || m.Successor.Status != ItemCandidate {
		return nil, nil
	}
	if r.Agency == "" {
		return nil, Errorf(EINVALID, "operation %s refers confirmed successors in the name of the reviewer's agency, and the reviewer has none", m.Operation)
	}
	s := m.Successor
	return &NewSubmission{
		Item: Recognition{Identity: s.Identity, Canonical: s.URL, Platform: s.Platform, Kind: s.Kind, Handle: s.Handle},
		Submission: Submission{RawInput: s.URL, Source: "resurgence", SubmittedAt: now,
			Notes: fmt.Sprintf("successor of item %d (%s): match %d, score %.3f, confirmed by %s", m.PredecessorID, m.Predecessor.URL, m.ID, m.Score, by)},
	}, nil
}

// ResurgenceTime is one removed item's resurgence: when it was removed
// (the first offline observation of its confirmed removal, as the time to
// removal ends) and when its first confirmed successor was first seen
// (nil: not back, as of now: censored).
type ResurgenceTime struct {
	ItemID    int64
	Platform  Platform
	RemovedAt time.Time
	BackAt    *time.Time
}

// ResurgenceService keeps signals and matches.
type ResurgenceService interface {
	// DueSignals returns up to limit successful captures, after capture
	// afterCapture in ID order, of channels, groups and accounts of
	// operations that watch for successors, that are newer than what fed
	// their item's signals: a reader keeps its place by capture ID and
	// reads only what came since.
	DueSignals(ctx context.Context, afterCapture int64, limit int) ([]SignalSource, error)
	// RecordSignals stores signals (computed from a capture when
	// CaptureID is set), replacing an item's earlier ones; the item is
	// matched again. Returns ENOTFOUND for an unknown item.
	RecordSignals(ctx context.Context, s []*ItemSignals) error
	// DueWatch returns up to limit items to read again: candidates never
	// read, and live channels, accounts and groups (not offline, not
	// confirmed offline) of open operations that watch for successors,
	// last read before p.ReadBefore, least recently read first.
	DueWatch(ctx context.Context, p WatchPolicy, limit int) ([]WatchTarget, error)
	// RecordWatch records reads: the item's new signals, and the items
	// found that its operation does not have yet, as candidates (audited
	// with the item that led to them). It returns how many candidates
	// were new.
	RecordWatch(ctx context.Context, rs []WatchResult) (int, error)
	// MatchInputs returns the signals of an operation's items that f
	// selects, in ID order.
	MatchInputs(ctx context.Context, f MatchInputFilter) ([]*SignalRecord, error)
	// RecordMatches records a round's results at at: each candidate is
	// marked matched at at; a new pair becomes an open match, an open
	// one gets its new score, a reviewed one stays as it was.
	RecordMatches(ctx context.Context, operationID int64, at time.Time, rs []CandidateMatches) (int, error)
	// ListMatches returns the matches f selects, in ID order (paging
	// with AfterID).
	ListMatches(ctx context.Context, f MatchFilter) ([]*Match, error)
	// FindMatch returns a match. Returns ENOTFOUND if there is none.
	FindMatch(ctx context.Context, id int64) (*Match, error)
	// ReviewMatch records an analyst's verdict on an open match.
	// Confirmed, the successor is linked to its predecessor, and, in an
	// operation that refers successors, a candidate successor is
	// submitted in the reviewer's agency's name and goes into the next
	// referral batch (holds still apply). Returns ECONFLICT for a match
	// reviewed already, EINVALID for a bad review or an agency that does
	// not take part.
	ReviewMatch(ctx context.Context, id int64, r MatchReview) (*Match, error)
	// CountMatches counts an operation's matches by state, the
	// candidates found, and the confirmed successors referred since.
	CountMatches(ctx context.Context, operationID int64) (*MatchCounts, error)
	// ResurgenceTimes returns, for each removed channel, group or
	// account of the operation (confirmed offline now, or a confirmed
	// predecessor), when it was removed and when its first confirmed
	// successor was first seen. Posts, files and websites do not come
	// back as successors and are not counted.
	ResurgenceTimes(ctx context.Context, operationID int64) ([]ResurgenceTime, error)
}

// AuditDiscovered records a candidate found on a watched item's page.
func AuditDiscovered(operation string, itemID int64, url string, via int64, how string) AuditRecord {
	return AuditRecord{Action: "item.discovered", Subject: "item:" + strconv.FormatInt(itemID, 10), Operation: operation,
		Details: map[string]any{"url": url, "found_on_item": via, "via": how}}
}

// AuditMatchFound records a new match.
func AuditMatchFound(operation string, m *Match) AuditRecord {
	return AuditRecord{Action: "match.found", Subject: "match:" + strconv.FormatInt(m.ID, 10), Operation: operation,
		Details: map[string]any{"successor": m.SuccessorID, "predecessor": m.PredecessorID, "score": m.Score, "signals": m.Signals}}
}

// AuditMatchReviewed records an analyst's verdict.
func AuditMatchReviewed(operation string, m *Match, referred bool) AuditRecord {
	d := map[string]any{"successor": m.SuccessorID, "predecessor": m.PredecessorID, "score": m.Score, "state": m.State}
	if m.Note != "" {
		d["note"] = m.Note
	}
	if referred {
		d["to_referral"] = true
	}
	return AuditRecord{Action: "match." + string(m.State), Subject: "match:" + strconv.FormatInt(m.ID, 10), Operation: operation, Details: d}
}

// ResurgenceFigure sums up the resurgence of a group of removed items
// (a platform's, or all).
type ResurgenceFigure struct {
	Group   string `json:"group"`
	Removed int    `json:"removed"`
	// Back counts the removed items with a confirmed successor; Share is
	// Back/Removed.
	Back  int     `json:"back"`
	Share float64 `json:"share"`
	// Times to resurgence of those that came back: from the
	// predecessor's removal to its successor's first sighting.
	Median int64 `json:"median_seconds"`
	P90    int64 `json:"p90_seconds"`
	Min    int64 `json:"min_seconds"`
	Max    int64 `json:"max_seconds"`
	// NotBack is the Kaplan-Meier estimate of "not yet back after t since
	// removal", with the removed items not back counted as censored at
	// now.
	NotBack []SurvivalPoint `json:"not_back"`
}

// SurvivalPoint is one step of a Kaplan-Meier curve: after Seconds, the
// estimated share still surviving, and how many were still at risk.
type SurvivalPoint struct {
	Seconds  int64   `json:"seconds"`
	Survival float64 `json:"survival"`
	AtRisk   int     `json:"at_risk"`
}

// KaplanMeier estimates a survival curve from durations, each an event
// (event[i] true) or censored (observed for that long without one). It
// returns one point per distinct event time, starting at (0, 1).
func KaplanMeier(durations []time.Duration, event []bool) []SurvivalPoint {
	idx := make([]int, len(durations))
	for i := range idx {
		idx[i] = i
	}
	// Events before censorings at the same time: a censored item was at
	// risk at that moment.
	slices.SortFunc(idx, func(a, b int) int {
		if c := cmp.Compare(durations[a], durations[b]); c != 0 {
			return c
		}
		switch {
		case event[a] && !event[b]:
			return -1
		case event[b] && !event[a]:
			return 1
		}
		return 0
	})
	out := []SurvivalPoint{{Seconds: 0, Survival: 1, AtRisk: len(durations)}}
	s, atRisk := 1.0, len(durations)
	for i := 0; i < len(idx); {
		d := durations[idx[i]]
		events, leaving := 0, 0
		for i < len(idx) && durations[idx[i]] == d {
			if event[idx[i]] {
				events++
			}
			leaving++
			i++
		}
		if events > 0 {
			s *= 1 - float64(events)/float64(atRisk)
			out = append(out, SurvivalPoint{Seconds: secs(d), Survival: float64(int(s*1e6+0.5)) / 1e6, AtRisk: atRisk})
		}
		atRisk -= leaving
	}
	return out
}

// Resurgence is an operation's resurgence figures as of a moment.
type Resurgence struct {
	Operation   string             `json:"operation"`
	AsOf        time.Time          `json:"as_of"`
	Preliminary bool               `json:"preliminary"`
	Matches     MatchCounts        `json:"matches"`
	All         []ResurgenceFigure `json:"all"`
	ByPlatform  []ResurgenceFigure `json:"by_platform"`
}

// OperationResurgence computes an operation's resurgence figures as of
// now: of its removed items, how many came back and how fast, overall
// and per platform of the removed item.
func OperationResurgence(ctx context.Context, st ResurgenceService, op *Operation, now time.Time) (*Resurgence, error) {
	counts, err := st.CountMatches(ctx, op.ID)
	if err != nil {
		return nil, err
	}
	ts, err := st.ResurgenceTimes(ctx, op.ID)
	if err != nil {
		return nil, err
	}
	r := &Resurgence{Operation: op.Slug, AsOf: now.UTC().Truncate(time.Second), Preliminary: op.Status == OperationOpen, Matches: *counts}
	r.All = SummarizeResurgence(ts, now, func(ResurgenceTime) string { return "all" })
	r.ByPlatform = SummarizeResurgence(ts, now, func(t ResurgenceTime) string { return string(t.Platform) })
	return r, nil
}

// SummarizeResurgence groups removed items by key and sums each group up
// as of now, groups sorted by name.
func SummarizeResurgence(ts []ResurgenceTime, now time.Time, key func(ResurgenceTime) string) []ResurgenceFigure {
	groups := map[string][]ResurgenceTime{}
	for _, t := range ts {
		groups[key(t)] = append(groups[key(t)], t)
	}
	out := []ResurgenceFigure{}
	for g, list := range groups {
		f := ResurgenceFigure{Group: g, Removed: len(list)}
		var back, all []time.Duration
		var event []bool
		for _, t := range list {
			if t.BackAt != nil {
				d := max(t.BackAt.Sub(t.RemovedAt), 0)
				back = append(back, d)
				all, event = append(all, d), append(event, true)
			} else {
				all, event = append(all, max(now.Sub(t.RemovedAt), 0)), append(event, false)
			}
		}
		f.Back = len(back)
		f.Share = float64(int(float64(f.Back)/float64(f.Removed)*1e4+0.5)) / 1e4
		if len(back) > 0 {
			slices.Sort(back)
			f.Median, f.P90, f.Min, f.Max = secs(quantile(back, 0.5)), secs(quantile(back, 0.9)), secs(back[0]), secs(back[len(back)-1])
		}
		f.NotBack = KaplanMeier(all, event)
		out = append(out, f)
	}
	slices.SortFunc(out, func(a, b ResurgenceFigure) int { return cmp.Compare(a.Group, b.Group) })
	return out
}
