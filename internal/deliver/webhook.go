package deliver

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/takedown-project/takedown"
)

// WebhookType is the event type of a referral's webhook.
const WebhookType = "takedown.referral"

// ReminderWebhookType is the event type of an overdue removal order's
// reminder (Batch.Reminder). Its document is the order's, with
// "reminder": true, "received_at" and "deadline" at the top, and only the
// items still pending.
const ReminderWebhookType = "takedown.referral.reminder"

// webhookEvent is the webhook's document. Standard Webhooks suggests
// type and timestamp at the top and the rest under "data"; the batch's
// fields sit at the top too, where receivers written against takedown's
// format (the simulator's among them) read them.
type webhookEvent struct {
	Type string `json:"type"`
	// Timestamp is when the referral was made, not when it is sent: a
	// resend is the same event, byte for byte. A reminder's is when the
	// order was escalated.
	Timestamp time.Time `json:"timestamp"`
	// Reminder marks an overdue order's reminder, which says when the
	// order was received and when its hour ran out.
	Reminder       bool                `json:"reminder,omitempty"`
	ReceivedAt     *time.Time          `json:"received_at,omitempty"`
	Deadline       *time.Time          `json:"deadline,omitempty"`
	IdempotencyKey string              `json:"idempotency_key"`
	ReferralID     int64               `json:"referral_id"`
	Operation      webhookOperation    `json:"operation"`
	Provider       webhookProvider     `json:"provider"`
	Sender         webhookSender       `json:"sender"`
	LegalBasis     takedown.LegalBasis `json:"legal_basis"`
	Order          *webhookOrder       `json:"order,omitempty"`
	ItemCount      int                 `json:"item_count"`
	Items          []webhookItem       `json:"items"`
	PortalURL      string              `json:"portal_url,omitempty"`
	Answer         webhookAnswer       `json:"answer"`
}

type webhookOperation struct {
	Slug string `json:"slug"`
	Name string `json:"name,omitempty"`
}

type webhookProvider struct {
	Code string `json:"code"`
	Name string `json:"name,omitempty"`
}

type webhookSender struct {
	Name         string `json:"name,omitempty"`
	Organisation string `json:"organisation,omitempty"`
	Email        string `json:"email,omitempty"`
}

// webhookOrder is Annex I of Regulation (EU) 2021/784.
type webhookOrder struct {
	IssuingAuthority     string     `json:"issuing_authority"`
	Reference            string     `json:"reference"`
	Contact              string     `json:"contact"`
	LegalBasis           string     `json:"legal_basis"`
	Reasons              string     `json:"reasons"`
	IssuedAt             time.Time  `json:"issued_at"`
	Redress              string     `json:"redress"`
	DisclosureRestricted bool       `json:"disclosure_restricted"`
	RestrictedUntil      *time.Time `json:"restricted_until,omitempty"`
	// DeadlineSeconds runs from receipt (Article 3(3)).
	DeadlineSeconds int `json:"deadline_seconds"`
	// Feedback is what an answer must carry (Annex II).
	Feedback string `json:"feedback"`
}

type webhookItem struct {
	ItemID int64  `json:"item_id"`
	URL    string `json:"url"`
	Reason string `json:"reason,omitempty"`
}

type webhookAnswer struct {
	Acknowledge webhookCall `json:"acknowledge"`
	Answers     webhookCall `json:"answers"`
	// Outcomes are the answers an item can have.
	Outcomes []takedown.Outcome `json:"outcomes"`
}

type webhookCall struct {
	Method string `json:"method"`
	Path   string `json:"path"`
	// URL is Path on the portal's host, when the portal URL is known.
	URL string `json:"url,omitempty"`
}

// RenderWebhook renders a batch as the JSON document of its webhook: the
// same batch, the same bytes. A reminder is sent with ReminderID(key) as
// its webhook-id.
func RenderWebhook(b Batch) (body []byte, err error) {
	items, err := b.check()
	if err != nil {
		return nil, err
	}
	r, p := b.Referral, b.Provider
	d := webhookEvent{
		Type: WebhookType, Timestamp: r.CreatedAt.UTC(),
		IdempotencyKey: r.IdempotencyKey, ReferralID: r.ID,
		Operation:  webhookOperation{Slug: b.operation()},
		Provider:   webhookProvider{Code: p.Code, Name: p.Name},
		Sender:     webhookSender{Name: b.Sender.Name, Organisation: b.Sender.Organisation, Email: b.Sender.Email},
		LegalBasis: r.LegalBasis, ItemCount: len(items), Items: make([]webhookItem, 0, len(items)),
		PortalURL: b.PortalURL,
		Answer: webhookAnswer{
			Acknowledge: call(b.PortalURL, answerPath(AcknowledgePath, r.ID)),
			Answers:     call(b.PortalURL, answerPath(AnswersPath, r.ID)),
			Outcomes:    takedown.Outcomes,
		},
	}
	if b.Reminder {
		// check made sure it is an escalated order with both times.
		received, deadline := r.ReceivedAt.UTC(), r.Deadline.UTC()
		d.Type, d.Timestamp = ReminderWebhookType, r.EscalatedAt.UTC()
		d.Reminder, d.ReceivedAt, d.Deadline = true, &received, &deadline
	}
	if b.Operation != nil {
		d.Operation.Name = b.Operation.Name
	}
	if o := r.Order; r.LegalBasis == takedown.BasisRemovalOrder && o != nil {
		d.Order = &webhookOrder{
			IssuingAuthority: o.IssuingAuthority, Reference: o.Reference, Contact: o.Contact,
			LegalBasis: o.LegalBasis, Reasons: o.Reasons, IssuedAt: o.IssuedAt.UTC(), Redress: o.Redress,
			DisclosureRestricted: o.DisclosureRestricted,
			DeadlineSeconds:      int(takedown.OrderDeadline / time.Second),
			Feedback:             "for each item, when it was removed or access to it disabled, or why the order cannot be complied with (force majeure, technical, manifest error, insufficient information)",
		}
		if o.RestrictedUntil != nil {
			u := o.RestrictedUntil.UTC()
			d.Order.RestrictedUntil = &u
		}
	}
	for _, it := range items {
		d.Items = append(d.Items, webhookItem{ItemID: it.ItemID, URL: it.URL, Reason: it.Reason})
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	// URLs keep their & and <, as they were referred.
	enc.SetEscapeHTML(false)
	if err := enc.Encode(d); err != nil {
		return nil, fmt.Errorf("rendering the webhook: %w", err)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

func call(portal, path string) webhookCall {
	c := webhookCall{Method: http.MethodPost, Path: path}
	if u, err := url.Parse(portal); err == nil && u.Scheme != "" && u.Host != "" {
		c.URL = (&url.URL{Scheme: u.Scheme, Host: u.Host, Path: path}).String()
	}
	return c
}

// maxWebhookAnswer bounds what is read of a webhook's answer: only its
// start goes into an error message.
const maxWebhookAnswer = 64 << 10

// maxRedirects bounds the redirects followed within the webhook's host.
const maxRedirects = 3

// SendWebhook posts body to the provider's webhook, signed per Standard
// Webhooks with id as the webhook-id (the referral's idempotency key, or
// for a reminder ReminderID of it; the same on every attempt) and now as
// the webhook-timestamp. A 2xx answer delivers it.
func SendWebhook(ctx context.Context, client *http.Client, w *takedown.WebhookContact, id string, body []byte, now time.Time) error {
	const ch = takedown.ChannelWebhook
	if w == nil || w.URL == "" {
		return permanent(ch, errors.New("the provider has no webhook"))
	}
	target, err := url.Parse(w.URL)
	if err != nil || (target.Scheme != "https" && target.Scheme != "http") || target.Host == "" {
		return permanent(ch, fmt.Errorf("webhook URL %q is not an http(s) URL", w.URL))
	}
	// An unsigned referral could be forged by anyone who knows the URL;
	// a receiver that checks signatures would refuse it anyway.
	if !strings.HasPrefix(w.Secret, "whsec_") {
		return permanent(ch, fmt.Errorf("webhook %s has no whsec_ secret to sign with", target.Redacted()))
	}
	wh, err := standardwebhooks.NewWebhook(w.Secret)
	if err != nil {
		return permanent(ch, fmt.Errorf("webhook secret: %w", err))
	}
	sig, err := wh.Sign(id, now, body)
	if err != nil {
		return permanent(ch, fmt.Errorf("signing the webhook: %w", err))
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.URL, bytes.NewReader(body))
	if err != nil {
		return permanent(ch, fmt.Errorf("webhook request: %w", err))
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(standardwebhooks.HeaderWebhookID, id)
	req.Header.Set(standardwebhooks.HeaderWebhookTimestamp, strconv.FormatInt(now.Unix(), 10))
	req.Header.Set(standardwebhooks.HeaderWebhookSignature, sig)

	c := http.Client{Timeout: 30 * time.Second}
	if client != nil {
		c = *client
	}
	c.CheckRedirect = sameHost(target)
	resp, err := c.Do(req)
	if err != nil {
		// Refused, reset, timed out, a failed TLS handshake: the receiver
		// may be back later.
		return &Error{Channel: ch, Err: fmt.Errorf("webhook %s: %w", target.Redacted(), err)}
	}
	defer resp.Body.Close()
	answer, readErr := io.ReadAll(io.LimitReader(resp.Body, maxWebhookAnswer))
	if resp.StatusCode >= 200 && resp.StatusCode <= 299 {
		if readErr != nil {
			// The answer broke off: whether the receiver took the
			// batch is unknown. Sending it again is safe: it carries
			// the same webhook-id.
			return &Error{Channel: ch, Code: resp.StatusCode, Err: fmt.Errorf("webhook %s: the answer broke off: %w", target.Redacted(), readErr)}
		}
		return nil
	}
	e := &Error{Channel: ch, Code: resp.StatusCode, RetryAfter: retryAfter(resp.Header.Get("Retry-After"), now)}
	switch {
	case resp.StatusCode >= 300 && resp.StatusCode <= 399:
		// A redirect not followed: the webhook's URL needs updating.
		e.Permanent = true
		e.Err = fmt.Errorf("webhook %s answered %s, redirecting to %q", target.Redacted(), resp.Status, resp.Header.Get("Location"))
		return e
	case resp.StatusCode == http.StatusRequestTimeout || resp.StatusCode == http.StatusTooManyRequests:
	case resp.StatusCode >= 400 && resp.StatusCode <= 499:
		e.Permanent = true
	}
	e.Err = fmt.Errorf("webhook %s answered %s: %s", target.Redacted(), resp.Status, snippet(answer))
	return e
}

// sameHost follows only redirects that keep the body (307, 308) to the
// webhook's own host, scheme no weaker: a referral must not be handed to
// a host the provider did not name, and a 301, 302 or 303 would turn the
// POST into a GET that drops it.
func sameHost(target *url.URL) func(*http.Request, []*http.Request) error {
	return func(req *http.Request, via []*http.Request) error {
		switch {
		case len(via) > maxRedirects:
			return fmt.Errorf("more than %d redirects", maxRedirects)
		case req.Response == nil ||
			(req.Response.StatusCode != http.StatusTemporaryRedirect && req.Response.StatusCode != http.StatusPermanentRedirect),
			!strings.EqualFold(req.URL.Host, target.Host),
			target.Scheme == "https" && req.URL.Scheme != "https":
			return http.ErrUseLastResponse
		}
		return nil
	}
}

// retryAfter reads a Retry-After header, seconds or an HTTP date.
func retryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && s >= 0 {
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

// snippet is the start of an answer, fit for an error message.
func snippet(b []byte) string {
	const n = 200
	s := strings.Join(strings.Fields(strings.ToValidUTF8(string(b), "")), " ")
	if r := []rune(s); len(r) > n {
		s = string(r[:n]) + "..."
	}
	if s == "" {
		return "(no body)"
	}
	return s
}
