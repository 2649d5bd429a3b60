package takedown

import (
	"context"
	"slices"
	"time"
)

// OperationStatus says whether an operation still takes submissions. Figures
// of an open operation are preliminary.
type OperationStatus string

const (
	OperationOpen   OperationStatus = "open"
	OperationClosed OperationStatus = "closed"
)

// Operation is a referral action day or a standing campaign.
type Operation struct {
	ID          int64           `json:"-"`
	Slug        string          `json:"slug"` // stable public name, e.g. "rad-2026-11"
	Name        string          `json:"name"`
	Description string          `json:"description,omitempty"`
	Status      OperationStatus `json:"status"`
	// Evidence says whether items are captured before they are referred
	// (EvidenceBefore, the default, when empty).
	Evidence EvidencePolicy `json:"evidence"`
	// Successors says what the operation does about resurgence
	// (SuccessorsReview, the default, when empty).
	Successors SuccessorPolicy `json:"successors"`
	// Agencies are the codes of the participating agencies, sorted.
	Agencies  []string  `json:"agencies"`
	CreatedAt time.Time `json:"created_at"`
}

// Validate reports an EINVALID error for an operation that cannot be stored.
func (o *Operation) Validate() error {
	if !ValidSlug(o.Slug) {
		return Errorf(EINVALID, "operation slug %q must be 1-63 characters of a-z, 0-9, '.', '_' or '-', starting with a letter or digit", o.Slug)
	}
	if o.Name == "" {
		return Errorf(EINVALID, "operation %q needs a name", o.Slug)
	}
	switch o.Status {
	case OperationOpen, OperationClosed:
	default:
		return Errorf(EINVALID, "operation status %q is neither %q nor %q", o.Status, OperationOpen, OperationClosed)
	}
	if o.Evidence == "" {
		o.Evidence = EvidenceBefore
	}
	switch o.Evidence {
	case EvidenceBefore, EvidenceRequired, EvidenceOff:
	default:
		return Errorf(EINVALID, "operation evidence policy %q: want %s, %s or %s", o.Evidence, EvidenceBefore, EvidenceRequired, EvidenceOff)
	}
	if o.Successors == "" {
		o.Successors = SuccessorsReview
	}
	switch o.Successors {
	case SuccessorsReview, SuccessorsRefer, SuccessorsOff:
	default:
		return Errorf(EINVALID, "operation successor policy %q: want %s, %s or %s", o.Successors, SuccessorsReview, SuccessorsRefer, SuccessorsOff)
	}
	return nil
}

// EvidencePolicy says what an operation asks of evidence before a
// referral.
type EvidencePolicy string

const (
	// EvidenceBefore: an item is referred once a capture was tried; a
	// capture that failed does not hold the referral up.
	EvidenceBefore EvidencePolicy = "before"
	// EvidenceRequired: an item is referred only once it was captured
	// (or found removed already, which the capture documents).
	EvidenceRequired EvidencePolicy = "required"
	// EvidenceOff: referrals do not wait for captures.
	EvidenceOff EvidencePolicy = "off"
)

// OperationService manages operations and their participating agencies.
type OperationService interface {
	// CreateOperation stores op, with its participating agencies, and sets
	// its ID and CreatedAt. Returns EINVALID for a bad operation or an
	// unknown agency code, ECONFLICT if the slug is taken.
	CreateOperation(ctx context.Context, op *Operation) error

	// FindOperation returns the operation with the given slug. Returns
	// ENOTFOUND if there is none.
	FindOperation(ctx context.Context, slug string) (*Operation, error)

	// ListOperations returns all operations, newest first.
	ListOperations(ctx context.Context) ([]*Operation, error)

	// AddParticipant lets an agency take part in an operation; adding one
	// that takes part already is not an error. Returns ENOTFOUND for an
	// unknown operation or agency.
	AddParticipant(ctx context.Context, operationSlug, agencyCode string) error
}

// NormalizeAgencies sorts the participating agency codes and drops
// repeats: the form every backend stores and returns.
func (o *Operation) NormalizeAgencies() {
	codes := slices.Clone(o.Agencies)
	slices.Sort(codes)
	o.Agencies = slices.Compact(codes)
	if o.Agencies == nil {
		o.Agencies = []string{}
	}
}
