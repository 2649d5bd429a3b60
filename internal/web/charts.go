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
// computes it again, and reportStale how long, past that, it still serves
// the old one (saying as of when) while a new one is computed in the
// background. The latest report of each operation is also kept in the
// store, for the next process that starts. Counting a
// million items by kind, platform, agency and provider takes seconds; the
// page says as of when its figures are, reloads itself every 30 seconds,
// and many people watch one operation.
const (
	reportFresh = 20 * time.Second
	reportStale = 24 * time.Hour
	// reportTime bounds one computation in the background.
	reportTime = 5 * time.Minute
)

// reportCache keeps each operation's latest report.
type reportCache struct {
	mu   sync.Mutex
	byOp map[int64]*cachedReport
}

type cachedReport struct {
	mu         sync.Mutex // held while computing in the foreground
	rep        *takedown.Report
	at         time.Time
	refreshing bool
	// changed: a change was made through this UI; the kept figures are
	// older than it.
	changed bool
}

// report returns the operation's report: the cached one while fresh, the
// cached one while a new one is computed in the background when it is
// stale, else a new one.
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
	if e.rep == nil && !e.changed {
		// A process that starts (or a page not looked at for long) serves
		// the last figures kept in the store while it computes new ones.
		if snap, err := s.store.LoadReportSnapshot(ctx, op.ID); err == nil {
			e.rep, e.at = snap, snap.AsOf
		} else if takedown.ErrorCode(err) != takedown.ENOTFOUND {
			s.log.Warn("load the operation's last figures", "operation", op.Slug, "error", err)
		}
	}
	age := now.Sub(e.at)
	switch {
	case e.rep != nil && age >= 0 && age < reportFresh:
		return e.rep, nil
	case e.rep != nil && age >= 0 && age < reportFresh+reportStale:
		if !e.refreshing {
			e.refreshing = true
			go s.refresh(e, op)
		}
		return e.rep, nil
	}
	rep, err := takedown.OperationReport(ctx, s.store, op, now)
	if err != nil {
		return nil, err
	}
	e.rep, e.at = rep, now
	s.keep(ctx, op, rep)
	return rep, nil
}

// keep saves a report in the store for the next process that starts.
func (s *Server) keep(ctx context.Context, op *takedown.Operation, rep *takedown.Report) {
	if err := s.store.SaveReportSnapshot(ctx, op.ID, rep); err != nil {
		s.log.Warn("keep the operation's figures", "operation", op.Slug, "error", err)
	}
}

// refresh computes an operation's report in the background.
func (s *Server) refresh(e *cachedReport, op *takedown.Operation) {
	ctx, cancel := context.WithTimeout(context.Background(), reportTime)
	defer cancel()
	now := s.now()
	rep, err := takedown.OperationReport(ctx, s.store, op, now)
	e.mu.Lock()
	defer e.mu.Unlock()
	e.refreshing = false
	if err != nil {
		s.log.Warn("refresh the operation's figures", "operation", op.Slug, "error", err)
		return
	}
	if now.After(e.at) {
		e.rep, e.at = rep, now
	}
	s.keep(ctx, op, rep)
}

// forget drops an operation's report: a change made through this UI
// shows at once (changes made elsewhere, within reportFresh).
func (s *Server) forget(operationID int64) {
	s.reports.mu.Lock()
	if s.reports.byOp == nil {
		s.reports.byOp = map[int64]*cachedReport{}
	}
	s.reports.byOp[operationID] = &cachedReport{changed: true}
	s.reports.mu.Unlock()
}

// Warm computes the figures of every open operation in the background,
// one after the other, so that the first look at a large operation's page
// after a start does not wait for them. It returns at once.
func (s *Server) Warm(ctx context.Context) {
	go func() {
		ops, err := s.store.ListOperations(ctx)
		if err != nil {
			s.log.Warn("warm the operations' figures", "error", err)
			return
		}
		for _, op := range ops {
			if op.Status != takedown.OperationOpen || ctx.Err() != nil {
				continue
			}
			if _, err := s.report(ctx, op); err != nil && ctx.Err() == nil {
				s.log.Warn("warm the operation's figures", "operation", op.Slug, "error", err)
			}
		}
	}()
}
