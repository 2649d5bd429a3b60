package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/takedown-project/takedown"
)

// appendAudit adds events for recs to the chain inside tx, the transaction
// of the change they record. SQLite has one writer at a time, so the head
// read here cannot move before the transaction commits.
func (db *DB) appendAudit(ctx context.Context, tx *sql.Tx, recs ...takedown.AuditRecord) error {
	var head takedown.AuditHead
	var at int64
	if err := tx.QueryRowContext(ctx, `SELECT seq, hash, at FROM audit_head WHERE id = 1`).Scan(&head.Seq, &head.Hash, &at); err != nil {
		return fmt.Errorf("audit head: %w", err)
	}
	evs, err := takedown.Seal(head, db.now(), takedown.ActorFrom(ctx), recs)
	if err != nil {
		return err
	}
	for _, e := range evs {
		if _, err := tx.ExecContext(ctx, `INSERT INTO audit_events (seq, at, actor, action, subject, operation, details, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			e.Seq, formatTime(e.At), e.Actor, e.Action, e.Subject, e.Operation, string(e.Details), e.PrevHash, e.Hash); err != nil {
			return fmt.Errorf("audit event: %w", err)
		}
	}
	last := evs[len(evs)-1]
	_, err = tx.ExecContext(ctx, `UPDATE audit_head SET seq = ?, hash = ?, at = ? WHERE id = 1`, last.Seq, last.Hash, formatTime(last.At))
	return err
}

func (db *DB) ListAudit(ctx context.Context, f takedown.AuditFilter) ([]*takedown.AuditEvent, error) {
	limit := f.Limit
	if limit <= 0 {
		limit = 1000
	}
	where, args := []string{"seq > ?"}, []any{f.AfterSeq}
	if f.Operation != "" {
		where, args = append(where, "operation = ?"), append(args, f.Operation)
	}
	if f.Subject != "" {
		where, args = append(where, "subject = ?"), append(args, f.Subject)
	}
	rows, err := db.read.QueryContext(ctx, `SELECT seq, at, actor, action, subject, operation, details, prev_hash, hash FROM audit_events
		WHERE `+strings.Join(where, " AND ")+` ORDER BY seq LIMIT ?`, append(args, limit)...)
	if err != nil {
		return nil, translate(err, "list audit events")
	}
	defer rows.Close()
	var out []*takedown.AuditEvent
	for rows.Next() {
		var e takedown.AuditEvent
		var at int64
		var details string
		if err := rows.Scan(&e.Seq, &at, &e.Actor, &e.Action, &e.Subject, &e.Operation, &details, &e.PrevHash, &e.Hash); err != nil {
			return nil, translate(err, "list audit events")
		}
		e.At, e.Details = parseTime(at), []byte(details)
		out = append(out, &e)
	}
	return out, translate(rows.Err(), "list audit events")
}

func (db *DB) AuditHead(ctx context.Context) (takedown.AuditHead, error) {
	var h takedown.AuditHead
	var at int64
	err := db.read.QueryRowContext(ctx, `SELECT seq, hash, at FROM audit_head WHERE id = 1`).Scan(&h.Seq, &h.Hash, &at)
	if at != 0 {
		h.At = parseTime(at)
	}
	return h, translate(err, "audit head")
}
