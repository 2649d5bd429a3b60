package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/takedown-project/takedown"
)

// Submit records a batch in one write transaction with prepared statements:
// on SQLite a statement costs microseconds and there is no round trip, so
// row by row is as fast as anything set-based here.
func (db *DB) Submit(ctx context.Context, operationID int64, subs []takedown.NewSubmission) ([]takedown.SubmitResult, error) {
	for i := range subs {
		if err := subs[i].Validate(); err != nil {
			return nil, err
		}
	}
	results := make([]takedown.SubmitResult, len(subs))
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		if err := checkSubmitters(ctx, tx, operationID, subs); err != nil {
			return err
		}
		insertItem, err := tx.PrepareContext(ctx, `INSERT INTO items (operation_id, identity, url, platform, kind, handle, title, status, submission_count, first_submitted_at, last_submitted_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?)`)
		if err != nil {
			return err
		}
		defer insertItem.Close()
		findItem, err := tx.PrepareContext(ctx, `SELECT id FROM items WHERE operation_id = ? AND identity = ?`)
		if err != nil {
			return err
		}
		defer findItem.Close()
		insertSub, err := tx.PrepareContext(ctx, `INSERT INTO submissions (item_id, agency_id, fingerprint, raw_input, declared_kind, declared_platform, declared_handle,
				title, notes, tags, language, found_at, attributes, source, submitted_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (item_id, fingerprint) DO NOTHING`)
		if err != nil {
			return err
		}
		defer insertSub.Close()
		touchItem, err := tx.PrepareContext(ctx, `UPDATE items SET submission_count = submission_count + 1,
				first_submitted_at = min(first_submitted_at, ?1), last_submitted_at = max(last_submitted_at, ?1),
				title = CASE WHEN title = '' THEN ?2 ELSE title END
			WHERE id = ?3`)
		if err != nil {
			return err
		}
		defer touchItem.Close()

		for i := range subs {
			r, s := &subs[i].Item, &subs[i].Submission
			at := formatTime(s.SubmittedAt)
			// Look up first: most rows of a large import are new items,
			// but a lookup that finds the item is cheaper than an insert
			// that conflicts.
			var itemID int64
			isNew := false
			err := findItem.QueryRowContext(ctx, operationID, r.Identity).Scan(&itemID)
			if err == sql.ErrNoRows {
				var res sql.Result
				if res, err = insertItem.ExecContext(ctx, operationID, r.Identity, r.Canonical, r.Platform, r.Kind, r.Handle, s.Title, takedown.ItemSubmitted, at, at); err == nil {
					itemID, err = res.LastInsertId()
				}
				isNew = true
			}
			if err != nil {
				return fmt.Errorf("record item %s: %w", r.Identity, err)
			}
			tags, attrs, found := encodeSubmission(s)
			res, err := insertSub.ExecContext(ctx, itemID, s.AgencyID, s.Fingerprint(), s.RawInput, s.DeclaredKind, s.DeclaredPlatform, s.DeclaredHandle,
				s.Title, s.Notes, tags, s.Language, found, attrs, s.Source, at)
			if err != nil {
				return fmt.Errorf("record submission of %s: %w", r.Identity, err)
			}
			inserted, _ := res.RowsAffected()
			results[i].ItemID = itemID
			switch {
			case isNew:
				results[i].Outcome = takedown.SubmitNewItem
			case inserted == 0:
				results[i].Outcome = takedown.SubmitDuplicate
			default:
				results[i].Outcome = takedown.SubmitMerged
				if _, err := touchItem.ExecContext(ctx, at, s.Title, itemID); err != nil {
					return fmt.Errorf("update item %s: %w", r.Identity, err)
				}
			}
		}
		return nil
	})
	if err != nil {
		return nil, translate(err, "submit")
	}
	return results, nil
}

// checkSubmitters checks that the operation exists and is open, and that
// every submitting agency takes part in it.
func checkSubmitters(ctx context.Context, tx *sql.Tx, operationID int64, subs []takedown.NewSubmission) error {
	var slug, status string
	err := tx.QueryRowContext(ctx, `SELECT slug, status FROM operations WHERE id = ?`, operationID).Scan(&slug, &status)
	if err == sql.ErrNoRows {
		return takedown.Errorf(takedown.ENOTFOUND, "no operation with ID %d", operationID)
	} else if err != nil {
		return err
	}
	if takedown.OperationStatus(status) != takedown.OperationOpen {
		return takedown.Errorf(takedown.ECONFLICT, "operation %s is %s and takes no more submissions", slug, status)
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
			return err
		}
		if ok == 0 {
			return takedown.Errorf(takedown.EINVALID, "agency with ID %d does not take part in operation %s", a, slug)
		}
		checked[a] = true
	}
	return nil
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

const itemColumns = `i.id, i.operation_id, i.identity, i.url, i.platform, i.kind, i.handle, i.title, i.status, i.submission_count, i.first_submitted_at, i.last_submitted_at`

func scanItem(sc interface{ Scan(...any) error }) (*takedown.Item, error) {
	var it takedown.Item
	var first, last string
	if err := sc.Scan(&it.ID, &it.OperationID, &it.Identity, &it.URL, &it.Platform, &it.Kind, &it.Handle, &it.Title, &it.Status, &it.SubmissionCount, &first, &last); err != nil {
		return nil, err
	}
	var err error
	if it.FirstSubmittedAt, err = parseTime(first); err != nil {
		return nil, err
	}
	if it.LastSubmittedAt, err = parseTime(last); err != nil {
		return nil, err
	}
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
			s.title, s.notes, s.tags, s.language, s.found_at, s.attributes, s.source, s.submitted_at
		FROM submissions s JOIN agencies a ON a.id = s.agency_id WHERE s.item_id = ? ORDER BY s.submitted_at, s.id`, id)
	if err != nil {
		return nil, translate(err, "find item submissions")
	}
	defer rows.Close()
	it.Submissions = []*takedown.Submission{}
	for rows.Next() {
		var s takedown.Submission
		var tags, attrs, submitted string
		var found sql.NullString
		if err := rows.Scan(&s.ID, &s.ItemID, &s.AgencyID, &s.Agency, &s.RawInput, &s.DeclaredKind, &s.DeclaredPlatform, &s.DeclaredHandle,
			&s.Title, &s.Notes, &tags, &s.Language, &found, &attrs, &s.Source, &submitted); err != nil {
			return nil, translate(err, "find item submissions")
		}
		if err := decodeSubmission(&s, tags, attrs); err != nil {
			return nil, err
		}
		if found.Valid {
			t, err := parseTime(found.String)
			if err != nil {
				return nil, translate(err, "find item submissions")
			}
			s.FoundAt = &t
		}
		if s.SubmittedAt, err = parseTime(submitted); err != nil {
			return nil, translate(err, "find item submissions")
		}
		it.Submissions = append(it.Submissions, &s)
	}
	return it, translate(rows.Err(), "find item submissions")
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
	where := []string{"i.operation_id = ?"}
	args := []any{f.OperationID}
	if f.Cursor != "" {
		last, err := takedown.DecodeCursor(f.Cursor)
		if err != nil {
			return nil, err
		}
		where, args = append(where, "i.id < ?"), append(args, last)
	}
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
	if f.Text != "" {
		// instr on lower() is a plain substring test: no LIKE wildcards to
		// escape in what people type.
		t := strings.ToLower(f.Text)
		where = append(where, "(instr(lower(i.handle), ?) > 0 OR instr(lower(i.url), ?) > 0 OR instr(lower(i.title), ?) > 0)")
		args = append(args, t, t, t)
	}
	args = append(args, limit+1)
	rows, err := db.read.QueryContext(ctx, `SELECT `+itemColumns+` FROM items i WHERE `+strings.Join(where, " AND ")+` ORDER BY i.id DESC LIMIT ?`, args...)
	if err != nil {
		return nil, translate(err, "list items")
	}
	defer rows.Close()
	page := &takedown.ItemPage{Items: []*takedown.Item{}}
	for rows.Next() {
		it, err := scanItem(rows)
		if err != nil {
			return nil, translate(err, "list items")
		}
		page.Items = append(page.Items, it)
	}
	if err := rows.Err(); err != nil {
		return nil, translate(err, "list items")
	}
	if len(page.Items) > limit {
		page.Items = page.Items[:limit]
		page.NextCursor = takedown.EncodeCursor(page.Items[limit-1].ID)
	}
	return page, nil
}
