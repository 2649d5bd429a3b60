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
		var n int
		if err := db.read.QueryRowContext(ctx, `SELECT count(*) FROM items WHERE id = ?`, itemID).Scan(&n); err != nil {
			return nil, translate(err, "list captures")
		}
		if n == 0 {
			return nil, takedown.Errorf(takedown.ENOTFOUND, "no item %d", itemID)
		}
	}
	return out, nil
}
