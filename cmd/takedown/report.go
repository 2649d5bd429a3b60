package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/takedown-project/takedown"
	"github.com/takedown-project/takedown/internal/report"
)

func newReportCommand(g *globals) *cobra.Command {
	var operation, format, out, authority string
	var transparency bool
	var year int
	cmd := &cobra.Command{
		Use:   "report --operation OP [--format md|csv|json|pdf] [--out FILE] | report --transparency --year Y [--authority A]",
		Short: "An operation's figures, each with what it counts and as of when",
		Long: `report writes an operation's figures as the UI shows them: items by status,
kind, platform, submitting agency and provider; taken offline (confirmed
offline only); time to removal overall, per provider and per platform; the
share still online after a referral (Kaplan-Meier, items still online
censored); confirmed removals over time; removal orders running and
overdue; resurgence. Figures of an open operation are marked preliminary.
pdf is a press-ready summary with the charts, md a summary for people, csv
one long table (section, group, measure, value), json the figures whole.

With --transparency, report writes instead the year's transparency report
of a competent authority under Article 8 of Regulation (EU) 2021/784: the
removal orders issued (by date of issue), what the providers did with
the URLs they named (removed, disabled, not removed, within the hour,
could not comply and why), escalations, reinstatements, and the
voluntary referrals beside them, over every operation; --authority keeps
the orders of one issuing authority (as written in the orders). What
Article 8 asks that takedown does not record is listed as such.`,
		Example: `  takedown report --operation rad-2026-11
  takedown report --operation rad-2026-11 --format pdf --out figures.pdf
  takedown report --operation rad-2026-11 --format csv --out figures.csv
  takedown report --transparency --year 2026 --format md --out transparency-2026.md`,
		Args: cobra.NoArgs,
		RunE: withDatabase(g, func(cmd *cobra.Command, args []string, db database) error {
			if transparency {
				if operation != "" {
					return takedown.Errorf(takedown.EINVALID, "--transparency covers every operation of the year: leave --operation out")
				}
				if year == 0 {
					return takedown.Errorf(takedown.EINVALID, "--transparency needs --year")
				}
				t, err := takedown.TransparencyReport(cmd.Context(), db, year, authority, time.Now())
				if err != nil {
					return err
				}
				return writeOut(g, out, func(out string) string { return fmt.Sprintf("transparency report %d written to %s", year, out) }, func(w io.Writer) error {
					return report.WriteTransparency(w, format, t)
				})
			}
			if operation == "" {
				return takedown.Errorf(takedown.EINVALID, "--operation is required (or --transparency --year Y)")
			}
			op, err := db.FindOperation(cmd.Context(), operation)
			if err != nil {
				return err
			}
			r, err := takedown.OperationReport(cmd.Context(), db, op, time.Now())
			if err != nil {
				return err
			}
			return writeOut(g, out, func(out string) string { return "report of " + op.Slug + " written to " + out }, func(w io.Writer) error { return report.Write(w, format, r) })
		}),
	}
	cmd.Flags().StringVar(&operation, "operation", "", "the operation (required, but with --transparency)")
	cmd.Flags().StringVar(&format, "format", "md", strings.Join(report.Formats, ", ")+" (transparency: "+strings.Join(report.TransparencyFormats, ", ")+")")
	cmd.Flags().StringVar(&out, "out", "", "write to this file instead of standard output")
	cmd.Flags().BoolVar(&transparency, "transparency", false, "the year's transparency report (Article 8 of Regulation (EU) 2021/784)")
	cmd.Flags().IntVar(&year, "year", 0, "with --transparency: the calendar year")
	cmd.Flags().StringVar(&authority, "authority", "", "with --transparency: only the removal orders of this issuing authority")
	return cmd
}

// writeOut writes with write to the file out, or to standard output when
// out is "" or "-"; a file that could not be written whole is removed,
// one that was is announced on standard error as done says (asked once
// written).
func writeOut(g *globals, out string, done func(out string) string, write func(io.Writer) error) error {
	if out == "" || out == "-" {
		return write(g.stdout)
	}
	f, err := os.Create(out)
	if err != nil {
		return err
	}
	if err := write(f); err != nil {
		f.Close()
		os.Remove(out)
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	fmt.Fprintln(g.stderr, done(out))
	return nil
}
