package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/takedown-project/takedown"
)

// likePattern turns a hold's glob into a LIKE pattern; Covers decides
// exactly afterwards.
func likePattern(glob string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`, `*`, `%`)
	return r.Replace(glob)
}

// holdCoverage finds the items of the operation h covers, with the
// agencies that submitted them.
func holdCoverage(ctx context.Context, tx pgx.Tx, h *takedown.Hold) ([]takedown.HoldCoverage, error) {
	q := `SELECT ` + itemColumns + `, (SELECT coalesce(array_agg(DISTINCT a.code ORDER BY a.code), '{}') FROM submissions s JOIN agencies a ON a.id = s.agency_id WHERE s.item_id = i.id)
		FROM items i WHERE i.operation_id = $1 `
	args := []any{h.OperationID}
	switch h.Scope {
	case takedown.HoldItem:
		q, args = q+`AND i.id = $2`, append(args, h.ItemID)
	case takedown.HoldHandle:
		q, args = q+`AND i.platform = $2 AND i.handle = $3`, append(args, h.Platform, h.Handle)
	case takedown.HoldPattern:
		q, args = q+`AND substr(i.url, position('://' in i.url) + 3) LIKE $2 ESCAPE '\'`, append(args, likePattern(h.Pattern))
	}
	rows, err := tx.Query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []takedown.HoldCoverage
	for rows.Next() {
		var agencies []string
		it, err := scanItemAnd(rows, &agencies)
		if err != nil {
			return nil, err
		}
		if h.Covers(it) {
			out = append(out, takedown.HoldCoverage{Hold: h, ItemID: it.ID, URL: it.URL, Agencies: agencies})
		}
	}
	return out, rows.Err()
}

// scanItemAnd reads an item's columns and then more.
func scanItemAnd(row pgx.Row, more ...any) (*takedown.Item, error) {
	var it takedown.Item
	dest := append([]any{&it.ID, &it.OperationID, &it.Identity, &it.URL, &it.Platform, &it.Kind, &it.Handle, &it.Title, &it.Status, &it.SubmissionCount, &it.FirstSubmittedAt, &it.LastSubmittedAt,
		&it.Provider, &it.Attribution}, more...)
	if err := row.Scan(dest...); err != nil {
		return nil, err
	}
	it.FirstSubmittedAt, it.LastSubmittedAt = it.FirstSubmittedAt.UTC(), it.LastSubmittedAt.UTC()
	return &it, nil
}

// submissionCoverage finds the holds active at now that cover the items
// of a batch's new submissions: each new submitter is concerned.
func submissionCoverage(ctx context.Context, tx pgx.Tx, operationID int64, now time.Time, subs []takedown.NewSubmission, itemID map[string]int64, inserted func(i int) bool, agencyCode func(id int64) string) ([]takedown.HoldCoverage, error) {
	rows, err := tx.Query(ctx, `SELECT `+holdColumns+` FROM `+holdFrom+` WHERE h.operation_id = $1 AND h.released_at IS NULL AND h.expires_at > $2`, operationID, ts(now))
	if err != nil {
		return nil, err
	}
	holds, err := collectHolds(rows)
	if err != nil || len(holds) == 0 {
		return nil, err
	}
	return takedown.SubmissionCoverage(holds, subs, itemID, inserted, agencyCode), nil
}

// notify writes notifications inside tx.
func (db *DB) notify(ctx context.Context, tx pgx.Tx, notes []takedown.Notification) error {
	now := ts(db.now())
	for _, n := range notes {
		var holdID *int64
		if n.HoldID != 0 {
			holdID = &n.HoldID
		}
		_, err := tx.Exec(ctx, `INSERT INTO notifications (operation_id, agency_id, kind, message, item_ids, hold_id, created_at)
			VALUES ($1, (SELECT id FROM agencies WHERE code = $2), $3, $4, $5, $6, $7)`,
			n.OperationID, n.Agency, n.Kind, n.Message, jsonString(n.ItemIDs), holdID, now)
		if err != nil {
			return fmt.Errorf("notify: %w", err)
		}
	}
	return nil
}

const notificationColumns = `n.id, n.operation_id, o.slug, coalesce(a.code, ''), coalesce(n.agency_id, 0), n.kind, n.message, n.item_ids, coalesce(n.hold_id, 0), n.created_at, n.read_at`

const notificationFrom = ` FROM notifications n JOIN operations o ON o.id = n.operation_id LEFT JOIN agencies a ON a.id = n.agency_id `

func scanNotification(row pgx.Row) (*takedown.Notification, error) {
	var n takedown.Notification
	var ids string
	if err := row.Scan(&n.ID, &n.OperationID, &n.Operation, &n.Agency, &n.AgencyID, &n.Kind, &n.Message, &ids, &n.HoldID, &n.CreatedAt, &n.ReadAt); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(ids), &n.ItemIDs); err != nil {
		return nil, fmt.Errorf("notification %d: items: %w", n.ID, err)
	}
	n.CreatedAt = n.CreatedAt.UTC()
	if n.ReadAt != nil {
		t := n.ReadAt.UTC()
		n.ReadAt = &t
	}
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
		args = append(args, f.Agency)
		who = append(who, fmt.Sprintf("a.code = $%d", len(args)))
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
	where := "n.operation_id = $1 AND (" + strings.Join(who, " OR ") + ")"
	if f.Unread {
		where += " AND n.read_at IS NULL"
	}
	args = append(args, limit)
	rows, err := db.pool.Query(ctx, `SELECT `+notificationColumns+notificationFrom+`WHERE `+where+fmt.Sprintf(` ORDER BY n.id DESC LIMIT $%d`, len(args)), args...)
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
	n, err := scanNotification(db.pool.QueryRow(ctx, `SELECT `+notificationColumns+notificationFrom+`WHERE n.id = $1`, id))
	if err == pgx.ErrNoRows {
		return nil, takedown.Errorf(takedown.ENOTFOUND, "no notification %d", id)
	}
	return n, translate(err, "find notification")
}

func (db *DB) MarkNotificationRead(ctx context.Context, id int64) (*takedown.Notification, error) {
	tag, err := db.pool.Exec(ctx, `UPDATE notifications SET read_at = coalesce(read_at, $2) WHERE id = $1`, id, ts(db.now()))
	if err != nil {
		return nil, translate(err, "mark notification read")
	}
	if tag.RowsAffected() == 0 {
		return nil, takedown.Errorf(takedown.ENOTFOUND, "no notification %d", id)
	}
	return db.FindNotification(ctx, id)
}
