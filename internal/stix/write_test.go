package stix

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/takedown-project/takedown"
	"github.com/takedown-project/takedown/internal/exchange"
)

var update = flag.Bool("update", false, "rewrite testdata/export.golden.json")

// testExport is an operation with items of several kinds, statuses and
// agencies, with and without notes, tags and hashes. All names are
// invented.
func testExport() (exchange.Export, []exchange.ExportItem) {
	created := ts("2026-11-25T12:00:00Z")
	exp := exchange.Export{
		Operation: &takedown.Operation{Slug: "op-example-2026-11", Name: "Example operation", Status: takedown.OperationOpen, Agencies: []string{"de-example", "nl-example"}},
		Agencies: map[string]*takedown.Agency{
			"nl-example": {Code: "nl-example", Name: "Example Referral Unit NL", Country: "NL", CreatedAt: ts("2026-01-05T08:00:00Z")},
			"de-example": {Code: "de-example", Name: "Example Referral Unit DE", Country: "DE", CreatedAt: ts("2026-01-06T08:00:00Z")},
		},
		Created: created,
	}
	d := func(s string) *time.Time { t := ts(s); return &t }
	items := []exchange.ExportItem{
		{Item: &takedown.Item{
			ID: 1, Identity: "telegram:example_channel_31", URL: "https://t.me/example_channel_31",
			Platform: takedown.PlatformTelegram, Kind: takedown.KindChannel, Handle: "example_channel_31",
			Title: "Example Channel 31", Status: takedown.ItemSubmitted, Provider: "telegram",
			SubmissionCount: 2, FirstSubmittedAt: ts("2026-11-20T09:00:00Z"), LastSubmittedAt: ts("2026-11-21T10:30:00Z"),
			Submissions: []*takedown.Submission{
				{ID: 11, Agency: "nl-example", RawInput: "t.me/example_channel_31", Notes: "Posts daily.", Tags: []string{"recruitment"}, Language: "ar", FoundAt: d("2026-11-19T18:00:00Z"), SubmittedAt: ts("2026-11-20T09:00:00Z")},
				{ID: 12, Agency: "de-example", RawInput: "https://t.me/s/example_channel_31", Notes: "Mirror of a channel removed in October.", Tags: []string{"recruitment", "video"}, SubmittedAt: ts("2026-11-21T10:30:00Z")},
			},
		}},
		{Item: &takedown.Item{
			ID: 2, Identity: "https://site-32.example.net/page", URL: "https://site-32.example.net/page?a=1&b=2",
			Platform: takedown.PlatformWeb, Kind: takedown.KindWebsite, Status: takedown.ItemReferred,
			SubmissionCount: 1, FirstSubmittedAt: ts("2026-11-22T11:00:00Z"), LastSubmittedAt: ts("2026-11-22T11:00:00Z"),
			Submissions: []*takedown.Submission{{ID: 21, Agency: "de-example", RawInput: "site-32.example.net/page", SubmittedAt: ts("2026-11-22T11:00:00Z")}},
		}},
		{Item: &takedown.Item{
			ID: 3, Identity: "https://files.example.org/leaflet-33.pdf", URL: "https://files.example.org/leaflet-33.pdf",
			Platform: takedown.PlatformWeb, Kind: takedown.KindFile, Title: "Leaflet 33", Status: takedown.ItemOffline,
			SubmissionCount: 1, FirstSubmittedAt: ts("2026-11-23T07:15:00.250Z"), LastSubmittedAt: ts("2026-11-23T07:15:00.250Z"),
			Submissions: []*takedown.Submission{{ID: 31, Agency: "nl-example", RawInput: "https://files.example.org/leaflet-33.pdf", Notes: "Same leaflet as in case 12.", Tags: []string{"leaflet"}, SubmittedAt: ts("2026-11-23T07:15:00.250Z")}},
		}, Hashes: []exchange.Hash{
			{Algorithm: "sha256", Value: strings.Repeat("ab", 32), Quality: -1},
			{Algorithm: "md5", Value: strings.Repeat("cd", 16), Quality: -1},
		}},
		{Item: &takedown.Item{
			ID: 4, Identity: "x:example_account_34", URL: "https://x.com/example_account_34",
			Platform: takedown.PlatformX, Kind: takedown.KindAccount, Handle: "example_account_34", Status: takedown.ItemConfirmed,
			SubmissionCount: 1, FirstSubmittedAt: ts("2026-11-24T16:45:00Z"), LastSubmittedAt: ts("2026-11-24T16:45:00Z"),
			Submissions: []*takedown.Submission{{ID: 41, Agency: "fr-example", RawInput: "@example_account_34", Tags: []string{"avatar"}, SubmittedAt: ts("2026-11-24T16:45:00Z")}},
		}, Hashes: []exchange.Hash{{Algorithm: "pdq", Value: strings.Repeat("F0", 32), Quality: 90}}},
	}
	return exp, items
}

// export writes the test export as a bundle.
func export(t testing.TB) []byte {
	t.Helper()
	exp, items := testExport()
	var buf bytes.Buffer
	w, err := NewWriter(&buf, exp)
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range items {
		if err := w.Write(it); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestWriterGolden checks the exported bundle byte for byte, and that
// exporting twice writes the same bundle: identifiers are derived, not
// random. Run with -update to rewrite the golden file after a deliberate
// change, and read the diff.
func TestWriterGolden(t *testing.T) {
	got := export(t)
	if again := export(t); !bytes.Equal(got, again) {
		t.Fatal("exporting twice wrote different bundles")
	}
	if !json.Valid(got) {
		t.Fatalf("bundle is not valid JSON:\n%s", got)
	}
	const golden = "testdata/export.golden.json"
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -update once)", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("bundle mismatch (-want +got):\n%s", diff)
	}
}

func TestWriterEmpty(t *testing.T) {
	exp, _ := testExport()
	exp.Agencies = nil
	var buf bytes.Buffer
	w, err := NewWriter(&buf, exp)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	fs, ps, sum, err := readAll(t, buf.Bytes())
	if err != nil || len(fs) != 0 || len(ps) != 0 || sum.Objects != 1 {
		t.Errorf("reading an empty export: %v findings, %v problems, %+v, %v", fs, ps, sum, err)
	}
	if err := w.Write(exchange.ExportItem{Item: &takedown.Item{URL: "https://example.org/late"}}); err == nil {
		t.Error("Write after Close returned no error")
	}
}

// TestRoundTrip writes items and reads them back: what takedown exports,
// takedown imports as the same findings.
func TestRoundTrip(t *testing.T) {
	data := export(t)
	got, problems, sum, err := readAll(t, data)
	if err != nil {
		t.Fatal(err)
	}
	if len(problems) != 0 {
		t.Errorf("problems reading our own export: %+v", problems)
	}
	urlID := func(s string) string { return scoID("url", "value", s) }
	want := []exchange.Finding{
		{
			URL: "https://t.me/example_channel_31", Kind: "channel", Platform: "telegram", Handle: "example_channel_31",
			Title: "Example Channel 31", Notes: "Posts daily.\n\nMirror of a channel removed in October.", Language: "ar",
			Tags: []string{"recruitment", "video"}, FoundAt: ts("2026-11-20T09:00:00Z"),
			Attributes: attrs("stix_id", urlID("https://t.me/example_channel_31"), "stix_takedown_status", "submitted",
				"stix_takedown_identity", "telegram:example_channel_31", "stix_takedown_provider", "telegram"),
		},
		{
			URL: "https://site-32.example.net/page?a=1&b=2", Kind: "website", Platform: "web", FoundAt: ts("2026-11-22T11:00:00Z"),
			Attributes: attrs("stix_id", urlID("https://site-32.example.net/page?a=1&b=2"), "stix_takedown_status", "referred",
				"stix_takedown_identity", "https://site-32.example.net/page"),
		},
		{
			URL: "https://files.example.org/leaflet-33.pdf", Kind: "file", Platform: "web", Title: "Leaflet 33",
			Notes: "Same leaflet as in case 12.", Tags: []string{"leaflet"}, FoundAt: ts("2026-11-23T07:15:00.250Z"),
			Attributes: attrs("stix_id", urlID("https://files.example.org/leaflet-33.pdf"), "stix_takedown_status", "offline",
				"stix_takedown_identity", "https://files.example.org/leaflet-33.pdf",
				"stix_sha256", strings.Repeat("ab", 32), "stix_md5", strings.Repeat("cd", 16)),
		},
		{
			URL: "https://x.com/example_account_34", Kind: "account", Platform: "x", Handle: "example_account_34",
			Tags: []string{"avatar"}, FoundAt: ts("2026-11-24T16:45:00Z"),
			Attributes: attrs("stix_id", urlID("https://x.com/example_account_34"), "stix_takedown_status", "confirmed_offline",
				"stix_takedown_identity", "x:example_account_34", "stix_pdq", strings.Repeat("f0", 32)),
		},
	}
	if diff := cmp.Diff(want, got, cmpopts.EquateEmpty(), cmpopts.IgnoreFields(exchange.Finding{}, "Where")); diff != "" {
		t.Errorf("mismatch (-want +got):\n%s", diff)
	}
	// Identities (takedown, three agencies), url, file and observed-data
	// per item, and the three notes.
	if wantObjects := int64(4 + 4 + 1 + 4 + 3); sum.Objects != wantObjects || sum.Ignored != 4 {
		t.Errorf("summary %+v, want %d objects of which 4 ignored identities", sum, wantObjects)
	}
}

// TestUUID5 checks the name-based UUID against the example of RFC 9562
// (and Python's uuid module): uuid5(NAMESPACE_DNS, "www.example.com").
func TestUUID5(t *testing.T) {
	dns := mustUUID("6ba7b810-9dad-11d1-80b4-00c04fd430c8")
	if got, want := uuid5(dns, "www.example.com"), "2ed6657d-e927-568b-95e1-2665a8aea6a2"; got != want {
		t.Errorf("uuid5 = %s, want %s", got, want)
	}
}

func TestCanonicalString(t *testing.T) {
	for in, want := range map[string]string{
		"https://example.org/?a=1&b=<2>": `"https://example.org/?a=1&b=<2>"`,
		"quote\" back\\ tab\t nl\n":      `"quote\" back\\ tab\t nl\n"`,
		"\x01\u2028é":                    `"\u0001` + "\u2028é\"",
	} {
		if got := canonicalString(in); got != want {
			t.Errorf("canonicalString(%q) = %s, want %s", in, got, want)
		}
	}
}
