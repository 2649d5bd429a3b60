package importer

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/takedown-project/takedown"
	"github.com/takedown-project/takedown/internal/exchange"
	"github.com/takedown-project/takedown/internal/misp"
	"github.com/takedown-project/takedown/internal/stix"
)

// The exchange formats: a STIX 2.1 bundle or a MISP event is one
// document, not a table of rows. It is read streaming, but stored in one
// transaction once it has been read to its end: a document that breaks
// off (a truncated download) or cannot be stored leaves nothing behind,
// and bad records in it are reported by their position in the document
// (objects[12] url--…, Event[0] Attribute[3]) while the good ones go in.
const (
	FormatSTIX Format = "stix"
	FormatMISP Format = "misp"
)

// MaxDocumentFindings bounds the findings of one STIX or MISP document:
// they are held until the document has been read whole. Agencies'
// bundles and events hold thousands; a larger one should be split.
const MaxDocumentFindings = 500_000

// sniffDocument tells a STIX bundle or a MISP event from JSON Lines by
// the top-level keys of the first JSON value in b (the start of the
// input): "type": "bundle" or "objects" make a bundle; "Event",
// "response", "Attribute" or "Object" a MISP event; an array, MISP's
// list of events. It returns FormatAuto when the keys it could read say
// neither.
func sniffDocument(b []byte) Format {
	dec := json.NewDecoder(bytes.NewReader(b))
	tok, err := dec.Token()
	if err != nil {
		return FormatAuto
	}
	if tok == json.Delim('[') {
		return FormatMISP
	}
	if tok != json.Delim('{') {
		return FormatAuto
	}
	for dec.More() {
		key, err := dec.Token()
		if err != nil {
			return FormatAuto
		}
		switch key {
		case "objects":
			return FormatSTIX
		case "Event", "response", "Attribute", "Object":
			return FormatMISP
		case "type":
			var v string
			if dec.Decode(&v) != nil {
				return FormatAuto
			}
			if v == "bundle" {
				return FormatSTIX
			}
			continue
		}
		var skip json.RawMessage
		if dec.Decode(&skip) != nil {
			return FormatAuto // the value goes on past what was peeked
		}
	}
	return FormatAuto
}

// rowOf is what a finding says, as a row.
func rowOf(f *exchange.Finding) row {
	r := row{url: f.URL, kind: f.Kind, platform: f.Platform, handle: f.Handle, title: f.Title,
		notes: f.Notes, language: f.Language, tags: f.Tags, attributes: f.Attributes}
	if !f.FoundAt.IsZero() {
		r.foundAt = f.FoundAt.UTC().Format(time.RFC3339Nano)
	}
	return r
}

// runDocument reads a STIX bundle or a MISP event to its end and sends
// its submissions as one batch; on any error it sends nothing.
func (p *parser) runDocument(ctx context.Context, in io.Reader, out chan<- batch) error {
	var subs []takedown.NewSubmission
	now := p.opts.Now()
	found := func(f exchange.Finding) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		r := rowOf(&f)
		ns, reason := p.opts.submission(&r, now)
		if reason != "" {
			p.rejectAt(f.Where, reason, f.URL)
			return nil
		}
		if len(subs) == MaxDocumentFindings {
			return takedown.Errorf(takedown.EINVALID, "more than %d findings in one document: split it", MaxDocumentFindings)
		}
		p.rows++
		subs = append(subs, ns)
		return nil
	}
	bad := func(pr exchange.Problem) { p.rejectAt(pr.Where, pr.Reason, pr.Raw) }
	var err error
	switch p.format {
	case FormatSTIX:
		_, err = stix.Read(ctx, in, found, bad)
	case FormatMISP:
		var sum misp.Summary
		sum, err = misp.Read(ctx, in, misp.Options{Hash: p.opts.Hash}, found, bad)
		p.hashes = sum.Hashes
	default:
		return fmt.Errorf("importer: %s is not a document format", p.format)
	}
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if takedown.ErrorCode(err) == takedown.EINTERNAL {
			err = takedown.Errorf(takedown.EINVALID, "%s: %v; nothing of it was imported", p.format, err)
		}
		return err
	}
	b := batch{subs: subs, progress: Progress{Bytes: p.lines.bytes, Rows: p.rows}, rejected: p.rejs}
	select {
	case out <- b:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// countingReader counts what is read through it, for the progress bar.
type countingReader struct {
	r io.Reader
	n *int64
}

func (c countingReader) Read(b []byte) (int, error) {
	n, err := c.r.Read(b)
	*c.n += int64(n)
	return n, err
}
