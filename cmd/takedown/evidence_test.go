package main

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/takedown-project/takedown/internal/simnet"
)

// Items captured from the simulated internet, exported as a package that
// verifies, against the chain too; a package with one byte changed, or a
// file removed, or a file added, fails with a message naming it.
func TestEvidenceCaptureExportVerify(t *testing.T) {
	t.Parallel()
	srv, dir, info, db := simnetOperation(t, "before")
	items := listItems(t, db, "rad-1")
	removed := items[0]
	if err := srv.SetStatus(removed.URL, simnet.StatusRemoved); err != nil {
		t.Fatal(err)
	}

	code, out, errOut := runTakedown(t, "", "--db", db, "evidence", "capture", "--operation", "rad-1", "--simnet", info, "--progress", "never",
		"--probe-rate", "500", "--probe-per-host", "16", "--capture-concurrency", "16")
	if code != 0 {
		t.Fatalf("capture: exit %d\n%s%s", code, out, errOut)
	}
	if !strings.Contains(out, strconv.Itoa(len(items))+" items captured") || !regexp.MustCompile(`(?m)^failed\s+removed\s+\d+$`).MatchString(out) ||
		!regexp.MustCompile(`(?m)^captured\s+-\s+\d+$`).MatchString(out) {
		t.Errorf("capture summary:\n%s", out)
	}
	// The store is beside the database, named by hash.
	warcs, _ := filepath.Glob(filepath.Join(dir, "t.evidence", "??", "*.warc.gz"))
	if len(warcs) == 0 {
		t.Fatal("no WARC file in t.evidence")
	}

	pkg := filepath.Join(dir, "pkg")
	code, out, errOut = runTakedown(t, "", "--db", db, "evidence", "export", "--operation", "rad-1", "--out", pkg)
	if code != 0 {
		t.Fatalf("export: exit %d\n%s%s", code, out, errOut)
	}
	one := filepath.Join(dir, "one")
	mustRun(t, "--db", db, "evidence", "export", "--item", strconv.FormatInt(removed.ID, 10), "--out", one)
	for _, p := range []string{pkg, one} {
		for _, args := range [][]string{{"evidence", "verify", p}, {"--db", db, "evidence", "verify", "--chain", p}} {
			code, out, errOut := runTakedown(t, "", args...)
			if code != 0 || !strings.Contains(out, "verifies") {
				t.Fatalf("verify %v: exit %d\n%s%s", args, code, out, errOut)
			}
		}
	}
	if b, _ := os.ReadFile(filepath.Join(one, "items", strconv.FormatInt(removed.ID, 10)+".json")); !strings.Contains(string(b), `"reason": "removed"`) {
		t.Errorf("the removed item's record does not say its capture found it removed:\n%.2000s", b)
	}
	if code, _, errOut := runTakedown(t, "", "--db", db, "evidence", "export", "--item", strconv.FormatInt(removed.ID, 10), "--out", one); code == 0 || !strings.Contains(errOut, "not empty") {
		t.Errorf("export into a package's folder: exit %d, %s", code, errOut)
	}

	// Tampering.
	warcsInPkg, _ := filepath.Glob(filepath.Join(pkg, "warc", "*.warc.gz"))
	if len(warcsInPkg) < 2 {
		t.Fatalf("%d WARC files in the package", len(warcsInPkg))
	}
	b, _ := os.ReadFile(warcsInPkg[0])
	b[len(b)/2] ^= 1
	os.WriteFile(warcsInPkg[0], b, 0o640)
	os.Remove(warcsInPkg[1])
	os.WriteFile(filepath.Join(pkg, "items", "extra.json"), []byte("{}"), 0o640)
	code, out, _ = runTakedown(t, "", "evidence", "verify", pkg)
	if code != 3 || !strings.Contains(out, filepath.Base(warcsInPkg[0])+" was changed") || !strings.Contains(out, filepath.Base(warcsInPkg[1])+" is missing") ||
		!strings.Contains(out, "items/extra.json is not in the manifest") {
		t.Errorf("verify of a tampered package: exit %d\n%s", code, out)
	}
	// An altered audit event, its hash left as it was.
	audit := filepath.Join(one, "audit.jsonl")
	ab, _ := os.ReadFile(audit)
	os.WriteFile(audit, []byte(strings.Replace(string(ab), `"state":"failed"`, `"state":"captured"`, 1)), 0o640)
	code, out, _ = runTakedown(t, "", "evidence", "verify", one)
	if code != 3 || !strings.Contains(out, "audit.jsonl was changed") || !strings.Contains(out, "does not carry the hash of its content") {
		t.Errorf("verify of a package with an altered event: exit %d\n%s", code, out)
	}
	if code, _, errOut := runTakedown(t, "", "evidence", "verify", filepath.Join(dir, "nothing")); code == 0 || !strings.Contains(errOut, "no evidence package") {
		t.Errorf("verify of no package: exit %d, %s", code, errOut)
	}
}

// With an operation's default policy, nothing is referred before it is
// captured; takedown worker's capture job captures the items from the
// simulated internet, and they are referred then.
func TestCaptureJobBeforeReferral(t *testing.T) {
	t.Parallel()
	_, dir, info, db := simnetOperation(t, "before")
	referred := func() int {
		t.Helper()
		code, out, errOut := runTakedown(t, "", "--db", db, "refer", "--operation", "rad-1")
		if code != 0 {
			t.Fatalf("refer: %s%s", out, errOut)
		}
		m := regexp.MustCompile(`(\d+) batches, (\d+) items queued`).FindStringSubmatch(out)
		if m == nil {
			t.Fatalf("refer said:\n%s", out)
		}
		if !strings.Contains(out, "evidence first (rad-1's policy: before)") {
			t.Errorf("refer does not say what waits:\n%s", out)
		}
		n, _ := strconv.Atoi(m[2])
		return n
	}
	if n := referred(); n != 0 {
		t.Fatalf("%d items referred before any capture", n)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	go func() {
		var out, errOut strings.Builder
		done <- run(ctx, []string{"--db", db, "--log-level", "error", "worker", "--simnet", info, "--probes=false",
			"--probe-rate", "500", "--probe-per-host", "16", "--capture-concurrency", "16"}, strings.NewReader(""), &out, &errOut)
	}()
	total, deadline := 0, time.Now().Add(60*time.Second)
	items := len(listItems(t, db, "rad-1"))
	for total < items-60 && time.Now().Before(deadline) {
		time.Sleep(500 * time.Millisecond)
		total += referred()
	}
	cancel()
	if code := <-done; code != 0 {
		t.Errorf("worker: exit %d", code)
	}
	// What was captured went out; items no provider claims stay behind.
	total += referred()
	if total < items-60 || total > items {
		t.Errorf("%d of %d items referred after the capture job", total, items)
	}
	warcs, _ := filepath.Glob(filepath.Join(dir, "t.evidence", "??", "*.warc.gz"))
	if len(warcs) < total {
		t.Errorf("%d WARC files for %d referred items", len(warcs), total)
	}
}

// simnetOperation starts a simulator of the small scenario on a clock at
// scale 1 and imports the first agency's export into operation rad-1 of a
// SQLite database, with the evidence policy given; it returns the
// simulator, the folder, the simulator's description and the database.
func simnetOperation(t *testing.T, evidence string) (*simnet.Server, string, string, string) {
	t.Helper()
	s := readScenario(t, smallScenario)
	srv, err := simnet.Start(context.Background(), simnet.Config{Scenario: s, Clock: simnet.NewClock(s.Start, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	dir := t.TempDir()
	info := filepath.Join(dir, "simnet.json")
	if _, err := writeSimnetInfo(srv.Info(), info); err != nil {
		t.Fatal(err)
	}
	truth, err := srv.World().WriteExports(filepath.Join(dir, "exports"))
	if err != nil {
		t.Fatal(err)
	}
	db := filepath.Join(dir, "t.db")
	mustRun(t, "--db", db, "agency", "add", "aa-iru", "--name", "A")
	mustRun(t, "--db", db, "operation", "create", "rad-1", "--name", "One", "--agencies", "aa-iru", "--evidence", evidence)
	if code, _, errOut := runTakedown(t, "", "--db", db, "import", "--operation", "rad-1", "--agency", "aa-iru", "--progress", "never", truth.Files[0].Path); code != 0 {
		t.Fatalf("import: %s", errOut)
	}
	return srv, dir, info, db
}
