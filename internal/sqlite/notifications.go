package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/takedown-project/takedown"
)

// likePattern turns a hold's glob into a LIKE pattern that finds at least
// every item it covers (SQLite's LIKE ignores ASCII case; Covers decides
// exactly afterwards).
func likePattern(glob string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`, `*`, `%`)
	return r.Replace(glob)
}

// holdCoverage finds the items of the operation h covers, with the
// agencies that submitted them.
func holdCoverage(ctx context.Context, tx *sql.Tx, h *takedown.Hold) ([]takedown.HoldCoverage, error) {
	q := `SELECT ` + itemColumns + ` FROM items i WHERE i.operation_id = ? `
	args := []any{h.OperationID}
	switch h.Scope {
	case takedown.HoldItem:
		q, args = q+`AND i.id = ?`, append(args, h.ItemID)
	case takedown.HoldHandle:
		q, args = q+`AND i.platform = ? AND i.handle = ?`, append(args, h.Platform, h.Handle)
	case takedown.HoldPattern:
		q, args = q+`AND substr(i.url, instr(i.url, '://') + 3) LIKE ? ESCAPE '\'`, append(args, likePattern(h.Pattern))
	}
	rows, err := tx.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	var items []*takedown.Item
	for rows.Next() {
		it, err := scanItem(rows)
		if err != nil {
			rows.Close()
			return nil, err
		}
		if h.Covers(it) {
			items = append(items, it)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	var out []takedown.HoldCoverage
	for _, it := range items {
		agencies, err := submitters(ctx, tx, it.ID)
		if err != nil {
			return nil, err
		}
		out = append(out, takedown.HoldCoverage{Hold: h, ItemID: it.ID, URL: it.URL, Agencies: agencies})
	}
	return out, nil
}

// submitters returns the codes of the agencies that submitted an item.
func submitters(ctx context.Context, tx *sql.Tx, itemID int64) ([]string, error) {
	rows, err := tx.QueryContext(ctx, `SELECT DISTINCT a.code FROM submissions s JOIN agencies a ON a.id = s.agency_id WHERE s.item_id = ? ORDER BY a.code`, itemID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var c string
		if err := rows.Scan(&c); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// notify writes notifications inside tx.
func (db *DB) notify(ctx context.Context, tx *sql.Tx, notes []takedown.Notification) error {
	now := formatTime(db.now())
	for _, n := range notes {
		var agency any
		if n.Agency != "" {
			var id int64
			if err := tx.QueryRowContext(ctx, `SELECT id FROM agencies WHERE code = ?`, n.Agency).Scan(&id); err != nil {
				return fmt.Errorf("notify %s: %w", n.Agency, err)
			}
			agency = id
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO notifications (operation_id, agency_id, kind, message, item_ids, hold_id, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
			n.OperationID, agency, n.Kind, n.Message, jsonText(n.ItemIDs), nullID(n.HoldID), now); err != nil {
			return fmt.Errorf("notify: %w", err)
		}
	}
	return nil
}

// submissionCoverage finds the holds (active now) that cover the items
// that got new submissions in a batch: each new submitter is concerned.
func submissionCoverage(ctx context.Context, tx *sql.Tx, operationID int64, now time.Time, subs []takedown.NewSubmission, itemID map[string]int64, inserted func(i int) bool, agencyCode func(id int64) string) ([]takedown.HoldCoverage, error) {
	holds, err := listHolds(ctx, tx, takedown.HoldFilter{OperationID: operationID, ActiveAt: now})
	if err != nil || len(holds) == 0 {
		return nil, err
	}
	return takedown.SubmissionCoverage(holds, subs, itemID, inserted, agencyCode), nil
}

const notificationColumns = `n.id, n.operation_id, o.slug, coalesce(a.code, ''), coalesce(n.agency_id, 0), n.kind, n.message, n.item_ids, coalesce(n.hold_id, 0), n.created_at, n.read_at`

const notificationFrom = ` FROM notifications n JOIN operations o ON o.id = n.operation_id LEFT JOIN agencies a ON a.id = n.agency_id `

func scanNotification(sc interface{ Scan(...any) error }) (*takedown.Notification, error) {
	var n takedown.Notification
	var ids string
	var created int64
	var read sql.NullInt64
	if err := sc.Scan(&n.ID, &n.OperationID, &n.Operation, &n.Agency, &n.AgencyID, &n.Kind, &n.Message, &ids, &n.HoldID, &created, &read); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(ids), &n.ItemIDs); err != nil {
		return nil, fmt.Errorf("notification %d: items: %w", n.ID, err)
	}
	n.CreatedAt, n.ReadAt = parseTime(created), optionalTime(read)
	return &n, nil
}

func (db *DB) ListNotifications(ctx context.Context, f takedown.NotificationFilter) ([]*takedown.Notification, error) {
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	var who []string
	args := []any{f.OperationID}
	if f.Agency != "" {
		who, args = append(who, "a.code = ?"), append(args, f.Agency)
	}
	if f.Coordinators {
		who = append(who, "n.agency_id IS NULL")
	}
	if f.All {
		who = []string{"true"}
	}
	if len(who) == 0 {
		return []*takedown.Notification{}, nil
	}
	where := "n.operation_id = ? AND (" + strings.Join(who, " OR ") + ")"
	if f.Unread {
		where += " AND n.read_at IS NULL"
	}
	rows, err := db.read.QueryContext(ctx, `SELECT `+notificationColumns+notificationFrom+`WHERE `+where+` ORDER BY n.id DESC LIMIT ?`, append(args, limit)...)
	if err != nil {
		return nil, translate(err, "list notifications")
	}
	defer rows.Close()
	out := []*takedown.Notification{}
	for rows.Next() {
		n, err := scanNotification(rows)
		if err != nil {
			return nil, translate(err, "list notifications")
		}
		out = append(out, n)
	}
	return out, translate(rows.Err(), "list notifications")
}

func (db *DB) FindNotification(ctx context.Context, id int64) (*takedown.Notification, error) {
	n, err := scanNotification(db.read.QueryRowContext(ctx, `SELECT `+notificationColumns+notificationFrom+`WHERE n.id = ?`, id))
	if err == sql.ErrNoRows {
		return nil, takedown.Errorf(takedown.ENOTFOUND, "no notification %d", id)
	}
	return n, translate(err, "find notification")
}

func (db *DB) MarkNotificationRead(ctx context.Context, id int64) (*takedown.Notification, error) {
	res, err := db.write.ExecContext(ctx, `UPDATE notifications SET read_at = coalesce(read_at, ?) WHERE id = ?`, formatTime(db.now()), id)
	if err != nil {
		return nil, translate(err, "mark notification read")
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return nil, takedown.Errorf(takedown.ENOTFOUND, "no notification %d", id)
	}
	return db.FindNotification(ctx, id)
}
