package postgres_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/takedown-project/takedown"
)

// referralFixture is a schema with one operation, one agency, a provider
// with every channel and n items "chan_00000"...
type referralFixture struct {
	db    *testDB
	op    *takedown.Operation
	items []int64
}

func setupReferrals(t *testing.T, n int) *referralFixture {
	t.Helper()
	ctx := context.Background()
	db := open(t).(*testDB)
	a := &takedown.Agency{Code: "aa-iru", Name: "Agency"}
	if err := db.CreateAgency(ctx, a); err != nil {
		t.Fatal(err)
	}
	op := &takedown.Operation{Slug: "rad-1", Name: "Action day", Status: takedown.OperationOpen, Agencies: []string{"aa-iru"}, Evidence: takedown.EvidenceOff}
	if err := db.CreateOperation(ctx, op); err != nil {
		t.Fatal(err)
	}
	p := &takedown.Provider{Code: "telegram", Name: "Telegram", Platforms: []takedown.Platform{takedown.PlatformTelegram},
		Contacts: takedown.ProviderContacts{AbuseEmail: "abuse@telegram.example",
			Webhook: &takedown.WebhookContact{URL: "https://hooks.telegram.example/takedown"},
			API:     &takedown.APIContact{URL: "https://api.telegram.example/v1"}}}
	if err := db.CreateProvider(ctx, p); err != nil {
		t.Fatal(err)
	}
	f := &referralFixture{db: db, op: op}
	at := time.Date(2026, 11, 20, 8, 0, 0, 0, time.UTC)
	for start := 0; start < n; start += 5000 {
		var subs []takedown.NewSubmission
		for i := start; i < min(n, start+5000); i++ {
			h := fmt.Sprintf("chan_%05d", i)
			subs = append(subs, takedown.NewSubmission{
				Item:       takedown.Recognition{Identity: "telegram:" + h, Canonical: "https://t.me/" + h, Platform: takedown.PlatformTelegram, Kind: takedown.KindChannel, Handle: h},
				Submission: takedown.Submission{AgencyID: a.ID, RawInput: "https://t.me/" + h, Source: "test", SubmittedAt: at},
			})
		}
		res, err := db.Submit(ctx, op.ID, subs)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range res {
			f.items = append(f.items, r.ItemID)
		}
	}
	return f
}

func (f *referralFixture) count(t *testing.T, sql string, args ...any) int {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), f.db.url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var n int
	if err := conn.QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// Deliveries on several channels of one referral recorded at once lose no
// update: each channel's attempts add up, and the receipt is set once.
func TestConcurrentDeliveries(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := setupReferrals(t, 3)
	r := &takedown.Referral{OperationID: f.op.ID, Provider: "telegram", LegalBasis: takedown.BasisReferral}
	if _, err := f.db.CreateReferral(ctx, r, f.items); err != nil {
		t.Fatal(err)
	}
	if n := f.count(t, `SELECT count(*) FROM river_job WHERE kind = 'referral.deliver' AND (args->>'referral_id')::bigint = $1`, r.ID); n != 3 {
		t.Errorf("%d delivery jobs queued, want 3", n)
	}
	const tries = 8
	t0 := time.Now().UTC().Truncate(time.Second)
	var wg sync.WaitGroup
	for _, ch := range []takedown.Channel{takedown.ChannelAPI, takedown.ChannelWebhook, takedown.ChannelEmail} {
		wg.Go(func() {
			for i := range tries {
				u := takedown.DeliveryUpdate{Channel: ch, State: takedown.DeliveryRetrying, Error: "timeout", At: t0.Add(time.Duration(i) * time.Second)}
				if i == tries-1 {
					u.State, u.Error, u.External = takedown.DeliveryDelivered, "", string(ch)+"-1"
				}
				if err := f.db.RecordDelivery(ctx, r.ID, u); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	got, err := f.db.FindReferral(ctx, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range got.Deliveries {
		if d.Channel == takedown.ChannelPortal {
			continue
		}
		if d.Attempts != tries || d.State != takedown.DeliveryDelivered || d.External != string(d.Channel)+"-1" || d.LastError != "" || d.DeliveredAt == nil {
			t.Errorf("delivery %+v", d)
		}
	}
	if got.ReceivedAt == nil || !got.ReceivedAt.Equal(t0.Add((tries-1)*time.Second)) || got.Deadline != nil || got.Status != takedown.ReferralDelivered {
		t.Errorf("receipt %v, deadline %v, status %s", got.ReceivedAt, got.Deadline, got.Status)
	}
	if _, _, err := takedown.VerifyAudit(ctx, f.db); err != nil {
		t.Error(err)
	}
	evs, _ := f.db.ListAudit(ctx, takedown.AuditFilter{Subject: "referral:" + strconv.FormatInt(r.ID, 10)})
	if len(evs) != 1+3 {
		t.Errorf("%d events, want the creation and three deliveries", len(evs))
	}
}

// Answers to one referral from two sources at once: every item ends with
// one final answer, recorded once in the chain.
func TestConcurrentAnswers(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := setupReferrals(t, 40)
	r := &takedown.Referral{OperationID: f.op.ID, Provider: "telegram", LegalBasis: takedown.BasisReferral}
	if _, err := f.db.CreateReferral(ctx, r, f.items); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for w, o := range []takedown.Outcome{takedown.OutcomeRemoved, takedown.OutcomeNotFound} {
		wg.Go(func() {
			for i := range f.items {
				id := f.items[(i+w*len(f.items)/2)%len(f.items)]
				if _, err := f.db.AnswerReferral(ctx, r.ID, []takedown.ItemAnswer{{ItemID: id, Outcome: o}}, string(o)); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	got, _ := f.db.FindReferral(ctx, r.ID)
	if got.Status != takedown.ReferralAnswered || got.Counts[takedown.OutcomeRemoved]+got.Counts[takedown.OutcomeNotFound] != len(f.items) {
		t.Errorf("after concurrent answers: %s %v", got.Status, got.Counts)
	}
	evs, _ := f.db.ListAudit(ctx, takedown.AuditFilter{Subject: "referral:" + strconv.FormatInt(r.ID, 10)})
	recorded := 0
	for _, e := range evs {
		if e.Action != "referral.answer" {
			continue
		}
		var d struct {
			Answers []struct {
				ItemID  int64            `json:"item_id"`
				Outcome takedown.Outcome `json:"outcome"`
			} `json:"answers"`
		}
		if err := json.Unmarshal(e.Details, &d); err != nil {
			t.Fatal(err)
		}
		for _, a := range d.Answers {
			recorded++
			it := got.Items[slices.IndexFunc(got.Items, func(i takedown.ReferralItem) bool { return i.ItemID == a.ItemID })]
			if it.Outcome != a.Outcome || it.AnsweredBy != string(a.Outcome) {
				t.Errorf("item %d: the chain says %s, the referral %+v", a.ItemID, a.Outcome, it)
			}
		}
	}
	if recorded != len(f.items) {
		t.Errorf("%d answers in the chain, want %d (one per item)", recorded, len(f.items))
	}
}

// A provider reached through the portal only has the referral at once,
// with nothing to queue, but that is no receipt; an acknowledgement is.
func TestPortalOnlyAndAcknowledgement(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := setupReferrals(t, 2)
	if err := f.db.CreateProvider(ctx, &takedown.Provider{Code: "hoster", Name: "A web host", Domains: []string{"example.org"}}); err != nil {
		t.Fatal(err)
	}
	order := &takedown.RemovalOrder{IssuingAuthority: "Authority", Reference: "RO-1", Contact: "ro@authority.example", LegalBasis: "Article 3",
		Reasons: "terrorist content", IssuedAt: time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC), Redress: "Article 9"}
	r := &takedown.Referral{OperationID: f.op.ID, Provider: "hoster", LegalBasis: takedown.BasisRemovalOrder, Order: order}
	if _, err := f.db.CreateReferral(ctx, r, f.items[:1]); err != nil {
		t.Fatal(err)
	}
	if r.Status != takedown.ReferralDelivered || len(r.Deliveries) != 1 || r.ReceivedAt != nil || r.IdempotencyKey != takedown.ReferralKey("rad-1", r.ID) {
		t.Errorf("portal-only referral: %+v", r)
	}
	if n := f.count(t, `SELECT count(*) FROM river_job WHERE (args->>'referral_id')::bigint = $1`, r.ID); n != 0 {
		t.Errorf("%d jobs queued for the portal", n)
	}
	other := &takedown.Referral{OperationID: f.op.ID, Provider: "telegram", LegalBasis: takedown.BasisReferral}
	if _, err := f.db.CreateReferral(ctx, other, f.items[1:]); err != nil {
		t.Fatal(err)
	}
	undelivered, err := f.db.ListReferrals(ctx, takedown.ReferralFilter{Undelivered: true})
	if err != nil || len(undelivered) != 1 || undelivered[0].ID != other.ID || undelivered[0].Status != takedown.ReferralSending || len(undelivered[0].Deliveries) != 4 {
		t.Errorf("undelivered: %+v %v", undelivered, err)
	}
	for _, ch := range []takedown.Channel{takedown.ChannelAPI, takedown.ChannelWebhook, takedown.ChannelEmail} {
		if err := f.db.RecordDelivery(ctx, other.ID, takedown.DeliveryUpdate{Channel: ch, State: takedown.DeliveryDead, Error: "gone"}); err != nil {
			t.Fatal(err)
		}
	}
	if got, _ := f.db.FindReferral(ctx, other.ID); got.Status != takedown.ReferralFailed {
		t.Errorf("every channel dead: %s", got.Status)
	}
	if n, _ := f.db.ListReferrals(ctx, takedown.ReferralFilter{Undelivered: true}); len(n) != 0 {
		t.Errorf("dead deliveries listed undelivered")
	}

	ack, err := f.db.AcknowledgeReferral(ctx, r.ID)
	if err != nil || ack.ReceivedAt == nil || ack.AcknowledgedAt == nil || ack.Deadline == nil || !ack.Deadline.Equal(ack.ReceivedAt.Add(takedown.OrderDeadline)) {
		t.Fatalf("acknowledgement as receipt: %+v %v", ack, err)
	}
	again, _ := f.db.AcknowledgeReferral(ctx, r.ID)
	if !again.AcknowledgedAt.Equal(*ack.AcknowledgedAt) {
		t.Errorf("a second acknowledgement moved the first")
	}
	evs, _ := f.db.ListAudit(ctx, takedown.AuditFilter{Subject: "referral:" + strconv.FormatInt(r.ID, 10)})
	if len(evs) != 2 || evs[1].Action != "referral.acknowledge" {
		t.Errorf("events %+v", evs)
	}
	list, _ := f.db.ListReferrals(ctx, takedown.ReferralFilter{OverdueAt: ack.Deadline.Add(time.Second)})
	if len(list) != 1 || list[0].ID != r.ID || list[0].Order == nil || list[0].Items != nil {
		t.Errorf("overdue: %+v", list)
	}
}

// ReferableItems pages through a large operation with referrals and
// holds, in bounded time.
func TestReferableItemsAtScale(t *testing.T) {
	if testing.Short() {
		t.Skip("large")
	}
	t.Parallel()
	ctx := context.Background()
	const n = 26000
	f := setupReferrals(t, n)
	// Every item of chan_05... held (1,000 items), and the first 20,000
	// but those referred: a referral larger than the statistics know of.
	h := &takedown.Hold{OperationID: f.op.ID, Agency: "aa-iru", Scope: takedown.HoldPattern, Pattern: "t.me/chan_05*", Reason: takedown.HoldInvestigation, ExpiresAt: time.Now().Add(time.Hour)}
	if err := f.db.PlaceHold(ctx, h); err != nil {
		t.Fatal(err)
	}
	r := &takedown.Referral{OperationID: f.op.ID, Provider: "telegram", LegalBasis: takedown.BasisReferral}
	if _, err := f.db.CreateReferral(ctx, r, f.items[:20000]); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	var seen []int64
	after := int64(0)
	for {
		page, err := f.db.ReferableItems(ctx, f.op.ID, after, 1000)
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range page {
			seen = append(seen, it.ID)
		}
		if len(page) < 1000 {
			break
		}
		after = page[len(page)-1].ID
	}
	took := time.Since(start)
	if len(seen) != n-20000 || !slices.IsSorted(seen) || seen[0] != f.items[20000] {
		t.Errorf("%d referable items, want %d", len(seen), n-20000)
	}
	t.Logf("paged through %d items in %v", n, took)
	if took > 10*time.Second {
		t.Errorf("paging took %v", took)
	}
}
