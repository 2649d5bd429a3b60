package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/takedown-project/takedown"
	"github.com/takedown-project/takedown/internal/resurgence"
	"github.com/takedown-project/takedown/internal/sqlite"
)

// madeUpHash is a made-up PDQ hash, one per n, about 128 bits from any
// other.
func madeUpHash(n int) string {
	sum := sha256.Sum256([]byte(fmt.Sprint("example avatar ", n)))
	return hex.EncodeToString(sum[:])
}

// listSeeds is what takedown hashes list --json says.
func listSeeds(t *testing.T, db, op string) []takedown.HashSeed {
	t.Helper()
	var out []takedown.HashSeed
	dec := json.NewDecoder(strings.NewReader(mustRun(t, "--db", db, "hashes", "list", "--operation", op, "--json")))
	for dec.More() {
		var s takedown.HashSeed
		if err := dec.Decode(&s); err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	return out
}

func writeFile(t *testing.T, path, body string) string {
	t.Helper()
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestHashesCommands round-trips hash lists: hex and CSV lists seed an
// operation once, a bad line is reported with its line number while the
// good ones are seeded, and an operation's export as pdq-csv seeds
// another; the watch then flags an item whose avatar matches a seed.
func TestHashesCommands(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	db := filepath.Join(dir, "takedown.db")
	mustRun(t, "--db", db, "agency", "add", "aa-iru", "--name", "Unit A")
	mustRun(t, "--db", db, "agency", "add", "bb-iru", "--name", "Unit B")
	mustRun(t, "--db", db, "operation", "create", "rad-hashes", "--name", "Hashes", "--agencies", "aa-iru")

	hex := writeFile(t, filepath.Join(dir, "logos.txt"), "# a platform's list\n"+
		madeUpHash(1)+"\n"+
		"pdq "+strings.ToUpper(madeUpHash(2))+"\n"+
		madeUpHash(3)+",88,example_logo_3.png\n")
	out := mustRun(t, "--db", db, "hashes", "import", "--operation", "rad-hashes", "--agency", "aa-iru", hex)
	if s := summary(t, out); s["entries read"] != 3 || s["new seeds"] != 3 || s["already seeded"] != 0 || s["rejected"] != 0 {
		t.Errorf("hex import: %v\n%s", s, out)
	}
	seeds := listSeeds(t, db, "rad-hashes")
	var values []string
	for _, s := range seeds {
		values = append(values, s.Value)
	}
	if !slices.Equal(values, []string{madeUpHash(1), madeUpHash(2), madeUpHash(3)}) {
		t.Errorf("seeds %v", values)
	}
	if s := seeds[2]; s.Quality != 88 || s.Source != "example_logo_3.png" || s.Agency != "aa-iru" || seeds[0].Quality != -1 || seeds[0].Source != "import:logos.txt" {
		t.Errorf("seeds as listed: %+v", seeds)
	}
	if table := mustRun(t, "--db", db, "hashes", "list", "--operation", "rad-hashes"); !strings.Contains(table, madeUpHash(3)) || !strings.Contains(table, "example_logo_3.png") {
		t.Errorf("hashes list:\n%s", table)
	}

	// Again: nothing new. The CSV list holds one known hash and a new one.
	out = mustRun(t, "--db", db, "hashes", "import", "--operation", "rad-hashes", "--agency", "aa-iru", "--format", "hex", hex)
	if s := summary(t, out); s["new seeds"] != 0 || s["already seeded"] != 3 {
		t.Errorf("hex import again: %v\n%s", s, out)
	}
	csvList := writeFile(t, filepath.Join(dir, "partner.csv"), "hash,quality,labels,source,url\n"+
		madeUpHash(2)+",,other,partner,\n"+
		madeUpHash(4)+",75,logo;outlet_a,partner,https://files.example/4.png\n")
	out = mustRun(t, "--db", db, "hashes", "import", "--operation", "rad-hashes", "--agency", "aa-iru", csvList)
	if s := summary(t, out); s["entries read"] != 2 || s["new seeds"] != 1 || s["already seeded"] != 1 {
		t.Errorf("csv import: %v\n%s", s, out)
	}
	seeds = listSeeds(t, db, "rad-hashes")
	if len(seeds) != 4 || !slices.Equal(seeds[3].Labels, []string{"logo", "outlet_a"}) || seeds[3].URL != "https://files.example/4.png" || seeds[1].Source != "import:logos.txt" {
		t.Errorf("seeds after the CSV list: %+v", seeds)
	}

	// Bad lines are reported with their line numbers; the good ones are
	// seeded all the same.
	var labels []string
	for i := range 21 {
		labels = append(labels, fmt.Sprint("label_", i))
	}
	labels21 := strings.Join(labels, ";")
	bad := writeFile(t, filepath.Join(dir, "bad.csv"), "hash,labels\n"+
		madeUpHash(5)+",fine\n"+
		"xyz,short\n"+
		madeUpHash(6)+","+labels21+"\n"+
		madeUpHash(7)+",fine\n")
	code, out, errOut := runTakedown(t, "", "--db", db, "hashes", "import", "--operation", "rad-hashes", "--agency", "aa-iru", bad)
	if s := summary(t, out); code != 0 || s["entries read"] != 3 || s["new seeds"] != 2 || s["rejected"] != 2 {
		t.Errorf("import with bad lines: exit %d, %v\n%s\nstderr: %s", code, s, out, errOut)
	}
	if !strings.Contains(errOut, "line 3: a PDQ hash is 64 hex digits") || !strings.Contains(errOut, "line 4: ") || !strings.Contains(errOut, "21 labels") {
		t.Errorf("the bad lines as reported:\n%s", errOut)
	}
	if n := len(listSeeds(t, db, "rad-hashes")); n != 6 {
		t.Errorf("%d seeds after the list with bad lines, want 6", n)
	}
	// An agency outside the operation seeds nothing.
	code, _, errOut = runTakedown(t, "", "--db", db, "hashes", "import", "--operation", "rad-hashes", "--agency", "bb-iru", csvList)
	if code != 1 || !strings.Contains(errOut, "does not take part") {
		t.Errorf("an agency outside the operation: exit %d, %s", code, errOut)
	}
	// Many bad lines: the first 20 are shown.
	var many strings.Builder
	for range 25 {
		many.WriteString("not-a-hash\n")
	}
	code, out, errOut = runTakedown(t, many.String(), "--db", db, "hashes", "import", "--operation", "rad-hashes", "--agency", "aa-iru", "--format", "hex", "-")
	if code != 0 || summary(t, out)["rejected"] != 25 || strings.Count(errOut, "line ") != 20 || !strings.Contains(errOut, "... and 5 more") {
		t.Errorf("25 bad lines: exit %d\n%s\n%s", code, out, errOut)
	}

	// An operation's export as pdq-csv seeds another operation.
	mustRun(t, "--db", db, "operation", "create", "src", "--name", "Source", "--agencies", "aa-iru")
	mustRun(t, "--db", db, "import", "--operation", "src", "--agency", "aa-iru", "../../examples/agency-a.csv")
	ctx := context.Background()
	st, err := sqlite.Open(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	op, err := st.FindOperation(ctx, "src")
	if err != nil {
		t.Fatal(err)
	}
	page, err := st.ListItems(ctx, takedown.ItemFilter{OperationID: op.ID, Limit: 3})
	if err != nil || len(page.Items) < 3 {
		t.Fatalf("items of src: %v", err)
	}
	var sigs []*takedown.ItemSignals
	for i, it := range page.Items[:2] {
		sigs = append(sigs, &takedown.ItemSignals{ItemID: it.ID, At: time.Now(), AvatarPDQ: madeUpHash(100 + i), AvatarQuality: 90 + i})
	}
	if err := st.RecordSignals(ctx, sigs); err != nil {
		t.Fatal(err)
	}
	exported := filepath.Join(dir, "src.csv")
	mustRun(t, "--db", db, "export", "--operation", "src", "--format", "pdq-csv", "--out", exported)
	mustRun(t, "--db", db, "operation", "create", "via-pdq", "--name", "Via PDQ", "--agencies", "bb-iru")
	out = mustRun(t, "--db", db, "hashes", "import", "--operation", "via-pdq", "--agency", "bb-iru", exported)
	if s := summary(t, out); s["entries read"] != 2 || s["new seeds"] != 2 || s["rejected"] != 0 {
		t.Errorf("import of the pdq-csv export: %v\n%s", s, out)
	}
	via := listSeeds(t, db, "via-pdq")
	if len(via) != 2 || via[0].Value != madeUpHash(100) || via[0].Quality != 90 || via[0].Source != "takedown:src" || via[0].URL != page.Items[0].URL ||
		!slices.Contains(via[0].Labels, string(page.Items[0].Platform)) {
		t.Errorf("seeds from the export: %+v", via)
	}

	// Seeded with an item's avatar, src's watch flags the item (and not
	// the one whose avatar is another picture).
	code, _, errOut = runTakedown(t, madeUpHash(100)+"\n", "--db", db, "hashes", "import", "--operation", "src", "--agency", "aa-iru", "-")
	if code != 0 {
		t.Fatalf("seeding src: %s", errOut)
	}
	w := &resurgence.Watcher{Store: st, Operations: st}
	if _, hits, err := w.Match(ctx); err != nil || hits != 1 {
		t.Fatalf("the watch: %d seed hits, %v; want 1", hits, err)
	}
	table := mustRun(t, "--db", db, "hashes", "hits", "--operation", "src")
	if !strings.Contains(table, page.Items[0].URL) || strings.Contains(table, page.Items[1].URL) || !strings.Contains(table, "import:stdin") {
		t.Errorf("hashes hits:\n%s", table)
	}
	var hit takedown.SeedHit
	if err := json.Unmarshal([]byte(mustRun(t, "--db", db, "hashes", "hits", "--operation", "src", "--json")), &hit); err != nil {
		t.Fatal(err)
	}
	if hit.ItemID != page.Items[0].ID || hit.Distance != 0 || hit.Seed.Value != madeUpHash(100) || hit.Item.Status != page.Items[0].Status {
		t.Errorf("the hit as JSON: %+v", hit)
	}
}
