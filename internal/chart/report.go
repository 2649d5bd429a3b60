package chart

import (
	"fmt"
	"html/template"
	"time"

	"github.com/takedown-project/takedown"
)

// The charts of an operation's report, for the UI and the PDF alike.

// hoursTick writes an hours axis's tick in the axis's unit (hoursUnit):
// one axis, one unit.
func hoursTick(unit float64) func(float64) string {
	name := map[float64]string{3600: "s", 60: "min", 1: "h", 1.0 / 24: "d"}[unit]
	return func(x float64) string {
		if x == 0 {
			return "0"
		}
		return fmt.Sprintf("%.3g %s", x*unit, name)
	}
}

// hoursUnit makes ticks round in the unit hoursTick writes for an axis
// that reaches maxHours.
func hoursUnit(maxHours float64) float64 {
	switch {
	case maxHours < 2.0/60:
		return 3600
	case maxHours < 2:
		return 60
	case maxHours < 72:
		return 1
	}
	return 1.0 / 24
}

// maxX is the largest x of the series.
func maxX(ss []Series) float64 {
	m := 0.0
	for _, s := range ss {
		for _, p := range s.Points {
			m = max(m, p.X)
		}
	}
	return m
}

func shareTick(y float64) string { return fmt.Sprintf("%.0f%%", 100*y) }

// survivalSeries turns curves into series with x in hours.
func survivalSeries(curves []takedown.SurvivalCurve) []Series {
	var out []Series
	for _, c := range curves {
		s := Series{Name: fmt.Sprintf("%s (%d)", c.Group, c.Items)}
		for _, p := range c.Points {
			s.Points = append(s.Points, Point{X: float64(p.Seconds) / 3600, Y: p.Survival})
		}
		out = append(out, s)
	}
	return out
}

// Drawer is a chart that draws itself as SVG or on any canvas.
type Drawer interface {
	Size() (float64, float64)
	Draw(Canvas)
	SVG() template.HTML
}

// Named is one of a report's charts.
type Named struct {
	Key   string // timeline, online, ttr, back
	Chart Drawer
}

// ForReport makes an operation report's charts: confirmed removals over
// time, still online after referral per platform, time to removal per
// provider and, with resurgence, not yet back after removal per platform.
func ForReport(r *takedown.Report) []Named {
	var out []Named
	// Confirmed removals over time.
	var line Series
	line.Name = "taken offline (cumulative)"
	start := time.Time{}
	if len(r.TakenOfflineOverTime) > 0 {
		start = r.TakenOfflineOverTime[0].At
		line.Points = append(line.Points, Point{X: 0, Y: 0})
	}
	for _, p := range r.TakenOfflineOverTime {
		line.Points = append(line.Points, Point{X: p.At.Sub(start).Hours(), Y: float64(p.Count)})
	}
	xl := "hours since the first removal"
	if !start.IsZero() {
		xl = "time since the first removal, " + start.UTC().Format("2006-01-02 15:04 UTC")
	}
	out = append(out, Named{"timeline", Lines{Title: "Items taken offline over time",
		Desc:   fmt.Sprintf("Cumulative confirmed removals by the time of their first offline observation; %d in all.", lastCount(r.TakenOfflineOverTime)),
		XLabel: xl, YLabel: "items", XTick: hoursTick(hoursUnit(maxX([]Series{line}))), XUnit: hoursUnit(maxX([]Series{line})), Step: true, Series: []Series{line}}})
	// Still online after referral, per platform.
	out = append(out, Named{"online", Lines{Title: "Still online after referral, per platform",
		Desc:   "Kaplan-Meier estimate of the share of referred items not yet removed, by time since the referral's receipt; items still online are censored at now.",
		XLabel: "time since the referral's receipt", YLabel: "share still online", XTick: hoursTick(hoursUnit(maxX(survivalSeries(r.StillOnline)))), XUnit: hoursUnit(maxX(survivalSeries(r.StillOnline))),
		YTick: shareTick, YMax: 1, Step: true, Series: survivalSeries(r.StillOnline)}})
	// Time to removal per provider.
	var rows []Range
	maxRange := 0.0
	for _, f := range r.TimeToRemoval.ByProvider {
		maxRange = max(maxRange, float64(f.Max)/3600)
		rows = append(rows, Range{Label: f.Group, Count: f.Count, Min: float64(f.Min) / 3600, Median: float64(f.Median) / 3600, P90: float64(f.P90) / 3600, Max: float64(f.Max) / 3600})
	}
	out = append(out, Named{"ttr", Ranges{Title: "Time to removal per provider",
		Desc:   "For each provider, the fastest and slowest confirmed removal (line), the median (black mark) and the 90th percentile (end of the bar).",
		XLabel: "time from the referral's receipt to the removal", XTick: hoursTick(hoursUnit(maxRange)), XUnit: hoursUnit(maxRange), Rows: rows}})
	// Not yet back after removal, per platform.
	if r.Resurgence != nil {
		var curves []takedown.SurvivalCurve
		for _, f := range r.Resurgence.ByPlatform {
			curves = append(curves, takedown.SurvivalCurve{Group: f.Group, Items: f.Removed, Events: f.Back, Points: f.NotBack})
		}
		out = append(out, Named{"back", Lines{Title: "Not yet back after removal, per platform",
			Desc:   "Kaplan-Meier estimate of the share of removed channels, groups and accounts without a confirmed successor, by time since their removal; those not back are censored at now.",
			XLabel: "time since the removal", YLabel: "share not back", XTick: hoursTick(hoursUnit(maxX(survivalSeries(curves)))), XUnit: hoursUnit(maxX(survivalSeries(curves))),
			YTick: shareTick, YMax: 1, Step: true, Series: survivalSeries(curves)}})
	}
	return out
}

func lastCount(ps []takedown.TimelinePoint) int {
	if len(ps) == 0 {
		return 0
	}
	return ps[len(ps)-1].Count
}
