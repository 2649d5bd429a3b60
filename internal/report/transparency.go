package report

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/takedown-project/takedown"
)

// TransparencyFormats are the formats WriteTransparency knows.
var TransparencyFormats = []string{"md", "csv", "json"}

// transparencyOutcomes are the answers in the order a report lists them,
// with what each means.
var transparencyOutcomes = []struct {
	outcome takedown.Outcome
	label   string
}{
	{takedown.OutcomeRemoved, "removed"},
	{takedown.OutcomeDisabled, "access disabled in the Union"},
	{takedown.OutcomeRejected, "not removed (rejected, with reasons)"},
	{takedown.OutcomeNotFound, "not found (no longer there)"},
	{takedown.OutcomeNeedInfo, "more information asked, unanswered"},
	{takedown.OutcomeNoAnswer, "no answer in time"},
	{takedown.OutcomePending, "no answer yet"},
}

// TransparencyDefinitions say what the figures count.
var TransparencyDefinitions = []string{
	"Removal orders are counted by their date of issue; referrals by the date they were made. Drafts never sent are not counted.",
	"Items are the URLs an order or referral named, each counted by the provider's answer as recorded when this report was made.",
	"Within one hour counts the items removed or disabled no later than one hour after the provider received the order, by the time the provider says it acted or, when it did not say, the time of its answer.",
	"Reinstated counts the items of the year's orders or referrals that takedown confirmed offline and later observed online again (for instance restored after a complaint).",
}

// WriteTransparency writes t in format.
func WriteTransparency(w io.Writer, format string, t *takedown.Transparency) error {
	switch format {
	case "md":
		return transparencyMarkdown(w, t)
	case "csv":
		return transparencyCSV(w, t)
	case "json":
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(t)
	}
	return takedown.Errorf(takedown.EINVALID, "transparency report format %q: want %s", format, strings.Join(TransparencyFormats, ", "))
}

func transparencyTitle(t *takedown.Transparency) string {
	title := fmt.Sprintf("Transparency report %d", t.Year)
	if t.Authority != "" {
		title += " of " + t.Authority
	}
	return title
}

func transparencyMarkdown(w io.Writer, t *takedown.Transparency) error {
	var b strings.Builder
	fmt.Fprintf(&b, "# %s\n\n", transparencyTitle(t))
	fmt.Fprintf(&b, "Under Article 8 of Regulation (EU) 2021/784 (addressing the dissemination of terrorist content online), for 1 January to 31 December %d. As of %s.", t.Year, t.AsOf.UTC().Format("2006-01-02 15:04 UTC"))
	if t.Preliminary {
		b.WriteString(" **Preliminary**: the year is not over or answers are still pending.")
	}
	b.WriteString("\n\n## Removal orders (Article 3)\n\n")
	o := &t.RemovalOrders
	fmt.Fprintf(&b, "| Figure | Count |\n|---|---:|\n| Removal orders issued | %d |\n| URLs named in them | %d |\n", o.Orders, o.Items)
	for _, x := range transparencyOutcomes {
		fmt.Fprintf(&b, "| URLs %s | %d |\n", x.label, o.Outcomes[x.outcome])
	}
	fmt.Fprintf(&b, "| URLs removed or disabled within one hour of receipt | %d |\n", o.WithinHour)
	for _, g := range takedown.CannotComplyReasons {
		fmt.Fprintf(&b, "| URLs the provider could not act on in time: %s | %d |\n", strings.ReplaceAll(g, "_", " "), o.CannotComply[g])
	}
	fmt.Fprintf(&b, "| Orders escalated past the hour | %d |\n| URLs reinstated after removal | %d |\n", o.Overdue, o.Reinstated)
	providerTable(&b, "Removal orders", o.ByProvider)
	b.WriteString("\n## Referrals (voluntary, for the provider's own terms)\n\n")
	r := &t.Referrals
	fmt.Fprintf(&b, "| Figure | Count |\n|---|---:|\n| Referrals made | %d |\n| URLs named in them | %d |\n", r.Referrals, r.Items)
	for _, x := range transparencyOutcomes {
		fmt.Fprintf(&b, "| URLs %s | %d |\n", x.label, r.Outcomes[x.outcome])
	}
	fmt.Fprintf(&b, "| URLs reinstated after removal | %d |\n", r.Reinstated)
	providerTable(&b, "Referrals", r.ByProvider)
	b.WriteString("\n## Not recorded in takedown\n\nArticle 8 also asks for these; takedown keeps no record of them, so they come from the authority's case files:\n\n")
	for _, s := range t.NotRecorded {
		fmt.Fprintf(&b, "- %s\n", s)
	}
	b.WriteString("\n## Definitions\n\n")
	for _, d := range TransparencyDefinitions {
		fmt.Fprintf(&b, "- %s\n", d)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func providerTable(b *strings.Builder, what string, rows []takedown.TransparencyProvider) {
	if len(rows) == 0 {
		return
	}
	fmt.Fprintf(b, "\n%s by provider:\n\n| Provider | %s | URLs | Removed | Disabled | Rejected | Not found | Unanswered |\n|---|---:|---:|---:|---:|---:|---:|---:|\n", what, what)
	for _, p := range rows {
		fmt.Fprintf(b, "| %s | %d | %d | %d | %d | %d | %d | %d |\n", md(p.Provider), p.Orders, p.Items, p.Outcomes[takedown.OutcomeRemoved], p.Outcomes[takedown.OutcomeDisabled],
			p.Outcomes[takedown.OutcomeRejected], p.Outcomes[takedown.OutcomeNotFound], p.Outcomes[takedown.OutcomePending]+p.Outcomes[takedown.OutcomeNeedInfo]+p.Outcomes[takedown.OutcomeNoAnswer])
	}
}

// md keeps a value from breaking a Markdown table.
func md(s string) string { return strings.NewReplacer("|", "\\|", "\n", " ").Replace(s) }

func transparencyCSV(w io.Writer, t *takedown.Transparency) error {
	cw := csv.NewWriter(w)
	row := func(section, group, measure string, value any) {
		cw.Write([]string{section, group, measure, fmt.Sprint(value)})
	}
	cw.Write([]string{"section", "group", "measure", "value"})
	row("report", "all", "year", t.Year)
	row("report", "all", "authority", t.Authority)
	row("report", "all", "as_of", t.AsOf.UTC().Format(time.RFC3339))
	row("report", "all", "preliminary", t.Preliminary)
	o := &t.RemovalOrders
	row("removal_orders", "all", "orders", o.Orders)
	row("removal_orders", "all", "urls", o.Items)
	for _, x := range transparencyOutcomes {
		row("removal_orders", "all", string(x.outcome), o.Outcomes[x.outcome])
	}
	row("removal_orders", "all", "within_hour", o.WithinHour)
	for _, g := range takedown.CannotComplyReasons {
		row("removal_orders", "all", "cannot_comply_"+g, o.CannotComply[g])
	}
	row("removal_orders", "all", "escalated", o.Overdue)
	row("removal_orders", "all", "reinstated", o.Reinstated)
	providerRows(row, "removal_orders_by_provider", "orders", o.ByProvider)
	r := &t.Referrals
	row("referrals", "all", "referrals", r.Referrals)
	row("referrals", "all", "urls", r.Items)
	for _, x := range transparencyOutcomes {
		row("referrals", "all", string(x.outcome), r.Outcomes[x.outcome])
	}
	row("referrals", "all", "reinstated", r.Reinstated)
	providerRows(row, "referrals_by_provider", "referrals", r.ByProvider)
	for _, s := range t.NotRecorded {
		row("not_recorded", "all", s, "")
	}
	cw.Flush()
	return cw.Error()
}

func providerRows(row func(section, group, measure string, value any), section, what string, rows []takedown.TransparencyProvider) {
	for _, p := range rows {
		row(section, p.Provider, what, p.Orders)
		row(section, p.Provider, "urls", p.Items)
		for _, x := range transparencyOutcomes {
			if n := p.Outcomes[x.outcome]; n > 0 {
				row(section, p.Provider, string(x.outcome), n)
			}
		}
	}
}
