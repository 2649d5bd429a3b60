package hashlist

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/takedown-project/takedown/internal/exchange"
)

// The invented hashes of the testdata files.
const (
	h0 = "d9b958307cd8ac414646a329d2f4da0db1b1fb0c7367b18286489ba5a38a01b0"
	h1 = "e8f16982f04cfc56843619aa15d298cf22778591fcf7de2e67fa6b0d1a57ab56"
	h2 = "9dbe23065eee4fe09850eaa6183003f9630e70c3d11688bbdc0a219aa3a47f9e"
	h3 = "3872d96fb46492dec445af9d27547dae497f86b03af2d2c752929aea4489ca4d"
	h4 = "38766bdc829c6a011bfcd89e5d666b67c2e6b4fe247dc7ccfa7ac65f0f3df35f"
	h5 = "08f46584139e12989c81092189bf631bbfeafb703b4c321c3e46e180334f7999"
	h6 = "a0d2c0e3aae1f2e9342a1469d23c1fdd87c47a7afa636e6edbd16370818bdc10"
)

func pdqHash(v string, q int) exchange.Hash {
	return exchange.Hash{Algorithm: "pdq", Value: v, Quality: q}
}

// readAll reads input in format and returns what came out.
func readAll(t *testing.T, input string, format Format) ([]Entry, []exchange.Problem, Summary, error) {
	t.Helper()
	var entries []Entry
	var problems []exchange.Problem
	sum, err := Read(strings.NewReader(input), format,
		func(e Entry) error { entries = append(entries, e); return nil },
		func(p exchange.Problem) { problems = append(problems, p) })
	return entries, problems, sum, err
}

func readFile(t *testing.T, name string, format Format) ([]Entry, []exchange.Problem, Summary) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	entries, problems, sum, err := readAll(t, string(b), format)
	if err != nil {
		t.Fatalf("Read(%s): %v", name, err)
	}
	return entries, problems, sum
}

func TestReadHex(t *testing.T) {
	entries, problems, sum := readFile(t, "hex.txt", FormatAuto)
	want := []Entry{
		{Hash: pdqHash(h0, -1), Line: 4},
		{Hash: pdqHash(h1, -1), Line: 5}, // upper case in the file
		{Hash: pdqHash(h2, -1), Line: 6},
		{Hash: pdqHash(h3, -1), Line: 7}, // "pdq HASH", ThreatExchange's file form
	}
	if diff := cmp.Diff(want, entries); diff != "" {
		t.Errorf("entries mismatch (-want +got):\n%s", diff)
	}
	if len(problems) != 0 {
		t.Errorf("problems: %v", problems)
	}
	wantSum := Summary{Format: FormatHex, Lines: 8, Entries: 4, Duplicates: 1}
	if diff := cmp.Diff(wantSum, sum); diff != "" {
		t.Errorf("summary mismatch (-want +got):\n%s", diff)
	}
}

// TestReadPDQHasher reads the pdq-photo-hasher's HASH,QUALITY,FILENAME
// lines, told apart from a CSV header whichever format is asked for.
func TestReadPDQHasher(t *testing.T) {
	want := []Entry{
		{Hash: pdqHash(h0, 100), Source: "images/example-channel-17-avatar.jpg", Line: 1},
		{Hash: pdqHash(h4, 87), Source: "images/banner,with,commas.png", Line: 2},
		{Hash: pdqHash(h5, 0), Source: "images/blank.png", Line: 3},
	}
	for _, f := range []Format{FormatAuto, FormatCSV, FormatHex} {
		entries, problems, sum := readFile(t, "pdq-hasher.txt", f)
		if diff := cmp.Diff(want, entries); diff != "" {
			t.Errorf("%s: entries mismatch (-want +got):\n%s", f, diff)
		}
		if len(problems) != 0 || sum.Format != FormatHex || sum.Entries != 3 {
			t.Errorf("%s: problems %v, summary %+v", f, problems, sum)
		}
	}
}

func TestReadCSV(t *testing.T) {
	entries, problems, sum := readFile(t, "list.csv", FormatAuto)
	want := []Entry{
		{Hash: pdqHash(h0, 90), Labels: []string{"avatar", "tlp:amber"}, Source: "nl-iru", URL: "https://t.me/example_channel_17", Line: 2},
		{Hash: pdqHash(h4, -1), Labels: []string{"poster", "campaign-x"}, Source: "de-iru", URL: "https://example.org/poster.png", Line: 3},
		{Hash: pdqHash(h5, 55), Line: 4},
		{Hash: pdqHash(h6, 100), Source: "source, with comma", URL: "https://example.net/a,b", Line: 5},
	}
	if diff := cmp.Diff(want, entries); diff != "" {
		t.Errorf("entries mismatch (-want +got):\n%s", diff)
	}
	if len(problems) != 0 || sum.Format != FormatCSV || sum.Entries != 4 {
		t.Errorf("problems %v, summary %+v", problems, sum)
	}
}

// TestReadThreatExchangeCSV reads "threatexchange dataset -P --csv":
// other signal types and false positives are skipped, tags split on
// spaces.
func TestReadThreatExchangeCSV(t *testing.T) {
	entries, problems, sum := readFile(t, "threatexchange.csv", FormatCSV)
	want := []Entry{
		{Hash: pdqHash(h0, -1), Labels: []string{"media_type_photo", "example_tag"}, Source: "Sample Data", Line: 2},
		{Hash: pdqHash(h2, -1), Source: "Sample Data", Line: 5},
	}
	if diff := cmp.Diff(want, entries); diff != "" {
		t.Errorf("entries mismatch (-want +got):\n%s", diff)
	}
	if len(problems) != 0 || sum.Skipped != 2 {
		t.Errorf("problems %v, summary %+v", problems, sum)
	}
}

type wantProblem struct{ where, reason string }

func checkProblems(t *testing.T, got []exchange.Problem, want []wantProblem) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("got %d problems, want %d: %v", len(got), len(want), got)
	}
	for i := range min(len(got), len(want)) {
		if got[i].Where != want[i].where || !strings.Contains(got[i].Reason, want[i].reason) {
			t.Errorf("problem %d = %q: %q, want %q: ...%q...", i, got[i].Where, got[i].Reason, want[i].where, want[i].reason)
		}
		if got[i].Raw == "" {
			t.Errorf("problem %d has no raw line", i)
		}
	}
}

func TestReadBadLines(t *testing.T) {
	entries, problems, sum := readFile(t, "bad.txt", FormatAuto)
	checkProblems(t, problems, []wantProblem{
		{"line 3", "64 hex digits, not 63"},
		{"line 4", `'x' at position 64`},
		{"line 6", `quality "101"`},
		{"line 7", "no quality"},
		{"line 9", "one PDQ hash"},
	})
	var got []string
	for _, e := range entries {
		got = append(got, e.Hash.Value)
	}
	if diff := cmp.Diff([]string{h0, h3, h4}, got); diff != "" {
		t.Errorf("hashes mismatch (-want +got):\n%s", diff)
	}
	if sum.Problems != 5 || sum.Skipped != 1 || sum.Entries != 3 {
		t.Errorf("summary %+v", sum)
	}
}

func TestReadBadCSV(t *testing.T) {
	entries, problems, _ := readFile(t, "bad.csv", FormatAuto)
	checkProblems(t, problems, []wantProblem{
		{"line 3", "no hash"},
		{"line 4", "not 60"},
		{"line 5", `quality "high"`},
		{"line 6", "not a CSV row"},
		{"line 7", `quality "-1"`},
	})
	if len(entries) != 2 || entries[0].Hash.Value != h0 || entries[1].Hash.Value != h5 || entries[1].Line != 8 {
		t.Errorf("entries %+v", entries)
	}
}

func TestReadLongLine(t *testing.T) {
	input := strings.Repeat("a", MaxLineLength+10) + "\n" + h1 + "\n"
	entries, problems, _, err := readAll(t, input, FormatHex)
	if err != nil {
		t.Fatal(err)
	}
	checkProblems(t, problems, []wantProblem{{"line 1", "longer than"}})
	if len(entries) != 1 || entries[0].Line != 2 {
		t.Errorf("entries %+v", entries)
	}
}

func TestReadErrors(t *testing.T) {
	for _, tc := range []struct {
		name, input string
		format      Format
		want        string
	}{
		{"empty", "", FormatAuto, "no hash list"},
		{"comments only", "# nothing\n\n", FormatCSV, "no hash list"},
		{"no hash column", "url,labels\nhttps://example.org,x\n", FormatAuto, "hash column"},
		{"hash twice", "hash,pdq\n" + h0 + "," + h0 + "\n", FormatCSV, "twice"},
		{"unknown format", h0, "stix", "unknown format"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, _, err := readAll(t, tc.input, tc.format)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want ...%s...", err, tc.want)
			}
		})
	}
	_, _, _, err := readAll(t, "\n# x\n", FormatAuto)
	if !errors.Is(err, ErrEmpty) {
		t.Errorf("err = %v, want ErrEmpty", err)
	}
}

func TestReadFoundError(t *testing.T) {
	stop := errors.New("stop")
	n := 0
	_, err := Read(strings.NewReader(h0+"\n"+h1+"\n"), FormatHex, func(Entry) error { n++; return stop }, nil)
	if !errors.Is(err, stop) || n != 1 {
		t.Errorf("err = %v after %d entries, want stop after 1", err, n)
	}
}

func TestWriteRoundTrip(t *testing.T) {
	entries := []Entry{
		{Hash: pdqHash(h0, 90), Labels: []string{"avatar", "tlp:amber"}, Source: "nl-iru", URL: "https://t.me/example_channel_17"},
		{Hash: pdqHash(strings.ToUpper(h1), -1), Labels: []string{"two words"}, Source: `a "quoted", source`},
		{Hash: exchange.Hash{Value: h2, Quality: 0}, URL: "https://example.org/x?a=1,2"},
	}
	for _, f := range []Format{FormatCSV, FormatHex} {
		t.Run(string(f), func(t *testing.T) {
			var buf bytes.Buffer
			w, err := NewWriter(&buf, f)
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range entries {
				if err := w.Write(e); err != nil {
					t.Fatal(err)
				}
			}
			if err := w.Flush(); err != nil {
				t.Fatal(err)
			}
			got, problems, sum, err := readAll(t, buf.String(), FormatAuto)
			if err != nil || len(problems) != 0 || sum.Format != f {
				t.Fatalf("read back: %v, %v, %+v\n%s", err, problems, sum, buf.String())
			}
			var want []Entry
			for i, e := range entries {
				e.Hash.Algorithm, e.Hash.Value, e.Line = "pdq", strings.ToLower(e.Hash.Value), int64(i+2)
				if f == FormatHex {
					e = Entry{Hash: pdqHash(e.Hash.Value, -1), Line: e.Line}
				}
				want = append(want, e)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("mismatch (-want +got):\n%s\n%s", diff, buf.String())
			}
		})
	}
}

func TestWriteRejects(t *testing.T) {
	var buf bytes.Buffer
	w, err := NewWriter(&buf, FormatCSV)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range []Entry{
		{Hash: pdqHash(h0[:62], 1)},
		{Hash: exchange.Hash{Algorithm: "md5", Value: h0}},
		{Hash: pdqHash(h0, 101)},
		{Hash: pdqHash(h0, 1), Labels: []string{"a;b"}},
		{Hash: pdqHash(h0, 1), Source: "two\nlines"},
	} {
		if err := w.Write(e); err == nil {
			t.Errorf("Write(%+v) = nil, want an error", e)
		}
	}
	if err := w.Write(Entry{Hash: pdqHash(h0, 1)}); err != nil {
		t.Errorf("a good entry after bad ones: %v", err)
	}
	w.Flush()
	if want := "hash,quality,labels,source,url\n" + h0 + ",1,,,\n"; buf.String() != want {
		t.Errorf("wrote %q, want %q", buf.String(), want)
	}
	if _, err := NewWriter(&buf, FormatAuto); err == nil {
		t.Error("NewWriter(auto) = nil error")
	}
}

func FuzzRead(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*"))
	for _, name := range files {
		if b, err := os.ReadFile(name); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte("hash\n" + h0))
	f.Fuzz(func(t *testing.T, input []byte) {
		var entries []Entry
		seen := map[string]bool{}
		_, err := Read(bytes.NewReader(input), FormatAuto, func(e Entry) error {
			if !isHex(e.Hash.Value, 64) || e.Hash.Value != strings.ToLower(e.Hash.Value) || e.Hash.Algorithm != "pdq" {
				t.Fatalf("bad hash %+v", e.Hash)
			}
			if e.Hash.Quality < -1 || e.Hash.Quality > 100 {
				t.Fatalf("bad quality %d", e.Hash.Quality)
			}
			if seen[e.Hash.Value] {
				t.Fatalf("hash %s passed twice", e.Hash.Value)
			}
			seen[e.Hash.Value] = true
			entries = append(entries, e)
			return nil
		}, func(p exchange.Problem) {
			if p.Where == "" || p.Reason == "" {
				t.Fatalf("problem without a place or reason: %+v", p)
			}
		})
		if err != nil {
			return
		}
		// What was read writes out as CSV and reads back the same.
		var buf bytes.Buffer
		w, _ := NewWriter(&buf, FormatCSV)
		var want []Entry
		for _, e := range entries {
			if w.Write(e) == nil {
				e.Line = int64(len(want) + 2)
				want = append(want, e)
			}
		}
		w.Flush()
		var got []Entry
		if _, err := Read(&buf, FormatCSV, func(e Entry) error { got = append(got, e); return nil }, nil); err != nil {
			t.Fatalf("read back: %v", err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Fatalf("round trip mismatch (-want +got):\n%s", diff)
		}
	})
}
