package main

import (
	"bytes"
	"database/sql"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	_ "modernc.org/sqlite"
)

// crashTrials is how many times each crash test kills its command:
// TAKEDOWN_CRASH_TRIALS, else a few (the README's test command and CI;
// the closing notes report runs of 25).
func crashTrials(t *testing.T, def int) int {
	if v := os.Getenv("TAKEDOWN_CRASH_TRIALS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			t.Fatalf("TAKEDOWN_CRASH_TRIALS=%q: want a positive number", v)
		}
		return n
	}
	return def
}

// crashCheck opens the database as a new process would after the crash
// and checks it: SQLite's integrity check, and the operation's kept counts
// against a count of the items. It returns the submissions stored.
func crashCheck(t *testing.T, path string) int {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var integrity string
	if err := db.QueryRow(`PRAGMA integrity_check`).Scan(&integrity); err != nil {
		t.Fatal(err)
	}
	if integrity != "ok" {
		t.Fatalf("integrity check after a crash: %s", integrity)
	}
	var items, counted, subs int
	err = db.QueryRow(`SELECT (SELECT count(*) FROM items), (SELECT coalesce(sum(n), 0) FROM item_counts WHERE dimension = 'kind'),
		(SELECT count(*) FROM submissions)`).Scan(&items, &counted, &subs)
	if err != nil {
		t.Fatal(err)
	}
	if items != counted {
		t.Errorf("after a crash: %d items, the kept counts say %d", items, counted)
	}
	return subs
}

// committed reads how many submissions another process has committed.
func committed(t *testing.T, path string) int {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro&_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRow(`SELECT count(*) FROM submissions`).Scan(&n); err != nil && !strings.Contains(err.Error(), "no such table") {
		t.Fatal(err)
	}
	return n
}

// child starts takedown's main in a child process (the test binary run
// again), its output kept for a failure's message.
func child(t *testing.T, args ...string) (*exec.Cmd, *bytes.Buffer) {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), runMainEnv+"=1")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return cmd, &out
}

// TestImportCrash: takedown import, a real child process, killed with
// SIGKILL at random moments while it imports 200,000 rows in batches of
// 2,000; after each kill the database passes SQLite's integrity check,
// holds at least every submission a reader saw committed just before the
// kill, and its kept counts equal its items; in the end, importing the
// file again completes it: the same items and submissions as one clean
// import, none twice.
func TestImportCrash(t *testing.T) {
	t.Parallel()
	trials := crashTrials(t, 4)
	dir := t.TempDir()
	mustRun(t, "sample", "--rows", "400000", "--out", dir)
	file := filepath.Join(dir, "agency-1.csv")
	setup := func(path string) {
		mustRun(t, "--db", path, "agency", "add", "aa-iru", "--name", "Unit A")
		mustRun(t, "--db", path, "operation", "create", "crash", "--name", "Crash", "--agencies", "aa-iru")
	}
	db := filepath.Join(dir, "crash.db")
	setup(db)
	args := []string{"--db", db, "import", "--operation", "crash", "--agency", "aa-iru", "--batch-size", "2000", "--progress", "never", file}
	before := 0
	for i := range trials {
		cmd, out := child(t, args...)
		time.Sleep(time.Duration(200+rand.IntN(3800)) * time.Millisecond)
		seen := committed(t, db)
		if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		err := cmd.Wait()
		after := crashCheck(t, db)
		if after < seen || after < before {
			t.Fatalf("kill %d: %d submissions stored; %d were committed before the kill (%d before this run)\n%s", i+1, after, seen, before, out)
		}
		t.Logf("kill %d: %d submissions stored (%d seen committed before the kill; the run %v)", i+1, after, seen, err)
		before = after
	}
	mustRun(t, args...)
	crashCheck(t, db)
	clean := filepath.Join(dir, "clean.db")
	setup(clean)
	mustRun(t, "--db", clean, "import", "--operation", "crash", "--agency", "aa-iru", "--progress", "never", file)
	for _, q := range []string{"items", "submissions"} {
		got, want := count(t, db, q), count(t, clean, q)
		if got != want {
			t.Errorf("%s after the crashes and a last import: %d; one clean import: %d", q, got, want)
		}
	}
	again := summary(t, mustRun(t, args...))
	if again["new items"] != 0 || again["merged into items"] != 0 {
		t.Errorf("importing the file once more: %v, want only known submissions", again)
	}
}

// count counts a table's rows.
func count(t *testing.T, path, table string) int {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRow(`SELECT count(*) FROM ` + table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestDemoCrash: takedown demo on the small scenario, a real child
// process, killed with SIGKILL at random moments of its day (importing,
// capturing, referring, serving); after each kill the database passes
// SQLite's integrity check and its kept counts equal its items. Then the
// demo runs again in the same folder until it has referred: its import
// completes the scenario's items and submissions exactly (the ground
// truth, none twice), and no item is in two referrals.
//
// The demo does not play its day to the end after a kill: the simulated
// internet lives in the killed process, so providers that had received a
// batch forget it, and the network they never took down does not come
// back for resurgence to find.
func TestDemoCrash(t *testing.T) {
	t.Parallel()
	trials := crashTrials(t, 3)
	dir := t.TempDir()
	args := []string{"demo", "--scenario", smallScenario, "--dir", dir, "--listen", "127.0.0.1:0", "--progress", "never", "--until-done"}
	db := filepath.Join(dir, "takedown.db")
	for i := range trials {
		cmd, out := child(t, args...)
		time.Sleep(time.Duration(50+rand.IntN(4000)) * time.Millisecond)
		if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		cmd.Wait()
		if _, err := os.Stat(db); err != nil {
			t.Logf("kill %d: before the database was made", i+1)
			continue
		}
		subs := crashCheck(t, db)
		t.Logf("kill %d: %d submissions stored; the demo had got to: %s", i+1, subs, lastStep(out.String()))
	}
	cmd, out := child(t, args...)
	deadline := time.Now().Add(3 * time.Minute)
	for !strings.Contains(out.String(), "9. deliveries") {
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatalf("the demo after %d kills did not get to its referrals in 3 minutes:\n%s", trials, out)
		}
		time.Sleep(200 * time.Millisecond)
	}
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()
	stored := regexp.MustCompile(`5\. stored: (\d+) items, (\d+) submissions; the scenario's ground truth: (\d+) distinct items found, (\d+) submissions`).FindStringSubmatch(out.String())
	if stored == nil || stored[1] != stored[3] || stored[2] != stored[4] {
		t.Errorf("the demo after %d kills stored %v, want the ground truth's items and submissions\n%s", trials, stored, out)
	}
	crashCheck(t, db)
	if twice := count(t, db, "(SELECT item_id FROM referral_items GROUP BY item_id HAVING count(*) > 1)"); twice != 0 {
		t.Errorf("%d items are in two referrals after the kills", twice)
	}
}

// lastStep is the last numbered step a demo's output got to.
func lastStep(out string) string {
	step := "(none)"
	for line := range strings.Lines(out) {
		if len(line) > 2 && line[0] >= '0' && line[0] <= '9' && strings.Contains(line[:3], ".") {
			step = strings.TrimSpace(line)
		}
	}
	return step
}
