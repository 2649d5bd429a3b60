package simnet

import (
	"bytes"
	"context"
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"
)

// The provider side of every simulated platform: a takedown API over HTTPS
// (JSON, bearer token), a webhook receiver on the same host (webhook.go)
// and an abuse mailbox over SMTP (mailbox.go). All turn what they receive
// into reports, record everything, and answer each reported URL with the
// decision the scenario's provider behaviour gives it, when its delay has
// passed: on the API (GET a report), by a callback when the report asked
// for one, and through takedown's provider API for batches that came by
// webhook or mail (answers.go). Faults (fault.go) make the API host fail.

// ProviderHost is the host of a platform's takedown API; the simulator
// answers on it, and nothing real does (.example is reserved).
func ProviderHost(platform string) string { return "api." + platform + ".provider.example" }

// AbuseAddress is a platform's abuse mailbox.
func AbuseAddress(platform string) string { return "abuse@" + platform + ".provider.example" }

// Report is one referral or removal order as a provider received it.
type Report struct {
	ID       string `json:"id"`
	Provider string `json:"provider"`
	// Channel is how it arrived: "api", "mail" or "webhook".
	Channel    string `json:"channel"`
	LegalBasis string `json:"legal_basis"`
	Reference  string `json:"reference,omitempty"`
	Authority  string `json:"issuing_authority,omitempty"`
	Reason     string `json:"reason,omitempty"`
	// From is the mail sender, or "api" or "webhook".
	From string `json:"from"`
	// IdempotencyKey is the sender's name for the batch: the
	// Idempotency-Key header on the API (where a second report under it is
	// the first one), the body's idempotency_key of a webhook, the
	// bracketed takedown key of a mail's subject. Tests count the reports
	// under one key to see a batch delivered twice.
	IdempotencyKey string `json:"idempotency_key,omitempty"`
	// MessageID is the Message-ID of the mail, WebhookID the webhook-id
	// of the webhook the report came in: what those channels dedupe on.
	MessageID string `json:"message_id,omitempty"`
	WebhookID string `json:"webhook_id,omitempty"`
	// ReferralID is takedown's referral the batch is, read from a
	// webhook's body or a mail's subject. Such a report has no API to
	// poll, so the provider answers it through takedown's provider API
	// (answers.go); zero when unknown, and then it is not answered.
	ReferralID  int64     `json:"referral_id,omitempty"`
	CallbackURL string    `json:"callback_url,omitempty"`
	ReceivedAt  time.Time `json:"received_at"`
	// Reminders counts the reminders of an overdue removal order that
	// came under the report's key (reminders.go); they make no report.
	Reminders int `json:"reminders,omitempty"`
	// Decisions, one per reported URL, in the report's order. What the
	// provider has said so far is what is due by now (see view).
	Decisions []Decision `json:"-"`
	// delivered marks the decisions whose callback went out, answered
	// those posted to takedown, and acked that the receipt was
	// acknowledged there (each also when the simulator gave up on it).
	delivered []bool
	answered  []bool
	acked     bool
}

// ReportItem is one URL of a report as the provider shows it now.
type ReportItem struct {
	URL          string    `json:"url"`
	Status       string    `json:"status"` // an Outcome
	Reason       string    `json:"reason,omitempty"`
	Regions      []string  `json:"regions,omitempty"`
	DecidedAt    time.Time `json:"decided_at,omitzero"`
	ReinstatedAt time.Time `json:"reinstated_at,omitzero"`
}

// ReportView is a report as its provider answers about it at a moment.
type ReportView struct {
	*Report
	Status string       `json:"status"` // "open" while a URL is pending, else "answered"
	Items  []ReportItem `json:"items"`
}

// snapshot copies the report, so that it can be read after s.mu, which
// is held, is released: a reminder may count on the report meanwhile.
func (rep *Report) snapshot() *Report {
	c := *rep
	return &c
}

// view returns the report as of now: decisions not yet due show pending.
func (rep *Report) view(now time.Time) ReportView {
	v := ReportView{Report: rep, Status: "answered", Items: make([]ReportItem, len(rep.Decisions))}
	for i, d := range rep.Decisions {
		it := ReportItem{URL: d.URL, Status: OutcomePending}
		if !d.DecidedAt.IsZero() && !d.DecidedAt.After(now) {
			it.Status, it.Reason, it.Regions, it.DecidedAt = d.Outcome, d.Reason, d.Regions, d.DecidedAt
			if !d.ReinstatedAt.IsZero() && !d.ReinstatedAt.After(now) {
				it.ReinstatedAt = d.ReinstatedAt
			}
		}
		if it.Status == OutcomePending {
			v.Status = "open"
		}
		v.Items[i] = it
	}
	return v
}

// reportRequest is the body of POST /v1/reports.
type reportRequest struct {
	LegalBasis string   `json:"legal_basis"`
	Reference  string   `json:"reference"`
	Authority  string   `json:"issuing_authority"`
	Reason     string   `json:"reason"`
	URLs       []string `json:"urls"`
	// CallbackURL, when set, receives each decision as it is made.
	CallbackURL string `json:"callback_url"`
}

// maxReportURLs bounds one report, as real APIs do.
const maxReportURLs = 1000

// receipt is how a report arrived, besides what it says.
type receipt struct {
	// channel is "api", "mail" or "webhook"; from the mail sender, or the
	// channel's name.
	channel, from string
	// idemKey names the batch (Report.IdempotencyKey); on the API a second
	// report under the same key is the first one.
	idemKey              string
	messageID, webhookID string
	referralID           int64
}

// receive records a report and decides every URL in it. It returns the
// report, and false when it is one received before under the same
// idempotency key on the API.
func (s *Server) receive(platform string, rc receipt, req reportRequest) (*Report, bool) {
	now := s.clock.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	if rc.channel == "api" && rc.idemKey != "" {
		if rep, ok := s.byIdem[platform+"\x00"+rc.idemKey]; ok {
			return rep, false
		}
	}
	rep := s.receiveLocked(platform, rc, req, now)
	if rc.channel == "api" && rc.idemKey != "" {
		s.byIdem[platform+"\x00"+rc.idemKey] = rep
	}
	return rep, true
}

// receiveLocked makes a new report; s.mu is held, so that the mailboxes
// and the webhook receivers can check for a repeated message and record
// its report in one step.
func (s *Server) receiveLocked(platform string, rc receipt, req reportRequest, now time.Time) *Report {
	s.reportSeq[platform]++
	rep := &Report{
		ID:       fmt.Sprintf("%s-%06d", strings.ToUpper(platform[:min(2, len(platform))]), s.reportSeq[platform]),
		Provider: platform, Channel: rc.channel, From: rc.from, LegalBasis: req.LegalBasis,
		Reference: req.Reference, Authority: req.Authority, Reason: req.Reason,
		IdempotencyKey: rc.idemKey, MessageID: rc.messageID, WebhookID: rc.webhookID, ReferralID: rc.referralID,
		CallbackURL: req.CallbackURL, ReceivedAt: now,
	}
	spec := s.world.Scenario.Providers[platform]
	for _, u := range req.URLs {
		d := s.world.decide(platform, spec, s.world.Resolve(u), u, req.LegalBasis, now)
		s.world.apply(d)
		rep.Decisions = append(rep.Decisions, d)
	}
	rep.delivered = make([]bool, len(rep.Decisions))
	rep.answered = make([]bool, len(rep.Decisions))
	s.reports = append(s.reports, rep)
	return rep
}

// providerAPI serves a platform's takedown API.
func (s *Server) providerAPI(w http.ResponseWriter, r *http.Request, platform string) {
	fault := s.activeFault(platform)
	s.mu.Lock()
	s.apiRequests = append(s.apiRequests, APIRequest{Provider: platform, Method: r.Method, Path: r.URL.Path, IdempotencyKey: r.Header.Get("Idempotency-Key"), Fault: fault.Mode, At: s.clock.Now()})
	s.mu.Unlock()
	if s.injectFault(w, r, fault) {
		return
	}
	if fault.Mode == FaultLag {
		lag(w, r, fault.Delay, func(w http.ResponseWriter, r *http.Request) { s.serveProvider(w, r, platform) })
		return
	}
	s.serveProvider(w, r, platform)
}

// serveProvider serves a request to a platform's API host: its webhook
// receiver and its takedown API.
func (s *Server) serveProvider(w http.ResponseWriter, r *http.Request, platform string) {
	spec := s.world.Scenario.Providers[platform]
	if r.URL.Path == WebhookPath {
		// Webhooks carry a signature, not the API's bearer token.
		s.webhook(w, r, platform)
		return
	}
	token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || subtle.ConstantTimeCompare([]byte(token), []byte(spec.Token)) != 1 {
		w.Header().Set("WWW-Authenticate", `Bearer realm="`+ProviderHost(platform)+`"`)
		apiError(w, http.StatusUnauthorized, "a valid bearer token is required")
		return
	}
	switch {
	case r.Method == http.MethodPost && r.URL.Path == "/v1/reports":
		var req reportRequest
		dec := json.NewDecoder(io.LimitReader(r.Body, 4<<20))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&req); err != nil {
			apiError(w, http.StatusBadRequest, "malformed report: "+err.Error())
			return
		}
		switch {
		case req.LegalBasis != BasisReferral && req.LegalBasis != BasisRemovalOrder:
			apiError(w, http.StatusUnprocessableEntity, fmt.Sprintf("legal_basis %q: want %q or %q", req.LegalBasis, BasisReferral, BasisRemovalOrder))
			return
		case len(req.URLs) == 0 || len(req.URLs) > maxReportURLs:
			apiError(w, http.StatusUnprocessableEntity, fmt.Sprintf("a report carries 1 to %d urls, this one %d", maxReportURLs, len(req.URLs)))
			return
		case req.LegalBasis == BasisRemovalOrder && (req.Reference == "" || req.Authority == ""):
			// The Regulation's template makes these mandatory; a provider
			// may ask for clarification of an incomplete order.
			apiError(w, http.StatusUnprocessableEntity, "a removal order needs its reference and issuing_authority")
			return
		}
		rep, created := s.receive(platform, receipt{channel: "api", from: "api", idemKey: r.Header.Get("Idempotency-Key")}, req)
		status := http.StatusCreated
		if !created {
			status = http.StatusOK
		}
		s.mu.Lock()
		rep = rep.snapshot()
		s.mu.Unlock()
		writeJSON(w, status, rep.view(s.clock.Now()))
	case r.Method == http.MethodGet && strings.HasPrefix(r.URL.Path, "/v1/reports/"):
		id := strings.TrimPrefix(r.URL.Path, "/v1/reports/")
		s.mu.Lock()
		i := slices.IndexFunc(s.reports, func(rep *Report) bool { return rep.ID == id && rep.Provider == platform })
		var rep *Report
		if i >= 0 {
			rep = s.reports[i].snapshot()
		}
		s.mu.Unlock()
		if rep == nil {
			apiError(w, http.StatusNotFound, "no report "+id)
			return
		}
		writeJSON(w, http.StatusOK, rep.view(s.clock.Now()))
	default:
		apiError(w, http.StatusNotFound, "no such endpoint; the API has POST /v1/reports, GET /v1/reports/{id} and POST /v1/webhook")
	}
}

// APIRequest is one request to a takedown API, recorded for tests.
type APIRequest struct {
	Provider       string `json:"provider"`
	Method         string `json:"method"`
	Path           string `json:"path"`
	IdempotencyKey string `json:"idempotency_key,omitempty"`
	// Fault is the fault the request met (SetFault), if any.
	Fault string    `json:"fault,omitempty"`
	At    time.Time `json:"at"`
}

func apiError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"error": msg})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(append(b, '\n'))
}

// Callback is what a provider posts to a report's callback URL when it
// decides about one of its URLs.
type Callback struct {
	ReportID  string     `json:"report_id"`
	Provider  string     `json:"provider"`
	Reference string     `json:"reference,omitempty"`
	Item      ReportItem `json:"item"`
}

// callbackLoop delivers decisions to callback URLs as they fall due, and
// the answers to batches that came by mail or webhook to takedown
// (answers.go), until ctx ends. A failed delivery is retried on the next
// rounds, up to a limit.
func (s *Server) callbackLoop(ctx context.Context) {
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	failures := map[string]int{}
	retries := map[*Report]*retry{}
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		now := s.clock.Now()
		s.callbackRound(ctx, now, failures)
		s.answerRound(ctx, now, retries)
	}
}

// callbackRound posts the decisions due by now to their reports' callback
// URLs.
func (s *Server) callbackRound(ctx context.Context, now time.Time, failures map[string]int) {
	type due struct {
		rep *Report
		i   int
	}
	var todo []due
	s.mu.Lock()
	for _, rep := range s.reports {
		if rep.CallbackURL == "" {
			continue
		}
		for i, d := range rep.Decisions {
			if !rep.delivered[i] && !d.DecidedAt.IsZero() && !d.DecidedAt.After(now) {
				todo = append(todo, due{rep, i})
			}
		}
	}
	s.mu.Unlock()
	for _, d := range todo {
		if ctx.Err() != nil {
			return
		}
		k := d.rep.ID + "/" + fmt.Sprint(d.i)
		err := s.deliver(ctx, d.rep, d.i, now)
		if err != nil {
			failures[k]++
			s.log.Warn("callback failed", "report", d.rep.ID, "url", d.rep.CallbackURL, "err", err, "attempt", failures[k])
		}
		if err == nil || failures[k] >= 10 {
			delete(failures, k)
			s.mu.Lock()
			d.rep.delivered[d.i] = true
			s.mu.Unlock()
		}
	}
}

func (s *Server) deliver(ctx context.Context, rep *Report, i int, now time.Time) error {
	body, _ := json.Marshal(Callback{ReportID: rep.ID, Provider: rep.Provider, Reference: rep.Reference, Item: rep.view(now).Items[i]})
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, rep.CallbackURL, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "simnet-provider/"+rep.Provider)
	resp, err := s.callbackClient.Do(req)
	if err != nil {
		return err
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
	resp.Body.Close()
	if resp.StatusCode >= 300 {
		return fmt.Errorf("callback answered %s", resp.Status)
	}
	s.mu.Lock()
	s.callbacks = append(s.callbacks, CallbackRecord{ReportID: rep.ID, URL: rep.CallbackURL, Item: rep.Decisions[i].URL, At: now})
	s.mu.Unlock()
	return nil
}

// CallbackRecord is one delivered callback.
type CallbackRecord struct {
	ReportID string    `json:"report_id"`
	URL      string    `json:"url"`
	Item     string    `json:"item"`
	At       time.Time `json:"at"`
}
