package hashlist

import (
	"bufio"
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// HexComment is the first line of a hex list the Writer writes. A count
// of hashes would be more use, but a streaming writer does not know it
// before the end.
const HexComment = "# takedown PDQ hash list"

// CSVHeader is the header row of a CSV list the Writer writes.
var CSVHeader = []string{"hash", "quality", "labels", "source", "url"}

// Writer writes a hash list entry by entry, so that a list of any length
// takes no more memory than one entry. Nothing reaches the underlying
// writer for sure before Flush.
type Writer struct {
	format Format
	bw     *bufio.Writer
	cw     *csv.Writer
	err    error // the first write error; every later call returns it
}

// NewWriter starts a list in format hex or csv: it writes the hex
// comment line or the CSV header.
func NewWriter(w io.Writer, format Format) (*Writer, error) {
	hw := &Writer{format: format, bw: bufio.NewWriter(w)}
	switch format {
	case FormatHex:
		_, hw.err = hw.bw.WriteString(HexComment + "\n")
	case FormatCSV:
		hw.cw = csv.NewWriter(hw.bw)
		hw.err = hw.cw.Write(CSVHeader)
	default:
		return nil, fmt.Errorf("hashlist: cannot write format %q: want hex or csv", format)
	}
	return hw, hw.err
}

// Write adds one entry. An entry that the list could not carry so that
// Read gives it back (a hash that is not 64 hex digits, a quality out of
// range, a label holding a separator, a line break in any field) is an
// error that writes nothing, and the list goes on; a write error is
// returned by this and every later call.
func (w *Writer) Write(e Entry) error {
	if w.err != nil {
		return w.err
	}
	if e.Hash.Algorithm != "" && !strings.EqualFold(e.Hash.Algorithm, Algorithm) {
		return fmt.Errorf("hashlist: a %s hash in a PDQ hash list", e.Hash.Algorithm)
	}
	v, reason := parseHash(e.Hash.Value)
	if reason != "" {
		return fmt.Errorf("hashlist: %s", reason)
	}
	if w.format == FormatHex {
		_, w.err = w.bw.WriteString(v + "\n")
		return w.err
	}
	if e.Hash.Quality < -1 || e.Hash.Quality > 100 {
		return fmt.Errorf("hashlist: quality %d is neither unknown (-1) nor from 0 to 100", e.Hash.Quality)
	}
	for _, l := range e.Labels {
		if strings.ContainsAny(l, ";|") {
			return fmt.Errorf("hashlist: label %q holds ';' or '|', which separate labels", l)
		}
	}
	labels := strings.Join(e.Labels, ";")
	for name, f := range map[string]string{"labels": labels, "source": e.Source, "url": e.URL} {
		if strings.ContainsAny(f, "\r\n") {
			return fmt.Errorf("hashlist: the %s of %s hold a line break, which a line-by-line list cannot carry", name, v)
		}
	}
	q := ""
	if e.Hash.Quality >= 0 {
		q = strconv.Itoa(e.Hash.Quality)
	}
	w.err = w.cw.Write([]string{v, q, labels, e.Source, e.URL})
	return w.err
}

// Flush writes what is buffered and returns the first write error.
func (w *Writer) Flush() error {
	if w.err != nil {
		return w.err
	}
	if w.cw != nil {
		w.cw.Flush()
		if w.err = w.cw.Error(); w.err != nil {
			return w.err
		}
	}
	w.err = w.bw.Flush()
	return w.err
}
