package web

import (
	"context"
	"fmt"
	"html/template"
	"sync"
	"time"

	"github.com/takedown-project/takedown"
	"github.com/takedown-project/takedown/internal/chart"
)

// The operation page's charts, drawn on the server from its report.

func hoursTick(x float64) string {
	switch {
	case x == 0:
		return "0"
	case x < 1:
		return fmt.Sprintf("%.0f min", x*60)
	case x < 48:
		return fmt.Sprintf("%.4g h", x)
	}
	return fmt.Sprintf("%.3g d", x/24)
}

func shareTick(y float64) string { return fmt.Sprintf("%.0f%%", 100*y) }

// survivalSeries turns curves into series with x in hours.
func survivalSeries(curves []takedown.SurvivalCurve) []chart.Series {
	var out []chart.Series
	for _, c := range curves {
		s := chart.Series{Name: fmt.Sprintf("%s (%d)", c.Group, c.Items)}
		for _, p := range c.Points {
			s.Points = append(s.Points, chart.Point{X: float64(p.Seconds) / 3600, Y: p.Survival})
		}
		out = append(out, s)
	}
	return out
}

// operationCharts are the report's charts, in the page's order.
func operationCharts(r *takedown.Report) map[string]template.HTML {
	out := map[string]template.HTML{}
	// Confirmed removals over time.
	var line chart.Series
	line.Name = "taken offline (cumulative)"
	start := time.Time{}
	if len(r.TakenOfflineOverTime) > 0 {
		start = r.TakenOfflineOverTime[0].At
		line.Points = append(line.Points, chart.Point{X: 0, Y: 0})
	}
	for _, p := range r.TakenOfflineOverTime {
		line.Points = append(line.Points, chart.Point{X: p.At.Sub(start).Hours(), Y: float64(p.Count)})
	}
	xl := "hours since the first removal"
	if !start.IsZero() {
		xl = "time since the first removal, " + start.UTC().Format("2006-01-02 15:04 UTC")
	}
	out["timeline"] = chart.Lines{Title: "Items taken offline over time",
		Desc:   fmt.Sprintf("Cumulative confirmed removals by the time of their first offline observation; %d in all.", lastCount(r.TakenOfflineOverTime)),
		XLabel: xl, YLabel: "items", XTick: hoursTick, Step: true, Series: []chart.Series{line}}.SVG()
	// Still online after referral, per platform.
	out["online"] = chart.Lines{Title: "Still online after referral, per platform",
		Desc:   "Kaplan-Meier estimate of the share of referred items not yet removed, by time since the referral's receipt; items still online are censored at now.",
		XLabel: "time since the referral's receipt", YLabel: "share still online", XTick: hoursTick, YTick: shareTick, YMax: 1, Step: true,
		Series: survivalSeries(r.StillOnline)}.SVG()
	// Time to removal per provider.
	var rows []chart.Range
	for _, f := range r.TimeToRemoval.ByProvider {
		rows = append(rows, chart.Range{Label: f.Group, Count: f.Count, Min: float64(f.Min) / 3600, Median: float64(f.Median) / 3600, P90: float64(f.P90) / 3600, Max: float64(f.Max) / 3600})
	}
	out["ttr"] = chart.Ranges{Title: "Time to removal per provider",
		Desc:   "For each provider, the fastest and slowest confirmed removal (line), the median (black mark) and the 90th percentile (end of the bar).",
		XLabel: "time from the referral's receipt to the removal", XTick: hoursTick, Rows: rows}.SVG()
	// Not yet back after removal, per platform.
	if r.Resurgence != nil {
		var curves []takedown.SurvivalCurve
		for _, f := range r.Resurgence.ByPlatform {
			curves = append(curves, takedown.SurvivalCurve{Group: f.Group, Items: f.Removed, Events: f.Back, Points: f.NotBack})
		}
		out["back"] = chart.Lines{Title: "Not yet back after removal, per platform",
			Desc:   "Kaplan-Meier estimate of the share of removed channels, groups and accounts without a confirmed successor, by time since their removal; those not back are censored at now.",
			XLabel: "time since the removal", YLabel: "share not back", XTick: hoursTick, YTick: shareTick, YMax: 1, Step: true,
			Series: survivalSeries(curves)}.SVG()
	}
	return out
}

func lastCount(ps []takedown.TimelinePoint) int {
	if len(ps) == 0 {
		return 0
	}
	return ps[len(ps)-1].Count
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
