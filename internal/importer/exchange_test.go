package importer

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/takedown-project/takedown"
)

const testBundle = `{
  "type": "bundle",
  "id": "bundle--5d0092c5-5f74-4287-9642-33f4c354e56d",
  "objects": [
    {"type": "url", "spec_version": "2.1", "id": "url--c1477287-23ac-5971-a010-5c287877fa60", "value": "https://t.me/example_channel_17"},
    {"type": "url", "spec_version": "2.1", "id": "url--2f0bd2c6-0d5a-5c1e-9e4f-2d3d1c0e7a11", "value": 42},
    {"type": "observed-data", "spec_version": "2.1", "id": "observed-data--b67d30ff-02ac-498a-92f9-32f845f448cf",
     "created": "2026-11-20T08:00:00.000Z", "modified": "2026-11-20T08:00:00.000Z",
     "first_observed": "2026-11-19T21:15:00.000Z", "last_observed": "2026-11-19T21:15:00.000Z", "number_observed": 1,
     "object_refs": ["url--c1477287-23ac-5971-a010-5c287877fa60"], "labels": ["media-outlet"]},
    {"type": "domain-name", "spec_version": "2.1", "id": "domain-name--3c10e93f-798e-5a26-a0c1-08156efab7f5", "value": "mirror-site.example.org"},
    {"type": "url", "spec_version": "2.1", "id": "url--4f0bd2c6-0d5a-5c1e-9e4f-2d3d1c0e7a12", "value": "not a url at all"}
  ]
}`

const testEvent = `{"Event": {"uuid": "5b2b1e5c-0a1b-4c2d-8e3f-0123456789ab", "info": "Referral action day (synthetic)", "date": "2026-11-20",
  "Attribute": [
    {"uuid": "6c3c2f6d-1b2c-4d3e-9f40-1234567890ab", "type": "url", "category": "Network activity", "value": "https://x.com/example_acct9", "comment": "relay account", "timestamp": "1763631000",
     "Tag": [{"name": "tlp:amber"}]},
    {"uuid": "7d4d3a7e-2c3d-4e4f-a051-234567890abc", "type": "url", "category": "Network activity", "value": ""},
    {"uuid": "8e5e4b8f-3d4e-4f50-b162-34567890abcd", "type": "ip-dst", "category": "Network activity", "value": "192.0.2.7"}
  ],
  "Tag": [{"name": "operation:synthetic"}]}}`

// TestImportDocuments: a STIX bundle and a MISP event, told from JSON
// Lines by their content, go in with their context; their bad records
// are reported by position, and the good ones around them still go in.
func TestImportDocuments(t *testing.T) {
	for _, tc := range []struct {
		name, input string
		format      Format
		want        []string // item identities
		tags        map[string][]string
		rejects     []string // positions
	}{
		{name: "stix", input: testBundle, format: FormatAuto,
			want:    []string{"telegram:example_channel_17", "web:mirror-site.example.org/"},
			tags:    map[string][]string{"telegram:example_channel_17": {"media-outlet"}},
			rejects: []string{"objects[1]", "objects[4]"}},
		{name: "misp", input: testEvent, format: FormatAuto,
			want:    []string{"x:example_acct9"},
			tags:    map[string][]string{"x:example_acct9": {"tlp:amber", "operation:synthetic"}},
			rejects: []string{"Event[0] Attribute[1]"}},
		{name: "misp named", input: testEvent, format: FormatMISP, want: []string{"x:example_acct9"}, rejects: []string{"Event[0] Attribute[1]"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			items := newFakeItems()
			sum, rejects, err := run(t, items, tc.input, tc.format)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			tags := map[string][]string{}
			for id := range items.items {
				got = append(got, id)
			}
			for k, s := range items.subs {
				identity := k[strings.Index(k, "/")+1:]
				if s.FoundAt == nil && tc.name == "stix" && identity == "telegram:example_channel_17" {
					t.Errorf("%s: the observed-data's first_observed was not applied", identity)
				}
				if len(s.Tags) > 0 {
					tags[identity] = s.Tags
				}
			}
			if diff := cmp.Diff(tc.want, got, sortStrings); diff != "" {
				t.Errorf("items mismatch (-want +got):\n%s", diff)
			}
			if tc.tags != nil {
				if diff := cmp.Diff(tc.tags, tags, sortStrings); diff != "" {
					t.Errorf("tags mismatch (-want +got):\n%s", diff)
				}
			}
			var where []string
			for _, r := range rejects {
				if r.Line != 0 || r.Reason == "" {
					t.Errorf("reject %+v: want a position, no line, and a reason", r)
				}
				w, _, _ := strings.Cut(r.Where, " ")
				if strings.HasPrefix(r.Where, "Event") {
					w = strings.Join(strings.Fields(r.Where)[:2], " ")
				}
				where = append(where, w)
			}
			if diff := cmp.Diff(tc.rejects, where); diff != "" {
				t.Errorf("rejects mismatch (-want +got):\n%s", diff)
			}
			if sum.Rejected != int64(len(tc.rejects)) || sum.NewItems != int64(len(tc.want)) || items.calls != 1 {
				t.Errorf("summary %+v after %d stores: want %d new items, %d rejected, one store", sum, items.calls, len(tc.want), len(tc.rejects))
			}
		})
	}
}

// TestImportDocumentAllOrNothing: a bundle that breaks off stores
// nothing, though its first objects were good, and says so.
func TestImportDocumentAllOrNothing(t *testing.T) {
	items := newFakeItems()
	cut := testBundle[:strings.Index(testBundle, `"domain-name"`)]
	_, _, err := run(t, items, cut, FormatAuto)
	if takedown.ErrorCode(err) != takedown.EINVALID || !strings.Contains(err.Error(), "nothing of it was imported") {
		t.Errorf("error %v: want EINVALID saying nothing was imported", err)
	}
	if items.calls != 0 || len(items.items) != 0 {
		t.Errorf("%d stores, %d items after a truncated bundle: want none", items.calls, len(items.items))
	}
}

// TestSniffDocument: the first keys of a JSON document name its format;
// JSON Lines stay JSON Lines.
func TestSniffDocument(t *testing.T) {
	for in, want := range map[string]Format{
		`{"type": "bundle", "id": "bundle--x", "objects": []}`:       FormatSTIX,
		`{"id": "bundle--x", "objects": [`:                           FormatSTIX,
		`{"Event": {"info": "x"}}`:                                   FormatMISP,
		`{"response": [`:                                             FormatMISP,
		`[{"Event": {}}]`:                                            FormatMISP,
		`{"url": "https://t.me/a", "type": "channel"}` + "\n" + `{}`: FormatAuto,
		`{"notes": "` + strings.Repeat("x", 100) + `", "url": "u"}`:  FormatAuto,
		`{"url": "https://t.me/a", "notes": "long and cut`:           FormatAuto,
	} {
		if got := sniffDocument([]byte(in)); got != want {
			t.Errorf("sniffDocument(%.40q) = %q, want %q", in, got, want)
		}
	}
}

var sortStrings = cmpopts.SortSlices(func(a, b string) bool { return a < b })
