package postgres

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/takedown-project/takedown"
)

// Verification lives on the item's row (items.status is its status once a
// provider received a referral of the item); observations have a table of
// their own.

// verificationColumns are an item's verification, of items i.
const verificationColumns = `i.status, i.referred_at, i.offline_since, i.confirmed_at, i.removed_at, i.reinstated_at,
	i.last_probe_at, i.last_verdict, i.last_reason, i.probes, i.next_probe_at`

// verificationFields returns the scan destinations of verificationColumns
// and a function that tidies v once scanned.
func verificationFields(v *takedown.Verification) ([]any, func()) {
	dest := []any{&v.Status, &v.ReferredAt, &v.OfflineSince, &v.ConfirmedAt, &v.RemovedAt, &v.ReinstatedAt,
		&v.LastProbeAt, &v.LastVerdict, &v.LastReason, &v.Probes, &v.NextProbeAt}
	return dest, func() {
		v.ReferredAt, v.OfflineSince, v.ConfirmedAt, v.RemovedAt = utc(v.ReferredAt), utc(v.OfflineSince), utc(v.ConfirmedAt), utc(v.RemovedAt)
		v.ReinstatedAt, v.LastProbeAt, v.NextProbeAt = utc(v.ReinstatedAt), utc(v.LastProbeAt), utc(v.NextProbeAt)
	}
}

// queueScheduleReferred adds to b the start of the verification of the
// items of a referral a provider received at at: an item's first receipt
// is the start of its time to removal, and its first probe is due at
// once, to record that it was online when referred. An item received
// before keeps its receipt and schedule, and an item past referred its
// status. The items are locked in ID order, as RecordObservations locks
// them.
func queueScheduleReferred(b *pgx.Batch, referralID int64, at time.Time) {
	b.Queue(`
		WITH l AS (SELECT id FROM items WHERE id IN (SELECT item_id FROM referral_items WHERE referral_id = $1) ORDER BY id FOR NO KEY UPDATE)
		UPDATE items SET referred_at = coalesce(items.referred_at, $2::timestamptz), next_probe_at = coalesce(items.next_probe_at, $2::timestamptz),
			status = CASE WHEN items.status = $3 THEN $4 ELSE items.status END
		FROM l WHERE items.id = l.id`,
		referralID, ts(at), string(takedown.ItemSubmitted), string(takedown.ItemReferred))
}

func (db *DB) FindVerification(ctx context.Context, itemID int64) (*takedown.Verification, error) {
	var v takedown.Verification
	dest, tidy := verificationFields(&v)
	err := db.pool.QueryRow(ctx, `SELECT `+verificationColumns+` FROM items i WHERE i.id = $1`, itemID).Scan(dest...)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, takedown.Errorf(takedown.ENOTFOUND, "no item %d", itemID)
	} else if err != nil {
		return nil, translate(err, "find verification")
	}
	tidy()
	return &v, nil
}

// ClaimDueProbes takes the due items that no other transaction holds
// (SKIP LOCKED): concurrent workers get disjoint batches without waiting
// for each other. The claimed IDs go to the update as one array, in the
// order they were claimed: a join with the claim would let a generic plan,
// which does not know the limit, scan every item (a quarter of a second
// at 1,000,000 items); id = ANY is an index probe per item whatever the
// plan.
func (db *DB) ClaimDueProbes(ctx context.Context, now time.Time, limit int, lease time.Duration) ([]takedown.ProbeTarget, error) {
	if limit <= 0 || lease <= 0 {
		return nil, takedown.Errorf(takedown.EINVALID, "claim due probes: limit %d and lease %s must be positive", limit, lease)
	}
	rows, err := db.pool.Query(ctx, `
		WITH due AS (
			SELECT array_agg(id ORDER BY next_probe_at, id) AS ids FROM (
				SELECT id, next_probe_at FROM items WHERE next_probe_at <= $1 ORDER BY next_probe_at, id LIMIT $2
				FOR NO KEY UPDATE SKIP LOCKED) d
		)
		UPDATE items SET next_probe_at = $3 FROM due WHERE items.id = ANY (due.ids)
		RETURNING items.id, items.operation_id, items.url, items.platform, items.kind, array_position(due.ids, items.id)`,
		ts(now), limit, ts(now.Add(lease)))
	if err != nil {
		return nil, translate(err, "claim due probes")
	}
	type claimed struct {
		t     takedown.ProbeTarget
		order int32
	}
	var c claimed
	var got []claimed
	if _, err := pgx.ForEachRow(rows, []any{&c.t.ItemID, &c.t.OperationID, &c.t.URL, &c.t.Platform, &c.t.Kind, &c.order}, func() error {
		got = append(got, c)
		return nil
	}); err != nil {
		return nil, translate(err, "claim due probes")
	}
	slices.SortFunc(got, func(a, b claimed) int { return cmp.Compare(a.order, b.order) })
	out := make([]takedown.ProbeTarget, len(got))
	for i, c := range got {
		out[i] = c.t
	}
	return out, nil
}

// ProbeTargets selects as ListItems does, in ascending ID order. Returns
// ENOTFOUND for an unknown operation.
func (db *DB) ProbeTargets(ctx context.Context, f takedown.ItemFilter, afterID int64, limit int) ([]takedown.ProbeTarget, error) {
	if limit <= 0 {
		limit = takedown.DefaultPageSize
	}
	c := itemConditions(f)
	c.add("i.id > ?", afterID)
	rows, err := db.pool.Query(ctx, fmt.Sprintf(`SELECT i.id, i.operation_id, i.url, i.platform, i.kind FROM items i
		WHERE %s ORDER BY i.id LIMIT $%d`, strings.Join(c.where, " AND "), len(c.args)+1), append(c.args, limit)...)
	if err != nil {
		return nil, translate(err, "probe targets")
	}
	out := []takedown.ProbeTarget{}
	var t takedown.ProbeTarget
	if _, err := pgx.ForEachRow(rows, []any{&t.ItemID, &t.OperationID, &t.URL, &t.Platform, &t.Kind}, func() error {
		out = append(out, t)
		return nil
	}); err != nil {
		return nil, translate(err, "probe targets")
	}
	if len(out) == 0 {
		return out, db.operationExists(ctx, f.OperationID)
	}
	return out, nil
}

// operationExists returns ENOTFOUND for an unknown operation.
func (db *DB) operationExists(ctx context.Context, id int64) error {
	var exists bool
	if err := db.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM operations WHERE id = $1)`, id).Scan(&exists); err != nil {
		return translate(err, "find operation")
	}
	if !exists {
		return takedown.Errorf(takedown.ENOTFOUND, "no operation with ID %d", id)
	}
	return nil
}

// RecordObservations locks the items observed in ID order (as Submit and
// the receipt of a referral lock items), applies the observations in Go,
// and writes the items and the observations back with one set-based
// statement each, then the chain's events.
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
	err = pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT i.id, i.operation_id, o.slug, i.url, `+verificationColumns+`
			FROM items i JOIN operations o ON o.id = i.operation_id WHERE i.id = ANY($1) ORDER BY i.id FOR NO KEY UPDATE OF i`, ids)
		if err != nil {
			return fmt.Errorf("lock items: %w", err)
		}
		items := make(map[int64]*takedown.ObservedItem, len(ids))
		for rows.Next() {
			it := &takedown.ObservedItem{}
			dest, tidy := verificationFields(&it.Verification)
			if err := rows.Scan(append([]any{&it.ID, &it.OperationID, &it.Operation, &it.URL}, dest...)...); err != nil {
				rows.Close()
				return fmt.Errorf("lock items: %w", err)
			}
			tidy()
			items[it.ID] = it
		}
		if err := rows.Err(); err != nil {
			return fmt.Errorf("lock items: %w", err)
		}
		for _, id := range ids {
			if items[id] == nil {
				return takedown.Errorf(takedown.ENOTFOUND, "no item %d", id)
			}
		}
		var recs []takedown.AuditRecord
		changes, recs = takedown.ApplyObservations(obs, items, s)

		n := len(ids)
		statuses, verdicts, reasons, probes := make([]string, n), make([]string, n), make([]string, n), make([]int32, n)
		offline, confirmed, removed, reinstated, last, next := make([]*time.Time, n), make([]*time.Time, n), make([]*time.Time, n), make([]*time.Time, n), make([]*time.Time, n), make([]*time.Time, n)
		for i, id := range ids {
			v := &items[id].Verification
			statuses[i], verdicts[i], reasons[i], probes[i] = string(v.Status), string(v.LastVerdict), v.LastReason, int32(v.Probes)
			offline[i], confirmed[i], removed[i], reinstated[i], last[i], next[i] = v.OfflineSince, v.ConfirmedAt, v.RemovedAt, v.ReinstatedAt, v.LastProbeAt, v.NextProbeAt
		}
		m := len(obs)
		oItems, oOps, oAt, oVerdicts, oReasons, oRules := make([]int64, m), make([]int64, m), make([]time.Time, m), make([]string, m), make([]string, m), make([]string, m)
		oStatus, oFinal, oBytes, oLatency, oErrors, oRegions := make([]int32, m), make([]string, m), make([]int64, m), make([]int64, m), make([]string, m), make([]string, m)
		for i, o := range obs {
			oItems[i], oOps[i], oAt[i], oVerdicts[i], oReasons[i], oRules[i] = o.ItemID, items[o.ItemID].OperationID, o.At, string(o.Verdict), o.Reason, o.Rule
			oStatus[i], oFinal[i], oBytes[i], oLatency[i], oErrors[i], oRegions[i] = int32(o.Status), o.FinalURL, o.Bytes, o.LatencyMS, o.Error, o.Region
		}
		b := &pgx.Batch{}
		b.Queue(`
			UPDATE items SET status = u.status, offline_since = u.offline_since, confirmed_at = u.confirmed_at, removed_at = u.removed_at,
				reinstated_at = u.reinstated_at, last_probe_at = u.last_probe_at, last_verdict = u.last_verdict, last_reason = u.last_reason,
				probes = u.probes, next_probe_at = u.next_probe_at
			FROM unnest($1::bigint[], $2::text[], $3::timestamptz[], $4::timestamptz[], $5::timestamptz[], $6::timestamptz[], $7::timestamptz[],
				$8::text[], $9::text[], $10::int[], $11::timestamptz[])
				AS u(id, status, offline_since, confirmed_at, removed_at, reinstated_at, last_probe_at, last_verdict, last_reason, probes, next_probe_at)
			WHERE items.id = u.id`,
			ids, statuses, offline, confirmed, removed, reinstated, last, verdicts, reasons, probes, next)
		b.Queue(`
			INSERT INTO observations (item_id, operation_id, at, verdict, reason, rule, status, final_url, bytes, latency_ms, error, region)
			SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::timestamptz[], $4::text[], $5::text[], $6::text[], $7::int[], $8::text[],
				$9::bigint[], $10::bigint[], $11::text[], $12::text[])`,
			oItems, oOps, oAt, oVerdicts, oReasons, oRules, oStatus, oFinal, oBytes, oLatency, oErrors, oRegions)
		if err := tx.SendBatch(ctx, b).Close(); err != nil {
			return fmt.Errorf("record observations: %w", err)
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
	rows, err := db.pool.Query(ctx, `SELECT id, item_id, at, verdict, reason, rule, status, final_url, bytes, latency_ms, error, region
		FROM observations WHERE item_id = $1 ORDER BY at DESC, id DESC LIMIT $2`, itemID, limit)
	if err != nil {
		return nil, translate(err, "list observations")
	}
	out := []takedown.Observation{}
	var o takedown.Observation
	if _, err := pgx.ForEachRow(rows, []any{&o.ID, &o.ItemID, &o.At, &o.Verdict, &o.Reason, &o.Rule, &o.Status, &o.FinalURL, &o.Bytes, &o.LatencyMS, &o.Error, &o.Region}, func() error {
		o.At = o.At.UTC()
		out = append(out, o)
		return nil
	}); err != nil {
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
	rows, err := db.pool.Query(ctx, `SELECT i.id, i.platform, i.referred_at, i.removed_at,
			coalesce((SELECT pr.code FROM referral_items ri JOIN referrals r ON r.id = ri.referral_id JOIN providers pr ON pr.id = r.provider_id
				WHERE ri.item_id = i.id ORDER BY r.id LIMIT 1), (SELECT pr.code FROM providers pr WHERE pr.id = i.provider_id), '')
		FROM items i WHERE i.operation_id = $1 AND i.referred_at IS NOT NULL ORDER BY i.id`, operationID)
	if err != nil {
		return nil, translate(err, "removal times")
	}
	out := []takedown.RemovalTime{}
	var t takedown.RemovalTime
	var removed *time.Time
	if _, err := pgx.ForEachRow(rows, []any{&t.ItemID, &t.Platform, &t.ReferredAt, &removed, &t.Provider}, func() error {
		t.ReferredAt, t.RemovedAt = t.ReferredAt.UTC(), time.Time{}
		if removed != nil {
			t.RemovedAt = removed.UTC()
		}
		out = append(out, t)
		return nil
	}); err != nil {
		return nil, translate(err, "removal times")
	}
	if len(out) == 0 {
		return out, db.operationExists(ctx, operationID)
	}
	return out, nil
}

func (db *DB) CountByStatus(ctx context.Context, operationID int64) (map[takedown.ItemStatus]int, error) {
	rows, err := db.counts(ctx, operationID)
	if err != nil {
		return nil, translate(err, "count items by status")
	}
	out := map[takedown.ItemStatus]int{}
	for _, r := range rows {
		if r.Dimension == "kind" {
			out[r.Status] += r.Count
		}
	}
	if len(out) == 0 {
		return out, db.operationExists(ctx, operationID)
	}
	return out, nil
}

// compactAfter is how many delta rows an operation's counts may have
// before a reader folds them into one a group (tests lower it).
var compactAfter atomic.Int64

func init() { compactAfter.Store(2000) }

// counts sums the operation's item count deltas, and folds them when
// they have grown. Folding deletes the rows it read and inserts their
// sums in one statement: deltas that other transactions commit meanwhile
// are not among the deleted and stay, and two readers folding at once
// each delete (and re-insert) only what the other had not.
func (db *DB) counts(ctx context.Context, operationID int64) ([]takedown.BreakdownRow, error) {
	rows, err := db.pool.Query(ctx, `SELECT dimension, grp, status, sum(n), count(*) FROM item_count_deltas WHERE operation_id = $1
		GROUP BY dimension, grp, status`, operationID)
	if err != nil {
		return nil, err
	}
	var out []takedown.BreakdownRow
	var r takedown.BreakdownRow
	var n, deltas, total int64
	if _, err := pgx.ForEachRow(rows, []any{&r.Dimension, &r.Group, &r.Status, &n, &deltas}, func() error {
		total += deltas
		if n != 0 {
			r.Count = int(n)
			out = append(out, r)
		}
		return nil
	}); err != nil {
		return nil, err
	}
	if total > compactAfter.Load() {
		_, err := db.pool.Exec(ctx, `WITH folded AS (DELETE FROM item_count_deltas WHERE operation_id = $1 RETURNING dimension, grp, status, n)
			INSERT INTO item_count_deltas (operation_id, dimension, grp, status, n)
			SELECT $1, dimension, grp, status, sum(n) FROM folded GROUP BY dimension, grp, status HAVING sum(n) <> 0`, operationID)
		if err != nil {
			return nil, fmt.Errorf("fold item counts: %w", err)
		}
	}
	takedown.SortBreakdown(out)
	return out, nil
}

// itemExists returns ENOTFOUND for an unknown item: an empty list of an
// item's records says nothing about whether the item is there.
func (db *DB) itemExists(ctx context.Context, id int64, what string) error {
	var exists bool
	if err := db.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM items WHERE id = $1)`, id).Scan(&exists); err != nil {
		return translate(err, what)
	}
	if !exists {
		return takedown.Errorf(takedown.ENOTFOUND, "no item %d", id)
	}
	return nil
}

func (db *DB) Breakdown(ctx context.Context, operationID int64) ([]takedown.BreakdownRow, error) {
	out, err := db.counts(ctx, operationID)
	if err != nil {
		return nil, translate(err, "breakdown")
	}
	if len(out) == 0 {
		return []takedown.BreakdownRow{}, db.operationExists(ctx, operationID)
	}
	return out, nil
}

func (db *DB) SaveReportSnapshot(ctx context.Context, operationID int64, r *takedown.Report) error {
	body, err := json.Marshal(r)
	if err != nil {
		return err
	}
	_, err = db.pool.Exec(ctx, `INSERT INTO report_snapshots (operation_id, at, body) VALUES ($1, $2, $3)
		ON CONFLICT (operation_id) DO UPDATE SET at = excluded.at, body = excluded.body WHERE excluded.at > report_snapshots.at`,
		operationID, r.AsOf, string(body))
	return translate(err, "save the report")
}

func (db *DB) LoadReportSnapshot(ctx context.Context, operationID int64) (*takedown.Report, error) {
	var body string
	err := db.pool.QueryRow(ctx, `SELECT body FROM report_snapshots WHERE operation_id = $1`, operationID).Scan(&body)
	if err == pgx.ErrNoRows {
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
