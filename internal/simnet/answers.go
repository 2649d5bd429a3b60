package simnet

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// A batch that arrives by mail or webhook has no report API for takedown
// to poll, so the simulated provider answers it the way a liaison would:
// through takedown's provider API, with the liaison's token. It
// acknowledges the receipt once per report, then posts each decision when
// it falls due, the URLs of one report that fall due together in one
// request. Ignored URLs are never answered, and a reinstatement is not
// news takedown asks for.

// SetTakedown tells the simulated providers where takedown is and which
// liaison token each provider has there (platform -> token). An empty
// baseURL stops the answering; a platform without a token does not
// answer. Reports received before are answered too.
func (s *Server) SetTakedown(baseURL string, tokens map[string]string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.takedown = takedownTarget{url: strings.TrimSuffix(baseURL, "/"), tokens: maps.Clone(tokens)}
}

// takedownTarget is where the providers' liaisons answer.
type takedownTarget struct {
	url    string
	tokens map[string]string
}

// TakedownAnswer is a provider's answer about one URL, as posted to
// takedown.
type TakedownAnswer struct {
	URL     string `json:"url"`
	Outcome string `json:"outcome"`
	Reason  string `json:"reason,omitempty"`
}

// AnswerRecord is one request takedown accepted from a simulated
// provider: an acknowledgement of a batch, or answers about its URLs.
type AnswerRecord struct {
	Provider   string `json:"provider"`
	ReportID   string `json:"report_id"`
	ReferralID int64  `json:"referral_id"`
	// Kind is "acknowledge" or "answers".
	Kind    string           `json:"kind"`
	Answers []TakedownAnswer `json:"answers,omitempty"`
	// Attempts is how many tries it took.
	Attempts int `json:"attempts"`
	// At is the scenario time of the delivery.
	At time.Time `json:"at"`
}

// Answers returns every acknowledgement and answer takedown accepted.
func (s *Server) Answers() []AnswerRecord {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]AnswerRecord(nil), s.answers...)
}

// Answer kinds.
const (
	answerAcknowledge = "acknowledge"
	answerAnswers     = "answers"
)

// maxAnswerTries is how often one request to takedown is tried before the
// simulator gives up on it. With the back-off below that is about eight
// minutes: takedown restarting, or down for a while, loses no answers.
const maxAnswerTries = 50

// answerBackoff is the real time to wait after the nth failure in a row.
func answerBackoff(n int) time.Duration {
	return min(100*time.Millisecond<<min(n-1, 10), 10*time.Second)
}

// retry is the failures in a row of one report's requests to takedown.
type retry struct {
	failures int
	next     time.Time // real time of the next try
}

// answerRound acknowledges the reports takedown has not been told about
// and posts the answers due by now. Failures are tried again on later
// rounds, with a growing pause between tries.
func (s *Server) answerRound(ctx context.Context, now time.Time, retries map[*Report]*retry) {
	type job struct {
		rep   *Report
		token string
		ack   bool
		due   []int
	}
	var jobs []job
	s.mu.Lock()
	tk := s.takedown
	if tk.url != "" {
		for _, rep := range s.reports {
			token := tk.tokens[rep.Provider]
			if rep.ReferralID <= 0 || (rep.Channel != "mail" && rep.Channel != "webhook") || token == "" {
				continue
			}
			j := job{rep: rep, token: token, ack: !rep.acked}
			for i, d := range rep.Decisions {
				// OutcomePending has no DecidedAt: ignored URLs never fall due.
				if !rep.answered[i] && !d.DecidedAt.IsZero() && !d.DecidedAt.After(now) {
					j.due = append(j.due, i)
				}
			}
			if j.ack || len(j.due) > 0 {
				jobs = append(jobs, j)
			}
		}
	}
	s.mu.Unlock()
	wall := time.Now()
	for _, j := range jobs {
		if ctx.Err() != nil {
			return
		}
		rt := retries[j.rep]
		if rt == nil {
			rt = &retry{}
			retries[j.rep] = rt
		}
		if wall.Before(rt.next) {
			continue
		}
		// The liaison acknowledges the batch before answering any of it.
		if j.ack {
			if !s.tryTakedown(ctx, tk.url, j.token, j.rep, answerAcknowledge, nil, rt, now) {
				continue
			}
			s.mu.Lock()
			j.rep.acked = true
			s.mu.Unlock()
		}
		if len(j.due) == 0 {
			continue
		}
		answers := make([]TakedownAnswer, len(j.due))
		for k, i := range j.due {
			answers[k] = answerOf(j.rep.Decisions[i])
		}
		if !s.tryTakedown(ctx, tk.url, j.token, j.rep, answerAnswers, answers, rt, now) {
			continue
		}
		s.mu.Lock()
		for _, i := range j.due {
			j.rep.answered[i] = true
		}
		s.mu.Unlock()
	}
	for rep, rt := range retries {
		if rt.failures == 0 {
			delete(retries, rep)
		}
	}
}

// tryTakedown posts one request to takedown and records it when takedown
// accepts it. It reports whether the request is done with: accepted,
// refused for good, or given up after maxAnswerTries; otherwise it is
// tried again after rt's pause.
func (s *Server) tryTakedown(ctx context.Context, base, token string, rep *Report, kind string, answers []TakedownAnswer, rt *retry, now time.Time) bool {
	status, err := s.postTakedown(ctx, base, token, rep, kind, answers)
	log := s.log.With("provider", rep.Provider, "report", rep.ID, "referral", rep.ReferralID, "request", kind)
	switch {
	case err == nil:
		s.mu.Lock()
		s.answers = append(s.answers, AnswerRecord{Provider: rep.Provider, ReportID: rep.ID, ReferralID: rep.ReferralID, Kind: kind, Answers: answers, Attempts: rt.failures + 1, At: now})
		s.mu.Unlock()
		*rt = retry{}
		return true
	case status >= 400 && status < 500 && status != http.StatusRequestTimeout && status != http.StatusTooEarly && status != http.StatusTooManyRequests:
		// Refused as it is (a wrong token, an unknown referral): asking
		// again changes nothing.
		log.Warn("takedown refused a provider's request; not trying again", "err", err)
		*rt = retry{}
		return true
	}
	rt.failures++
	if rt.failures >= maxAnswerTries {
		log.Warn("giving up on a request to takedown", "err", err, "attempts", rt.failures)
		*rt = retry{}
		return true
	}
	rt.next = time.Now().Add(answerBackoff(rt.failures))
	log.Debug("request to takedown failed; trying again", "err", err, "attempt", rt.failures)
	return false
}

// postTakedown sends one request to takedown's provider API and returns
// the status it answered with (zero when it did not answer).
func (s *Server) postTakedown(ctx context.Context, base, token string, rep *Report, kind string, answers []TakedownAnswer) (int, error) {
	body := []byte("{}")
	if kind == answerAnswers {
		body, _ = json.Marshal(map[string]any{"answers": answers})
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	u := base + "/api/v1/referrals/" + strconv.FormatInt(rep.ReferralID, 10) + "/" + kind
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "simnet-provider/"+rep.Provider)
	resp, err := s.callbackClient.Do(req)
	if err != nil {
		return 0, err
	}
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	resp.Body.Close()
	if resp.StatusCode >= 300 {
		return resp.StatusCode, fmt.Errorf("takedown answered %s: %s", resp.Status, bytes.TrimSpace(msg))
	}
	return resp.StatusCode, nil
}

// answerOf is a decision as takedown's provider API takes it.
func answerOf(d Decision) TakedownAnswer {
	a := TakedownAnswer{URL: d.URL, Outcome: d.Outcome, Reason: d.Reason}
	if d.Outcome == OutcomeDisabled && a.Reason == "" && len(d.Regions) > 0 {
		a.Reason = "access disabled in " + strings.Join(d.Regions, ", ")
	}
	return a
}
