// Package report writes an operation's figures (takedown.Report) for
// people outside takedown: a PDF for the press, Markdown for a summary,
// CSV and JSON for other programs. Every figure says what it counts and as of when, and a
// report of an open operation says that its figures are preliminary.
package report

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/takedown-project/takedown"
)

// Formats are the formats Write knows.
var Formats = []string{"md", "csv", "json", "pdf"}

// Write writes r in format.
func Write(w io.Writer, format string, r *takedown.Report) error {
	switch format {
	case "md":
		return markdown(w, r)
	case "csv":
		return csvReport(w, r)
	case "pdf":
		return pdfReport(w, r)
	case "json":
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(r)
	}
	return takedown.Errorf(takedown.EINVALID, "report format %q: want %s", format, strings.Join(Formats, ", "))
}

// Definitions say what the figures count; every report carries them.
var Definitions = []string{
	"An item is one online thing under its canonical identity (a channel, an account, a group, a post, a file, a website), counted once however many agencies submitted it and however often.",
	"Taken offline counts the items observed offline twice, at least the confirmation interval apart, and not seen online since (status confirmed_offline). Items a provider says it removed but that were not observed offline twice, items seen offline once, and items never probed are not counted.",
	"Time to removal runs from the provider's receipt of the referral to the first offline observation of a confirmed removal.",
	"Still online after t is the Kaplan-Meier estimate of the share of referred items not yet removed t after the referral's receipt; items still online are counted as observed until now (censored), not as never removed.",
	"Resurgence counts the removed channels, groups and accounts with a successor an analyst confirmed; time to resurgence runs from the removal (the first offline observation of its confirmed removal) to the successor's first sighting.",
}

// horizons are the times after a referral (or a removal) at which a
// survival curve is read for a table.
var horizons = []time.Duration{time.Hour, 6 * time.Hour, 24 * time.Hour, 72 * time.Hour, 7 * 24 * time.Hour}

// At reads a survival curve at t: the estimate of the last step at or
// before it.
func At(points []takedown.SurvivalPoint, t time.Duration) float64 {
	s := 1.0
	for _, p := range points {
		if time.Duration(p.Seconds)*time.Second > t {
			break
		}
		s = p.Survival
	}
	return s
}

// known says whether a curve says anything at t: within the longest
// observation, or after it once every item has had its event.
func known(c takedown.SurvivalCurve, t time.Duration) bool {
	return t <= time.Duration(c.FollowUpSeconds)*time.Second || (len(c.Points) > 0 && c.Points[len(c.Points)-1].Survival == 0)
}

func asOf(r *takedown.Report) string {
	s := "As of " + r.AsOf.UTC().Format("2006-01-02 15:04 UTC") + "."
	if r.Preliminary {
		s += " **Preliminary figures**: the operation is open and they move."
	}
	return s
}

// statusGroups are the columns of a breakdown: what a reader asks of a
// group.
var statusGroups = []struct {
	name     string
	statuses []takedown.ItemStatus
}{
	{"taken offline", []takedown.ItemStatus{takedown.ItemConfirmed}},
	{"referred, not (yet) offline", []takedown.ItemStatus{takedown.ItemReferred, takedown.ItemOnline, takedown.ItemOffline, takedown.ItemReinstated}},
	{"not referred", []takedown.ItemStatus{takedown.ItemSubmitted, takedown.ItemCandidate}},
}

// breakdownTable is one dimension's groups with their totals and status
// groups.
func breakdownTable(r *takedown.Report, dim string) [][]string {
	type row struct {
		total int
		by    map[takedown.ItemStatus]int
	}
	rows := map[string]*row{}
	var order []string
	for _, b := range r.Breakdown {
		if b.Dimension != dim {
			continue
		}
		x := rows[b.Group]
		if x == nil {
			x = &row{by: map[takedown.ItemStatus]int{}}
			rows[b.Group] = x
			order = append(order, b.Group)
		}
		x.total += b.Count
		x.by[b.Status] += b.Count
	}
	var out [][]string
	for _, g := range order {
		name := g
		if name == "" {
			name = "(none yet)"
		}
		line := []string{name, strconv.Itoa(rows[g].total)}
		for _, sg := range statusGroups {
			n := 0
			for _, st := range sg.statuses {
				n += rows[g].by[st]
			}
			line = append(line, strconv.Itoa(n))
		}
		out = append(out, line)
	}
	return out
}

func duration(s int64) string {
	d := time.Duration(s) * time.Second
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%d s", s)
	case d < time.Hour:
		return fmt.Sprintf("%d min", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%.1f h", d.Hours())
	}
	return fmt.Sprintf("%.1f days", d.Hours()/24)
}

func percent(f float64) string { return fmt.Sprintf("%.1f%%", 100*f) }

func markdown(w io.Writer, r *takedown.Report) error {
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	table := func(head []string, rows [][]string) {
		p("| %s |\n|%s\n", strings.Join(head, " | "), strings.Repeat("---|", len(head)))
		for _, r := range rows {
			p("| %s |\n", strings.Join(r, " | "))
		}
		p("\n")
	}
	p("# %s (%s): figures\n\n%s\n\n", r.Name, r.Operation, asOf(r))
	p("**Taken offline: %d of %d items.**\n\n", r.TakenOffline, r.Items)
	p("## What the figures count\n\n")
	for _, d := range Definitions {
		p("- %s\n", d)
	}
	p("\n## Items by status\n\n")
	var rows [][]string
	for _, st := range takedown.ItemStatuses {
		if n := r.ByStatus[st]; n > 0 {
			rows = append(rows, []string{string(st), strconv.Itoa(n)})
		}
	}
	rows = append(rows, []string{"all", strconv.Itoa(r.Items)})
	table([]string{"status", "items"}, rows)
	for _, dim := range takedown.Dimensions {
		title := map[string]string{"kind": "By kind", "platform": "By platform", "agency": "By submitting agency (an item submitted by several agencies counts for each)", "provider": "By provider"}[dim]
		p("## %s\n\n", title)
		head := []string{dim, "items"}
		for _, sg := range statusGroups {
			head = append(head, sg.name)
		}
		table(head, breakdownTable(r, dim))
	}
	p("## Time to removal\n\n")
	if len(r.TimeToRemoval.All) == 0 {
		p("No removal is confirmed yet.\n\n")
	} else {
		for _, part := range []struct {
			head string
			rows []takedown.RemovalFigure
		}{{"", r.TimeToRemoval.All}, {"provider", r.TimeToRemoval.ByProvider}, {"platform", r.TimeToRemoval.ByPlatform}} {
			var rows [][]string
			for _, f := range part.rows {
				rows = append(rows, []string{f.Group, strconv.Itoa(f.Count), duration(f.Median), duration(f.P90), duration(f.Min), duration(f.Max)})
			}
			head := part.head
			if head == "" {
				head = "items"
			}
			table([]string{head, "removals", "median", "90th percentile", "fastest", "slowest"}, rows)
		}
	}
	p("## Still online after referral\n\n")
	p("Share of referred items still online after each time since the referral's receipt; \"-\" where no item was observed that long yet.\n\n")
	if len(r.StillOnline) == 0 {
		p("Nothing is referred yet.\n\n")
	} else {
		head := []string{"platform", "referred", "removed"}
		for _, h := range horizons {
			head = append(head, "after "+duration(int64(h/time.Second)))
		}
		var rows [][]string
		for _, c := range r.StillOnline {
			line := []string{c.Group, strconv.Itoa(c.Items), strconv.Itoa(c.Events)}
			for _, h := range horizons {
				if !known(c, h) {
					line = append(line, "-") // not observed that long yet
					continue
				}
				line = append(line, percent(At(c.Points, h)))
			}
			rows = append(rows, line)
		}
		table(head, rows)
	}
	p("## Taken offline over time\n\n")
	if n := len(r.TakenOfflineOverTime); n == 0 {
		p("No removal is confirmed yet.\n\n")
	} else {
		first, last := r.TakenOfflineOverTime[0], r.TakenOfflineOverTime[n-1]
		p("Confirmed removals by the time of their first offline observation: the first at %s, %d by %s (items reinstated since included).\n\n",
			first.At.UTC().Format("2006-01-02 15:04 UTC"), last.Count, last.At.UTC().Format("2006-01-02 15:04 UTC"))
	}
	p("## Removal orders\n\n")
	next := "-"
	if r.Orders.NextDeadline != nil {
		next = r.Orders.NextDeadline.UTC().Format("2006-01-02 15:04 UTC")
	}
	p("Removal orders with items pending: %d within their one-hour deadline (the next at %s), %d past it.\n\n", r.Orders.Running, next, r.Orders.Overdue)
	if res := r.Resurgence; res != nil {
		p("## Resurgence\n\n")
		m := res.Matches
		p("Candidate successors found by the watch: %d; matches %d open, %d confirmed, %d rejected; successors confirmed %d, referred again %d.\n\n",
			m.Candidates, m.Open, m.Confirmed, m.Rejected, m.Successors, m.Referred)
		if rows := resurgenceRows(res); len(rows) > 0 {
			table(resurgenceHead, rows)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// resurgenceHead and resurgenceRows are the resurgence table: per
// platform of the removed items, then all.
var resurgenceHead = []string{"platform", "removed", "came back", "share", "median time to resurgence"}

func resurgenceRows(res *takedown.Resurgence) [][]string {
	var rows [][]string
	for _, f := range append(append([]takedown.ResurgenceFigure{}, res.ByPlatform...), res.All...) {
		med := "-"
		if f.Back > 0 {
			med = duration(f.Median)
		}
		rows = append(rows, []string{f.Group, strconv.Itoa(f.Removed), strconv.Itoa(f.Back), percent(f.Share), med})
	}
	return rows
}

// csvReport writes the figures as rows of section, group, measure, value:
// one long table a spreadsheet pivots as it likes.
func csvReport(w io.Writer, r *takedown.Report) error {
	cw := csv.NewWriter(w)
	row := func(section, group, measure string, value any) {
		cw.Write([]string{section, group, measure, fmt.Sprint(value)})
	}
	cw.Write([]string{"section", "group", "measure", "value"})
	row("report", r.Operation, "name", r.Name)
	row("report", r.Operation, "as_of", r.AsOf.UTC().Format(time.RFC3339))
	row("report", r.Operation, "preliminary", r.Preliminary)
	row("items", "all", "items", r.Items)
	row("items", "all", "taken_offline", r.TakenOffline)
	for _, st := range takedown.ItemStatuses {
		if n := r.ByStatus[st]; n > 0 {
			row("items", "all", string(st), n)
		}
	}
	for _, b := range r.Breakdown {
		row(b.Dimension, b.Group, string(b.Status), b.Count)
	}
	for _, part := range []struct {
		section string
		rows    []takedown.RemovalFigure
	}{{"time_to_removal", r.TimeToRemoval.All}, {"time_to_removal_by_provider", r.TimeToRemoval.ByProvider}, {"time_to_removal_by_platform", r.TimeToRemoval.ByPlatform}} {
		for _, f := range part.rows {
			row(part.section, f.Group, "removals", f.Count)
			row(part.section, f.Group, "median_seconds", f.Median)
			row(part.section, f.Group, "p90_seconds", f.P90)
			row(part.section, f.Group, "min_seconds", f.Min)
			row(part.section, f.Group, "max_seconds", f.Max)
		}
	}
	for _, c := range r.StillOnline {
		row("still_online", c.Group, "referred", c.Items)
		row("still_online", c.Group, "removed", c.Events)
		row("still_online", c.Group, "follow_up_seconds", c.FollowUpSeconds)
		for _, h := range horizons {
			if known(c, h) {
				row("still_online", c.Group, "after_"+strconv.FormatInt(int64(h/time.Second), 10)+"s", fmt.Sprintf("%.6f", At(c.Points, h)))
			}
		}
	}
	for _, t := range r.TakenOfflineOverTime {
		row("taken_offline_over_time", t.At.UTC().Format(time.RFC3339), "cumulative", t.Count)
	}
	row("removal_orders", "all", "running", r.Orders.Running)
	row("removal_orders", "all", "overdue", r.Orders.Overdue)
	if r.Orders.NextDeadline != nil {
		row("removal_orders", "all", "next_deadline", r.Orders.NextDeadline.UTC().Format(time.RFC3339))
	}
	if res := r.Resurgence; res != nil {
		m := res.Matches
		for _, kv := range []struct {
			k string
			v int
		}{{"candidates", m.Candidates}, {"matches_open", m.Open}, {"matches_confirmed", m.Confirmed}, {"matches_rejected", m.Rejected}, {"successors", m.Successors}, {"referred_again", m.Referred}} {
			row("resurgence", "all", kv.k, kv.v)
		}
		for _, f := range append(append([]takedown.ResurgenceFigure{}, res.ByPlatform...), res.All...) {
			row("resurgence_by_platform", f.Group, "removed", f.Removed)
			row("resurgence_by_platform", f.Group, "came_back", f.Back)
			row("resurgence_by_platform", f.Group, "share", fmt.Sprintf("%.4f", f.Share))
			if f.Back > 0 {
				row("resurgence_by_platform", f.Group, "median_seconds", f.Median)
			}
		}
	}
	cw.Flush()
	return cw.Error()
}
