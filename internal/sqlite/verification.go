package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/takedown-project/takedown"
)

// Verification lives on the item's row (items.status is its status once a
// provider received a referral of the item); observations have a table of
// their own.

// verificationColumns are an item's verification, of items i.
const verificationColumns = `i.status, i.referred_at, i.offline_since, i.confirmed_at, i.removed_at, i.reinstated_at,
	i.last_probe_at, i.last_verdict, i.last_reason, i.probes, i.next_probe_at`

// verificationFields returns the scan destinations of verificationColumns
// and a function that sets v from them once scanned.
func verificationFields(v *takedown.Verification) ([]any, func()) {
	var referred, offline, confirmed, removed, reinstated, last, next sql.NullInt64
	dest := []any{&v.Status, &referred, &offline, &confirmed, &removed, &reinstated, &last, &v.LastVerdict, &v.LastReason, &v.Probes, &next}
	return dest, func() {
		v.ReferredAt, v.OfflineSince, v.ConfirmedAt, v.RemovedAt = optionalTime(referred), optionalTime(offline), optionalTime(confirmed), optionalTime(removed)
		v.ReinstatedAt, v.LastProbeAt, v.NextProbeAt = optionalTime(reinstated), optionalTime(last), optionalTime(next)
	}
}

// storedTime is an optional time as stored: NULL for none.
func storedTime(t *time.Time) any {
	if t == nil {
		return nil
	}
	return formatTime(*t)
}

func (db *DB) FindVerification(ctx context.Context, itemID int64) (*takedown.Verification, error) {
	var v takedown.Verification
	dest, set := verificationFields(&v)
	err := db.read.QueryRowContext(ctx, `SELECT `+verificationColumns+` FROM items i WHERE i.id = ?`, itemID).Scan(dest...)
	if err == sql.ErrNoRows {
		return nil, takedown.Errorf(takedown.ENOTFOUND, "no item %d", itemID)
	} else if err != nil {
		return nil, translate(err, "find verification")
	}
	set()
	return &v, nil
}

// ClaimDueProbes reads the due items and moves them on in one write
// transaction: SQLite has one writer, so no other claim comes between.
func (db *DB) ClaimDueProbes(ctx context.Context, now time.Time, limit int, lease time.Duration) ([]takedown.ProbeTarget, error) {
	if limit <= 0 || lease <= 0 {
		return nil, takedown.Errorf(takedown.EINVALID, "claim due probes: limit %d and lease %s must be positive", limit, lease)
	}
	const due = `FROM items WHERE next_probe_at <= ? ORDER BY next_probe_at, id LIMIT ?`
	var out []takedown.ProbeTarget
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT id, operation_id, url, platform, kind `+due, formatTime(now), limit)
		if err != nil {
			return err
		}
		out, err = scanTargets(rows)
		if err != nil || len(out) == 0 {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE items SET next_probe_at = ? WHERE id IN (SELECT id `+due+`)`, formatTime(now.Add(lease)), formatTime(now), limit)
		return err
	})
	if err != nil {
		return nil, translate(err, "claim due probes")
	}
	return out, nil
}

func scanTargets(rows *sql.Rows) ([]takedown.ProbeTarget, error) {
	defer rows.Close()
	out := []takedown.ProbeTarget{}
	for rows.Next() {
		var t takedown.ProbeTarget
		if err := rows.Scan(&t.ItemID, &t.OperationID, &t.URL, &t.Platform, &t.Kind); err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// ProbeTargets selects as ListItems does, in ascending ID order. Returns
// ENOTFOUND for an unknown operation.
func (db *DB) ProbeTargets(ctx context.Context, f takedown.ItemFilter, afterID int64, limit int) ([]takedown.ProbeTarget, error) {
	if limit <= 0 {
		limit = takedown.DefaultPageSize
	}
	where, args := itemConditions(f)
	where, args = append(where, "i.id > ?"), append(args, afterID, limit)
	rows, err := db.read.QueryContext(ctx, `SELECT i.id, i.operation_id, i.url, i.platform, i.kind FROM items i
		WHERE `+strings.Join(where, " AND ")+` ORDER BY i.id LIMIT ?`, args...)
	if err != nil {
		return nil, translate(err, "probe targets")
	}
	out, err := scanTargets(rows)
	if err != nil {
		return nil, translate(err, "probe targets")
	}
	if len(out) == 0 {
		return out, db.operationExists(ctx, f.OperationID)
	}
	return out, nil
}

// operationExists returns ENOTFOUND for an unknown operation.
func (db *DB) operationExists(ctx context.Context, id int64) error {
	var n int
	if err := db.read.QueryRowContext(ctx, `SELECT count(*) FROM operations WHERE id = ?`, id).Scan(&n); err != nil {
		return translate(err, "find operation")
	}
	if n == 0 {
		return takedown.Errorf(takedown.ENOTFOUND, "no operation with ID %d", id)
	}
	return nil
}

// RecordObservations reads the items observed, applies the observations in
// Go and writes the items, the observations and the chain's events back
// with multi-row statements, in one write transaction.
func (db *DB) RecordObservations(ctx context.Context, obs []takedown.Observation, s takedown.Schedule) ([]takedown.Change, error) {
	if len(obs) == 0 {
		return []takedown.Change{}, nil
	}
	obs, err := takedown.PrepareObservations(obs, db.now())
	if err != nil {
		return nil, err
	}
	ids := make([]int64, 0, len(obs))
	for _, o := range obs {
		ids = append(ids, o.ItemID)
	}
	slices.Sort(ids)
	ids = slices.Compact(ids)
	var changes []takedown.Change
	err = db.inTx(ctx, func(tx *sql.Tx) error {
		items := make(map[int64]*takedown.ObservedItem, len(ids))
		for chunk := range slices.Chunk(ids, chunkRows) {
			args := make([]any, len(chunk))
			for i, id := range chunk {
				args[i] = id
			}
			rows, err := tx.QueryContext(ctx, `SELECT i.id, i.operation_id, o.slug, i.url, `+verificationColumns+`
				FROM items i JOIN operations o ON o.id = i.operation_id WHERE i.id IN (`+placeholders(len(chunk), 1)+`)`, args...)
			if err != nil {
				return err
			}
			for rows.Next() {
				it := &takedown.ObservedItem{}
				dest, set := verificationFields(&it.Verification)
				if err := rows.Scan(append([]any{&it.ID, &it.OperationID, &it.Operation, &it.URL}, dest...)...); err != nil {
					rows.Close()
					return err
				}
				set()
				items[it.ID] = it
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return err
			}
		}
		for _, id := range ids {
			if items[id] == nil {
				return takedown.Errorf(takedown.ENOTFOUND, "no item %d", id)
			}
		}
		var recs []takedown.AuditRecord
		changes, recs = takedown.ApplyObservations(obs, items, s)

		const itemCols = 11
		update := func(n int) string {
			return `WITH u(id, status, offline_since, confirmed_at, removed_at, reinstated_at, last_probe_at, last_verdict, last_reason, probes, next_probe_at)
				AS (VALUES ` + placeholders(n, itemCols) + `)
				UPDATE items SET status = u.status, offline_since = u.offline_since, confirmed_at = u.confirmed_at, removed_at = u.removed_at,
					reinstated_at = u.reinstated_at, last_probe_at = u.last_probe_at, last_verdict = u.last_verdict, last_reason = u.last_reason,
					probes = u.probes, next_probe_at = u.next_probe_at
				FROM u WHERE items.id = u.id`
		}
		for chunk := range slices.Chunk(ids, chunkRows) {
			args := make([]any, 0, itemCols*len(chunk))
			for _, id := range chunk {
				v := &items[id].Verification
				args = append(args, id, v.Status, storedTime(v.OfflineSince), storedTime(v.ConfirmedAt), storedTime(v.RemovedAt), storedTime(v.ReinstatedAt),
					storedTime(v.LastProbeAt), v.LastVerdict, v.LastReason, v.Probes, storedTime(v.NextProbeAt))
			}
			if _, err := tx.ExecContext(ctx, update(len(chunk)), args...); err != nil {
				return fmt.Errorf("update items: %w", err)
			}
		}
		const obsCols = 12
		for chunk := range slices.Chunk(obs, chunkRows) {
			args := make([]any, 0, obsCols*len(chunk))
			for _, o := range chunk {
				args = append(args, o.ItemID, items[o.ItemID].OperationID, formatTime(o.At), o.Verdict, o.Reason, o.Rule, o.Status, o.FinalURL,
					o.Bytes, o.LatencyMS, o.Error, o.Region)
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO observations (item_id, operation_id, at, verdict, reason, rule, status, final_url, bytes, latency_ms, error, region)
				VALUES `+placeholders(len(chunk), obsCols), args...); err != nil {
				return fmt.Errorf("record observations: %w", err)
			}
		}
		if len(recs) == 0 {
			return nil
		}
		return db.appendAudit(ctx, tx, recs...)
	})
	if err != nil {
		return nil, translate(err, "record observations")
	}
	return changes, nil
}

func (db *DB) ListObservations(ctx context.Context, itemID int64, limit int) ([]takedown.Observation, error) {
	if limit <= 0 {
		limit = takedown.DefaultPageSize
	}
	rows, err := db.read.QueryContext(ctx, `SELECT id, item_id, at, verdict, reason, rule, status, final_url, bytes, latency_ms, error, region
		FROM observations WHERE item_id = ? ORDER BY at DESC, id DESC LIMIT ?`, itemID, limit)
	if err != nil {
		return nil, translate(err, "list observations")
	}
	defer rows.Close()
	out := []takedown.Observation{}
	for rows.Next() {
		var o takedown.Observation
		var at int64
		if err := rows.Scan(&o.ID, &o.ItemID, &at, &o.Verdict, &o.Reason, &o.Rule, &o.Status, &o.FinalURL, &o.Bytes, &o.LatencyMS, &o.Error, &o.Region); err != nil {
			return nil, translate(err, "list observations")
		}
		o.At = parseTime(at)
		out = append(out, o)
	}
	if err := rows.Err(); err != nil {
		return nil, translate(err, "list observations")
	}
	if len(out) == 0 {
		return out, db.itemExists(ctx, itemID, "list observations")
	}
	return out, nil
}

// RemovalTimes names, as an item's provider, the provider of its first
// referral (the one asked to remove it), else the one it is attributed
// to.
func (db *DB) RemovalTimes(ctx context.Context, operationID int64) ([]takedown.RemovalTime, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT i.id, i.platform, i.referred_at, i.removed_at,
			coalesce((SELECT p.code FROM referral_items ri JOIN referrals r ON r.id = ri.referral_id JOIN providers p ON p.id = r.provider_id
				WHERE ri.item_id = i.id ORDER BY r.id LIMIT 1), (SELECT p.code FROM providers p WHERE p.id = i.provider_id), '')
		FROM items i WHERE i.operation_id = ? AND i.referred_at IS NOT NULL ORDER BY i.id`, operationID)
	if err != nil {
		return nil, translate(err, "removal times")
	}
	defer rows.Close()
	out := []takedown.RemovalTime{}
	for rows.Next() {
		var t takedown.RemovalTime
		var referred int64
		var removed sql.NullInt64
		if err := rows.Scan(&t.ItemID, &t.Platform, &referred, &removed, &t.Provider); err != nil {
			return nil, translate(err, "removal times")
		}
		t.ReferredAt = parseTime(referred)
		if removed.Valid {
			t.RemovedAt = parseTime(removed.Int64)
		}
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, translate(err, "removal times")
	}
	if len(out) == 0 {
		return out, db.operationExists(ctx, operationID)
	}
	return out, nil
}

func (db *DB) CountByStatus(ctx context.Context, operationID int64) (map[takedown.ItemStatus]int, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT status, sum(n) FROM item_counts WHERE operation_id = ? AND dimension = 'kind' GROUP BY status HAVING sum(n) <> 0`, operationID)
	if err != nil {
		return nil, translate(err, "count items by status")
	}
	defer rows.Close()
	out := map[takedown.ItemStatus]int{}
	for rows.Next() {
		var st takedown.ItemStatus
		var n int
		if err := rows.Scan(&st, &n); err != nil {
			return nil, translate(err, "count items by status")
		}
		out[st] = n
	}
	if err := rows.Err(); err != nil {
		return nil, translate(err, "count items by status")
	}
	if len(out) == 0 {
		return out, db.operationExists(ctx, operationID)
	}
	return out, nil
}

// itemExists returns ENOTFOUND for an unknown item: an empty list of an
// item's records says nothing about whether the item is there.
func (db *DB) itemExists(ctx context.Context, id int64, what string) error {
	var n int
	if err := db.read.QueryRowContext(ctx, `SELECT count(*) FROM items WHERE id = ?`, id).Scan(&n); err != nil {
		return translate(err, what)
	}
	if n == 0 {
		return takedown.Errorf(takedown.ENOTFOUND, "no item %d", id)
	}
	return nil
}

func (db *DB) Breakdown(ctx context.Context, operationID int64) ([]takedown.BreakdownRow, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT dimension, grp, status, n FROM item_counts WHERE operation_id = ? AND n <> 0`, operationID)
	if err != nil {
		return nil, translate(err, "breakdown")
	}
	defer rows.Close()
	out := []takedown.BreakdownRow{}
	for rows.Next() {
		var r takedown.BreakdownRow
		if err := rows.Scan(&r.Dimension, &r.Group, &r.Status, &r.Count); err != nil {
			return nil, translate(err, "breakdown")
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, translate(err, "breakdown")
	}
	if len(out) == 0 {
		return out, db.operationExists(ctx, operationID)
	}
	takedown.SortBreakdown(out)
	return out, nil
}

func (db *DB) SaveReportSnapshot(ctx context.Context, operationID int64, r *takedown.Report) error {
	body, err := json.Marshal(r)
	if err != nil {
		return err
	}
	return db.inTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO report_snapshots (operation_id, at, body) VALUES (?, ?, ?)
			ON CONFLICT (operation_id) DO UPDATE SET at = excluded.at, body = excluded.body WHERE excluded.at > report_snapshots.at`,
			operationID, formatTime(r.AsOf), string(body))
		return translate(err, "save the report")
	})
}

func (db *DB) LoadReportSnapshot(ctx context.Context, operationID int64) (*takedown.Report, error) {
	var body string
	err := db.read.QueryRowContext(ctx, `SELECT body FROM report_snapshots WHERE operation_id = ?`, operationID).Scan(&body)
	if err == sql.ErrNoRows {
		return nil, takedown.Errorf(takedown.ENOTFOUND, "no report of operation %d yet", operationID)
	}
	if err != nil {
		return nil, translate(err, "load the report")
	}
	r := &takedown.Report{}
	if err := json.Unmarshal([]byte(body), r); err != nil {
		return nil, fmt.Errorf("the report of operation %d: %w", operationID, err)
	}
	return r, nil
}
