package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

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
	rows, err := db.pool.Query(ctx, `SELECT i.id, o.slug, i.url, i.platform, i.kind, i.handle, c.id, c.location
		FROM captures c JOIN items i ON i.id = c.item_id JOIN operations o ON o.id = i.operation_id
		LEFT JOIN signals s ON s.item_id = i.id
		WHERE c.id > $1 AND c.state = 'captured' AND c.location <> '' AND o.successors <> 'off' AND i.kind IN `+containerKinds+`
			AND (s.item_id IS NULL OR s.capture_id < c.id)
		ORDER BY c.id LIMIT $2`, afterCapture, limit)
	if err != nil {
		return nil, translate(err, "due signals")
	}
	out := []takedown.SignalSource{}
	var s takedown.SignalSource
	if _, err := pgx.ForEachRow(rows, []any{&s.ItemID, &s.Operation, &s.URL, &s.Platform, &s.Kind, &s.Handle, &s.CaptureID, &s.Location}, func() error {
		out = append(out, s)
		return nil
	}); err != nil {
		return nil, translate(err, "due signals")
	}
	return out, nil
}

func (db *DB) RecordSignals(ctx context.Context, list []*takedown.ItemSignals) error {
	for _, s := range list {
		if err := s.Validate(); err != nil {
			return err
		}
		s.Trim()
	}
	if len(list) == 0 {
		return nil
	}
	err := pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		return upsertSignals(ctx, tx, list)
	})
	return translate(err, "record signals")
}

// upsertSignals replaces the signals of items, with one statement, as
// recording them one after another would: an item listed twice keeps its
// last signals, and the capture they came from only moves forward (a watch
// read keeps it). The items are matched again. Rows are written in item ID
// order, so that two writers of the same items cannot deadlock. Returns
// ENOTFOUND for an unknown item, the first in list order.
func upsertSignals(ctx context.Context, tx pgx.Tx, list []*takedown.ItemSignals) error {
	if len(list) == 0 {
		return nil
	}
	// One row per item: ON CONFLICT DO UPDATE cannot change a row twice.
	at := make(map[int64]int, len(list))
	merged := make([]takedown.ItemSignals, 0, len(list))
	for _, s := range list {
		i, ok := at[s.ItemID]
		if !ok {
			at[s.ItemID] = len(merged)
			merged = append(merged, *s)
			continue
		}
		capture := max(merged[i].CaptureID, s.CaptureID)
		merged[i] = *s
		merged[i].CaptureID = capture
	}
	n := len(merged)
	ids, captures, qualities := make([]int64, n), make([]int64, n), make([]int64, n)
	ats := make([]time.Time, n)
	titles, descriptions, posts, links, pdqs := make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	for i, s := range merged {
		ids[i], captures[i], qualities[i], ats[i] = s.ItemID, s.CaptureID, int64(s.AvatarQuality), ts(s.At)
		titles[i], descriptions[i], posts[i], links[i], pdqs[i] = s.Title, s.Description, jsonList(s.Posts), jsonList(s.Links), s.AvatarPDQ
	}
	rows, err := tx.Query(ctx, `
		INSERT INTO signals (item_id, operation_id, at, capture_id, title, description, posts, links, avatar_pdq, avatar_quality, matched_at)
		SELECT i.id, i.operation_id, u.at, u.capture_id, u.title, u.description, u.posts, u.links, u.avatar_pdq, u.avatar_quality, NULL
		FROM unnest($1::bigint[], $2::timestamptz[], $3::bigint[], $4::text[], $5::text[], $6::jsonb[], $7::jsonb[], $8::text[], $9::bigint[])
			AS u(item_id, at, capture_id, title, description, posts, links, avatar_pdq, avatar_quality)
		JOIN items i ON i.id = u.item_id
		ORDER BY i.id
		ON CONFLICT (item_id) DO UPDATE SET at = excluded.at, capture_id = greatest(signals.capture_id, excluded.capture_id),
			title = excluded.title, description = excluded.description, posts = excluded.posts, links = excluded.links,
			avatar_pdq = excluded.avatar_pdq, avatar_quality = excluded.avatar_quality, matched_at = NULL
		RETURNING item_id`,
		ids, ats, captures, titles, descriptions, posts, links, pdqs, qualities)
	if err != nil {
		return fmt.Errorf("write signals: %w", err)
	}
	written := make(map[int64]bool, n)
	var id int64
	if _, err := pgx.ForEachRow(rows, []any{&id}, func() error { written[id] = true; return nil }); err != nil {
		return fmt.Errorf("write signals: %w", err)
	}
	for _, s := range list {
		if !written[s.ItemID] {
			return takedown.Errorf(takedown.ENOTFOUND, "no item %d", s.ItemID)
		}
	}
	return nil
}

// jsonList encodes a list of strings as a JSON array, none as [] (not
// null, which the columns' default is not).
func jsonList(ss []string) string {
	if len(ss) == 0 {
		return "[]"
	}
	return jsonString(ss)
}

func (db *DB) DueWatch(ctx context.Context, p takedown.WatchPolicy, limit int) ([]takedown.WatchTarget, error) {
	if limit <= 0 {
		limit = takedown.DefaultPageSize
	}
	// Never read first, then the least recently read: PostgreSQL sorts
	// NULL last unless told (SQLite sorts it first), and items_watch is
	// built NULLS FIRST to give this order.
	rows, err := db.pool.Query(ctx, `SELECT i.id, o.slug, i.url, i.platform, i.kind, i.handle, i.status,
			EXISTS (SELECT 1 FROM signals s WHERE s.item_id = i.id)
		FROM items i JOIN operations o ON o.id = i.operation_id
		WHERE (i.watched_at IS NULL OR i.watched_at < $1)
			AND o.status = 'open' AND o.successors <> 'off' AND i.kind IN `+containerKinds+`
			AND i.status NOT IN ('offline', 'confirmed_offline')
		ORDER BY i.watched_at NULLS FIRST, i.id LIMIT $2`, ts(p.ReadBefore), limit)
	if err != nil {
		return nil, translate(err, "due watch")
	}
	out := []takedown.WatchTarget{}
	var t takedown.WatchTarget
	if _, err := pgx.ForEachRow(rows, []any{&t.ItemID, &t.Operation, &t.URL, &t.Platform, &t.Kind, &t.Handle, &t.Status, &t.HasSignals}, func() error {
		out = append(out, t)
		return nil
	}); err != nil {
		return nil, translate(err, "due watch")
	}
	return out, nil
}

// RecordWatch locks the items read in ID order (as RecordObservations and
// the receipt of a referral lock items) and writes the reads with one
// set-based statement each: the read times, the signals, the candidates.
// The candidates are inserted in the order they were found, so that their
// IDs and events follow it, as recording the reads one by one would.
func (db *DB) RecordWatch(ctx context.Context, rs []takedown.WatchResult) (int, error) {
	for _, r := range rs {
		if r.Signals != nil {
			if err := r.Signals.Validate(); err != nil {
				return 0, err
			}
			r.Signals.Trim()
		}
	}
	if len(rs) == 0 {
		return 0, nil
	}
	ids := make([]int64, 0, len(rs))
	for _, r := range rs {
		ids = append(ids, r.ItemID)
	}
	slices.Sort(ids)
	ids = slices.Compact(ids)
	found := 0
	err := pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		found = 0
		type watched struct {
			opID int64
			slug string
		}
		items := make(map[int64]watched, len(ids))
		rows, err := tx.Query(ctx, `SELECT i.id, i.operation_id, o.slug FROM items i JOIN operations o ON o.id = i.operation_id
			WHERE i.id = ANY($1) ORDER BY i.id FOR NO KEY UPDATE OF i`, ids)
		if err != nil {
			return fmt.Errorf("lock items: %w", err)
		}
		var id int64
		var w watched
		if _, err := pgx.ForEachRow(rows, []any{&id, &w.opID, &w.slug}, func() error { items[id] = w; return nil }); err != nil {
			return fmt.Errorf("lock items: %w", err)
		}
		// An item read twice keeps its last read.
		readAt := make(map[int64]time.Time, len(ids))
		var signals []*takedown.ItemSignals
		for _, r := range rs {
			if _, ok := items[r.ItemID]; !ok {
				return takedown.Errorf(takedown.ENOTFOUND, "no item %d", r.ItemID)
			}
			readAt[r.ItemID] = ts(r.At)
			if r.Signals != nil {
				signals = append(signals, r.Signals)
			}
		}
		ats := make([]time.Time, len(ids))
		for i, id := range ids {
			ats[i] = readAt[id]
		}
		if _, err := tx.Exec(ctx, `UPDATE items SET watched_at = u.at FROM unnest($1::bigint[], $2::timestamptz[]) AS u(id, at) WHERE items.id = u.id`,
			ids, ats); err != nil {
			return fmt.Errorf("mark items read: %w", err)
		}
		if err := upsertSignals(ctx, tx, signals); err != nil {
			return err
		}

		// The candidates: an identity the operation has already (or found
		// earlier in rs) is known and left as it is.
		var (
			ops, vias                                   []int64
			identities, urls, platforms, kinds, handles []string
			foundAt                                     []time.Time
		)
		for _, r := range rs {
			for _, d := range r.Found {
				ops, vias, foundAt = append(ops, items[r.ItemID].opID), append(vias, r.ItemID), append(foundAt, ts(r.At))
				identities, urls, platforms = append(identities, d.Identity), append(urls, d.Canonical), append(platforms, string(d.Platform))
				kinds, handles = append(kinds, string(d.Kind)), append(handles, d.Handle)
			}
		}
		if len(ops) == 0 {
			return nil
		}
		rows, err = tx.Query(ctx, `
			INSERT INTO items (operation_id, identity, url, platform, kind, handle, title, status,
				submission_count, first_submitted_at, last_submitted_at, found_via)
			SELECT op, identity, url, platform, kind, handle, '', $9, 0, at, at, via
			FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::timestamptz[], $8::bigint[])
				WITH ORDINALITY AS d(op, identity, url, platform, kind, handle, at, via, n)
			ORDER BY d.n
			ON CONFLICT (operation_id, identity) DO NOTHING
			RETURNING operation_id, identity, id`,
			ops, identities, urls, platforms, kinds, handles, foundAt, vias, takedown.ItemCandidate)
		if err != nil {
			return fmt.Errorf("record candidates: %w", err)
		}
		type key struct {
			opID     int64
			identity string
		}
		created := map[key]int64{}
		var k key
		if _, err := pgx.ForEachRow(rows, []any{&k.opID, &k.identity, &id}, func() error { created[k] = id; return nil }); err != nil {
			return fmt.Errorf("record candidates: %w", err)
		}
		found = len(created)
		counts, counted := map[int64][]takedown.BreakdownRow{}, map[key]bool{}
		for _, r := range rs {
			for _, d := range r.Found {
				k := key{items[r.ItemID].opID, d.Identity}
				if _, ok := created[k]; ok && !counted[k] {
					counts[k.opID] = append(counts[k.opID], takedown.CandidateCounts(d.Recognition)...)
					counted[k] = true // once, however often found
				}
			}
		}
		for opID, rows := range counts {
			if err := addCounts(ctx, tx, opID, rows); err != nil {
				return err
			}
		}
		// One event per candidate, with the read that found it first.
		var recs []takedown.AuditRecord
		for _, r := range rs {
			w := items[r.ItemID]
			for _, d := range r.Found {
				k := key{w.opID, d.Identity}
				if id, ok := created[k]; ok {
					recs = append(recs, takedown.AuditDiscovered(w.slug, id, d.Canonical, r.ItemID, d.Via))
					delete(created, k)
				}
			}
		}
		return db.appendAudit(ctx, tx, recs...)
	})
	if err != nil {
		return 0, translate(err, "record watch")
	}
	return found, nil
}

func (db *DB) MatchInputs(ctx context.Context, f takedown.MatchInputFilter) ([]*takedown.SignalRecord, error) {
	if f.Limit <= 0 {
		f.Limit = takedown.DefaultPageSize
	}
	// Since: a removed item is matchable as it is from the later of its
	// confirmation and its signals; a candidate from its signals.
	since := `s.at`
	c := &conditions{where: []string{"s.operation_id = $1"}, args: []any{f.OperationID}}
	c.add("s.item_id > ?", f.AfterID)
	if f.Removed {
		since = `greatest(coalesce(i.confirmed_at, 'epoch'), s.at)`
		c.where = append(c.where, `i.status = 'confirmed_offline'`)
	} else {
		c.where = append(c.where, `i.status NOT IN ('offline', 'confirmed_offline')`)
	}
	if !f.ChangedAfter.IsZero() {
		c.add(since+" > ?", ts(f.ChangedAfter))
	}
	if f.Unmatched {
		c.where = append(c.where, `s.matched_at IS NULL`)
	}
	rows, err := db.pool.Query(ctx, fmt.Sprintf(`SELECT s.item_id, s.at, s.capture_id, s.title, s.description, s.posts, s.links, s.avatar_pdq, s.avatar_quality,
			s.matched_at, o.slug, i.url, i.platform, i.kind, i.handle, i.status, %s
		FROM signals s JOIN items i ON i.id = s.item_id JOIN operations o ON o.id = s.operation_id
		WHERE %s ORDER BY s.item_id LIMIT $%d`, since, strings.Join(c.where, " AND "), len(c.args)+1), append(c.args, f.Limit)...)
	if err != nil {
		return nil, translate(err, "match inputs")
	}
	out := []*takedown.SignalRecord{}
	var r takedown.SignalRecord
	var posts, links string
	if _, err := pgx.ForEachRow(rows, []any{&r.ItemID, &r.At, &r.CaptureID, &r.Title, &r.Description, &posts, &links, &r.AvatarPDQ, &r.AvatarQuality,
		&r.MatchedAt, &r.Operation, &r.URL, &r.Platform, &r.Kind, &r.Handle, &r.Status, &r.Since}, func() error {
		rr := r
		rr.At, rr.Since, rr.MatchedAt = rr.At.UTC(), rr.Since.UTC(), utc(rr.MatchedAt)
		rr.Posts, rr.Links = nil, nil
		if err := json.Unmarshal([]byte(posts), &rr.Posts); err != nil {
			return fmt.Errorf("signals of item %d: posts: %w", rr.ItemID, err)
		}
		if err := json.Unmarshal([]byte(links), &rr.Links); err != nil {
			return fmt.Errorf("signals of item %d: links: %w", rr.ItemID, err)
		}
		out = append(out, &rr)
		return nil
	}); err != nil {
		return nil, translate(err, "match inputs")
	}
	return out, nil
}

// RecordMatches reads the round's pairs that have a match already and
// the items of the operation among them with one statement each, decides
// in Go as recording the pairs one by one would, and writes the new
// matches and the new scores with one statement each.
func (db *DB) RecordMatches(ctx context.Context, operationID int64, at time.Time, rs []takedown.CandidateMatches) (int, error) {
	at = ts(at)
	type pair struct {
		successor, predecessor int64
		score                  float64
		signals                string
	}
	var pairs []pair
	for _, r := range rs {
		for _, p := range r.Pairs {
			sig, err := json.Marshal(p.Signals)
			if err != nil {
				return 0, takedown.Errorf(takedown.EINVALID, "match %d -> %d: signals: %v", r.SuccessorID, p.PredecessorID, err)
			}
			pairs = append(pairs, pair{r.SuccessorID, p.PredecessorID, p.Score, string(sig)})
		}
	}
	found := 0
	err := pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		found = 0
		var slug string
		if err := tx.QueryRow(ctx, `SELECT slug FROM operations WHERE id = $1`, operationID).Scan(&slug); err != nil {
			return translate(err, "operation "+strconv.FormatInt(operationID, 10))
		}
		if len(rs) == 0 {
			return nil
		}
		// Signals recorded since the round read them are matched again
		// next round.
		succs, signalsAt := make([]int64, len(rs)), make([]time.Time, len(rs))
		for i, r := range rs {
			succs[i], signalsAt[i] = r.SuccessorID, ts(r.SignalsAt)
		}
		if _, err := tx.Exec(ctx, `UPDATE signals SET matched_at = $1 FROM unnest($2::bigint[], $3::timestamptz[]) AS u(item_id, at)
			WHERE signals.item_id = u.item_id AND signals.at = u.at`, at, succs, signalsAt); err != nil {
			return fmt.Errorf("mark candidates matched: %w", err)
		}
		if len(pairs) == 0 {
			return nil
		}
		n := len(pairs)
		ss, ps := make([]int64, n), make([]int64, n)
		for i, p := range pairs {
			ss[i], ps[i] = p.successor, p.predecessor
		}
		type key struct{ successor, predecessor int64 }
		type known struct {
			id   int64
			open bool
		}
		existing := map[key]known{}
		rows, err := tx.Query(ctx, `SELECT m.successor_id, m.predecessor_id, m.id, m.state = 'open' FROM matches m
			WHERE (m.successor_id, m.predecessor_id) IN (SELECT * FROM unnest($1::bigint[], $2::bigint[]))`, ss, ps)
		if err != nil {
			return fmt.Errorf("read known matches: %w", err)
		}
		var k key
		var m known
		if _, err := pgx.ForEachRow(rows, []any{&k.successor, &k.predecessor, &m.id, &m.open}, func() error { existing[k] = m; return nil }); err != nil {
			return fmt.Errorf("read known matches: %w", err)
		}
		inOperation := map[int64]bool{}
		rows, err = tx.Query(ctx, `SELECT id FROM items WHERE id = ANY($1) AND operation_id = $2`, append(ss, ps...), operationID)
		if err != nil {
			return fmt.Errorf("read the items: %w", err)
		}
		var id int64
		if _, err := pgx.ForEachRow(rows, []any{&id}, func() error { inOperation[id] = true; return nil }); err != nil {
			return fmt.Errorf("read the items: %w", err)
		}

		// A new pair is inserted with its last score in the round and
		// recorded in the chain with its first, as a pair found twice in
		// a round is when the second updates the open match the first
		// made; an open match gets the last score, a reviewed one stays.
		type fresh struct{ first, last pair }
		var news []fresh
		newAt := map[key]int{}
		scores := map[int64]pair{}
		for _, p := range pairs {
			k := key{p.successor, p.predecessor}
			if m, ok := existing[k]; ok {
				if m.open {
					scores[m.id] = p
				}
				continue
			}
			if i, ok := newAt[k]; ok {
				news[i].last = p
				continue
			}
			if p.successor == p.predecessor || !inOperation[p.successor] || !inOperation[p.predecessor] {
				return takedown.Errorf(takedown.EINVALID, "match %d -> %d: both items must be in operation %s", p.successor, p.predecessor, slug)
			}
			newAt[k] = len(news)
			news = append(news, fresh{p, p})
		}

		var recs []takedown.AuditRecord
		if len(news) > 0 {
			n := len(news)
			ss, ps, scs, sigs := make([]int64, n), make([]int64, n), make([]float64, n), make([]string, n)
			for i, f := range news {
				ss[i], ps[i], scs[i], sigs[i] = f.last.successor, f.last.predecessor, f.last.score, f.last.signals
			}
			// A pair a concurrent round inserted meanwhile is that
			// round's: not new here.
			rows, err := tx.Query(ctx, `
				INSERT INTO matches (operation_id, successor_id, predecessor_id, score, signals, state, found_at)
				SELECT $1, s, p, score, signals, $6, $7
				FROM unnest($2::bigint[], $3::bigint[], $4::float8[], $5::jsonb[]) WITH ORDINALITY AS u(s, p, score, signals, n)
				ORDER BY u.n
				ON CONFLICT (successor_id, predecessor_id) DO NOTHING
				RETURNING successor_id, predecessor_id, id`,
				operationID, ss, ps, scs, sigs, takedown.MatchOpen, at)
			if err != nil {
				return fmt.Errorf("insert matches: %w", err)
			}
			ids := map[key]int64{}
			if _, err := pgx.ForEachRow(rows, []any{&k.successor, &k.predecessor, &id}, func() error { ids[k] = id; return nil }); err != nil {
				return fmt.Errorf("insert matches: %w", err)
			}
			for _, f := range news {
				id, ok := ids[key{f.first.successor, f.first.predecessor}]
				if !ok {
					continue
				}
				found++
				var sig map[string]float64
				if err := json.Unmarshal([]byte(f.first.signals), &sig); err != nil {
					return fmt.Errorf("match %d: signals: %w", id, err)
				}
				recs = append(recs, takedown.AuditMatchFound(slug, &takedown.Match{ID: id, SuccessorID: f.first.successor, PredecessorID: f.first.predecessor,
					Score: f.first.score, Signals: sig}))
			}
		}
		if len(scores) > 0 {
			mids := make([]int64, 0, len(scores))
			for id := range scores {
				mids = append(mids, id)
			}
			// In ID order, as a lock order; a match reviewed since it was
			// read stays as it is.
			slices.Sort(mids)
			scs, sigs := make([]float64, len(mids)), make([]string, len(mids))
			for i, id := range mids {
				scs[i], sigs[i] = scores[id].score, scores[id].signals
			}
			if _, err := tx.Exec(ctx, `UPDATE matches SET score = u.score, signals = u.signals
				FROM unnest($1::bigint[], $2::float8[], $3::jsonb[]) AS u(id, score, signals)
				WHERE matches.id = u.id AND matches.state = 'open'`, mids, scs, sigs); err != nil {
				return fmt.Errorf("update scores: %w", err)
			}
		}
		return db.appendAudit(ctx, tx, recs...)
	})
	if err != nil {
		return 0, translate(err, "record matches")
	}
	return found, nil
}

const matchColumns = `m.id, m.operation_id, o.slug, m.successor_id, m.predecessor_id, m.score, m.signals, m.state, m.found_at,
	m.reviewed_at, m.reviewed_by, m.note,
	si.identity, si.url, si.platform, si.kind, si.handle, si.status, pi.identity, pi.url, pi.platform, pi.kind, pi.handle, pi.status`

const matchFrom = ` FROM matches m JOIN operations o ON o.id = m.operation_id
	JOIN items si ON si.id = m.successor_id JOIN items pi ON pi.id = m.predecessor_id `

// scanMatch scans matchColumns, and more after them.
func scanMatch(row pgx.Row, more ...any) (*takedown.Match, error) {
	m := &takedown.Match{}
	var sig string
	if err := row.Scan(append([]any{&m.ID, &m.OperationID, &m.Operation, &m.SuccessorID, &m.PredecessorID, &m.Score, &sig, &m.State, &m.FoundAt,
		&m.ReviewedAt, &m.ReviewedBy, &m.Note,
		&m.Successor.Identity, &m.Successor.URL, &m.Successor.Platform, &m.Successor.Kind, &m.Successor.Handle, &m.Successor.Status,
		&m.Predecessor.Identity, &m.Predecessor.URL, &m.Predecessor.Platform, &m.Predecessor.Kind, &m.Predecessor.Handle, &m.Predecessor.Status}, more...)...); err != nil {
		return nil, err
	}
	m.FoundAt, m.ReviewedAt = m.FoundAt.UTC(), utc(m.ReviewedAt)
	if err := json.Unmarshal([]byte(sig), &m.Signals); err != nil {
		return nil, fmt.Errorf("match %d: signals: %w", m.ID, err)
	}
	return m, nil
}

func (db *DB) ListMatches(ctx context.Context, f takedown.MatchFilter) ([]*takedown.Match, error) {
	if f.Limit <= 0 || f.Limit > takedown.MaxPageSize {
		f.Limit = takedown.DefaultPageSize
	}
	c := &conditions{}
	if f.OperationID != 0 {
		c.add("m.operation_id = ?", f.OperationID)
	}
	if f.State != "" {
		c.add("m.state = ?", string(f.State))
	}
	if f.ItemID != 0 {
		c.add("(m.successor_id = ? OR m.predecessor_id = ?)", f.ItemID)
	}
	c.add("m.id > ?", f.AfterID)
	rows, err := db.pool.Query(ctx, fmt.Sprintf(`SELECT `+matchColumns+matchFrom+` WHERE %s ORDER BY m.id LIMIT $%d`,
		strings.Join(c.where, " AND "), len(c.args)+1), append(c.args, f.Limit)...)
	if err != nil {
		return nil, translate(err, "list matches")
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (*takedown.Match, error) { return scanMatch(row) })
	if err != nil {
		return nil, translate(err, "list matches")
	}
	if out == nil {
		out = []*takedown.Match{}
	}
	return out, nil
}

func (db *DB) FindMatch(ctx context.Context, id int64) (*takedown.Match, error) {
	m, err := scanMatch(db.pool.QueryRow(ctx, `SELECT `+matchColumns+matchFrom+` WHERE m.id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, takedown.Errorf(takedown.ENOTFOUND, "no match %d", id)
	} else if err != nil {
		return nil, translate(err, "find match")
	}
	return m, nil
}

// ReviewMatch locks the match first: of two reviews at once, the second
// waits, then finds the match reviewed (ECONFLICT) before it submits
// anything.
func (db *DB) ReviewMatch(ctx context.Context, id int64, r takedown.MatchReview) (*takedown.Match, error) {
	if err := r.Validate(); err != nil {
		return nil, err
	}
	now := ts(db.now())
	by := takedown.ActorFrom(ctx).String()
	err := pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		var policy takedown.SuccessorPolicy
		m, err := scanMatch(tx.QueryRow(ctx, `SELECT `+matchColumns+`, o.successors`+matchFrom+` WHERE m.id = $1 FOR NO KEY UPDATE OF m`, id), &policy)
		if errors.Is(err, pgx.ErrNoRows) {
			return takedown.Errorf(takedown.ENOTFOUND, "no match %d", id)
		} else if err != nil {
			return fmt.Errorf("read match: %w", err)
		}
		sub, err := takedown.ReviewPlan(m, r, policy, now, by)
		if err != nil {
			return err
		}
		if sub != nil {
			var agencyID int64
			err := tx.QueryRow(ctx, `SELECT a.id FROM agencies a JOIN operation_agencies oa ON oa.agency_id = a.id
				WHERE a.code = $1 AND oa.operation_id = $2`, r.Agency, m.OperationID).Scan(&agencyID)
			if errors.Is(err, pgx.ErrNoRows) {
				return takedown.Errorf(takedown.EINVALID, "agency %q does not take part in operation %s: a confirmed successor is submitted in the reviewer's agency's name", r.Agency, m.Operation)
			} else if err != nil {
				return fmt.Errorf("find agency: %w", err)
			}
			sub.Submission.AgencyID = agencyID
			subs := []takedown.NewSubmission{*sub}
			p, err := submitplan.New(subs)
			if err != nil {
				return err
			}
			if _, err := db.submitTx(ctx, tx, m.OperationID, subs, p); err != nil {
				return err
			}
		}
		tag, err := tx.Exec(ctx, `UPDATE matches SET state = $2, reviewed_at = $3, reviewed_by = $4, note = $5 WHERE id = $1 AND state = 'open'`,
			id, string(r.State), now, by, r.Note)
		if err != nil {
			return fmt.Errorf("update match: %w", err)
		}
		if tag.RowsAffected() == 0 {
			return takedown.Errorf(takedown.ECONFLICT, "match %d was reviewed already", id)
		}
		m.State, m.ReviewedAt, m.ReviewedBy, m.Note = r.State, &now, by, r.Note
		return db.appendAudit(ctx, tx, takedown.AuditMatchReviewed(m.Operation, m, sub != nil))
	})
	if err != nil {
		return nil, translate(err, "review match")
	}
	return db.FindMatch(ctx, id)
}

func (db *DB) CountMatches(ctx context.Context, operationID int64) (*takedown.MatchCounts, error) {
	c := &takedown.MatchCounts{}
	// An aggregate without GROUP BY gives its one row for an operation
	// without matches too.
	err := db.pool.QueryRow(ctx, `SELECT
			count(*) FILTER (WHERE m.state = 'open'),
			count(*) FILTER (WHERE m.state = 'confirmed'),
			count(*) FILTER (WHERE m.state = 'rejected'),
			(SELECT count(*) FROM items WHERE operation_id = $1 AND status = 'candidate'),
			count(DISTINCT m.successor_id) FILTER (WHERE m.state = 'confirmed'),
			(SELECT count(*) FROM items i WHERE i.operation_id = $1 AND i.referred_at IS NOT NULL
				AND i.id IN (SELECT successor_id FROM matches WHERE operation_id = $1 AND state = 'confirmed'))
		FROM matches m WHERE m.operation_id = $1`, operationID).
		Scan(&c.Open, &c.Confirmed, &c.Rejected, &c.Candidates, &c.Successors, &c.Referred)
	if err != nil {
		return nil, translate(err, "count matches")
	}
	return c, nil
}

func (db *DB) ResurgenceTimes(ctx context.Context, operationID int64) ([]takedown.ResurgenceTime, error) {
	rows, err := db.pool.Query(ctx, `SELECT i.id, i.platform, coalesce(i.removed_at, i.confirmed_at),
			(SELECT min(si.first_submitted_at) FROM matches m JOIN items si ON si.id = m.successor_id
				WHERE m.predecessor_id = i.id AND m.state = 'confirmed')
		FROM items i
		WHERE i.operation_id = $1 AND i.kind IN `+containerKinds+` AND coalesce(i.removed_at, i.confirmed_at) IS NOT NULL
			AND (i.status = 'confirmed_offline' OR i.id IN (SELECT predecessor_id FROM matches WHERE operation_id = $1 AND state = 'confirmed'))
		ORDER BY i.id`, operationID)
	if err != nil {
		return nil, translate(err, "resurgence times")
	}
	out := []takedown.ResurgenceTime{}
	var t takedown.ResurgenceTime
	if _, err := pgx.ForEachRow(rows, []any{&t.ItemID, &t.Platform, &t.RemovedAt, &t.BackAt}, func() error {
		tt := t
		tt.RemovedAt, tt.BackAt = tt.RemovedAt.UTC(), utc(tt.BackAt)
		out = append(out, tt)
		return nil
	}); err != nil {
		return nil, translate(err, "resurgence times")
	}
	return out, nil
}
