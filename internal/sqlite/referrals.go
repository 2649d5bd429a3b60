package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/takedown-project/takedown"
	"github.com/takedown-project/takedown/internal/jobkinds"
)

// A referral's status is not stored: it follows from its deliveries, its
// acknowledgement and its answers (Referral.DeriveStatus), which are. The
// status column stays for the rows written before, and is written with
// the status a referral has when it is created.

// Outcomes that keep an item from being referred again: the question is
// open (pending, need_info) or answered the way it was meant (removed,
// disabled).
const openOrPositive = `('pending', 'need_info', 'removed', 'disabled')`

const referralColumns = `r.id, r.operation_id, o.slug, p.code, r.provider_id, r.legal_basis, r.created_at, r.created_by,
	r.order_json, r.idempotency_key, r.received_at, r.acknowledged_at, r.deadline, r.escalated_at`

const referralFrom = ` FROM referrals r JOIN operations o ON o.id = r.operation_id JOIN providers p ON p.id = r.provider_id `

func scanReferral(sc interface{ Scan(...any) error }) (*takedown.Referral, error) {
	var r takedown.Referral
	var created int64
	var order string
	var received, acknowledged, deadline, escalated sql.NullInt64
	if err := sc.Scan(&r.ID, &r.OperationID, &r.Operation, &r.Provider, &r.ProviderID, &r.LegalBasis, &created, &r.CreatedBy,
		&order, &r.IdempotencyKey, &received, &acknowledged, &deadline, &escalated); err != nil {
		return nil, err
	}
	r.CreatedAt = parseTime(created)
	r.ReceivedAt, r.AcknowledgedAt, r.Deadline, r.EscalatedAt = optionalTime(received), optionalTime(acknowledged), optionalTime(deadline), optionalTime(escalated)
	if order != "" {
		r.Order = new(takedown.RemovalOrder)
		if err := json.Unmarshal([]byte(order), r.Order); err != nil {
			return nil, fmt.Errorf("referral %d: order: %w", r.ID, err)
		}
	}
	if r.IdempotencyKey == "" { // written before keys were
		r.IdempotencyKey = takedown.ReferralKey(r.Operation, r.ID)
	}
	r.Deliveries, r.Counts = []takedown.Delivery{}, map[takedown.Outcome]int{}
	return &r, nil
}

// referralRows reads referrals through q without their deliveries, counts
// and items.
func referralRows(ctx context.Context, q querier, where string, args ...any) ([]*takedown.Referral, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+referralColumns+referralFrom+where, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*takedown.Referral
	for rows.Next() {
		r, err := scanReferral(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// referralHead reads one referral without its deliveries, counts and
// items. Returns ENOTFOUND if there is none.
func referralHead(ctx context.Context, q querier, id int64) (*takedown.Referral, error) {
	rs, err := referralRows(ctx, q, `WHERE r.id = ?`, id)
	if err != nil {
		return nil, err
	}
	if len(rs) == 0 {
		return nil, takedown.Errorf(takedown.ENOTFOUND, "no referral %d", id)
	}
	return rs[0], nil
}

// loadReferrals reads referrals through q with their deliveries and
// counts, and derives their status.
func loadReferrals(ctx context.Context, q querier, where string, args ...any) ([]*takedown.Referral, error) {
	rs, err := referralRows(ctx, q, where, args...)
	if err != nil || len(rs) == 0 {
		return rs, err
	}
	byID := make(map[int64]*takedown.Referral, len(rs))
	ids := make([]int64, 0, len(rs))
	for _, r := range rs {
		byID[r.ID] = r
		ids = append(ids, r.ID)
	}
	for chunk := range slices.Chunk(ids, chunkRows) {
		args := make([]any, len(chunk))
		for i, id := range chunk {
			args[i] = id
		}
		in := placeholders(len(chunk), 1)
		rows, err := q.QueryContext(ctx, `SELECT referral_id, channel, state, attempts, last_error, external, delivered_at, updated_at
			FROM deliveries WHERE referral_id IN (`+in+`)`, args...)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var id, updated int64
			var d takedown.Delivery
			var delivered sql.NullInt64
			if err := rows.Scan(&id, &d.Channel, &d.State, &d.Attempts, &d.LastError, &d.External, &delivered, &updated); err != nil {
				rows.Close()
				return nil, err
			}
			d.DeliveredAt, d.UpdatedAt = optionalTime(delivered), parseTime(updated)
			byID[id].Deliveries = append(byID[id].Deliveries, d)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
		rows, err = q.QueryContext(ctx, `SELECT referral_id, outcome, count(*) FROM referral_items WHERE referral_id IN (`+in+`) GROUP BY referral_id, outcome`, args...)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var id int64
			var o takedown.Outcome
			var n int
			if err := rows.Scan(&id, &o, &n); err != nil {
				rows.Close()
				return nil, err
			}
			byID[id].Counts[o] = n
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	for _, r := range rs {
		slices.SortFunc(r.Deliveries, func(a, b takedown.Delivery) int { return channelRank(a.Channel) - channelRank(b.Channel) })
		r.DeriveStatus()
	}
	return rs, nil
}

// channelRank orders deliveries as Provider.Channels does.
func channelRank(c takedown.Channel) int {
	switch c {
	case takedown.ChannelAPI:
		return 0
	case takedown.ChannelWebhook:
		return 1
	case takedown.ChannelEmail:
		return 2
	case takedown.ChannelPortal:
		return 3
	}
	return 4
}

// findReferral reads a referral whole through q: the read pool, or the
// transaction that just changed it.
func findReferral(ctx context.Context, q querier, id int64) (*takedown.Referral, error) {
	rs, err := loadReferrals(ctx, q, `WHERE r.id = ?`, id)
	if err != nil {
		return nil, err
	}
	if len(rs) == 0 {
		return nil, takedown.Errorf(takedown.ENOTFOUND, "no referral %d", id)
	}
	r := rs[0]
	rows, err := q.QueryContext(ctx, `SELECT i.id, i.url, ri.reason, ri.outcome, ri.answer_reason, ri.answered_at, ri.answered_by, ri.feedback
		FROM referral_items ri JOIN items i ON i.id = ri.item_id WHERE ri.referral_id = ? ORDER BY ri.item_id`, id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	r.Items = []takedown.ReferralItem{}
	for rows.Next() {
		var it takedown.ReferralItem
		var answered sql.NullInt64
		var feedback string
		if err := rows.Scan(&it.ItemID, &it.URL, &it.Reason, &it.Outcome, &it.AnswerReason, &answered, &it.AnsweredBy, &feedback); err != nil {
			return nil, err
		}
		it.AnsweredAt = optionalTime(answered)
		if feedback != "" {
			it.Feedback = new(takedown.OrderFeedback)
			if err := json.Unmarshal([]byte(feedback), it.Feedback); err != nil {
				return nil, fmt.Errorf("referral %d, item %d: feedback: %w", id, it.ItemID, err)
			}
		}
		r.Items = append(r.Items, it)
	}
	return r, rows.Err()
}

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
	reasons := map[int64]string{}
	for _, it := range r.Items {
		reasons[it.ItemID] = it.Reason
	}
	var order string
	if r.Order != nil {
		order = jsonText(r.Order)
	}
	var held []int64
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, `SELECT slug FROM operations WHERE id = ?`, r.OperationID).Scan(&r.Operation)
		if err == sql.ErrNoRows {
			return takedown.Errorf(takedown.ENOTFOUND, "no operation with ID %d", r.OperationID)
		} else if err != nil {
			return err
		}
		ps, err := providers(ctx, tx, `WHERE code = ?`, r.Provider)
		if err != nil {
			return err
		}
		if len(ps) == 0 {
			return takedown.Errorf(takedown.ENOTFOUND, "no provider %q", r.Provider)
		}
		p := ps[0]
		r.ProviderID = p.ID
		var items []*takedown.Item
		for chunk := range slices.Chunk(ids, chunkRows) {
			args := []any{r.OperationID}
			for _, id := range chunk {
				args = append(args, id)
			}
			rows, err := tx.QueryContext(ctx, `SELECT `+itemColumns+` FROM items i WHERE i.operation_id = ? AND i.id IN (`+placeholders(len(chunk), 1)+`) ORDER BY i.id`, args...)
			if err != nil {
				return err
			}
			for rows.Next() {
				it, err := scanItem(rows)
				if err != nil {
					rows.Close()
					return err
				}
				items = append(items, it)
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return err
			}
		}
		if len(items) != len(ids) {
			return takedown.Errorf(takedown.EINVALID, "%d of the items are not items of operation %s", len(ids)-len(items), r.Operation)
		}
		now := db.now().UTC().Truncate(time.Microsecond)
		holds, err := listHolds(ctx, tx, takedown.HoldFilter{OperationID: r.OperationID, ActiveAt: now})
		if err != nil {
			return err
		}
		var free []*takedown.Item
		free, held = takedown.SplitHeld(items, holds, now)
		if len(free) == 0 {
			return takedown.Errorf(takedown.EINVALID, "every item asked for is held for deconfliction; nothing to refer")
		}

		// What the referral is when it is created: every channel queued,
		// the portal's at once; every item pending.
		r.CreatedAt, r.CreatedBy = now, takedown.ActorFrom(ctx).String()
		r.ReceivedAt, r.AcknowledgedAt, r.Deadline, r.EscalatedAt = nil, nil, nil, nil
		r.Deliveries = []takedown.Delivery{}
		for _, ch := range p.Channels() {
			d := takedown.Delivery{Channel: ch, State: takedown.DeliveryPending, UpdatedAt: now}
			if ch == takedown.ChannelPortal {
				d.State, d.DeliveredAt = takedown.DeliveryDelivered, &now
			}
			r.Deliveries = append(r.Deliveries, d)
		}
		r.Counts = map[takedown.Outcome]int{takedown.OutcomePending: len(free)}
		r.DeriveStatus()

		err = tx.QueryRowContext(ctx, `INSERT INTO referrals (operation_id, provider_id, legal_basis, status, created_at, created_by, order_json) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			r.OperationID, r.ProviderID, r.LegalBasis, r.Status, formatTime(now), r.CreatedBy, order).Scan(&r.ID)
		if err != nil {
			return err
		}
		r.IdempotencyKey = takedown.ReferralKey(r.Operation, r.ID)
		if _, err := tx.ExecContext(ctx, `UPDATE referrals SET idempotency_key = ? WHERE id = ?`, r.IdempotencyKey, r.ID); err != nil {
			return err
		}
		r.Items = make([]takedown.ReferralItem, 0, len(free))
		for chunk := range slices.Chunk(free, chunkRows) {
			args := make([]any, 0, 3*len(chunk))
			for _, it := range chunk {
				args = append(args, r.ID, it.ID, reasons[it.ID])
				r.Items = append(r.Items, takedown.ReferralItem{ItemID: it.ID, URL: it.URL, Reason: reasons[it.ID], Outcome: takedown.OutcomePending})
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO referral_items (referral_id, item_id, reason) VALUES `+placeholders(len(chunk), 3), args...); err != nil {
				return err
			}
		}
		// A provider reached only through the portal has the referral
		// from its creation (DeriveStatus counts it delivered): for
		// verification, that is its receipt. The referral's own receipt,
		// which starts a removal order's hour, still waits for a liaison
		// to acknowledge it.
		if !slices.ContainsFunc(r.Deliveries, func(d takedown.Delivery) bool { return d.Channel != takedown.ChannelPortal }) {
			if err := scheduleReferred(ctx, tx, r.ID, now); err != nil {
				return err
			}
		}
		for _, d := range r.Deliveries {
			var delivered any
			if d.DeliveredAt != nil {
				delivered = formatTime(*d.DeliveredAt)
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO deliveries (referral_id, channel, state, delivered_at, updated_at) VALUES (?, ?, ?, ?, ?)`,
				r.ID, d.Channel, d.State, delivered, formatTime(d.UpdatedAt)); err != nil {
				return err
			}
			if d.Channel == takedown.ChannelPortal {
				continue
			}
			// The job exists exactly when the referral does.
			if _, err := db.inserter.InsertTx(ctx, tx, jobkinds.DeliverArgs{ReferralID: r.ID, Channel: string(d.Channel)}, nil); err != nil {
				return fmt.Errorf("queue delivery by %s: %w", d.Channel, err)
			}
		}
		return db.appendAudit(ctx, tx, takedown.AuditReferralCreate(r, held))
	})
	if err != nil {
		return nil, translate(err, "create referral")
	}
	return held, nil
}

func (db *DB) FindReferral(ctx context.Context, id int64) (*takedown.Referral, error) {
	r, err := findReferral(ctx, db.read, id)
	return r, translate(err, "find referral")
}

func (db *DB) ListReferrals(ctx context.Context, f takedown.ReferralFilter) ([]*takedown.Referral, error) {
	where, args := []string{"1 = 1"}, []any{}
	if f.OperationID != 0 {
		where, args = append(where, "r.operation_id = ?"), append(args, f.OperationID)
	}
	if f.Provider != "" {
		where, args = append(where, "p.code = ?"), append(args, f.Provider)
	}
	if !f.OverdueAt.IsZero() {
		// need_info does not count: the clock stops while the provider
		// waits for clarification.
		where = append(where, `r.legal_basis = 'removal_order' AND r.deadline < ?
			AND EXISTS (SELECT 1 FROM referral_items ri WHERE ri.referral_id = r.id AND ri.outcome = 'pending')`)
		args = append(args, formatTime(f.OverdueAt))
	}
	if f.Undelivered {
		where = append(where, `EXISTS (SELECT 1 FROM deliveries d WHERE d.referral_id = r.id AND d.channel <> 'portal' AND d.state IN ('pending', 'retrying'))`)
	}
	if f.ItemID != 0 {
		where, args = append(where, "r.id IN (SELECT ri.referral_id FROM referral_items ri WHERE ri.item_id = ?)"), append(args, f.ItemID)
	}
	rs, err := loadReferrals(ctx, db.read, `WHERE `+strings.Join(where, " AND ")+` ORDER BY r.id DESC`, args...)
	if err != nil {
		return nil, translate(err, "list referrals")
	}
	return rs, nil
}

// channels are the delivery channels there are.
var channels = []takedown.Channel{takedown.ChannelAPI, takedown.ChannelWebhook, takedown.ChannelEmail, takedown.ChannelPortal}

// RecordDelivery updates the channel's delivery row, creating it if the
// referral had none for the channel (a referral written before deliveries
// were, or a channel the provider gained since).
func (db *DB) RecordDelivery(ctx context.Context, referralID int64, u takedown.DeliveryUpdate) error {
	if !slices.Contains(channels, u.Channel) {
		return takedown.Errorf(takedown.EINVALID, "delivery channel %q: want one of %v", u.Channel, channels)
	}
	attempt, lastError := 1, u.Error
	var delivered any
	switch u.State {
	case takedown.DeliveryPending:
		attempt = 0
	case takedown.DeliveryRetrying, takedown.DeliveryDead:
	case takedown.DeliveryDelivered:
		lastError = ""
	default:
		return takedown.Errorf(takedown.EINVALID, "delivery state %q: want pending, retrying, delivered or dead", u.State)
	}
	at := u.At
	if at.IsZero() {
		at = db.now()
	}
	at = at.UTC().Truncate(time.Microsecond)
	if u.State == takedown.DeliveryDelivered {
		delivered = formatTime(at)
	}
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		r, err := referralHead(ctx, tx, referralID)
		if err != nil {
			return err
		}
		// delivered_at is the first delivery's; a receiver's name is kept
		// when an attempt brings none.
		if _, err := tx.ExecContext(ctx, `INSERT INTO deliveries (referral_id, channel, state, attempts, last_error, external, delivered_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (referral_id, channel) DO UPDATE SET state = excluded.state, attempts = attempts + excluded.attempts,
				last_error = excluded.last_error,
				external = CASE WHEN excluded.external = '' THEN external ELSE excluded.external END,
				delivered_at = coalesce(delivered_at, excluded.delivered_at),
				updated_at = excluded.updated_at`,
			referralID, u.Channel, u.State, attempt, lastError, u.External, delivered, formatTime(at)); err != nil {
			return err
		}
		// The first delivery on a channel of the provider's own is its
		// receipt; the portal is not one until a liaison acknowledges.
		if u.State == takedown.DeliveryDelivered && u.Channel != takedown.ChannelPortal && r.ReceivedAt == nil {
			if err := receive(ctx, tx, r, at); err != nil {
				return err
			}
		}
		// Attempts on the way are in the row (and the queue's record), not
		// the chain; a delivery and a dead letter are the chain's.
		if u.State == takedown.DeliveryDelivered || u.State == takedown.DeliveryDead {
			return db.appendAudit(ctx, tx, takedown.AuditDelivery(r, u))
		}
		return nil
	})
	return translate(err, "record delivery")
}

func (db *DB) RedeliverReferral(ctx context.Context, referralID int64, channel takedown.Channel, by string) error {
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		r, err := referralHead(ctx, tx, referralID)
		if err != nil {
			return err
		}
		var state string
		err = tx.QueryRowContext(ctx, `SELECT state FROM deliveries WHERE referral_id = ? AND channel = ?`, referralID, channel).Scan(&state)
		if errors.Is(err, sql.ErrNoRows) {
			return takedown.Errorf(takedown.ENOTFOUND, "referral %d has no %s delivery", referralID, channel)
		} else if err != nil {
			return err
		}
		if takedown.DeliveryState(state) != takedown.DeliveryDead {
			return takedown.Errorf(takedown.ECONFLICT, "the %s delivery of referral %d is %s, not dead: it goes by itself", channel, referralID, state)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE deliveries SET state = ?, updated_at = ? WHERE referral_id = ? AND channel = ?`,
			takedown.DeliveryPending, formatTime(db.now().UTC()), referralID, channel); err != nil {
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

// receive records the provider's receipt of r at at, which starts a
// removal order's deadline and the verification of its items.
func receive(ctx context.Context, tx *sql.Tx, r *takedown.Referral, at time.Time) error {
	r.ReceivedAt = &at
	var deadline any
	if r.LegalBasis == takedown.BasisRemovalOrder {
		d := at.Add(takedown.OrderDeadline)
		r.Deadline, deadline = &d, formatTime(d)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE referrals SET received_at = ?, deadline = ? WHERE id = ?`, formatTime(at), deadline, r.ID); err != nil {
		return err
	}
	return scheduleReferred(ctx, tx, r.ID, at)
}

// scheduleReferred starts the verification of the items of a referral a
// provider received at at: an item's first receipt is the start of its
// time to removal, and its first probe is due at once, to record that it
// was online when referred. An item received before keeps its receipt and
// schedule, and an item past referred its status.
func scheduleReferred(ctx context.Context, tx *sql.Tx, referralID int64, at time.Time) error {
	_, err := tx.ExecContext(ctx, `UPDATE items SET referred_at = coalesce(referred_at, ?1), next_probe_at = coalesce(next_probe_at, ?1),
			status = CASE WHEN status = ?2 THEN ?3 ELSE status END
		WHERE id IN (SELECT item_id FROM referral_items WHERE referral_id = ?4)`,
		formatTime(at), takedown.ItemSubmitted, takedown.ItemReferred, referralID)
	if err != nil {
		return fmt.Errorf("schedule the verification of referral %d: %w", referralID, err)
	}
	return nil
}

func (db *DB) AcknowledgeReferral(ctx context.Context, referralID int64) (*takedown.Referral, error) {
	var out *takedown.Referral
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		r, err := referralHead(ctx, tx, referralID)
		if err != nil {
			return err
		}
		if r.AcknowledgedAt == nil {
			now := db.now().UTC().Truncate(time.Microsecond)
			if _, err := tx.ExecContext(ctx, `UPDATE referrals SET acknowledged_at = ? WHERE id = ?`, formatTime(now), referralID); err != nil {
				return err
			}
			if r.ReceivedAt == nil {
				if err := receive(ctx, tx, r, now); err != nil {
					return err
				}
			}
			if err := db.appendAudit(ctx, tx, takedown.AuditAcknowledge(r)); err != nil {
				return err
			}
		}
		out, err = findReferral(ctx, tx, referralID)
		return err
	})
	if err != nil {
		return nil, translate(err, "acknowledge referral")
	}
	return out, nil
}

func (db *DB) AnswerReferral(ctx context.Context, referralID int64, answers []takedown.ItemAnswer, by string) (*takedown.Referral, error) {
	var out *takedown.Referral
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		r, err := findReferral(ctx, tx, referralID)
		if err != nil {
			return err
		}
		byID := make(map[int64]*takedown.ReferralItem, len(r.Items))
		byURL := make(map[string]*takedown.ReferralItem, len(r.Items))
		for i := range r.Items {
			it := &r.Items[i]
			byID[it.ItemID] = it
			if _, ok := byURL[it.URL]; !ok {
				byURL[it.URL] = it
			}
		}
		now := db.now().UTC().Truncate(time.Microsecond)
		var changed []takedown.ItemAnswer
		var st *sql.Stmt
		for _, a := range answers {
			if err := a.Validate(r.LegalBasis); err != nil {
				return err
			}
			var it *takedown.ReferralItem
			if a.ItemID != 0 {
				it = byID[a.ItemID]
			} else {
				it = byURL[a.URL]
			}
			if it == nil {
				name := a.URL
				if a.ItemID != 0 {
					name = fmt.Sprintf("item %d", a.ItemID)
				}
				return takedown.Errorf(takedown.EINVALID, "referral %d does not hold %s", referralID, name)
			}
			if it.Outcome.Final() {
				continue // a final answer stays: a repeated callback changes nothing
			}
			var feedback string
			if a.Feedback != nil {
				feedback = jsonText(a.Feedback)
			}
			var had string
			if it.Feedback != nil {
				had = jsonText(it.Feedback)
			}
			if it.Outcome == a.Outcome && it.AnswerReason == a.Reason && had == feedback {
				continue // the same request for information again
			}
			at := a.At
			if at.IsZero() {
				at = now
			}
			at = at.UTC().Truncate(time.Microsecond)
			if st == nil {
				if st, err = tx.PrepareContext(ctx, `UPDATE referral_items SET outcome = ?, answer_reason = ?, answered_at = ?, answered_by = ?, feedback = ?
					WHERE referral_id = ? AND item_id = ?`); err != nil {
					return err
				}
				defer st.Close()
			}
			if _, err := st.ExecContext(ctx, a.Outcome, a.Reason, formatTime(at), by, feedback, referralID, it.ItemID); err != nil {
				return err
			}
			it.Outcome, it.AnswerReason, it.AnsweredAt, it.AnsweredBy, it.Feedback = a.Outcome, a.Reason, &at, by, a.Feedback
			a.ItemID, a.At = it.ItemID, at
			changed = append(changed, a)
		}
		if len(changed) > 0 {
			if err := db.appendAudit(ctx, tx, takedown.AuditAnswer(r, changed, by)); err != nil {
				return err
			}
		}
		out, err = findReferral(ctx, tx, referralID)
		return err
	})
	if err != nil {
		return nil, translate(err, "answer referral")
	}
	return out, nil
}

func (db *DB) EscalateReferral(ctx context.Context, referralID int64) (bool, error) {
	first := false
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		r, err := referralHead(ctx, tx, referralID)
		if err != nil || r.EscalatedAt != nil {
			return err
		}
		now := db.now().UTC().Truncate(time.Microsecond)
		if _, err := tx.ExecContext(ctx, `UPDATE referrals SET escalated_at = ? WHERE id = ?`, formatTime(now), referralID); err != nil {
			return err
		}
		r.EscalatedAt, first = &now, true
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

// ReferableItems pages through the operation's items in SQL, leaving out
// those a referral holds with an open or positive answer (an index lookup
// per item on referral_items (item_id, outcome)), and leaves out in Go
// those an active hold covers: a pattern is no SQL condition. It reads on
// until limit items are left or the items end. Returns ENOTFOUND for an
// unknown operation.
func (db *DB) ReferableItems(ctx context.Context, operationID, afterID int64, limit int) ([]*takedown.Item, error) {
	if limit <= 0 {
		limit = takedown.DefaultPageSize
	}
	var policy takedown.EvidencePolicy
	err := db.read.QueryRowContext(ctx, `SELECT evidence FROM operations WHERE id = ?`, operationID).Scan(&policy)
	if err == sql.ErrNoRows {
		return nil, takedown.Errorf(takedown.ENOTFOUND, "no operation with ID %d", operationID)
	}
	if err != nil {
		return nil, translate(err, "referable items")
	}
	now := db.now()
	holds, err := listHolds(ctx, db.read, takedown.HoldFilter{OperationID: operationID, ActiveAt: now})
	if err != nil {
		return nil, err
	}
	// Without holds one page is the answer; with them, read more than is
	// asked for, as some will be held.
	batch := limit
	if len(holds) > 0 {
		batch = min(max(2*limit, 100), 5000)
	}
	out := []*takedown.Item{}
	for len(out) < limit {
		rows, err := db.read.QueryContext(ctx, `SELECT `+itemColumns+` FROM items i
			WHERE i.operation_id = ? AND i.id > ? AND i.status <> 'candidate'
				AND NOT EXISTS (SELECT 1 FROM referral_items ri WHERE ri.item_id = i.id AND ri.outcome IN `+openOrPositive+`)
				`+evidenceCondition(policy)+`
			ORDER BY i.id LIMIT ?`, operationID, afterID, batch)
		if err != nil {
			return nil, translate(err, "referable items")
		}
		var page []*takedown.Item
		for rows.Next() {
			it, err := scanItem(rows)
			if err != nil {
				rows.Close()
				return nil, translate(err, "referable items")
			}
			page = append(page, it)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, translate(err, "referable items")
		}
		if len(page) == 0 {
			break
		}
		afterID = page[len(page)-1].ID
		free, _ := takedown.SplitHeld(page, holds, now)
		out = append(out, free[:min(len(free), limit-len(out))]...)
		if len(page) < batch {
			break
		}
	}
	return out, nil
}

// evidenceCondition is what an operation's evidence policy asks of an
// item before its referral: a capture tried, or one that preserved it
// (or found it removed already, which the capture documents).
func evidenceCondition(p takedown.EvidencePolicy) string {
	switch p {
	case takedown.EvidenceOff:
		return ""
	case takedown.EvidenceRequired:
		return `AND EXISTS (SELECT 1 FROM captures c WHERE c.item_id = i.id AND (c.state = 'captured' OR c.reason = 'removed'))`
	}
	return `AND EXISTS (SELECT 1 FROM captures c WHERE c.item_id = i.id)`
}
