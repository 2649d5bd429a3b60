package stix

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/takedown-project/takedown/internal/exchange"
)

func bytesReader(b []byte) io.Reader { return bytes.NewReader(b) }

func ts(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t.UTC()
}

func attrs(kv ...string) map[string]string {
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return m
}

const (
	u = "00000000-0000-4000-8000-000000000"
)

func TestReadTestdata(t *testing.T) {
	tests := []struct {
		file     string
		want     []exchange.Finding
		problems []exchange.Problem // Raw is not compared
		sum      Summary
	}{
		{
			file: "observables.json",
			want: []exchange.Finding{
				{URL: "https://t.me/example_channel_17", Tags: []string{"channel", "telegram"}, Attributes: attrs("stix_id", "url--"+u+"101"), Where: "objects[1] url--" + u + "101"},
				{URL: "propaganda.example.net", Kind: "website", Attributes: attrs("stix_id", "domain-name--"+u+"102"), Where: "objects[2] domain-name--" + u + "102"},
				{URL: "https://t.me/example_channel_18", Kind: "account", Platform: "telegram", Handle: "example_channel_18", Title: "Example Channel 18", Attributes: attrs("stix_id", "user-account--"+u+"103"), Where: "objects[3] user-account--" + u + "103"},
				{URL: "https://x.com/example_account_19", Kind: "account", Platform: "x", Handle: "example_account_19", Attributes: attrs("stix_id", "user-account--"+u+"104"), Where: "objects[4] user-account--" + u + "104"},
				{URL: "https://www.youtube.com/@examplechannel20", Kind: "account", Platform: "youtube", Handle: "examplechannel20", Title: "Example 20", Attributes: attrs("stix_id", "user-account--"+u+"105"), Where: "objects[5] user-account--" + u + "105"},
				{URL: "https://files.example.org/leaflet-21.pdf", FoundAt: ts("2026-11-21T08:30:00Z"), Attributes: attrs("stix_id", "url--"+u+"108", "stix_md5", "0123456789abcdef0123456789abcdef", "stix_sha256", strings.Repeat("b", 64)), Where: "objects[8] url--" + u + "108"},
				{URL: "https://cdn.example.org/video-22.mp4", Kind: "file", Attributes: attrs("stix_id", "file--"+u+"111", "stix_md5", "fedcba9876543210fedcba9876543210"), Where: "objects[11] file--" + u + "111"},
			},
			problems: []exchange.Problem{
				{Where: "objects[6] user-account--" + u + "106", Reason: `user-account of account_type "unix": takedown knows no URL for it (telegram, x, twitter, facebook, instagram, youtube, tiktok)`},
				{Where: "objects[7] file--" + u + "107", Reason: "file without a URL: takedown tracks online locations"},
			},
			sum: Summary{Objects: 13, Findings: 7, Problems: 2, Ignored: 2},
		},
		{
			file: "indicators.json",
			want: []exchange.Finding{
				{URL: "https://t.me/example_channel_23", Title: "Example channel 23", Notes: "Mirror of a channel taken down before.", Tags: []string{"mirror"}, FoundAt: ts("2026-11-22T09:15:00Z"), Attributes: attrs("stix_id", "indicator--"+u+"201"), Where: "objects[0] indicator--" + u + "201"},
				{URL: "https://example.org/a?q=it's", Title: "Two mirrors", FoundAt: ts("2026-11-22T09:16:00Z"), Attributes: attrs("stix_id", "indicator--"+u+"202"), Where: "objects[1] indicator--" + u + "202"},
				{URL: "mirror-24.example.net", Kind: "website", Title: "Two mirrors", FoundAt: ts("2026-11-22T09:16:00Z"), Attributes: attrs("stix_id", "indicator--"+u+"202"), Where: "objects[1] indicator--" + u + "202"},
				{URL: "https://example.org/b", FoundAt: ts("2026-11-22T09:17:00Z"), Attributes: attrs("stix_id", "indicator--"+u+"203"), Where: "objects[2] indicator--" + u + "203"},
				{URL: `https://example.org/c\d`, FoundAt: ts("2026-11-22T09:17:00Z"), Attributes: attrs("stix_id", "indicator--"+u+"203"), Where: "objects[2] indicator--" + u + "203"},
				{URL: "https://example.org/i", FoundAt: ts("2026-11-22T09:25:00Z"), Attributes: attrs("stix_id", "indicator--"+u+"211"), Where: "objects[10] indicator--" + u + "211"},
				{URL: "https://example.org/j", FoundAt: ts("2026-11-22T09:25:00Z"), Attributes: attrs("stix_id", "indicator--"+u+"211"), Where: "objects[10] indicator--" + u + "211"},
			},
			problems: []exchange.Problem{
				{Where: "objects[3] indicator--" + u + "204", Reason: errTooComplex.Error()},
				{Where: "objects[4] indicator--" + u + "205", Reason: errTooComplex.Error()},
				{Where: "objects[5] indicator--" + u + "206", Reason: errTooComplex.Error()},
				{Where: "objects[6] indicator--" + u + "207", Reason: errTooComplex.Error()},
				{Where: "objects[7] indicator--" + u + "208", Reason: errTooComplex.Error()},
				{Where: "objects[8] indicator--" + u + "209", Reason: `pattern_type "snort": only STIX patterns are read`},
				{Where: "objects[9] indicator--" + u + "210", Reason: "pattern is not valid: string at offset 13 is not closed"},
			},
			sum: Summary{Objects: 11, Findings: 7, Problems: 7},
		},
		{
			// Context before and after what it describes, the bundle's
			// "type" last: order must not matter.
			file: "context.json",
			want: []exchange.Finding{
				{URL: "https://www.example.org/watch/example-video-25", Notes: "Posts recruitment videos daily.\n\nSecond look\nStill online on 23 November.", Tags: []string{"observed", "recruitment", "sweep-47"}, FoundAt: ts("2026-11-20T07:00:00Z"), Attributes: attrs("stix_id", "url--"+u+"304", "stix_report", "Weekly sweep 47; Monthly summary"), Where: "objects[3] url--" + u + "304"},
				{URL: "site-26.test", Kind: "website", Tags: []string{"sweep-47"}, Attributes: attrs("stix_id", "domain-name--"+u+"305", "stix_report", "Weekly sweep 47"), Where: "objects[4] domain-name--" + u + "305"},
				{URL: "https://t.me/example_channel_27", Title: "Example channel 27", Tags: []string{"sweep-47"}, FoundAt: ts("2026-11-21T11:00:00Z"), Attributes: attrs("stix_id", "indicator--"+u+"306", "stix_report", "Weekly sweep 47"), Where: "objects[5] indicator--" + u + "306"},
			},
			sum: Summary{Objects: 8, Findings: 3},
		},
		{
			file: "bad.json",
			want: []exchange.Finding{
				{URL: "https://example.org/good-1", Attributes: attrs("stix_id", "url--"+u+"401"), Where: "objects[0] url--" + u + "401"},
				{URL: "https://example.org/good-2", Attributes: attrs("stix_id", "url--"+u+"413"), Where: "objects[12] url--" + u + "413"},
			},
			problems: []exchange.Problem{
				{Where: "objects[1] url", Reason: "url object without an id"},
				{Where: "objects[2] url", Reason: `id "domain-name--` + u + `403" does not start with "url--"`},
				{Where: "objects[3] url", Reason: `id "url--not-a-uuid" does not end in a UUID`},
				{Where: "objects[4] url--" + u + "405", Reason: "url value is not a string"},
				{Where: "objects[5] url--" + u + "406", Reason: "url without a value"},
				{Where: "objects[6]", Reason: "not a JSON object"},
				{Where: "objects[7]", Reason: "object without a type"},
				{Where: "objects[8] url--" + u + "409", Reason: `spec_version "3.0": only 2.1 is read`},
				{Where: "objects[9] url--" + u + "410", Reason: "url without a value"},
				{Where: "objects[10] observed-data--" + u + "411", Reason: `observed-data first_observed "yesterday" is not a timestamp`},
			},
			sum: Summary{Objects: 13, Findings: 2, Problems: 10, Ignored: 1},
		},
		{
			file: "stix20.json",
			want: []exchange.Finding{
				{URL: "https://example.org/old-format-28", Tags: []string{"stix-2.0"}, FoundAt: ts("2026-11-24T06:00:00Z"), Where: "objects[0] observed-data--" + u + "501 objects.0 (url)"},
				{URL: "old-29.example.net", Kind: "website", Tags: []string{"stix-2.0"}, FoundAt: ts("2026-11-24T06:00:00Z"), Where: "objects[0] observed-data--" + u + "501 objects.1 (domain-name)"},
				{URL: "https://example.org/old-format-30", Tags: []string{"malicious-activity"}, FoundAt: ts("2026-11-24T06:30:00Z"), Attributes: attrs("stix_id", "indicator--"+u+"502"), Where: "objects[1] indicator--" + u + "502"},
			},
			sum: Summary{Objects: 2, Findings: 3},
		},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			got, problems, sum, err := readAll(t, readTestdata(t, tt.file))
			if err != nil {
				t.Fatalf("Read: %v", err)
			}
			if diff := cmp.Diff(tt.want, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("findings mismatch (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.problems, problems, cmpopts.EquateEmpty(), cmpopts.IgnoreFields(exchange.Problem{}, "Raw")); diff != "" {
				t.Errorf("problems mismatch (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.sum, sum); diff != "" {
				t.Errorf("summary mismatch (-want +got):\n%s", diff)
			}
			for _, p := range problems {
				if p.Where == "" || p.Reason == "" {
					t.Errorf("problem without position or reason: %+v", p)
				}
			}
		})
	}
}

// TestReadProblemRaw checks that a problem carries the object's text, cut
// short, for the person who has to fix the file.
func TestReadProblemRaw(t *testing.T) {
	_, problems, _, err := readAll(t, readTestdata(t, "bad.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(problems) == 0 || !strings.Contains(problems[0].Raw, "https://example.org/no-id") {
		t.Errorf("first problem's Raw = %q, want the object's text", problems[0].Raw)
	}
}

func TestReadNotABundle(t *testing.T) {
	tests := []struct {
		file string
		want string // in the error
	}{
		{"notbundle/array.json", "JSON array"},
		{"notbundle/single-object.json", `STIX object of type "indicator"`},
		{"notbundle/truncated.json", "truncated"},
		{"notbundle/not-json.csv", "not JSON"},
		{"notbundle/no-type.json", `no "type": "bundle"`},
		{"notbundle/objects-not-array.json", `"objects" is not an array`},
		{"notbundle/trailing.json", "after the bundle"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			got, _, _, err := readAll(t, readTestdata(t, tt.file))
			if err == nil {
				t.Fatalf("Read returned no error; want one with %q", tt.want)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not say %q", err, tt.want)
			}
			if len(got) != 0 {
				t.Errorf("%d findings handed on from input that is no bundle", len(got))
			}
		})
	}
	t.Run("empty", func(t *testing.T) {
		if _, _, _, err := readAll(t, nil); err == nil || !strings.Contains(err.Error(), "truncated") {
			t.Errorf("empty input: err = %v", err)
		}
	})
}

// TestReadOversizedObject checks that an object larger than MaxObjectSize
// is a problem at its position and that the objects around it still come
// through.
func TestReadOversizedObject(t *testing.T) {
	var b strings.Builder
	b.WriteString(`{"type":"bundle","id":"bundle--` + u + `701","objects":[`)
	b.WriteString(`{"type":"url","spec_version":"2.1","id":"url--` + u + `702","value":"https://example.org/before"},`)
	b.WriteString(`{"type":"url","spec_version":"2.1","id":"url--` + u + `703","value":"https://example.org/huge","x_padding":[`)
	for i := 0; i < MaxObjectSize/20+10; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`"padding-padding-x"`)
	}
	b.WriteString(`]},`)
	b.WriteString(`{"type":"url","spec_version":"2.1","id":"url--` + u + `704","value":"https://example.org/after"}]}`)
	got, problems, sum, err := readAll(t, []byte(b.String()))
	if err != nil {
		t.Fatal(err)
	}
	var urls []string
	for _, f := range got {
		urls = append(urls, f.URL)
	}
	if diff := cmp.Diff([]string{"https://example.org/before", "https://example.org/after"}, urls); diff != "" {
		t.Errorf("findings mismatch (-want +got):\n%s", diff)
	}
	if len(problems) != 1 || problems[0].Where != "objects[1]" || !strings.Contains(problems[0].Reason, "more than the") {
		t.Errorf("problems = %+v, want one for objects[1] being too large", problems)
	}
	if sum.Objects != 3 || sum.Problems != 1 || sum.Findings != 2 {
		t.Errorf("summary = %+v", sum)
	}
}

// TestReadBounded checks the hand-off before the end of a bundle larger
// than MaxBuffered: findings keep their context when it came first, and
// the summary says how many were handed on early.
func TestReadBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("writes a bundle of MaxBuffered objects")
	}
	var b bytes.Buffer
	b.WriteString(`{"type":"bundle","id":"bundle--` + u + `801","objects":[`)
	b.WriteString(`{"type":"observed-data","spec_version":"2.1","id":"observed-data--` + u + `802","created":"2026-11-24T10:00:00.000Z","modified":"2026-11-24T10:00:00.000Z","first_observed":"2026-11-24T06:00:00Z","last_observed":"2026-11-24T06:00:00Z","number_observed":1,"object_refs":["url--00000000-0000-4000-8000-100000000000"]}`)
	n := MaxBuffered + 10
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, `,{"type":"url","id":"url--00000000-0000-4000-8000-%012d","value":"https://example.org/%d"}`, 100000000000+i, i)
	}
	b.WriteString(`]}`)
	first := true
	var count int
	sum, err := Read(context.Background(), &b, func(f exchange.Finding) error {
		if first && f.FoundAt.IsZero() {
			t.Errorf("first finding lost the context that came before it")
		}
		first = false
		count++
		return nil
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if count != n || sum.Findings != int64(n) {
		t.Errorf("%d findings (summary %d), want %d", count, sum.Findings, n)
	}
	if sum.Flushed == 0 || sum.Flushed >= int64(n) {
		t.Errorf("Flushed = %d, want some but not all of %d", sum.Flushed, n)
	}
}

func TestReadFoundError(t *testing.T) {
	stop := errors.New("stop")
	_, err := Read(context.Background(), bytesReader(readTestdata(t, "observables.json")), func(exchange.Finding) error { return stop }, nil)
	if !errors.Is(err, stop) {
		t.Errorf("err = %v, want the error found returned", err)
	}
}

func TestReadCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := Read(ctx, bytesReader(readTestdata(t, "observables.json")), nil, nil)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
}
