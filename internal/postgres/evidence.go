package postgres

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"

	"github.com/takedown-project/takedown"
)

func (db *DB) RecordCapture(ctx context.Context, c *takedown.Capture) error {
	if err := c.Validate(); err != nil {
		return err
	}
	c.At = ts(c.At)
	return pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		var opID int64
		var slug string
		err := tx.QueryRow(ctx, `SELECT i.operation_id, o.slug FROM items i JOIN operations o ON o.id = i.operation_id WHERE i.id = $1`, c.ItemID).Scan(&opID, &slug)
		if errors.Is(err, pgx.ErrNoRows) {
			return takedown.Errorf(takedown.ENOTFOUND, "no item %d", c.ItemID)
		}
		if err != nil {
			return translate(err, "record capture")
		}
		err = tx.QueryRow(ctx, `INSERT INTO captures (item_id, operation_id, at, url, state, reason, error, status, sha256, size, location, records, resources)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING id`,
			c.ItemID, opID, c.At, c.URL, c.State, c.Reason, c.Error, c.Status, c.SHA256, c.Size, c.Location, c.Records, c.Resources).Scan(&c.ID)
		if err != nil {
			return translate(err, "record capture")
		}
		return db.appendAudit(ctx, tx, takedown.AuditCapture(slug, c))
	})
}

func (db *DB) ListCaptures(ctx context.Context, itemID int64) ([]*takedown.Capture, error) {
	rows, err := db.pool.Query(ctx, `SELECT id, item_id, at, url, state, reason, error, status, sha256, size, location, records, resources
		FROM captures WHERE item_id = $1 ORDER BY at DESC, id DESC`, itemID)
	if err != nil {
		return nil, translate(err, "list captures")
	}
	out := []*takedown.Capture{}
	var c takedown.Capture
	if _, err := pgx.ForEachRow(rows, []any{&c.ID, &c.ItemID, &c.At, &c.URL, &c.State, &c.Reason, &c.Error, &c.Status, &c.SHA256, &c.Size, &c.Location, &c.Records, &c.Resources}, func() error {
		cc := c
		cc.At = cc.At.UTC()
		out = append(out, &cc)
		return nil
	}); err != nil {
		return nil, translate(err, "list captures")
	}
	if len(out) == 0 {
		return out, db.itemExists(ctx, itemID, "list captures")
	}
	return out, nil
}

func (db *DB) DueCaptures(ctx context.Context, p takedown.CapturePolicy, afterID int64, limit int) ([]takedown.CaptureTarget, error) {
	if limit <= 0 {
		limit = takedown.DefaultPageSize
	}
	rows, err := db.pool.Query(ctx, `SELECT i.id, o.slug, i.url, i.platform, i.kind, i.handle
		FROM items i JOIN operations o ON o.id = i.operation_id
		WHERE o.status = 'open' AND o.evidence <> 'off' AND i.status = 'submitted' AND i.id > $1
			AND NOT EXISTS (SELECT 1 FROM captures c WHERE c.item_id = i.id
				AND (c.reason <> ALL($2) OR c.at >= $3))
			AND (SELECT count(*) FROM captures c WHERE c.item_id = i.id) < $4
		ORDER BY i.id LIMIT $5`,
		afterID, []string{takedown.CaptureTimeout, takedown.CaptureNetwork, takedown.CaptureUnknown}, ts(p.RetryBefore), max(p.Attempts, 1), limit)
	if err != nil {
		return nil, translate(err, "due captures")
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (takedown.CaptureTarget, error) {
		var t takedown.CaptureTarget
		err := row.Scan(&t.ItemID, &t.Operation, &t.URL, &t.Platform, &t.Kind, &t.Handle)
		return t, err
	})
	if err != nil {
		return nil, translate(err, "due captures")
	}
	return out, nil
}
