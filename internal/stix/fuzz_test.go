package stix

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/takedown-project/takedown/internal/exchange"
)

// seedFiles are the bundles of testdata, the fuzzers' seed corpus.
func seedFiles(f *testing.F) [][]byte {
	var out [][]byte
	for _, glob := range []string{"testdata/*.json", "testdata/notbundle/*"} {
		names, err := filepath.Glob(glob)
		if err != nil {
			f.Fatal(err)
		}
		for _, n := range names {
			b, err := os.ReadFile(n)
			if err != nil {
				f.Fatal(err)
			}
			out = append(out, b)
		}
	}
	return out
}

// FuzzRead feeds Read arbitrary input: it must never panic, every finding
// must have a URL, and the summary must count what was handed out.
func FuzzRead(f *testing.F) {
	for _, b := range seedFiles(f) {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var found, bad int64
		sum, _ := Read(context.Background(), bytesReader(data), func(fd exchange.Finding) error {
			found++
			if strings.TrimSpace(fd.URL) == "" {
				t.Errorf("finding without a URL: %+v", fd)
			}
			return nil
		}, func(p exchange.Problem) {
			bad++
			if p.Where == "" || p.Reason == "" {
				t.Errorf("problem without position or reason: %+v", p)
			}
		})
		if sum.Findings != found || sum.Problems != bad {
			t.Errorf("summary %+v, handed out %d findings and %d problems", sum, found, bad)
		}
	})
}

// FuzzPattern feeds parsePattern arbitrary text: it must never panic, and
// what it reads must read the same once written back as a pattern, which
// tests the quoting both ways.
func FuzzPattern(f *testing.F) {
	for _, p := range []string{
		"[url:value = 'https://example.org/a']",
		"[url:value = 'a'] OR [domain-name:value = 'example.net']",
		"[url:value = 'a' OR url:value = 'b']",
		`[url:value = 'it\'s \\ here']`,
		"([url:value = 'a'] OR ([url:value = 'b']))",
		"[url:value MATCHES '^x'] WITHIN 5 SECONDS",
		"[file:hashes.'SHA-256' = 'aa'] AND [url:value = t'2026-01-01T00:00:00Z']",
		"[url:value = 'a",
		"",
	} {
		f.Add(p)
	}
	f.Fuzz(func(t *testing.T, pattern string) {
		terms, err := parsePattern(pattern)
		if err != nil {
			if terms != nil {
				t.Errorf("terms %v with error %v", terms, err)
			}
			return
		}
		if len(terms) == 0 {
			t.Fatalf("no terms and no error for %q", pattern)
		}
		var b strings.Builder
		for i, term := range terms {
			if term.Type != "url" && term.Type != "domain-name" {
				t.Errorf("term of type %q", term.Type)
			}
			if i > 0 {
				b.WriteString(" OR ")
			}
			v := strings.ReplaceAll(term.Value, `\`, `\\`)
			v = strings.ReplaceAll(v, `'`, `\'`)
			b.WriteString("[" + term.Type + ":value = '" + v + "']")
		}
		again, err := parsePattern(b.String())
		if err != nil {
			t.Fatalf("written back as %q: %v", b.String(), err)
		}
		if diff := cmp.Diff(terms, again); diff != "" {
			t.Errorf("mismatch (-want +got):\n%s", diff)
		}
	})
}
