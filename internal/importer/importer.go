// Package importer reads an agency's findings from CSV or JSON Lines, or
// from a STIX 2.1 bundle or a MISP event, and records them as
// submissions, streaming: memory is bounded by one batch (by one document
// for STIX and MISP), whatever the size of the file. Bad rows are reported
// with their position and reason and never cost a good row.
package importer

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/takedown-project/takedown"
	"github.com/takedown-project/takedown/internal/exchange"
)

// Format is an input format.
type Format string

const (
	FormatAuto  Format = "auto" // by file name, else by the first bytes
	FormatCSV   Format = "csv"
	FormatJSONL Format = "jsonl"
)

// ParseFormat reads a --format value.
func ParseFormat(s string) (Format, error) {
	switch f := Format(strings.ToLower(s)); f {
	case FormatAuto, FormatCSV, FormatJSONL, FormatSTIX, FormatMISP:
		return f, nil
	case "", "ndjson":
		if s == "" {
			return FormatAuto, nil
		}
		return FormatJSONL, nil
	}
	return "", takedown.Errorf(takedown.EINVALID, "unknown format %q: want auto, csv, jsonl, stix or misp", s)
}

// FormatFromName guesses the format from a file name; FormatAuto when the
// extension says nothing.
func FormatFromName(path string) Format {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".csv", ".tsv", ".txt":
		return FormatCSV
	case ".jsonl", ".ndjson", ".jsonlines":
		return FormatJSONL
	}
	return FormatAuto
}

// DefaultBatchSize is how many rows one transaction stores. Rows arrive in
// random identity order, so each transaction dirties index pages all over
// the file; on SQLite every dirty page is written to the WAL once per
// commit, and 10,000 rows a commit write a third less than 2,000 (measured
// on 1,000,000 rows: 27.7 s against 32 s). A batch of this size is a few
// megabytes in memory.
const DefaultBatchSize = 10000

// Options configure one import.
type Options struct {
	OperationID int64
	AgencyID    int64
	Source      string // recorded on each submission, e.g. "import:agencies.csv"
	Format      Format
	// Columns says which column (or JSON key) supplies a field, for files
	// whose names match neither the field nor one of its aliases, or match
	// more than one: field name -> column name as written in the file. Names
	// are compared as normalizeColumn writes them (no case, spaces,
	// hyphens, dots or underscores in the way), and one written exactly as
	// in the file wins over one that only compares equal. A mapped field
	// takes no other column; in CSV the column must be in the header.
	Columns map[string]string
	// Recognize turns a URL into an item identity (canon.Recognize).
	Recognize func(raw string) (takedown.Recognition, error)
	BatchSize int              // submissions per transaction; 0 means DefaultBatchSize
	Now       func() time.Time // submission time; nil means time.Now
	Progress  func(Progress)   // called after each batch; may be nil
	Reject    func(Reject)     // called for each rejected row, in order; may be nil
	// Hash is given the hashes of a MISP event that belong to no finding
	// (a PDQ hash without a URL beside it); nil leaves them out, counted
	// in Summary.Hashes.
	Hash func(h exchange.Hash, where string)
}

// Progress is how far an import has got.
type Progress struct {
	Bytes int64 // bytes of input read
	Rows  int64 // data rows read
}

// Reject is a row that was not imported, and why.
type Reject struct {
	Line int64 // 1-based line where the row starts; the header is line 1; 0 in a STIX or MISP document
	// Where is the position for people: "line 12", or in a STIX or MISP
	// document the record's path, e.g. "objects[12] url--…".
	Where  string
	Reason string // for people
	Raw    string // the row's text, shortened
}

// Summary counts what an import did. Rows = NewItems + Merged + Duplicates
// + Rejected.
type Summary struct {
	Rows       int64 `json:"rows"`
	NewItems   int64 `json:"new_items"`
	Merged     int64 `json:"merged"`
	Duplicates int64 `json:"duplicates"`
	Rejected   int64 `json:"rejected"`
	// Hashes counts the hashes of a MISP event that belong to no item
	// (given to Options.Hash, when set).
	Hashes int64 `json:"hashes,omitempty"`
	// UnusedColumns are the Options.Columns mappings (FIELD=NAME) that no
	// JSON object had a key for, most likely a misspelt name. A CSV header
	// without a mapped column is an error instead.
	UnusedColumns []string `json:"unused_columns,omitempty"`
}

// batch is what the parser hands to the writer: submissions ready to store
// and the counts of everything read up to their end.
type batch struct {
	subs     []takedown.NewSubmission
	progress Progress
	rejected int64
}

// Submitter is the part of takedown.ItemService an import needs.
type Submitter interface {
	Submit(ctx context.Context, operationID int64, subs []takedown.NewSubmission) ([]takedown.SubmitResult, error)
}

// Import reads r and records its rows through items. It returns an error
// for input that cannot be read at all (an empty file, no url column, a
// header whose columns cannot be told apart, bad Options.Columns) and
// for a failure to store; rows already stored stay stored, and the
// summary says how far it got.
func Import(ctx context.Context, items Submitter, r io.Reader, opts Options) (Summary, error) {
	if opts.Recognize == nil {
		return Summary{}, errors.New("importer: no recogniser given")
	}
	if opts.BatchSize <= 0 {
		opts.BatchSize = DefaultBatchSize
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	p, err := newParser(r, opts)
	if err != nil {
		return Summary{}, err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	batches := make(chan batch, 2)
	parseErr := make(chan error, 1)
	go func() {
		defer close(batches)
		parseErr <- p.run(ctx, batches)
	}()

	var sum Summary
	for b := range batches {
		if len(b.subs) > 0 {
			res, err := items.Submit(ctx, opts.OperationID, b.subs)
			if err != nil {
				cancel()
				for range batches { // let the parser end
				}
				return sum, fmt.Errorf("store rows up to line %d: %w", p.lastLine(), err)
			}
			for _, r := range res {
				switch r.Outcome {
				case takedown.SubmitNewItem:
					sum.NewItems++
				case takedown.SubmitMerged:
					sum.Merged++
				default:
					sum.Duplicates++
				}
			}
		}
		sum.Rows, sum.Rejected = b.progress.Rows, b.rejected
		if opts.Progress != nil {
			opts.Progress(b.progress)
		}
	}
	if err := <-parseErr; err != nil {
		return sum, err
	}
	sum.UnusedColumns, sum.Hashes = p.unusedColumns(), p.hashes
	return sum, nil
}

// row is one data row with the fields takedown understands.
type row struct {
	url, kind, platform, handle, title, notes, language, foundAt string
	tags                                                         []string
	attributes                                                   map[string]string
}

// submission turns a row into a submission, or says why it cannot be one.
func (o *Options) submission(r *row, now time.Time) (takedown.NewSubmission, string) {
	if strings.TrimSpace(r.url) == "" {
		return takedown.NewSubmission{}, "no url"
	}
	if r.kind != "" && !takedown.ValidKind(takedown.Kind(r.kind)) {
		return takedown.NewSubmission{}, fmt.Sprintf("unknown kind %q (kinds are account, channel, group, post, invite, file, website)", r.kind)
	}
	var found *time.Time
	if r.foundAt != "" {
		t, err := parseTime(r.foundAt)
		if err != nil {
			return takedown.NewSubmission{}, err.Error()
		}
		found = &t
	}
	rec, err := o.Recognize(strings.TrimSpace(r.url))
	if err != nil {
		return takedown.NewSubmission{}, takedown.ErrorMessage(err)
	}
	ns := takedown.NewSubmission{
		Item: rec.Refine(takedown.Kind(r.kind)),
		Submission: takedown.Submission{
			AgencyID: o.AgencyID, RawInput: r.url,
			DeclaredKind: r.kind, DeclaredPlatform: r.platform, DeclaredHandle: r.handle,
			Title: r.title, Notes: r.notes, Tags: r.tags, Language: r.language, FoundAt: found,
			Attributes: r.attributes, Source: o.Source, SubmittedAt: now,
		},
	}
	// Prepare also fingerprints the submission here, on the parser's
	// goroutine, beside the writer rather than in its way.
	if err := ns.Prepare(); err != nil {
		return takedown.NewSubmission{}, takedown.ErrorMessage(err)
	}
	return ns, ""
}

var timeLayouts = []string{time.RFC3339Nano, "2006-01-02", "2006-01-02 15:04:05", "2006-01-02 15:04", "2006-01-02T15:04:05", "2006-01-02T15:04"}

// parseTime reads found_at: RFC 3339, or a date or date and time in UTC.
func parseTime(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	for _, l := range timeLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("found_at %q is not a time (want RFC 3339, YYYY-MM-DD or YYYY-MM-DD HH:MM[:SS])", shorten(s, 60))
}

// splitTags splits a tags cell on ';', '|' or ','.
func splitTags(s string) []string {
	var tags []string
	for _, t := range strings.FieldsFunc(s, func(r rune) bool { return r == ';' || r == '|' || r == ',' }) {
		if t = strings.TrimSpace(t); t != "" {
			tags = append(tags, t)
		}
	}
	return tags
}

// shorten cuts s to at most n bytes on a rune boundary.
func shorten(s string, n int) string { return exchange.Shorten(s, n) }

// RejectWriter writes rejected rows as CSV: line,reason,raw.
type RejectWriter struct {
	w      *csv.Writer
	header bool
}

func NewRejectWriter(w io.Writer) *RejectWriter { return &RejectWriter{w: csv.NewWriter(w)} }

// Write adds one reject; errors show at Flush.
func (rw *RejectWriter) Write(r Reject) {
	if !rw.header {
		rw.w.Write([]string{"line", "reason", "raw"})
		rw.header = true
	}
	// The first column is the line, or the position in a STIX or MISP
	// document.
	where := r.Where
	if r.Line > 0 {
		where = strconv.FormatInt(r.Line, 10)
	}
	rw.w.Write([]string{where, r.Reason, strings.ToValidUTF8(r.Raw, "\uFFFD")})
}

// Flush writes what is buffered and reports the first write error.
func (rw *RejectWriter) Flush() error {
	if !rw.header {
		rw.w.Write([]string{"line", "reason", "raw"})
		rw.header = true
	}
	rw.w.Flush()
	return rw.w.Error()
}
