package importer

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync/atomic"
	"unicode/utf8"

	"github.com/takedown-project/takedown"
)

// parser turns input into batches of submissions, reporting rejects.
type parser struct {
	opts   Options
	lines  *lineReader
	format Format
	csv    *csvReader
	header []string // CSV column names, lower case
	urlCol int
	rows   int64
	rejs   int64
	line   atomic.Int64 // last line read, for error messages from the writer
}

// knownColumns are the columns takedown understands; others are attributes.
var knownColumns = map[string]bool{"url": true, "kind": true, "platform": true, "handle": true, "title": true, "notes": true, "tags": true, "language": true, "found_at": true}

func newParser(r io.Reader, opts Options) (*parser, error) {
	p := &parser{opts: opts, lines: newLineReader(r), format: opts.Format}
	// Skip a UTF-8 byte order mark, as spreadsheet programs write one.
	if b, _ := p.lines.r.Peek(3); bytes.Equal(b, []byte("\xef\xbb\xbf")) {
		p.lines.r.Discard(3)
		p.lines.bytes += 3
	}
	if p.format == FormatAuto {
		p.format = FormatCSV
		for n := 64; ; n *= 4 {
			b, err := p.lines.r.Peek(n)
			if t := bytes.TrimLeft(b, " \t\r\n"); len(t) > 0 {
				if t[0] == '{' {
					p.format = FormatJSONL
				}
				break
			}
			if err != nil || n > 1<<20 {
				break
			}
		}
	}
	if p.format == FormatJSONL {
		return p, nil
	}
	// The header: the first line that is not blank.
	for {
		text, tooLong, err := p.lines.next()
		if errors.Is(err, io.EOF) {
			return nil, takedown.Errorf(takedown.EINVALID, "empty file: no header row")
		} else if err != nil {
			return nil, fmt.Errorf("read header: %w", err)
		}
		if tooLong {
			return nil, takedown.Errorf(takedown.EINVALID, "line %d: the header is longer than %d bytes", p.lines.line, MaxLineBytes)
		}
		if len(bytes.TrimSpace(text)) == 0 {
			continue
		}
		if !utf8.Valid(text) {
			return nil, takedown.Errorf(takedown.EINVALID, "line %d: the header is not valid UTF-8; save the file as UTF-8", p.lines.line)
		}
		p.csv = &csvReader{lines: p.lines, comma: sniffComma(text)}
		fields, complete, bad := p.csv.parseQuoted(text)
		if !complete || bad != "" {
			return nil, takedown.Errorf(takedown.EINVALID, "line %d: the header is not a valid CSV line", p.lines.line)
		}
		p.urlCol = -1
		seen := map[string]bool{}
		for i, f := range fields {
			name := strings.ToLower(strings.TrimSpace(f))
			if name == "" {
				return nil, takedown.Errorf(takedown.EINVALID, "line %d: column %d of the header has no name", p.lines.line, i+1)
			}
			if seen[name] {
				return nil, takedown.Errorf(takedown.EINVALID, "line %d: column %q appears twice in the header", p.lines.line, name)
			}
			seen[name] = true
			if name == "url" {
				p.urlCol = i
			}
			p.header = append(p.header, name)
		}
		if p.urlCol < 0 {
			return nil, takedown.Errorf(takedown.EINVALID, "line %d: the header has no url column (columns: %s)", p.lines.line, strings.Join(p.header, ", "))
		}
		return p, nil
	}
}

func (p *parser) lastLine() int64 { return p.line.Load() }

func (p *parser) reject(line int64, reason string, raw []byte) {
	p.rows++
	p.rejs++
	if p.opts.Reject != nil {
		p.opts.Reject(Reject{Line: line, Reason: reason, Raw: shorten(string(raw), 300)})
	}
}

// run parses everything and sends batches until the input ends or ctx is
// cancelled.
func (p *parser) run(ctx context.Context, out chan<- batch) error {
	subs := make([]takedown.NewSubmission, 0, p.opts.BatchSize)
	now := p.opts.Now()
	send := func() bool {
		b := batch{subs: subs, progress: Progress{Bytes: p.lines.bytes, Rows: p.rows}, rejected: p.rejs}
		select {
		case out <- b:
		case <-ctx.Done():
			return false
		}
		subs = make([]takedown.NewSubmission, 0, p.opts.BatchSize)
		now = p.opts.Now()
		return true
	}
	var r row
	for {
		line, raw, reason, err := p.next(&r)
		if errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			return fmt.Errorf("read line %d: %w", p.lines.line+1, err)
		}
		p.line.Store(line)
		if reason != "" {
			p.reject(line, reason, raw)
			continue
		}
		ns, reason := p.opts.submission(&r, now)
		if reason != "" {
			p.reject(line, reason, raw)
			continue
		}
		p.rows++
		subs = append(subs, ns)
		if len(subs) == p.opts.BatchSize && !send() {
			return ctx.Err()
		}
	}
	if !send() {
		return ctx.Err()
	}
	return nil
}

// next reads the next data row into r. A row that cannot be read gives a
// reason; err is io.EOF at the end.
func (p *parser) next(r *row) (line int64, raw []byte, reason string, err error) {
	*r = row{}
	if p.format == FormatJSONL {
		return p.nextJSON(r)
	}
	rec, err := p.csv.read()
	if err != nil {
		return 0, nil, "", err
	}
	if rec.reject != "" {
		return rec.line, rec.raw, rec.reject, nil
	}
	if !utf8.Valid(rec.raw) {
		return rec.line, rec.raw, "not valid UTF-8; save the file as UTF-8", nil
	}
	if len(rec.fields) != len(p.header) {
		return rec.line, rec.raw, fmt.Sprintf("has %d fields, the header has %d", len(rec.fields), len(p.header)), nil
	}
	for i, v := range rec.fields {
		switch name := p.header[i]; name {
		case "url":
			r.url = strings.TrimSpace(v)
		case "kind":
			r.kind = strings.ToLower(strings.TrimSpace(v))
		case "platform":
			r.platform = strings.TrimSpace(v)
		case "handle":
			r.handle = strings.TrimSpace(v)
		case "title":
			r.title = strings.TrimSpace(v)
		case "notes":
			r.notes = strings.TrimSpace(v)
		case "tags":
			r.tags = splitTags(v)
		case "language":
			r.language = strings.TrimSpace(v)
		case "found_at":
			r.foundAt = strings.TrimSpace(v)
		default:
			if v = strings.TrimSpace(v); v != "" {
				if r.attributes == nil {
					r.attributes = map[string]string{}
				}
				r.attributes[name] = v
			}
		}
	}
	return rec.line, rec.raw, "", nil
}

// nextJSON reads the next non-blank line as a JSON object.
func (p *parser) nextJSON(r *row) (line int64, raw []byte, reason string, err error) {
	for {
		text, tooLong, err := p.lines.next()
		if err != nil {
			return 0, nil, "", err
		}
		line := p.lines.line
		if tooLong {
			return line, nil, fmt.Sprintf("line is longer than %d bytes", MaxLineBytes), nil
		}
		text = bytes.TrimSpace(text)
		if len(text) == 0 {
			continue
		}
		if !utf8.Valid(text) {
			return line, text, "not valid UTF-8", nil
		}
		var obj map[string]json.RawMessage
		if err := json.Unmarshal(text, &obj); err != nil {
			var syntax *json.SyntaxError
			if errors.As(err, &syntax) {
				return line, text, fmt.Sprintf("not a JSON object: %v (at byte %d)", err, syntax.Offset), nil
			}
			return line, text, "not a JSON object: " + err.Error(), nil
		}
		for k, v := range obj {
			name := strings.ToLower(k)
			if !knownColumns[name] {
				if r.attributes == nil {
					r.attributes = map[string]string{}
				}
				var s string
				if json.Unmarshal(v, &s) == nil {
					r.attributes[k] = s
				} else {
					var b bytes.Buffer
					json.Compact(&b, v)
					r.attributes[k] = b.String()
				}
				continue
			}
			if name == "tags" {
				var list []string
				if json.Unmarshal(v, &list) == nil {
					for _, t := range list {
						if t = strings.TrimSpace(t); t != "" {
							r.tags = append(r.tags, t)
						}
					}
					continue
				}
			}
			var s string
			if v != nil && string(v) != "null" {
				if err := json.Unmarshal(v, &s); err != nil {
					return line, text, fmt.Sprintf("%q must be a string", k), nil
				}
			}
			s = strings.TrimSpace(s)
			switch name {
			case "url":
				r.url = s
			case "kind":
				r.kind = strings.ToLower(s)
			case "platform":
				r.platform = s
			case "handle":
				r.handle = s
			case "title":
				r.title = s
			case "notes":
				r.notes = s
			case "tags":
				r.tags = splitTags(s)
			case "language":
				r.language = s
			case "found_at":
				r.foundAt = s
			}
		}
		return line, text, "", nil
	}
}
