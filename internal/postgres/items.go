package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/takedown-project/takedown"
	"github.com/takedown-project/takedown/internal/submitplan"
)

// Submit records a batch in one transaction with a handful of set-based
// statements, whatever the batch size: on a server every round trip
// counts. Items are created and updated in the order of their identity and
// ID, so concurrent batches lock them in the same order and do not
// deadlock; submissions are inserted in input order, so their IDs follow
// it.
func (db *DB) Submit(ctx context.Context, operationID int64, subs []takedown.NewSubmission) ([]takedown.SubmitResult, error) {
	p, err := submitplan.New(subs)
	if err != nil {
		return nil, err
	}
	var results []takedown.SubmitResult
	err = pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) (err error) {
		results, err = db.submitTx(ctx, tx, operationID, subs, p)
		return err
	})
	if err != nil {
		return nil, translate(err, "submit")
	}
	return results, nil
}

// updateGains adds to the items that existed before a batch what it
// brought them, in item ID order.
func updateGains(ctx context.Context, tx pgx.Tx, gains []submitplan.Gain) error {
	if len(gains) == 0 {
		return nil
	}
	gIDs, gCounts, gFroms, gUntils, gTitles := make([]int64, len(gains)), make([]int32, len(gains)), make([]time.Time, len(gains)), make([]time.Time, len(gains)), make([]string, len(gains))
	for i, g := range gains {
		gIDs[i], gCounts[i], gFroms[i], gUntils[i], gTitles[i] = g.ItemID, int32(g.Count), g.From, g.Until, g.Title
	}
	_, err := tx.Exec(ctx, `
		UPDATE items SET submission_count = items.submission_count + g.n,
			first_submitted_at = least(items.first_submitted_at, g.first),
			last_submitted_at = greatest(items.last_submitted_at, g.last),
			title = CASE WHEN items.title = '' THEN g.title ELSE items.title END,
			status = CASE WHEN items.status = 'candidate' THEN 'submitted' ELSE items.status END
		FROM unnest($1::bigint[], $2::int[], $3::timestamptz[], $4::timestamptz[], $5::text[]) AS g(id, n, first, last, title)
		WHERE items.id = g.id`, gIDs, gCounts, gFroms, gUntils, gTitles)
	if err != nil {
		return fmt.Errorf("update items: %w", err)
	}
	return nil
}

// checkSubmitters checks that the operation exists and is open, and that
// every submitting agency takes part in it. It returns the operation's
// slug and the codes of the agencies, in the order of agencyIDs.
func checkSubmitters(ctx context.Context, tx pgx.Tx, operationID int64, agencyIDs []int64) (string, []string, error) {
	var slug, status string
	err := tx.QueryRow(ctx, `SELECT slug, status FROM operations WHERE id = $1`, operationID).Scan(&slug, &status)
	if err == pgx.ErrNoRows {
		return "", nil, takedown.Errorf(takedown.ENOTFOUND, "no operation with ID %d", operationID)
	} else if err != nil {
		return "", nil, err
	}
	if takedown.OperationStatus(status) != takedown.OperationOpen {
		return "", nil, takedown.Errorf(takedown.ECONFLICT, "operation %s is %s and takes no more submissions", slug, status)
	}
	rows, err := tx.Query(ctx, `
		SELECT u.id, coalesce(a.code, ''), EXISTS (SELECT 1 FROM operation_agencies oa WHERE oa.operation_id = $1 AND oa.agency_id = u.id)
		FROM unnest($2::bigint[]) WITH ORDINALITY AS u(id, n) LEFT JOIN agencies a ON a.id = u.id
		ORDER BY u.n`, operationID, agencyIDs)
	if err != nil {
		return "", nil, err
	}
	codes := make([]string, 0, len(agencyIDs))
	var id int64
	var code string
	var takesPart bool
	var outsider int64
	if _, err := pgx.ForEachRow(rows, []any{&id, &code, &takesPart}, func() error {
		if !takesPart && outsider == 0 {
			outsider = id
		}
		codes = append(codes, code)
		return nil
	}); err != nil {
		return "", nil, err
	}
	if outsider != 0 {
		return "", nil, takedown.Errorf(takedown.EINVALID, "agency with ID %d does not take part in operation %s", outsider, slug)
	}
	return slug, codes, nil
}

// encodeSubmission gives the stored form of tags and attributes: JSON, or
// NULL for none.
func encodeSubmission(s *takedown.Submission) (tags, attrs *string) {
	if len(s.Tags) > 0 {
		t := jsonString(s.Tags)
		tags = &t
	}
	if len(s.Attributes) > 0 {
		a := jsonString(s.Attributes)
		attrs = &a
	}
	return tags, attrs
}

// itemColumns are an item's columns (of items i), with the code of the
// provider it is attributed to.
const itemColumns = `i.id, i.operation_id, i.identity, i.url, i.platform, i.kind, i.handle, i.title, i.status, i.submission_count, i.first_submitted_at, i.last_submitted_at,
	coalesce((SELECT pr.code FROM providers pr WHERE pr.id = i.provider_id), ''), i.attribution`

func scanItem(row pgx.Row) (*takedown.Item, error) { return scanItemAnd(row) }

const submissionColumns = `s.id, s.item_id, s.agency_id, a.code, s.raw_input, s.declared_kind, s.declared_platform, s.declared_handle,
	s.title, s.notes, s.tags, s.language, s.found_at, s.attributes, s.source, s.submitted_at, s.shared`

func scanSubmission(row pgx.Row) (*takedown.Submission, error) {
	var s takedown.Submission
	err := row.Scan(&s.ID, &s.ItemID, &s.AgencyID, &s.Agency, &s.RawInput, &s.DeclaredKind, &s.DeclaredPlatform, &s.DeclaredHandle,
		&s.Title, &s.Notes, &s.Tags, &s.Language, &s.FoundAt, &s.Attributes, &s.Source, &s.SubmittedAt, &s.Shared)
	if s.FoundAt != nil {
		f := s.FoundAt.UTC()
		s.FoundAt = &f
	}
	s.SubmittedAt = s.SubmittedAt.UTC()
	return &s, err
}

// FindItem reads the item, its submissions and the active holds of its
// operation in one round trip.
func (db *DB) FindItem(ctx context.Context, id int64) (*takedown.Item, error) {
	now := ts(db.now())
	var (
		it    *takedown.Item
		subs  []*takedown.Submission
		holds []*takedown.Hold
	)
	b := &pgx.Batch{}
	b.Queue(`SELECT `+itemColumns+` FROM items i WHERE i.id = $1`, id).QueryRow(func(row pgx.Row) (err error) {
		it, err = scanItem(row)
		return err
	})
	b.Queue(`SELECT `+submissionColumns+` FROM submissions s JOIN agencies a ON a.id = s.agency_id
		WHERE s.item_id = $1 ORDER BY s.submitted_at, s.id`, id).Query(func(rows pgx.Rows) (err error) {
		subs, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (*takedown.Submission, error) { return scanSubmission(row) })
		return err
	})
	b.Queue(activeHoldsOf(`(SELECT operation_id FROM items WHERE id = $1)`), id, now).Query(func(rows pgx.Rows) (err error) {
		holds, err = collectHolds(rows)
		return err
	})
	err := db.pool.SendBatch(ctx, b).Close()
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, takedown.Errorf(takedown.ENOTFOUND, "no item %d", id)
	} else if err != nil {
		return nil, translate(err, "find item")
	}
	it.Submissions = subs
	if it.Submissions == nil {
		it.Submissions = []*takedown.Submission{}
	}
	it.Hold = takedown.NoticeFor(it, holds, now)
	return it, nil
}

func (db *DB) ListItems(ctx context.Context, f takedown.ItemFilter) (*takedown.ItemPage, error) {
	limit, err := f.PageSize()
	if err != nil {
		return nil, err
	}
	c := itemConditions(f)
	if f.Cursor != "" {
		last, err := takedown.DecodeCursor(f.Cursor)
		if err != nil {
			return nil, err
		}
		c.add("i.id < ?", last)
	}
	where, args := c.where, c.args
	args = append(args, limit+1)
	// The page and the operation's active holds, in one round trip.
	now := ts(db.now())
	var (
		items []*takedown.Item
		holds []*takedown.Hold
	)
	b := &pgx.Batch{}
	b.Queue(fmt.Sprintf(`SELECT `+itemColumns+` FROM items i WHERE %s ORDER BY i.id DESC LIMIT $%d`, strings.Join(where, " AND "), len(args)), args...).Query(func(rows pgx.Rows) (err error) {
		items, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (*takedown.Item, error) { return scanItem(row) })
		return err
	})
	b.Queue(activeHoldsOf(`$1`), f.OperationID, now).Query(func(rows pgx.Rows) (err error) {
		holds, err = collectHolds(rows)
		return err
	})
	if err := db.pool.SendBatch(ctx, b).Close(); err != nil {
		return nil, translate(err, "list items")
	}
	for _, it := range items {
		it.Hold = takedown.NoticeFor(it, holds, now)
	}
	page := &takedown.ItemPage{Items: items}
	if page.Items == nil {
		page.Items = []*takedown.Item{}
	}
	if len(page.Items) > limit {
		page.Items = page.Items[:limit]
		page.NextCursor = takedown.EncodeCursor(page.Items[limit-1].ID)
	}
	return page, nil
}

// conditions are conditions on items i and their arguments, $1 the
// operation's ID.
type conditions struct {
	where []string
	args  []any
}

// add adds a condition whose every ? stands for v.
func (c *conditions) add(cond string, v any) {
	c.args = append(c.args, v)
	c.where = append(c.where, strings.ReplaceAll(cond, "?", fmt.Sprintf("$%d", len(c.args))))
}

// likeEscaper escapes LIKE's wildcards and its escape character.
var likeEscaper = strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)

// itemConditions select the items f selects, leaving its cursor and page
// size out.
func itemConditions(f takedown.ItemFilter) *conditions {
	c := &conditions{where: []string{"i.operation_id = $1"}, args: []any{f.OperationID}}
	if f.Platform != "" {
		c.add("i.platform = ?", string(f.Platform))
	}
	if f.Kind != "" {
		c.add("i.kind = ?", string(f.Kind))
	}
	if f.Status != "" {
		c.add("i.status = ?", string(f.Status))
	}
	if f.Provider != "" {
		c.add("i.provider_id = (SELECT id FROM providers WHERE code = ?)", f.Provider)
	}
	if f.Unattributed {
		// Attributed, and to no provider: not those not yet attributed.
		c.where = append(c.where, "i.provider_id IS NULL AND i.attribution <> ''")
	}
	if f.Agency != "" {
		c.add("EXISTS (SELECT 1 FROM submissions s JOIN agencies a ON a.id = s.agency_id WHERE s.item_id = i.id AND a.code = ?)", f.Agency)
	}
	if f.Text != "" {
		// A scan: a pg_trgm index on this expression made the search take
		// milliseconds at a million items, but cost a third more time on
		// every import (measured: 47 s against 62 s for 1,000,000 rows),
		// so it waits for an index filled behind the imports, as SQLite's
		// is. What people type is escaped of LIKE's wildcards.
		c.add(`lower(i.handle || E'\n' || i.url || E'\n' || i.title) LIKE ?`, "%"+likeEscaper.Replace(strings.ToLower(f.Text))+"%")
	}
	return c
}

// submitTx records subs, planned as p, in tx: Submit, or the submission
// of a confirmed successor in the transaction of its review.
func (db *DB) submitTx(ctx context.Context, tx pgx.Tx, operationID int64, subs []takedown.NewSubmission, p *submitplan.Plan) ([]takedown.SubmitResult, error) {
	var results []takedown.SubmitResult
	slug, agencies, err := checkSubmitters(ctx, tx, operationID, p.AgencyIDs())
	if err != nil {
		return nil, err
	}
	w := submitplan.Written{ItemID: map[string]int64{}, NewItems: map[string]bool{}, Inserted: map[submitplan.Key]bool{},
		Status: map[int64]takedown.ItemStatus{}, Submitted: map[[2]int64]bool{}}
	// 1. Items: the first submission of each identity creates it, with
	// everything the batch says of it, so a new item is written once.
	n := len(p.Items)
	ids, urls, platforms, kinds, handles, titles := make([]string, 0, n), make([]string, 0, n), make([]string, 0, n), make([]string, 0, n), make([]string, 0, n), make([]string, 0, n)
	counts, froms, untils := make([]int32, 0, n), make([]time.Time, 0, n), make([]time.Time, 0, n)
	for _, it := range p.Items {
		r := &subs[it.First].Item
		ids, urls, platforms = append(ids, it.Identity), append(urls, r.Canonical), append(platforms, string(r.Platform))
		kinds, handles, titles = append(kinds, string(r.Kind)), append(handles, r.Handle), append(titles, it.Title)
		counts, froms, untils = append(counts, int32(it.Count)), append(froms, it.From), append(untils, it.Until)
	}
	rows, err := tx.Query(ctx, `
			INSERT INTO items (operation_id, identity, url, platform, kind, handle, title, status, submission_count, first_submitted_at, last_submitted_at)
			SELECT $1, identity, url, platform, kind, handle, title, $8, n, from_, until
			FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $9::int[], $10::timestamptz[], $11::timestamptz[])
				AS t(identity, url, platform, kind, handle, title, n, from_, until)
			ON CONFLICT (operation_id, identity) DO NOTHING
			RETURNING identity, id`,
		operationID, ids, urls, platforms, kinds, handles, titles, takedown.ItemSubmitted, counts, froms, untils)
	if err != nil {
		return nil, fmt.Errorf("record items: %w", err)
	}
	var identity string
	var id int64
	if _, err := pgx.ForEachRow(rows, []any{&identity, &id}, func() error {
		w.ItemID[identity], w.NewItems[identity] = id, true
		return nil
	}); err != nil {
		return nil, fmt.Errorf("record items: %w", err)
	}
	// 2. The items that existed, and who had submitted them (for the
	// counts).
	if len(w.ItemID) < len(ids) {
		rows, err = tx.Query(ctx, `SELECT identity, id, status FROM items WHERE operation_id = $1 AND identity = ANY($2)`, operationID, ids)
		if err != nil {
			return nil, fmt.Errorf("find items: %w", err)
		}
		var status takedown.ItemStatus
		if _, err := pgx.ForEachRow(rows, []any{&identity, &id, &status}, func() error {
			if !w.NewItems[identity] {
				w.ItemID[identity], w.Status[id] = id, status
			}
			return nil
		}); err != nil {
			return nil, fmt.Errorf("find items: %w", err)
		}
		rows, err = tx.Query(ctx, `SELECT DISTINCT item_id, agency_id FROM submissions WHERE item_id = ANY($1)`, p.Existing(w))
		if err != nil {
			return nil, fmt.Errorf("find submitters: %w", err)
		}
		var pair [2]int64
		if _, err := pgx.ForEachRow(rows, []any{&pair[0], &pair[1]}, func() error { w.Submitted[pair] = true; return nil }); err != nil {
			return nil, fmt.Errorf("find submitters: %w", err)
		}
	}

	// 3. Submissions, unless known by fingerprint.
	n = len(subs)
	var (
		itemIDs, agencyIDs                                        = make([]int64, 0, n), make([]int64, 0, n)
		raws, dkinds, dplatforms, dhandles, stitles, notes, langs = make([]string, 0, n), make([]string, 0, n), make([]string, 0, n), make([]string, 0, n), make([]string, 0, n), make([]string, 0, n), make([]string, 0, n)
		tagsJSON, attrsJSON                                       = make([]*string, 0, n), make([]*string, 0, n)
		founds                                                    = make([]*time.Time, 0, n)
		sources                                                   = make([]string, 0, n)
		submitted                                                 = make([]time.Time, 0, n)
		shared                                                    = make([]bool, 0, n)
	)
	for i := range subs {
		s := &subs[i].Submission
		itemIDs, agencyIDs = append(itemIDs, w.ItemID[subs[i].Item.Identity]), append(agencyIDs, s.AgencyID)
		raws, dkinds, dplatforms, dhandles = append(raws, s.RawInput), append(dkinds, s.DeclaredKind), append(dplatforms, s.DeclaredPlatform), append(dhandles, s.DeclaredHandle)
		stitles, notes, langs, sources = append(stitles, s.Title), append(notes, s.Notes), append(langs, s.Language), append(sources, s.Source)
		tags, attrs := encodeSubmission(s)
		tagsJSON, attrsJSON = append(tagsJSON, tags), append(attrsJSON, attrs)
		var found *time.Time
		if s.FoundAt != nil {
			f := ts(*s.FoundAt)
			found = &f
		}
		founds, submitted, shared = append(founds, found), append(submitted, ts(s.SubmittedAt)), append(shared, s.Shared)
	}
	rows, err = tx.Query(ctx, `
			INSERT INTO submissions (item_id, agency_id, fingerprint, raw_input, declared_kind, declared_platform, declared_handle,
				title, notes, tags, language, found_at, attributes, source, submitted_at, shared)
			SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[],
				$8::text[], $9::text[], $10::jsonb[], $11::text[], $12::timestamptz[], $13::jsonb[], $14::text[], $15::timestamptz[], $16::boolean[])
			ON CONFLICT (item_id, fingerprint) DO NOTHING
			RETURNING item_id, fingerprint`,
		itemIDs, agencyIDs, p.Fingerprints, raws, dkinds, dplatforms, dhandles, stitles, notes, tagsJSON, langs, founds, attrsJSON, sources, submitted, shared)
	if err != nil {
		return nil, fmt.Errorf("record submissions: %w", err)
	}
	var k submitplan.Key
	if _, err := pgx.ForEachRow(rows, []any{&k.ItemID, &k.Fingerprint}, func() error { w.Inserted[k] = true; return nil }); err != nil {
		return nil, fmt.Errorf("record submissions: %w", err)
	}

	// 4. What the items that existed gained.
	var gains []submitplan.Gain
	results, gains = p.Outcomes(w)
	if err := updateGains(ctx, tx, gains); err != nil {
		return nil, err
	}
	// 5. The counts, and who must hear of holds over what was submitted.
	submitters := p.AgencyIDs()
	code := make(map[int64]string, len(submitters))
	for i, id := range submitters {
		code[id] = agencies[i]
	}
	if err := addCounts(ctx, tx, operationID, p.Counts(w, results, func(id int64) string { return code[id] })); err != nil {
		return nil, err
	}
	cover, err := submissionCoverage(ctx, tx, operationID, db.now(), subs, w.ItemID,
		func(i int) bool { return results[i].Outcome != takedown.SubmitDuplicate },
		func(id int64) string { return code[id] })
	if err != nil {
		return nil, fmt.Errorf("holds over the batch: %w", err)
	}
	if err := db.notify(ctx, tx, takedown.PlanHoldNotices(cover)); err != nil {
		return nil, err
	}
	// 6. One event for the batch, now that its outcomes are known.
	return results, db.appendAudit(ctx, tx, takedown.AuditSubmit(slug, agencies, p.Sources(), results))
}

// IndexSearch: PostgreSQL searches the item list by scanning (pg_trgm
// would index it; not done yet).
func (db *DB) IndexSearch(ctx context.Context, limit int) (int, error) { return 0, nil }

// addCounts appends the changes rows to the operation's item counts.
func addCounts(ctx context.Context, tx pgx.Tx, operationID int64, rows []takedown.BreakdownRow) error {
	if len(rows) == 0 {
		return nil
	}
	dims, groups, statuses, ns := make([]string, len(rows)), make([]string, len(rows)), make([]string, len(rows)), make([]int64, len(rows))
	for i, r := range rows {
		dims[i], groups[i], statuses[i], ns[i] = r.Dimension, r.Group, string(r.Status), int64(r.Count)
	}
	_, err := tx.Exec(ctx, `INSERT INTO item_count_deltas (operation_id, dimension, grp, status, n)
		SELECT $1, * FROM unnest($2::text[], $3::text[], $4::text[], $5::bigint[])`, operationID, dims, groups, statuses, ns)
	if err != nil {
		return fmt.Errorf("count items: %w", err)
	}
	return nil
}
