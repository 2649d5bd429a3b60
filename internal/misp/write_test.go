package misp

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/google/uuid"
	"github.com/takedown-project/takedown"
	"github.com/takedown-project/takedown/internal/exchange"
)

var (
	testCreated = time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	testOp      = &takedown.Operation{Slug: "rad-2026-11", Name: "Referral action day\nNovember 2026", Status: takedown.OperationOpen}
)

// testItems are an export's items: a Telegram channel with notes, tags
// and an avatar hash, a website that is a bare host, a post with several
// hashes, and a file without submissions.
func testItems() []exchange.ExportItem {
	first := time.Date(2026, 11, 19, 8, 30, 0, 123456789, time.UTC)
	return []exchange.ExportItem{
		{
			Item: &takedown.Item{
				ID: 1, Identity: "telegram:example_channel_17", URL: "https://t.me/example_channel_17",
				Platform: takedown.PlatformTelegram, Kind: takedown.KindChannel, Title: "Example channel 17",
				Status: takedown.ItemConfirmed, FirstSubmittedAt: first,
				Submissions: []*takedown.Submission{
					{Agency: "nl-iru", Notes: "posts the weekly video", Tags: []string{"campaign:example-17", "tlp:amber"}},
					{Agency: "de-iru", Notes: " mirror of example-channel-16 ", Tags: []string{"tlp:amber"}},
					{Agency: "fr-iru", Redacted: true},
				},
			},
			Hashes: []exchange.Hash{
				{Algorithm: "pdq", Value: strings.ToUpper(hashPDQ0), Quality: 87},
				{Algorithm: "tlsh", Value: "T1ABC", Quality: -1}, // no MISP type: left out
				{Algorithm: "pdq", Value: hashPDQ0, Quality: 87}, // the same again
			},
		},
		{
			Item: &takedown.Item{
				ID: 2, Identity: "web:example-17.test", URL: "https://Example-17.test/",
				Platform: takedown.PlatformWeb, Kind: takedown.KindWebsite, Status: takedown.ItemSubmitted,
				FirstSubmittedAt: first.Add(time.Hour),
				Submissions:      []*takedown.Submission{{Agency: "nl-iru"}},
			},
		},
		{
			Item: &takedown.Item{
				ID: 3, Identity: "https://example.org/videos/17?t=3&a=<b>", URL: "https://example.org/videos/17?t=3&a=<b>",
				Platform: takedown.PlatformWeb, Kind: takedown.KindWebsite, Status: takedown.ItemReferred,
				FirstSubmittedAt: first.Add(2 * time.Hour),
				Submissions:      []*takedown.Submission{{Agency: "be-iru", Tags: []string{"a <b> & c"}, Notes: "line one\nline two"}},
			},
			Hashes: []exchange.Hash{
				{Algorithm: "sha256", Value: hashSHA256, Quality: -1},
				{Algorithm: "pdq", Value: hashPDQ1, Quality: -1},
				{Algorithm: "pdq", Value: hashPDQ2, Quality: 0},
			},
		},
		{
			Item: &takedown.Item{
				ID: 4, Identity: "https://example.net/files/poster-17.zip", URL: "https://example.net/files/poster-17.zip",
				Platform: takedown.PlatformWeb, Kind: takedown.KindFile, Status: takedown.ItemSubmitted,
			},
		},
	}
}

func writeExport(t testing.TB, w io.Writer) {
	t.Helper()
	mw, err := NewWriter(w, exchange.Export{Operation: testOp, Created: testCreated})
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range testItems() {
		if err := mw.Write(it); err != nil {
			t.Fatal(err)
		}
	}
	if err := mw.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestRoundTrip writes an operation as a MISP event and reads it back:
// the same URLs, kinds, platforms, titles, tags, notes, times and hashes.
func TestRoundTrip(t *testing.T) {
	var buf bytes.Buffer
	writeExport(t, &buf)
	var got []exchange.Finding
	sum, err := Read(context.Background(), &buf, Options{Hash: func(h exchange.Hash, where string) {
		t.Errorf("hash of no finding at %s: %+v", where, h)
	}}, func(f exchange.Finding) error { got = append(got, f); return nil }, func(p exchange.Problem) {
		t.Errorf("problem: %v", p)
	})
	if err != nil {
		t.Fatal(err)
	}
	event := newUUID("event", testOp.Slug)
	attrs := func(more ...string) map[string]string {
		m := map[string]string{
			"misp_event": event, "misp_category": "Network activity", "misp_object": ObjectName,
			"misp_takedown_operation": "rad-2026-11",
		}
		for i := 0; i < len(more); i += 2 {
			m[more[i]] = more[i+1]
		}
		return m
	}
	first := time.Date(2026, 11, 19, 8, 30, 0, 123456000, time.UTC) // microseconds, as MISP keeps them
	want := []exchange.Finding{
		{
			URL: "https://t.me/example_channel_17", Kind: "channel", Platform: "telegram", Title: "Example channel 17",
			Notes:   "nl-iru: posts the weekly video\n\nde-iru: mirror of example-channel-16",
			Tags:    []string{"campaign:example-17", "tlp:amber"},
			FoundAt: first,
			Attributes: attrs("misp_pdq", hashPDQ0+":87", "misp_takedown_status", "confirmed_offline",
				"misp_takedown_agency", "nl-iru,de-iru,fr-iru"),
			Where: "Event[0] Object[0] Attribute[0] (url)",
		},
		{
			URL: "example-17.test", Kind: "website", Platform: "web", FoundAt: first.Add(time.Hour),
			Attributes: attrs("misp_takedown_status", "submitted", "misp_takedown_agency", "nl-iru"),
			Where:      "Event[0] Object[1] Attribute[0] (domain)",
		},
		{
			URL: "https://example.org/videos/17?t=3&a=<b>", Kind: "website", Platform: "web",
			Notes: "be-iru: line one\nline two", Tags: []string{"a <b> & c"}, FoundAt: first.Add(2 * time.Hour),
			Attributes: attrs("misp_pdq", hashPDQ1+","+hashPDQ2+":0", "misp_sha256", hashSHA256,
				"misp_takedown_status", "referred", "misp_takedown_agency", "be-iru"),
			Where: "Event[0] Object[2] Attribute[0] (url)",
		},
		{
			URL: "https://example.net/files/poster-17.zip", Kind: "file", Platform: "web", FoundAt: testCreated,
			Attributes: attrs("misp_takedown_status", "submitted"),
			Where:      "Event[0] Object[3] Attribute[0] (url)",
		},
	}
	ignoreUUID := cmpopts.IgnoreMapEntries(func(k, _ string) bool { return k == "misp_uuid" })
	if diff := cmp.Diff(want, got, ignoreUUID); diff != "" {
		t.Errorf("mismatch (-want +got):\n%s", diff)
	}
	wantHashes := [][]exchange.Hash{
		{{Algorithm: "pdq", Value: hashPDQ0, Quality: 87}},
		nil,
		{{Algorithm: "pdq", Value: hashPDQ1, Quality: -1}, {Algorithm: "pdq", Value: hashPDQ2, Quality: 0}, {Algorithm: "sha256", Value: hashSHA256, Quality: -1}},
		nil,
	}
	for i, f := range got {
		if diff := cmp.Diff(wantHashes[i], Hashes(f)); diff != "" {
			t.Errorf("hashes of %s mismatch (-want +got):\n%s", f.URL, diff)
		}
	}
	uuids := map[string]bool{}
	for _, f := range got {
		uuids[f.Attributes["misp_uuid"]] = true
	}
	if len(uuids) != len(got) || uuids[""] {
		t.Errorf("attribute UUIDs not one each: %v", uuids)
	}
	if sum.Findings != 4 || sum.Problems != 0 || sum.Ignored != 0 {
		t.Errorf("summary %+v", sum)
	}
}

// TestWriterEvent checks the event as MISP sees it: valid JSON, the same
// UUIDs in every export, the settings and types MISP knows.
func TestWriterEvent(t *testing.T) {
	var a, b bytes.Buffer
	writeExport(t, &a)
	writeExport(t, &b)
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Error("two exports of the same operation differ")
	}
	if !json.Valid(a.Bytes()) {
		t.Fatalf("not valid JSON:\n%s", a.String())
	}
	var doc struct {
		Event struct {
			UUID, Info, Date, Timestamp, Analysis, Distribution string
			ThreatLevelID                                       string `json:"threat_level_id"`
			Published                                           bool
			Tag                                                 []mispTag
			Attribute                                           []mispAttribute
			Object                                              []mispObject
		}
	}
	if err := json.Unmarshal(a.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	ev := doc.Event
	if u, err := uuid.Parse(ev.UUID); err != nil || u.Version() != 5 || ev.UUID != newUUID("event", "rad-2026-11") {
		t.Errorf("event uuid %s", ev.UUID)
	}
	if ev.Info != "Referral action day November 2026" || ev.Date != "2026-11-20" || ev.Timestamp != strconv.FormatInt(testCreated.Unix(), 10) ||
		ev.Analysis != "1" || ev.Distribution != "0" || ev.ThreatLevelID != "4" || ev.Published {
		t.Errorf("event %+v", ev)
	}
	if diff := cmp.Diff([]mispTag{{`takedown:operation="rad-2026-11"`}}, ev.Tag); diff != "" {
		t.Errorf("event tags mismatch (-want +got):\n%s", diff)
	}
	if len(ev.Attribute) != 0 || len(ev.Object) != 4 {
		t.Fatalf("%d attributes, %d objects", len(ev.Attribute), len(ev.Object))
	}
	var types []string
	for _, o := range ev.Object {
		if o.Name != ObjectName || o.UUID == "" || o.TemplateUUID != ev.Object[0].TemplateUUID {
			t.Errorf("object %+v", o)
		}
		for _, at := range o.Attribute {
			types = append(types, at.ObjectRelation+"/"+at.Type+"/"+at.Category)
		}
	}
	wantTypes := []string{
		"url/url/Network activity", "title/text/Other", "pdq/text/Other",
		"domain/domain/Network activity",
		"url/url/Network activity", "sha256/sha256/Payload delivery", "pdq/text/Other", "pdq/text/Other",
		"url/url/Network activity",
	}
	if diff := cmp.Diff(wantTypes, types); diff != "" {
		t.Errorf("attribute types mismatch (-want +got):\n%s", diff)
	}
	main := ev.Object[0].Attribute[0]
	if main.FirstSeen != "2026-11-19T08:30:00.123456+00:00" || main.ToIDs {
		t.Errorf("url attribute %+v", main)
	}
	if pdq := ev.Object[0].Attribute[2]; pdq.Value != hashPDQ0 || pdq.Comment != "quality=87" {
		t.Errorf("pdq attribute %+v", pdq)
	}
	if !strings.Contains(a.String(), `"a <b> & c"`) {
		t.Error("tags are HTML-escaped")
	}
	// Another operation, other UUIDs.
	var c bytes.Buffer
	w, _ := NewWriter(&c, exchange.Export{Operation: &takedown.Operation{Slug: "other", Name: "Other"}, Created: testCreated})
	w.Write(testItems()[0])
	w.Close()
	if strings.Contains(c.String(), ev.UUID) || strings.Contains(c.String(), main.UUID) {
		t.Error("another operation's export has the same UUIDs")
	}
}

func TestWriterErrors(t *testing.T) {
	if _, err := NewWriter(io.Discard, exchange.Export{Created: testCreated}); err == nil {
		t.Error("no error without an operation")
	}
	if _, err := NewWriter(io.Discard, exchange.Export{Operation: testOp}); err == nil {
		t.Error("no error without a time")
	}
	var buf bytes.Buffer
	w, err := NewWriter(&buf, exchange.Export{Operation: testOp, Created: testCreated})
	if err != nil {
		t.Fatal(err)
	}
	good := testItems()[1]
	for _, it := range []exchange.ExportItem{
		{},
		{Item: &takedown.Item{ID: 9}},
		{Item: good.Item, Hashes: []exchange.Hash{{Algorithm: "pdq", Value: "abc"}}},
		{Item: good.Item, Hashes: []exchange.Hash{{Algorithm: "pdq", Value: hashPDQ0, Quality: 101}}},
	} {
		if err := w.Write(it); err == nil {
			t.Errorf("Write(%+v) = nil, want an error", it)
		}
	}
	if err := w.Write(good); err != nil {
		t.Errorf("a good item after bad ones: %v", err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := w.Write(good); err == nil {
		t.Error("Write after Close = nil")
	}
	var n int
	if _, err := Read(context.Background(), &buf, Options{}, func(exchange.Finding) error { n++; return nil }, nil); err != nil || n != 1 {
		t.Errorf("read back %d findings, err %v", n, err)
	}
	fw, _ := NewWriter(failWriter{}, exchange.Export{Operation: testOp, Created: testCreated})
	for range 1000 {
		if err = fw.Write(good); err != nil {
			break
		}
	}
	if err == nil {
		err = fw.Close()
	}
	if !errors.Is(err, errFail) || !errors.Is(fw.Close(), errFail) {
		t.Errorf("err = %v, want the write error, sticky", err)
	}
}

var errFail = errors.New("disk full")

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errFail }

func TestBareHost(t *testing.T) {
	for in, want := range map[string]string{
		"https://Example.org/":       "example.org",
		"http://www.example.net":     "www.example.net",
		"https://example.org/a":      "",
		"https://example.org/?a=1":   "",
		"https://example.org:8443/":  "",
		"https://192.0.2.1/":         "",
		"https://[2001:db8::1]/":     "",
		"https://localhost/":         "",
		"ftp://example.org/":         "",
		"https://user@example.org/":  "",
		"https://example.org/#frag":  "",
		"example.org":                "",
		"https://t.me/example_17":    "",
		"https://example.org:/":      "example.org",
		"https://xn--exmple-cua.org": "xn--exmple-cua.org",
	} {
		if got := bareHost(in); got != want {
			t.Errorf("bareHost(%q) = %q, want %q", in, got, want)
		}
	}
}
