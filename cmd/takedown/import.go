package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/takedown-project/takedown"
	"github.com/takedown-project/takedown/internal/canon"
	"github.com/takedown-project/takedown/internal/importer"
	"github.com/takedown-project/takedown/internal/jobs"
)

type importOptions struct {
	operation string
	agency    string
	format    string
	errors    string
	progress  string
	batchSize int
}

func newImportCommand(g *globals) *cobra.Command {
	o := &importOptions{}
	cmd := &cobra.Command{
		Use:   "import --operation OP --agency AG FILE|-",
		Short: "Import an agency's items from a CSV or JSON Lines file",
		Long: `import reads an agency's findings from a CSV file (header row; column url
required, optional kind, platform, handle, title, notes, tags, language,
found_at; any other column is kept as an attribute) or a JSON Lines file (one
object per line with the same keys), recognises every URL, and records one
submission per row under the item of its canonical identity.

The file is streamed: its size does not matter. Bad rows are reported with
their line number and reason and do not stop the import; --errors FILE writes
them as CSV. Importing the same file again adds nothing.

"-" reads standard input.`,
		Example: `  takedown import --operation rad-2026-11 --agency nl-iru examples/agency-a.csv
  takedown import --operation rad-2026-11 --agency be-iru --errors rejected.csv examples/agency-b.jsonl`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runImport(cmd, g, o, args[0])
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.operation, "operation", "", "slug of the operation (required)")
	f.StringVar(&o.agency, "agency", "", "code of the submitting agency (required)")
	f.StringVar(&o.format, "format", "auto", "input format: auto, csv or jsonl (auto: by file extension, else by content)")
	f.StringVar(&o.errors, "errors", "", "write rejected rows to this CSV file (line,reason,raw)")
	f.StringVar(&o.progress, "progress", "auto", "progress bar: auto (on a terminal), always or never")
	f.IntVar(&o.batchSize, "batch-size", 2000, "rows per database transaction")
	_ = cmd.MarkFlagRequired("operation")
	_ = cmd.MarkFlagRequired("agency")
	return cmd
}

func runImport(cmd *cobra.Command, g *globals, o *importOptions, path string) error {
	ctx := cmd.Context()
	format, err := importer.ParseFormat(o.format)
	if err != nil {
		return err
	}
	switch o.progress {
	case "auto", "always", "never":
	default:
		return takedown.Errorf(takedown.EINVALID, "--progress %q: want auto, always or never", o.progress)
	}
	if format == importer.FormatAuto && path != "-" {
		format = importer.FormatFromName(path)
	}
	var in io.Reader = g.stdin
	var size int64 = -1
	source := "import:stdin"
	if path != "-" {
		f, err := os.Open(path)
		if err != nil {
			return takedown.Errorf(takedown.EINVALID, "cannot open %s: %v", path, err)
		}
		defer f.Close()
		if st, err := f.Stat(); err == nil && st.Mode().IsRegular() {
			size = st.Size()
		}
		in, source = f, "import:"+filepath.Base(path)
	}

	db, err := openDatabase(ctx, g)
	if err != nil {
		return err
	}
	defer db.Close()
	op, err := db.FindOperation(ctx, o.operation)
	if err != nil {
		return err
	}
	agency, err := db.FindAgency(ctx, o.agency)
	if err != nil {
		return err
	}

	// Rejects go to the terminal (the first few) and to --errors (all).
	var rejectFile *bufio.Writer
	var rejects *importer.RejectWriter
	if o.errors != "" {
		f, err := os.Create(o.errors)
		if err != nil {
			return fmt.Errorf("create %s: %w", o.errors, err)
		}
		defer f.Close()
		rejectFile = bufio.NewWriter(f)
		rejects = importer.NewRejectWriter(rejectFile)
	}
	const shownRejects = 20
	var rejected int64
	bar := newProgress(g.stderr, o.progress, size)
	start := time.Now()
	sum, err := importer.Import(ctx, db, in, importer.Options{
		OperationID: op.ID,
		AgencyID:    agency.ID,
		Source:      source,
		Format:      format,
		Recognize:   canon.Recognize,
		BatchSize:   o.batchSize,
		Progress:    bar.update,
		Reject: func(r importer.Reject) {
			rejected++
			if rejected <= shownRejects {
				bar.println(fmt.Sprintf("line %d: %s", r.Line, r.Reason))
			}
			if rejects != nil {
				rejects.Write(r)
			}
		},
	})
	bar.finish(err == nil)
	if rejects != nil {
		if ferr := rejects.Flush(); ferr != nil && err == nil {
			err = fmt.Errorf("write %s: %w", o.errors, ferr)
		}
		if ferr := rejectFile.Flush(); ferr != nil && err == nil {
			err = fmt.Errorf("write %s: %w", o.errors, ferr)
		}
	}
	elapsed := time.Since(start)
	if sum.NewItems > 0 {
		// Fresh planner statistics keep item lists fast; a worker (or
		// serve) runs the refresh in the background.
		if qerr := db.Enqueue(ctx, jobs.AnalyzeArgs{}); qerr != nil && err == nil {
			err = fmt.Errorf("import done, but queueing the statistics refresh failed: %w", qerr)
		}
	}
	if rejected > shownRejects {
		more := fmt.Sprintf("... and %d more rejected rows", rejected-shownRejects)
		if o.errors == "" {
			more += " (use --errors FILE to keep them all)"
		}
		fmt.Fprintln(g.stderr, more)
	}
	w := g.stdout
	fmt.Fprintf(w, "import of %s into %s as %s", source[len("import:"):], op.Slug, agency.Code)
	if err != nil {
		fmt.Fprintf(w, " stopped early; what was read before the error is stored\n")
	} else {
		fmt.Fprintf(w, " done in %s (%.0f rows/s)\n", elapsed.Round(time.Millisecond), float64(sum.Rows)/max(elapsed.Seconds(), 1e-9))
	}
	fmt.Fprintf(w, "  rows read:           %d\n", sum.Rows)
	fmt.Fprintf(w, "  new items:           %d\n", sum.NewItems)
	fmt.Fprintf(w, "  merged into items:   %d (new submissions of items already known)\n", sum.Merged)
	fmt.Fprintf(w, "  already submitted:   %d (identical submissions, not recorded again)\n", sum.Duplicates)
	fmt.Fprintf(w, "  rows rejected:       %d\n", sum.Rejected)
	if o.errors != "" && sum.Rejected > 0 {
		fmt.Fprintf(w, "  rejected rows written to %s\n", o.errors)
	}
	return err
}
