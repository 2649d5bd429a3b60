package simnet

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
)

// The webhook receivers: every provider takes takedown's batches as
// Standard Webhooks (https://www.standardwebhooks.com/) on its API host,
// POST /v1/webhook, signed with the provider's secret. A verified batch
// becomes a report like one from the API; a webhook-id seen before is
// answered as accepted but makes no second report, which is how a
// receiver tells a retry from a new batch. A webhook of type
// ReminderType is the reminder of an order, recorded as such and never a
// report (reminders.go).

// WebhookPath is where a provider's API host takes webhooks.
const WebhookPath = "/v1/webhook"

// WebhookURL is a platform's webhook receiver.
func WebhookURL(platform string) string { return "https://" + ProviderHost(platform) + WebhookPath }

// maxWebhookBytes bounds one webhook's body.
const maxWebhookBytes = 4 << 20

// Webhook is one webhook a provider's receiver got, accepted or not.
type Webhook struct {
	ID        int    `json:"id"`
	Provider  string `json:"provider"`
	WebhookID string `json:"webhook_id"`
	// Timestamp is the webhook-timestamp header as sent.
	Timestamp string `json:"timestamp"`
	// Status is what the receiver answered, Error why it refused.
	Status         int             `json:"status"`
	Error          string          `json:"error,omitempty"`
	Type           string          `json:"type,omitempty"`
	IdempotencyKey string          `json:"idempotency_key,omitempty"`
	ReferralID     int64           `json:"referral_id,omitempty"`
	LegalBasis     string          `json:"legal_basis,omitempty"`
	URLs           []string        `json:"urls,omitempty"`
	Answer         json.RawMessage `json:"answer,omitempty"`
	// ReportID is the report the batch made, or for a duplicate the one
	// its first delivery made; for a reminder the order's, if the
	// provider has it.
	ReportID string `json:"report_id,omitempty"`
	// Reminder marks a reminder of an overdue removal order.
	Reminder   bool      `json:"reminder,omitempty"`
	Duplicate  bool      `json:"duplicate,omitempty"`
	ReceivedAt time.Time `json:"received_at"`
	Size       int       `json:"size"`
}

// Webhooks returns every webhook the receivers got.
func (s *Server) Webhooks() []Webhook {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Webhook(nil), s.webhooks...)
}

// webhookBatch is takedown's batch as a webhook carries it. The receiver
// is liberal: it takes the URLs from items[].url and from urls, the
// referral ID as a number or a string (or from the idempotency key), and
// an order's details at the top or under "order".
type webhookBatch struct {
	Type           string          `json:"type"`
	IdempotencyKey string          `json:"idempotency_key"`
	ReferralID     json.RawMessage `json:"referral_id"`
	LegalBasis     string          `json:"legal_basis"`
	Reference      string          `json:"reference"`
	Authority      string          `json:"issuing_authority"`
	Reason         string          `json:"reason"`
	Order          *struct {
		Reference string `json:"reference"`
		Authority string `json:"issuing_authority"`
		Reasons   string `json:"reasons"`
	} `json:"order"`
	Items []struct {
		URL    string `json:"url"`
		Reason string `json:"reason"`
	} `json:"items"`
	URLs   []string        `json:"urls"`
	Answer json.RawMessage `json:"answer"`
}

// report is the batch as a report request.
func (b *webhookBatch) report() reportRequest {
	req := reportRequest{LegalBasis: BasisReferral, Reference: b.Reference, Authority: b.Authority, Reason: b.Reason}
	if b.LegalBasis == BasisRemovalOrder {
		req.LegalBasis = BasisRemovalOrder
	}
	if o := b.Order; o != nil {
		req.Reference = cmp.Or(req.Reference, o.Reference)
		req.Authority = cmp.Or(req.Authority, o.Authority)
		req.Reason = cmp.Or(req.Reason, o.Reasons)
	}
	if req.Reference == "" {
		req.Reference = b.IdempotencyKey
	}
	add := func(u string) {
		if u != "" && !slices.Contains(req.URLs, u) {
			req.URLs = append(req.URLs, u)
		}
	}
	for _, it := range b.Items {
		add(it.URL)
	}
	for _, u := range b.URLs {
		add(u)
	}
	return req
}

// referral returns the referral ID of the batch; zero when it has none.
func (b *webhookBatch) referral() int64 {
	raw := bytes.TrimSpace(b.ReferralID)
	if len(raw) > 0 && raw[0] == '"' {
		var s string
		if json.Unmarshal(raw, &s) == nil {
			raw = []byte(s)
		}
	}
	if id, err := strconv.ParseInt(string(raw), 10, 64); err == nil && id > 0 {
		return id
	}
	_, id := takedownKeyIn("[" + b.IdempotencyKey + "]")
	return id
}

// takedownKeyPattern is takedown's idempotency key of a referral in
// brackets, as its mails carry it in the subject:
// [takedown-OPERATION-referral-ID].
var takedownKeyPattern = regexp.MustCompile(`\[(takedown-[^\[\]\s]+-referral-([0-9]{1,18}))\]`)

// takedownKeyIn finds takedown's bracketed key in a text and returns it
// and the referral ID it ends with, or "" and zero.
func takedownKeyIn(text string) (string, int64) {
	m := takedownKeyPattern.FindStringSubmatch(text)
	if m == nil {
		return "", 0
	}
	id, err := strconv.ParseInt(m[2], 10, 64)
	if err != nil || id <= 0 {
		return "", 0
	}
	return m[1], id
}

// webhook receives a webhook for platform.
func (s *Server) webhook(w http.ResponseWriter, r *http.Request, platform string) {
	now := s.clock.Now()
	rec := Webhook{
		Provider: platform, WebhookID: r.Header.Get(standardwebhooks.HeaderWebhookID),
		Timestamp: r.Header.Get(standardwebhooks.HeaderWebhookTimestamp), ReceivedAt: now,
	}
	refuse := func(status int, msg string) {
		rec.Status, rec.Error = status, msg
		s.mu.Lock()
		rec.ID = len(s.webhooks) + 1
		s.webhooks = append(s.webhooks, rec)
		s.mu.Unlock()
		apiError(w, status, msg)
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		refuse(http.StatusMethodNotAllowed, "webhooks are POSTed")
		return
	}
	raw, err := io.ReadAll(io.LimitReader(r.Body, maxWebhookBytes+1))
	rec.Size = len(raw)
	switch {
	case err != nil:
		refuse(http.StatusBadRequest, "cannot read the body: "+err.Error())
		return
	case len(raw) > maxWebhookBytes:
		refuse(http.StatusRequestEntityTooLarge, "the body is over 4 MiB")
		return
	}
	wh, err := standardwebhooks.NewWebhook(s.world.Scenario.Providers[platform].WebhookSecret)
	if err != nil {
		// Validate checks the secret; this is a scenario changed after.
		refuse(http.StatusInternalServerError, "the provider's webhook secret is broken: "+err.Error())
		return
	}
	// Verify checks the timestamp against the real clock, not the
	// scenario's: the sender signs with its own time.
	if err := wh.Verify(raw, r.Header); err != nil {
		switch {
		case errors.Is(err, standardwebhooks.ErrNoMatchingSignature):
			refuse(http.StatusUnauthorized, "webhook-signature does not match the body with the provider's secret")
		case errors.Is(err, standardwebhooks.ErrMessageTooOld), errors.Is(err, standardwebhooks.ErrMessageTooNew):
			refuse(http.StatusBadRequest, "webhook-timestamp is more than 5 minutes off")
		default:
			refuse(http.StatusBadRequest, "webhook-id, webhook-timestamp (Unix seconds) and webhook-signature are required")
		}
		return
	}
	var b webhookBatch
	if err := json.Unmarshal(raw, &b); err != nil {
		refuse(http.StatusBadRequest, "malformed batch: "+err.Error())
		return
	}
	req := b.report()
	rec.Type, rec.IdempotencyKey, rec.LegalBasis, rec.URLs = b.Type, b.IdempotencyKey, req.LegalBasis, req.URLs
	rec.ReferralID, rec.Answer = b.referral(), b.Answer
	if len(req.URLs) == 0 || len(req.URLs) > maxReportURLs {
		refuse(http.StatusUnprocessableEntity, "a batch carries 1 to 1000 urls in items[].url")
		return
	}
	s.mu.Lock()
	seen := platform + "\x00" + rec.WebhookID
	if b.Type == ReminderType {
		rm := s.remindLocked(Reminder{Provider: platform, Channel: "webhook", IdempotencyKey: b.IdempotencyKey, ReferralID: rec.ReferralID,
			WebhookID: rec.WebhookID, URLs: req.URLs, ReceivedAt: now}, rec.WebhookID)
		rec.Reminder, rec.ReportID, rec.Duplicate = true, rm.ReportID, rm.Duplicate
	} else if id, ok := s.webhookSeen[seen]; ok {
		rec.Duplicate, rec.ReportID = true, id
	} else {
		rc := receipt{channel: "webhook", from: "webhook", idemKey: b.IdempotencyKey, webhookID: rec.WebhookID, referralID: rec.ReferralID}
		rec.ReportID = s.receiveLocked(platform, rc, req, now).ID
		s.webhookSeen[seen] = rec.ReportID
	}
	rec.Status = http.StatusOK
	rec.ID = len(s.webhooks) + 1
	s.webhooks = append(s.webhooks, rec)
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"report_id": rec.ReportID, "duplicate": rec.Duplicate})
}
