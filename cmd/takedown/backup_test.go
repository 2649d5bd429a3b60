package main

import (
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestBackupRestore: takedown backup copies the database while an import
// (a child process) writes to it; the copy passes SQLite's integrity
// check, its audit chain verifies, its counts equal its items; put in
// place of the database, it takes the rest of the import, which then
// holds what the original holds.
func TestBackupRestore(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	mustRun(t, "sample", "--rows", "200000", "--out", dir)
	file := filepath.Join(dir, "agency-1.csv")
	db := filepath.Join(dir, "live.db")
	mustRun(t, "--db", db, "agency", "add", "aa-iru", "--name", "Unit A")
	mustRun(t, "--db", db, "operation", "create", "live", "--name", "Live", "--agencies", "aa-iru")
	importArgs := func(path string) []string {
		return []string{"--db", path, "import", "--operation", "live", "--agency", "aa-iru", "--batch-size", "2000", "--progress", "never", file}
	}
	cmd, out := child(t, importArgs(db)...)
	for committed(t, db) == 0 {
		time.Sleep(20 * time.Millisecond)
	}
	backup := filepath.Join(dir, "backup.db")
	mustRun(t, "--db", db, "backup", "--out", backup)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("the import beside the backup: %v\n%s", err, out)
	}
	copied := crashCheck(t, backup)
	if total := count(t, db, "submissions"); copied == 0 || copied > total {
		t.Errorf("the backup holds %d submissions of the %d imported", copied, total)
	}
	t.Logf("the backup, taken mid-import, holds %d submissions of %d", copied, count(t, db, "submissions"))
	if code, out, errOut := runTakedown(t, "", "--db", backup, "audit", "verify"); code != 0 {
		t.Errorf("audit verify of the backup: exit %d\n%s%s", code, out, errOut)
	}
	if code, _, errOut := runTakedown(t, "", "--db", db, "backup", "--out", backup); code == 0 || !strings.Contains(errOut, "exists") {
		t.Errorf("a backup over an existing file: exit %d, %s", code, errOut)
	}
	// Restore: the copy is the database now; the import goes on from it.
	mustRun(t, importArgs(backup)...)
	for _, table := range []string{"items", "submissions"} {
		if got, want := count(t, backup, table), count(t, db, table); got != want {
			t.Errorf("%s in the restored database after the import: %d, the original has %d", table, got, want)
		}
	}
	crashCheck(t, backup)
}
