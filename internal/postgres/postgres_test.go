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

func openSchema(t testing.TB) *postgres.DB {
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
	db, err := postgres.Open(ctx, url+sep+"search_path="+schema)
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
	return db
}

func TestStore(t *testing.T) {
	t.Parallel()
	storetest.Exercise(t, open)
}

func TestMigrateTwice(t *testing.T) {
	t.Parallel()
	db := open(t).(*postgres.DB)
	if err := db.Migrate(context.Background()); err != nil {
		t.Fatalf("second Migrate: %v", err)
	}
}
