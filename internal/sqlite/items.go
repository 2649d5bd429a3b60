package sqlite

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/takedown-project/takedown"
	"github.com/takedown-project/takedown/internal/submitplan"
)

// chunkRows is how many rows one multi-row statement carries: large enough
// that the cost of a statement vanishes, small enough to stay far below
// SQLite's limit of 32766 parameters.
const chunkRows = 500

// Submit records a batch in one write transaction with multi-row
// statements: a few hundred rows per statement take the per-statement
// cost of SQLite (and of database/sql) out of the per-row cost.
func (db *DB) Submit(ctx context.Context, operationID int64, subs []takedown.NewSubmission) ([]takedown.SubmitResult, error) {
	p, err := submitplan.New(subs)
	if err != nil {
		return nil, err
	}
	var results []takedown.SubmitResult
	err = db.inTx(ctx, func(tx *sql.Tx) (err error) {
		results, err = db.submitTx(ctx, tx, operationID, subs, p)
		return err
	})
	if err != nil {
		return nil, translate(err, "submit")
	}
	return results, nil
}

// placeholders returns "(?, ?), (?, ?)" for rows rows of cols columns, or
// "?, ?" for one column.
func placeholders(rows, cols int) string {
	var b strings.Builder
	tuple := "(" + strings.Repeat("?, ", cols-1) + "?)"
	if cols == 1 {
		tuple = "?"
	}
	for i := 0; i < rows; i++ {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(tuple)
	}
	return b.String()
}

// checkSubmitters checks that the operation exists and is open, and that
// every submitting agency takes part in it, and returns its slug.
func checkSubmitters(ctx context.Context, tx *sql.Tx, operationID int64, subs []takedown.NewSubmission) (string, error) {
	var slug, status string
	err := tx.QueryRowContext(ctx, `SELECT slug, status FROM operations WHERE id = ?`, operationID).Scan(&slug, &status)
	if err == sql.ErrNoRows {
		return "", takedown.Errorf(takedown.ENOTFOUND, "no operation with ID %d", operationID)
	} else if err != nil {
		return "", err
	}
	if takedown.OperationStatus(status) != takedown.OperationOpen {
		return "", takedown.Errorf(takedown.ECONFLICT, "operation %s is %s and takes no more submissions", slug, status)
	}
	checked := map[int64]bool{}
	for i := range subs {
		a := subs[i].Submission.AgencyID
		if checked[a] {
			continue
		}
		var ok int
		err := tx.QueryRowContext(ctx, `SELECT count(*) FROM operation_agencies WHERE operation_id = ? AND agency_id = ?`, operationID, a).Scan(&ok)
		if err != nil {
			return "", err
		}
		if ok == 0 {
			return "", takedown.Errorf(takedown.EINVALID, "agency with ID %d does not take part in operation %s", a, slug)
		}
		checked[a] = true
	}
	return slug, nil
}

// agencyCodes returns the codes of agencies by ID, in ID order.
func agencyCodes(ctx context.Context, tx *sql.Tx, ids []int64) ([]string, error) {
	out := make([]string, 0, len(ids))
	for _, id := range ids {
		var code string
		if err := tx.QueryRowContext(ctx, `SELECT code FROM agencies WHERE id = ?`, id).Scan(&code); err != nil {
			return nil, fmt.Errorf("agency %d: %w", id, err)
		}
		out = append(out, code)
	}
	return out, nil
}

// fingerprintBytes stores a fingerprint as the bytes its hex stands for.
func fingerprintBytes(fp string) []byte {
	b, err := hex.DecodeString(fp)
	if err != nil {
		panic("fingerprint " + fp + " is not hex") // Fingerprint always is
	}
	return b
}

// encodeSubmission gives the stored form of tags, attributes and found_at:
// JSON, or ” for none; NULL for no found_at.
func encodeSubmission(s *takedown.Submission) (tags, attrs string, found any) {
	if len(s.Tags) > 0 {
		b, _ := json.Marshal(s.Tags)
		tags = string(b)
	}
	if len(s.Attributes) > 0 {
		b, _ := json.Marshal(s.Attributes)
		attrs = string(b)
	}
	if s.FoundAt != nil {
		found = formatTime(*s.FoundAt)
	}
	return tags, attrs, found
}

// itemColumns are an item's columns from items i. The provider's code is a
// lookup by primary key, so that every query keeps its plain FROM items i.
const itemColumns = `i.id, i.operation_id, i.identity, i.url, i.platform, i.kind, i.handle, i.title, i.status,
	coalesce((SELECT p.code FROM providers p WHERE p.id = i.provider_id), ''), i.attribution,
	i.submission_count, i.first_submitted_at, i.last_submitted_at`

func scanItem(sc interface{ Scan(...any) error }) (*takedown.Item, error) {
	var it takedown.Item
	var first, last int64
	if err := sc.Scan(&it.ID, &it.OperationID, &it.Identity, &it.URL, &it.Platform, &it.Kind, &it.Handle, &it.Title, &it.Status,
		&it.Provider, &it.Attribution, &it.SubmissionCount, &first, &last); err != nil {
		return nil, err
	}
	it.FirstSubmittedAt, it.LastSubmittedAt = parseTime(first), parseTime(last)
	return &it, nil
}

func (db *DB) FindItem(ctx context.Context, id int64) (*takedown.Item, error) {
	it, err := scanItem(db.read.QueryRowContext(ctx, `SELECT `+itemColumns+` FROM items i WHERE i.id = ?`, id))
	if err == sql.ErrNoRows {
		return nil, takedown.Errorf(takedown.ENOTFOUND, "no item %d", id)
	} else if err != nil {
		return nil, translate(err, "find item")
	}
	rows, err := db.read.QueryContext(ctx, `SELECT s.id, s.item_id, s.agency_id, a.code, s.raw_input, s.declared_kind, s.declared_platform, s.declared_handle,
			s.title, s.notes, s.tags, s.language, s.found_at, s.attributes, s.source, s.submitted_at, s.shared
		FROM submissions s JOIN agencies a ON a.id = s.agency_id WHERE s.item_id = ? ORDER BY s.submitted_at, s.id`, id)
	if err != nil {
		return nil, translate(err, "find item submissions")
	}
	defer rows.Close()
	it.Submissions = []*takedown.Submission{}
	for rows.Next() {
		var s takedown.Submission
		var tags, attrs string
		var submitted int64
		var found sql.NullInt64
		if err := rows.Scan(&s.ID, &s.ItemID, &s.AgencyID, &s.Agency, &s.RawInput, &s.DeclaredKind, &s.DeclaredPlatform, &s.DeclaredHandle,
			&s.Title, &s.Notes, &tags, &s.Language, &found, &attrs, &s.Source, &submitted, &s.Shared); err != nil {
			return nil, translate(err, "find item submissions")
		}
		if err := decodeSubmission(&s, tags, attrs); err != nil {
			return nil, err
		}
		if found.Valid {
			t := parseTime(found.Int64)
			s.FoundAt = &t
		}
		s.SubmittedAt = parseTime(submitted)
		it.Submissions = append(it.Submissions, &s)
	}
	if err := rows.Err(); err != nil {
		return nil, translate(err, "find item submissions")
	}
	return it, db.noteHolds(ctx, it.OperationID, []*takedown.Item{it})
}

// noteHolds sets the notice of the holds that cover each item now.
func (db *DB) noteHolds(ctx context.Context, operationID int64, items []*takedown.Item) error {
	now := db.now()
	holds, err := db.ListHolds(ctx, takedown.HoldFilter{OperationID: operationID, ActiveAt: now})
	if err != nil || len(holds) == 0 {
		return err
	}
	for _, it := range items {
		it.Hold = takedown.NoticeFor(it, holds, now)
	}
	return nil
}

// decodeSubmission reads the stored JSON of tags and attributes; none is
// nil.
func decodeSubmission(s *takedown.Submission, tags, attrs string) error {
	if tags != "" {
		if err := json.Unmarshal([]byte(tags), &s.Tags); err != nil {
			return fmt.Errorf("submission %d: tags: %w", s.ID, err)
		}
	}
	if attrs != "" {
		if err := json.Unmarshal([]byte(attrs), &s.Attributes); err != nil {
			return fmt.Errorf("submission %d: attributes: %w", s.ID, err)
		}
	}
	return nil
}

func (db *DB) ListItems(ctx context.Context, f takedown.ItemFilter) (*takedown.ItemPage, error) {
	limit, err := f.PageSize()
	if err != nil {
		return nil, err
	}
	var cursor int64
	if f.Cursor != "" {
		if cursor, err = takedown.DecodeCursor(f.Cursor); err != nil {
			return nil, err
		}
	}
	var items []*takedown.Item
	if utf8.RuneCountInString(f.Text) >= 3 {
		// The text is looked up in the search index for the items it
		// holds, and looked for in the newer ones: these come first,
		// newest first, then the index's, newest first.
		var through int64
		if err := db.read.QueryRowContext(ctx, `SELECT indexed_through FROM search_state WHERE id = 1`).Scan(&through); err != nil {
			return nil, translate(err, "list items")
		}
		newer := f
		newer.Text = ""
		where, args := itemConditions(f)
		where, args = append(where, "i.id > ?"), append(args, through)
		if cursor > 0 {
			where, args = append(where, "i.id < ?"), append(args, cursor)
		}
		if items, err = db.listItems(ctx, `SELECT `+itemColumns+` FROM items i WHERE `+strings.Join(where, " AND ")+` ORDER BY i.id DESC LIMIT ?`, append(args, limit+1)); err != nil {
			return nil, err
		}
		if len(items) <= limit {
			where, args := itemConditions(newer)
			where, args = append(where, "item_search MATCH ?", "s.rowid <= ?"), append(args, ftsPhrase(f.Text), through)
			if cursor > 0 {
				where, args = append(where, "s.rowid < ?"), append(args, cursor)
			}
			more, err := db.listItems(ctx, `SELECT `+itemColumns+` FROM item_search s JOIN items i ON i.id = s.rowid WHERE `+strings.Join(where, " AND ")+
				` ORDER BY s.rowid DESC LIMIT ?`, append(args, limit+1-len(items)))
			if err != nil {
				return nil, err
			}
			items = append(items, more...)
		}
	} else {
		where, args := itemConditions(f)
		if cursor > 0 {
			where, args = append(where, "i.id < ?"), append(args, cursor)
		}
		if items, err = db.listItems(ctx, `SELECT `+itemColumns+` FROM items i WHERE `+strings.Join(where, " AND ")+` ORDER BY i.id DESC LIMIT ?`, append(args, limit+1)); err != nil {
			return nil, err
		}
	}
	page := &takedown.ItemPage{Items: items}
	if len(page.Items) > limit {
		page.Items = page.Items[:limit]
		page.NextCursor = takedown.EncodeCursor(page.Items[limit-1].ID)
	}
	return page, db.noteHolds(ctx, f.OperationID, page.Items)
}

// listItems runs a query of items.
func (db *DB) listItems(ctx context.Context, query string, args []any) ([]*takedown.Item, error) {
	rows, err := db.read.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, translate(err, "list items")
	}
	defer rows.Close()
	out := []*takedown.Item{}
	for rows.Next() {
		it, err := scanItem(rows)
		if err != nil {
			return nil, translate(err, "list items")
		}
		out = append(out, it)
	}
	return out, translate(rows.Err(), "list items")
}

// ftsPhrase is a text as one phrase of the search index's query language:
// what people type is never taken for its operators.
func ftsPhrase(text string) string {
	return `"` + strings.ReplaceAll(strings.ToLower(text), `"`, `""`) + `"`
}

// itemConditions are the conditions on items i, and their arguments, that
// select the items f selects, leaving its cursor and page size out.
func itemConditions(f takedown.ItemFilter) ([]string, []any) {
	where := []string{"i.operation_id = ?"}
	args := []any{f.OperationID}
	if f.Platform != "" {
		where, args = append(where, "i.platform = ?"), append(args, f.Platform)
	}
	if f.Kind != "" {
		where, args = append(where, "i.kind = ?"), append(args, f.Kind)
	}
	if f.Status != "" {
		where, args = append(where, "i.status = ?"), append(args, f.Status)
	}
	if f.Agency != "" {
		where = append(where, "EXISTS (SELECT 1 FROM submissions s JOIN agencies a ON a.id = s.agency_id WHERE s.item_id = i.id AND a.code = ?)")
		args = append(args, f.Agency)
	}
	if f.Provider != "" {
		where, args = append(where, "i.provider_id = (SELECT id FROM providers WHERE code = ?)"), append(args, f.Provider)
	}
	if f.Unattributed {
		where = append(where, "i.provider_id IS NULL AND i.attribution <> ''") // attributed, to none
	}
	if f.Text != "" {
		// instr on lower() is a plain substring test: no LIKE wildcards to
		// escape in what people type.
		t := strings.ToLower(f.Text)
		where = append(where, "(instr(lower(i.handle), ?) > 0 OR instr(lower(i.url), ?) > 0 OR instr(lower(i.title), ?) > 0)")
		args = append(args, t, t, t)
	}
	return where, args
}

// SetAttributions updates the items in one transaction with multi-row
// statements (UPDATE ... FROM a VALUES list of up to chunkRows items, as
// Submit writes: half the time of a prepared one-row UPDATE per item for
// 26,000 items), in ID order, and checks on the way that they exist and
// belong to one operation. An item named twice takes its last attribution.
func (db *DB) SetAttributions(ctx context.Context, list []takedown.ItemAttribution) error {
	if len(list) == 0 {
		return nil
	}
	last := make(map[int64]takedown.ItemAttribution, len(list))
	for _, a := range list {
		last[a.ItemID] = a.Stored()
	}
	as := make([]takedown.ItemAttribution, 0, len(last))
	for _, a := range last {
		as = append(as, a)
	}
	slices.SortFunc(as, func(a, b takedown.ItemAttribution) int { return cmp.Compare(a.ItemID, b.ItemID) })
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		providerID := map[string]any{"": nil}
		for _, a := range as {
			if _, ok := providerID[a.Provider]; ok {
				continue
			}
			var id int64
			err := tx.QueryRowContext(ctx, `SELECT id FROM providers WHERE code = ?`, a.Provider).Scan(&id)
			if err == sql.ErrNoRows {
				return takedown.Errorf(takedown.EINVALID, "no provider %q to attribute item %d to", a.Provider, a.ItemID)
			} else if err != nil {
				return err
			}
			providerID[a.Provider] = id
		}
		update := func(n int) string {
			return `WITH u(id, provider_id, via) AS (VALUES ` + placeholders(n, 3) + `)
				UPDATE items SET provider_id = u.provider_id, attribution = u.via FROM u WHERE items.id = u.id RETURNING items.operation_id`
		}
		// Full chunks share one prepared statement: parsing a statement of
		// 500 rows costs as much as running it.
		var full *sql.Stmt
		defer func() {
			if full != nil {
				full.Close()
			}
		}()
		var operationID int64
		for chunk := range slices.Chunk(as, chunkRows) {
			args := make([]any, 0, 3*len(chunk))
			for _, a := range chunk {
				args = append(args, a.ItemID, providerID[a.Provider], a.Via)
			}
			var rows *sql.Rows
			var err error
			if len(chunk) == chunkRows {
				if full == nil {
					if full, err = tx.PrepareContext(ctx, update(chunkRows)); err != nil {
						return err
					}
				}
				rows, err = full.QueryContext(ctx, args...)
			} else {
				rows, err = tx.QueryContext(ctx, update(len(chunk)), args...)
			}
			if err != nil {
				return err
			}
			n := 0
			for rows.Next() {
				var op int64
				if err := rows.Scan(&op); err != nil {
					rows.Close()
					return err
				}
				n++
				if operationID == 0 {
					operationID = op
				} else if op != operationID {
					rows.Close()
					return takedown.Errorf(takedown.EINVALID, "the items are of more than one operation: attribute the items of one operation at a time")
				}
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return err
			}
			if n != len(chunk) {
				return takedown.Errorf(takedown.EINVALID, "attribution: %d of the items do not exist", len(chunk)-n)
			}
		}
		var slug string
		if err := tx.QueryRowContext(ctx, `SELECT slug FROM operations WHERE id = ?`, operationID).Scan(&slug); err != nil {
			return err
		}
		return db.appendAudit(ctx, tx, takedown.AuditAttribute(slug, as))
	})
	return translate(err, "set attributions")
}

// submitTx records subs, planned as p, in tx: Submit, or the submission
// of a confirmed successor in the transaction of its review.
func (db *DB) submitTx(ctx context.Context, tx *sql.Tx, operationID int64, subs []takedown.NewSubmission, p *submitplan.Plan) ([]takedown.SubmitResult, error) {
	var results []takedown.SubmitResult
	slug, err := checkSubmitters(ctx, tx, operationID, subs)
	if err != nil {
		return nil, err
	}
	w := submitplan.Written{ItemID: map[string]int64{}, NewItems: map[string]bool{}, Inserted: map[submitplan.Key]bool{},
		Status: map[int64]takedown.ItemStatus{}, Submitted: map[[2]int64]bool{}}
	// Full chunks reuse one prepared statement per query: parsing a
	// statement of 500 rows costs as much as running it.
	prepared := map[string]*sql.Stmt{}
	defer func() {
		for _, st := range prepared {
			st.Close()
		}
	}()
	queryEach := func(query string, args []any, f func(*sql.Rows) error) error {
		st, ok := prepared[query]
		if !ok {
			var err error
			if st, err = tx.PrepareContext(ctx, query); err != nil {
				return err
			}
			prepared[query] = st
		}
		rows, err := st.QueryContext(ctx, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			if err := f(rows); err != nil {
				return err
			}
		}
		return rows.Err()
	}
	// 1. The items that exist already.
	for items := range slices.Chunk(p.Items, chunkRows) {
		args := make([]any, 0, len(items)+1)
		args = append(args, operationID)
		for _, it := range items {
			args = append(args, it.Identity)
		}
		// With each item, the agencies that submitted it (for the
		// counts), in the same statement: a second query cost a tenth
		// of an import of merges.
		err := queryEach(`SELECT identity, id, status, (SELECT group_concat(DISTINCT agency_id) FROM submissions s WHERE s.item_id = items.id)
				FROM items WHERE operation_id = ? AND identity IN (`+placeholders(len(items), 1)+`)`, args, func(rows *sql.Rows) error {
			var identity string
			var id int64
			var status takedown.ItemStatus
			var agencies sql.NullString
			if err := rows.Scan(&identity, &id, &status, &agencies); err != nil {
				return err
			}
			w.ItemID[identity], w.Status[id] = id, status
			for a := range strings.SplitSeq(agencies.String, ",") {
				if agency, err := strconv.ParseInt(a, 10, 64); err == nil {
					w.Submitted[[2]int64{id, agency}] = true
				}
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("find items: %w", err)
		}
	}
	// 2. New items, written whole from the plan.
	var fresh []*submitplan.Item
	for _, it := range p.Items {
		if _, ok := w.ItemID[it.Identity]; !ok {
			fresh = append(fresh, it)
		}
	}
	for items := range slices.Chunk(fresh, chunkRows) {
		args := make([]any, 0, len(items)*11)
		for _, it := range items {
			r := &subs[it.First].Item
			args = append(args, operationID, it.Identity, r.Canonical, r.Platform, r.Kind, r.Handle, it.Title, takedown.ItemSubmitted, it.Count, formatTime(it.From), formatTime(it.Until))
		}
		err := queryEach(`INSERT INTO items (operation_id, identity, url, platform, kind, handle, title, status, submission_count, first_submitted_at, last_submitted_at)
				VALUES `+placeholders(len(items), 11)+` RETURNING identity, id`, args, func(rows *sql.Rows) error {
			var identity string
			var id int64
			err := rows.Scan(&identity, &id)
			w.ItemID[identity], w.NewItems[identity] = id, true
			return err
		})
		if err != nil {
			return nil, fmt.Errorf("record items: %w", err)
		}
	}
	// 3. Submissions, unless known by fingerprint.
	for start := 0; start < len(subs); start += chunkRows {
		end := min(start+chunkRows, len(subs))
		args := make([]any, 0, (end-start)*16)
		for i := start; i < end; i++ {
			s := &subs[i].Submission
			tags, attrs, found := encodeSubmission(s)
			args = append(args, w.ItemID[subs[i].Item.Identity], s.AgencyID, fingerprintBytes(p.Fingerprints[i]), s.RawInput, s.DeclaredKind, s.DeclaredPlatform, s.DeclaredHandle,
				s.Title, s.Notes, tags, s.Language, found, attrs, s.Source, formatTime(s.SubmittedAt), s.Shared)
		}
		err := queryEach(`INSERT INTO submissions (item_id, agency_id, fingerprint, raw_input, declared_kind, declared_platform, declared_handle,
					title, notes, tags, language, found_at, attributes, source, submitted_at, shared)
				VALUES `+placeholders(end-start, 16)+` ON CONFLICT (item_id, fingerprint) DO NOTHING RETURNING item_id, fingerprint`, args, func(rows *sql.Rows) error {
			var id int64
			var fp []byte
			err := rows.Scan(&id, &fp)
			w.Inserted[submitplan.Key{ItemID: id, Fingerprint: hex.EncodeToString(fp)}] = true
			return err
		})
		if err != nil {
			return nil, fmt.Errorf("record submissions: %w", err)
		}
	}
	// 4. What the items that existed gained.
	var gains []submitplan.Gain
	results, gains = p.Outcomes(w)
	if len(gains) > 0 {
		touch, err := tx.PrepareContext(ctx, `UPDATE items SET submission_count = submission_count + ?,
					first_submitted_at = min(first_submitted_at, ?), last_submitted_at = max(last_submitted_at, ?),
					title = CASE WHEN title = '' THEN ? ELSE title END,
					status = CASE WHEN status = 'candidate' THEN 'submitted' ELSE status END
				WHERE id = ?`)
		if err != nil {
			return nil, err
		}
		defer touch.Close()
		for _, g := range gains {
			if _, err := touch.ExecContext(ctx, g.Count, formatTime(g.From), formatTime(g.Until), g.Title, g.ItemID); err != nil {
				return nil, fmt.Errorf("update item %d: %w", g.ItemID, err)
			}
		}
	}
	// 5. The counts, who must hear of holds over what was submitted,
	// and the audit chain.
	ids := p.AgencyIDs()
	agencies, err := agencyCodes(ctx, tx, ids)
	if err != nil {
		return nil, err
	}
	code := map[int64]string{}
	for i, id := range ids {
		code[id] = agencies[i]
	}
	if err := addCounts(ctx, tx, operationID, p.Counts(w, results, func(id int64) string { return code[id] })); err != nil {
		return nil, err
	}
	cover, err := submissionCoverage(ctx, tx, operationID, db.now(), subs, w.ItemID,
		func(i int) bool { return results[i].Outcome != takedown.SubmitDuplicate },
		func(id int64) string { return code[id] })
	if err != nil {
		return nil, err
	}
	if err := db.notify(ctx, tx, takedown.PlanHoldNotices(cover)); err != nil {
		return nil, err
	}
	return results, db.appendAudit(ctx, tx, takedown.AuditSubmit(slug, agencies, p.Sources(), results))
}

// IndexSearch indexes the items after the index's high-water mark, up to
// limit, and the items whose title was given after they were indexed.
func (db *DB) IndexSearch(ctx context.Context, limit int) (int, error) {
	if limit <= 0 {
		limit = 10000
	}
	n := 0
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		n = 0
		res, err := tx.ExecContext(ctx, `DELETE FROM item_search WHERE rowid IN (SELECT item_id FROM search_dirty ORDER BY item_id LIMIT ?)`, limit)
		if err != nil {
			return translate(err, "index search")
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO item_search (rowid, body)
			SELECT i.id, `+searchBody+` FROM items i WHERE i.id IN (SELECT item_id FROM search_dirty ORDER BY item_id LIMIT ?)`, limit); err != nil {
			return translate(err, "index search")
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM search_dirty WHERE item_id IN (SELECT item_id FROM search_dirty ORDER BY item_id LIMIT ?)`, limit); err != nil {
			return translate(err, "index search")
		}
		dirty, _ := res.RowsAffected()
		var through int64
		if err := tx.QueryRowContext(ctx, `SELECT indexed_through FROM search_state WHERE id = 1`).Scan(&through); err != nil {
			return translate(err, "index search")
		}
		var last sql.NullInt64
		if err := tx.QueryRowContext(ctx, `SELECT max(id) FROM (SELECT id FROM items WHERE id > ? ORDER BY id LIMIT ?)`, through, limit).Scan(&last); err != nil {
			return translate(err, "index search")
		}
		if !last.Valid {
			n = int(dirty)
			return nil
		}
		res, err = tx.ExecContext(ctx, `INSERT INTO item_search (rowid, body) SELECT i.id, `+searchBody+` FROM items i WHERE i.id > ? AND i.id <= ?`, through, last.Int64)
		if err != nil {
			return translate(err, "index search")
		}
		added, _ := res.RowsAffected()
		n = int(dirty + added)
		_, err = tx.ExecContext(ctx, `UPDATE search_state SET indexed_through = ? WHERE id = 1`, last.Int64)
		return translate(err, "index search")
	})
	return n, err
}

// searchBody is what the search index holds of an item i.
const searchBody = `lower(i.url || ' ' || i.handle || ' ' || i.title)`

// addCounts adds the changes rows to the operation's item counts.
func addCounts(ctx context.Context, tx *sql.Tx, operationID int64, rows []takedown.BreakdownRow) error {
	for chunk := range slices.Chunk(rows, chunkRows) {
		args := make([]any, 0, len(chunk)*5)
		for _, r := range chunk {
			args = append(args, operationID, r.Dimension, r.Group, r.Status, r.Count)
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO item_counts (operation_id, dimension, grp, status, n) VALUES `+placeholders(len(chunk), 5)+`
			ON CONFLICT (operation_id, dimension, grp, status) DO UPDATE SET n = n + excluded.n`, args...)
		if err != nil {
			return fmt.Errorf("count items: %w", err)
		}
	}
	return nil
}
