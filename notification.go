package takedown

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Notifications tell the agencies of an operation what a hold means for
// them, the moment it happens: the submitters of held items that they are
// held (never by whom or why), the holder that others found what it
// holds, and the coordinators both. They are written in the transaction of
// the hold or the submission, so none is lost.

// Notification kinds.
const (
	// NoticeItemHeld: to an agency whose submitted items a hold covers.
	NoticeItemHeld = "item_held"
	// NoticeHoldOverlap: to the holder, when items of other agencies fall
	// under its hold.
	NoticeHoldOverlap = "hold_overlap"
	// NoticeCoordination: to the operation's coordinators, with both
	// sides named.
	NoticeCoordination = "coordination"
	// NoticeOrderOverdue: to the operation's coordinators, when a removal
	// order's hour has passed with items unanswered.
	NoticeOrderOverdue = "order_overdue"
)

// OverdueNotice is the coordinators' notice of an overdue removal order.
func OverdueNotice(r *Referral, now time.Time) Notification {
	var ids []int64
	for _, it := range r.Items {
		if it.Outcome == OutcomePending {
			ids = append(ids, it.ItemID)
		}
	}
	late := ""
	if r.Deadline != nil {
		late = " by " + now.Sub(*r.Deadline).Round(time.Minute).String()
	}
	return Notification{Operation: r.Operation, OperationID: r.OperationID, Kind: NoticeOrderOverdue, ItemIDs: first(ids),
		Message: fmt.Sprintf("removal order %d to %s is overdue%s: %s unanswered; the provider has been reminded", r.ID, r.Provider, late, count(r.Counts[OutcomePending], "item"))}
}

// Notification is one message to an agency, or to an operation's
// coordinators (Agency "").
type Notification struct {
	ID          int64  `json:"id"`
	OperationID int64  `json:"-"`
	Operation   string `json:"operation"`
	// Agency is the recipient; "" means the coordinators.
	Agency   string `json:"agency,omitempty"`
	AgencyID int64  `json:"-"`
	Kind     string `json:"kind"`
	Message  string `json:"message"`
	// ItemIDs are the items concerned (the first 100).
	ItemIDs []int64 `json:"item_ids"`
	// HoldID is set only for those who may see the hold.
	HoldID    int64      `json:"hold_id,omitempty"`
	CreatedAt time.Time  `json:"created_at"`
	ReadAt    *time.Time `json:"read_at,omitempty"`
}

// maxNotifiedItems bounds the items listed in one notification.
const maxNotifiedItems = 100

// HoldCoverage is one item that a hold has just come to cover, with the
// agencies that submitted it.
type HoldCoverage struct {
	Hold     *Hold
	ItemID   int64
	URL      string
	Agencies []string
}

// SubmissionCoverage finds, among active holds, those that cover the
// items of a batch's new submissions (inserted says which of subs were
// new): each new submitter is concerned. itemID maps an identity to its
// item, agencyCode an agency's ID to its code.
func SubmissionCoverage(holds []*Hold, subs []NewSubmission, itemID map[string]int64, inserted func(i int) bool, agencyCode func(id int64) string) []HoldCoverage {
	var out []HoldCoverage
	for i := range subs {
		if !inserted(i) {
			continue
		}
		r := &subs[i].Item
		it := &Item{ID: itemID[r.Identity], URL: r.Canonical, Platform: r.Platform, Handle: r.Handle, Kind: r.Kind}
		for _, h := range holds {
			if h.Covers(it) {
				out = append(out, HoldCoverage{Hold: h, ItemID: it.ID, URL: it.URL, Agencies: []string{agencyCode(subs[i].Submission.AgencyID)}})
			}
		}
	}
	return out
}

// PlanHoldNotices returns the notifications for items a hold has just
// come to cover: one per submitting agency but the holder, one to the
// holder if others are concerned, and one to the coordinators; grouped per
// hold.
func PlanHoldNotices(cover []HoldCoverage) []Notification {
	type group struct {
		hold     *Hold
		byAgency map[string][]int64
		all      []int64
		urls     map[int64]string
	}
	var order []int64
	groups := map[int64]*group{}
	for _, c := range cover {
		g := groups[c.Hold.ID]
		if g == nil {
			g = &group{hold: c.Hold, byAgency: map[string][]int64{}, urls: map[int64]string{}}
			groups[c.Hold.ID] = g
			order = append(order, c.Hold.ID)
		}
		others := false
		for _, a := range c.Agencies {
			if a != c.Hold.Agency {
				g.byAgency[a] = append(g.byAgency[a], c.ItemID)
				others = true
			}
		}
		if others {
			g.all = append(g.all, c.ItemID)
			g.urls[c.ItemID] = c.URL
		}
	}
	var out []Notification
	for _, id := range order {
		g := groups[id]
		if len(g.all) == 0 {
			continue // only the holder's own items: nothing to deconflict
		}
		h := g.hold
		agencies := make([]string, 0, len(g.byAgency))
		for a := range g.byAgency {
			agencies = append(agencies, a)
		}
		slices.Sort(agencies)
		for _, a := range agencies {
			ids := g.byAgency[a]
			out = append(out, Notification{Operation: h.Operation, OperationID: h.OperationID, Agency: a, Kind: NoticeItemHeld, ItemIDs: first(ids),
				Message: fmt.Sprintf("%s submitted by your agency %s %s: %s", count(len(ids), "item"), isAre(len(ids)), HeldNotice, sample(g.urls, ids))})
		}
		out = append(out,
			Notification{Operation: h.Operation, OperationID: h.OperationID, Agency: h.Agency, Kind: NoticeHoldOverlap, HoldID: h.ID, ItemIDs: first(g.all),
				Message: fmt.Sprintf("your hold %d covers %s submitted by other agencies (%s); the coordinators are told", h.ID, count(len(g.all), "item"), strings.Join(agencies, ", "))},
			Notification{Operation: h.Operation, OperationID: h.OperationID, Kind: NoticeCoordination, HoldID: h.ID, ItemIDs: first(g.all),
				Message: fmt.Sprintf("hold %d of %s (%s) covers %s submitted by %s", h.ID, h.Agency, h.Reason, count(len(g.all), "item"), strings.Join(agencies, ", "))})
	}
	return out
}

func first(ids []int64) []int64 { return slices.Clone(ids[:min(len(ids), maxNotifiedItems)]) }

func count(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}

func isAre(n int) string {
	if n == 1 {
		return "is"
	}
	return "are"
}

// sample names the first few items of ids by URL.
func sample(urls map[int64]string, ids []int64) string {
	parts := make([]string, 0, 4)
	for _, id := range ids[:min(len(ids), 3)] {
		parts = append(parts, urls[id])
	}
	if len(ids) > 3 {
		parts = append(parts, "...")
	}
	return strings.Join(parts, ", ")
}

// NotificationFilter selects notifications of one operation.
type NotificationFilter struct {
	OperationID int64
	// Agency's notifications; with Coordinators also the coordinators'.
	Agency       string
	Coordinators bool
	// All selects every notification of the operation (auditors).
	All    bool
	Unread bool
	Limit  int // 0 means 100
}

// NotificationService reads and marks notifications; holds and
// submissions write them.
type NotificationService interface {
	// ListNotifications returns what f selects, newest first.
	ListNotifications(ctx context.Context, f NotificationFilter) ([]*Notification, error)
	// MarkNotificationRead marks a notification read. Returns ENOTFOUND if
	// there is none.
	MarkNotificationRead(ctx context.Context, id int64) (*Notification, error)
	// FindNotification returns one notification. Returns ENOTFOUND if
	// there is none.
	FindNotification(ctx context.Context, id int64) (*Notification, error)
}
