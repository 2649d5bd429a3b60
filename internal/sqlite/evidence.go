package sqlite

import (
	"context"
	"database/sql"
	"time"

	"github.com/takedown-project/takedown"
)

func (db *DB) RecordCapture(ctx context.Context, c *takedown.Capture) error {
	if err := c.Validate(); err != nil {
		return err
	}
	c.At = c.At.UTC().Truncate(time.Microsecond)
	return db.inTx(ctx, func(tx *sql.Tx) error {
		var opID int64
		var slug string
		err := tx.QueryRowContext(ctx, `SELECT i.operation_id, o.slug FROM items i JOIN operations o ON o.id = i.operation_id WHERE i.id = ?`, c.ItemID).Scan(&opID, &slug)
		if err == sql.ErrNoRows {
			return takedown.Errorf(takedown.ENOTFOUND, "no item %d", c.ItemID)
		}
		if err != nil {
			return translate(err, "record capture")
		}
		err = tx.QueryRowContext(ctx, `INSERT INTO captures (item_id, operation_id, at, url, state, reason, error, status, sha256, size, location, records, resources)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			c.ItemID, opID, formatTime(c.At), c.URL, c.State, c.Reason, c.Error, c.Status, c.SHA256, c.Size, c.Location, c.Records, c.Resources).Scan(&c.ID)
		if err != nil {
			return translate(err, "record capture")
		}
		return db.appendAudit(ctx, tx, takedown.AuditCapture(slug, c))
	})
}

func (db *DB) ListCaptures(ctx context.Context, itemID int64) ([]*takedown.Capture, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT id, item_id, at, url, state, reason, error, status, sha256, size, location, records, resources
		FROM captures WHERE item_id = ? ORDER BY at DESC, id DESC`, itemID)
	if err != nil {
		return nil, translate(err, "list captures")
	}
	defer rows.Close()
	out := []*takedown.Capture{}
	for rows.Next() {
		c := &takedown.Capture{}
		var at int64
		if err := rows.Scan(&c.ID, &c.ItemID, &at, &c.URL, &c.State, &c.Reason, &c.Error, &c.Status, &c.SHA256, &c.Size, &c.Location, &c.Records, &c.Resources); err != nil {
			return nil, translate(err, "list captures")
		}
		c.At = parseTime(at)
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, translate(err, "list captures")
	}
	if len(out) == 0 {
		return out, db.itemExists(ctx, itemID, "list captures")
	}
	return out, nil
}

// dueCapturesQuery selects the items DueCaptures returns; its arguments
// are the retryable reasons, the attempts, the time before which the last
// try must be, the ID after which, and the limit.
func (db *DB) DueCaptures(ctx context.Context, p takedown.CapturePolicy, afterID int64, limit int) ([]takedown.CaptureTarget, error) {
	if limit <= 0 {
		limit = takedown.DefaultPageSize
	}
	rows, err := db.read.QueryContext(ctx, `SELECT i.id, o.slug, i.url, i.platform, i.kind, i.handle
		FROM items i JOIN operations o ON o.id = i.operation_id
		WHERE o.status = 'open' AND o.evidence <> 'off' AND i.status = 'submitted' AND i.id > ?
			AND NOT EXISTS (SELECT 1 FROM captures c WHERE c.item_id = i.id
				AND (c.reason NOT IN (?, ?, ?) OR c.at >= ?))
			AND (SELECT count(*) FROM captures c WHERE c.item_id = i.id) < ?
		ORDER BY i.id LIMIT ?`,
		afterID, takedown.CaptureTimeout, takedown.CaptureNetwork, takedown.CaptureUnknown, formatTime(p.RetryBefore), max(p.Attempts, 1), limit)
	if err != nil {
		return nil, translate(err, "due captures")
	}
	defer rows.Close()
	out := []takedown.CaptureTarget{}
	for rows.Next() {
		var t takedown.CaptureTarget
		if err := rows.Scan(&t.ItemID, &t.Operation, &t.URL, &t.Platform, &t.Kind, &t.Handle); err != nil {
			return nil, translate(err, "due captures")
		}
		out = append(out, t)
	}
	return out, translate(rows.Err(), "due captures")
}
