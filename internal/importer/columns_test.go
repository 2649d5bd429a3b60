package importer

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/google/go-cmp/cmp"

	"github.com/takedown-project/takedown"
	"github.com/takedown-project/takedown/internal/canon"
)

// importColumns imports in with the given column mapping and returns what
// was stored, ordered by raw input.
func importColumns(t *testing.T, in string, format Format, cols map[string]string) ([]takedown.Submission, Summary, []Reject, error) {
	t.Helper()
	items := newFakeItems()
	var rejects []Reject
	sum, err := Import(context.Background(), items, strings.NewReader(in), Options{
		OperationID: 1, AgencyID: 7, Source: "import:test", Format: format, Columns: cols,
		Recognize: canon.Recognize, BatchSize: 3, Now: func() time.Time { return testNow },
		Reject: func(r Reject) { rejects = append(rejects, r) },
	})
	var subs []takedown.Submission
	for _, s := range items.subs {
		subs = append(subs, s)
	}
	slices.SortFunc(subs, func(a, b takedown.Submission) int { return strings.Compare(a.RawInput, b.RawInput) })
	return subs, sum, rejects, err
}

// sub is a stored submission with the fields every test shares filled in.
func sub(s takedown.Submission) takedown.Submission {
	s.AgencyID, s.Source, s.SubmittedAt = 7, "import:test", testNow
	return s
}

// fieldValues are a value for each field and what it becomes once stored.
var fieldValues = [numFields]struct {
	in   string
	want func(*takedown.Submission)
}{
	fieldURL:      {"https://t.me/example_chan", func(s *takedown.Submission) { s.RawInput = "https://t.me/example_chan" }},
	fieldKind:     {"channel", func(s *takedown.Submission) { s.DeclaredKind = "channel" }},
	fieldPlatform: {"Telegram", func(s *takedown.Submission) { s.DeclaredPlatform = "Telegram" }},
	fieldHandle:   {"example_chan", func(s *takedown.Submission) { s.DeclaredHandle = "example_chan" }},
	fieldTitle:    {"Example", func(s *takedown.Submission) { s.Title = "Example" }},
	fieldNotes:    {"a note", func(s *takedown.Submission) { s.Notes = "a note" }},
	fieldTags:     {"a;b", func(s *takedown.Submission) { s.Tags = []string{"a", "b"} }},
	fieldLanguage: {"ar", func(s *takedown.Submission) { s.Language = "ar" }},
	fieldFoundAt: {"2026-11-20", func(s *takedown.Submission) {
		s.FoundAt = ptr(time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC))
	}},
}

// spreadsheetName writes an alias the way a spreadsheet header would:
// "date_found" as "Date Found".
func spreadsheetName(alias string) string {
	words := strings.Split(alias, "_")
	for i, w := range words {
		r := []rune(w)
		r[0] = unicode.ToUpper(r[0])
		words[i] = string(r)
	}
	return strings.Join(words, " ")
}

// camelName writes an alias the way a JSON exporter might: "date_found" as
// "dateFound".
func camelName(alias string) string {
	words := strings.Split(alias, "_")
	for i := 1; i < len(words); i++ {
		words[i] = strings.ToUpper(words[i][:1]) + words[i][1:]
	}
	return strings.Join(words, "")
}

// TestEveryAlias imports one row for every alias of every field, as a CSV
// header written like a spreadsheet's and as a camelCase JSON key.
func TestEveryAlias(t *testing.T) {
	t.Parallel()
	for f, aliases := range columnAliases {
		for _, alias := range aliases {
			want := sub(takedown.Submission{})
			fieldValues[fieldURL].want(&want)
			fieldValues[f].want(&want)
			csvIn := "url," + spreadsheetName(alias) + "\n" + fieldValues[fieldURL].in + "," + fieldValues[f].in + "\n"
			obj := map[string]string{"url": fieldValues[fieldURL].in, camelName(alias): fieldValues[f].in}
			if field(f) == fieldURL {
				csvIn = spreadsheetName(alias) + "\n" + fieldValues[f].in + "\n"
				obj = map[string]string{camelName(alias): fieldValues[f].in}
			}
			jsonIn, err := json.Marshal(obj)
			if err != nil {
				t.Fatal(err)
			}
			for _, tt := range []struct {
				format Format
				in     string
			}{{FormatCSV, csvIn}, {FormatJSONL, string(jsonIn)}} {
				t.Run(string(tt.format)+"/"+alias, func(t *testing.T) {
					t.Parallel()
					got, _, rejects, err := importColumns(t, tt.in, tt.format, nil)
					if err != nil {
						t.Fatal(err)
					}
					if diff := cmp.Diff([]takedown.Submission{want}, got); diff != "" {
						t.Errorf("input %q: submissions mismatch (-want +got):\n%s\nrejects: %v", tt.in, diff, rejects)
					}
				})
			}
		}
	}
}

func TestColumnNames(t *testing.T) {
	t.Parallel()
	found := ptr(time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC))
	tests := []struct {
		name    string
		in      string
		format  Format
		columns map[string]string
		want    []takedown.Submission
		rejects map[int64]string
		unused  []string
	}{{
		name: "an agency's export",
		in:   "Link;Type;Account;Comment;Date found;Case\nhttps://t.me/example_chan;channel;example_chan;seen twice;2026-11-20;C-1\n",
		want: []takedown.Submission{sub(takedown.Submission{
			RawInput: "https://t.me/example_chan", DeclaredKind: "channel", DeclaredHandle: "example_chan",
			Notes: "seen twice", FoundAt: found, Attributes: map[string]string{"case": "C-1"},
		})},
	}, {
		name: "every field by an alias in CSV",
		in: "URL address,Item-Type,Service,Screen.Name,Display name,Analyst notes,Labels,LANG,First  seen\n" +
			"https://t.me/example_chan,Channel,Telegram,example_chan,Example,a note,a|b,ar,2026-11-20\n",
		want: []takedown.Submission{sub(takedown.Submission{
			RawInput: "https://t.me/example_chan", DeclaredKind: "channel", DeclaredPlatform: "Telegram",
			DeclaredHandle: "example_chan", Title: "Example", Notes: "a note", Tags: []string{"a", "b"},
			Language: "ar", FoundAt: found,
		})},
	}, {
		name: "every field by an alias in JSON Lines",
		in: `{"link": "https://t.me/example_chan", "type": "channel", "network": "Telegram", "username": "example_chan", ` +
			`"channelTitle": "Example", "remarks": "a note", "keywords": ["a", "b"], "language-code": "ar", "observedAt": "2026-11-20", "ref": "J-1"}`,
		want: []takedown.Submission{sub(takedown.Submission{
			RawInput: "https://t.me/example_chan", DeclaredKind: "channel", DeclaredPlatform: "Telegram",
			DeclaredHandle: "example_chan", Title: "Example", Notes: "a note", Tags: []string{"a", "b"},
			Language: "ar", FoundAt: found, Attributes: map[string]string{"ref": "J-1"},
		})},
	}, {
		name: "a field's own name, however written",
		in:   "\ufeff URL ,Found At,found-AT-x\nhttps://t.me/example_chan,2026-11-20,y\n",
		want: []takedown.Submission{sub(takedown.Submission{
			RawInput: "https://t.me/example_chan", FoundAt: found, Attributes: map[string]string{"found-at-x": "y"},
		})},
	}, {
		name: "exact name beats alias in CSV, whatever the order",
		in:   "link,url,comment,notes,date,found_at\nhttps://t.me/other_chan,https://t.me/example_chan,c,n,2026-01-01,2026-11-20\n",
		want: []takedown.Submission{sub(takedown.Submission{
			RawInput: "https://t.me/example_chan", Notes: "n", FoundAt: found,
			Attributes: map[string]string{"link": "https://t.me/other_chan", "comment": "c", "date": "2026-01-01"},
		})},
	}, {
		name: "exact name beats alias in JSON Lines",
		in:   `{"link": "https://t.me/other_chan", "URL": "https://t.me/example_chan", "comment": "c", "notes": "n"}`,
		want: []takedown.Submission{sub(takedown.Submission{
			RawInput: "https://t.me/example_chan", Notes: "n",
			Attributes: map[string]string{"link": "https://t.me/other_chan", "comment": "c"},
		})},
	}, {
		name: "aliases of different fields side by side",
		in:   "Link,Name,Username,Date\nhttps://t.me/example_chan,Example,example_chan,2026-11-20\n",
		want: []takedown.Submission{sub(takedown.Submission{
			RawInput: "https://t.me/example_chan", Title: "Example", DeclaredHandle: "example_chan", FoundAt: found,
		})},
	}, {
		name: "ambiguous JSON keys reject the object, not the file",
		in: `{"link": "https://t.me/other_chan", "uri": "https://t.me/example_chan"}` + "\n" +
			`{"link": "https://t.me/example_chan", "date": "2026-11-20", "timestamp": "2026-11-21"}` + "\n" +
			`{"url": "https://t.me/example_chan", "found at": "2026-11-20", "found_at": "2026-11-21"}` + "\n" +
			`{"link": "https://t.me/example_chan", "notes": "ok"}` + "\n" +
			`{"notes": "where is the link?"}` + "\n",
		want: []takedown.Submission{sub(takedown.Submission{RawInput: "https://t.me/example_chan", Notes: "ok"})},
		rejects: map[int64]string{
			1: `keys "link" and "uri" both look like the url key; use --columns to say which`,
			2: `keys "date" and "timestamp" both look like the found_at key; use --columns to say which`,
			3: `keys "found at" and "found_at" are both the found_at key; rename one or use --columns to say which`,
			5: `no url key (keys: "notes"); name it url (or link, uri, address, href, ...), or say which key it is with --columns url=NAME`,
		},
	}, {
		name:    "--columns in CSV",
		in:      "Adresse;Bemerkung;Date seen;url;notes\nhttps://t.me/example_chan;a note;2026-11-20;https://t.me/other_chan;n\n",
		columns: map[string]string{"url": "Adresse", "notes": "bemerkung", "found_at": "date  seen"},
		want: []takedown.Submission{sub(takedown.Submission{
			RawInput: "https://t.me/example_chan", Notes: "a note", FoundAt: found,
			Attributes: map[string]string{"url": "https://t.me/other_chan", "notes": "n"},
		})},
	}, {
		name:    "--columns settles ambiguous aliases",
		in:      "Link,URL address,Date,Timestamp\nhttps://t.me/other_chan,https://t.me/example_chan,2026-01-01,2026-11-20\n",
		columns: map[string]string{"url": "URL address", "Found At": "timestamp"},
		want: []takedown.Submission{sub(takedown.Submission{
			RawInput: "https://t.me/example_chan", FoundAt: found,
			Attributes: map[string]string{"link": "https://t.me/other_chan", "date": "2026-01-01"},
		})},
	}, {
		name:    "--columns prefers the name as written to one that only normalises the same",
		in:      "url,Date seen,date_seen\nhttps://t.me/example_chan,2026-11-20,2026-01-01\n",
		columns: map[string]string{"found_at": " Date seen "},
		want: []takedown.Submission{sub(takedown.Submission{
			RawInput: "https://t.me/example_chan", FoundAt: found, Attributes: map[string]string{"date_seen": "2026-01-01"},
		})},
	}, {
		name: "--columns in JSON Lines",
		in: `{"Adresse": "https://t.me/example_chan", "Bemerkung": "a note", "url": "https://t.me/other_chan"}` + "\n" +
			`{"url": "https://t.me/other_chan"}` + "\n",
		columns: map[string]string{"url": "adresse", "notes": "Bemerkung", "found_at": "Gesehen"},
		want: []takedown.Submission{sub(takedown.Submission{
			RawInput: "https://t.me/example_chan", Notes: "a note", Attributes: map[string]string{"url": "https://t.me/other_chan"},
		})},
		rejects: map[int64]string{2: `no url: no key "adresse" (--columns url=adresse)`},
		unused:  []string{"found_at=Gesehen"},
	}, {
		name: "--columns in JSON Lines: the name as written wins, else two matches reject the object",
		in: `{"Adresse": "https://t.me/example_chan", "adresse": "https://t.me/other_chan", "date-seen": "2026-11-20"}` + "\n" +
			`{"adresse": "https://t.me/example_chan", "ADRESSE": "https://t.me/other_chan"}` + "\n" +
			`{"Adresse": "https://t.me/example_chan", "Date-seen": "2026-11-20", "date.seen": "2026-11-20"}` + "\n",
		columns: map[string]string{"url": "Adresse", "found_at": "date seen"},
		want: []takedown.Submission{sub(takedown.Submission{
			RawInput: "https://t.me/example_chan", FoundAt: found, Attributes: map[string]string{"adresse": "https://t.me/other_chan"},
		})},
		rejects: map[int64]string{
			2: `--columns url=Adresse matches both keys "ADRESSE" and "adresse"; write the name exactly as in the file`,
			3: `--columns found_at="date seen" matches both keys "Date-seen" and "date.seen"; write the name exactly as in the file`,
		},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, sum, rejects, err := importColumns(t, tt.in, FormatAuto, tt.columns)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("submissions mismatch (-want +got):\n%s\nrejects: %v", diff, rejects)
			}
			if diff := cmp.Diff(tt.rejects, lines(rejects), emptyMaps); diff != "" {
				t.Errorf("rejects mismatch (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.unused, sum.UnusedColumns); diff != "" {
				t.Errorf("unused columns mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// emptyMaps treats nil and empty maps as equal.
var emptyMaps = cmp.FilterValues(func(a, b map[int64]string) bool { return len(a) == 0 && len(b) == 0 }, cmp.Ignore())

func TestColumnHeaderErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		in      string
		columns map[string]string
		want    string
	}{{
		name: "two url aliases",
		in:   "Link,URL address\nhttps://t.me/example_chan,https://t.me/example_chan\n",
		want: `line 1: columns "Link" and "URL address" both look like the url column; use --columns to say which`,
	}, {
		name: "two found_at aliases after a blank line",
		in:   "\nurl;Date;Date found;notes\n",
		want: `line 2: columns "Date" and "Date found" both look like the found_at column; use --columns to say which`,
	}, {
		name: "one field's name written twice",
		in:   "url,Found at,found_at\n",
		want: `line 1: columns "Found at" and "found_at" are both the found_at column; rename one or use --columns to say which`,
	}, {
		name: "no url column",
		in:   "Account,Comment\nexample_chan,x\n",
		want: `line 1: the header has no url column (columns: "Account", "Comment"); name it url (or link, uri, address, href, ...), or say which column it is with --columns url=NAME`,
	}, {
		name:    "url mapped away",
		in:      "Link,Comment\n",
		columns: map[string]string{"notes": "link"},
		want:    `line 1: the header has no url column (columns: "Link", "Comment"); name it url (or link, uri, address, href, ...), or say which column it is with --columns url=NAME`,
	}, {
		name:    "mapped column not in the header",
		in:      "Link,Comment\n",
		columns: map[string]string{"url": "Adresse"},
		want:    `line 1: --columns url=Adresse: the header has no such column (columns: "Link", "Comment")`,
	}, {
		name:    "mapped column with a space not in the header",
		in:      "url,Comment\n",
		columns: map[string]string{"found_at": "Date seen"},
		want:    `line 1: --columns found_at="Date seen": the header has no such column (columns: "url", "Comment")`,
	}, {
		name:    "mapping that matches two columns",
		in:      "url,Date-seen,date.seen\n",
		columns: map[string]string{"found_at": "date seen"},
		want:    `line 1: --columns found_at="date seen" matches both columns "Date-seen" and "date.seen"; write the name exactly as in the file`,
	}, {
		name: "long names are cut short",
		in:   strings.Repeat("x", 100) + ",y\n",
		want: `line 1: the header has no url column (columns: "` + strings.Repeat("x", 60) + `...", "y"); name it url (or link, uri, address, href, ...), or say which column it is with --columns url=NAME`,
	}, {
		name:    "unknown field",
		in:      "url\n",
		columns: map[string]string{"adress": "Adresse"},
		want:    `--columns: unknown field "adress"; the fields are url, kind, platform, handle, title, notes, tags, language, found_at`,
	}, {
		name:    "one column for two fields",
		in:      "url\n",
		columns: map[string]string{"notes": "Comment", "title": "comment"},
		want:    `--columns: title and notes are both given the column "comment"; one column supplies one field`,
	}, {
		name:    "no column name",
		in:      "url\n",
		columns: map[string]string{"notes": " "},
		want:    `--columns: no column name for notes; want notes=COLUMN`,
	}, {
		name:    "a field given twice",
		in:      "url\n",
		columns: map[string]string{"found_at": "a", "Found At": "b"},
		want:    `--columns: found_at is given twice`,
	}, {
		name: "many columns are cut short",
		in:   "c1,c2,c3,c4,c5,c6,c7,c8,c9,c10,c11,c12,c13,c14,c15,c16,c17,c18,c19,c20,c21,c22\n",
		want: `line 1: the header has no url column (columns: "c1", "c2", "c3", "c4", "c5", "c6", "c7", "c8", "c9", "c10", "c11", "c12", "c13", "c14", "c15", "c16", "c17", "c18", "c19", "c20" and 2 more); name it url (or link, uri, address, href, ...), or say which column it is with --columns url=NAME`,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, _, _, err := importColumns(t, tt.in, FormatAuto, tt.columns)
			if takedown.ErrorCode(err) != takedown.EINVALID {
				t.Fatalf("error %v, want an %s error", err, takedown.EINVALID)
			}
			if diff := cmp.Diff(tt.want, takedown.ErrorMessage(err)); diff != "" {
				t.Errorf("error message mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseColumns(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		values  []string
		want    map[string]string
		wantErr string
	}{
		{name: "none", values: nil, want: map[string]string{}},
		{name: "empty value", values: []string{" "}, want: map[string]string{}},
		{name: "the README's example", values: []string{`url=Adresse,notes=Bemerkung,found_at="Date seen"`},
			want: map[string]string{"url": "Adresse", "notes": "Bemerkung", "found_at": "Date seen"}},
		{name: "quotes taken by the shell", values: []string{`found_at=Date seen`}, want: map[string]string{"found_at": "Date seen"}},
		{name: "comma and quote in a name", values: []string{`notes="Remarks, analyst",title="the ""name"""`},
			want: map[string]string{"notes": "Remarks, analyst", "title": `the "name"`}},
		{name: "equals sign in a name", values: []string{`url=a=b`, `notes="x=y"`}, want: map[string]string{"url": "a=b", "notes": "x=y"}},
		{name: "a whole pair quoted", values: []string{`"url=Link, main"`}, want: map[string]string{"url": "Link, main"}},
		{name: "spaces and field names written loosely", values: []string{` URL = Link , Found-At=Seen`},
			want: map[string]string{"url": "Link", "found_at": "Seen"}},
		{name: "repeated flag", values: []string{"url=A", "notes=B"}, want: map[string]string{"url": "A", "notes": "B"}},
		{name: "unknown field", values: []string{"url=A,adress=B"},
			wantErr: `--columns: unknown field "adress" in "adress=B"; the fields are url, kind, platform, handle, title, notes, tags, language, found_at`},
		{name: "alias as a field", values: []string{"link=A"},
			wantErr: `--columns: unknown field "link" in "link=A"; the fields are url, kind, platform, handle, title, notes, tags, language, found_at`},
		{name: "no equals sign", values: []string{"url"},
			wantErr: `--columns: "url" is not FIELD=COLUMN; write pairs like url=Link,notes="Analyst comment" with the fields url, kind, platform, handle, title, notes, tags, language, found_at`},
		{name: "no field", values: []string{"=Link"},
			wantErr: `--columns: "=Link" is not FIELD=COLUMN; write pairs like url=Link,notes="Analyst comment" with the fields url, kind, platform, handle, title, notes, tags, language, found_at`},
		{name: "empty pair", values: []string{"url=A,,notes=B"}, wantErr: `--columns "url=A,,notes=B": an empty pair between commas`},
		{name: "odd column name", values: []string{"notes=-"}, want: map[string]string{"notes": "-"}},
		{name: "no column", values: []string{"url="}, wantErr: `--columns: no column name in "url="; want FIELD=COLUMN`},
		{name: "empty quoted column", values: []string{`url=""`}, wantErr: `--columns: no column name in "url=\"\""; want FIELD=COLUMN`},
		{name: "field twice", values: []string{"url=A", "URL=B"}, wantErr: `--columns: url is given twice`},
		{name: "column twice", values: []string{"url=Link,notes=link"}, wantErr: `--columns: url and notes are both given the column "Link"; one column supplies one field`},
		{name: "open quote", values: []string{`url="Link`}, wantErr: `--columns "url=\"Link": a quote is not closed`},
		{name: "stray quote", values: []string{`notes=say "hi"`},
			wantErr: `--columns: stray quote in "notes=say \"hi\""; quote the whole column name and double quotes inside it: notes="say ""hi"""`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := ParseColumns(tt.values)
			if tt.wantErr != "" {
				if takedown.ErrorCode(err) != takedown.EINVALID {
					t.Fatalf("error %v, want an %s error", err, takedown.EINVALID)
				}
				if diff := cmp.Diff(tt.wantErr, takedown.ErrorMessage(err)); diff != "" {
					t.Errorf("error message mismatch (-want +got):\n%s", diff)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("columns mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestNormalizeColumn(t *testing.T) {
	t.Parallel()
	tests := map[string]string{
		"url":               "url",
		" URL ":             "url",
		"Date found":        "date_found",
		"date-found":        "date_found",
		"Date.Found":        "date_found",
		"date__found":       "date_found",
		"date - found":      "date_found",
		"dateFound":         "date_found",
		"DATE FOUND":        "date_found",
		"URL address":       "url_address",
		"screenName":        "screen_name",
		"URLs":              "urls",
		"_url_":             "url",
		"Datum\u00a0Fund":   "datum_fund",
		"Ünter-Straße":      "ünter_straße",
		"first seen (UTC)":  "first_seen_(utc)",
		"":                  "",
		" - ":               "",
		"lang2Code":         "lang2_code",
		"analyst\tnotes":    "analyst_notes",
		"Analyst's notes":   "analyst's_notes",
		"seen_at.timestamp": "seen_at_timestamp",
	}
	got := map[string]string{}
	for in := range tests {
		got[in] = normalizeColumn(in)
	}
	if diff := cmp.Diff(tests, got); diff != "" {
		t.Errorf("normalizeColumn mismatch (-want +got):\n%s", diff)
	}
}

// TestAliasTable keeps the table usable: every alias in normalised form,
// none a field's name, none given for two fields (the package's
// initialisation panics on those), and AliasHelp lists them all.
func TestAliasTable(t *testing.T) {
	t.Parallel()
	help := AliasHelp()
	for f, aliases := range columnAliases {
		for _, a := range aliases {
			if got, ok := aliasField[a]; !ok || got != field(f) {
				t.Errorf("alias %q: aliasField gives %v, %v; want %v", a, got, ok, field(f))
			}
			if !strings.Contains(help, " "+a) {
				t.Errorf("AliasHelp does not list %q", a)
			}
		}
	}
	for _, line := range strings.Split(help, "\n") {
		if len(line) > 78 {
			t.Errorf("AliasHelp line longer than 78: %q", line)
		}
	}
}
