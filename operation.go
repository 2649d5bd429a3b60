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
	return nil
}

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
