package sqlite_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/takedown-project/takedown/internal/sqlite"
	"github.com/takedown-project/takedown/internal/storetest"
)

func open(t *testing.T) storetest.Backend {
	t.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "takedown.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return db
}

func TestStore(t *testing.T) {
	t.Parallel()
	storetest.Exercise(t, open)
}

func TestMigrateTwice(t *testing.T) {
	t.Parallel()
	db := open(t).(*sqlite.DB)
	if err := db.Migrate(context.Background()); err != nil {
		t.Fatalf("second Migrate: %v", err)
	}
}
