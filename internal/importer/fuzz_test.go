package importer

import (
	"strings"
	"testing"

	"github.com/takedown-project/takedown"
)

// checkImport: no panic; every row is accounted for; every reject has a
// line number within the input.
func checkImport(t *testing.T, in string, format Format) {
	items := newFakeItems()
	sum, rejects, err := run(t, items, in, format)
	if err != nil {
		if takedown.ErrorCode(err) != takedown.EINVALID {
			t.Fatalf("error that is not an input error: %v", err)
		}
		return
	}
	if sum.Rows != sum.NewItems+sum.Merged+sum.Duplicates+sum.Rejected {
		t.Fatalf("rows do not add up: %+v", sum)
	}
	if int64(len(rejects)) != sum.Rejected {
		t.Fatalf("%d rejects reported, summary says %d", len(rejects), sum.Rejected)
	}
	maxLine := int64(strings.Count(in, "\n") + 1)
	for _, r := range rejects {
		if r.Line < 1 || r.Line > maxLine || r.Reason == "" {
			t.Fatalf("reject %+v outside lines 1..%d or without reason", r, maxLine)
		}
	}
}

func FuzzImportCSV(f *testing.F) {
	for _, s := range []string{
		"url\nhttps://t.me/abcd_e\n",
		"url,notes,tags\r\nhttps://t.me/abcd_e,\"a\nb\",x;y\r\nnot a url,,\r\n",
		"\ufeffurl;kind\nt.me/abcd_e;group\n",
		"url,notes\nhttps://t.me/abcd_e,\"never closed\nhttps://t.me/abcd_f,b\n",
		"url,found_at\nhttps://x.com/a_b,2026-11-20\n",
		"",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) { checkImport(t, in, FormatCSV) })
}

func FuzzImportJSONL(f *testing.F) {
	for _, s := range []string{
		`{"url": "https://t.me/abcd_e", "tags": ["a"], "x": 1}` + "\n",
		`{"url": 1}` + "\n\n" + `{"url": "t.me/abcd_e", "found_at": "2026-11-20"}`,
		"{\n",
		"[]\n{}\n",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) { checkImport(t, in, FormatJSONL) })
}
