package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/takedown-project/takedown"
)

// checkSeeder checks, as checkSubmitters does for submissions, that the
// operation exists and is open and that the agency takes part in it. It
// returns the operation's slug and the agency's code.
func checkSeeder(ctx context.Context, tx *sql.Tx, operationID, agencyID int64) (slug, code string, err error) {
	var status string
	err = tx.QueryRowContext(ctx, `SELECT slug, status FROM operations WHERE id = ?`, operationID).Scan(&slug, &status)
	if err == sql.ErrNoRows {
		return "", "", takedown.Errorf(takedown.ENOTFOUND, "no operation with ID %d", operationID)
	} else if err != nil {
		return "", "", translate(err, "add hash seeds")
	}
	if takedown.OperationStatus(status) != takedown.OperationOpen {
		return "", "", takedown.Errorf(takedown.ECONFLICT, "operation %s is %s: its items are no longer matched, and it takes no seeds", slug, status)
	}
	err = tx.QueryRowContext(ctx, `SELECT a.code FROM agencies a JOIN operation_agencies oa ON oa.agency_id = a.id
		WHERE a.id = ? AND oa.operation_id = ?`, agencyID, operationID).Scan(&code)
	if err == sql.ErrNoRows {
		return "", "", takedown.Errorf(takedown.EINVALID, "agency with ID %d does not take part in operation %s", agencyID, slug)
	}
	return slug, code, translate(err, "add hash seeds")
}

func (db *DB) AddHashSeeds(ctx context.Context, operationID int64, agencyID int64, seeds []takedown.HashSeed) (int, error) {
	if err := takedown.CleanHashSeeds(seeds); err != nil {
		return 0, err
	}
	now := db.now().UTC().Truncate(time.Microsecond)
	added := 0
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		added = 0
		slug, code, err := checkSeeder(ctx, tx, operationID, agencyID)
		if err != nil {
			return err
		}
		stmt, err := tx.PrepareContext(ctx, `INSERT INTO hash_seeds (operation_id, agency_id, value, quality, labels, source, url, added_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (operation_id, value) DO NOTHING`)
		if err != nil {
			return translate(err, "add hash seeds")
		}
		defer stmt.Close()
		for _, s := range seeds {
			res, err := stmt.ExecContext(ctx, operationID, agencyID, s.Value, s.Quality, jsonList(s.Labels), s.Source, s.URL, formatTime(now))
			if err != nil {
				return translate(err, "add hash seeds")
			}
			if n, _ := res.RowsAffected(); n > 0 {
				added++
			}
		}
		return db.appendAudit(ctx, tx, takedown.AuditHashSeeds(slug, code, takedown.HashSeedSources(seeds), len(seeds), added))
	})
	if err != nil {
		return 0, err
	}
	return added, nil
}

const seedColumns = `s.id, s.operation_id, a.code, s.value, s.quality, s.labels, s.source, s.url, s.added_at`

// seedFields are the destinations of seedColumns: the seed's, and its
// labels and time as stored, which finishSeed decodes.
func seedFields(s *takedown.HashSeed, labels *string, added *int64) []any {
	return []any{&s.ID, &s.OperationID, &s.Agency, &s.Value, &s.Quality, labels, &s.Source, &s.URL, added}
}

func finishSeed(s *takedown.HashSeed, labels string, added int64) error {
	s.AddedAt = parseTime(added)
	if err := json.Unmarshal([]byte(labels), &s.Labels); err != nil {
		return fmt.Errorf("hash seed %d: labels: %w", s.ID, err)
	}
	return nil
}

// pageLimit is a list's page size: DefaultPageSize for none, at most
// MaxPageSize.
func pageLimit(limit int) int {
	if limit <= 0 {
		return takedown.DefaultPageSize
	}
	return min(limit, takedown.MaxPageSize)
}

func (db *DB) ListHashSeeds(ctx context.Context, operationID, afterID int64, limit int) ([]takedown.HashSeed, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT `+seedColumns+` FROM hash_seeds s JOIN agencies a ON a.id = s.agency_id
		WHERE s.operation_id = ? AND s.id > ? ORDER BY s.id LIMIT ?`, operationID, afterID, pageLimit(limit))
	if err != nil {
		return nil, translate(err, "list hash seeds")
	}
	defer rows.Close()
	out := []takedown.HashSeed{}
	for rows.Next() {
		var s takedown.HashSeed
		var labels string
		var added int64
		if err := rows.Scan(seedFields(&s, &labels, &added)...); err != nil {
			return nil, translate(err, "list hash seeds")
		}
		if err := finishSeed(&s, labels, added); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, translate(rows.Err(), "list hash seeds")
}

func (db *DB) RecordSeedHits(ctx context.Context, hits []takedown.SeedHit) (int, error) {
	for i := range hits {
		if err := hits[i].Validate(); err != nil {
			return 0, err
		}
	}
	now := db.now().UTC().Truncate(time.Microsecond)
	found := 0
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		found = 0
		for i := range hits {
			h := &hits[i]
			if h.At.IsZero() {
				h.At = now
			}
			h.At = h.At.UTC().Truncate(time.Microsecond)
			var itemOp, seedOp sql.NullInt64
			var slug, value sql.NullString
			if err := tx.QueryRowContext(ctx, `SELECT (SELECT operation_id FROM items WHERE id = ?1),
					(SELECT operation_id FROM hash_seeds WHERE id = ?2), (SELECT value FROM hash_seeds WHERE id = ?2),
					(SELECT o.slug FROM hash_seeds s JOIN operations o ON o.id = s.operation_id WHERE s.id = ?2)`,
				h.ItemID, h.SeedID).Scan(&itemOp, &seedOp, &value, &slug); err != nil {
				return translate(err, "record seed hits")
			}
			switch {
			case !itemOp.Valid:
				return takedown.Errorf(takedown.ENOTFOUND, "no item %d", h.ItemID)
			case !seedOp.Valid:
				return takedown.Errorf(takedown.ENOTFOUND, "no hash seed %d", h.SeedID)
			case itemOp.Int64 != seedOp.Int64:
				return takedown.Errorf(takedown.EINVALID, "seed hit %d -> %d: the item and the seed must be of one operation", h.ItemID, h.SeedID)
			}
			err := tx.QueryRowContext(ctx, `INSERT INTO seed_hits (operation_id, item_id, seed_id, distance, at) VALUES (?, ?, ?, ?, ?)
				ON CONFLICT (item_id, seed_id) DO NOTHING RETURNING id`, itemOp.Int64, h.ItemID, h.SeedID, h.Distance, formatTime(h.At)).Scan(&h.ID)
			if err == sql.ErrNoRows {
				continue // recorded before
			}
			if err != nil {
				return translate(err, "record seed hits")
			}
			found++
			if err := db.appendAudit(ctx, tx, takedown.AuditSeedHit(slug.String, h, value.String)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	return found, nil
}

func (db *DB) ListSeedHits(ctx context.Context, operationID int64, afterID int64, limit int) ([]takedown.SeedHit, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT h.id, h.item_id, h.seed_id, h.distance, h.at,
			i.identity, i.url, i.platform, i.kind, i.handle, i.status, `+seedColumns+`
		FROM seed_hits h JOIN items i ON i.id = h.item_id JOIN hash_seeds s ON s.id = h.seed_id JOIN agencies a ON a.id = s.agency_id
		WHERE h.operation_id = ? AND h.id > ? ORDER BY h.id LIMIT ?`, operationID, afterID, pageLimit(limit))
	if err != nil {
		return nil, translate(err, "list seed hits")
	}
	defer rows.Close()
	out := []takedown.SeedHit{}
	for rows.Next() {
		var h takedown.SeedHit
		var labels string
		var at, added int64
		it := &h.Item
		if err := rows.Scan(append([]any{&h.ID, &h.ItemID, &h.SeedID, &h.Distance, &at,
			&it.Identity, &it.URL, &it.Platform, &it.Kind, &it.Handle, &it.Status}, seedFields(&h.Seed, &labels, &added)...)...); err != nil {
			return nil, translate(err, "list seed hits")
		}
		if err := finishSeed(&h.Seed, labels, added); err != nil {
			return nil, err
		}
		h.At = parseTime(at)
		out = append(out, h)
	}
	return out, translate(rows.Err(), "list seed hits")
}
