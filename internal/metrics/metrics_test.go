package metrics

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

type fakeQueue struct{ err error }

func (q fakeQueue) JobCounts(context.Context) ([]JobCount, error) {
	return []JobCount{{Kind: "deliver", State: "available", Count: 3}, {Kind: "probe.due", State: "running", Count: 1}}, q.err
}

func scrape(t *testing.T, m *Metrics) string {
	t.Helper()
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("scrape: %d\n%s", rec.Code, rec.Body)
	}
	b, _ := io.ReadAll(rec.Body)
	return string(b)
}

// What a process records shows in a scrape: request times by part,
// method and status class; probes' verdicts; deliveries' outcomes; the
// queue's depth read at the scrape.
func TestMetrics(t *testing.T) {
	m := New(fakeQueue{}, nil)
	h := m.Instrument("ui", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { http.NotFound(w, r) }))
	for range 2 {
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/nowhere", nil))
	}
	m.Instrument("api", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") })).
		ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("PROPFIND", "/api/v1/x", nil))
	m.Probe("offline")
	m.Probe("offline")
	m.Probe("online")
	m.Delivery("email", "delivered")
	m.Delivery("webhook", "retrying")
	out := scrape(t, m)
	for _, want := range []string{
		`takedown_http_request_duration_seconds_count{code="4xx",method="GET",part="ui"} 2`,
		`takedown_http_request_duration_seconds_count{code="2xx",method="other",part="api"} 1`,
		`takedown_probe_outcomes_total{verdict="offline"} 2`,
		`takedown_probe_outcomes_total{verdict="online"} 1`,
		`takedown_delivery_outcomes_total{channel="email",state="delivered"} 1`,
		`takedown_delivery_outcomes_total{channel="webhook",state="retrying"} 1`,
		`takedown_jobs{kind="deliver",state="available"} 3`,
		`takedown_jobs{kind="probe.due",state="running"} 1`,
		`go_goroutines`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the scrape lacks %s", want)
		}
	}
}

// A queue that cannot be read leaves its figures out of the scrape, not
// the others; a nil Metrics keeps nothing and breaks nothing.
func TestMetricsDegrade(t *testing.T) {
	m := New(fakeQueue{err: errors.New("database down")}, nil)
	m.Probe("unknown")
	out := scrape(t, m)
	if strings.Contains(out, "takedown_jobs{") || !strings.Contains(out, `takedown_probe_outcomes_total{verdict="unknown"} 1`) {
		t.Errorf("scrape with the queue unreadable:\n%s", out)
	}
	var none *Metrics
	none.Probe("online")
	none.Delivery("email", "dead")
	rec := httptest.NewRecorder()
	none.Instrument("ui", http.NotFoundHandler()).ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	if rec.Code != http.StatusNotFound {
		t.Errorf("a nil Metrics' Instrument changed the answer: %d", rec.Code)
	}
}
