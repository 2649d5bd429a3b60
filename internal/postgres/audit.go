package postgres

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/takedown-project/takedown"
)

// appendAudit adds events for recs to the chain inside tx, the transaction
// of the change they record, as done by the context's actor. It locks the
// head row until tx ends, which serialises every writer of the chain: call
// it last in a transaction, just before the commit, so that the lock is
// held only briefly. Because the lock is held to the commit, the order of
// the events is the order in which their changes committed.
func (db *DB) appendAudit(ctx context.Context, tx pgx.Tx, recs ...takedown.AuditRecord) error {
	if len(recs) == 0 {
		return nil
	}
	var head takedown.AuditHead
	if err := tx.QueryRow(ctx, `SELECT seq, hash FROM audit_head WHERE id = 1 FOR UPDATE`).Scan(&head.Seq, &head.Hash); err != nil {
		return fmt.Errorf("lock audit head: %w", err)
	}
	// The time is taken once the lock is held, so that times rise with
	// sequence numbers (as far as the clock does).
	evs, err := takedown.Seal(head, db.now(), takedown.ActorFrom(ctx), recs)
	if err != nil {
		return err
	}
	n := len(evs)
	seqs, ats := make([]int64, n), make([]time.Time, n)
	actors, actions, subjects, ops, details, prevs, hashes := make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	for i, e := range evs {
		seqs[i], ats[i], actors[i], actions[i], subjects[i] = e.Seq, e.At, e.Actor, e.Action, e.Subject
		ops[i], details[i], prevs[i], hashes[i] = e.Operation, string(e.Details), e.PrevHash, e.Hash
	}
	if _, err := tx.Exec(ctx, `
		INSERT INTO audit_events (seq, at, actor, action, subject, operation, details, prev_hash, hash)
		SELECT * FROM unnest($1::bigint[], $2::timestamptz[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[])`,
		seqs, ats, actors, actions, subjects, ops, details, prevs, hashes); err != nil {
		return fmt.Errorf("record audit events: %w", err)
	}
	last := evs[n-1]
	if _, err := tx.Exec(ctx, `UPDATE audit_head SET seq = $1, hash = $2, at = $3 WHERE id = 1`, last.Seq, last.Hash, last.At); err != nil {
		return fmt.Errorf("move audit head: %w", err)
	}
	return nil
}

// defaultAuditLimit is the page size of ListAudit without a limit.
const defaultAuditLimit = 1000

func (db *DB) ListAudit(ctx context.Context, f takedown.AuditFilter) ([]*takedown.AuditEvent, error) {
	limit := f.Limit
	if limit <= 0 {
		limit = defaultAuditLimit
	}
	where, args := []string{"seq > $1"}, []any{f.AfterSeq}
	if f.Operation != "" {
		args = append(args, f.Operation)
		where = append(where, fmt.Sprintf("operation = $%d", len(args)))
	}
	if f.Subject != "" {
		args = append(args, f.Subject)
		where = append(where, fmt.Sprintf("subject = $%d", len(args)))
	}
	args = append(args, limit)
	rows, err := db.pool.Query(ctx, fmt.Sprintf(`SELECT seq, at, actor, action, subject, operation, details, prev_hash, hash
		FROM audit_events WHERE %s ORDER BY seq LIMIT $%d`, strings.Join(where, " AND "), len(args)), args...)
	if err != nil {
		return nil, translate(err, "list audit events")
	}
	evs, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (*takedown.AuditEvent, error) {
		var e takedown.AuditEvent
		var details string
		err := row.Scan(&e.Seq, &e.At, &e.Actor, &e.Action, &e.Subject, &e.Operation, &details, &e.PrevHash, &e.Hash)
		e.At, e.Details = e.At.UTC(), []byte(details)
		return &e, err
	})
	return evs, translate(err, "list audit events")
}

func (db *DB) AuditHead(ctx context.Context) (takedown.AuditHead, error) {
	var h takedown.AuditHead
	var at *time.Time
	err := db.pool.QueryRow(ctx, `SELECT seq, hash, at FROM audit_head WHERE id = 1`).Scan(&h.Seq, &h.Hash, &at)
	if at != nil {
		h.At = at.UTC()
	}
	return h, translate(err, "read audit head")
}
