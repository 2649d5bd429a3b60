package storetest

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/takedown-project/takedown"
)

// holdBundle adds a provider and a few items to the bundle.
type holdBundle struct {
	*bundle
	items map[string]int64 // identity suffix -> item ID
	now   time.Time
}

func setupHolds(t *testing.T, open Opener, names ...string) *holdBundle {
	b := setup(t, open)
	if err := b.db.CreateProvider(ctx, &takedown.Provider{Code: "telegram", Name: "Telegram", Platforms: []takedown.Platform{takedown.PlatformTelegram}}); err != nil {
		t.Fatal(err)
	}
	hb := &holdBundle{bundle: b, items: map[string]int64{}, now: time.Now().UTC()}
	var subs []takedown.NewSubmission
	for _, n := range names {
		s := b.sub(b.a, n, "found by A")
		if channel, _, isPost := strings.Cut(n, "/"); isPost {
			// A post of a channel: the channel's handle, as recognised.
			s.Item.Kind, s.Item.Handle = takedown.KindPost, channel
		}
		subs = append(subs, s)
	}
	if len(subs) > 0 {
		for i, r := range b.submit(t, subs...) {
			hb.items[names[i]] = r.ItemID
		}
	}
	return hb
}

func (hb *holdBundle) hold(scope takedown.HoldScope) *takedown.Hold {
	return &takedown.Hold{OperationID: hb.op.ID, Agency: "bb-iru", Scope: scope, Reason: takedown.HoldInvestigation,
		Note: "case 2026/17", ExpiresAt: hb.now.Add(takedown.DefaultHoldDuration)}
}

func testHolds(t *testing.T, open Opener) {
	hb := setupHolds(t, open, "news_relay", "news_relay/12", "other_channel", "quiet_one")
	db := hb.db

	byItem := hb.hold(takedown.HoldItem)
	byItem.ItemID = hb.items["other_channel"]
	if err := db.PlaceHold(ctx, byItem); err != nil {
		t.Fatal(err)
	}
	if byItem.ID == 0 || byItem.CreatedAt.IsZero() || byItem.AgencyID != hb.b.ID || byItem.Operation != "rad-1" {
		t.Errorf("PlaceHold did not fill the hold: %+v", byItem)
	}
	byHandle := hb.hold(takedown.HoldHandle)
	byHandle.Platform, byHandle.Handle = takedown.PlatformTelegram, "news_relay"
	if err := db.PlaceHold(ctx, byHandle); err != nil {
		t.Fatal(err)
	}
	byPattern := hb.hold(takedown.HoldPattern)
	byPattern.Pattern = "t.me/later_*"
	byPattern.Agency = "aa-iru"
	if err := db.PlaceHold(ctx, byPattern); err != nil {
		t.Fatal(err)
	}
	for name, h := range map[string]*takedown.Hold{
		"agency outside the operation": {OperationID: hb.op.ID, Agency: "cc-iru", Scope: takedown.HoldPattern, Pattern: "t.me/x_*", Reason: takedown.HoldOther, ExpiresAt: hb.now.Add(time.Hour)},
		"item of no operation":         {OperationID: hb.op.ID, Agency: "aa-iru", Scope: takedown.HoldItem, ItemID: 99999, Reason: takedown.HoldOther, ExpiresAt: hb.now.Add(time.Hour)},
		"bad pattern":                  {OperationID: hb.op.ID, Agency: "aa-iru", Scope: takedown.HoldPattern, Pattern: "*.*", Reason: takedown.HoldOther, ExpiresAt: hb.now.Add(time.Hour)},
		"past expiry":                  {OperationID: hb.op.ID, Agency: "aa-iru", Scope: takedown.HoldPattern, Pattern: "t.me/x_*", Reason: takedown.HoldOther, ExpiresAt: hb.now.Add(-time.Hour)},
		"no reason":                    {OperationID: hb.op.ID, Agency: "aa-iru", Scope: takedown.HoldPattern, Pattern: "t.me/x_*", ExpiresAt: hb.now.Add(time.Hour)},
	} {
		if err := db.PlaceHold(ctx, h); takedown.ErrorCode(err) != takedown.EINVALID {
			t.Errorf("%s: PlaceHold error %v, want EINVALID", name, err)
		}
	}
	wantCode(t, db.PlaceHold(ctx, &takedown.Hold{OperationID: 99999, Agency: "aa-iru", Scope: takedown.HoldPattern, Pattern: "t.me/x_*", Reason: takedown.HoldOther, ExpiresAt: hb.now.Add(time.Hour)}), takedown.ENOTFOUND)

	// An item submitted after a hold is covered by it.
	later := hb.submit(t, hb.sub(hb.c0(), "later_news", "found later"))
	hb.items["later_news"] = later[0].ItemID

	held := map[string]bool{"other_channel": true, "news_relay": true, "news_relay/12": true, "later_news": true}
	for name, id := range hb.items {
		it, err := db.FindItem(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if got := it.Hold != nil && it.Hold.Held; got != held[name] {
			t.Errorf("item %s held: %v, want %v (%+v)", name, got, held[name], it.Hold)
		}
		if it.Hold != nil && (it.Hold.Notice != takedown.HeldNotice || len(it.Hold.Holds) == 0) {
			t.Errorf("item %s: hold notice %+v", name, it.Hold)
		}
	}
	page, err := db.ListItems(ctx, takedown.ItemFilter{OperationID: hb.op.ID})
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range page.Items {
		name := strings.TrimPrefix(it.Identity, "telegram:")
		if got := it.Hold != nil && it.Hold.Held; got != held[name] {
			t.Errorf("listed item %s held: %v, want %v", name, got, held[name])
		}
	}

	list, err := db.ListHolds(ctx, takedown.HoldFilter{OperationID: hb.op.ID})
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 3 || list[0].ID != byPattern.ID {
		t.Errorf("ListHolds not newest first: %d holds", len(list))
	}
	mine, _ := db.ListHolds(ctx, takedown.HoldFilter{OperationID: hb.op.ID, Agency: "aa-iru"})
	if len(mine) != 1 || mine[0].ID != byPattern.ID {
		t.Errorf("ListHolds of one agency: %+v", mine)
	}

	// Renew, release, and what is left to renew.
	until := hb.now.Add(60 * 24 * time.Hour).Truncate(time.Microsecond)
	renewed, err := db.RenewHold(ctx, byItem.ID, until)
	if err != nil || !renewed.ExpiresAt.Equal(until) {
		t.Errorf("RenewHold: %+v %v", renewed, err)
	}
	_, err = db.RenewHold(ctx, byItem.ID, hb.now.Add(-time.Hour))
	wantCode(t, err, takedown.EINVALID)
	rel, err := db.ReleaseHold(ctx, byItem.ID)
	if err != nil || rel.ReleasedAt == nil || rel.ReleasedBy == "" {
		t.Fatalf("ReleaseHold: %+v %v", rel, err)
	}
	if _, err := db.ReleaseHold(ctx, byItem.ID); err != nil {
		t.Errorf("releasing twice: %v", err)
	}
	_, err = db.RenewHold(ctx, byItem.ID, until)
	wantCode(t, err, takedown.ECONFLICT)
	if it, _ := db.FindItem(ctx, hb.items["other_channel"]); it.Hold != nil {
		t.Errorf("a released hold still holds its item: %+v", it.Hold)
	}
	active, _ := db.ListHolds(ctx, takedown.HoldFilter{OperationID: hb.op.ID, ActiveAt: hb.now.Add(time.Minute)})
	if len(active) != 2 {
		t.Errorf("%d active holds, want 2", len(active))
	}
	_, err = db.FindHold(ctx, 99999)
	wantCode(t, err, takedown.ENOTFOUND)
}

// c0 is the third agency made a participant, for submissions of a third
// party.
func (hb *holdBundle) c0() *takedown.Agency {
	hb.db.AddParticipant(ctx, hb.op.Slug, hb.c.Code)
	return hb.c
}

func testReferrals(t *testing.T, open Opener) {
	hb := setupHolds(t, open, "one", "two", "three")
	db := hb.db
	h := hb.hold(takedown.HoldItem)
	h.ItemID = hb.items["two"]
	if err := db.PlaceHold(ctx, h); err != nil {
		t.Fatal(err)
	}
	r := &takedown.Referral{OperationID: hb.op.ID, Provider: "telegram", LegalBasis: takedown.BasisReferral}
	held, err := db.CreateReferral(ctx, r, []int64{hb.items["one"], hb.items["two"], hb.items["three"]})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(held, []int64{hb.items["two"]}) || len(r.Items) != 2 || r.ID == 0 || r.IdempotencyKey == "" {
		t.Errorf("CreateReferral: held %v, referral %+v", held, r)
	}
	for _, it := range r.Items {
		if it.ItemID == hb.items["two"] || it.URL == "" {
			t.Errorf("referral item %+v", it)
		}
	}
	got, err := db.FindReferral(ctx, r.ID)
	if err != nil || len(got.Items) != 2 || got.Provider != "telegram" || got.Operation != "rad-1" || got.CreatedBy == "" {
		t.Errorf("FindReferral: %+v %v", got, err)
	}
	_, err = db.CreateReferral(ctx, &takedown.Referral{OperationID: hb.op.ID, Provider: "telegram", LegalBasis: takedown.BasisReferral}, []int64{hb.items["two"]})
	wantCode(t, err, takedown.EINVALID)
	_, err = db.CreateReferral(ctx, &takedown.Referral{OperationID: hb.op.ID, Provider: "nobody", LegalBasis: takedown.BasisReferral}, []int64{hb.items["one"]})
	wantCode(t, err, takedown.ENOTFOUND)
	_, err = db.CreateReferral(ctx, &takedown.Referral{OperationID: hb.op.ID, Provider: "telegram", LegalBasis: "please"}, []int64{hb.items["one"]})
	wantCode(t, err, takedown.EINVALID)
	_, err = db.CreateReferral(ctx, &takedown.Referral{OperationID: hb.op.ID, Provider: "telegram", LegalBasis: takedown.BasisReferral}, []int64{99999})
	wantCode(t, err, takedown.EINVALID)
	list, err := db.ListReferrals(ctx, takedown.ReferralFilter{OperationID: hb.op.ID, Provider: "telegram"})
	if err != nil || len(list) != 1 || list[0].ID != r.ID {
		t.Errorf("ListReferrals: %+v %v", list, err)
	}
	// An item's trail: the referrals that carry it.
	if trail, err := db.ListReferrals(ctx, takedown.ReferralFilter{ItemID: hb.items["one"]}); err != nil || len(trail) != 1 || trail[0].ID != r.ID {
		t.Errorf("the trail of item one: %+v %v", trail, err)
	}
	if trail, err := db.ListReferrals(ctx, takedown.ReferralFilter{ItemID: hb.items["two"]}); err != nil || len(trail) != 0 {
		t.Errorf("the trail of a held item: %+v %v", trail, err)
	}
	// Released, the item can be referred.
	if _, err := db.ReleaseHold(ctx, h.ID); err != nil {
		t.Fatal(err)
	}
	_, err = db.CreateReferral(ctx, &takedown.Referral{OperationID: hb.op.ID, Provider: "telegram", LegalBasis: takedown.BasisRemovalOrder}, []int64{hb.items["two"]})
	wantCode(t, err, takedown.EINVALID) // an order without its Annex I fields
	if held, err := db.CreateReferral(ctx, &takedown.Referral{OperationID: hb.op.ID, Provider: "telegram", LegalBasis: takedown.BasisRemovalOrder, Order: testOrder()}, []int64{hb.items["two"]}); err != nil || len(held) != 0 {
		t.Errorf("referral after release: held %v, %v", held, err)
	}
}

// testHoldReferralRace places holds and puts referrals together at the
// same time, on the same items, and then checks against the audit chain
// (the order in which the changes committed) that no referral holds an
// item that a hold committed before it covered.
func testHoldReferralRace(t *testing.T, open Opener) {
	var names []string
	for i := range 60 {
		names = append(names, fmt.Sprintf("chan_%02d", i))
	}
	hb := setupHolds(t, open, names...)
	db := hb.db
	var ids []int64
	for _, n := range names {
		ids = append(ids, hb.items[n])
	}
	var wg sync.WaitGroup
	errs := make(chan error, 100)
	for w := range 4 {
		wg.Add(2)
		go func() { // holds, one item at a time, or a handle
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(w), 1))
			for range 10 {
				h := hb.hold(takedown.HoldItem)
				if r.IntN(3) == 0 {
					h.Scope, h.Platform, h.Handle = takedown.HoldHandle, takedown.PlatformTelegram, names[r.IntN(len(names))]
				} else {
					h.ItemID = ids[r.IntN(len(ids))]
				}
				if err := db.PlaceHold(ctx, h); err != nil {
					errs <- err
				}
			}
		}()
		go func() { // referrals of random sets of items
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(w), 2))
			for range 10 {
				set := slices.Clone(ids)
				r.Shuffle(len(set), func(i, j int) { set[i], set[j] = set[j], set[i] })
				ref := &takedown.Referral{OperationID: hb.op.ID, Provider: "telegram", LegalBasis: takedown.BasisReferral}
				if _, err := db.CreateReferral(ctx, ref, set[:20]); err != nil && takedown.ErrorCode(err) != takedown.EINVALID {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	// The chain orders the commits: a hold event before a referral event
	// committed first.
	evs, err := db.ListAudit(ctx, takedown.AuditFilter{Limit: 10000})
	if err != nil {
		t.Fatal(err)
	}
	holdSeq := map[int64]int64{}
	var holds []*takedown.Hold
	referrals, checked := 0, 0
	for _, e := range evs {
		switch e.Action {
		case "hold.place":
			id := subjectID(t, e.Subject, "hold:")
			h, err := db.FindHold(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			holdSeq[id] = e.Seq
			holds = append(holds, h)
		case "referral.create":
			referrals++
			r, err := db.FindReferral(ctx, subjectID(t, e.Subject, "referral:"))
			if err != nil {
				t.Fatal(err)
			}
			for _, ri := range r.Items {
				it, err := db.FindItem(ctx, ri.ItemID)
				if err != nil {
					t.Fatal(err)
				}
				for _, h := range holds { // those committed before
					checked++
					if h.Covers(it) {
						t.Errorf("referral %d (event %d) holds item %s, which hold %d (event %d) covered", r.ID, e.Seq, it.Identity, h.ID, holdSeq[h.ID])
					}
				}
			}
		}
	}
	if len(holds) != 40 || referrals == 0 || checked == 0 {
		t.Errorf("the race ran %d holds and %d referrals (%d checks); want 40 holds and some referrals", len(holds), referrals, checked)
	}
}

func subjectID(t *testing.T, subject, prefix string) int64 {
	t.Helper()
	id, err := strconv.ParseInt(strings.TrimPrefix(subject, prefix), 10, 64)
	if err != nil || !strings.HasPrefix(subject, prefix) {
		t.Fatalf("subject %q is not %sID", subject, prefix)
	}
	return id
}

// testHoldNotices: a hold tells the submitters of what it covers that it
// is held (and nothing more), the holder that others found it, and the
// coordinators both; a later submission under the hold does the same.
func testHoldNotices(t *testing.T, open Opener) {
	hb := setupHolds(t, open, "news_relay", "news_relay/12", "other_channel")
	db := hb.db
	h := hb.hold(takedown.HoldHandle) // by bb-iru, over A's items
	h.Platform, h.Handle = takedown.PlatformTelegram, "news_relay"
	if err := db.PlaceHold(ctx, h); err != nil {
		t.Fatal(err)
	}
	list := func(f takedown.NotificationFilter) []*takedown.Notification {
		t.Helper()
		f.OperationID = hb.op.ID
		ns, err := db.ListNotifications(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		return ns
	}
	toA := list(takedown.NotificationFilter{Agency: "aa-iru"})
	if len(toA) != 1 || toA[0].Kind != takedown.NoticeItemHeld || len(toA[0].ItemIDs) != 2 {
		t.Fatalf("to the submitter: %+v", toA)
	}
	if toA[0].HoldID != 0 || strings.Contains(toA[0].Message, "bb-iru") || strings.Contains(toA[0].Message, "case 2026") || !strings.Contains(toA[0].Message, takedown.HeldNotice) {
		t.Errorf("the submitter learns more than that its items are held: %+v", toA[0])
	}
	toB := list(takedown.NotificationFilter{Agency: "bb-iru"})
	if len(toB) != 1 || toB[0].Kind != takedown.NoticeHoldOverlap || toB[0].HoldID != h.ID {
		t.Errorf("to the holder: %+v", toB)
	}
	coord := list(takedown.NotificationFilter{Coordinators: true})
	if len(coord) != 1 || coord[0].Kind != takedown.NoticeCoordination || !strings.Contains(coord[0].Message, "bb-iru") || !strings.Contains(coord[0].Message, "aa-iru") {
		t.Errorf("to the coordinators: %+v", coord)
	}
	if n := list(takedown.NotificationFilter{Agency: "aa-iru", Coordinators: true}); len(n) != 2 {
		t.Errorf("an agency's and the coordinators' together: %d, want 2", len(n))
	}

	// The holder's own items under its own hold: nothing to tell.
	own := hb.hold(takedown.HoldPattern)
	own.Pattern = "t.me/other_*"
	own.Agency = "aa-iru"
	if err := db.PlaceHold(ctx, own); err != nil {
		t.Fatal(err)
	}
	if n := list(takedown.NotificationFilter{Agency: "aa-iru"}); len(n) != 1 {
		t.Errorf("a hold over the holder's own items notified: %+v", n)
	}

	// A third agency submits under B's hold later.
	hb.submit(t, hb.sub(hb.c0(), "news_relay", "C found it too"))
	toC := list(takedown.NotificationFilter{Agency: "cc-iru"})
	if len(toC) != 1 || toC[0].Kind != takedown.NoticeItemHeld {
		t.Errorf("to a later submitter: %+v", toC)
	}
	if toB := list(takedown.NotificationFilter{Agency: "bb-iru"}); len(toB) != 2 || !strings.Contains(toB[0].Message, "cc-iru") {
		t.Errorf("the holder about the later submission: %+v", toB)
	}
	// The same submission again tells nobody anything new.
	hb.submit(t, hb.sub(hb.c0(), "news_relay", "C found it too"))
	if n := list(takedown.NotificationFilter{Agency: "cc-iru"}); len(n) != 1 {
		t.Errorf("a duplicate submission notified again: %d", len(n))
	}

	read, err := db.MarkNotificationRead(ctx, toC[0].ID)
	if err != nil || read.ReadAt == nil {
		t.Fatalf("MarkNotificationRead: %+v %v", read, err)
	}
	if n := list(takedown.NotificationFilter{Agency: "cc-iru", Unread: true}); len(n) != 0 {
		t.Errorf("unread after reading: %+v", n)
	}
	_, err = db.MarkNotificationRead(ctx, 99999)
	wantCode(t, err, takedown.ENOTFOUND)
}

// testOrder is a removal order with every field Annex I asks for.
func testOrder() *takedown.RemovalOrder {
	return &takedown.RemovalOrder{IssuingAuthority: "Example competent authority", Reference: "RO-2026-0001", Contact: "orders@authority.example",
		LegalBasis: "Regulation (EU) 2021/784, Article 3", Reasons: "terrorist content within Article 2(7)(a)", IssuedAt: time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC),
		Redress: "Article 9: an administrative review before the issuing authority"}
}
