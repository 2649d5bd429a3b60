package storetest

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/riverqueue/river"

	"github.com/takedown-project/takedown"
	"github.com/takedown-project/takedown/internal/jobkinds"
	"github.com/takedown-project/takedown/internal/jobqueue"
)

// setupDelivery is a bundle with a provider that has every channel, and
// items to refer.
func setupDelivery(t *testing.T, open Opener, names ...string) *holdBundle {
	hb := setupHolds(t, open, names...)
	p, err := hb.db.FindProvider(ctx, "telegram")
	if err != nil {
		t.Fatal(err)
	}
	p.Domains = []string{"t.me"}
	p.Languages = []string{"en"}
	p.Contacts = takedown.ProviderContacts{AbuseEmail: "abuse@telegram.example",
		Webhook: &takedown.WebhookContact{URL: "https://hooks.telegram.example/takedown", Secret: "whsec_c2VjcmV0"},
		API:     &takedown.APIContact{URL: "https://api.telegram.example/v1", Token: "provider-token"}}
	if err := hb.db.UpdateProvider(ctx, p); err != nil {
		t.Fatal(err)
	}
	return hb
}

func testProviderDirectory(t *testing.T, open Opener) {
	hb := setupDelivery(t, open)
	got, err := hb.db.FindProvider(ctx, "telegram")
	if err != nil {
		t.Fatal(err)
	}
	if got.Contacts.API == nil || got.Contacts.API.Token != "provider-token" || got.Contacts.Webhook.Secret != "whsec_c2VjcmV0" || !slices.Equal(got.Domains, []string{"t.me"}) {
		t.Errorf("provider directory entry did not round-trip: %+v", got)
	}
	if chans := got.Channels(); !slices.Equal(chans, []takedown.Channel{takedown.ChannelAPI, takedown.ChannelWebhook, takedown.ChannelEmail, takedown.ChannelPortal}) {
		t.Errorf("channels %v", chans)
	}
	wantCode(t, hb.db.UpdateProvider(ctx, &takedown.Provider{Code: "nobody", Name: "x"}), takedown.ENOTFOUND)
	bad := *got
	bad.Contacts.AbuseEmail = "not an address"
	wantCode(t, hb.db.UpdateProvider(ctx, &bad), takedown.EINVALID)
	evs, _ := hb.db.ListAudit(ctx, takedown.AuditFilter{Subject: "provider:telegram"})
	if len(evs) != 2 || evs[1].Action != "provider.update" || strings.Contains(string(evs[1].Details), "provider-token") || strings.Contains(string(evs[1].Details), "whsec_") {
		t.Errorf("the provider's audit events (secrets must not show): %+v", evs)
	}
}

func testAttribution(t *testing.T, open Opener) {
	hb := setupDelivery(t, open, "one", "two", "three")
	db := hb.db
	err := db.SetAttributions(ctx, []takedown.ItemAttribution{
		{ItemID: hb.items["one"], Provider: "telegram", Via: "platform"},
		{ItemID: hb.items["two"], Provider: "", Via: "none"},
	})
	if err != nil {
		t.Fatal(err)
	}
	wantCode(t, db.SetAttributions(ctx, []takedown.ItemAttribution{{ItemID: hb.items["three"], Provider: "nobody", Via: "by hand"}}), takedown.EINVALID)
	it, _ := db.FindItem(ctx, hb.items["one"])
	if it.Provider != "telegram" || it.Attribution != "platform" {
		t.Errorf("attributed item: %+v", it)
	}
	page, err := db.ListItems(ctx, takedown.ItemFilter{OperationID: hb.op.ID, Unattributed: true})
	if err != nil || len(page.Items) != 1 || page.Items[0].ID != hb.items["two"] {
		t.Errorf("the unattributed queue: %+v %v", page, err)
	}
	page, _ = db.ListItems(ctx, takedown.ItemFilter{OperationID: hb.op.ID, Provider: "telegram"})
	if len(page.Items) != 1 || page.Items[0].ID != hb.items["one"] {
		t.Errorf("items of a provider: %+v", page.Items)
	}
}

// deliveryRecorder is a job worker that records the deliveries the store
// queued.
type deliveryRecorder struct {
	river.WorkerDefaults[jobkinds.DeliverArgs]
	mu  sync.Mutex
	got []jobkinds.DeliverArgs
}

func (w *deliveryRecorder) Work(ctx context.Context, job *river.Job[jobkinds.DeliverArgs]) error {
	w.mu.Lock()
	w.got = append(w.got, job.Args)
	w.mu.Unlock()
	return nil
}

func testReferralDelivery(t *testing.T, open Opener) {
	hb := setupDelivery(t, open, "one", "two", "three")
	db := hb.db
	rec := &deliveryRecorder{}
	workers := river.NewWorkers()
	river.AddWorker(workers, rec)
	if err := db.StartJobs(ctx, jobqueue.Config{Workers: workers, FetchPoll: 50 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.StopJobs(context.Background()) })

	r := &takedown.Referral{OperationID: hb.op.ID, Provider: "telegram", LegalBasis: takedown.BasisRemovalOrder, Order: testOrder(),
		Items: []takedown.ReferralItem{{ItemID: hb.items["two"], Reason: "the channel's logo and texts"}}}
	if _, err := db.CreateReferral(ctx, r, []int64{hb.items["one"], hb.items["two"]}); err != nil {
		t.Fatal(err)
	}
	var chans []takedown.Channel
	for _, d := range r.Deliveries {
		chans = append(chans, d.Channel)
	}
	if !slices.Equal(chans, []takedown.Channel{takedown.ChannelAPI, takedown.ChannelWebhook, takedown.ChannelEmail, takedown.ChannelPortal}) {
		t.Errorf("deliveries %v", chans)
	}
	// The store queued one delivery job per channel but the portal, in the
	// referral's transaction.
	deadline := time.Now().Add(10 * time.Second)
	for {
		rec.mu.Lock()
		n := len(rec.got)
		rec.mu.Unlock()
		if n >= 3 || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	rec.mu.Lock()
	var queued []string
	for _, a := range rec.got {
		if a.ReferralID == r.ID {
			queued = append(queued, a.Channel)
		}
	}
	rec.mu.Unlock()
	slices.Sort(queued)
	if !slices.Equal(queued, []string{"api", "email", "webhook"}) {
		t.Errorf("queued deliveries %v, want api, email and webhook", queued)
	}

	got, _ := db.FindReferral(ctx, r.ID)
	if got.Status != takedown.ReferralSending || got.ReceivedAt != nil || got.Deadline != nil || got.Order == nil || got.Order.Reference != "RO-2026-0001" {
		t.Errorf("a referral not yet delivered: %+v", got)
	}
	if it := got.Items[slices.IndexFunc(got.Items, func(i takedown.ReferralItem) bool { return i.ItemID == hb.items["two"] })]; it.Reason != "the channel's logo and texts" || it.Outcome != takedown.OutcomePending {
		t.Errorf("a referral item: %+v", it)
	}

	// A failed attempt, then the delivery: the receipt starts the hour.
	t0 := time.Now().UTC().Truncate(time.Second)
	if err := db.RecordDelivery(ctx, r.ID, takedown.DeliveryUpdate{Channel: takedown.ChannelEmail, State: takedown.DeliveryRetrying, Error: "connection refused", At: t0}); err != nil {
		t.Fatal(err)
	}
	if err := db.RecordDelivery(ctx, r.ID, takedown.DeliveryUpdate{Channel: takedown.ChannelEmail, State: takedown.DeliveryDelivered, External: "<ref-1@takedown>", At: t0.Add(time.Minute)}); err != nil {
		t.Fatal(err)
	}
	if err := db.RecordDelivery(ctx, r.ID, takedown.DeliveryUpdate{Channel: takedown.ChannelAPI, State: takedown.DeliveryDelivered, External: "TE-000001", At: t0.Add(2 * time.Minute)}); err != nil {
		t.Fatal(err)
	}
	got, _ = db.FindReferral(ctx, r.ID)
	email := got.Deliveries[slices.IndexFunc(got.Deliveries, func(d takedown.Delivery) bool { return d.Channel == takedown.ChannelEmail })]
	if email.Attempts != 2 || email.State != takedown.DeliveryDelivered || email.External != "<ref-1@takedown>" || email.LastError != "" {
		t.Errorf("the e-mail delivery: %+v", email)
	}
	if got.Status != takedown.ReferralDelivered || got.ReceivedAt == nil || !got.ReceivedAt.Equal(t0.Add(time.Minute)) || got.Deadline == nil || !got.Deadline.Equal(t0.Add(time.Minute+takedown.OrderDeadline)) {
		t.Errorf("receipt and deadline: received %v, deadline %v, status %s", got.ReceivedAt, got.Deadline, got.Status)
	}
	wantCode(t, db.RecordDelivery(ctx, 99999, takedown.DeliveryUpdate{Channel: takedown.ChannelEmail, State: takedown.DeliveryDelivered, At: t0}), takedown.ENOTFOUND)

	// A dead letter, sent again by hand: pending, and queued once more.
	if err := db.RecordDelivery(ctx, r.ID, takedown.DeliveryUpdate{Channel: takedown.ChannelWebhook, State: takedown.DeliveryDead, Error: "410 Gone", At: t0}); err != nil {
		t.Fatal(err)
	}
	wantCode(t, db.RedeliverReferral(ctx, r.ID, takedown.ChannelEmail, "user:coord"), takedown.ECONFLICT)
	wantCode(t, db.RedeliverReferral(ctx, 99999, takedown.ChannelWebhook, "user:coord"), takedown.ENOTFOUND)
	// The queue records the first job as done a moment after it ran;
	// until then the redelivery waits its turn.
	for start := time.Now(); ; time.Sleep(50 * time.Millisecond) {
		err := db.RedeliverReferral(ctx, r.ID, takedown.ChannelWebhook, "user:coord")
		if err == nil {
			break
		}
		if takedown.ErrorCode(err) != takedown.ECONFLICT || time.Since(start) > 10*time.Second {
			t.Fatal(err)
		}
	}
	got, _ = db.FindReferral(ctx, r.ID)
	if hook := got.Deliveries[slices.IndexFunc(got.Deliveries, func(d takedown.Delivery) bool { return d.Channel == takedown.ChannelWebhook })]; hook.State != takedown.DeliveryPending {
		t.Errorf("the webhook after redelivery: %+v", hook)
	}
	deadline = time.Now().Add(10 * time.Second)
	for {
		rec.mu.Lock()
		n := 0
		for _, a := range rec.got {
			if a.ReferralID == r.ID && a.Channel == "webhook" {
				n++
			}
		}
		rec.mu.Unlock()
		if n == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the webhook was queued %d times, want twice (the second by hand)", n)
		}
		time.Sleep(20 * time.Millisecond)
	}
	// A redelivery still queued is not queued twice.
	wantCode(t, db.RedeliverReferral(ctx, r.ID, takedown.ChannelWebhook, "user:coord"), takedown.ECONFLICT)

	// Overdue after the hour, with an item unanswered; escalated once.
	overdue, err := db.ListReferrals(ctx, takedown.ReferralFilter{OverdueAt: t0.Add(2 * time.Hour)})
	if err != nil || len(overdue) != 1 || overdue[0].ID != r.ID || !overdue[0].Overdue(t0.Add(2*time.Hour)) {
		t.Errorf("overdue orders: %+v %v", overdue, err)
	}
	if n, _ := db.ListReferrals(ctx, takedown.ReferralFilter{OverdueAt: t0.Add(30 * time.Minute)}); len(n) != 0 {
		t.Errorf("an order within its hour listed overdue")
	}
	first, err := db.EscalateReferral(ctx, r.ID)
	if err != nil || !first {
		t.Errorf("first escalation: %v %v", first, err)
	}
	if again, _ := db.EscalateReferral(ctx, r.ID); again {
		t.Error("escalated twice")
	}
	// The coordinators are told, once, in the escalation's transaction.
	notes, err := db.ListNotifications(ctx, takedown.NotificationFilter{OperationID: r.OperationID, Coordinators: true})
	if err != nil {
		t.Fatal(err)
	}
	told := 0
	for _, n := range notes {
		if n.Kind == takedown.NoticeOrderOverdue {
			told++
			if n.Agency != "" || len(n.ItemIDs) == 0 || !strings.Contains(n.Message, "overdue") {
				t.Errorf("the overdue notice: %+v", n)
			}
		}
	}
	if told != 1 {
		t.Errorf("%d overdue notices to the coordinators, want 1", told)
	}

	// Answers: by item and by URL; a final answer stays.
	answers := []takedown.ItemAnswer{
		{ItemID: hb.items["one"], Outcome: takedown.OutcomeRemoved, Feedback: &takedown.OrderFeedback{Action: "removed"}},
		{URL: "https://t.me/two", Outcome: takedown.OutcomeNeedInfo, Reason: "which posts?", Feedback: &takedown.OrderFeedback{CannotComply: "insufficient_information"}},
	}
	got, err = db.AnswerReferral(ctx, r.ID, answers, "provider:telegram via api")
	if err != nil {
		t.Fatal(err)
	}
	if got.Counts[takedown.OutcomeRemoved] != 1 || got.Counts[takedown.OutcomeNeedInfo] != 1 || got.Status != takedown.ReferralDelivered {
		t.Errorf("after answers: %+v", got)
	}
	if n, _ := db.ListReferrals(ctx, takedown.ReferralFilter{OverdueAt: t0.Add(2 * time.Hour)}); len(n) != 0 {
		t.Error("an order whose open item awaits clarification is listed overdue: the clock stops")
	}
	got, _ = db.AnswerReferral(ctx, r.ID, []takedown.ItemAnswer{{ItemID: hb.items["one"], Outcome: takedown.OutcomeRejected, Reason: "changed mind"}, {ItemID: hb.items["two"], Outcome: takedown.OutcomeDisabled}}, "portal:liaison")
	if got.Counts[takedown.OutcomeRemoved] != 1 || got.Counts[takedown.OutcomeDisabled] != 1 || got.Status != takedown.ReferralAnswered {
		t.Errorf("a final answer changed, or need_info was not answered: %+v", got.Counts)
	}
	one := got.Items[slices.IndexFunc(got.Items, func(i takedown.ReferralItem) bool { return i.ItemID == hb.items["one"] })]
	if one.AnsweredBy != "provider:telegram via api" || one.AnsweredAt == nil || one.Feedback == nil || one.Feedback.Action != "removed" {
		t.Errorf("the first answer was not kept: %+v", one)
	}
	_, err = db.AnswerReferral(ctx, r.ID, []takedown.ItemAnswer{{ItemID: hb.items["three"], Outcome: takedown.OutcomeRemoved}}, "x")
	wantCode(t, err, takedown.EINVALID) // not in this referral
	_, err = db.AnswerReferral(ctx, r.ID, []takedown.ItemAnswer{{ItemID: hb.items["one"], Outcome: takedown.OutcomeRejected}}, "x")
	wantCode(t, err, takedown.EINVALID) // a rejection needs its reason
	_, err = db.AnswerReferral(ctx, 99999, answers, "x")
	wantCode(t, err, takedown.ENOTFOUND)

	ack, err := db.AcknowledgeReferral(ctx, r.ID)
	if err != nil || ack.AcknowledgedAt == nil || !ack.ReceivedAt.Equal(t0.Add(time.Minute)) {
		t.Errorf("acknowledgement must not move the receipt: %+v %v", ack, err)
	}
	evs, _ := db.ListAudit(ctx, takedown.AuditFilter{Subject: "referral:" + strconv.FormatInt(r.ID, 10)})
	var actions []string
	for _, e := range evs {
		actions = append(actions, e.Action)
	}
	for _, want := range []string{"referral.create", "referral.deliver", "referral.escalate", "referral.answer", "referral.acknowledge"} {
		if !slices.Contains(actions, want) {
			t.Errorf("no %s event; events %v", want, actions)
		}
	}
}

func testReferableItems(t *testing.T, open Opener) {
	hb := setupDelivery(t, open, "one", "two", "three", "four")
	db := hb.db
	h := hb.hold(takedown.HoldItem)
	h.ItemID = hb.items["four"]
	if err := db.PlaceHold(ctx, h); err != nil {
		t.Fatal(err)
	}
	r := &takedown.Referral{OperationID: hb.op.ID, Provider: "telegram", LegalBasis: takedown.BasisReferral}
	if _, err := db.CreateReferral(ctx, r, []int64{hb.items["one"], hb.items["two"]}); err != nil {
		t.Fatal(err)
	}
	ids := func() []int64 {
		items, err := db.ReferableItems(ctx, hb.op.ID, 0, 100)
		if err != nil {
			t.Fatal(err)
		}
		var out []int64
		for _, it := range items {
			out = append(out, it.ID)
		}
		return out
	}
	if got := ids(); !slices.Equal(got, []int64{hb.items["three"]}) {
		t.Errorf("referable: %v, want only three (one and two are referred, four is held)", got)
	}
	// A rejection makes an item referable again (to refer anew, maybe as
	// an order); a removal does not.
	if _, err := db.AnswerReferral(ctx, r.ID, []takedown.ItemAnswer{{ItemID: hb.items["one"], Outcome: takedown.OutcomeRejected, Reason: "no violation"}, {ItemID: hb.items["two"], Outcome: takedown.OutcomeRemoved}}, "x"); err != nil {
		t.Fatal(err)
	}
	got := ids()
	slices.Sort(got)
	want := []int64{hb.items["one"], hb.items["three"]}
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("referable after answers: %v, want one and three", got)
	}
	if page, _ := db.ReferableItems(ctx, hb.op.ID, want[0], 100); len(page) != 1 || page[0].ID != want[1] {
		t.Errorf("paging after %d: %+v", want[0], page)
	}
}
