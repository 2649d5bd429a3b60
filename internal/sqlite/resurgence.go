package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/takedown-project/takedown"
	"github.com/takedown-project/takedown/internal/submitplan"
)

// containerKinds are the kinds resurgence reads: what a network
// re-creates is its channels, groups and accounts, not single posts.
const containerKinds = `('account', 'channel', 'group')`

func (db *DB) DueSignals(ctx context.Context, afterCapture int64, limit int) ([]takedown.SignalSource, error) {
	if limit <= 0 {
		limit = takedown.DefaultPageSize
	}
	rows, err := db.read.QueryContext(ctx, `SELECT i.id, o.slug, i.url, i.platform, i.kind, i.handle, c.id, c.location
		FROM captures c JOIN items i ON i.id = c.item_id JOIN operations o ON o.id = i.operation_id
		LEFT JOIN signals s ON s.item_id = i.id
		WHERE c.id > ? AND c.state = 'captured' AND c.location <> '' AND o.successors <> 'off' AND i.kind IN `+containerKinds+`
			AND (s.item_id IS NULL OR s.capture_id < c.id)
		ORDER BY c.id LIMIT ?`, afterCapture, limit)
	if err != nil {
		return nil, translate(err, "due signals")
	}
	defer rows.Close()
	out := []takedown.SignalSource{}
	for rows.Next() {
		var s takedown.SignalSource
		if err := rows.Scan(&s.ItemID, &s.Operation, &s.URL, &s.Platform, &s.Kind, &s.Handle, &s.CaptureID, &s.Location); err != nil {
			return nil, translate(err, "due signals")
		}
		out = append(out, s)
	}
	return out, translate(rows.Err(), "due signals")
}

func (db *DB) RecordSignals(ctx context.Context, list []*takedown.ItemSignals) error {
	for _, s := range list {
		if err := s.Validate(); err != nil {
			return err
		}
		s.Trim()
	}
	return db.inTx(ctx, func(tx *sql.Tx) error {
		for _, s := range list {
			if err := upsertSignals(ctx, tx, s); err != nil {
				return err
			}
		}
		return nil
	})
}

// upsertSignals replaces an item's signals; the item is matched again.
// The capture they came from only moves forward (a watch read keeps it).
func upsertSignals(ctx context.Context, tx *sql.Tx, s *takedown.ItemSignals) error {
	posts, links := jsonList(s.Posts), jsonList(s.Links)
	res, err := tx.ExecContext(ctx, `INSERT INTO signals (item_id, operation_id, at, capture_id, title, description, posts, links, avatar_pdq, avatar_quality, matched_at)
		SELECT id, operation_id, ?, ?, ?, ?, ?, ?, ?, ?, NULL FROM items WHERE id = ?
		ON CONFLICT (item_id) DO UPDATE SET at = excluded.at, capture_id = max(signals.capture_id, excluded.capture_id),
			title = excluded.title, description = excluded.description, posts = excluded.posts, links = excluded.links,
			avatar_pdq = excluded.avatar_pdq, avatar_quality = excluded.avatar_quality, matched_at = NULL`,
		formatTime(s.At), s.CaptureID, s.Title, s.Description, posts, links, s.AvatarPDQ, s.AvatarQuality, s.ItemID)
	if err != nil {
		return translate(err, "record signals")
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return takedown.Errorf(takedown.ENOTFOUND, "no item %d", s.ItemID)
	}
	return nil
}

func jsonList(ss []string) string {
	if len(ss) == 0 {
		return "[]"
	}
	b, _ := json.Marshal(ss)
	return string(b)
}

func (db *DB) DueWatch(ctx context.Context, p takedown.WatchPolicy, limit int) ([]takedown.WatchTarget, error) {
	if limit <= 0 {
		limit = takedown.DefaultPageSize
	}
	// Never read first (NULL sorts first), then the least recently read.
	rows, err := db.read.QueryContext(ctx, `SELECT i.id, o.slug, i.url, i.platform, i.kind, i.handle, i.status,
			EXISTS (SELECT 1 FROM signals s WHERE s.item_id = i.id)
		FROM items i JOIN operations o ON o.id = i.operation_id
		WHERE (i.watched_at IS NULL OR i.watched_at < ?)
			AND o.status = 'open' AND o.successors <> 'off' AND i.kind IN `+containerKinds+`
			AND i.status NOT IN ('offline', 'confirmed_offline')
		ORDER BY i.watched_at, i.id LIMIT ?`, formatTime(p.ReadBefore), limit)
	if err != nil {
		return nil, translate(err, "due watch")
	}
	defer rows.Close()
	out := []takedown.WatchTarget{}
	for rows.Next() {
		var t takedown.WatchTarget
		if err := rows.Scan(&t.ItemID, &t.Operation, &t.URL, &t.Platform, &t.Kind, &t.Handle, &t.Status, &t.HasSignals); err != nil {
			return nil, translate(err, "due watch")
		}
		out = append(out, t)
	}
	return out, translate(rows.Err(), "due watch")
}

func (db *DB) RecordWatch(ctx context.Context, rs []takedown.WatchResult) (int, error) {
	for _, r := range rs {
		if r.Signals != nil {
			if err := r.Signals.Validate(); err != nil {
				return 0, err
			}
			r.Signals.Trim()
		}
	}
	found := 0
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		found = 0
		counts := map[int64][]takedown.BreakdownRow{}
		for _, r := range rs {
			at := r.At.UTC().Truncate(time.Microsecond)
			var opID int64
			var slug string
			err := tx.QueryRowContext(ctx, `UPDATE items SET watched_at = ? WHERE id = ?
				RETURNING operation_id, (SELECT slug FROM operations o WHERE o.id = items.operation_id)`, formatTime(at), r.ItemID).Scan(&opID, &slug)
			if err == sql.ErrNoRows {
				return takedown.Errorf(takedown.ENOTFOUND, "no item %d", r.ItemID)
			}
			if err != nil {
				return translate(err, "record watch")
			}
			if r.Signals != nil {
				if err := upsertSignals(ctx, tx, r.Signals); err != nil {
					return err
				}
			}
			for _, d := range r.Found {
				var id int64
				err := tx.QueryRowContext(ctx, `INSERT INTO items (operation_id, identity, url, platform, kind, handle, title, status,
						submission_count, first_submitted_at, last_submitted_at, found_via)
					VALUES (?, ?, ?, ?, ?, ?, '', ?, 0, ?, ?, ?)
					ON CONFLICT (operation_id, identity) DO NOTHING RETURNING id`,
					opID, d.Identity, d.Canonical, d.Platform, d.Kind, d.Handle, takedown.ItemCandidate, formatTime(at), formatTime(at), r.ItemID).Scan(&id)
				if err == sql.ErrNoRows {
					continue // known already
				}
				if err != nil {
					return translate(err, "record a candidate")
				}
				found++
				counts[opID] = append(counts[opID], takedown.CandidateCounts(d.Recognition)...)
				if err := db.appendAudit(ctx, tx, takedown.AuditDiscovered(slug, id, d.Canonical, r.ItemID, d.Via)); err != nil {
					return err
				}
			}
		}
		for opID, rows := range counts {
			if err := addCounts(ctx, tx, opID, rows); err != nil {
				return err
			}
		}
		return nil
	})
	return found, err
}

func (db *DB) MatchInputs(ctx context.Context, f takedown.MatchInputFilter) ([]*takedown.SignalRecord, error) {
	if f.Limit <= 0 {
		f.Limit = takedown.DefaultPageSize
	}
	// Since: a removed item is matchable as it is from the later of its
	// confirmation and its signals; a candidate from its signals.
	since := `s.at`
	where := `i.status NOT IN ('offline', 'confirmed_offline')`
	args := []any{f.OperationID, f.AfterID}
	if f.Removed {
		since = `max(coalesce(i.confirmed_at, 0), s.at)`
		where = `i.status = 'confirmed_offline'`
	}
	if !f.ChangedAfter.IsZero() {
		where += ` AND ` + since + ` > ?`
		args = append(args, formatTime(f.ChangedAfter))
	}
	if f.Unmatched {
		where += ` AND s.matched_at IS NULL`
	}
	args = append(args, f.Limit)
	rows, err := db.read.QueryContext(ctx, `SELECT s.item_id, s.at, s.capture_id, s.title, s.description, s.posts, s.links, s.avatar_pdq, s.avatar_quality,
			s.matched_at, o.slug, i.url, i.platform, i.kind, i.handle, i.status, `+since+`
		FROM signals s JOIN items i ON i.id = s.item_id JOIN operations o ON o.id = s.operation_id
		WHERE s.operation_id = ? AND s.item_id > ? AND `+where+`
		ORDER BY s.item_id LIMIT ?`, args...)
	if err != nil {
		return nil, translate(err, "match inputs")
	}
	defer rows.Close()
	out := []*takedown.SignalRecord{}
	for rows.Next() {
		r := &takedown.SignalRecord{}
		var at, sinceUS int64
		var posts, links string
		var matched sql.NullInt64
		if err := rows.Scan(&r.ItemID, &at, &r.CaptureID, &r.Title, &r.Description, &posts, &links, &r.AvatarPDQ, &r.AvatarQuality,
			&matched, &r.Operation, &r.URL, &r.Platform, &r.Kind, &r.Handle, &r.Status, &sinceUS); err != nil {
			return nil, translate(err, "match inputs")
		}
		r.At, r.Since, r.MatchedAt = parseTime(at), parseTime(sinceUS), optionalTime(matched)
		if err := decodeLists(r, posts, links); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, translate(rows.Err(), "match inputs")
}

func decodeLists(r *takedown.SignalRecord, posts, links string) error {
	if err := json.Unmarshal([]byte(posts), &r.Posts); err != nil {
		return fmt.Errorf("signals of item %d: posts: %w", r.ItemID, err)
	}
	if err := json.Unmarshal([]byte(links), &r.Links); err != nil {
		return fmt.Errorf("signals of item %d: links: %w", r.ItemID, err)
	}
	return nil
}

func (db *DB) RecordMatches(ctx context.Context, operationID int64, at time.Time, rs []takedown.CandidateMatches) (int, error) {
	at = at.UTC().Truncate(time.Microsecond)
	found := 0
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		found = 0
		var slug string
		if err := tx.QueryRowContext(ctx, `SELECT slug FROM operations WHERE id = ?`, operationID).Scan(&slug); err != nil {
			return translate(err, "operation "+strconv.FormatInt(operationID, 10))
		}
		for _, r := range rs {
			// Signals recorded since the round read them are matched
			// again next round.
			if _, err := tx.ExecContext(ctx, `UPDATE signals SET matched_at = ? WHERE item_id = ? AND at = ?`,
				formatTime(at), r.SuccessorID, formatTime(r.SignalsAt.UTC().Truncate(time.Microsecond))); err != nil {
				return translate(err, "record matches")
			}
			for _, p := range r.Pairs {
				sig, _ := json.Marshal(p.Signals)
				var id int64
				var state string
				err := tx.QueryRowContext(ctx, `SELECT id, state FROM matches WHERE successor_id = ? AND predecessor_id = ?`, r.SuccessorID, p.PredecessorID).Scan(&id, &state)
				switch {
				case err == sql.ErrNoRows:
					m := &takedown.Match{SuccessorID: r.SuccessorID, PredecessorID: p.PredecessorID, Score: p.Score, Signals: p.Signals}
					err = tx.QueryRowContext(ctx, `INSERT INTO matches (operation_id, successor_id, predecessor_id, score, signals, state, found_at)
						SELECT ?, ?, ?, ?, ?, ?, ? WHERE (SELECT count(*) FROM items WHERE id IN (?, ?) AND operation_id = ?) = 2 RETURNING id`,
						operationID, r.SuccessorID, p.PredecessorID, p.Score, string(sig), takedown.MatchOpen, formatTime(at),
						r.SuccessorID, p.PredecessorID, operationID).Scan(&m.ID)
					if err == sql.ErrNoRows {
						return takedown.Errorf(takedown.EINVALID, "match %d -> %d: both items must be in operation %s", r.SuccessorID, p.PredecessorID, slug)
					}
					if err != nil {
						return translate(err, "record a match")
					}
					found++
					if err := db.appendAudit(ctx, tx, takedown.AuditMatchFound(slug, m)); err != nil {
						return err
					}
				case err != nil:
					return translate(err, "record matches")
				case state == string(takedown.MatchOpen):
					if _, err := tx.ExecContext(ctx, `UPDATE matches SET score = ?, signals = ? WHERE id = ?`, p.Score, string(sig), id); err != nil {
						return translate(err, "record matches")
					}
				}
			}
		}
		return nil
	})
	return found, err
}

const matchColumns = `m.id, m.operation_id, o.slug, m.successor_id, m.predecessor_id, m.score, m.signals, m.state, m.found_at,
	m.reviewed_at, m.reviewed_by, m.note,
	si.identity, si.url, si.platform, si.kind, si.handle, si.status, pi.identity, pi.url, pi.platform, pi.kind, pi.handle, pi.status`

const matchFrom = ` FROM matches m JOIN operations o ON o.id = m.operation_id
	JOIN items si ON si.id = m.successor_id JOIN items pi ON pi.id = m.predecessor_id `

func scanMatch(sc interface{ Scan(...any) error }) (*takedown.Match, error) {
	m := &takedown.Match{}
	var sig string
	var found int64
	var reviewed sql.NullInt64
	if err := sc.Scan(&m.ID, &m.OperationID, &m.Operation, &m.SuccessorID, &m.PredecessorID, &m.Score, &sig, &m.State, &found,
		&reviewed, &m.ReviewedBy, &m.Note,
		&m.Successor.Identity, &m.Successor.URL, &m.Successor.Platform, &m.Successor.Kind, &m.Successor.Handle, &m.Successor.Status,
		&m.Predecessor.Identity, &m.Predecessor.URL, &m.Predecessor.Platform, &m.Predecessor.Kind, &m.Predecessor.Handle, &m.Predecessor.Status); err != nil {
		return nil, err
	}
	m.FoundAt, m.ReviewedAt = parseTime(found), optionalTime(reviewed)
	if err := json.Unmarshal([]byte(sig), &m.Signals); err != nil {
		return nil, fmt.Errorf("match %d: signals: %w", m.ID, err)
	}
	return m, nil
}

func (db *DB) ListMatches(ctx context.Context, f takedown.MatchFilter) ([]*takedown.Match, error) {
	if f.Limit <= 0 || f.Limit > takedown.MaxPageSize {
		f.Limit = takedown.DefaultPageSize
	}
	var where []string
	var args []any
	if f.OperationID != 0 {
		where, args = append(where, `m.operation_id = ?`), append(args, f.OperationID)
	}
	if f.State != "" {
		where, args = append(where, `m.state = ?`), append(args, f.State)
	}
	if f.ItemID != 0 {
		where, args = append(where, `(m.successor_id = ? OR m.predecessor_id = ?)`), append(args, f.ItemID, f.ItemID)
	}
	where, args = append(where, `m.id > ?`), append(args, f.AfterID, f.Limit)
	rows, err := db.read.QueryContext(ctx, `SELECT `+matchColumns+matchFrom+` WHERE `+strings.Join(where, " AND ")+` ORDER BY m.id LIMIT ?`, args...)
	if err != nil {
		return nil, translate(err, "list matches")
	}
	defer rows.Close()
	out := []*takedown.Match{}
	for rows.Next() {
		m, err := scanMatch(rows)
		if err != nil {
			return nil, translate(err, "list matches")
		}
		out = append(out, m)
	}
	return out, translate(rows.Err(), "list matches")
}

func (db *DB) FindMatch(ctx context.Context, id int64) (*takedown.Match, error) {
	m, err := scanMatch(db.read.QueryRowContext(ctx, `SELECT `+matchColumns+matchFrom+` WHERE m.id = ?`, id))
	if err == sql.ErrNoRows {
		return nil, takedown.Errorf(takedown.ENOTFOUND, "no match %d", id)
	}
	return m, translate(err, "find match")
}

func (db *DB) ReviewMatch(ctx context.Context, id int64, r takedown.MatchReview) (*takedown.Match, error) {
	if err := r.Validate(); err != nil {
		return nil, err
	}
	now := db.now().UTC().Truncate(time.Microsecond)
	by := takedown.ActorFrom(ctx).String()
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		m, err := scanMatch(tx.QueryRowContext(ctx, `SELECT `+matchColumns+matchFrom+` WHERE m.id = ?`, id))
		if err == sql.ErrNoRows {
			return takedown.Errorf(takedown.ENOTFOUND, "no match %d", id)
		}
		if err != nil {
			return translate(err, "review match")
		}
		var policy takedown.SuccessorPolicy
		if err := tx.QueryRowContext(ctx, `SELECT successors FROM operations WHERE id = ?`, m.OperationID).Scan(&policy); err != nil {
			return translate(err, "review match")
		}
		sub, err := takedown.ReviewPlan(m, r, policy, now, by)
		if err != nil {
			return err
		}
		if sub != nil {
			var agencyID int64
			err := tx.QueryRowContext(ctx, `SELECT a.id FROM agencies a JOIN operation_agencies oa ON oa.agency_id = a.id
				WHERE a.code = ? AND oa.operation_id = ?`, r.Agency, m.OperationID).Scan(&agencyID)
			if err == sql.ErrNoRows {
				return takedown.Errorf(takedown.EINVALID, "agency %q does not take part in operation %s: a confirmed successor is submitted in the reviewer's agency's name", r.Agency, m.Operation)
			}
			if err != nil {
				return translate(err, "review match")
			}
			sub.Submission.AgencyID = agencyID
			p, err := submitplan.New([]takedown.NewSubmission{*sub})
			if err != nil {
				return err
			}
			if _, err := db.submitTx(ctx, tx, m.OperationID, []takedown.NewSubmission{*sub}, p); err != nil {
				return err
			}
		}
		res, err := tx.ExecContext(ctx, `UPDATE matches SET state = ?, reviewed_at = ?, reviewed_by = ?, note = ? WHERE id = ? AND state = 'open'`,
			r.State, formatTime(now), by, r.Note, id)
		if err != nil {
			return translate(err, "review match")
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return takedown.Errorf(takedown.ECONFLICT, "match %d was reviewed already", id)
		}
		m.State, m.ReviewedAt, m.ReviewedBy, m.Note = r.State, &now, by, r.Note
		return db.appendAudit(ctx, tx, takedown.AuditMatchReviewed(m.Operation, m, sub != nil))
	})
	if err != nil {
		return nil, err
	}
	return db.FindMatch(ctx, id)
}

func (db *DB) CountMatches(ctx context.Context, operationID int64) (*takedown.MatchCounts, error) {
	c := &takedown.MatchCounts{}
	err := db.read.QueryRowContext(ctx, `SELECT
			(SELECT count(*) FROM matches WHERE operation_id = ?1 AND state = 'open'),
			(SELECT count(*) FROM matches WHERE operation_id = ?1 AND state = 'confirmed'),
			(SELECT count(*) FROM matches WHERE operation_id = ?1 AND state = 'rejected'),
			(SELECT count(*) FROM items WHERE operation_id = ?1 AND status = 'candidate'),
			(SELECT count(DISTINCT successor_id) FROM matches WHERE operation_id = ?1 AND state = 'confirmed'),
			(SELECT count(*) FROM items i WHERE i.operation_id = ?1 AND i.referred_at IS NOT NULL
				AND i.id IN (SELECT successor_id FROM matches WHERE operation_id = ?1 AND state = 'confirmed'))`, operationID).
		Scan(&c.Open, &c.Confirmed, &c.Rejected, &c.Candidates, &c.Successors, &c.Referred)
	return c, translate(err, "count matches")
}

func (db *DB) ResurgenceTimes(ctx context.Context, operationID int64) ([]takedown.ResurgenceTime, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT i.id, i.platform, coalesce(i.removed_at, i.confirmed_at),
			(SELECT min(si.first_submitted_at) FROM matches m JOIN items si ON si.id = m.successor_id
				WHERE m.predecessor_id = i.id AND m.state = 'confirmed')
		FROM items i
		WHERE i.operation_id = ?1 AND i.kind IN `+containerKinds+` AND coalesce(i.removed_at, i.confirmed_at) IS NOT NULL
			AND (i.status = 'confirmed_offline' OR i.id IN (SELECT predecessor_id FROM matches WHERE operation_id = ?1 AND state = 'confirmed'))
		ORDER BY i.id`, operationID)
	if err != nil {
		return nil, translate(err, "resurgence times")
	}
	defer rows.Close()
	out := []takedown.ResurgenceTime{}
	for rows.Next() {
		var t takedown.ResurgenceTime
		var removed int64
		var back sql.NullInt64
		if err := rows.Scan(&t.ItemID, &t.Platform, &removed, &back); err != nil {
			return nil, translate(err, "resurgence times")
		}
		t.RemovedAt, t.BackAt = parseTime(removed), optionalTime(back)
		out = append(out, t)
	}
	return out, translate(rows.Err(), "resurgence times")
}
