package sqlite_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"

	"github.com/takedown-project/takedown/internal/sqlite"
	"github.com/takedown-project/takedown/internal/storetest"
)

func open(t *testing.T) storetest.Backend {
	t.Helper()
	path := filepath.Join(t.TempDir(), "takedown.db")
	db, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return tamperable{db, path}
}

// tamperable lets the suite change the file behind the store's back, over
// a connection of its own, as anyone with the file could.
type tamperable struct {
	*sqlite.DB
	path string
}

func (tb tamperable) Tamper(ctx context.Context, query string) error {
	raw, err := sql.Open("sqlite", "file:"+tb.path+"?_pragma=busy_timeout(10000)")
	if err != nil {
		return err
	}
	defer raw.Close()
	_, err = raw.ExecContext(ctx, query)
	return err
}

func TestStore(t *testing.T) {
	t.Parallel()
	storetest.Exercise(t, open)
}

func TestMigrateTwice(t *testing.T) {
	t.Parallel()
	db := open(t).(tamperable).DB
	if err := db.Migrate(context.Background()); err != nil {
		t.Fatalf("second Migrate: %v", err)
	}
}
