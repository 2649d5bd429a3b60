package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// takedown runs the program's command line in-process and returns its exit
// status, stdout and stderr.
func runTakedown(t testing.TB, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(context.Background(), args, strings.NewReader(stdin), &out, &errOut)
	return code, out.String(), errOut.String()
}

// mustRun runs a command that must succeed.
func mustRun(t testing.TB, args ...string) string {
	t.Helper()
	code, out, errOut := runTakedown(t, "", args...)
	if code != 0 {
		t.Fatalf("takedown %s: exit %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), code, out, errOut)
	}
	return out
}

func TestCanonCommand(t *testing.T) {
	t.Parallel()
	in := "https://telegram.me/s/Some_Channel?utm_source=x\nt.me/some_channel\nhello world\n\nhttps://x.com/Example_Account/status/123?s=20\n"
	code, out, errOut := runTakedown(t, in, "canon")
	if code != 2 {
		t.Errorf("exit status %d, want 2 (some lines failed); stderr: %s", code, errOut)
	}
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) != 5 {
		t.Fatalf("got %d output lines for 5 input lines:\n%s", len(lines), out)
	}
	want := []string{
		"https://t.me/some_channel\ttelegram\tchannel\tsome_channel",
		"https://t.me/some_channel\ttelegram\tchannel\tsome_channel",
	}
	for i, w := range want {
		if lines[i] != w {
			t.Errorf("line %d = %q, want %q", i+1, lines[i], w)
		}
	}
	for _, i := range []int{2, 3} {
		if !strings.HasPrefix(lines[i], "error\t") {
			t.Errorf("line %d = %q, want an error line", i+1, lines[i])
		}
	}
	if f := strings.Split(lines[4], "\t"); len(f) != 4 || f[1] != "x" || f[2] != "post" {
		t.Errorf("line 5 = %q, want an x post", lines[4])
	}

	code, out, _ = runTakedown(t, "t.me/some_channel\nnot a url\n", "canon", "--json")
	if code != 2 {
		t.Errorf("--json exit status %d, want 2", code)
	}
	dec := json.NewDecoder(strings.NewReader(out))
	var first, second map[string]any
	if err := dec.Decode(&first); err != nil {
		t.Fatal(err)
	}
	if err := dec.Decode(&second); err != nil {
		t.Fatal(err)
	}
	if first["platform"] != "telegram" || first["identity"] != "telegram:some_channel" || first["input"] != "t.me/some_channel" {
		t.Errorf("first JSON line = %v", first)
	}
	if second["error"] == nil || second["input"] != "not a url" {
		t.Errorf("second JSON line = %v", second)
	}

	if code, _, _ := runTakedown(t, "https://t.me/a_channel\n", "canon"); code != 0 {
		t.Errorf("all lines good: exit status %d, want 0", code)
	}
}

// TestWorkflow walks the README's first session on a SQLite file: agencies,
// an operation, both example imports, a re-import that adds nothing, the
// item list, and the API served on a free port.
func TestWorkflow(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	db := filepath.Join(dir, "takedown.db")
	mustRun(t, "--db", db, "agency", "add", "aa-iru", "--name", "Unit A", "--country", "NL")
	mustRun(t, "--db", db, "agency", "add", "bb-iru", "--name", "Unit B")
	mustRun(t, "--db", db, "operation", "create", "rad-example", "--name", "Example day", "--agencies", "aa-iru,bb-iru")
	if code, _, errOut := runTakedown(t, "", "--db", db, "operation", "create", "rad-example", "--name", "again"); code != 1 || !strings.Contains(errOut, "rad-example") {
		t.Errorf("duplicate operation: exit %d, stderr %q", code, errOut)
	}
	if code, _, errOut := runTakedown(t, "", "--db", db, "import", "--operation", "rad-example", "--agency", "nobody", "../../examples/agency-a.csv"); code != 1 || !strings.Contains(errOut, "nobody") {
		t.Errorf("unknown agency: exit %d, stderr %q", code, errOut)
	}

	rejects := filepath.Join(dir, "rejects.csv")
	out := mustRun(t, "--db", db, "import", "--operation", "rad-example", "--agency", "aa-iru", "--errors", rejects, "../../examples/agency-a.csv")
	a := summary(t, out)
	if a["rows read"] != 14 || a["rows rejected"] != 1 || a["new items"]+a["merged into items"]+a["already submitted"] != 13 {
		t.Errorf("first import summary %v\n%s", a, out)
	}
	rows := readCSV(t, rejects)
	if len(rows) != 2 || rows[1][0] != "14" {
		t.Errorf("rejects file = %v, want a header and line 14", rows)
	}

	out = mustRun(t, "--db", db, "import", "--operation", "rad-example", "--agency", "bb-iru", "../../examples/agency-b.jsonl")
	b := summary(t, out)
	if b["rows read"] != 10 || b["rows rejected"] != 1 || b["merged into items"] < 5 {
		t.Errorf("second import summary %v: the JSON file repeats at least 5 items of the CSV in other forms\n%s", b, out)
	}

	out = mustRun(t, "--db", db, "import", "--operation", "rad-example", "--agency", "aa-iru", "../../examples/agency-a.csv")
	again := summary(t, out)
	if again["new items"] != 0 || again["merged into items"] != 0 || again["already submitted"] != 13 {
		t.Errorf("re-import summary %v, want only known submissions\n%s", again, out)
	}

	// stdin works too, with the format told by content.
	csvIn := "url,notes\nhttps://t.me/s/example_news_relay,from stdin\n"
	code, out, errOut := runTakedown(t, csvIn, "--db", db, "import", "--operation", "rad-example", "--agency", "bb-iru", "-")
	if code != 0 || summary(t, out)["merged into items"] != 1 {
		t.Errorf("stdin import: exit %d\n%s\n%s", code, out, errOut)
	}

	list := mustRun(t, "--db", db, "items", "list", "--operation", "rad-example", "--platform", "telegram", "--json")
	var channel map[string]any
	for _, line := range strings.Split(strings.TrimSpace(list), "\n") {
		var it map[string]any
		if err := json.Unmarshal([]byte(line), &it); err != nil {
			t.Fatalf("items list --json line %q: %v", line, err)
		}
		if it["identity"] == "telegram:example_news_relay" {
			channel = it
		}
	}
	if channel == nil || channel["submission_count"] != float64(4) {
		t.Errorf("the example channel: %v, want 4 submissions (2 from A, 1 from B, 1 from stdin)", channel)
	}

	// The API serves the same database, to a user with a token.
	mustRun(t, "--db", db, "user", "add", "reader-a", "--roles", "analyst", "--agency", "aa-iru", "--no-password")
	token := strings.TrimSpace(mustRun(t, "--db", db, "token", "create", "--user", "reader-a", "--expires", "1d"))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	g := &globals{db: db, logLevel: "info", logFormat: "text", stdin: strings.NewReader(""), stdout: io.Discard, stderr: io.Discard}
	g.logger, _ = newLogger(io.Discard, "info", "text")
	ready := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		done <- serve(ctx, g, &serveOptions{listen: "127.0.0.1:0", jobs: true, ready: func(addr string) { ready <- addr }})
	}()
	var addr string
	select {
	case addr = <-ready:
	case err := <-done:
		t.Fatalf("serve: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not start")
	}
	if resp, err := http.Get("http://" + addr + "/api/v1/operations/rad-example/items"); err != nil || resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("the API without a token: %v %v, want 401", resp.Status, err)
	}
	req, _ := http.NewRequest("GET", "http://"+addr+"/api/v1/operations/rad-example/items?platform=telegram&kind=channel", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var page struct{ Items []map[string]any }
	if err := json.NewDecoder(resp.Body).Decode(&page); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if len(page.Items) != 1 || page.Items[0]["identity"] != "telegram:example_news_relay" {
		t.Errorf("API items = %v", page.Items)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("serve returned %v after shutdown", err)
		}
	case <-time.After(30 * time.Second):
		t.Error("serve did not shut down")
	}
}

// summary reads the counts from an import summary.
func summary(t *testing.T, out string) map[string]int {
	t.Helper()
	m := map[string]int{}
	for _, line := range strings.Split(out, "\n") {
		k, v, ok := strings.Cut(strings.TrimSpace(line), ":")
		if !ok {
			continue
		}
		var n int
		fields := strings.Fields(v)
		if len(fields) == 0 {
			continue
		}
		if _, err := fmt.Sscan(fields[0], &n); err == nil {
			m[k] = n
		}
	}
	return m
}

func readCSV(t *testing.T, path string) [][]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

// TestEnvironment: a TAKEDOWN_* variable sets its flag, and a flag on the
// command line wins. Not parallel: it sets the process environment.
func TestEnvironment(t *testing.T) {
	dir := t.TempDir()
	fromEnv, fromFlag := filepath.Join(dir, "env.db"), filepath.Join(dir, "flag.db")
	t.Setenv("TAKEDOWN_DB", fromEnv)
	mustRun(t, "agency", "add", "env-agency", "--name", "From the environment")
	mustRun(t, "--db", fromFlag, "agency", "add", "flag-agency", "--name", "From the flag")
	if out := mustRun(t, "agency", "list"); !strings.Contains(out, "env-agency") || strings.Contains(out, "flag-agency") {
		t.Errorf("TAKEDOWN_DB database lists:\n%s", out)
	}
	if out := mustRun(t, "--db", fromFlag, "agency", "list"); !strings.Contains(out, "flag-agency") || strings.Contains(out, "env-agency") {
		t.Errorf("--db database lists:\n%s", out)
	}
	// TAKEDOWN_EVIDENCE names the global folder, not operation create's
	// policy flag of the same name.
	t.Setenv("TAKEDOWN_EVIDENCE", filepath.Join(dir, "evidence"))
	if out := mustRun(t, "operation", "create", "env-op", "--name", "Env", "--agencies", "env-agency"); !strings.Contains(out, "evidence: before") {
		t.Errorf("operation create with TAKEDOWN_EVIDENCE set:\n%s", out)
	}
	t.Setenv("TAKEDOWN_LOG_LEVEL", "loud")
	if code, _, errOut := runTakedown(t, "", "agency", "list"); code != 1 || !strings.Contains(errOut, "log-level") {
		t.Errorf("a bad TAKEDOWN_LOG_LEVEL: exit %d, stderr %q", code, errOut)
	}
}

// TestImportColumns: an agency's own column names, through aliases and
// through --columns, and the errors that say what to do when neither fits.
func TestImportColumns(t *testing.T) {
	t.Parallel()
	type stored struct {
		RawInput       string            `json:"raw_input"`
		DeclaredKind   string            `json:"declared_kind"`
		DeclaredHandle string            `json:"declared_handle"`
		Notes          string            `json:"notes"`
		FoundAt        string            `json:"found_at"`
		Attributes     map[string]string `json:"attributes"`
	}
	tests := []struct {
		name       string
		file, in   string
		args       []string
		wantCode   int
		wantStderr []string // substrings
		want       []stored
	}{{
		name: "aliases",
		file: "funde.csv",
		in:   "Link;Type;Account;Comment;Date found\nhttps://t.me/example_news_relay;channel;example_news_relay;seen twice;2026-11-20\n",
		want: []stored{{RawInput: "https://t.me/example_news_relay", DeclaredKind: "channel", DeclaredHandle: "example_news_relay", Notes: "seen twice", FoundAt: "2026-11-20T00:00:00Z"}},
	}, {
		name: "--columns in CSV",
		file: "funde.csv",
		in:   "Adresse;Bemerkung;Date seen;Link\nhttps://t.me/example_news_relay;gesehen;2026-11-20;https://t.me/other_relay\n",
		args: []string{"--columns", `url=Adresse,notes=Bemerkung,found_at="Date seen"`},
		want: []stored{{RawInput: "https://t.me/example_news_relay", Notes: "gesehen", FoundAt: "2026-11-20T00:00:00Z", Attributes: map[string]string{"link": "https://t.me/other_relay"}}},
	}, {
		name: "--columns repeated, as the shell leaves it",
		file: "funde.csv",
		in:   "Adresse;Date seen\nhttps://t.me/example_news_relay;2026-11-20\n",
		args: []string{"--columns", "url=Adresse", "--columns", "found_at=Date seen"},
		want: []stored{{RawInput: "https://t.me/example_news_relay", FoundAt: "2026-11-20T00:00:00Z"}},
	}, {
		name:       "--columns in JSON Lines, with a misspelt key",
		file:       "funde.jsonl",
		in:         `{"Adresse": "https://t.me/example_news_relay", "Bemerkung": "gesehen"}` + "\n",
		args:       []string{"--columns", "url=Adresse,notes=Bemerkungen"},
		wantStderr: []string{"warning: --columns notes=Bemerkungen: no object in the file has that key"},
		want:       []stored{{RawInput: "https://t.me/example_news_relay", Attributes: map[string]string{"Bemerkung": "gesehen"}}},
	}, {
		name:       "no url column",
		file:       "funde.csv",
		in:         "Adresse;Bemerkung\nhttps://t.me/example_news_relay;x\n",
		wantCode:   1,
		wantStderr: []string{`the header has no url column (columns: "Adresse", "Bemerkung")`, "--columns url=NAME"},
	}, {
		name:       "ambiguous aliases",
		file:       "funde.csv",
		in:         "Link,URL address\nhttps://t.me/example_news_relay,https://t.me/example_news_relay\n",
		wantCode:   1,
		wantStderr: []string{`line 1: columns "Link" and "URL address" both look like the url column; use --columns to say which`},
	}, {
		name:       "mapped column not in the header",
		file:       "funde.csv",
		in:         "Link\nhttps://t.me/example_news_relay\n",
		args:       []string{"--columns", "url=Adresse"},
		wantCode:   1,
		wantStderr: []string{`line 1: --columns url=Adresse: the header has no such column (columns: "Link")`},
	}, {
		name:       "unknown field",
		file:       "funde.csv",
		in:         "Link\nhttps://t.me/example_news_relay\n",
		args:       []string{"--columns", "adress=Link"},
		wantCode:   1,
		wantStderr: []string{`unknown field "adress"`, "url, kind, platform, handle, title, notes, tags, language, found_at"},
	}, {
		name:       "malformed pair",
		file:       "funde.csv",
		in:         "Link\nhttps://t.me/example_news_relay\n",
		args:       []string{"--columns", "url"},
		wantCode:   1,
		wantStderr: []string{`--columns: "url" is not FIELD=COLUMN`},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			db := filepath.Join(dir, "takedown.db")
			mustRun(t, "--db", db, "agency", "add", "de-iru", "--name", "Unit D")
			mustRun(t, "--db", db, "operation", "create", "rad-cols", "--name", "Columns", "--agencies", "de-iru")
			path := filepath.Join(dir, tt.file)
			if err := os.WriteFile(path, []byte(tt.in), 0o600); err != nil {
				t.Fatal(err)
			}
			args := append([]string{"--db", db, "import", "--operation", "rad-cols", "--agency", "de-iru", "--progress", "never"}, tt.args...)
			code, out, errOut := runTakedown(t, "", append(args, path)...)
			if code != tt.wantCode {
				t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", code, tt.wantCode, out, errOut)
			}
			for _, s := range tt.wantStderr {
				if !strings.Contains(errOut, s) {
					t.Errorf("stderr %q, want it to mention %q", errOut, s)
				}
			}
			if code != 0 {
				return
			}
			if got := summary(t, out); got["rows read"] != len(tt.want) || got["rows rejected"] != 0 {
				t.Errorf("summary %v, want %d rows and no rejects\n%s", got, len(tt.want), out)
			}
			var got []stored
			list := mustRun(t, "--db", db, "items", "list", "--operation", "rad-cols", "--json")
			for _, line := range strings.Split(strings.TrimSpace(list), "\n") {
				var it struct{ ID int64 }
				if err := json.Unmarshal([]byte(line), &it); err != nil {
					t.Fatalf("items list --json line %q: %v", line, err)
				}
				var item struct{ Submissions []stored }
				if err := json.Unmarshal([]byte(mustRun(t, "--db", db, "items", "show", fmt.Sprint(it.ID))), &item); err != nil {
					t.Fatal(err)
				}
				got = append(got, item.Submissions...)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("stored submissions mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// runMainEnv makes the test binary run takedown's main instead of the
// tests: crash tests start it as a real child process and kill it.
const runMainEnv = "TAKEDOWN_TEST_RUN_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(runMainEnv) == "1" {
		main()
		return
	}
	os.Exit(m.Run())
}
