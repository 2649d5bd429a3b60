package postgres_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/takedown-project/takedown/internal/postgres"
	"github.com/takedown-project/takedown/internal/storetest"
)

// testURL returns the database tests may create schemas in, or skips the
// test; with TAKEDOWN_TEST_REQUIRE_POSTGRES=1 (CI) a missing database fails.
func testURL(t testing.TB) string {
	url := os.Getenv("TAKEDOWN_TEST_DATABASE_URL")
	if url == "" {
		if os.Getenv("TAKEDOWN_TEST_REQUIRE_POSTGRES") == "1" {
			t.Fatal("TAKEDOWN_TEST_REQUIRE_POSTGRES=1 but TAKEDOWN_TEST_DATABASE_URL is not set")
		}
		t.Skip("TAKEDOWN_TEST_DATABASE_URL is not set; skipping PostgreSQL tests")
	}
	return url
}

// open returns a store on a fresh schema of its own, dropped at cleanup, so
// tests run in parallel on one database.
func open(t *testing.T) storetest.Backend {
	t.Helper()
	db := openSchema(t)
	if err := db.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return db
}

// testDB is the store with what the suite needs besides: raw SQL on the
// test's schema, as an intruder with database access would run it.
type testDB struct {
	*postgres.DB
	url string // with the test's search_path
}

var _ storetest.Tamperer = (*testDB)(nil)

// Tamper runs sql, one or more statements without arguments, on its own
// connection: the simple protocol takes several statements at once.
func (db *testDB) Tamper(ctx context.Context, sql string) error {
	conn, err := pgx.Connect(ctx, db.url)
	if err != nil {
		return fmt.Errorf("tamper: %w", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, sql); err != nil {
		return fmt.Errorf("tamper: %w", err)
	}
	return nil
}

func openSchema(t testing.TB) *testDB {
	t.Helper()
	url := testURL(t)
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatalf("connect to %s: %v", url, err)
	}
	defer conn.Close(ctx)
	schema := fmt.Sprintf("test_%x", rand.Uint64())
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatal(err)
	}
	sep := "?"
	if strings.Contains(url, "?") {
		sep = "&"
	}
	schemaURL := url + sep + "search_path=" + schema
	db, err := postgres.Open(ctx, schemaURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		db.Close()
		c, err := pgx.Connect(context.Background(), url)
		if err != nil {
			return
		}
		defer c.Close(context.Background())
		c.Exec(context.Background(), "DROP SCHEMA "+schema+" CASCADE")
	})
	return &testDB{DB: db, url: schemaURL}
}

func TestStore(t *testing.T) {
	t.Parallel()
	storetest.Exercise(t, open)
}

func TestMigrateTwice(t *testing.T) {
	t.Parallel()
	db := open(t).(*testDB)
	if err := db.Migrate(context.Background()); err != nil {
		t.Fatalf("second Migrate: %v", err)
	}
}
