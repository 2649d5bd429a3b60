package importer

import (
	"bufio"
	"bytes"
	"errors"
	"io"
)

// MaxLineBytes bounds one physical line (and one CSV record). A longer line
// is rejected and skipped without being held in memory.
const MaxLineBytes = 1 << 20

// lineReader reads physical lines with their 1-based numbers, never holding
// more than MaxLineBytes of one line.
type lineReader struct {
	r     *bufio.Reader
	line  int64 // number of the line last returned
	bytes int64 // bytes consumed so far
	buf   []byte
}

func newLineReader(r io.Reader) *lineReader {
	return &lineReader{r: bufio.NewReaderSize(r, 256<<10)}
}

// next returns the next line without its line ending ("\n" or "\r\n").
// tooLong is true when the line was longer than MaxLineBytes; it has been
// skipped and text is empty. err is io.EOF after the last line.
func (lr *lineReader) next() (text []byte, tooLong bool, err error) {
	lr.buf = lr.buf[:0]
	for {
		chunk, err := lr.r.ReadSlice('\n')
		lr.bytes += int64(len(chunk))
		if !tooLong {
			if len(lr.buf)+len(chunk) > MaxLineBytes+2 {
				tooLong, lr.buf = true, lr.buf[:0]
			} else {
				lr.buf = append(lr.buf, chunk...)
			}
		}
		switch {
		case err == nil:
			lr.line++
			return trimEOL(lr.buf), tooLong, nil
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		case errors.Is(err, io.EOF):
			if len(lr.buf) == 0 && !tooLong {
				return nil, false, io.EOF
			}
			lr.line++
			return trimEOL(lr.buf), tooLong, nil
		default:
			return nil, false, err
		}
	}
}

func trimEOL(b []byte) []byte {
	b = bytes.TrimSuffix(b, []byte{'\n'})
	return bytes.TrimSuffix(b, []byte{'\r'})
}
