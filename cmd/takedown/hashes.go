package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/takedown-project/takedown"
	"github.com/takedown-project/takedown/internal/exchange"
	"github.com/takedown-project/takedown/internal/hashlist"
)

func newHashesCommand(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "hashes",
		Short: "Seed an operation with a PDQ hash list, and list the candidates whose avatar matched one",
		Long: `hashes brings PDQ hash lists, as hash-sharing tools and platforms'
matching systems exchange them, into an operation as seeds: the watch
compares them with the avatar of every item of the operation that is not
offline (those the agencies submitted, and the candidates it found), and
an avatar within 31 bits of a seed is a hit, listed by "hashes hits" for
an analyst to look at. "takedown export --format pdq|pdq-csv" writes the
other way.`,
	}
	cmd.AddCommand(newHashesImportCommand(g), newHashesListCommand(g), newHashesHitsCommand(g))
	return cmd
}

// shownHashProblems is how many bad lines an import prints.
const shownHashProblems = 20

func newHashesImportCommand(g *globals) *cobra.Command {
	var operation, agency, format string
	cmd := &cobra.Command{
		Use:   "import --operation OP --agency AG [--format auto|hex|csv] FILE|-",
		Short: "Add the hashes of a PDQ hash list to an operation as seeds",
		Long: `import reads a PDQ hash list and adds its hashes to the operation as seeds,
in the name of the agency (which must take part in it):

  hex  one hash per line: a bare hash, "pdq HASH" (ThreatExchange's
       local files), or "HASH,QUALITY,FILE" (Meta's pdq-photo-hasher and
       takedown pdq)
  csv  a header row naming the columns, in any order: hash (or pdq,
       signal_value, signal_str), quality, label(s), tags, source (or
       collab), url, signal_type, category; what takedown export
       --format pdq-csv writes

auto tells them apart by the first line. Lines starting with '#' are
comments. A bad line is reported with its line number and reason and costs
no other line; the good ones are stored together, in one transaction, so
a failure leaves nothing half-imported. A hash the operation has as a seed
already is kept once, as first imported: importing a list again adds
nothing. A hash without a source in the list gets "import:FILE".

"-" reads standard input.`,
		Example: `  takedown hashes import --operation rad-2026-11 --agency nl-iru platform-logos.txt
  takedown hashes import --operation rad-2026-11 --agency be-iru --format csv partner-hashes.csv`,
		Args: cobra.ExactArgs(1),
		RunE: withDatabase(g, func(cmd *cobra.Command, args []string, db database) error {
			ctx := cmd.Context()
			f, err := hashlist.ParseFormat(format)
			if err != nil {
				return takedown.Errorf(takedown.EINVALID, "--format: %s", strings.TrimPrefix(err.Error(), "hashlist: "))
			}
			op, err := db.FindOperation(ctx, operation)
			if err != nil {
				return err
			}
			ag, err := db.FindAgency(ctx, agency)
			if err != nil {
				return err
			}
			path := args[0]
			var in io.Reader = g.stdin
			name := "stdin"
			if path != "-" {
				file, err := os.Open(path)
				if err != nil {
					return takedown.Errorf(takedown.EINVALID, "cannot open %s: %v", path, err)
				}
				defer file.Close()
				in, name = file, filepath.Base(path)
			}

			var seeds []takedown.HashSeed
			rejected := 0
			reject := func(where, reason string) {
				rejected++
				if rejected <= shownHashProblems {
					fmt.Fprintf(g.stderr, "%s: %s\n", where, reason)
				}
			}
			sum, err := hashlist.Read(in, f, func(e hashlist.Entry) error {
				s := takedown.HashSeed{Value: e.Hash.Value, Quality: e.Hash.Quality, Labels: e.Labels, Source: e.Source, URL: e.URL}
				if s.Source == "" {
					s.Source = "import:" + name
				}
				// The store would refuse the whole list for one entry it
				// cannot keep (a label too long): such an entry is a bad
				// line like any other.
				s.Clean()
				if err := s.Validate(); err != nil {
					reject(fmt.Sprintf("line %d", e.Line), takedown.ErrorMessage(err))
					return nil
				}
				seeds = append(seeds, s)
				return nil
			}, func(p exchange.Problem) { reject(p.Where, p.Reason) })
			if rejected > shownHashProblems {
				fmt.Fprintf(g.stderr, "... and %d more rejected lines\n", rejected-shownHashProblems)
			}
			if err != nil {
				return fmt.Errorf("read %s: %w", name, err)
			}
			added, err := db.AddHashSeeds(ctx, op.ID, ag.ID, seeds)
			if err != nil {
				return err
			}
			w := g.stdout
			fmt.Fprintf(w, "hash list %s into %s as %s (%s)\n", name, op.Slug, ag.Code, sum.Format)
			fmt.Fprintf(w, "  entries read:        %d\n", sum.Entries)
			fmt.Fprintf(w, "  new seeds:           %d\n", added)
			fmt.Fprintf(w, "  already seeded:      %d\n", len(seeds)-added)
			fmt.Fprintf(w, "  rejected:            %d\n", rejected)
			if sum.Duplicates > 0 {
				fmt.Fprintf(w, "  repeated in the list: %d (kept once)\n", sum.Duplicates)
			}
			if sum.Skipped > 0 {
				fmt.Fprintf(w, "  skipped:             %d (other signal types, or marked false positives)\n", sum.Skipped)
			}
			return nil
		}),
	}
	fl := cmd.Flags()
	fl.StringVar(&operation, "operation", "", "the operation (required)")
	fl.StringVar(&agency, "agency", "", "the agency that brings the list (required)")
	fl.StringVar(&format, "format", "auto", "auto, hex or csv")
	_ = cmd.MarkFlagRequired("operation")
	_ = cmd.MarkFlagRequired("agency")
	return cmd
}

func newHashesListCommand(g *globals) *cobra.Command {
	var operation string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "list --operation OP [--json]",
		Short: "List an operation's hash seeds",
		Args:  cobra.NoArgs,
		RunE: withDatabase(g, func(cmd *cobra.Command, args []string, db database) error {
			ctx := cmd.Context()
			op, err := db.FindOperation(ctx, operation)
			if err != nil {
				return err
			}
			return writePages(g, asJSON, "ID\tHASH\tQUALITY\tAGENCY\tLABELS\tSOURCE\tURL\tADDED",
				func(after int64) ([]takedown.HashSeed, error) {
					return db.ListHashSeeds(ctx, op.ID, after, takedown.MaxPageSize)
				},
				func(s takedown.HashSeed) int64 { return s.ID },
				func(s takedown.HashSeed) string {
					return fmt.Sprintf("%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s", s.ID, s.Value, quality(s.Quality), s.Agency,
						strings.Join(s.Labels, ";"), s.Source, s.URL, s.AddedAt.Format(time.RFC3339))
				})
		}),
	}
	cmd.Flags().StringVar(&operation, "operation", "", "the operation (required)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "one JSON object per seed")
	_ = cmd.MarkFlagRequired("operation")
	return cmd
}

// quality is a seed's quality as a table shows it: "-" for unknown.
func quality(q int) string {
	if q < 0 {
		return "-"
	}
	return strconv.Itoa(q)
}

func newHashesHitsCommand(g *globals) *cobra.Command {
	var operation string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "hits --operation OP [--json]",
		Short: "List the candidates whose avatar matched a hash seed, with the seed and the distance",
		Long: `hits lists the items of the operation whose avatar the watch found within
31 bits of a hash seed (takedown resurgence watch, or serve and worker on
schedule): the item, its status, the seed's labels and source, and how
many bits the two hashes differ (0: the same picture).`,
		Args: cobra.NoArgs,
		RunE: withDatabase(g, func(cmd *cobra.Command, args []string, db database) error {
			ctx := cmd.Context()
			op, err := db.FindOperation(ctx, operation)
			if err != nil {
				return err
			}
			return writePages(g, asJSON, "ITEM\tURL\tSTATUS\tDISTANCE\tSEED\tLABELS\tSOURCE\tAT",
				func(after int64) ([]takedown.SeedHit, error) {
					return db.ListSeedHits(ctx, op.ID, after, takedown.MaxPageSize)
				},
				func(h takedown.SeedHit) int64 { return h.ID },
				func(h takedown.SeedHit) string {
					return fmt.Sprintf("%d\t%s\t%s\t%d\t%d %s\t%s\t%s\t%s", h.ItemID, h.Item.URL, h.Item.Status, h.Distance,
						h.SeedID, h.Seed.Value[:16], strings.Join(h.Seed.Labels, ";"), h.Seed.Source, h.At.Format(time.RFC3339))
				})
		}),
	}
	cmd.Flags().StringVar(&operation, "operation", "", "the operation (required)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "one JSON object per hit")
	_ = cmd.MarkFlagRequired("operation")
	return cmd
}

// writePages writes every page that page returns, from the start, as one
// JSON object a line or as a table under header: id names the last of a
// page (where the next starts), row a table line.
func writePages[T any](g *globals, asJSON bool, header string, page func(after int64) ([]T, error), id func(T) int64, row func(T) string) error {
	enc := json.NewEncoder(g.stdout)
	tw := tabwriter.NewWriter(g.stdout, 0, 4, 2, ' ', 0)
	if !asJSON {
		fmt.Fprintln(tw, header)
	}
	for after := int64(0); ; {
		list, err := page(after)
		if err != nil {
			return err
		}
		for _, v := range list {
			if asJSON {
				if err := enc.Encode(v); err != nil {
					return err
				}
				continue
			}
			fmt.Fprintln(tw, row(v))
		}
		if len(list) < takedown.MaxPageSize {
			return tw.Flush()
		}
		after = id(list[len(list)-1])
	}
}
