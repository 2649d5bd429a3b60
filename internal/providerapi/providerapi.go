// Package providerapi is takedown's client for a provider's own takedown
// API: a report of URLs is posted with an idempotency key, and the
// provider's decision about each URL is read back. The protocol is the
// plain one the simulator speaks (POST {base}/reports, GET
// {base}/reports/{id}, bearer token); a provider with another API gets an
// adapter beside this one.
package providerapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/takedown-project/takedown"
)

// Report is what is posted.
type Report struct {
	LegalBasis  string   `json:"legal_basis"`
	Reference   string   `json:"reference"`
	Authority   string   `json:"issuing_authority,omitempty"`
	Reason      string   `json:"reason,omitempty"`
	URLs        []string `json:"urls"`
	CallbackURL string   `json:"callback_url,omitempty"`
}

// ReportFor builds the report of a referral.
func ReportFor(r *takedown.Referral, items []takedown.ReferralItem) Report {
	rep := Report{LegalBasis: string(r.LegalBasis), Reference: r.IdempotencyKey}
	if o := r.Order; o != nil {
		rep.Reference, rep.Authority, rep.Reason = o.Reference, o.IssuingAuthority, o.Reasons
	}
	for _, it := range items {
		rep.URLs = append(rep.URLs, it.URL)
	}
	return rep
}

// Status is the provider's view of a report.
type Status struct {
	ID     string `json:"id"`
	Status string `json:"status"`
	Items  []struct {
		URL          string    `json:"url"`
		Status       string    `json:"status"`
		Reason       string    `json:"reason"`
		Regions      []string  `json:"regions"`
		DecidedAt    time.Time `json:"decided_at"`
		ReinstatedAt time.Time `json:"reinstated_at"`
	} `json:"items"`
}

// Answers turns the provider's decisions into answers; URLs still pending
// are left out.
func (s *Status) Answers() []takedown.ItemAnswer {
	var out []takedown.ItemAnswer
	for _, it := range s.Items {
		a := takedown.ItemAnswer{URL: it.URL, Reason: it.Reason, At: it.DecidedAt}
		switch it.Status {
		case "removed":
			a.Outcome = takedown.OutcomeRemoved
		case "disabled":
			a.Outcome = takedown.OutcomeDisabled
			if len(it.Regions) > 0 {
				a.Reason = "disabled in " + strings.Join(it.Regions, ", ")
			}
		case "rejected":
			a.Outcome = takedown.OutcomeRejected
		case "not_found":
			a.Outcome = takedown.OutcomeNotFound
		default:
			continue
		}
		// The store refuses a longer reason, and with it every answer of
		// the report: keep what fits.
		if len(a.Reason) > takedown.MaxNotesLength {
			n := takedown.MaxNotesLength
			for n > 0 && !utf8.RuneStart(a.Reason[n]) {
				n--
			}
			a.Reason = a.Reason[:n]
		}
		if a.Outcome == takedown.OutcomeRejected && strings.TrimSpace(a.Reason) == "" {
			a.Reason = "rejected without a reason"
		}
		out = append(out, a)
	}
	return out
}

// Client calls one provider's API.
type Client struct {
	HTTP    *http.Client
	BaseURL string
	Token   string
}

// Error is a failed call; Permanent says whether trying again can help.
type Error struct {
	Status    int
	Message   string
	Permanent bool
}

func (e *Error) Error() string {
	if e.Status == 0 {
		return e.Message
	}
	return fmt.Sprintf("provider API answered %d: %s", e.Status, e.Message)
}

// IsPermanent reports whether err is a failure that trying again cannot
// mend (the provider refused the report as it is).
func IsPermanent(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.Permanent
}

// maxAnswer bounds what is read of an answer.
const maxAnswer = 4 << 20

// Post sends a report under an idempotency key: sent again after a crash,
// the provider recognises it and answers with the report it has.
func (c *Client) Post(ctx context.Context, key string, rep Report) (*Status, error) {
	body, err := json.Marshal(rep)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimSuffix(c.BaseURL, "/")+"/reports", bytes.NewReader(body))
	if err != nil {
		return nil, &Error{Message: err.Error(), Permanent: true}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Idempotency-Key", key)
	return c.do(req)
}

// Get reads a report's status.
func (c *Client) Get(ctx context.Context, id string) (*Status, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimSuffix(c.BaseURL, "/")+"/reports/"+url.PathEscape(id), nil)
	if err != nil {
		return nil, &Error{Message: err.Error(), Permanent: true}
	}
	return c.do(req)
}

func (c *Client) do(req *http.Request) (*Status, error) {
	req.Header.Set("Authorization", "Bearer "+c.Token)
	req.Header.Set("Accept", "application/json")
	resp, err := c.HTTP.Do(req)
	if err != nil {
		// Connection refused, reset, timed out: the provider may be back
		// later.
		return nil, &Error{Message: fmt.Sprintf("provider API unreachable: %v", err)}
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	if err != nil {
		return nil, &Error{Status: resp.StatusCode, Message: fmt.Sprintf("reading the answer: %v", err)}
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		var e struct {
			Error string `json:"error"`
		}
		json.Unmarshal(b, &e)
		msg := e.Error
		if msg == "" {
			msg = strings.TrimSpace(string(b[:min(len(b), 200)]))
		}
		// 4xx but for timeouts and throttling means the report as it is
		// will not be taken; 5xx may pass.
		permanent := resp.StatusCode >= 400 && resp.StatusCode < 500 && resp.StatusCode != http.StatusRequestTimeout && resp.StatusCode != http.StatusTooManyRequests
		return nil, &Error{Status: resp.StatusCode, Message: msg, Permanent: permanent}
	}
	var s Status
	if err := json.Unmarshal(b, &s); err != nil || s.ID == "" {
		return nil, &Error{Status: resp.StatusCode, Message: "the answer is not a report"}
	}
	return &s, nil
}
