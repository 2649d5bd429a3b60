package postgres

import (
	"cmp"
	"context"
	"fmt"
	"slices"

	"github.com/jackc/pgx/v5"

	"github.com/takedown-project/takedown"
)

// SetAttributions writes a round of attribution with one set-based update,
// in item ID order as Submit updates items, and records it as one event.
// The items must all belong to one operation: the event is that
// operation's. An item named twice takes its last attribution.
func (db *DB) SetAttributions(ctx context.Context, as []takedown.ItemAttribution) error {
	if len(as) == 0 {
		return nil
	}
	last := make(map[int64]takedown.ItemAttribution, len(as))
	for _, a := range as {
		last[a.ItemID] = a
	}
	list := make([]takedown.ItemAttribution, 0, len(last))
	for _, a := range last {
		list = append(list, a.Stored())
	}
	slices.SortFunc(list, func(a, b takedown.ItemAttribution) int { return cmp.Compare(a.ItemID, b.ItemID) })
	ids, codes, vias := make([]int64, len(list)), make([]string, 0, len(list)), make([]string, len(list))
	for i, a := range list {
		ids[i], vias[i] = a.ItemID, a.Via
		if a.Provider != "" && !slices.Contains(codes, a.Provider) {
			codes = append(codes, a.Provider)
		}
	}
	err := pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		providerID := map[string]int64{}
		var slugs []string
		var found int
		b := &pgx.Batch{}
		b.Queue(`SELECT code, id FROM providers WHERE code = ANY($1)`, codes).Query(func(rows pgx.Rows) error {
			var code string
			var id int64
			_, err := pgx.ForEachRow(rows, []any{&code, &id}, func() error { providerID[code] = id; return nil })
			return err
		})
		b.Queue(`SELECT o.slug, count(*) FROM items i JOIN operations o ON o.id = i.operation_id WHERE i.id = ANY($1) GROUP BY o.slug`, ids).Query(func(rows pgx.Rows) error {
			var slug string
			var n int
			_, err := pgx.ForEachRow(rows, []any{&slug, &n}, func() error { slugs, found = append(slugs, slug), found+n; return nil })
			return err
		})
		if err := tx.SendBatch(ctx, b).Close(); err != nil {
			return fmt.Errorf("attribute items: %w", err)
		}
		for _, c := range codes {
			if _, ok := providerID[c]; !ok {
				return takedown.Errorf(takedown.EINVALID, "attribution to provider %q: there is no such provider", c)
			}
		}
		if found < len(ids) {
			return takedown.Errorf(takedown.EINVALID, "attribution: %d of the items do not exist", len(ids)-found)
		}
		if len(slugs) != 1 {
			return takedown.Errorf(takedown.EINVALID, "one round of attribution is of one operation's items, not of %v", slugs)
		}
		pids := make([]int64, len(list)) // 0 for none
		for i, a := range list {
			pids[i] = providerID[a.Provider]
		}
		if _, err := tx.Exec(ctx, `
			UPDATE items SET provider_id = nullif(u.provider_id, 0), attribution = u.via
			FROM unnest($1::bigint[], $2::bigint[], $3::text[]) AS u(id, provider_id, via)
			WHERE items.id = u.id`, ids, pids, vias); err != nil {
			return fmt.Errorf("attribute items: %w", err)
		}
		return db.appendAudit(ctx, tx, takedown.AuditAttribute(slugs[0], list))
	})
	return translate(err, "attribute items")
}
