package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
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
	columns   []string
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

Column names (and JSON keys) are compared without regard to case, spaces,
hyphens, dots and underscores, with camelCase split ("Date found" and
dateFound are date_found), and these other names are understood when no
column has the field's own name:
` + importer.AliasHelp() + `Two columns that both look like one field are an error, never a guess;
--columns says which column holds a field when the names do not tell.

The file is streamed: its size does not matter. Bad rows are reported with
their line number and reason and do not stop the import; --errors FILE writes
them as CSV. Importing the same file again adds nothing.

"-" reads standard input.`,
		Example: `  takedown import --operation rad-2026-11 --agency nl-iru examples/agency-a.csv
  takedown import --operation rad-2026-11 --agency be-iru --errors rejected.csv examples/agency-b.jsonl
  takedown import --operation rad-2026-11 --agency de-iru --columns 'url=Adresse,notes=Bemerkung,found_at="Date seen"' funde.csv`,
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
	f.IntVar(&o.batchSize, "batch-size", importer.DefaultBatchSize, "rows per database transaction")
	// A string array, not a slice: pflag would split a slice as CSV and
	// refuse found_at="Date seen", whose quotes ParseColumns understands.
	f.StringArrayVar(&o.columns, "columns", nil, "the column that holds a field, whatever its name: `FIELD=COLUMN`[,...], e.g. url=Adresse,found_at=\"Date seen\"; fields: "+strings.Join(importer.Fields(), ", "))
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
	columns, err := importer.ParseColumns(o.columns)
	if err != nil {
		return err
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
	sum, elapsed, err := importFile(ctx, g, db, importJob{
		op: op, agency: agency, path: path, format: format, columns: columns,
		batchSize: o.batchSize, progress: o.progress, errorsPath: o.errors, shownRejects: 20,
	})
	for _, c := range sum.UnusedColumns {
		fmt.Fprintf(g.stderr, "warning: --columns %s: no object in the file has that key\n", c)
	}
	w := g.stdout
	name := "stdin"
	if path != "-" {
		name = filepath.Base(path)
	}
	fmt.Fprintf(w, "import of %s into %s as %s", name, op.Slug, agency.Code)
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

// importJob is one file to import, as the import command and the demo
// give it.
type importJob struct {
	op     *takedown.Operation
	agency *takedown.Agency
	// path is a file, or "-" for standard input.
	path      string
	format    importer.Format // FormatAuto: by file name, else content
	columns   map[string]string
	batchSize int
	progress  string // auto, always or never
	// errorsPath, when set, receives every rejected row as CSV.
	errorsPath string
	// shownRejects is how many rejected rows are printed as they come.
	shownRejects int
	// label names the progress bar; "" means "import".
	label string
}

// importFile imports one file with a progress bar on a terminal, and
// queues a refresh of the planner's statistics when it added items.
func importFile(ctx context.Context, g *globals, db database, job importJob) (importer.Summary, time.Duration, error) {
	format := job.format
	if format == "" {
		format = importer.FormatAuto
	}
	if format == importer.FormatAuto && job.path != "-" {
		format = importer.FormatFromName(job.path)
	}
	var in io.Reader = g.stdin
	var size int64 = -1
	source := "import:stdin"
	if job.path != "-" {
		f, err := os.Open(job.path)
		if err != nil {
			return importer.Summary{}, 0, takedown.Errorf(takedown.EINVALID, "cannot open %s: %v", job.path, err)
		}
		defer f.Close()
		if st, err := f.Stat(); err == nil && st.Mode().IsRegular() {
			size = st.Size()
		}
		in, source = f, "import:"+filepath.Base(job.path)
	}

	// Rejects go to the terminal (the first few) and to the errors file
	// (all).
	var rejectFile *bufio.Writer
	var rejects *importer.RejectWriter
	if job.errorsPath != "" {
		f, err := os.Create(job.errorsPath)
		if err != nil {
			return importer.Summary{}, 0, fmt.Errorf("create %s: %w", job.errorsPath, err)
		}
		defer f.Close()
		rejectFile = bufio.NewWriter(f)
		rejects = importer.NewRejectWriter(rejectFile)
	}
	var rejected int64
	label := job.label
	if label == "" {
		label = "import"
	}
	bar := newProgress(g.stderr, job.progress, label, size)
	start := time.Now()
	sum, err := importer.Import(ctx, db, in, importer.Options{
		OperationID: job.op.ID,
		AgencyID:    job.agency.ID,
		Source:      source,
		Format:      format,
		Columns:     job.columns,
		Recognize:   canon.Recognize,
		BatchSize:   job.batchSize,
		Progress:    bar.update,
		Reject: func(r importer.Reject) {
			rejected++
			if rejected <= int64(job.shownRejects) {
				bar.println(fmt.Sprintf("%s: %s", r.Where, r.Reason))
			}
			if rejects != nil {
				rejects.Write(r)
			}
		},
	})
	bar.finish(err == nil)
	if rejects != nil {
		if ferr := rejects.Flush(); ferr != nil && err == nil {
			err = fmt.Errorf("write %s: %w", job.errorsPath, ferr)
		}
		if ferr := rejectFile.Flush(); ferr != nil && err == nil {
			err = fmt.Errorf("write %s: %w", job.errorsPath, ferr)
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
	if shown := int64(job.shownRejects); rejected > shown && shown > 0 {
		more := fmt.Sprintf("... and %d more rejected rows", rejected-shown)
		if job.errorsPath == "" {
			more += " (use --errors FILE to keep them all)"
		}
		fmt.Fprintln(g.stderr, more)
	}
	return sum, elapsed, err
}
