package misp

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/takedown-project/takedown/internal/exchange"
)

// read is what one Read gave.
type read struct {
	findings []exchange.Finding
	problems []exchange.Problem
	hashes   []string // "where: algorithm value quality"
	sum      Summary
	err      error
}

func readString(t *testing.T, input string) read {
	t.Helper()
	var r read
	opts := Options{Hash: func(h exchange.Hash, where string) {
		r.hashes = append(r.hashes, where+": "+h.Algorithm+" "+h.Value+" "+strconv.Itoa(h.Quality))
	}}
	r.sum, r.err = Read(context.Background(), strings.NewReader(input), opts,
		func(f exchange.Finding) error { r.findings = append(r.findings, f); return nil },
		func(p exchange.Problem) { r.problems = append(r.problems, p) })
	return r
}

func readTestdata(t *testing.T, name string) read {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return readString(t, string(b))
}

func unix(sec int64) time.Time { return time.Unix(sec, 0).UTC() }

const (
	event17    = "5b8e6a2c-0f4d-4c1e-9d7a-3e2f1a0b9c17"
	galaxyTag  = `misp-galaxy:example="invented"`
	hashPDQ0   = "d9b958307cd8ac414646a329d2f4da0db1b1fb0c7367b18286489ba5a38a01b0"
	hashPDQ1   = "e8f16982f04cfc56843619aa15d298cf22778591fcf7de2e67fa6b0d1a57ab56"
	hashPDQ2   = "9dbe23065eee4fe09850eaa6183003f9630e70c3d11688bbdc0a219aa3a47f9e"
	hashSHA256 = "3872d96fb46492dec445af9d27547dae497f86b03af2d2c752929aea4489ca4d"
	hashMD5    = "d41d8cd98f00b204e9800998ecf8427e"
)

// TestReadEvent reads an event as MISP exports it (its Tag after its
// attributes and objects): every attribute type takedown reads, objects,
// tags at both levels, deleted and ignored attributes.
func TestReadEvent(t *testing.T) {
	r := readTestdata(t, "event.json")
	if r.err != nil {
		t.Fatal(r.err)
	}
	attrs := func(uuid, category string, more ...string) map[string]string {
		m := map[string]string{"misp_uuid": uuid, "misp_category": category, "misp_event": event17}
		for i := 0; i < len(more); i += 2 {
			m[more[i]] = more[i+1]
		}
		if uuid == "" {
			delete(m, "misp_uuid")
		}
		return m
	}
	eventTags := []string{"tlp:amber", galaxyTag}
	want := []exchange.Finding{
		{
			URL: "https://example.org/videos/17", Notes: "posts the weekly video",
			Tags:       []string{"campaign:example-17", "tlp:amber", galaxyTag},
			FoundAt:    time.Date(2026, 11, 19, 8, 30, 0, 0, time.UTC),
			Attributes: attrs("a0000000-0000-4000-8000-000000000000", "Network activity"),
			Where:      "Event[0] Attribute[0] (url)",
		},
		{
			URL: "https://example.net/report.html", Tags: eventTags, FoundAt: unix(1763600000),
			Attributes: attrs("a0000000-0000-4000-8000-000000000001", "External analysis"),
			Where:      "Event[0] Attribute[1] (link)",
		},
		{
			URL: "example-17.test", Kind: "website", Tags: eventTags, FoundAt: unix(1763631000),
			Attributes: attrs("a0000000-0000-4000-8000-000000000002", "Network activity"),
			Where:      "Event[0] Attribute[2] (domain)",
		},
		{
			URL: "mirror.example.net", Kind: "website", Tags: eventTags, FoundAt: unix(1763631000),
			Attributes: attrs("a0000000-0000-4000-8000-000000000003", "Network activity"),
			Where:      "Event[0] Attribute[3] (hostname)",
		},
		{
			URL: "https://t.me/example_channel_17", Kind: "channel", Platform: "telegram",
			Tags: eventTags, FoundAt: unix(1763631000),
			Attributes: attrs("a0000000-0000-4000-8000-000000000009", "Social network"),
			Where:      "Event[0] Attribute[9] (url)",
		},
		{
			URL:   "https://example.org/post/17",
			Notes: "mirror of example-channel-17\n\nposted daily\n\nbanner changes weekly",
			Tags:  eventTags, FoundAt: unix(1763631000),
			Attributes: attrs("b0000000-0000-4000-8000-000000000001", "Network activity",
				"misp_object", "url", "misp_pdq", hashPDQ1+":70"),
			Where: "Event[0] Object[0] Attribute[0] (url)",
		},
		{
			URL: "https://example.net/files/poster-17.zip", Kind: "file", Tags: eventTags, FoundAt: unix(1763631000),
			Attributes: attrs("b0000000-0000-4000-8000-000000000031", "Payload delivery",
				"misp_object", "file", "misp_sha256", hashSHA256, "misp_md5", hashMD5),
			Where: "Event[0] Object[3] Attribute[1] (url)",
		},
	}
	if diff := cmp.Diff(want, r.findings); diff != "" {
		t.Errorf("findings mismatch (-want +got):\n%s", diff)
	}
	wantHashes := []string{
		"Event[0] Attribute[7] (pdq): pdq " + hashPDQ0 + " 90",
		"Event[0] Object[1] Attribute[1] (text): pdq " + hashPDQ2 + " -1",
	}
	if diff := cmp.Diff(wantHashes, r.hashes); diff != "" {
		t.Errorf("hashes mismatch (-want +got):\n%s", diff)
	}
	wantSum := Summary{Events: 1, Attributes: 20, Findings: 7, Hashes: 2, EventNotes: 2, Deleted: 2, Ignored: 2}
	if diff := cmp.Diff(wantSum, r.sum); diff != "" {
		t.Errorf("summary mismatch (-want +got):\n%s", diff)
	}
	if len(r.problems) != 0 {
		t.Errorf("problems: %v", r.problems)
	}
	if diff := cmp.Diff([]exchange.Hash{{Algorithm: "md5", Value: hashMD5, Quality: -1}, {Algorithm: "sha256", Value: hashSHA256, Quality: -1}}, Hashes(r.findings[6])); diff != "" {
		t.Errorf("Hashes mismatch (-want +got):\n%s", diff)
	}
}

// TestReadForms reads the forms an event comes in: wrapped, bare, in a
// REST search's response, in a list, one after another, and attributes
// from the attribute search.
func TestReadForms(t *testing.T) {
	bare := exchange.Finding{
		URL: "https://example.org/bare/1", Tags: []string{"tlp:green"}, FoundAt: unix(1763700000),
		Attributes: map[string]string{"misp_uuid": "c0000000-0000-4000-8000-000000000000", "misp_category": "Network activity", "misp_event": "5b8e6a2c-0f4d-4c1e-9d7a-3e2f1a0b9c18"},
		Where:      "Event[0] Attribute[0] (url)",
	}
	second := exchange.Finding{
		URL: "cdn.example.net", Kind: "website", Platform: "web", Tags: []string{"tlp:clear"}, FoundAt: unix(1763700100),
		Attributes: map[string]string{"misp_uuid": "c0000000-0000-4000-8000-000000000001", "misp_category": "Network activity", "misp_event": "5b8e6a2c-0f4d-4c1e-9d7a-3e2f1a0b9c19"},
		Where:      "Event[1] Attribute[0] (hostname)",
	}
	bareJSON, _ := os.ReadFile(filepath.Join("testdata", "bare.json"))
	again := bare
	again.Where = "Event[1] Attribute[0] (url)"
	for _, tc := range []struct {
		name, input string
		want        []exchange.Finding
	}{
		{"bare", string(bareJSON), []exchange.Finding{bare}},
		{"wrapped", `{"Event": ` + string(bareJSON) + `}`, []exchange.Finding{bare}},
		{"list", `[{"Event": ` + string(bareJSON) + `}, ` + string(bareJSON) + `]`, []exchange.Finding{bare, again}},
		{"one after another", string(bareJSON) + "\n" + string(bareJSON), []exchange.Finding{bare, again}},
		{"response", file(t, "response.json"), []exchange.Finding{bare, second}},
		{"attribute search", file(t, "attribute_search.json"), []exchange.Finding{{
			URL: "https://example.org/search/hit", Tags: []string{"tlp:amber"}, FoundAt: unix(1763800000),
			Attributes: map[string]string{"misp_uuid": "d0000000-0000-4000-8000-000000000000", "misp_category": "Network activity", "misp_event": "5b8e6a2c-0f4d-4c1e-9d7a-3e2f1a0b9c20"},
			Where:      "Event[0] Attribute[0] (url)",
		}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := readString(t, tc.input)
			if r.err != nil || len(r.problems) != 0 {
				t.Fatalf("err %v, problems %v", r.err, r.problems)
			}
			if diff := cmp.Diff(tc.want, r.findings); diff != "" {
				t.Errorf("mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func file(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestReadBadAttributes reads bad attributes between good ones: each is
// a Problem at its position, and the good ones come through.
func TestReadBadAttributes(t *testing.T) {
	r := readTestdata(t, "bad.json")
	if r.err != nil {
		t.Fatal(r.err)
	}
	want := []struct{ where, reason string }{
		{"Event[0] Attribute[1] (url)", "has no value"},
		{"Event[0] Attribute[2] (url)", "not a string"},
		{"Event[0] Attribute[3] (url)", "blank"},
		{"Event[0] Attribute[4]", "not a JSON object"},
		{"Event[0] Attribute[5]", "has no type"},
		{"Event[0] Attribute[6]", "type is not a string"},
		{"Event[0] Attribute[7] (pdq)", "no pdq hash"},
		{"Event[0] Attribute[8] (domain)", "has no value"},
		{"Event[0] Object[0] Attribute[0] (url)", "blank"},
		{"Event[0] Object[1]", "the object is a string"},
	}
	if len(r.problems) != len(want) {
		t.Errorf("got %d problems, want %d: %v", len(r.problems), len(want), r.problems)
	}
	for i := range min(len(want), len(r.problems)) {
		p := r.problems[i]
		if p.Where != want[i].where || !strings.Contains(p.Reason, want[i].reason) {
			t.Errorf("problem %d = %q: %q, want %q: ...%q...", i, p.Where, p.Reason, want[i].where, want[i].reason)
		}
	}
	var urls []string
	for _, f := range r.findings {
		urls = append(urls, f.URL)
	}
	if diff := cmp.Diff([]string{"https://example.org/good/0", "https://example.org/good/10", "https://example.org/good/object"}, urls); diff != "" {
		t.Errorf("findings mismatch (-want +got):\n%s", diff)
	}
	if !r.findings[1].FoundAt.IsZero() || r.findings[1].Tags != nil {
		t.Errorf("a bad timestamp and Tag should be passed over: %+v", r.findings[1])
	}
	if r.sum.Problems != int64(len(want)) || r.sum.Ignored != 1 {
		t.Errorf("summary %+v", r.sum)
	}
}

func TestReadErrors(t *testing.T) {
	for _, tc := range []struct {
		name, input string
		is          error
		want        string
	}{
		{"truncated", file(t, "truncated.json"), io.ErrUnexpectedEOF, "truncated"},
		{"cut after a value", `{"Event": {"uuid": "x", "Attribute": [{"type": "url", "value": "https://example.org/"}]`, io.ErrUnexpectedEOF, "truncated"},
		{"not JSON", file(t, "invalid.txt"), nil, "not valid JSON"},
		{"no event", file(t, "noevent.json"), ErrNoEvent, ""},
		{"empty response", file(t, "empty_response.json"), ErrNoEvent, ""},
		{"empty", "", ErrNoEvent, ""},
		{"a number", "42", nil, "is a number, not a MISP event"},
		{"garbage after", file(t, "bare.json") + "}", nil, "not valid JSON"},
		{"nested", strings.Repeat(`{"response": [`, 100000), nil, "nested more than"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := readString(t, tc.input)
			if r.err == nil || (tc.is != nil && !errors.Is(r.err, tc.is)) || !strings.Contains(r.err.Error(), tc.want) {
				t.Errorf("err = %v, want %v ...%s...", r.err, tc.is, tc.want)
			}
			if tc.name == "truncated" && len(r.findings) != 0 {
				t.Errorf("the unfinished event gave %d findings", len(r.findings))
			}
		})
	}
}

// TestReadLargeAttribute skips an attribute longer than
// MaxAttributeBytes: a Problem if it is a url, ignored if it is an
// attachment; and stops at a value longer than maxValueBytes.
func TestReadLargeAttribute(t *testing.T) {
	big := strings.Repeat("A", MaxAttributeBytes)
	input := `{"Event": {"uuid": "x", "Tag": [], "Attribute": [
		{"type": "attachment", "value": "poster.png", "data": "` + big + `"},
		{"type": "url", "value": "https://example.org/long", "comment": "` + big + `"},
		{"type": "url", "value": "https://example.org/after"}]}}`
	r := readString(t, input)
	if r.err != nil {
		t.Fatal(r.err)
	}
	if len(r.problems) != 1 || r.problems[0].Where != "Event[0] Attribute[1] (url)" || !strings.Contains(r.problems[0].Reason, "bytes long") {
		t.Errorf("problems %v", r.problems)
	}
	if len(r.findings) != 1 || r.findings[0].URL != "https://example.org/after" || r.sum.Ignored != 1 {
		t.Errorf("findings %v, summary %+v", r.findings, r.sum)
	}

	defer func(n int64) { maxValueBytes = n }(maxValueBytes)
	maxValueBytes = 4 << 20
	r = readString(t, strings.Replace(input, big, big+big+big+big+big, 1))
	if r.err == nil || !strings.Contains(r.err.Error(), "larger than") {
		t.Errorf("err = %v, want a value too large", r.err)
	}
}

// TestReadStreams checks that the findings of an event whose uuid and Tag
// come first go out while the input is still coming.
func TestReadStreams(t *testing.T) {
	input := file(t, "stream.json")
	split := strings.Index(input, `{"type": "url", "value": "https://example.org/stream/1"}`)
	pr, pw := io.Pipe()
	got := make(chan string, 2)
	done := make(chan error, 1)
	go func() {
		_, err := Read(context.Background(), pr, Options{}, func(f exchange.Finding) error {
			got <- f.URL
			return nil
		}, nil)
		done <- err
	}()
	pw.Write([]byte(input[:split]))
	select {
	case u := <-got:
		if u != "https://example.org/stream/0" {
			t.Errorf("first finding %q", u)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no finding before the end of the input")
	}
	pw.Write([]byte(input[split:]))
	pw.Close()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if u := <-got; u != "https://example.org/stream/1" {
		t.Errorf("second finding %q", u)
	}
}

func TestReadStops(t *testing.T) {
	stop := errors.New("stop")
	n := 0
	_, err := Read(context.Background(), strings.NewReader(file(t, "event.json")), Options{},
		func(exchange.Finding) error { n++; return stop }, nil)
	if !errors.Is(err, stop) || n != 1 || !strings.Contains(err.Error(), "Event[0] Attribute[0] (url)") {
		t.Errorf("err = %v after %d findings, want stop after 1", err, n)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = Read(ctx, strings.NewReader(file(t, "event.json")), Options{}, nil, nil)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
}

func FuzzRead(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*"))
	for _, name := range files {
		if b, err := os.ReadFile(name); err == nil {
			f.Add(b)
		}
	}
	var buf bytes.Buffer
	writeExport(f, &buf)
	f.Add(buf.Bytes())
	f.Fuzz(func(t *testing.T, input []byte) {
		opts := Options{Hash: func(h exchange.Hash, where string) {
			if h.Algorithm != "pdq" || !isHex(h.Value, 64) || h.Quality < -1 || h.Quality > 100 || where == "" {
				t.Fatalf("bad hash %+v at %q", h, where)
			}
		}}
		Read(context.Background(), bytes.NewReader(input), opts, func(f exchange.Finding) error {
			if strings.TrimSpace(f.URL) == "" || f.Where == "" {
				t.Fatalf("finding without a URL or place: %+v", f)
			}
			for _, h := range Hashes(f) {
				if !isHex(h.Value, hexLength(h.Algorithm)) {
					t.Fatalf("bad hash %+v", h)
				}
			}
			return nil
		}, func(p exchange.Problem) {
			if p.Where == "" || p.Reason == "" {
				t.Fatalf("problem without a place or reason: %+v", p)
			}
		})
	})
}
