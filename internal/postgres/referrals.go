package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"github.com/takedown-project/takedown"
	"github.com/takedown-project/takedown/internal/jobkinds"
)

// batcher is what reads of referrals run on: the pool, or a transaction
// whose state they return.
type batcher interface {
	SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults
}

// CreateReferral runs under the operation's row lock (lockOperation), as
// PlaceHold does: the holds it reads are every hold committed before it,
// and a hold placed meanwhile waits for it to commit. The deliveries, one
// row per channel of the provider, and the jobs that make them (all but the
// portal's, which is delivered at once) are written in the same
// transaction: the referral exists exactly when its deliveries are queued.
func (db *DB) CreateReferral(ctx context.Context, r *takedown.Referral, itemIDs []int64) ([]int64, error) {
	if err := r.Validate(); err != nil {
		return nil, err
	}
	ids := slices.Clone(itemIDs)
	slices.Sort(ids)
	ids = slices.Compact(ids)
	if len(ids) == 0 {
		return nil, takedown.Errorf(takedown.EINVALID, "a referral needs at least one item")
	}
	// Per-item reasons come in r.Items, which is replaced by what is referred.
	reasons := map[int64]string{}
	for _, it := range r.Items {
		if it.Reason != "" {
			reasons[it.ItemID] = it.Reason
		}
	}
	order := ""
	if r.Order != nil {
		order = jsonString(r.Order)
	}
	var held []int64
	err := pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		slug, err := lockOperation(ctx, tx, r.OperationID)
		if err != nil {
			return err
		}
		// Read after the lock, so that every hold committed before it counts.
		now := ts(db.now())
		var (
			provider *takedown.Provider
			items    []*takedown.Item
			holds    []*takedown.Hold
		)
		b := &pgx.Batch{}
		b.Queue(`SELECT `+providerColumns+` FROM providers WHERE code = $1`, r.Provider).QueryRow(func(row pgx.Row) (err error) {
			provider, err = scanProvider(row)
			if err == pgx.ErrNoRows {
				return takedown.Errorf(takedown.ENOTFOUND, "no provider %q", r.Provider)
			}
			return err
		})
		b.Queue(`SELECT `+itemColumns+` FROM items i WHERE i.id = ANY($1) AND i.operation_id = $2 ORDER BY i.id`, ids, r.OperationID).Query(func(rows pgx.Rows) (err error) {
			items, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (*takedown.Item, error) { return scanItem(row) })
			return err
		})
		b.Queue(activeHoldsOf(`$1`), r.OperationID, now).Query(func(rows pgx.Rows) (err error) {
			holds, err = collectHolds(rows)
			return err
		})
		if err := tx.SendBatch(ctx, b).Close(); err != nil {
			return err
		}
		if len(items) < len(ids) {
			return takedown.Errorf(takedown.EINVALID, "operation %s has no item %s", slug, missingIDs(ids, items))
		}
		var free []*takedown.Item
		free, held = takedown.SplitHeld(items, holds, now)
		if len(free) == 0 {
			return takedown.Errorf(takedown.EINVALID, "every item is held for deconfliction; nothing is left to refer")
		}
		r.ProviderID, r.Operation, r.CreatedAt, r.CreatedBy = provider.ID, slug, now, takedown.ActorFrom(ctx).String()
		r.ReceivedAt, r.AcknowledgedAt, r.Deadline, r.EscalatedAt = nil, nil, nil, nil
		// The status is derived whenever a referral is read; the column
		// is no longer written.
		err = tx.QueryRow(ctx, `INSERT INTO referrals (operation_id, provider_id, legal_basis, status, created_at, created_by, order_json)
			VALUES ($1, $2, $3, '', $4, $5, $6) RETURNING id`,
			r.OperationID, r.ProviderID, r.LegalBasis, r.CreatedAt, r.CreatedBy, order).Scan(&r.ID)
		if err != nil {
			return fmt.Errorf("record referral: %w", err)
		}
		r.IdempotencyKey = takedown.ReferralKey(slug, r.ID)

		r.Items = make([]takedown.ReferralItem, len(free))
		freeIDs, freeReasons := make([]int64, len(free)), make([]string, len(free))
		for i, it := range free {
			r.Items[i] = takedown.ReferralItem{ItemID: it.ID, URL: it.URL, Reason: reasons[it.ID], Outcome: takedown.OutcomePending}
			freeIDs[i], freeReasons[i] = it.ID, reasons[it.ID]
		}
		r.Counts = map[takedown.Outcome]int{takedown.OutcomePending: len(free)}

		chans := provider.Channels()
		r.Deliveries = make([]takedown.Delivery, len(chans))
		names, states, deliveredAt := make([]string, len(chans)), make([]string, len(chans)), make([]*time.Time, len(chans))
		var queue []river.InsertManyParams
		for i, ch := range chans {
			d := takedown.Delivery{Channel: ch, State: takedown.DeliveryPending, UpdatedAt: now}
			if ch == takedown.ChannelPortal {
				d.State, d.DeliveredAt = takedown.DeliveryDelivered, &now
			} else {
				queue = append(queue, river.InsertManyParams{Args: jobkinds.DeliverArgs{ReferralID: r.ID, Channel: string(ch)}})
			}
			r.Deliveries[i] = d
			names[i], states[i], deliveredAt[i] = string(d.Channel), string(d.State), d.DeliveredAt
		}
		b = &pgx.Batch{}
		b.Queue(`UPDATE referrals SET idempotency_key = $2 WHERE id = $1`, r.ID, r.IdempotencyKey)
		b.Queue(`INSERT INTO referral_items (referral_id, item_id, reason) SELECT $1, * FROM unnest($2::bigint[], $3::text[])`, r.ID, freeIDs, freeReasons)
		b.Queue(`INSERT INTO deliveries (referral_id, channel, state, delivered_at, updated_at)
			SELECT $1, * , $5::timestamptz FROM unnest($2::text[], $3::text[], $4::timestamptz[])`, r.ID, names, states, deliveredAt, now)
		// A provider reached only through the portal has the referral
		// from its creation (DeriveStatus counts it delivered): for
		// verification, that is its receipt. The referral's own receipt,
		// which starts a removal order's hour, still waits for a liaison
		// to acknowledge it.
		if len(queue) == 0 {
			queueScheduleReferred(b, r.ID, now)
		}
		if err := tx.SendBatch(ctx, b).Close(); err != nil {
			return fmt.Errorf("record referral items and deliveries: %w", err)
		}
		if len(queue) > 0 {
			if _, err := db.inserter.InsertManyTx(ctx, tx, queue); err != nil {
				return fmt.Errorf("queue deliveries: %w", err)
			}
		}
		r.DeriveStatus()
		return db.appendAudit(ctx, tx, takedown.AuditReferralCreate(r, held))
	})
	if err != nil {
		return nil, translate(err, "create referral")
	}
	return held, nil
}

// missingIDs lists the IDs of ids (sorted) that items lacks.
func missingIDs(ids []int64, items []*takedown.Item) string {
	var out []string
	for _, id := range ids {
		if !slices.ContainsFunc(items, func(it *takedown.Item) bool { return it.ID == id }) {
			out = append(out, fmt.Sprint(id))
		}
	}
	return strings.Join(out, ", ")
}

const (
	referralColumns = `r.id, r.operation_id, o.slug, pr.code, r.provider_id, r.legal_basis, r.created_at, r.created_by,
		r.order_json, r.idempotency_key, r.received_at, r.acknowledged_at, r.deadline, r.escalated_at`
	referralFrom = `referrals r JOIN operations o ON o.id = r.operation_id JOIN providers pr ON pr.id = r.provider_id`
	// deliveryQuery reads deliveries in the order in which
	// Provider.Channels lists the channels.
	deliveryQuery = `SELECT referral_id, channel, state, attempts, last_error, external, delivered_at, updated_at FROM deliveries
		WHERE referral_id = ANY($1) ORDER BY referral_id, array_position('{api,webhook,email,portal}'::text[], channel), channel`
	itemQuery = `SELECT ri.item_id, i.url, ri.reason, ri.outcome, ri.answer_reason, ri.answered_at, ri.answered_by, ri.feedback
		FROM referral_items ri JOIN items i ON i.id = ri.item_id WHERE ri.referral_id = $1 ORDER BY ri.item_id`
)

func scanReferral(row pgx.Row) (*takedown.Referral, error) {
	var r takedown.Referral
	var order string
	if err := row.Scan(&r.ID, &r.OperationID, &r.Operation, &r.Provider, &r.ProviderID, &r.LegalBasis, &r.CreatedAt, &r.CreatedBy,
		&order, &r.IdempotencyKey, &r.ReceivedAt, &r.AcknowledgedAt, &r.Deadline, &r.EscalatedAt); err != nil {
		return nil, err
	}
	r.CreatedAt = r.CreatedAt.UTC()
	r.ReceivedAt, r.AcknowledgedAt, r.Deadline, r.EscalatedAt = utc(r.ReceivedAt), utc(r.AcknowledgedAt), utc(r.Deadline), utc(r.EscalatedAt)
	if order != "" {
		r.Order = new(takedown.RemovalOrder)
		if err := json.Unmarshal([]byte(order), r.Order); err != nil {
			return nil, fmt.Errorf("referral %d: removal order: %w", r.ID, err)
		}
	}
	if r.IdempotencyKey == "" { // a referral from before keys were stored
		r.IdempotencyKey = takedown.ReferralKey(r.Operation, r.ID)
	}
	r.Counts = map[takedown.Outcome]int{}
	r.Deliveries = []takedown.Delivery{}
	return &r, nil
}

func utc(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

// queueDeliveries adds to b the read of the deliveries of rs.
func queueDeliveries(b *pgx.Batch, rs []*takedown.Referral) {
	byID := make(map[int64]*takedown.Referral, len(rs))
	ids := make([]int64, len(rs))
	for i, r := range rs {
		byID[r.ID], ids[i] = r, r.ID
	}
	b.Queue(deliveryQuery, ids).Query(func(rows pgx.Rows) error {
		var id int64
		var d takedown.Delivery
		_, err := pgx.ForEachRow(rows, []any{&id, &d.Channel, &d.State, &d.Attempts, &d.LastError, &d.External, &d.DeliveredAt, &d.UpdatedAt}, func() error {
			d.DeliveredAt, d.UpdatedAt = utc(d.DeliveredAt), d.UpdatedAt.UTC()
			r := byID[id]
			r.Deliveries = append(r.Deliveries, d)
			return nil
		})
		return err
	})
}

// FindReferral reads the referral, its items and its deliveries in one
// round trip.
func (db *DB) FindReferral(ctx context.Context, id int64) (*takedown.Referral, error) {
	r, err := findReferral(ctx, db.pool, id)
	return r, translate(err, "find referral")
}

func findReferral(ctx context.Context, q batcher, id int64) (*takedown.Referral, error) {
	r := &takedown.Referral{ID: id}
	var items []takedown.ReferralItem
	b := &pgx.Batch{}
	b.Queue(`SELECT `+referralColumns+` FROM `+referralFrom+` WHERE r.id = $1`, id).QueryRow(func(row pgx.Row) error {
		got, err := scanReferral(row)
		if err == nil {
			*r = *got
		}
		return err
	})
	b.Queue(itemQuery, id).Query(func(rows pgx.Rows) (err error) {
		items, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (takedown.ReferralItem, error) { return scanReferralItem(row) })
		return err
	})
	queueDeliveries(b, []*takedown.Referral{r})
	err := q.SendBatch(ctx, b).Close()
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, takedown.Errorf(takedown.ENOTFOUND, "no referral %d", id)
	} else if err != nil {
		return nil, err
	}
	r.Items = items
	if r.Items == nil {
		r.Items = []takedown.ReferralItem{}
	}
	for _, it := range r.Items {
		r.Counts[it.Outcome]++
	}
	r.DeriveStatus()
	return r, nil
}

func scanReferralItem(row pgx.Row) (takedown.ReferralItem, error) {
	var it takedown.ReferralItem
	var feedback string
	if err := row.Scan(&it.ItemID, &it.URL, &it.Reason, &it.Outcome, &it.AnswerReason, &it.AnsweredAt, &it.AnsweredBy, &feedback); err != nil {
		return it, err
	}
	it.AnsweredAt = utc(it.AnsweredAt)
	if feedback != "" {
		it.Feedback = new(takedown.OrderFeedback)
		if err := json.Unmarshal([]byte(feedback), it.Feedback); err != nil {
			return it, fmt.Errorf("referral item %d: feedback: %w", it.ItemID, err)
		}
	}
	return it, nil
}

// ListReferrals reads the referrals, then their counts and deliveries in
// one more round trip.
func (db *DB) ListReferrals(ctx context.Context, f takedown.ReferralFilter) ([]*takedown.Referral, error) {
	var args []any
	where := []string{"true"}
	add := func(cond string, v ...any) {
		for _, x := range v {
			args = append(args, x)
			cond = strings.Replace(cond, "?", fmt.Sprintf("$%d", len(args)), 1)
		}
		where = append(where, cond)
	}
	if f.OperationID != 0 {
		add("r.operation_id = ?", f.OperationID)
	}
	if f.Provider != "" {
		add("pr.code = ?", f.Provider)
	}
	if !f.OverdueAt.IsZero() {
		// Items awaiting clarification (need_info) stop the clock.
		add(`r.legal_basis = ? AND r.deadline < ? AND EXISTS (SELECT 1 FROM referral_items ri WHERE ri.referral_id = r.id AND ri.outcome = ?)`,
			takedown.BasisRemovalOrder, ts(f.OverdueAt), takedown.OutcomePending)
	}
	if f.Undelivered {
		add(`EXISTS (SELECT 1 FROM deliveries d WHERE d.referral_id = r.id AND d.channel <> ? AND d.state IN (?, ?))`,
			takedown.ChannelPortal, takedown.DeliveryPending, takedown.DeliveryRetrying)
	}
	if f.ItemID != 0 {
		add("r.id IN (SELECT ri.referral_id FROM referral_items ri WHERE ri.item_id = ?)", f.ItemID)
	}
	rows, err := db.pool.Query(ctx, `SELECT `+referralColumns+` FROM `+referralFrom+` WHERE `+strings.Join(where, " AND ")+` ORDER BY r.id DESC`, args...)
	if err != nil {
		return nil, translate(err, "list referrals")
	}
	rs, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (*takedown.Referral, error) { return scanReferral(row) })
	if err != nil {
		return nil, translate(err, "list referrals")
	}
	if len(rs) == 0 {
		return rs, nil
	}
	byID := make(map[int64]*takedown.Referral, len(rs))
	ids := make([]int64, len(rs))
	for i, r := range rs {
		byID[r.ID], ids[i] = r, r.ID
	}
	b := &pgx.Batch{}
	b.Queue(`SELECT referral_id, outcome, count(*) FROM referral_items WHERE referral_id = ANY($1) GROUP BY referral_id, outcome`, ids).Query(func(rows pgx.Rows) error {
		var id int64
		var o takedown.Outcome
		var n int
		_, err := pgx.ForEachRow(rows, []any{&id, &o, &n}, func() error { byID[id].Counts[o] = n; return nil })
		return err
	})
	queueDeliveries(b, rs)
	if err := db.pool.SendBatch(ctx, b).Close(); err != nil {
		return nil, translate(err, "list referrals")
	}
	for _, r := range rs {
		r.DeriveStatus()
	}
	return rs, nil
}

// lockReferral reads a referral without its items and deliveries and
// locks its row until tx ends: every change to a referral takes it
// first, so concurrent deliveries, answers and acknowledgements of one
// referral run one after the other. NO KEY UPDATE: it does not block the
// key-share locks that rows referencing the referral take.
func lockReferral(ctx context.Context, tx pgx.Tx, id int64) (*takedown.Referral, error) {
	r, err := scanReferral(tx.QueryRow(ctx, `SELECT `+referralColumns+` FROM `+referralFrom+` WHERE r.id = $1 FOR NO KEY UPDATE OF r`, id))
	if err == pgx.ErrNoRows {
		return nil, takedown.Errorf(takedown.ENOTFOUND, "no referral %d", id)
	} else if err != nil {
		return nil, fmt.Errorf("lock referral %d: %w", id, err)
	}
	return r, nil
}

var channels = []takedown.Channel{takedown.ChannelAPI, takedown.ChannelWebhook, takedown.ChannelEmail, takedown.ChannelPortal}

var deliveryStates = []takedown.DeliveryState{takedown.DeliveryPending, takedown.DeliveryRetrying, takedown.DeliveryDelivered, takedown.DeliveryDead}

// RecordDelivery updates the channel's delivery row (creating it if the
// referral had none for the channel) under the referral's row lock. The
// first delivery on a channel other than the portal is the receipt: it
// starts a removal order's hour, and later deliveries do not move it.
func (db *DB) RecordDelivery(ctx context.Context, referralID int64, u takedown.DeliveryUpdate) error {
	if !slices.Contains(channels, u.Channel) {
		return takedown.Errorf(takedown.EINVALID, "delivery channel %q: want one of %v", u.Channel, channels)
	}
	if !slices.Contains(deliveryStates, u.State) {
		return takedown.Errorf(takedown.EINVALID, "delivery state %q: want one of %v", u.State, deliveryStates)
	}
	err := pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		r, err := lockReferral(ctx, tx, referralID)
		if err != nil {
			return err
		}
		at := u.At
		if at.IsZero() {
			at = db.now()
		}
		at = ts(at)
		attempt, lastError := 1, u.Error
		var deliveredAt *time.Time
		switch u.State {
		case takedown.DeliveryPending:
			attempt = 0
		case takedown.DeliveryDelivered:
			lastError, deliveredAt = "", &at
		}
		b := &pgx.Batch{}
		b.Queue(`
			INSERT INTO deliveries (referral_id, channel, state, attempts, last_error, external, delivered_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
			ON CONFLICT (referral_id, channel) DO UPDATE SET state = excluded.state, attempts = deliveries.attempts + excluded.attempts,
				last_error = excluded.last_error,
				external = CASE WHEN excluded.external = '' THEN deliveries.external ELSE excluded.external END,
				delivered_at = coalesce(deliveries.delivered_at, excluded.delivered_at),
				updated_at = excluded.updated_at`,
			r.ID, u.Channel, u.State, attempt, lastError, u.External, deliveredAt, at)
		if u.State == takedown.DeliveryDelivered && u.Channel != takedown.ChannelPortal && r.ReceivedAt == nil {
			r.ReceivedAt = &at
			if r.LegalBasis == takedown.BasisRemovalOrder {
				d := at.Add(takedown.OrderDeadline)
				r.Deadline = &d
			}
			b.Queue(`UPDATE referrals SET received_at = $2, deadline = $3 WHERE id = $1`, r.ID, r.ReceivedAt, r.Deadline)
			queueScheduleReferred(b, r.ID, at)
		}
		if err := tx.SendBatch(ctx, b).Close(); err != nil {
			return fmt.Errorf("record delivery of referral %d on %s: %w", r.ID, u.Channel, err)
		}
		if u.State != takedown.DeliveryDelivered && u.State != takedown.DeliveryDead {
			return nil // attempts on the way are in the row, not the chain
		}
		return db.appendAudit(ctx, tx, takedown.AuditDelivery(r, u))
	})
	return translate(err, "record delivery")
}

func (db *DB) RedeliverReferral(ctx context.Context, referralID int64, channel takedown.Channel, by string) error {
	err := pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		r, err := lockReferral(ctx, tx, referralID)
		if err != nil {
			return err
		}
		var state string
		err = tx.QueryRow(ctx, `SELECT state FROM deliveries WHERE referral_id = $1 AND channel = $2`, referralID, channel).Scan(&state)
		if errors.Is(err, pgx.ErrNoRows) {
			return takedown.Errorf(takedown.ENOTFOUND, "referral %d has no %s delivery", referralID, channel)
		} else if err != nil {
			return err
		}
		if takedown.DeliveryState(state) != takedown.DeliveryDead {
			return takedown.Errorf(takedown.ECONFLICT, "the %s delivery of referral %d is %s, not dead: it goes by itself", channel, referralID, state)
		}
		if _, err := tx.Exec(ctx, `UPDATE deliveries SET state = $3, updated_at = $4 WHERE referral_id = $1 AND channel = $2`,
			referralID, channel, takedown.DeliveryPending, ts(db.now())); err != nil {
			return err
		}
		res, err := db.inserter.InsertTx(ctx, tx, jobkinds.DeliverArgs{ReferralID: referralID, Channel: string(channel)}, nil)
		if err != nil {
			return fmt.Errorf("queue delivery by %s: %w", channel, err)
		}
		if res.UniqueSkippedAsDuplicate {
			return takedown.Errorf(takedown.ECONFLICT, "the %s delivery of referral %d is still queued", channel, referralID)
		}
		return db.appendAudit(ctx, tx, takedown.AuditRedeliver(r, channel, by))
	})
	return translate(err, "redeliver referral")
}

// AcknowledgeReferral records the first acknowledgement only; it is also
// the receipt of a referral no channel delivered yet.
func (db *DB) AcknowledgeReferral(ctx context.Context, referralID int64) (*takedown.Referral, error) {
	var out *takedown.Referral
	err := pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		r, err := lockReferral(ctx, tx, referralID)
		if err != nil {
			return err
		}
		first := r.AcknowledgedAt == nil
		if first {
			now := ts(db.now())
			r.AcknowledgedAt = &now
			b := &pgx.Batch{}
			if r.ReceivedAt == nil {
				r.ReceivedAt = &now
				if r.LegalBasis == takedown.BasisRemovalOrder {
					d := now.Add(takedown.OrderDeadline)
					r.Deadline = &d
				}
				queueScheduleReferred(b, r.ID, now)
			}
			b.Queue(`UPDATE referrals SET acknowledged_at = $2, received_at = $3, deadline = $4 WHERE id = $1`,
				r.ID, r.AcknowledgedAt, r.ReceivedAt, r.Deadline)
			if err := tx.SendBatch(ctx, b).Close(); err != nil {
				return fmt.Errorf("acknowledge referral %d: %w", r.ID, err)
			}
		}
		if out, err = findReferral(ctx, tx, referralID); err != nil {
			return err
		}
		if !first {
			return nil
		}
		return db.appendAudit(ctx, tx, takedown.AuditAcknowledge(r))
	})
	if err != nil {
		return nil, translate(err, "acknowledge referral")
	}
	return out, nil
}

// AnswerReferral takes the referral's row lock, so that answers from
// several sources (a poller, a liaison in the portal) apply one batch at a
// time. Nothing is recorded unless every answer is valid and about an
// item of the referral. Answers that change nothing (about an item
// finally answered, or repeating the answer it has) are left out of the
// chain's event.
func (db *DB) AnswerReferral(ctx context.Context, referralID int64, answers []takedown.ItemAnswer, by string) (*takedown.Referral, error) {
	var out *takedown.Referral
	err := pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		r, err := lockReferral(ctx, tx, referralID)
		if err != nil {
			return err
		}
		for i := range answers {
			if err := answers[i].Validate(r.LegalBasis); err != nil {
				return err
			}
		}
		type answer struct {
			outcome          takedown.Outcome
			reason, feedback string
			at               time.Time
		}
		current := map[int64]*answer{}
		byURL := map[string]int64{}
		rows, err := tx.Query(ctx, `SELECT ri.item_id, i.url, ri.outcome, ri.answer_reason, ri.feedback
			FROM referral_items ri JOIN items i ON i.id = ri.item_id WHERE ri.referral_id = $1`, r.ID)
		if err != nil {
			return fmt.Errorf("read referral %d: %w", r.ID, err)
		}
		var (
			id  int64
			url string
			a   answer
		)
		if _, err := pgx.ForEachRow(rows, []any{&id, &url, &a.outcome, &a.reason, &a.feedback}, func() error {
			c := a
			current[id], byURL[url] = &c, id
			return nil
		}); err != nil {
			return fmt.Errorf("read referral %d: %w", r.ID, err)
		}
		now := ts(db.now())
		var changed []takedown.ItemAnswer
		var order []int64 // items changed, in the order first changed
		for _, x := range answers {
			if x.ItemID == 0 {
				var ok bool
				if x.ItemID, ok = byURL[x.URL]; !ok {
					return takedown.Errorf(takedown.EINVALID, "referral %d holds no item with URL %q", r.ID, x.URL)
				}
			}
			c, ok := current[x.ItemID]
			if !ok {
				return takedown.Errorf(takedown.EINVALID, "referral %d holds no item %d", r.ID, x.ItemID)
			}
			if c.outcome.Final() {
				continue
			}
			feedback := ""
			if x.Feedback != nil {
				feedback = jsonString(x.Feedback)
			}
			if c.outcome == x.Outcome && c.reason == x.Reason && c.feedback == feedback {
				continue
			}
			if c.at.IsZero() {
				order = append(order, x.ItemID)
			}
			c.outcome, c.reason, c.feedback, c.at = x.Outcome, x.Reason, feedback, now
			if !x.At.IsZero() {
				c.at = ts(x.At)
			}
			changed = append(changed, x)
		}
		if len(changed) > 0 {
			n := len(order)
			ids, outcomes, reasons, ats, feedbacks := make([]int64, n), make([]string, n), make([]string, n), make([]time.Time, n), make([]string, n)
			for i, id := range order {
				c := current[id]
				ids[i], outcomes[i], reasons[i], ats[i], feedbacks[i] = id, string(c.outcome), c.reason, c.at, c.feedback
			}
			if _, err := tx.Exec(ctx, `
				UPDATE referral_items SET outcome = u.outcome, answer_reason = u.reason, answered_at = u.at, answered_by = $2, feedback = u.feedback
				FROM unnest($3::bigint[], $4::text[], $5::text[], $6::timestamptz[], $7::text[]) AS u(item_id, outcome, reason, at, feedback)
				WHERE referral_items.referral_id = $1 AND referral_items.item_id = u.item_id`,
				r.ID, by, ids, outcomes, reasons, ats, feedbacks); err != nil {
				return fmt.Errorf("record answers to referral %d: %w", r.ID, err)
			}
		}
		if out, err = findReferral(ctx, tx, referralID); err != nil {
			return err
		}
		if len(changed) == 0 {
			return nil
		}
		return db.appendAudit(ctx, tx, takedown.AuditAnswer(r, changed, by))
	})
	if err != nil {
		return nil, translate(err, "answer referral")
	}
	return out, nil
}

// EscalateReferral records the first escalation only.
func (db *DB) EscalateReferral(ctx context.Context, referralID int64) (bool, error) {
	first := false
	err := pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		r, err := lockReferral(ctx, tx, referralID)
		if err != nil || r.EscalatedAt != nil {
			return err
		}
		now := ts(db.now())
		r.EscalatedAt = &now
		if _, err := tx.Exec(ctx, `UPDATE referrals SET escalated_at = $2 WHERE id = $1`, r.ID, now); err != nil {
			return fmt.Errorf("escalate referral %d: %w", r.ID, err)
		}
		first = true
		if err := db.appendAudit(ctx, tx, takedown.AuditEscalate(r)); err != nil {
			return err
		}
		whole, err := findReferral(ctx, tx, referralID)
		if err != nil {
			return err
		}
		if _, err := db.inserter.InsertTx(ctx, tx, jobkinds.RemindArgs{ReferralID: referralID}, nil); err != nil {
			return fmt.Errorf("queue the reminder: %w", err)
		}
		return db.notify(ctx, tx, []takedown.Notification{takedown.OverdueNotice(whole, now)})
	})
	if err != nil {
		return false, translate(err, "escalate referral")
	}
	return first, nil
}

// openOutcomes are the answers that keep an item from being referred
// again: still open, or removed or disabled.
var openOutcomes = []string{string(takedown.OutcomePending), string(takedown.OutcomeNeedInfo), string(takedown.OutcomeRemoved), string(takedown.OutcomeDisabled)}

// ReferableItems reads the operation's items in ID order, a bounded run at
// a time, each with whether a referral holds it, and leaves out the
// referred and (as Covers decides) the held ones in Go; it reads on, in
// longer runs, until the page is full or the items run out.
//
// The referral check is an EXISTS in the select list, not an anti-join:
// it runs for the rows of the run only, as an index probe or at worst one
// hashed scan of referral_items. An anti-join lets the planner, misled by
// statistics older than a large referral, scan referral_items once per
// item (seconds per page at 26,000 items).
func (db *DB) ReferableItems(ctx context.Context, operationID, afterID int64, limit int) ([]*takedown.Item, error) {
	if limit <= 0 {
		limit = takedown.DefaultPageSize
	}
	now := ts(db.now())
	var holds []*takedown.Hold
	var policies []takedown.EvidencePolicy
	b := &pgx.Batch{}
	b.Queue(`SELECT evidence FROM operations WHERE id = $1`, operationID).Query(func(rows pgx.Rows) (err error) {
		policies, err = pgx.CollectRows(rows, pgx.RowTo[takedown.EvidencePolicy])
		return err
	})
	b.Queue(activeHoldsOf(`$1`), operationID, now).Query(func(rows pgx.Rows) (err error) {
		holds, err = collectHolds(rows)
		return err
	})
	if err := db.pool.SendBatch(ctx, b).Close(); err != nil {
		return nil, translate(err, "referable items")
	}
	if len(policies) == 0 {
		return nil, takedown.Errorf(takedown.ENOTFOUND, "no operation with ID %d", operationID)
	}
	out := []*takedown.Item{}
	run := min(max(2*limit, 100), maxReferableRun)
	for {
		rows, err := db.pool.Query(ctx, `SELECT `+itemColumns+`,
				EXISTS (SELECT 1 FROM referral_items ri WHERE ri.item_id = i.id AND ri.outcome = ANY($3)) OR NOT (`+evidenceCondition(policies[0])+`)
				OR i.status = 'candidate'
			FROM items i WHERE i.operation_id = $1 AND i.id > $2 ORDER BY i.id LIMIT $4`, operationID, afterID, openOutcomes, run)
		if err != nil {
			return nil, translate(err, "referable items")
		}
		n := 0
		for rows.Next() {
			var referred bool
			it, err := scanItemAnd(rows, &referred)
			if err != nil {
				rows.Close()
				return nil, translate(err, "referable items")
			}
			n, afterID = n+1, it.ID
			if !referred && takedown.NoticeFor(it, holds, now) == nil && len(out) < limit {
				out = append(out, it)
			}
		}
		if err := rows.Err(); err != nil {
			return nil, translate(err, "referable items")
		}
		if len(out) == limit || n < run {
			return out, nil
		}
		run = min(2*run, maxReferableRun) // most of them were referred or held
	}
}

// maxReferableRun bounds the items ReferableItems reads at a time.
const maxReferableRun = 10000

// evidenceCondition is what an operation's evidence policy asks of an
// item before its referral: a capture tried, or one that preserved it
// (or found it removed already, which the capture documents).
func evidenceCondition(p takedown.EvidencePolicy) string {
	switch p {
	case takedown.EvidenceOff:
		return "true"
	case takedown.EvidenceRequired:
		return `EXISTS (SELECT 1 FROM captures c WHERE c.item_id = i.id AND (c.state = 'captured' OR c.reason = 'removed'))`
	}
	return `EXISTS (SELECT 1 FROM captures c WHERE c.item_id = i.id)`
}
