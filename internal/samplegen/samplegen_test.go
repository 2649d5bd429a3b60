package samplegen

import (
	"bytes"
	"encoding/csv"
	"io"
	"testing"
)

func generate(t *testing.T, opts Options) [][]byte {
	t.Helper()
	bufs := make([]bytes.Buffer, max(opts.Agencies, 2))
	ws := make([]io.Writer, len(bufs))
	for i := range bufs {
		ws[i] = &bufs[i]
	}
	if opts.Agencies == 0 {
		ws = ws[:2]
	}
	if err := WriteCSVs(ws, opts); err != nil {
		t.Fatal(err)
	}
	out := make([][]byte, len(ws))
	for i := range ws {
		out[i] = bufs[i].Bytes()
	}
	return out
}

func TestWriteCSVs(t *testing.T) {
	t.Parallel()
	opts := Options{Rows: 5000, Seed: 3}
	a, b := generate(t, opts), generate(t, opts)
	for i := range a {
		if !bytes.Equal(a[i], b[i]) {
			t.Errorf("file %d differs between two runs with the same seed", i)
		}
	}
	if c := generate(t, Options{Rows: 5000, Seed: 4}); bytes.Equal(a[0], c[0]) {
		t.Error("another seed gave the same file")
	}
	total := 0
	for i, f := range a {
		rows, err := csv.NewReader(bytes.NewReader(f)).ReadAll()
		if err != nil {
			t.Fatalf("file %d: %v", i, err)
		}
		if len(rows[0]) != len(Header) || rows[0][0] != "url" {
			t.Errorf("file %d header %v", i, rows[0])
		}
		for _, r := range rows[1:] {
			if r[0] == "" {
				t.Errorf("file %d: a row without url: %v", i, r)
			}
		}
		total += len(rows) - 1
	}
	if total != opts.Rows {
		t.Errorf("%d rows in all, want %d", total, opts.Rows)
	}
}
