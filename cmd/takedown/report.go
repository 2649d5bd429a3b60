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
	var operation, format, out string
	cmd := &cobra.Command{
		Use:   "report --operation OP [--format md|csv|json|pdf] [--out FILE]",
		Short: "An operation's figures, each with what it counts and as of when",
		Long: `report writes an operation's figures as the UI shows them: items by status,
kind, platform, submitting agency and provider; taken offline (confirmed
offline only); time to removal overall, per provider and per platform; the
share still online after a referral (Kaplan-Meier, items still online
censored); confirmed removals over time; removal orders running and
overdue; resurgence. Figures of an open operation are marked preliminary.
pdf is a press-ready summary with the charts, md a summary for people, csv
one long table (section, group, measure, value), json the figures whole.`,
		Example: `  takedown report --operation rad-2026-11
  takedown report --operation rad-2026-11 --format pdf --out figures.pdf
  takedown report --operation rad-2026-11 --format csv --out figures.csv`,
		Args: cobra.NoArgs,
		RunE: withDatabase(g, func(cmd *cobra.Command, args []string, db database) error {
			op, err := db.FindOperation(cmd.Context(), operation)
			if err != nil {
				return err
			}
			r, err := takedown.OperationReport(cmd.Context(), db, op, time.Now())
			if err != nil {
				return err
			}
			var w io.Writer = g.stdout
			if out != "" && out != "-" {
				f, err := os.Create(out)
				if err != nil {
					return err
				}
				if err := report.Write(f, format, r); err != nil {
					f.Close()
					os.Remove(out)
					return err
				}
				if err := f.Close(); err != nil {
					return err
				}
				fmt.Fprintf(g.stderr, "report of %s written to %s\n", op.Slug, out)
				return nil
			}
			return report.Write(w, format, r)
		}),
	}
	cmd.Flags().StringVar(&operation, "operation", "", "the operation (required)")
	cmd.Flags().StringVar(&format, "format", "md", strings.Join(report.Formats, ", "))
	cmd.Flags().StringVar(&out, "out", "", "write to this file instead of standard output")
	_ = cmd.MarkFlagRequired("operation")
	return cmd
}
