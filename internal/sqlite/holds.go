package sqlite

import (
	"context"
	"database/sql"
	"strings"
	"time"

	"github.com/takedown-project/takedown"
)

const holdColumns = `h.id, h.operation_id, o.slug, a.code, h.agency_id, h.scope, coalesce(h.item_id, 0), h.platform, h.handle, h.pattern,
	h.reason, h.note, h.created_at, h.created_by, h.expires_at, h.released_at, h.released_by`

const holdFrom = ` FROM holds h JOIN operations o ON o.id = h.operation_id JOIN agencies a ON a.id = h.agency_id `

func scanHold(sc interface{ Scan(...any) error }) (*takedown.Hold, error) {
	var h takedown.Hold
	var created, expires int64
	var released sql.NullInt64
	if err := sc.Scan(&h.ID, &h.OperationID, &h.Operation, &h.Agency, &h.AgencyID, &h.Scope, &h.ItemID, &h.Platform, &h.Handle, &h.Pattern,
		&h.Reason, &h.Note, &created, &h.CreatedBy, &expires, &released, &h.ReleasedBy); err != nil {
		return nil, err
	}
	h.CreatedAt, h.ExpiresAt, h.ReleasedAt = parseTime(created), parseTime(expires), optionalTime(released)
	return &h, nil
}

// checkParticipant returns the operation's slug and the ID of a
// participating agency. SQLite has one writer: the transaction that runs
// this sees every hold and referral committed before it, and none commits
// while it runs.
func checkParticipant(ctx context.Context, tx *sql.Tx, operationID int64, agency string) (string, int64, error) {
	var slug string
	err := tx.QueryRowContext(ctx, `SELECT slug FROM operations WHERE id = ?`, operationID).Scan(&slug)
	if err == sql.ErrNoRows {
		return "", 0, takedown.Errorf(takedown.ENOTFOUND, "no operation with ID %d", operationID)
	} else if err != nil {
		return "", 0, err
	}
	var id int64
	err = tx.QueryRowContext(ctx, `SELECT a.id FROM agencies a JOIN operation_agencies oa ON oa.agency_id = a.id WHERE a.code = ? AND oa.operation_id = ?`, agency, operationID).Scan(&id)
	if err == sql.ErrNoRows {
		return "", 0, takedown.Errorf(takedown.EINVALID, "agency %q does not take part in operation %s", agency, slug)
	}
	return slug, id, err
}

func (db *DB) PlaceHold(ctx context.Context, h *takedown.Hold) error {
	now := db.now().UTC().Truncate(time.Microsecond)
	h.Normalize()
	if err := h.Validate(now); err != nil {
		return err
	}
	h.CreatedAt, h.ExpiresAt = now, h.ExpiresAt.UTC().Truncate(time.Microsecond)
	h.CreatedBy, h.ReleasedAt, h.ReleasedBy = takedown.ActorFrom(ctx).String(), nil, ""
	return db.inTx(ctx, func(tx *sql.Tx) error {
		var err error
		if h.Operation, h.AgencyID, err = checkParticipant(ctx, tx, h.OperationID, h.Agency); err != nil {
			return err
		}
		if h.Scope == takedown.HoldItem {
			var n int
			if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM items WHERE id = ? AND operation_id = ?`, h.ItemID, h.OperationID).Scan(&n); err != nil {
				return err
			}
			if n == 0 {
				return takedown.Errorf(takedown.EINVALID, "operation %s has no item %d", h.Operation, h.ItemID)
			}
		}
		err = tx.QueryRowContext(ctx, `INSERT INTO holds (operation_id, agency_id, scope, item_id, platform, handle, pattern, reason, note, created_at, created_by, expires_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			h.OperationID, h.AgencyID, h.Scope, nullID(h.ItemID), h.Platform, h.Handle, h.Pattern, h.Reason, h.Note, formatTime(h.CreatedAt), h.CreatedBy, formatTime(h.ExpiresAt)).Scan(&h.ID)
		if err != nil {
			return translate(err, "place hold")
		}
		cover, err := holdCoverage(ctx, tx, h)
		if err != nil {
			return err
		}
		if err := db.notify(ctx, tx, takedown.PlanHoldNotices(cover)); err != nil {
			return err
		}
		return db.appendAudit(ctx, tx, takedown.AuditHoldPlace(h))
	})
}

func (db *DB) FindHold(ctx context.Context, id int64) (*takedown.Hold, error) {
	h, err := scanHold(db.read.QueryRowContext(ctx, `SELECT `+holdColumns+holdFrom+`WHERE h.id = ?`, id))
	if err == sql.ErrNoRows {
		return nil, takedown.Errorf(takedown.ENOTFOUND, "no hold %d", id)
	}
	return h, translate(err, "find hold")
}

func (db *DB) ListHolds(ctx context.Context, f takedown.HoldFilter) ([]*takedown.Hold, error) {
	return listHolds(ctx, db.read, f)
}

// listHolds reads holds through q: the read pool, or a write transaction
// that must see what it is about to decide on.
func listHolds(ctx context.Context, q interface {
	QueryContext(context.Context, string, ...any) (*sql.Rows, error)
}, f takedown.HoldFilter) ([]*takedown.Hold, error) {
	where, args := []string{"h.operation_id = ?"}, []any{f.OperationID}
	if f.Agency != "" {
		where, args = append(where, "a.code = ?"), append(args, f.Agency)
	}
	if !f.ActiveAt.IsZero() {
		where, args = append(where, "h.released_at IS NULL AND h.expires_at > ?"), append(args, formatTime(f.ActiveAt))
	}
	rows, err := q.QueryContext(ctx, `SELECT `+holdColumns+holdFrom+`WHERE `+strings.Join(where, " AND ")+` ORDER BY h.id DESC`, args...)
	if err != nil {
		return nil, translate(err, "list holds")
	}
	defer rows.Close()
	var out []*takedown.Hold
	for rows.Next() {
		h, err := scanHold(rows)
		if err != nil {
			return nil, translate(err, "list holds")
		}
		out = append(out, h)
	}
	return out, translate(rows.Err(), "list holds")
}

func (db *DB) RenewHold(ctx context.Context, id int64, until time.Time) (*takedown.Hold, error) {
	return db.changeHold(ctx, id, func(tx *sql.Tx, h *takedown.Hold, now time.Time) (*takedown.AuditRecord, error) {
		if !h.Active(now) {
			return nil, takedown.Errorf(takedown.ECONFLICT, "hold %d has ended; place a new one", id)
		}
		h.ExpiresAt = until.UTC().Truncate(time.Microsecond)
		if err := h.Validate(now); err != nil {
			return nil, err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE holds SET expires_at = ? WHERE id = ?`, formatTime(h.ExpiresAt), id); err != nil {
			return nil, err
		}
		rec := takedown.AuditHoldRenew(h)
		return &rec, nil
	})
}

func (db *DB) ReleaseHold(ctx context.Context, id int64) (*takedown.Hold, error) {
	return db.changeHold(ctx, id, func(tx *sql.Tx, h *takedown.Hold, now time.Time) (*takedown.AuditRecord, error) {
		if h.ReleasedAt != nil {
			return nil, nil // released already: nothing changes
		}
		h.ReleasedAt, h.ReleasedBy = &now, takedown.ActorFrom(ctx).String()
		if _, err := tx.ExecContext(ctx, `UPDATE holds SET released_at = ?, released_by = ? WHERE id = ?`, formatTime(now), h.ReleasedBy, id); err != nil {
			return nil, err
		}
		rec := takedown.AuditHoldRelease(h)
		return &rec, nil
	})
}

// changeHold reads a hold in a write transaction, lets change alter it,
// and records what change returns.
func (db *DB) changeHold(ctx context.Context, id int64, change func(tx *sql.Tx, h *takedown.Hold, now time.Time) (*takedown.AuditRecord, error)) (*takedown.Hold, error) {
	var h *takedown.Hold
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		var err error
		h, err = scanHold(tx.QueryRowContext(ctx, `SELECT `+holdColumns+holdFrom+`WHERE h.id = ?`, id))
		if err == sql.ErrNoRows {
			return takedown.Errorf(takedown.ENOTFOUND, "no hold %d", id)
		} else if err != nil {
			return err
		}
		rec, err := change(tx, h, db.now().UTC().Truncate(time.Microsecond))
		if err != nil || rec == nil {
			return err
		}
		return db.appendAudit(ctx, tx, *rec)
	})
	if err != nil {
		return nil, translate(err, "change hold")
	}
	return h, nil
}
