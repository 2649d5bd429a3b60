package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// exchangedItem is what a round trip through an exchange format keeps
// of an item.
type exchangedItem struct {
	Identity, Kind, Platform, Title string
	Tags                            []string
}

// exchangedItems lists an operation's items with the tags and found
// times of their submissions.
func exchangedItems(t *testing.T, db, op string) map[string]exchangedItem {
	t.Helper()
	type listed struct {
		ID                              int64
		Identity, Kind, Platform, Title string
	}
	var list []listed
	for line := range strings.Lines(mustRun(t, "--db", db, "items", "list", "--operation", op, "--limit", "0", "--json")) {
		var it listed
		if err := json.Unmarshal([]byte(line), &it); err != nil {
			t.Fatal(err)
		}
		list = append(list, it)
	}
	out := map[string]exchangedItem{}
	for _, it := range list {
		var full struct {
			Submissions []struct{ Tags []string }
		}
		if err := json.Unmarshal([]byte(mustRun(t, "--db", db, "items", "show", strconv.FormatInt(it.ID, 10))), &full); err != nil {
			t.Fatal(err)
		}
		e := exchangedItem{Identity: it.Identity, Kind: it.Kind, Platform: it.Platform, Title: it.Title}
		for _, s := range full.Submissions {
			e.Tags = append(e.Tags, s.Tags...)
		}
		slices.Sort(e.Tags)
		e.Tags = slices.Compact(e.Tags)
		out[it.Identity] = e
	}
	return out
}

// TestExchangeRoundTrip: an operation exported as a STIX bundle and as
// a MISP event and imported by another agency into operations of their
// own gives the same items (identity, kind, platform, title) with the
// same tags; the bundle holds no notes unless asked; importing the same
// file again adds nothing.
func TestExchangeRoundTrip(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	db := filepath.Join(dir, "takedown.db")
	mustRun(t, "--db", db, "agency", "add", "aa-iru", "--name", "Unit A")
	mustRun(t, "--db", db, "agency", "add", "bb-iru", "--name", "Unit B")
	mustRun(t, "--db", db, "agency", "add", "cc-iru", "--name", "Unit C")
	mustRun(t, "--db", db, "operation", "create", "src", "--name", "Source", "--agencies", "aa-iru,bb-iru")
	mustRun(t, "--db", db, "import", "--operation", "src", "--agency", "aa-iru", "../../examples/agency-a.csv")
	mustRun(t, "--db", db, "import", "--operation", "src", "--agency", "bb-iru", "../../examples/agency-b.jsonl")
	want := exchangedItems(t, db, "src")
	if len(want) < 10 {
		t.Fatalf("%d items in the source operation", len(want))
	}
	for _, format := range []string{"stix", "misp"} {
		t.Run(format, func(t *testing.T) {
			file := filepath.Join(dir, "src."+format+".json")
			mustRun(t, "--db", db, "export", "--operation", "src", "--format", format, "--out", file)
			body, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(string(body), "main distribution channel") {
				t.Errorf("the %s export holds a submission's notes without --notes", format)
			}
			op := "via-" + format
			mustRun(t, "--db", db, "operation", "create", op, "--name", "Via "+format, "--agencies", "cc-iru")
			out := mustRun(t, "--db", db, "import", "--operation", op, "--agency", "cc-iru", file)
			if s := summary(t, out); s["new items"] != len(want) || s["rows rejected"] != 0 {
				t.Errorf("import of the %s export: %v, want %d new items\n%s", format, s, len(want), out)
			}
			if diff := cmp.Diff(want, exchangedItems(t, db, op)); diff != "" {
				t.Errorf("items after the %s round trip mismatch (-want +got):\n%s", format, diff)
			}
			again := summary(t, mustRun(t, "--db", db, "import", "--operation", op, "--agency", "cc-iru", file))
			if again["new items"] != 0 || again["merged into items"] != 0 {
				t.Errorf("importing the %s export again: %v, want nothing new", format, again)
			}
			with := filepath.Join(dir, "notes."+format+".json")
			mustRun(t, "--db", db, "export", "--operation", "src", "--format", format, "--notes", "--out", with)
			if body, _ := os.ReadFile(with); !strings.Contains(string(body), "main distribution channel") {
				t.Errorf("the %s export with --notes lacks a submission's notes", format)
			}
		})
	}
}
