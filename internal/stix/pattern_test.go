package stix

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParsePattern(t *testing.T) {
	tests := []struct {
		pattern string
		want    []patternTerm
		err     string // "" for success; "complex" for errTooComplex; else in the error
	}{
		{pattern: "[url:value = 'https://example.org/a']", want: []patternTerm{{"url", "https://example.org/a"}}},
		{pattern: "  [ url:value='https://example.org/a' ]  ", want: []patternTerm{{"url", "https://example.org/a"}}},
		{pattern: "[domain-name:value = 'example.net']", want: []patternTerm{{"domain-name", "example.net"}}},
		{pattern: `[url:value = 'it\'s \\ here']`, want: []patternTerm{{"url", `it's \ here`}}},
		{pattern: "[url:value = 'a'] OR [url:value = 'b']", want: []patternTerm{{"url", "a"}, {"url", "b"}}},
		{pattern: "[url:value = 'a' OR url:value = 'b' OR domain-name:value = 'c']", want: []patternTerm{{"url", "a"}, {"url", "b"}, {"domain-name", "c"}}},
		{pattern: "([url:value = 'a'] OR ([url:value = 'b']))", want: []patternTerm{{"url", "a"}, {"url", "b"}}},
		{pattern: "[(url:value = 'a' OR url:value = 'b')]", want: []patternTerm{{"url", "a"}, {"url", "b"}}},
		{pattern: "[url:value = 'https://example.org/ü']", want: []patternTerm{{"url", "https://example.org/ü"}}},

		{pattern: "[url:value MATCHES '^https://']", err: "complex"},
		{pattern: "[url:value LIKE 'https://%']", err: "complex"},
		{pattern: "[url:value != 'a']", err: "complex"},
		{pattern: "[url:value IN ('a', 'b')]", err: "complex"},
		{pattern: "[NOT url:value = 'a']", err: "complex"},
		{pattern: "[url:value = 'a' AND url:value = 'b']", err: "complex"},
		{pattern: "[url:value = 'a'] AND [url:value = 'b']", err: "complex"},
		{pattern: "[url:value = 'a'] FOLLOWEDBY [url:value = 'b']", err: "complex"},
		{pattern: "[url:value = 'a'] WITHIN 300 SECONDS", err: "complex"},
		{pattern: "[url:value = 'a'] REPEATS 5 TIMES", err: "complex"},
		{pattern: "[url:value = 'a'] START t'2026-01-01T00:00:00Z' STOP t'2026-02-01T00:00:00Z'", err: "complex"},
		{pattern: "[file:hashes.'SHA-256' = 'aa']", err: "complex"},
		{pattern: "[ipv4-addr:value = '192.0.2.1']", err: "complex"},
		{pattern: "[url:x_other = 'a']", err: "complex"},
		{pattern: "[url:value = 42]", err: "complex"},

		{pattern: "", err: "pattern ends"},
		{pattern: "url:value = 'a'", err: "want '['"},
		{pattern: "[url:value = 'a'", err: "want ']'"},
		{pattern: "[url:value = 'a]", err: "not closed"},
		{pattern: `[url:value = 'a\n']`, err: "bad escape"},
		{pattern: "[url:value = 'a'] OR", err: "pattern ends"},
		{pattern: "[url:value = 'a']]", err: "unexpected"},
		{pattern: "[url value = 'a']", err: "want ':'"},
		{pattern: "[url:value = 'a'] # comment", err: "unexpected character"},
		{pattern: strings.Repeat("(", maxDepth+1) + "[url:value = 'a']" + strings.Repeat(")", maxDepth+1), err: "too deep"},
	}
	for _, tt := range tests {
		t.Run(tt.pattern, func(t *testing.T) {
			got, err := parsePattern(tt.pattern)
			switch {
			case tt.err == "":
				if err != nil {
					t.Fatalf("parsePattern: %v", err)
				}
				if diff := cmp.Diff(tt.want, got); diff != "" {
					t.Errorf("mismatch (-want +got):\n%s", diff)
				}
			case tt.err == "complex":
				if !errors.Is(err, errTooComplex) {
					t.Errorf("err = %v, want %v", err, errTooComplex)
				}
			default:
				if err == nil || errors.Is(err, errTooComplex) || !strings.Contains(err.Error(), tt.err) {
					t.Errorf("err = %v, want one saying %q", err, tt.err)
				}
			}
		})
	}
}

func TestParsePatternTooManyTerms(t *testing.T) {
	p := "[url:value = 'a']" + strings.Repeat(" OR [url:value = 'a']", maxPatternTerms)
	if _, err := parsePattern(p); err == nil || !strings.Contains(err.Error(), "more than") {
		t.Errorf("err = %v, want a limit on the number of values", err)
	}
}
