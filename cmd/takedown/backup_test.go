package main

import (
	"context"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
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

// TestPostgresBackupRestore: the README's PostgreSQL backup, tried: a
// pg_dump -Fc of a database in use, restored with pg_restore into a new
// database, is a takedown database: migrate has nothing to do, its audit
// chain verifies, it lists the same items, and it takes more imports.
func TestPostgresBackupRestore(t *testing.T) {
	t.Parallel()
	base := os.Getenv("TAKEDOWN_TEST_DATABASE_URL")
	required := os.Getenv("TAKEDOWN_TEST_REQUIRE_POSTGRES") == "1"
	if base == "" {
		if required {
			t.Fatal("TAKEDOWN_TEST_REQUIRE_POSTGRES=1 but TAKEDOWN_TEST_DATABASE_URL is not set")
		}
		t.Skip("TAKEDOWN_TEST_DATABASE_URL is not set")
	}
	for _, tool := range []string{"pg_dump", "pg_restore"} {
		if _, err := exec.LookPath(tool); err != nil {
			if required {
				t.Fatalf("%s is not installed (postgresql-client)", tool)
			}
			t.Skipf("%s is not installed", tool)
		}
	}
	dsn := freshSchema(t, base)
	schema := dsn[strings.LastIndex(dsn, "search_path=")+len("search_path="):]
	mustRun(t, "--db", dsn, "migrate")
	mustRun(t, "--db", dsn, "agency", "add", "aa-iru", "--name", "Unit A")
	mustRun(t, "--db", dsn, "agency", "add", "bb-iru", "--name", "Unit B")
	mustRun(t, "--db", dsn, "operation", "create", "pgb", "--name", "Backed up", "--agencies", "aa-iru,bb-iru")
	mustRun(t, "--db", dsn, "import", "--operation", "pgb", "--agency", "aa-iru", "../../examples/agency-a.csv")
	dump := filepath.Join(t.TempDir(), "takedown.dump")
	if out, err := exec.Command("pg_dump", "--format=custom", "--schema="+schema, "--file="+dump, base).CombinedOutput(); err != nil {
		t.Fatalf("pg_dump: %v\n%s", err, out)
	}
	// A new database to restore into, dropped at the end.
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	name := "takedown_restore_" + strconv.FormatInt(time.Now().UnixNano(), 36)
	ctx := context.Background()
	admin, err := pgx.Connect(ctx, base)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatal(err)
	}
	admin.Close(ctx)
	t.Cleanup(func() {
		if c, err := pgx.Connect(context.Background(), base); err == nil {
			c.Exec(context.Background(), "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
			c.Close(context.Background())
		}
	})
	u.Path = "/" + name
	restored := u.String()
	if out, err := exec.Command("pg_restore", "--no-owner", "--dbname="+restored, dump).CombinedOutput(); err != nil {
		t.Fatalf("pg_restore: %v\n%s", err, out)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	restored = u.String()
	if out := mustRun(t, "--db", restored, "migrate"); !strings.Contains(out, "up to date") {
		t.Errorf("migrate on the restored database: %s", out)
	}
	if code, out, errOut := runTakedown(t, "", "--db", restored, "audit", "verify"); code != 0 {
		t.Errorf("audit verify of the restored database: exit %d\n%s%s", code, out, errOut)
	}
	list := func(db string) string {
		return mustRun(t, "--db", db, "items", "list", "--operation", "pgb", "--limit", "0", "--json")
	}
	if got, want := list(restored), list(dsn); got != want || want == "" {
		t.Errorf("the restored database lists other items:\n%s\nthe original:\n%s", got, want)
	}
	out := mustRun(t, "--db", restored, "import", "--operation", "pgb", "--agency", "bb-iru", "../../examples/agency-b.jsonl")
	if s := summary(t, out); s["merged into items"] < 5 {
		t.Errorf("an import into the restored database: %v\n%s", s, out)
	}
}
