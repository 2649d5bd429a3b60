package takedown

import (
	"context"
	"regexp"
	"time"
)

var countryPattern = regexp.MustCompile(`^[A-Z]{2}$`)

// Agency is a participating service: an internet referral unit of a police
// or security service, or the coordinating body.
type Agency struct {
	ID        int64     `json:"-"`
	Code      string    `json:"code"` // stable public name, e.g. "nl-iru"
	Name      string    `json:"name"`
	Country   string    `json:"country,omitempty"` // ISO 3166-1 alpha-2, upper case
	CreatedAt time.Time `json:"created_at"`
}

// Validate reports an EINVALID error for an agency that cannot be stored.
func (a *Agency) Validate() error {
	if !ValidSlug(a.Code) {
		return Errorf(EINVALID, "agency code %q must be 1-63 characters of a-z, 0-9, '.', '_' or '-', starting with a letter or digit", a.Code)
	}
	if a.Name == "" {
		return Errorf(EINVALID, "agency %q needs a name", a.Code)
	}
	if a.Country != "" && !countryPattern.MatchString(a.Country) {
		return Errorf(EINVALID, "agency country %q is not an ISO 3166-1 alpha-2 code such as NL", a.Country)
	}
	return nil
}

// AgencyService manages agencies.
type AgencyService interface {
	// CreateAgency stores a and sets its ID and CreatedAt. Returns EINVALID
	// for a bad agency, ECONFLICT if the code is taken.
	CreateAgency(ctx context.Context, a *Agency) error

	// FindAgency returns the agency with the given code. Returns ENOTFOUND
	// if there is none.
	FindAgency(ctx context.Context, code string) (*Agency, error)

	// ListAgencies returns all agencies ordered by code.
	ListAgencies(ctx context.Context) ([]*Agency, error)
}
