// Package hashlist reads and writes the plain lists of PDQ hashes that
// hash-sharing tools exchange, so that hashes of known propaganda images
// (avatars, banners, posters) can seed resurgence matching and go back
// out to partners:
//
//   - hex: one hash per line. A line is a bare hash; "pdq HASH", as
//     ThreatExchange's local-file collaboration writes it (signal type,
//     space, signal; lines of other signal types are skipped and
//     counted); or "HASH,QUALITY,FILENAME", as Meta's
//     pdq-photo-hasher prints it (the file name may hold commas: it is the
//     rest of the line, and it becomes the entry's Source).
//   - csv: a header row naming the columns, in any order: hash (or pdq,
//     signal_value, signal_str), quality, label or labels (several
//     separated by ';' or '|'), tags (separated by ';', '|' or spaces, as
//     "threatexchange dataset -P --csv" writes them), source (or collab),
//     url, signal_type and category. Rows of another signal type than pdq,
//     and rows a ThreatExchange collaboration marks NEGATIVE_CLASS (a
//     false positive), are skipped and counted: neither is a hash to look
//     for. Other columns are ignored.
//
// In every format lines starting with '#' are comments and blank lines are
// skipped. Reading streams line by line (a line is one record: a CSV field
// cannot span lines), so memory is bounded by the longest line and the set
// of hashes seen, which lets a duplicate be reported once instead of
// twice.
package hashlist

import (
	"bufio"
	"encoding/csv"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/takedown-project/takedown/internal/exchange"
)

// Format is a hash list format.
type Format string

const (
	// FormatAuto tells the format by the first line that is neither blank
	// nor a comment: a hash line (any of the hex forms) means hex,
	// anything else is taken for a CSV header.
	FormatAuto Format = "auto"
	FormatHex  Format = "hex"
	// FormatCSV reads a CSV file with a header; a file of pdq-photo-hasher
	// lines, which are CSV without a header, is read as well.
	FormatCSV Format = "csv"
)

// ParseFormat reads a --format value; "" is FormatAuto.
func ParseFormat(s string) (Format, error) {
	switch f := Format(strings.ToLower(strings.TrimSpace(s))); f {
	case "", FormatAuto:
		return FormatAuto, nil
	case FormatHex, FormatCSV:
		return f, nil
	}
	return "", fmt.Errorf("hashlist: unknown format %q: want auto, hex or csv", s)
}

// Algorithm is the exchange.Hash algorithm of every entry.
const Algorithm = "pdq"

// MaxLineLength bounds one line; a longer line is a Problem, skipped. A
// CSV row of a hash, labels, a source and a URL is far shorter; an
// endless line (a binary file read by mistake) must not fill memory.
const MaxLineLength = 64 << 10

// Entry is one PDQ hash of a list with what the list says about it.
type Entry struct {
	Hash   exchange.Hash // Algorithm "pdq", Value 64 lower-case hex digits, Quality -1 when unknown
	Labels []string
	Source string // the source column, the collaboration, or the pdq tool's file name
	URL    string
	Line   int64 // 1-based line of the input
}

// Summary counts what a read did.
type Summary struct {
	// Format is the format the list was read as (hex or csv); FormatAuto
	// when no line said.
	Format     Format `json:"format"`
	Lines      int64  `json:"lines"`
	Entries    int64  `json:"entries"`    // hashes passed to found
	Duplicates int64  `json:"duplicates"` // hashes seen before in the same input, dropped
	Skipped    int64  `json:"skipped"`    // rows of another signal type, or marked false positive
	Problems   int64  `json:"problems"`
}

// ErrEmpty is returned for an input without a single line that is neither
// blank nor a comment: most likely the wrong file.
var ErrEmpty = errors.New("hashlist: the input holds no hash list")

// Read reads a hash list and calls found for each hash in it, in order,
// the first time it occurs; a hash seen before is counted as a duplicate
// and dropped (the first occurrence's labels win). Lines that cannot be
// read are reported to bad (which may be nil) with their line number and
// why, and cost no other line. Read returns an error for an input it
// cannot read at all (an unknown format, a CSV header without a hash
// column, ErrEmpty, a read error) and for an error from found, which stops
// it.
func Read(r io.Reader, format Format, found func(Entry) error, bad func(exchange.Problem)) (Summary, error) {
	switch format {
	case "":
		format = FormatAuto
	case FormatAuto, FormatHex, FormatCSV:
	default:
		return Summary{}, fmt.Errorf("hashlist: unknown format %q: want auto, hex or csv", format)
	}
	rd := &reader{
		br:    bufio.NewReaderSize(r, MaxLineLength),
		found: found,
		bad:   bad,
		seen:  make(map[[32]byte]struct{}),
	}
	rd.sum.Format = FormatAuto
	sawData := false
	for {
		line, long, err := rd.readLine()
		if err == io.EOF {
			break
		}
		if err != nil {
			return rd.sum, fmt.Errorf("hashlist: read line %d: %w", rd.line, err)
		}
		rd.sum.Lines++
		if long {
			rd.problem(fmt.Sprintf("line is longer than %d bytes", MaxLineLength), line)
			continue
		}
		if rd.line == 1 {
			line = strings.TrimPrefix(line, "\ufeff")
		}
		t := strings.TrimSpace(line)
		if t == "" || t[0] == '#' {
			continue
		}
		if !sawData {
			sawData = true
			switch {
			case format == FormatHex || looksLikeHashLine(t):
				rd.sum.Format = FormatHex
			default:
				rd.sum.Format = FormatCSV
				if err := rd.header(line); err != nil {
					return rd.sum, err
				}
				continue
			}
		}
		if rd.sum.Format == FormatHex {
			err = rd.hashLine(t)
		} else {
			err = rd.csvRow(line)
		}
		if err != nil {
			return rd.sum, err
		}
	}
	if !sawData {
		return rd.sum, ErrEmpty
	}
	return rd.sum, nil
}

type reader struct {
	br    *bufio.Reader
	line  int64
	found func(Entry) error
	bad   func(exchange.Problem)
	seen  map[[32]byte]struct{}
	sum   Summary
	cols  columns
}

// readLine returns the next line without its line break. A line longer
// than the buffer is consumed to its end and returned cut short, with
// long set.
func (rd *reader) readLine() (line string, long bool, err error) {
	b, err := rd.br.ReadSlice('\n')
	if err == bufio.ErrBufferFull {
		rd.line++
		head := string(b[:min(len(b), 200)])
		for err == bufio.ErrBufferFull {
			_, err = rd.br.ReadSlice('\n')
		}
		if err == io.EOF {
			err = nil
		}
		return head, true, err
	}
	if err == io.EOF && len(b) == 0 {
		return "", false, io.EOF
	}
	if err != nil && err != io.EOF {
		return "", false, err
	}
	rd.line++
	b = b[:len(b)-len(suffixNewline(b))]
	return string(b), false, nil
}

func suffixNewline(b []byte) []byte {
	switch {
	case len(b) >= 2 && b[len(b)-2] == '\r' && b[len(b)-1] == '\n':
		return b[len(b)-2:]
	case len(b) >= 1 && (b[len(b)-1] == '\n' || b[len(b)-1] == '\r'):
		return b[len(b)-1:]
	}
	return nil
}

func (rd *reader) problem(reason, raw string) {
	rd.sum.Problems++
	if rd.bad != nil {
		rd.bad(exchange.Problem{Where: fmt.Sprintf("line %d", rd.line), Reason: reason, Raw: shorten(raw, 200)})
	}
}

// emit passes an entry on unless its hash was seen before.
func (rd *reader) emit(e Entry) error {
	var key [32]byte
	hex.Decode(key[:], []byte(e.Hash.Value)) // validated by parseHash
	if _, ok := rd.seen[key]; ok {
		rd.sum.Duplicates++
		return nil
	}
	rd.seen[key] = struct{}{}
	rd.sum.Entries++
	if rd.found != nil {
		if err := rd.found(e); err != nil {
			return fmt.Errorf("hashlist: line %d: %w", e.Line, err)
		}
	}
	return nil
}

// looksLikeHashLine reports whether a line is meant as one of the hex
// forms: its first comma-separated field, or for a line without a comma
// its last word, is 64 hex digits. A CSV header never starts so.
func looksLikeHashLine(t string) bool {
	if i := strings.IndexByte(t, ','); i >= 0 {
		return isHex(strings.TrimSpace(t[:i]), 64)
	}
	f := strings.Fields(t)
	return isHex(f[len(f)-1], 64)
}

// hashLine reads one line of the hex format.
func (rd *reader) hashLine(t string) error {
	e := Entry{Line: rd.line, Hash: exchange.Hash{Algorithm: Algorithm, Quality: -1}}
	var hash string
	if i := strings.IndexByte(t, ','); i >= 0 {
		// pdq-photo-hasher: HASH,QUALITY[,FILENAME]
		hash = strings.TrimSpace(t[:i])
		rest := t[i+1:]
		q, file, _ := strings.Cut(rest, ",")
		quality, reason := parseQuality(strings.TrimSpace(q))
		if reason != "" {
			rd.problem(reason, t)
			return nil
		}
		if quality < 0 {
			rd.problem("no quality after the hash (want HASH,QUALITY,FILENAME)", t)
			return nil
		}
		e.Hash.Quality, e.Source = quality, strings.TrimSpace(file)
	} else {
		f := strings.Fields(t)
		switch {
		case len(f) == 1:
			hash = f[0]
		case len(f) == 2 && strings.EqualFold(f[0], Algorithm):
			hash = f[1]
		case len(f) == 2 && isSignalType(f[0]):
			// Another signal type of a ThreatExchange file (video_md5,
			// url, ...): not a mistake, but nothing for a PDQ list.
			rd.sum.Skipped++
			return nil
		default:
			rd.problem("want one PDQ hash on the line (64 hex digits)", t)
			return nil
		}
	}
	v, reason := parseHash(hash)
	if reason != "" {
		rd.problem(reason, t)
		return nil
	}
	e.Hash.Value = v
	return rd.emit(e)
}

// parseHash checks a PDQ hash and returns it in lower case, or says what
// is wrong with it.
func parseHash(s string) (string, string) {
	if len(s) != 64 {
		return "", fmt.Sprintf("a PDQ hash is 64 hex digits, not %d characters", utf8.RuneCountInString(s))
	}
	for i := 0; i < len(s); i++ {
		if !isHexDigit(s[i]) {
			r, _ := utf8.DecodeRuneInString(s[i:])
			return "", fmt.Sprintf("the hash holds %q at position %d, which is no hex digit", r, i+1)
		}
	}
	return strings.ToLower(s), ""
}

// parseQuality reads a quality 0-100; "" is unknown (-1).
func parseQuality(s string) (int, string) {
	if s == "" {
		return -1, ""
	}
	q, err := strconv.Atoi(s)
	if err != nil || q < 0 || q > 100 {
		return 0, fmt.Sprintf("quality %q is not a whole number from 0 to 100", shorten(s, 40))
	}
	return q, ""
}

func isHex(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isHexDigit(s[i]) {
			return false
		}
	}
	return true
}

// isSignalType reports whether s can be a ThreatExchange signal type
// name: lower-case letters, digits and underscores.
func isSignalType(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '_') {
			return false
		}
	}
	return s != ""
}

func isHexDigit(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// columns are the indexes of the CSV columns takedown reads, -1 for none.
type columns struct {
	hash, quality, labels, tags, source, url, signalType, category int
}

// columnNames maps a header name, lower case, to its field.
var columnNames = map[string]string{
	"hash": "hash", "pdq": "hash", "signal_value": "hash", "signal_str": "hash",
	"quality": "quality",
	"label":   "labels", "labels": "labels",
	"tags":   "tags",
	"source": "source", "collab": "source",
	"url":         "url",
	"signal_type": "signal_type",
	"category":    "category",
}

// header reads the CSV header: which column is which.
func (rd *reader) header(line string) error {
	rec, err := splitCSV(line)
	if err != nil {
		return fmt.Errorf("hashlist: line %d: the first line is neither a hash nor a CSV header: %w", rd.line, err)
	}
	c := columns{-1, -1, -1, -1, -1, -1, -1, -1}
	index := map[string]*int{
		"hash": &c.hash, "quality": &c.quality, "labels": &c.labels, "tags": &c.tags,
		"source": &c.source, "url": &c.url, "signal_type": &c.signalType, "category": &c.category,
	}
	named := map[string]string{} // field -> column name, to report a field named twice
	for i, name := range rec {
		name = strings.ToLower(strings.TrimSpace(name))
		field, ok := columnNames[name]
		if !ok {
			continue
		}
		if prev, ok := named[field]; ok {
			return fmt.Errorf("hashlist: line %d: the CSV header names the %s column twice (%q and %q)", rd.line, field, prev, name)
		}
		named[field] = name
		*index[field] = i
	}
	if c.hash < 0 {
		return fmt.Errorf("hashlist: line %d: the first line is neither a hash nor a CSV header with a hash column (hash, pdq, signal_value or signal_str): %q", rd.line, shorten(line, 100))
	}
	rd.cols = c
	return nil
}

// csvRow reads one CSV data row.
func (rd *reader) csvRow(line string) error {
	rec, err := splitCSV(line)
	if err != nil {
		rd.problem("not a CSV row: "+err.Error(), line)
		return nil
	}
	get := func(i int) string {
		if i < 0 || i >= len(rec) {
			return ""
		}
		return strings.TrimSpace(rec[i])
	}
	if st := strings.ToLower(get(rd.cols.signalType)); st != "" && st != Algorithm && st != "hash_pdq" {
		rd.sum.Skipped++
		return nil
	}
	if strings.EqualFold(get(rd.cols.category), "NEGATIVE_CLASS") {
		rd.sum.Skipped++
		return nil
	}
	hash := get(rd.cols.hash)
	if hash == "" {
		rd.problem("no hash", line)
		return nil
	}
	v, reason := parseHash(hash)
	if reason != "" {
		rd.problem(reason, line)
		return nil
	}
	q, reason := parseQuality(get(rd.cols.quality))
	if reason != "" {
		rd.problem(reason, line)
		return nil
	}
	labels := splitLabels(nil, get(rd.cols.labels), false)
	labels = splitLabels(labels, get(rd.cols.tags), true)
	return rd.emit(Entry{
		Hash:   exchange.Hash{Algorithm: Algorithm, Value: v, Quality: q},
		Labels: labels,
		Source: get(rd.cols.source),
		URL:    get(rd.cols.url),
		Line:   rd.line,
	})
}

// splitCSV splits one line as CSV.
func splitCSV(line string) ([]string, error) {
	cr := csv.NewReader(strings.NewReader(line))
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	rec, err := cr.Read()
	if err == io.EOF {
		return []string{""}, nil
	}
	if err != nil {
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, err
	}
	return rec, nil
}

// splitLabels appends the labels of a cell to labels, once each: split on
// ';' and '|', and on spaces as well for ThreatExchange's tags column.
func splitLabels(labels []string, cell string, spaces bool) []string {
	for _, l := range strings.FieldsFunc(cell, func(r rune) bool {
		return r == ';' || r == '|' || spaces && (r == ' ' || r == '\t')
	}) {
		if l = strings.TrimSpace(l); l != "" && !slices.Contains(labels, l) {
			labels = append(labels, l)
		}
	}
	return labels
}

// shorten cuts s to at most n bytes on a rune boundary, valid UTF-8.
func shorten(s string, n int) string { return exchange.Shorten(strings.ToValidUTF8(s, "\uFFFD"), n) }
