package importer

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
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
	header []string // CSV column names, lower case: the attribute names
	fields []field  // the field each CSV column supplies, or noField
	cols   columnMap
	// keys caches how JSON keys classify: files repeat the same few keys
	// on every line.
	keys map[string]keyClass
	// keySeen records which --columns mappings some JSON object used, to
	// report the ones that match nothing (a CSV header checks that at once).
	keySeen [numFields]bool
	rows    int64
	rejs    int64
	line    atomic.Int64 // last line read, for error messages from the writer
	last    Reject       // the last rejected record
	// hashes counts the hashes of a document that belong to no finding
	// (MISP pdq attributes without a URL beside them).
	hashes int64
}

type keyClass struct {
	field field
	match match
}

// maxCachedKeys and maxCachedKeyBytes bound the key cache against a file
// with a new key, or a huge one, on every line.
const (
	maxCachedKeys     = 1024
	maxCachedKeyBytes = 64
)

func newParser(r io.Reader, opts Options) (*parser, error) {
	cols, err := newColumnMap(opts.Columns)
	if err != nil {
		return nil, err
	}
	p := &parser{opts: opts, lines: newLineReader(r), format: opts.Format, cols: cols}
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
				if t[0] == '{' || t[0] == '[' {
					// JSON Lines, unless its first keys say STIX or MISP.
					b, _ = p.lines.r.Peek(64 << 10)
					if p.format = sniffDocument(b); p.format == FormatAuto {
						p.format = FormatJSONL
					}
				}
				break
			}
			if err != nil || n > 1<<20 {
				break
			}
		}
	}
	if p.format == FormatSTIX || p.format == FormatMISP {
		return p, nil
	}
	if p.format == FormatJSONL {
		p.keys = map[string]keyClass{}
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
		if err := p.resolveHeader(fields); err != nil {
			return nil, err
		}
		return p, nil
	}
}

// resolveHeader names the header's columns and picks the column of each
// field.
func (p *parser) resolveHeader(names []string) error {
	line := p.lines.line
	seen := map[string]bool{}
	var best [numFields]int
	for i := range best {
		best[i] = -1
	}
	var how [numFields]match
	p.fields = make([]field, len(names))
	for i, text := range names {
		text = strings.TrimSpace(text)
		names[i] = text
		name := strings.ToLower(text)
		if name == "" {
			return takedown.Errorf(takedown.EINVALID, "line %d: column %d of the header has no name", line, i+1)
		}
		if seen[name] {
			return takedown.Errorf(takedown.EINVALID, "line %d: column %q appears twice in the header", line, name)
		}
		seen[name] = true
		p.header = append(p.header, name)
		p.fields[i] = noField
		f, m := p.cols.classify(text)
		switch {
		case m == matchNone || m < how[f]:
		case m == how[f]:
			a := ambiguity{field: f, how: m, a: names[best[f]], b: text}
			return takedown.Errorf(takedown.EINVALID, "line %d: %s", line, a.describe(&p.cols, "column"))
		default:
			best[f], how[f] = i, m
		}
	}
	for f, i := range best {
		if i >= 0 {
			p.fields[i] = field(f)
			continue
		}
		if p.cols.given[f] != "" {
			return takedown.Errorf(takedown.EINVALID, "line %d: %s: the header has no such column (columns: %s)", line, p.cols.flag(field(f)), columnList(names))
		}
		if field(f) == fieldURL {
			return takedown.Errorf(takedown.EINVALID, "line %d: the header has no url column (columns: %s); %s", line, columnList(names), urlHint("column"))
		}
	}
	return nil
}

// unusedColumns lists the --columns mappings that no JSON object had a key
// for.
func (p *parser) unusedColumns() []string {
	if p.format != FormatJSONL {
		return nil
	}
	var unused []string
	for f := range numFields {
		if p.cols.given[f] != "" && !p.keySeen[f] {
			unused = append(unused, f.String()+"="+quoteIfNeeded(p.cols.given[f]))
		}
	}
	return unused
}

func (p *parser) lastLine() int64 { return p.line.Load() }

func (p *parser) reject(line int64, reason string, raw []byte) {
	p.rejectAt(fmt.Sprintf("line %d", line), reason, string(raw))
	if p.opts.Reject != nil {
		p.last.Line = line
		p.opts.Reject(p.last)
	}
}

// rejectAt counts a rejected record at where and keeps it in p.last;
// reject (lines) and the document formats report it.
func (p *parser) rejectAt(where, reason, raw string) {
	p.rows++
	p.rejs++
	p.last = Reject{Where: where, Reason: reason, Raw: shorten(raw, 300)}
	if p.format == FormatSTIX || p.format == FormatMISP {
		if p.opts.Reject != nil {
			p.opts.Reject(p.last)
		}
	}
}

// run parses everything and sends batches until the input ends or ctx is
// cancelled.
func (p *parser) run(ctx context.Context, out chan<- batch) error {
	if p.format == FormatSTIX || p.format == FormatMISP {
		return p.runDocument(ctx, countingReader{p.lines.r, &p.lines.bytes}, out)
	}
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
		switch p.fields[i] {
		case fieldURL:
			r.url = strings.TrimSpace(v)
		case fieldKind:
			r.kind = strings.ToLower(strings.TrimSpace(v))
		case fieldPlatform:
			r.platform = strings.TrimSpace(v)
		case fieldHandle:
			r.handle = strings.TrimSpace(v)
		case fieldTitle:
			r.title = strings.TrimSpace(v)
		case fieldNotes:
			r.notes = strings.TrimSpace(v)
		case fieldTags:
			r.tags = splitTags(v)
		case fieldLanguage:
			r.language = strings.TrimSpace(v)
		case fieldFoundAt:
			r.foundAt = strings.TrimSpace(v)
		default:
			if v = strings.TrimSpace(v); v != "" {
				if r.attributes == nil {
					r.attributes = map[string]string{}
				}
				r.attributes[p.header[i]] = v
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
		// First the key of each field, so that which key wins never
		// depends on the order of the object's keys.
		var best [numFields]string
		var how [numFields]match
		var tied [numFields]bool
		for k := range obj {
			c := p.classifyKey(k)
			switch {
			case c.match == matchNone || c.match < how[c.field]:
			case c.match == how[c.field]:
				tied[c.field] = true
			default:
				best[c.field], how[c.field], tied[c.field] = k, c.match, false
			}
		}
		for f := range numFields {
			if tied[f] {
				return line, text, p.tiedKeys(obj, f, how[f]), nil
			}
			if best[f] != "" && p.cols.given[f] != "" {
				p.keySeen[f] = true
			}
		}
		if best[fieldURL] == "" {
			return line, text, p.noURLKey(obj), nil
		}
		for k, v := range obj {
			c := p.classifyKey(k)
			if c.match == matchNone || best[c.field] != k {
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
			if c.field == fieldTags {
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
			switch c.field {
			case fieldURL:
				r.url = s
			case fieldKind:
				r.kind = strings.ToLower(s)
			case fieldPlatform:
				r.platform = s
			case fieldHandle:
				r.handle = s
			case fieldTitle:
				r.title = s
			case fieldNotes:
				r.notes = s
			case fieldTags:
				r.tags = splitTags(s)
			case fieldLanguage:
				r.language = s
			case fieldFoundAt:
				r.foundAt = s
			}
		}
		return line, text, "", nil
	}
}

// classifyKey is columnMap.classify for JSON keys, cached.
func (p *parser) classifyKey(k string) keyClass {
	if c, ok := p.keys[k]; ok {
		return c
	}
	f, m := p.cols.classify(k)
	c := keyClass{f, m}
	if len(p.keys) < maxCachedKeys && len(k) <= maxCachedKeyBytes {
		p.keys[k] = c
	}
	return c
}

// tiedKeys is the reason for rejecting an object with two keys for field f.
func (p *parser) tiedKeys(obj map[string]json.RawMessage, f field, how match) string {
	var keys []string
	for k := range obj {
		if c := p.classifyKey(k); c.field == f && c.match == how {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	return ambiguity{field: f, how: how, a: keys[0], b: keys[1]}.describe(&p.cols, "key")
}

// noURLKey is the reason for rejecting an object without a url key.
func (p *parser) noURLKey(obj map[string]json.RawMessage) string {
	if p.cols.given[fieldURL] != "" {
		return fmt.Sprintf("no url: no key %q (%s)", p.cols.given[fieldURL], p.cols.flag(fieldURL))
	}
	keys := slices.Sorted(maps.Keys(obj))
	if len(keys) == 0 {
		return "no url: the object is empty"
	}
	return fmt.Sprintf("no url key (keys: %s); %s", columnList(keys), urlHint("key"))
}
