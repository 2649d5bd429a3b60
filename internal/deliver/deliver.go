// Package deliver renders a referral batch for a provider and sends it on
// one channel: e-mail (a plain-text message in the provider's language with
// the items as CSV) or webhook (signed JSON, Standard Webhooks). Rendering
// is deterministic, and every rendering carries the referral's idempotency
// key, so that a batch sent again after a crash is recognisable as the same
// batch. Sending reports whether a failure is worth retrying.
package deliver

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/takedown-project/takedown"
)

// Batch is one referral as it goes to one provider.
type Batch struct {
	Referral  *takedown.Referral
	Provider  *takedown.Provider
	Operation *takedown.Operation
	// Items are the referral's items; nil means Referral.Items.
	Items []takedown.ReferralItem
	// PortalURL links to the batch in takedown's provider portal.
	PortalURL string
	Sender    Sender
	// Reminder makes the rendering the reminder of an overdue removal
	// order rather than the order itself: only for a removal order that
	// has been escalated (Referral.EscalatedAt set), and only its items
	// still pending go in it. It is dated by the escalation, and carries
	// its own Message-ID; its webhook goes with ReminderID(key).
	Reminder bool
}

// Sender is who sends a batch: the coordinating authority.
type Sender struct {
	Name, Email, Organisation string
}

// MaxBodyURLs is how many URLs an e-mail lists in its text; the
// attachment has them all.
const MaxBodyURLs = 20

// The provider portal's API paths for answering a referral, {id} being
// the referral's ID.
const (
	AcknowledgePath = "/api/v1/referrals/{id}/acknowledge"
	AnswersPath     = "/api/v1/referrals/{id}/answers"
)

// check reports what keeps a batch from being rendered, and returns its
// items sorted by ID, so that the rendering does not depend on the order
// a store happened to return them in.
func (b *Batch) check() ([]takedown.ReferralItem, error) {
	if b.Referral == nil || b.Provider == nil {
		return nil, errors.New("a batch needs its referral and provider")
	}
	if b.Referral.IdempotencyKey == "" {
		return nil, errors.New("the referral has no idempotency key")
	}
	if b.Referral.CreatedAt.IsZero() {
		// It dates the e-mail and the webhook event.
		return nil, fmt.Errorf("referral %s has no creation time", b.Referral.IdempotencyKey)
	}
	if err := b.Referral.Validate(); err != nil {
		return nil, fmt.Errorf("referral %s: %w", b.Referral.IdempotencyKey, err)
	}
	items := b.Items
	if items == nil {
		items = b.Referral.Items
	}
	if len(items) == 0 {
		return nil, fmt.Errorf("referral %s has no items", b.Referral.IdempotencyKey)
	}
	if b.Reminder {
		var err error
		if items, err = b.checkReminder(items); err != nil {
			return nil, err
		}
	} else {
		items = slices.Clone(items)
	}
	slices.SortStableFunc(items, func(a, b takedown.ReferralItem) int { return cmp.Compare(a.ItemID, b.ItemID) })
	return items, nil
}

// checkReminder reports what keeps a batch from being rendered as a
// reminder, and returns the items it reminds of: those still pending.
func (b *Batch) checkReminder(items []takedown.ReferralItem) ([]takedown.ReferralItem, error) {
	r := b.Referral
	switch {
	case r.LegalBasis != takedown.BasisRemovalOrder:
		return nil, fmt.Errorf("referral %s is not a removal order: only an order has a deadline to be reminded of", r.IdempotencyKey)
	case r.EscalatedAt == nil || r.EscalatedAt.IsZero():
		// It dates the reminder, and says the order is overdue.
		return nil, fmt.Errorf("removal order %s has not been escalated: no reminder is due", r.IdempotencyKey)
	case r.ReceivedAt == nil || r.Deadline == nil:
		// The reminder tells the provider both.
		return nil, fmt.Errorf("removal order %s has no time of receipt or deadline to remind of", r.IdempotencyKey)
	}
	var pending []takedown.ReferralItem
	for _, it := range items {
		if it.Outcome == takedown.OutcomePending {
			pending = append(pending, it)
		}
	}
	if len(pending) == 0 {
		return nil, fmt.Errorf("removal order %s has no item still pending: nothing to remind of", r.IdempotencyKey)
	}
	return pending, nil
}

// ReminderID is the ID of the reminder of the referral whose idempotency
// key is key: "KEY.reminder". The caller passes it to SendWebhook as the
// reminder's webhook-id, and the reminder's e-mail carries it in its
// Message-ID, <KEY.reminder@takedown.invalid>. It differs from the
// batch's own (the key), so that a receiver that drops a repeated ID does
// not take the reminder for a resend of the batch, and it is the same on
// every send of the reminder, so that a resent reminder is known as one.
func ReminderID(key string) string { return key + ".reminder" }

// operation is the operation's stable public name.
func (b *Batch) operation() string {
	if b.Referral.Operation != "" {
		return b.Referral.Operation
	}
	if b.Operation != nil {
		return b.Operation.Slug
	}
	return ""
}

// operationName names the operation for people: its name and slug.
func (b *Batch) operationName() string {
	slug := b.operation()
	if b.Operation == nil || b.Operation.Name == "" || b.Operation.Name == slug {
		return slug
	}
	return b.Operation.Name + " (" + slug + ")"
}

func (b *Batch) providerName() string {
	if b.Provider.Name != "" {
		return b.Provider.Name
	}
	return b.Provider.Code
}

// answerPath fills a referral's ID into a portal API path.
func answerPath(path string, id int64) string {
	return strings.Replace(path, "{id}", fmt.Sprint(id), 1)
}

// Error is a failed delivery.
type Error struct {
	Channel takedown.Channel
	// Code is the receiver's answer, an SMTP reply code or an HTTP
	// status; 0 when none came (the connection failed).
	Code int
	// Permanent says that sending the same thing again cannot succeed:
	// the receiver refused it for good, or it cannot be sent as it is.
	Permanent bool
	// RetryAfter is how long the receiver asked to wait, when it said.
	RetryAfter time.Duration
	Err        error
}

func (e *Error) Error() string {
	kind := "temporary"
	if e.Permanent {
		kind = "permanent"
	}
	return fmt.Sprintf("%s delivery failed (%s): %v", e.Channel, kind, e.Err)
}

func (e *Error) Unwrap() error { return e.Err }

// Permanent reports whether err is a delivery failure that retrying
// cannot mend. Any other error, one this package did not classify
// included, is taken as temporary: a delivery is dead-lettered after its
// attempts anyway, and giving up early on a referral costs more than
// trying once too often.
func Permanent(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.Permanent
}

func permanent(ch takedown.Channel, err error) error {
	return &Error{Channel: ch, Permanent: true, Err: err}
}
