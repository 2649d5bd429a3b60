package takedown

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// LegalBasis is the ground on which a referral asks for removal.
type LegalBasis string

const (
	// BasisReferral is a voluntary referral: the provider checks the
	// items against its terms of service.
	BasisReferral LegalBasis = "referral"
	// BasisRemovalOrder is a removal order under Regulation (EU)
	// 2021/784: removal or disabling within one hour of receipt.
	BasisRemovalOrder LegalBasis = "removal_order"
)

// OrderDeadline is the time a provider has to act on a removal order,
// from its receipt (Regulation (EU) 2021/784, Article 3(3)).
const OrderDeadline = time.Hour

// ReferralStatus is where a referral batch stands.
type ReferralStatus string

const (
	// ReferralDraft: put together, waiting to be sent.
	ReferralDraft ReferralStatus = "draft"
	// ReferralSending: on its way on the provider's channels.
	ReferralSending ReferralStatus = "sending"
	// ReferralDelivered: a channel delivered it; answers are awaited.
	ReferralDelivered ReferralStatus = "delivered"
	// ReferralAnswered: every item has an answer.
	ReferralAnswered ReferralStatus = "answered"
	// ReferralFailed: no channel could deliver it (dead-lettered).
	ReferralFailed ReferralStatus = "failed"
)

// Channel is a way a referral reaches a provider.
type Channel string

const (
	ChannelEmail   Channel = "email"   // a message with the items as CSV
	ChannelWebhook Channel = "webhook" // signed JSON to the provider's URL
	ChannelAPI     Channel = "api"     // a report to the provider's takedown API
	ChannelPortal  Channel = "portal"  // takedown's own portal, always
)

// DeliveryState is where one channel's delivery of a referral stands.
type DeliveryState string

const (
	DeliveryPending   DeliveryState = "pending"   // queued, not yet sent
	DeliveryRetrying  DeliveryState = "retrying"  // failed, will be tried again
	DeliveryDelivered DeliveryState = "delivered" // the receiver took it
	DeliveryDead      DeliveryState = "dead"      // failed too often; shown for a person to act
)

// Delivery is one channel's delivery of a referral.
type Delivery struct {
	Channel   Channel       `json:"channel"`
	State     DeliveryState `json:"state"`
	Attempts  int           `json:"attempts"`
	LastError string        `json:"last_error,omitempty"`
	// External is what the receiver calls it: a report ID, a message ID.
	External    string     `json:"external,omitempty"`
	DeliveredAt *time.Time `json:"delivered_at,omitempty"`
	UpdatedAt   time.Time  `json:"updated_at"`
}

// RemovalOrder is what a removal order says besides its items: the fields
// of Annex I of Regulation (EU) 2021/784.
type RemovalOrder struct {
	// IssuingAuthority is the competent authority that issues the order,
	// and Reference its file number.
	IssuingAuthority string `json:"issuing_authority"`
	Reference        string `json:"reference"`
	// Contact is how the provider reaches the issuing authority.
	Contact string `json:"contact"`
	// LegalBasis names the provisions the order rests on.
	LegalBasis string `json:"legal_basis"`
	// Reasons explains why the content is terrorist content (Article
	// 2(7)); a per-item reason adds to it.
	Reasons string `json:"reasons"`
	// IssuedAt is the date and time of issue.
	IssuedAt time.Time `json:"issued_at"`
	// Redress tells the provider and the content provider how to
	// challenge the order.
	Redress string `json:"redress"`
	// DisclosureRestricted says that the provider must not tell the
	// content provider (Article 11(3)), and for how long.
	DisclosureRestricted bool       `json:"disclosure_restricted"`
	RestrictedUntil      *time.Time `json:"restricted_until,omitempty"`
}

// Validate reports what an order lacks: a provider may ask for
// clarification of an incomplete order, and the clock then stops.
func (o *RemovalOrder) Validate() error {
	var missing []string
	for name, v := range map[string]string{"issuing authority": o.IssuingAuthority, "reference": o.Reference, "contact": o.Contact,
		"legal basis": o.LegalBasis, "reasons": o.Reasons, "redress": o.Redress} {
		if strings.TrimSpace(v) == "" {
			missing = append(missing, name)
		}
	}
	if o.IssuedAt.IsZero() {
		missing = append(missing, "date and time of issue")
	}
	if len(missing) > 0 {
		slices.Sort(missing)
		return Errorf(EINVALID, "a removal order needs what Annex I of Regulation (EU) 2021/784 asks for; missing: %s", strings.Join(missing, ", "))
	}
	return nil
}

// Outcome is a provider's answer about one referred item.
type Outcome string

const (
	OutcomePending  Outcome = "pending"   // no answer yet
	OutcomeRemoved  Outcome = "removed"   // removed (or the account suspended)
	OutcomeDisabled Outcome = "disabled"  // access disabled in the EU only
	OutcomeRejected Outcome = "rejected"  // kept online, with a reason
	OutcomeNotFound Outcome = "not_found" // nothing there (any more)
	OutcomeNeedInfo Outcome = "need_info" // the provider asks for more information
	OutcomeNoAnswer Outcome = "no_answer" // the time to answer has passed
)

// Outcomes lists the answers a provider can give.
var Outcomes = []Outcome{OutcomeRemoved, OutcomeDisabled, OutcomeRejected, OutcomeNotFound, OutcomeNeedInfo}

// Final reports whether an outcome closes the item's referral: a
// provider's decision. Waiting for an answer, a request for information
// and the lack of an answer in time are not: a late answer still counts.
func (o Outcome) Final() bool {
	switch o {
	case OutcomeRemoved, OutcomeDisabled, OutcomeRejected, OutcomeNotFound:
		return true
	}
	return false
}

// Referral is a batch of items sent to one provider on one legal basis.
type Referral struct {
	ID          int64          `json:"id"`
	OperationID int64          `json:"-"`
	Operation   string         `json:"operation"`
	Provider    string         `json:"provider"`
	ProviderID  int64          `json:"-"`
	LegalBasis  LegalBasis     `json:"legal_basis"`
	Status      ReferralStatus `json:"status"`
	CreatedAt   time.Time      `json:"created_at"`
	CreatedBy   string         `json:"created_by"`
	// Order is set for removal orders.
	Order *RemovalOrder `json:"order,omitempty"`
	// IdempotencyKey names the batch to every receiver: a receiver that
	// gets it twice (takedown crashed between sending and recording)
	// knows it is the same batch.
	IdempotencyKey string `json:"idempotency_key"`
	// ReceivedAt is when the provider first received it: a channel
	// delivered it, or a liaison acknowledged it.
	ReceivedAt     *time.Time `json:"received_at,omitempty"`
	AcknowledgedAt *time.Time `json:"acknowledged_at,omitempty"`
	// Deadline is, for a removal order, one hour after receipt.
	Deadline *time.Time `json:"deadline,omitempty"`
	// EscalatedAt is when an overdue order was escalated.
	EscalatedAt *time.Time `json:"escalated_at,omitempty"`
	// SecondsLeft is a removal order's time to its deadline as of when
	// it was read (negative when overdue), and PastDeadline whether it is
	// overdue with items unanswered; set by SetClock for those who read
	// it, not stored.
	SecondsLeft  *int64         `json:"seconds_left,omitempty"`
	PastDeadline bool           `json:"overdue,omitempty"`
	Deliveries   []Delivery     `json:"deliveries"`
	Items        []ReferralItem `json:"items"`
	// Counts of the items by outcome.
	Counts map[Outcome]int `json:"counts"`
}

// DeriveStatus sets Status from the deliveries, the acknowledgement and
// the answers: answered when every item has a final answer, delivered
// when a channel delivered it or a liaison acknowledged it, failed when
// every channel but the portal is dead, sending otherwise. A provider
// reached only through the portal has it delivered there at once.
func (r *Referral) DeriveStatus() {
	pending := r.Counts[OutcomePending] + r.Counts[OutcomeNeedInfo]
	total := 0
	for _, n := range r.Counts {
		total += n
	}
	delivered, external, dead := r.AcknowledgedAt != nil, 0, 0
	for _, d := range r.Deliveries {
		if d.Channel == ChannelPortal {
			continue
		}
		external++
		switch d.State {
		case DeliveryDelivered:
			delivered = true
		case DeliveryDead:
			dead++
		}
	}
	switch {
	case total > 0 && pending == 0:
		r.Status = ReferralAnswered
	case delivered || external == 0:
		r.Status = ReferralDelivered
	case dead == external:
		r.Status = ReferralFailed
	default:
		r.Status = ReferralSending
	}
}

// Overdue reports whether a removal order's deadline has passed with
// items still unanswered.
func (r *Referral) Overdue(now time.Time) bool {
	return r.Deadline != nil && now.After(*r.Deadline) && r.Counts[OutcomePending] > 0
}

// SetClock sets SecondsLeft and PastDeadline as of now.
func (r *Referral) SetClock(now time.Time) {
	r.SecondsLeft, r.PastDeadline = nil, false
	if r.Deadline == nil || r.Status == ReferralAnswered {
		return
	}
	left := int64(r.Deadline.Sub(now) / time.Second)
	r.SecondsLeft, r.PastDeadline = &left, r.Overdue(now)
}

// TimeLeft is a removal order's time to its deadline (negative when
// overdue); zero without a deadline.
func (r *Referral) TimeLeft(now time.Time) time.Duration {
	if r.Deadline == nil {
		return 0
	}
	return r.Deadline.Sub(now)
}

// Validate reports an EINVALID error for a referral that cannot be put
// together.
func (r *Referral) Validate() error {
	switch r.LegalBasis {
	case BasisReferral:
		if r.Order != nil {
			return Errorf(EINVALID, "a voluntary referral carries no removal order")
		}
		return nil
	case BasisRemovalOrder:
		if r.Order == nil {
			return Errorf(EINVALID, "a removal order needs its order: issuing authority, reference, legal basis, reasons, redress")
		}
		return r.Order.Validate()
	}
	return Errorf(EINVALID, "legal basis %q: want %q or %q", r.LegalBasis, BasisReferral, BasisRemovalOrder)
}

// ReferralKey is the idempotency key of referral id: the same for every
// attempt on every channel.
func ReferralKey(operation string, id int64) string {
	return "takedown-" + operation + "-referral-" + strconv.FormatInt(id, 10)
}

// ReferralItem is one item of a referral and its answer.
type ReferralItem struct {
	ItemID int64  `json:"item_id"`
	URL    string `json:"url"`
	// Reason is why this item is referred (a removal order's reason for
	// this URL).
	Reason  string  `json:"reason,omitempty"`
	Outcome Outcome `json:"outcome"`
	// AnswerReason is the provider's reason, for a rejection or a
	// request for information.
	AnswerReason string     `json:"answer_reason,omitempty"`
	AnsweredAt   *time.Time `json:"answered_at,omitempty"`
	AnsweredBy   string     `json:"answered_by,omitempty"`
	// Feedback holds what Annex II asks of an answer to a removal order.
	Feedback *OrderFeedback `json:"feedback,omitempty"`
}

// OrderFeedback is the provider's feedback on a removal order (Annex II
// of Regulation (EU) 2021/784) for one item.
type OrderFeedback struct {
	// ActedAt is when the content was removed or access to it disabled.
	ActedAt *time.Time `json:"acted_at,omitempty"`
	// Action is "removed" or "disabled" (in all member states).
	Action string `json:"action,omitempty"`
	// CannotComply, when set, says why the provider cannot act within
	// the hour: "force_majeure", "technical" (de facto impossibility),
	// "manifest_error" or "insufficient_information" (Article 3(7),
	// 3(8)); the one-hour clock stops until the cause ends.
	CannotComply string `json:"cannot_comply,omitempty"`
	// Details in the provider's words.
	Details string `json:"details,omitempty"`
}

// CannotComplyReasons are the grounds Article 3(7) and 3(8) allow.
var CannotComplyReasons = []string{"force_majeure", "technical", "manifest_error", "insufficient_information"}

// ItemAnswer is a provider's answer about one item of a referral.
type ItemAnswer struct {
	ItemID   int64          `json:"item_id,omitempty"`
	URL      string         `json:"url,omitempty"` // the item's URL as referred, when no ID is given
	Outcome  Outcome        `json:"outcome"`
	Reason   string         `json:"reason,omitempty"`
	Feedback *OrderFeedback `json:"feedback,omitempty"`
	// At is when the provider decided; zero means when recorded.
	At time.Time `json:"at,omitzero"`
}

// Validate reports an EINVALID error for an answer that cannot be taken.
func (a *ItemAnswer) Validate(basis LegalBasis) error {
	ok := false
	for _, o := range Outcomes {
		ok = ok || a.Outcome == o
	}
	if !ok {
		return Errorf(EINVALID, "outcome %q: want one of %v", a.Outcome, Outcomes)
	}
	if a.ItemID == 0 && a.URL == "" {
		return Errorf(EINVALID, "an answer names its item by item_id or url")
	}
	if (a.Outcome == OutcomeRejected || a.Outcome == OutcomeNeedInfo) && strings.TrimSpace(a.Reason) == "" {
		return Errorf(EINVALID, "a %s answer needs its reason", a.Outcome)
	}
	if len(a.Reason) > MaxNotesLength {
		return Errorf(EINVALID, "the reason is longer than %d characters", MaxNotesLength)
	}
	if f := a.Feedback; f != nil {
		if basis != BasisRemovalOrder {
			return Errorf(EINVALID, "Annex II feedback answers removal orders only")
		}
		if f.CannotComply != "" {
			found := false
			for _, c := range CannotComplyReasons {
				found = found || c == f.CannotComply
			}
			if !found {
				return Errorf(EINVALID, "cannot_comply %q: want one of %v", f.CannotComply, CannotComplyReasons)
			}
		}
		if f.Action != "" && f.Action != "removed" && f.Action != "disabled" {
			return Errorf(EINVALID, "feedback action %q: want removed or disabled", f.Action)
		}
	}
	return nil
}

// DeliveryUpdate is what one attempt at a channel did.
type DeliveryUpdate struct {
	Channel  Channel
	State    DeliveryState
	Error    string // for retrying and dead
	External string // the receiver's name for it
	At       time.Time
}

// ReferralFilter selects referrals.
type ReferralFilter struct {
	OperationID int64  // 0 for every operation
	Provider    string // "" for every provider
	// OverdueAt selects removal orders past their deadline at this time
	// with items still pending (a request for information stops the
	// clock); zero for no such filter.
	OverdueAt time.Time
	// Undelivered selects referrals with a channel not yet delivered.
	Undelivered bool
	// ItemID selects the referrals that carry this item: its trail.
	ItemID int64
}

// ReferralService puts referral batches together and records their
// delivery and answers.
type ReferralService interface {
	// CreateReferral stores a referral of the given items of r's
	// operation to r's provider, leaving out every item an active hold
	// covers at that moment: a hold placed concurrently either comes
	// first and keeps its items out, or comes after the referral. In the
	// same transaction it queues the delivery of the referral on every
	// channel of the provider. It sets r's ID, CreatedAt, Status,
	// IdempotencyKey, Deliveries and Items, and returns the IDs of the
	// items left out because they are held. Returns EINVALID for an item
	// of another operation, a bad referral or no item left, ENOTFOUND for
	// an unknown operation or provider.
	CreateReferral(ctx context.Context, r *Referral, itemIDs []int64) (held []int64, err error)
	// FindReferral returns a referral with its items. Returns ENOTFOUND if
	// there is none.
	FindReferral(ctx context.Context, id int64) (*Referral, error)
	// ListReferrals returns the referrals f selects, newest first,
	// without their items.
	ListReferrals(ctx context.Context, f ReferralFilter) ([]*Referral, error)
	// RecordDelivery records an attempt at a channel; the first delivery
	// on a channel other than the portal is the referral's receipt, and
	// starts a removal order's deadline. Returns ENOTFOUND for an unknown
	// referral.
	RecordDelivery(ctx context.Context, referralID int64, u DeliveryUpdate) error
	// AcknowledgeReferral records a liaison's acknowledgement of receipt
	// (the receipt, if no channel recorded one). Returns ENOTFOUND.
	AcknowledgeReferral(ctx context.Context, referralID int64) (*Referral, error)
	// AnswerReferral records answers about items of a referral; an item
	// already finally answered keeps its answer (a repeated callback
	// changes nothing). by names who answered. Returns EINVALID for an
	// answer about an item the referral does not hold, ENOTFOUND for an
	// unknown referral.
	AnswerReferral(ctx context.Context, referralID int64, answers []ItemAnswer, by string) (*Referral, error)
	// RedeliverReferral sends a dead-lettered delivery again, once a
	// person has fixed what failed (a contact, a mail server): the
	// channel goes back to pending and its delivery is queued in the same
	// transaction. by names who asked. Returns ECONFLICT for a channel
	// that is not dead, ENOTFOUND for an unknown referral or channel.
	RedeliverReferral(ctx context.Context, referralID int64, channel Channel, by string) error
	// EscalateReferral records that an overdue removal order was
	// escalated, once: it returns false if it was escalated already.
	EscalateReferral(ctx context.Context, referralID int64) (bool, error)
	// ReferableItems returns items of an operation that may be referred
	// now: no active hold covers them and no referral holds them with an
	// open or positive answer (pending, need_info, removed, disabled),
	// after item afterID, in ID order, up to limit.
	ReferableItems(ctx context.Context, operationID, afterID int64, limit int) ([]*Item, error)
}

// String names a referral for people.
func (r *Referral) String() string {
	return fmt.Sprintf("referral %d of %s to %s (%s, %d items)", r.ID, r.Operation, r.Provider, r.LegalBasis, len(r.Items))
}
