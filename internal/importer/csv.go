package importer

import (
	"bytes"
	"fmt"
)

// csvReader reads CSV records (RFC 4180: quoted fields with "" for a
// quote, possibly over several lines) from a lineReader. Unlike
// encoding/csv it recovers from a bad record: an unterminated quote is
// rejected and reading resumes on the line after the one it started on, so
// one stray quote cannot swallow the rest of a file.
type csvReader struct {
	lines *lineReader
	comma byte
	// pending holds physical lines read ahead while looking for the end
	// of a quoted field, to be read again after a failed record.
	pending []pendingLine
	fields  []string
}

type pendingLine struct {
	n       int64
	text    []byte
	tooLong bool
}

// maxRecordLines bounds how many physical lines one quoted field may span.
const maxRecordLines = 100

// record is one CSV record, or the reason it was rejected.
type record struct {
	line   int64    // where it starts
	fields []string // valid until the next read
	raw    []byte   // the text, for reports
	reject string
}

func (c *csvReader) nextLine() (pendingLine, error) {
	if len(c.pending) > 0 {
		l := c.pending[0]
		c.pending = c.pending[1:]
		return l, nil
	}
	text, tooLong, err := c.lines.next()
	if err != nil {
		return pendingLine{}, err
	}
	return pendingLine{c.lines.line, text, tooLong}, nil
}

// read returns the next record; blank lines are skipped. err is io.EOF at
// the end.
func (c *csvReader) read() (record, error) {
	var first pendingLine
	for {
		l, err := c.nextLine()
		if err != nil {
			return record{}, err
		}
		if l.tooLong {
			return record{line: l.n, reject: fmt.Sprintf("line is longer than %d bytes", MaxLineBytes)}, nil
		}
		if len(bytes.TrimSpace(l.text)) > 0 {
			first = l
			break
		}
	}
	// The fast path: a line without quotes is a record by itself.
	if bytes.IndexByte(first.text, '"') < 0 {
		c.fields = c.fields[:0]
		for _, f := range bytes.Split(first.text, []byte{c.comma}) {
			c.fields = append(c.fields, string(f))
		}
		return record{line: first.n, fields: c.fields, raw: first.text}, nil
	}
	text := append([]byte(nil), first.text...)
	var used []pendingLine
	for {
		fields, complete, bad := c.parseQuoted(text)
		if bad != "" {
			return record{line: first.n, raw: text, reject: bad}, nil
		}
		if complete {
			c.fields = fields
			return record{line: first.n, fields: fields, raw: text}, nil
		}
		// A quoted field goes on: take the next line, within limits.
		l, err := c.nextLine()
		if err == nil {
			// The line reader reuses its buffer; keep a copy.
			l.text = append([]byte(nil), l.text...)
		}
		if err != nil || l.tooLong || len(used) >= maxRecordLines || len(text)+len(l.text) > MaxLineBytes {
			if err == nil {
				used = append(used, l)
			}
			// Resynchronise: the lines after the first are read again.
			c.pending = append(used, c.pending...)
			return record{line: first.n, raw: text[:len(first.text)], reject: "unterminated quoted field"}, nil
		}
		used = append(used, l)
		text = append(append(text, '\n'), l.text...)
	}
}

// parseQuoted splits a record that contains quotes. complete is false when
// a quoted field is still open at the end of text.
func (c *csvReader) parseQuoted(text []byte) (fields []string, complete bool, bad string) {
	var f []byte
	i := 0
	for {
		f = f[:0]
		if i < len(text) && text[i] == '"' {
			i++
			for {
				j := bytes.IndexByte(text[i:], '"')
				if j < 0 {
					return nil, false, ""
				}
				f = append(f, text[i:i+j]...)
				i += j + 1
				if i < len(text) && text[i] == '"' {
					f = append(f, '"')
					i++
					continue
				}
				break
			}
			if i < len(text) && text[i] != c.comma {
				return nil, true, fmt.Sprintf("unexpected text after the closing quote of field %d", len(fields)+1)
			}
		} else {
			j := bytes.IndexByte(text[i:], c.comma)
			if j < 0 {
				j = len(text) - i
			}
			field := text[i : i+j]
			if bytes.IndexByte(field, '"') >= 0 {
				return nil, true, fmt.Sprintf("a quote inside unquoted field %d", len(fields)+1)
			}
			f = append(f, field...)
			i += j
		}
		fields = append(fields, string(f))
		if i >= len(text) {
			return fields, true, ""
		}
		i++ // the comma
		if i == len(text) {
			return append(fields, ""), true, ""
		}
	}
}

// sniffComma picks the separator of a header line: the most frequent of
// comma, semicolon and tab outside quotes.
func sniffComma(header []byte) byte {
	best, count := byte(','), 0
	for _, c := range []byte{',', ';', '\t'} {
		n, quoted := 0, false
		for _, b := range header {
			if b == '"' {
				quoted = !quoted
			} else if b == c && !quoted {
				n++
			}
		}
		if n > count {
			best, count = c, n
		}
	}
	return best
}
