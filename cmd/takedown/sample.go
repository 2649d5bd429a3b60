package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/takedown-project/takedown/internal/samplegen"
)

func newSampleCommand(g *globals) *cobra.Command {
	var rows, agencies int
	var dup float64
	var seed int64
	var out string
	cmd := &cobra.Command{
		Use:   "sample --rows N --out DIR",
		Short: "Write synthetic import files, one CSV per agency",
		Long: `sample writes synthetic submissions, as CSV files agency-1.csv,
agency-2.csv, ... in DIR, for trying takedown and for benchmarks: invented
channel names, filler text, URLs of every recognised platform and of invented
websites. A share of the rows (--duplicates) repeats an item another agency
reported already, in another form (host variant, tracking parameters, case),
so deduplication has work to do. Deterministic for a given --seed.`,
		Example: `  takedown sample --rows 1000000 --out /tmp/sample
  takedown import --operation rad-bench --agency aa-iru /tmp/sample/agency-1.csv`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := os.MkdirAll(out, 0o755); err != nil {
				return err
			}
			paths, err := writeSample(out, samplegen.Options{Rows: rows, DuplicateShare: dup, Agencies: agencies, Seed: seed})
			if err != nil {
				return err
			}
			for _, p := range paths {
				fmt.Fprintln(g.stdout, p)
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.IntVar(&rows, "rows", 10000, "rows in all files together")
	f.IntVar(&agencies, "agencies", 2, "number of agencies (one file each)")
	f.Float64Var(&dup, "duplicates", 0.2, "share of rows that repeat an item already reported")
	f.Int64Var(&seed, "seed", 1, "random seed")
	f.StringVar(&out, "out", ".", "directory to write the files to")
	return cmd
}

// writeSample writes one CSV file per agency into dir and returns their
// paths.
func writeSample(dir string, opts samplegen.Options) ([]string, error) {
	files := make([]*os.File, max(opts.Agencies, 1))
	writers := make([]*bufio.Writer, len(files))
	paths := make([]string, len(files))
	for i := range files {
		paths[i] = filepath.Join(dir, fmt.Sprintf("agency-%d.csv", i+1))
		f, err := os.Create(paths[i])
		if err != nil {
			return nil, err
		}
		defer f.Close()
		files[i], writers[i] = f, bufio.NewWriterSize(f, 1<<20)
	}
	ws := make([]io.Writer, len(writers))
	for i, w := range writers {
		ws[i] = w
	}
	if err := samplegen.WriteCSVs(ws, opts); err != nil {
		return nil, fmt.Errorf("write sample: %w", err)
	}
	for i, w := range writers {
		if err := w.Flush(); err != nil {
			return nil, fmt.Errorf("write %s: %w", paths[i], err)
		}
		if err := files[i].Close(); err != nil {
			return nil, fmt.Errorf("write %s: %w", paths[i], err)
		}
	}
	return paths, nil
}
