package postgres

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/takedown-project/takedown"
)

const (
	holdColumns = `h.id, h.operation_id, o.slug, ag.code, h.agency_id, h.scope, coalesce(h.item_id, 0), h.platform, h.handle, h.pattern,
		h.reason, h.note, h.created_at, h.created_by, h.expires_at, h.released_at, h.released_by`
	holdFrom = `holds h JOIN operations o ON o.id = h.operation_id JOIN agencies ag ON ag.id = h.agency_id`
)

// activeHoldsOf returns a query of the holds active at $2 of the operation
// that operation (an SQL expression) names.
func activeHoldsOf(operation string) string {
	return `SELECT ` + holdColumns + ` FROM ` + holdFrom + `
		WHERE h.operation_id = ` + operation + ` AND h.released_at IS NULL AND h.expires_at > $2 ORDER BY h.id`
}

func scanHold(row pgx.Row) (*takedown.Hold, error) {
	var h takedown.Hold
	err := row.Scan(&h.ID, &h.OperationID, &h.Operation, &h.Agency, &h.AgencyID, &h.Scope, &h.ItemID, &h.Platform, &h.Handle, &h.Pattern,
		&h.Reason, &h.Note, &h.CreatedAt, &h.CreatedBy, &h.ExpiresAt, &h.ReleasedAt, &h.ReleasedBy)
	if err != nil {
		return nil, err
	}
	h.CreatedAt, h.ExpiresAt = h.CreatedAt.UTC(), h.ExpiresAt.UTC()
	if h.ReleasedAt != nil {
		r := h.ReleasedAt.UTC()
		h.ReleasedAt = &r
	}
	return &h, nil
}

func collectHolds(rows pgx.Rows) ([]*takedown.Hold, error) {
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (*takedown.Hold, error) { return scanHold(row) })
}

// lockOperation takes the operation's row lock for the rest of tx and
// returns its slug. PlaceHold and CreateReferral take it first, so that
// they run one after the other per operation: a referral then sees every
// hold committed before it, and a hold placed after it waits. NO KEY
// UPDATE rather than UPDATE: it does not conflict with the key-share locks
// that inserting items and participants takes on the operation, so
// submissions go on meanwhile.
func lockOperation(ctx context.Context, tx pgx.Tx, id int64) (string, error) {
	var slug string
	err := tx.QueryRow(ctx, `SELECT slug FROM operations WHERE id = $1 FOR NO KEY UPDATE`, id).Scan(&slug)
	if err == pgx.ErrNoRows {
		return "", takedown.Errorf(takedown.ENOTFOUND, "no operation with ID %d", id)
	} else if err != nil {
		return "", fmt.Errorf("lock operation %d: %w", id, err)
	}
	return slug, nil
}

func (db *DB) PlaceHold(ctx context.Context, h *takedown.Hold) error {
	now := ts(db.now())
	h.Normalize()
	if err := h.Validate(now); err != nil {
		return err
	}
	h.CreatedAt, h.ExpiresAt = now, ts(h.ExpiresAt)
	h.CreatedBy = takedown.ActorFrom(ctx).String()
	h.ReleasedAt, h.ReleasedBy = nil, ""
	err := pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		slug, err := lockOperation(ctx, tx, h.OperationID)
		if err != nil {
			return err
		}
		h.Operation = slug
		var itemOK bool
		err = tx.QueryRow(ctx, `
			SELECT a.id, $3::bigint = 0 OR EXISTS (SELECT 1 FROM items WHERE id = $3 AND operation_id = $1)
			FROM agencies a JOIN operation_agencies oa ON oa.agency_id = a.id AND oa.operation_id = $1
			WHERE a.code = $2`, h.OperationID, h.Agency, h.ItemID).Scan(&h.AgencyID, &itemOK)
		if err == pgx.ErrNoRows {
			return takedown.Errorf(takedown.EINVALID, "hold: agency %q does not take part in operation %s", h.Agency, slug)
		} else if err != nil {
			return fmt.Errorf("hold: check agency and item: %w", err)
		}
		if !itemOK {
			return takedown.Errorf(takedown.EINVALID, "hold: operation %s has no item %d", slug, h.ItemID)
		}
		var itemID *int64
		if h.Scope == takedown.HoldItem {
			itemID = &h.ItemID
		}
		err = tx.QueryRow(ctx, `
			INSERT INTO holds (operation_id, agency_id, scope, item_id, platform, handle, pattern, reason, note, created_at, created_by, expires_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING id`,
			h.OperationID, h.AgencyID, h.Scope, itemID, h.Platform, h.Handle, h.Pattern, h.Reason, h.Note, h.CreatedAt, h.CreatedBy, h.ExpiresAt).Scan(&h.ID)
		if err != nil {
			return fmt.Errorf("record hold: %w", err)
		}
		cover, err := holdCoverage(ctx, tx, h)
		if err != nil {
			return fmt.Errorf("what the hold covers: %w", err)
		}
		if err := db.notify(ctx, tx, takedown.PlanHoldNotices(cover)); err != nil {
			return err
		}
		return db.appendAudit(ctx, tx, takedown.AuditHoldPlace(h))
	})
	return translate(err, "place hold")
}

func (db *DB) FindHold(ctx context.Context, id int64) (*takedown.Hold, error) {
	h, err := scanHold(db.pool.QueryRow(ctx, `SELECT `+holdColumns+` FROM `+holdFrom+` WHERE h.id = $1`, id))
	if err == pgx.ErrNoRows {
		return nil, takedown.Errorf(takedown.ENOTFOUND, "no hold %d", id)
	}
	return h, translate(err, "find hold")
}

func (db *DB) ListHolds(ctx context.Context, f takedown.HoldFilter) ([]*takedown.Hold, error) {
	args := []any{f.OperationID}
	where := []string{"h.operation_id = $1"}
	if f.Agency != "" {
		args = append(args, f.Agency)
		where = append(where, fmt.Sprintf("ag.code = $%d", len(args)))
	}
	if !f.ActiveAt.IsZero() {
		args = append(args, ts(f.ActiveAt))
		where = append(where, fmt.Sprintf("h.released_at IS NULL AND h.expires_at > $%d", len(args)))
	}
	rows, err := db.pool.Query(ctx, `SELECT `+holdColumns+` FROM `+holdFrom+` WHERE `+strings.Join(where, " AND ")+` ORDER BY h.id DESC`, args...)
	if err != nil {
		return nil, translate(err, "list holds")
	}
	hs, err := collectHolds(rows)
	return hs, translate(err, "list holds")
}

// findHoldForUpdate reads a hold in tx and locks it until tx ends.
func findHoldForUpdate(ctx context.Context, tx pgx.Tx, id int64) (*takedown.Hold, error) {
	h, err := scanHold(tx.QueryRow(ctx, `SELECT `+holdColumns+` FROM `+holdFrom+` WHERE h.id = $1 FOR UPDATE OF h`, id))
	if err == pgx.ErrNoRows {
		return nil, takedown.Errorf(takedown.ENOTFOUND, "no hold %d", id)
	} else if err != nil {
		return nil, fmt.Errorf("find hold %d: %w", id, err)
	}
	return h, nil
}

func (db *DB) RenewHold(ctx context.Context, id int64, until time.Time) (*takedown.Hold, error) {
	var h *takedown.Hold
	err := pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		var err error
		if h, err = findHoldForUpdate(ctx, tx, id); err != nil {
			return err
		}
		now := ts(db.now())
		if !h.Active(now) {
			return takedown.Errorf(takedown.ECONFLICT, "hold %d has ended (released or expired); place a new one", id)
		}
		// The placement's checks bound the new expiry as they bound the
		// first: in the future, and at most MaxHoldDuration away.
		h.ExpiresAt = ts(until)
		if err := h.Validate(now); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE holds SET expires_at = $2 WHERE id = $1`, id, h.ExpiresAt); err != nil {
			return fmt.Errorf("renew hold %d: %w", id, err)
		}
		return db.appendAudit(ctx, tx, takedown.AuditHoldRenew(h))
	})
	if err != nil {
		return nil, translate(err, "renew hold")
	}
	return h, nil
}

// ReleaseHold records the release only when it ends the hold: releasing it
// again changes nothing and records nothing.
func (db *DB) ReleaseHold(ctx context.Context, id int64) (*takedown.Hold, error) {
	var h *takedown.Hold
	err := pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		var err error
		if h, err = findHoldForUpdate(ctx, tx, id); err != nil {
			return err
		}
		if h.ReleasedAt != nil {
			return nil
		}
		now := ts(db.now())
		h.ReleasedAt, h.ReleasedBy = &now, takedown.ActorFrom(ctx).String()
		if _, err := tx.Exec(ctx, `UPDATE holds SET released_at = $2, released_by = $3 WHERE id = $1`, id, now, h.ReleasedBy); err != nil {
			return fmt.Errorf("release hold %d: %w", id, err)
		}
		return db.appendAudit(ctx, tx, takedown.AuditHoldRelease(h))
	})
	if err != nil {
		return nil, translate(err, "release hold")
	}
	return h, nil
}
