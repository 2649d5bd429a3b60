package importer

import (
	"bytes"
	"context"
	"encoding/csv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/takedown-project/takedown"
	"github.com/takedown-project/takedown/internal/canon"
)

// fakeItems is an in-memory ItemService that deduplicates the way the
// stores do: by identity, then by submission fingerprint.
type fakeItems struct {
	mu    sync.Mutex
	items map[string]int64
	subs  map[string]takedown.Submission // fingerprint+item -> submission
	calls int
}

func newFakeItems() *fakeItems {
	return &fakeItems{items: map[string]int64{}, subs: map[string]takedown.Submission{}}
}

func (f *fakeItems) Submit(ctx context.Context, op int64, subs []takedown.NewSubmission) ([]takedown.SubmitResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	res := make([]takedown.SubmitResult, len(subs))
	for i, s := range subs {
		if err := s.Validate(); err != nil {
			return nil, err
		}
		id, ok := f.items[s.Item.Identity]
		if !ok {
			id = int64(len(f.items) + 1)
			f.items[s.Item.Identity] = id
		}
		key := s.Submission.Fingerprint() + "/" + s.Item.Identity
		_, known := f.subs[key]
		switch {
		case !ok:
			res[i] = takedown.SubmitResult{ItemID: id, Outcome: takedown.SubmitNewItem}
		case known:
			res[i] = takedown.SubmitResult{ItemID: id, Outcome: takedown.SubmitDuplicate}
			continue
		default:
			res[i] = takedown.SubmitResult{ItemID: id, Outcome: takedown.SubmitMerged}
		}
		f.subs[key] = s.Submission
	}
	return res, nil
}

func (f *fakeItems) FindItem(context.Context, int64) (*takedown.Item, error) { panic("unused") }
func (f *fakeItems) ListItems(context.Context, takedown.ItemFilter) (*takedown.ItemPage, error) {
	panic("unused")
}

var testNow = time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)

func run(t testing.TB, items *fakeItems, input string, format Format) (Summary, []Reject, error) {
	t.Helper()
	var rejects []Reject
	sum, err := Import(context.Background(), items, strings.NewReader(input), Options{
		OperationID: 1, AgencyID: 7, Source: "import:test", Format: format, Recognize: canon.Recognize,
		BatchSize: 3, Now: func() time.Time { return testNow },
		Reject: func(r Reject) { rejects = append(rejects, r) },
	})
	return sum, rejects, err
}

func lines(rejects []Reject) map[int64]string {
	m := map[int64]string{}
	for _, r := range rejects {
		m[r.Line] = r.Reason
	}
	return m
}

func TestImportCSV(t *testing.T) {
	t.Parallel()
	in := "\ufeffURL , Kind,title,notes,tags,language,found_at,case_ref,empty\r\n" +
		"https://t.me/s/Example_Chan?utm_source=x,group,Example,\"a note, with comma\",media;relay| x ,ar,2026-11-20,A-1,\r\n" +
		"t.me/example_chan,,,,,,,A-2,\r\n" +
		"\r\n" +
		"https://x.com/someone_example,account,,\"two\nlines\",,,2026-11-20 10:30,,\r\n" +
		"not a url,,,,,,,,\r\n" +
		"https://x.com/other_example,spaceship,,,,,,,\r\n" +
		"https://x.com/third_example,,,,,,yesterday,,\r\n" +
		"https://x.com/fourth_example,too,many,fields,,,,,,,\r\n" +
		"https://t.me/s/Example_Chan?utm_source=x,group,Example,\"a note, with comma\",media;relay| x ,ar,2026-11-20,A-1,\r\n"
	items := newFakeItems()
	sum, rejects, err := run(t, items, in, FormatAuto)
	if err != nil {
		t.Fatal(err)
	}
	want := Summary{Rows: 8, NewItems: 2, Merged: 1, Duplicates: 1, Rejected: 4}
	if diff := cmp.Diff(want, sum); diff != "" {
		t.Errorf("summary mismatch (-want +got):\n%s", diff)
	}
	wantLines := []int64{7, 8, 9, 10}
	var got []int64
	for _, r := range rejects {
		got = append(got, r.Line)
	}
	if diff := cmp.Diff(wantLines, got); diff != "" {
		t.Errorf("reject lines mismatch (-want +got):\n%s\nrejects: %v", diff, rejects)
	}
	reasons := lines(rejects)
	for line, want := range map[int64]string{7: "not a URL", 8: "unknown kind", 9: "found_at", 10: "has 11 fields, the header has 9"} {
		if !strings.Contains(reasons[line], want) {
			t.Errorf("line %d: reason %q, want it to mention %q", line, reasons[line], want)
		}
	}
	var first takedown.Submission
	for _, s := range items.subs {
		if s.Attributes["case_ref"] == "A-1" {
			first = s
		}
	}
	wantFirst := takedown.Submission{
		AgencyID: 7, RawInput: "https://t.me/s/Example_Chan?utm_source=x", DeclaredKind: "group",
		Title: "Example", Notes: "a note, with comma", Tags: []string{"media", "relay", "x"}, Language: "ar",
		FoundAt: ptr(time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)), Attributes: map[string]string{"case_ref": "A-1"},
		Source: "import:test", SubmittedAt: testNow,
	}
	if diff := cmp.Diff(wantFirst, first); diff != "" {
		t.Errorf("first submission mismatch (-want +got):\n%s", diff)
	}
	// Importing the same file again adds nothing.
	sum2, _, err := run(t, items, in, FormatAuto)
	if err != nil {
		t.Fatal(err)
	}
	if sum2.NewItems != 0 || sum2.Merged != 0 || sum2.Duplicates != 4 || sum2.Rejected != 4 {
		t.Errorf("re-import summary %+v, want only duplicates and the same rejects", sum2)
	}
}

func ptr[T any](v T) *T { return &v }

func TestImportJSONL(t *testing.T) {
	t.Parallel()
	in := `{"url": "https://t.me/Example_Chan", "kind": "channel", "tags": ["a", " b "], "found_at": "2026-11-21T10:00:00Z", "ref": "B-1", "score": 0.5, "meta": {"x": [1, 2]}}

{"url": "https://T.ME/s/example_chan/4512?single", "tags": "c;d"}
{"url": 42}
{"url": "https://x.com/a_example" 
["not", "an", "object"]
{"notes": "no url"}
{"url": "https://x.com/b_example", "kind": null}
`
	items := newFakeItems()
	sum, rejects, err := run(t, items, in, FormatAuto)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(Summary{Rows: 7, NewItems: 3, Rejected: 4}, sum); diff != "" {
		t.Errorf("summary mismatch (-want +got):\n%s\nrejects: %v", diff, rejects)
	}
	reasons := lines(rejects)
	for line, want := range map[int64]string{4: "must be a string", 5: "not a JSON object", 6: "not a JSON object", 7: "no url"} {
		if !strings.Contains(reasons[line], want) {
			t.Errorf("line %d: reason %q, want it to mention %q", line, reasons[line], want)
		}
	}
	for _, s := range items.subs {
		if s.Attributes["ref"] == "B-1" {
			want := map[string]string{"ref": "B-1", "score": "0.5", "meta": `{"x":[1,2]}`}
			if diff := cmp.Diff(want, s.Attributes); diff != "" {
				t.Errorf("attributes mismatch (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff([]string{"a", "b"}, s.Tags); diff != "" {
				t.Errorf("tags mismatch (-want +got):\n%s", diff)
			}
		}
	}
}

func TestImportBrokenFiles(t *testing.T) {
	t.Parallel()
	long := "https://example.org/" + strings.Repeat("a", 10<<20)
	tests := []struct {
		name    string
		in      string
		format  Format
		wantErr string
		want    Summary
		lines   []int64
	}{
		{name: "empty file", in: "", wantErr: "empty file"},
		{name: "blank lines only", in: "\n\n  \n", wantErr: "empty file"},
		{name: "no url column", in: "page,notes\nhttps://t.me/abcd_e,x\n", wantErr: "no url column"},
		{name: "duplicate column", in: "url,URL\nx,y\n", wantErr: "appears twice"},
		{name: "header only", in: "url,notes\n", want: Summary{}},
		{name: "bad UTF-8", in: "url,notes\nhttps://t.me/abcd_e,caf\xe9\nhttps://t.me/abcd_f,ok\n", want: Summary{Rows: 2, NewItems: 1, Rejected: 1}, lines: []int64{2}},
		{name: "wrong column count", in: "url,notes\nhttps://t.me/abcd_e\nhttps://t.me/abcd_f,a,b\nhttps://t.me/abcd_g,ok\n", want: Summary{Rows: 3, NewItems: 1, Rejected: 2}, lines: []int64{2, 3}},
		{name: "missing url value", in: "url,notes\n,just a note\n  ,x\n", want: Summary{Rows: 2, Rejected: 2}, lines: []int64{2, 3}},
		{name: "10 MB line", in: "url,notes\nhttps://t.me/abcd_e,a\n" + long + ",x\nhttps://t.me/abcd_f,b\n", want: Summary{Rows: 3, NewItems: 2, Rejected: 1}, lines: []int64{3}},
		{name: "10 MB JSON line", in: `{"url": "https://t.me/abcd_e"}` + "\n" + `{"url": "` + long + `"}` + "\n" + `{"url": "https://t.me/abcd_f"}`, want: Summary{Rows: 3, NewItems: 2, Rejected: 1}, lines: []int64{2}},
		{name: "unterminated quote", in: "url,notes\nhttps://t.me/abcd_e,\"never closed\nhttps://t.me/abcd_f,b\nhttps://t.me/abcd_g,c\n", want: Summary{Rows: 3, NewItems: 2, Rejected: 1}, lines: []int64{2}},
		{name: "quote inside field", in: "url,notes\nhttps://t.me/abcd_e,say \"hi\"\nhttps://t.me/abcd_f,b\n", want: Summary{Rows: 2, NewItems: 1, Rejected: 1}, lines: []int64{2}},
		{name: "multi-line field keeps numbering", in: "url,notes\nhttps://t.me/abcd_e,\"one\ntwo\nthree\"\nnot a url,x\n", want: Summary{Rows: 2, NewItems: 1, Rejected: 1}, lines: []int64{5}},
		{name: "semicolon separated", in: "url;notes\nhttps://t.me/abcd_e;a, b\n", want: Summary{Rows: 1, NewItems: 1}},
		{name: "tab separated", in: "url\tnotes\nhttps://t.me/abcd_e\ta\n", want: Summary{Rows: 1, NewItems: 1}},
		{name: "no final newline", in: "url\nhttps://t.me/abcd_e", want: Summary{Rows: 1, NewItems: 1}},
		{name: "CSV told as JSONL", in: "url\nhttps://t.me/abcd_e\n", format: FormatJSONL, want: Summary{Rows: 2, Rejected: 2}, lines: []int64{1, 2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			format := tt.format
			if format == "" {
				format = FormatAuto
			}
			sum, rejects, err := run(t, newFakeItems(), tt.in, format)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want one mentioning %q", err, tt.wantErr)
				}
				if takedown.ErrorCode(err) != takedown.EINVALID {
					t.Errorf("error code %q, want %q", takedown.ErrorCode(err), takedown.EINVALID)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, sum); diff != "" {
				t.Errorf("summary mismatch (-want +got):\n%s\nrejects: %v", diff, rejects)
			}
			var got []int64
			for _, r := range rejects {
				got = append(got, r.Line)
				if len(r.Raw) > 400 {
					t.Errorf("reject of line %d carries %d bytes of raw text", r.Line, len(r.Raw))
				}
			}
			if diff := cmp.Diff(tt.lines, got); diff != "" {
				t.Errorf("reject lines mismatch (-want +got):\n%s\nrejects: %v", diff, rejects)
			}
		})
	}
}

func TestRejectWriter(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	w := NewRejectWriter(&buf)
	w.Write(Reject{Line: 3, Reason: "not a URL: \"x\"", Raw: "x,\"y\"\nz"})
	w.Write(Reject{Line: 9, Reason: "bad", Raw: "caf\xe9"})
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	want := [][]string{{"line", "reason", "raw"}, {"3", "not a URL: \"x\"", "x,\"y\"\nz"}, {"9", "bad", "caf\uFFFD"}}
	if diff := cmp.Diff(want, rows); diff != "" {
		t.Errorf("rejects CSV mismatch (-want +got):\n%s", diff)
	}
}

func TestFormatFromName(t *testing.T) {
	t.Parallel()
	for name, want := range map[string]Format{"a.csv": FormatCSV, "A.JSONL": FormatJSONL, "x.ndjson": FormatJSONL, "data": FormatAuto, "-": FormatAuto} {
		if got := FormatFromName(name); got != want {
			t.Errorf("FormatFromName(%q) = %q, want %q", name, got, want)
		}
	}
}
