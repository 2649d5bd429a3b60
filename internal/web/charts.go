package web

import (
	"context"
	"html/template"
	"sync"
	"time"

	"github.com/takedown-project/takedown"
	"github.com/takedown-project/takedown/internal/chart"
)

// The operation page's charts, drawn on the server from its report.

// operationCharts are the report's charts as SVG, by key.
func operationCharts(r *takedown.Report) map[string]template.HTML {
	out := map[string]template.HTML{}
	for _, c := range chart.ForReport(r) {
		out[c.Key] = c.Chart.SVG()
	}
	return out
}

// reportFresh is how long the operation page serves a report before it
// computes it again. Counting a million items by kind, platform, agency
// and provider takes seconds; the page says as of when its figures are,
// reloads itself every 30 seconds, and many people watch one operation.
const reportFresh = 20 * time.Second

// reportCache keeps each operation's latest report; one computation at a
// time per operation, the others wait for it.
type reportCache struct {
	mu   sync.Mutex
	byOp map[int64]*cachedReport
}

type cachedReport struct {
	mu  sync.Mutex // held while computing
	rep *takedown.Report
	at  time.Time
}

// report returns the operation's report, at most reportFresh old.
func (s *Server) report(ctx context.Context, op *takedown.Operation) (*takedown.Report, error) {
	c := &s.reports
	c.mu.Lock()
	if c.byOp == nil {
		c.byOp = map[int64]*cachedReport{}
	}
	e := c.byOp[op.ID]
	if e == nil {
		e = &cachedReport{}
		c.byOp[op.ID] = e
	}
	c.mu.Unlock()
	e.mu.Lock()
	defer e.mu.Unlock()
	now := s.now()
	if e.rep != nil && now.Sub(e.at) < reportFresh && now.Sub(e.at) >= 0 {
		return e.rep, nil
	}
	rep, err := takedown.OperationReport(ctx, s.store, op, now)
	if err != nil {
		return nil, err
	}
	e.rep, e.at = rep, now
	return rep, nil
}

// forget drops an operation's report: a change made through this UI
// shows at once (changes made elsewhere, within reportFresh).
func (s *Server) forget(operationID int64) {
	s.reports.mu.Lock()
	delete(s.reports.byOp, operationID)
	s.reports.mu.Unlock()
}
