package takedown

import (
	"context"
	"slices"
	"strings"
	"time"
)

// A hold is an agency's deconfliction claim: it has an investigation
// going and needs what the hold covers to stay online. While a hold is
// active nothing it covers is referred, whoever submitted it and whenever.
// The other agencies learn only that an item is held, never by whom or
// why; coordinators and the holder see the details.

// HoldScope is what a hold covers.
type HoldScope string

const (
	HoldItem    HoldScope = "item"    // one item
	HoldHandle  HoldScope = "handle"  // every item of a handle on a platform (a channel and its posts)
	HoldPattern HoldScope = "pattern" // every item whose canonical URL matches a pattern
)

// HoldReason is the category of a hold's reason; the reason itself is
// in the note, which only the holder and the coordinators read.
type HoldReason string

const (
	HoldInvestigation    HoldReason = "investigation"     // an open investigation
	HoldUndercover       HoldReason = "undercover"        // an undercover or covert operation
	HoldSourceProtection HoldReason = "source_protection" // protecting a source
	HoldLegalProcess     HoldReason = "legal_process"     // a court order or prosecutor's request
	HoldOther            HoldReason = "other"
)

// HoldReasons lists the categories.
var HoldReasons = []HoldReason{HoldInvestigation, HoldUndercover, HoldSourceProtection, HoldLegalProcess, HoldOther}

// DefaultHoldDuration is a hold's life unless renewed.
const DefaultHoldDuration = 30 * 24 * time.Hour

// MaxHoldDuration bounds one placement or renewal: a hold is reviewed at
// least this often.
const MaxHoldDuration = 180 * 24 * time.Hour

// HeldNotice is all that an agency without the right to know learns of a
// hold on an item.
const HeldNotice = "held for deconfliction; contact the coordinator"

// Hold is one deconfliction claim.
type Hold struct {
	ID          int64  `json:"id"`
	OperationID int64  `json:"-"`
	Operation   string `json:"operation"`
	// Agency is the holder; hidden from those who may not know.
	Agency   string    `json:"agency,omitempty"`
	AgencyID int64     `json:"-"`
	Scope    HoldScope `json:"scope"`
	ItemID   int64     `json:"item_id,omitempty"`  // HoldItem
	Platform Platform  `json:"platform,omitempty"` // HoldHandle
	Handle   string    `json:"handle,omitempty"`   // HoldHandle, as the platform compares it
	// Pattern is matched against an item's canonical URL without its
	// scheme; '*' stands for any run of characters: "t.me/news_*".
	Pattern    string     `json:"pattern,omitempty"`
	Reason     HoldReason `json:"reason,omitempty"`
	Note       string     `json:"note,omitempty"`
	CreatedAt  time.Time  `json:"created_at"`
	CreatedBy  string     `json:"created_by,omitempty"`
	ExpiresAt  time.Time  `json:"expires_at"`
	ReleasedAt *time.Time `json:"released_at,omitempty"`
	ReleasedBy string     `json:"released_by,omitempty"`
}

// Active reports whether the hold stops referrals at now.
func (h *Hold) Active(now time.Time) bool {
	return h.ReleasedAt == nil && now.Before(h.ExpiresAt)
}

// State says where the hold stands at now: active, released or expired.
func (h *Hold) State(now time.Time) string {
	switch {
	case h.ReleasedAt != nil:
		return "released"
	case !h.Active(now):
		return "expired"
	}
	return "active"
}

// Covers reports whether the hold covers an item (active or not).
func (h *Hold) Covers(it *Item) bool {
	switch h.Scope {
	case HoldItem:
		return it.ID == h.ItemID
	case HoldHandle:
		return it.Platform == h.Platform && it.Handle != "" && it.Handle == h.Handle
	case HoldPattern:
		u := it.URL
		if i := strings.Index(u, "://"); i >= 0 {
			u = u[i+3:]
		}
		return globMatch(h.Pattern, u)
	}
	return false
}

// globMatch reports whether s matches pattern, where '*' matches any run
// of characters (also none) and everything else itself.
func globMatch(pattern, s string) bool {
	parts := strings.Split(pattern, "*")
	if len(parts) == 1 {
		return pattern == s
	}
	if !strings.HasPrefix(s, parts[0]) {
		return false
	}
	s = s[len(parts[0]):]
	last := parts[len(parts)-1]
	for _, p := range parts[1 : len(parts)-1] {
		i := strings.Index(s, p)
		if i < 0 {
			return false
		}
		s = s[i+len(p):]
	}
	return strings.HasSuffix(s, last) && len(s) >= len(last)
}

// Normalize clears what the hold's scope does not use, so that a hold
// reads back, and is recorded, as what it covers.
func (h *Hold) Normalize() {
	if h.Scope != HoldItem {
		h.ItemID = 0
	}
	if h.Scope != HoldHandle {
		h.Platform, h.Handle = "", ""
	}
	if h.Scope != HoldPattern {
		h.Pattern = ""
	}
}

// MaxHoldNote bounds a hold's note.
const MaxHoldNote = 2000

// Validate reports an EINVALID error for a hold that cannot be placed.
func (h *Hold) Validate(now time.Time) error {
	switch h.Scope {
	case HoldItem:
		if h.ItemID <= 0 {
			return Errorf(EINVALID, "an item hold needs the item's ID")
		}
	case HoldHandle:
		if !ValidPlatform(h.Platform) || h.Platform == PlatformWeb {
			return Errorf(EINVALID, "a handle hold needs a platform with handles (%v)", Platforms[:len(Platforms)-1])
		}
		if h.Handle == "" || strings.ContainsAny(h.Handle, " /*") {
			return Errorf(EINVALID, "handle %q: want a handle as the platform writes it, without @ or spaces", h.Handle)
		}
	case HoldPattern:
		literal := len(strings.ReplaceAll(h.Pattern, "*", ""))
		if literal < 4 || strings.ContainsAny(h.Pattern, " \t\n") || strings.Contains(h.Pattern, "://") {
			return Errorf(EINVALID, "pattern %q: want a canonical URL without its scheme, '*' for any characters, with at least 4 other characters (such as t.me/news_*)", h.Pattern)
		}
	default:
		return Errorf(EINVALID, "hold scope %q: want item, handle or pattern", h.Scope)
	}
	if !slices.Contains(HoldReasons, h.Reason) {
		return Errorf(EINVALID, "hold reason %q: want one of %v", h.Reason, HoldReasons)
	}
	if len(h.Note) > MaxHoldNote {
		return Errorf(EINVALID, "hold note is longer than %d characters", MaxHoldNote)
	}
	if !h.ExpiresAt.After(now) {
		return Errorf(EINVALID, "a hold must expire in the future")
	}
	if h.ExpiresAt.Sub(now) > MaxHoldDuration {
		return Errorf(EINVALID, "a hold may run at most %d days at a time; renew it when it nears its end", int(MaxHoldDuration.Hours()/24))
	}
	return nil
}

// HoldNotice is what a reader of an item learns of the holds covering it.
type HoldNotice struct {
	Held   bool   `json:"held"`
	Notice string `json:"notice"`
	// Holds are the active holds covering the item, for those who may
	// know (the holder, coordinators, auditors); others get none of them,
	// only the notice.
	Holds []*Hold `json:"holds,omitempty"`
}

// MaySeeHold reports whether the actor may see a hold's holder, reason and
// note: the holder's agency, the operation's coordinators, auditors.
func (a *Actor) MaySeeHold(op *Operation, h *Hold) bool {
	return a.SeesAll() || a.MayCoordinate(op) || (a.User != nil && a.User.Agency != "" && a.User.Agency == h.Agency)
}

// RedactHold withholds from a notice what the actor may not know.
func (a *Actor) RedactHold(op *Operation, n *HoldNotice) {
	var keep []*Hold
	for _, h := range n.Holds {
		if a.MaySeeHold(op, h) {
			keep = append(keep, h)
		}
	}
	n.Holds = keep
}

// NoticeFor returns the notice of the active holds among hs that cover
// it, nil when none does.
func NoticeFor(it *Item, hs []*Hold, now time.Time) *HoldNotice {
	var n *HoldNotice
	for _, h := range hs {
		if h.Active(now) && h.Covers(it) {
			if n == nil {
				n = &HoldNotice{Held: true, Notice: HeldNotice}
			}
			n.Holds = append(n.Holds, h)
		}
	}
	return n
}

// HoldFilter selects holds of one operation.
type HoldFilter struct {
	OperationID int64
	Agency      string    // holds of this agency only
	ActiveAt    time.Time // only holds active then; zero for all
}

// HoldService places and ends holds.
type HoldService interface {
	// PlaceHold stores h for its agency and sets its ID and CreatedAt.
	// From then on nothing it covers is referred. Returns EINVALID for a
	// bad hold, an item outside the operation or an agency that does not
	// take part, ENOTFOUND for an unknown operation.
	PlaceHold(ctx context.Context, h *Hold) error
	// FindHold returns a hold. Returns ENOTFOUND if there is none.
	FindHold(ctx context.Context, id int64) (*Hold, error)
	// ListHolds returns the holds f selects, newest first.
	ListHolds(ctx context.Context, f HoldFilter) ([]*Hold, error)
	// RenewHold moves an active hold's expiry to until. Returns
	// ECONFLICT for a released or expired hold, EINVALID for a bad
	// expiry.
	RenewHold(ctx context.Context, id int64, until time.Time) (*Hold, error)
	// ReleaseHold ends a hold now; what it covered becomes referable.
	// Releasing a released hold is not an error.
	ReleaseHold(ctx context.Context, id int64) (*Hold, error)
}

// SplitHeld separates the items an active hold covers at now from the
// rest: what a referral may take and what it must leave out.
func SplitHeld(items []*Item, holds []*Hold, now time.Time) (free []*Item, held []int64) {
	for _, it := range items {
		if NoticeFor(it, holds, now) != nil {
			held = append(held, it.ID)
			continue
		}
		free = append(free, it)
	}
	return free, held
}
