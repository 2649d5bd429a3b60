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
	if format == FormatAuto {
		for _, r := range rejects {
			if r.Where == "" || r.Reason == "" {
				t.Fatalf("reject %+v without position or reason", r)
			}
		}
		return
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
		// Aliased headers: matched, exact beating alias, ambiguous.
		"Link;Type;Account;Comment;Date found\nt.me/abcd_e;channel;abcd_e;x;2026-11-20\n",
		"URL address,Item-Type,Screen.Name,dateFound,Labels\nhttps://t.me/abcd_e,post,abcd_e,2026-11-20,a|b\n",
		"link,url,comment,notes\nhttps://t.me/abcd_f,https://t.me/abcd_e,c,n\n",
		"Link,URL address\nhttps://t.me/abcd_e,https://t.me/abcd_e\n",
		"url,Found at,found_at\nhttps://t.me/abcd_e,2026-11-20,2026-11-20\n",
		"\ufeff Href ;\"Date, seen\";Network\nt.me/abcd_e;2026-11-20;Telegram\n",
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
		`{"link": "https://t.me/abcd_e", "type": "channel", "keywords": ["a"], "dateFound": "2026-11-20"}` + "\n",
		`{"link": "https://t.me/abcd_e", "URL": "https://t.me/abcd_f", "comment": 1}` + "\n",
		`{"link": "https://t.me/abcd_e", "uri": "https://t.me/abcd_f"}` + "\n" + `{"href": "t.me/abcd_e", "date": "x", "timestamp": "y"}`,
		`{"url": "https://t.me/abcd_e", "found at": "2026-11-20", "Found_At": "2026-11-21"}` + "\n",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) { checkImport(t, in, FormatJSONL) })
}

// FuzzParseColumns: no panic; what is accepted names known fields and
// columns, and reads back the same when written out again.
func FuzzParseColumns(f *testing.F) {
	for _, s := range []string{
		`url=Adresse,notes=Bemerkung,found_at="Date seen"`,
		`notes="Remarks, analyst",title="the ""name"""`,
		`"url=Link, main"`,
		`url=a=b, Found-At = x`,
		`url="Link`,
		`url=A,,notes=B`,
		`notes=say "hi"`,
		`url=Link,notes=link`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		cols, err := ParseColumns([]string{in})
		if err != nil {
			if takedown.ErrorCode(err) != takedown.EINVALID {
				t.Fatalf("error that is not an input error: %v", err)
			}
			return
		}
		var pairs []string
		for k, v := range cols {
			if _, ok := knownField[k]; !ok || v == "" || v != strings.TrimSpace(v) {
				t.Fatalf("ParseColumns(%q) = %q", in, cols)
			}
			pairs = append(pairs, k+"="+quoteIfNeeded(v))
		}
		again, err := ParseColumns([]string{strings.Join(pairs, ",")})
		if err != nil || len(again) != len(cols) {
			t.Fatalf("ParseColumns(%q) = %q, written out %q reads back %q, %v", in, cols, pairs, again, err)
		}
		for k, v := range cols {
			if again[k] != v {
				t.Fatalf("ParseColumns(%q) = %q, written out %q reads back %q", in, cols, pairs, again)
			}
		}
	})
}

// FuzzImportAuto: whatever the first bytes, the format is told and the
// rows (of CSV, JSON Lines, a STIX bundle or a MISP event) add up.
func FuzzImportAuto(f *testing.F) {
	for _, s := range []string{testBundle, testEvent, `[{"Event": {"Attribute": [{"type": "link", "value": "t.me/abcd_e"}]}}]`,
		`{"type": "bundle", "objects": [{"type": "url", "id": "url--1", "value": "t.me/abcd_e"}]}`,
		`{"url": "https://t.me/abcd_e"}` + "\n", "url\nhttps://t.me/abcd_e\n", `{"response": {"Attribute": []}}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) { checkImport(t, in, FormatAuto) })
}
