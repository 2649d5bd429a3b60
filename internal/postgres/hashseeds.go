package postgres

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/takedown-project/takedown"
)

// checkSeeder checks, as checkSubmitters does for submissions, that the
// operation exists and is open and that the agency takes part in it. It
// returns the operation's slug and the agency's code. The operation's row
// stays locked to the transaction's end: batches of seeds of one
// operation are written one after the other, each in its list's order,
// and two of them that share hashes cannot deadlock.
func checkSeeder(ctx context.Context, tx pgx.Tx, operationID, agencyID int64) (slug, code string, err error) {
	var status string
	err = tx.QueryRow(ctx, `SELECT slug, status FROM operations WHERE id = $1 FOR NO KEY UPDATE`, operationID).Scan(&slug, &status)
	if err == pgx.ErrNoRows {
		return "", "", takedown.Errorf(takedown.ENOTFOUND, "no operation with ID %d", operationID)
	} else if err != nil {
		return "", "", fmt.Errorf("read the operation: %w", err)
	}
	if takedown.OperationStatus(status) != takedown.OperationOpen {
		return "", "", takedown.Errorf(takedown.ECONFLICT, "operation %s is %s: its items are no longer matched, and it takes no seeds", slug, status)
	}
	err = tx.QueryRow(ctx, `SELECT a.code FROM agencies a JOIN operation_agencies oa ON oa.agency_id = a.id
		WHERE a.id = $1 AND oa.operation_id = $2`, agencyID, operationID).Scan(&code)
	if err == pgx.ErrNoRows {
		return "", "", takedown.Errorf(takedown.EINVALID, "agency with ID %d does not take part in operation %s", agencyID, slug)
	} else if err != nil {
		return "", "", fmt.Errorf("read the agency: %w", err)
	}
	return slug, code, nil
}

// AddHashSeeds writes the batch with one statement; a hash the operation
// has already, or that the batch holds twice, is skipped by the unique
// (operation_id, value).
func (db *DB) AddHashSeeds(ctx context.Context, operationID int64, agencyID int64, seeds []takedown.HashSeed) (int, error) {
	if err := takedown.CleanHashSeeds(seeds); err != nil {
		return 0, err
	}
	n := len(seeds)
	values, labels, sources, urls := make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	qualities := make([]int64, n)
	for i, s := range seeds {
		values[i], labels[i], sources[i], urls[i], qualities[i] = s.Value, jsonList(s.Labels), s.Source, s.URL, int64(s.Quality)
	}
	now := ts(db.now())
	added := 0
	err := pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		added = 0
		slug, code, err := checkSeeder(ctx, tx, operationID, agencyID)
		if err != nil {
			return err
		}
		if n > 0 {
			tag, err := tx.Exec(ctx, `
				INSERT INTO hash_seeds (operation_id, agency_id, value, quality, labels, source, url, added_at)
				SELECT $1, $2, u.value, u.quality, u.labels, u.source, u.url, $3
				FROM unnest($4::text[], $5::bigint[], $6::jsonb[], $7::text[], $8::text[]) WITH ORDINALITY AS u(value, quality, labels, source, url, n)
				ORDER BY u.n
				ON CONFLICT (operation_id, value) DO NOTHING`,
				operationID, agencyID, now, values, qualities, labels, sources, urls)
			if err != nil {
				return fmt.Errorf("write seeds: %w", err)
			}
			added = int(tag.RowsAffected())
		}
		return db.appendAudit(ctx, tx, takedown.AuditHashSeeds(slug, code, takedown.HashSeedSources(seeds), n, added))
	})
	if err != nil {
		return 0, translate(err, "add hash seeds")
	}
	return added, nil
}

const seedColumns = `s.id, s.operation_id, a.code, s.value, s.quality, s.labels, s.source, s.url, s.added_at`

// seedFields are the destinations of seedColumns: the seed's, and its
// labels as stored, which finishSeed decodes.
func seedFields(s *takedown.HashSeed, labels *string) []any {
	return []any{&s.ID, &s.OperationID, &s.Agency, &s.Value, &s.Quality, labels, &s.Source, &s.URL, &s.AddedAt}
}

func finishSeed(s *takedown.HashSeed, labels string) error {
	s.AddedAt = s.AddedAt.UTC()
	s.Labels = nil
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
	rows, err := db.pool.Query(ctx, `SELECT `+seedColumns+` FROM hash_seeds s JOIN agencies a ON a.id = s.agency_id
		WHERE s.operation_id = $1 AND s.id > $2 ORDER BY s.id LIMIT $3`, operationID, afterID, pageLimit(limit))
	if err != nil {
		return nil, translate(err, "list hash seeds")
	}
	out := []takedown.HashSeed{}
	var s takedown.HashSeed
	var labels string
	if _, err := pgx.ForEachRow(rows, seedFields(&s, &labels), func() error {
		seed := s
		if err := finishSeed(&seed, labels); err != nil {
			return err
		}
		out = append(out, seed)
		return nil
	}); err != nil {
		return nil, translate(err, "list hash seeds")
	}
	return out, nil
}

// RecordSeedHits checks the items and seeds with one statement each and
// writes the hits with one, in (item, seed) order so that two writers of
// the same hits cannot deadlock.
func (db *DB) RecordSeedHits(ctx context.Context, hits []takedown.SeedHit) (int, error) {
	for i := range hits {
		if err := hits[i].Validate(); err != nil {
			return 0, err
		}
	}
	if len(hits) == 0 {
		return 0, nil
	}
	now := ts(db.now())
	order := make([]int, len(hits))
	for i := range hits {
		if hits[i].At.IsZero() {
			hits[i].At = now
		}
		hits[i].At = ts(hits[i].At)
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int {
		return cmp.Or(cmp.Compare(hits[a].ItemID, hits[b].ItemID), cmp.Compare(hits[a].SeedID, hits[b].SeedID))
	})
	n := len(hits)
	items, seeds, distances, ats := make([]int64, n), make([]int64, n), make([]int64, n), make([]time.Time, n)
	for k, i := range order {
		items[k], seeds[k], distances[k], ats[k] = hits[i].ItemID, hits[i].SeedID, int64(hits[i].Distance), hits[i].At
	}
	found := 0
	err := pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		found = 0
		itemOp := map[int64]int64{}
		rows, err := tx.Query(ctx, `SELECT id, operation_id FROM items WHERE id = ANY($1)`, items)
		if err != nil {
			return fmt.Errorf("read the items: %w", err)
		}
		var id, op int64
		if _, err := pgx.ForEachRow(rows, []any{&id, &op}, func() error { itemOp[id] = op; return nil }); err != nil {
			return fmt.Errorf("read the items: %w", err)
		}
		type seedOf struct {
			op          int64
			slug, value string
		}
		seedInfo := map[int64]seedOf{}
		rows, err = tx.Query(ctx, `SELECT s.id, s.operation_id, o.slug, s.value FROM hash_seeds s JOIN operations o ON o.id = s.operation_id
			WHERE s.id = ANY($1)`, seeds)
		if err != nil {
			return fmt.Errorf("read the seeds: %w", err)
		}
		var so seedOf
		if _, err := pgx.ForEachRow(rows, []any{&id, &so.op, &so.slug, &so.value}, func() error { seedInfo[id] = so; return nil }); err != nil {
			return fmt.Errorf("read the seeds: %w", err)
		}
		for _, h := range hits {
			op, ok := itemOp[h.ItemID]
			s, sok := seedInfo[h.SeedID]
			switch {
			case !ok:
				return takedown.Errorf(takedown.ENOTFOUND, "no item %d", h.ItemID)
			case !sok:
				return takedown.Errorf(takedown.ENOTFOUND, "no hash seed %d", h.SeedID)
			case op != s.op:
				return takedown.Errorf(takedown.EINVALID, "seed hit %d -> %d: the item and the seed must be of one operation", h.ItemID, h.SeedID)
			}
		}
		rows, err = tx.Query(ctx, `
			INSERT INTO seed_hits (operation_id, item_id, seed_id, distance, at)
			SELECT i.operation_id, u.item_id, u.seed_id, u.distance, u.at
			FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::timestamptz[]) WITH ORDINALITY AS u(item_id, seed_id, distance, at, n)
			JOIN items i ON i.id = u.item_id
			ORDER BY u.n
			ON CONFLICT (item_id, seed_id) DO NOTHING
			RETURNING item_id, seed_id, id`, items, seeds, distances, ats)
		if err != nil {
			return fmt.Errorf("write seed hits: %w", err)
		}
		type key struct{ item, seed int64 }
		created := map[key]int64{}
		var k key
		if _, err := pgx.ForEachRow(rows, []any{&k.item, &k.seed, &id}, func() error { created[k] = id; return nil }); err != nil {
			return fmt.Errorf("write seed hits: %w", err)
		}
		found = len(created)
		// One event per new hit, in the order written.
		var recs []takedown.AuditRecord
		for _, i := range order {
			h := &hits[i]
			k := key{h.ItemID, h.SeedID}
			if id, ok := created[k]; ok {
				h.ID = id
				s := seedInfo[h.SeedID]
				recs = append(recs, takedown.AuditSeedHit(s.slug, h, s.value))
				delete(created, k)
			}
		}
		return db.appendAudit(ctx, tx, recs...)
	})
	if err != nil {
		return 0, translate(err, "record seed hits")
	}
	return found, nil
}

func (db *DB) ListSeedHits(ctx context.Context, operationID int64, afterID int64, limit int) ([]takedown.SeedHit, error) {
	rows, err := db.pool.Query(ctx, `SELECT h.id, h.item_id, h.seed_id, h.distance, h.at,
			i.identity, i.url, i.platform, i.kind, i.handle, i.status, `+seedColumns+`
		FROM seed_hits h JOIN items i ON i.id = h.item_id JOIN hash_seeds s ON s.id = h.seed_id JOIN agencies a ON a.id = s.agency_id
		WHERE h.operation_id = $1 AND h.id > $2 ORDER BY h.id LIMIT $3`, operationID, afterID, pageLimit(limit))
	if err != nil {
		return nil, translate(err, "list seed hits")
	}
	out := []takedown.SeedHit{}
	var h takedown.SeedHit
	var labels string
	it := &h.Item
	dest := append([]any{&h.ID, &h.ItemID, &h.SeedID, &h.Distance, &h.At, &it.Identity, &it.URL, &it.Platform, &it.Kind, &it.Handle, &it.Status},
		seedFields(&h.Seed, &labels)...)
	if _, err := pgx.ForEachRow(rows, dest, func() error {
		hit := h
		hit.At = hit.At.UTC()
		if err := finishSeed(&hit.Seed, labels); err != nil {
			return err
		}
		out = append(out, hit)
		return nil
	}); err != nil {
		return nil, translate(err, "list seed hits")
	}
	return out, nil
}
