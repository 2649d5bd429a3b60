package deliver

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/takedown-project/takedown"
)

var created = time.Date(2026, 11, 12, 9, 30, 0, 0, time.UTC)

// referralBatch is a voluntary referral of n items to a provider that
// reads langs.
func referralBatch(n int, langs ...string) Batch {
	r := &takedown.Referral{
		ID: 12, Operation: "rad-2026-11", Provider: "telegram", LegalBasis: takedown.BasisReferral,
		Status: takedown.ReferralSending, CreatedAt: created, CreatedBy: "coordinator",
		IdempotencyKey: takedown.ReferralKey("rad-2026-11", 12),
	}
	items := make([]takedown.ReferralItem, n)
	for i := range items {
		items[i] = takedown.ReferralItem{
			ItemID: int64(100 + i), URL: fmt.Sprintf("https://t.me/propaganda_channel_%d", i+1),
			Reason: fmt.Sprintf("official outlet of a listed organisation, item %d", i+1), Outcome: takedown.OutcomePending,
		}
	}
	return Batch{
		Referral: r,
		Provider: &takedown.Provider{
			Code: "telegram", Name: "Telegram FZ-LLC", Languages: langs,
			Contacts: takedown.ProviderContacts{AbuseEmail: "abuse@telegram.provider.example"},
		},
		Operation: &takedown.Operation{Slug: "rad-2026-11", Name: "Referral Action Day November 2026", Status: takedown.OperationOpen},
		Items:     items,
		PortalURL: "https://takedown.example/portal/referrals/12",
		Sender:    Sender{Name: "EU IRU Coordination Desk", Email: "coordination@iru.example", Organisation: "European Internet Referral Unit"},
	}
}

// orderBatch is a removal order of n items, every Annex I field set.
func orderBatch(n int, langs ...string) Batch {
	b := referralBatch(n, langs...)
	until := time.Date(2026, 12, 31, 23, 0, 0, 0, time.UTC)
	b.Referral.LegalBasis = takedown.BasisRemovalOrder
	b.Referral.Order = &takedown.RemovalOrder{
		IssuingAuthority: "Bundeskriminalamt, Referat ST 45", Reference: "BKA-RO-2026-0042",
		Contact:              "ro-desk@bka.example, +49 611 55 0",
		LegalBasis:           "Article 3 of Regulation (EU) 2021/784; section 2 TerrOIBG",
		Reasons:              "The content glorifies terrorist offences and solicits participation (Article 2(7)(a) and (c)).",
		IssuedAt:             time.Date(2026, 11, 12, 8, 15, 0, 0, time.UTC),
		Redress:              "Administrative court Wiesbaden, within one month of receipt",
		DisclosureRestricted: true, RestrictedUntil: &until,
	}
	b.Provider.Contacts.OrderEmail = "orders@telegram.provider.example"
	return b
}

// Times of the overdue order reminderBatch reminds of.
var (
	receivedAt = time.Date(2026, 11, 12, 9, 32, 10, 0, time.UTC)
	deadline   = receivedAt.Add(takedown.OrderDeadline)
	escalated  = time.Date(2026, 11, 12, 10, 32, 40, 0, time.UTC)
)

// reminderBatch is the reminder of an overdue removal order of n items,
// every third of which (the first included) the provider has answered.
func reminderBatch(n int, langs ...string) Batch {
	b := orderBatch(n, langs...)
	r := b.Referral
	r.ReceivedAt, r.Deadline, r.EscalatedAt = &receivedAt, &deadline, &escalated
	answeredAt := receivedAt.Add(20 * time.Minute)
	for i := range b.Items {
		if i%3 == 0 {
			b.Items[i].Outcome, b.Items[i].AnsweredAt = takedown.OutcomeRemoved, &answeredAt
		}
	}
	b.Reminder = true
	return b
}

// pending returns the items of b still without an answer.
func pending(b Batch) []takedown.ReferralItem {
	var out []takedown.ReferralItem
	for _, it := range b.Items {
		if it.Outcome == takedown.OutcomePending {
			out = append(out, it)
		}
	}
	return out
}

func TestReminderID(t *testing.T) {
	t.Parallel()
	if got := ReminderID("takedown-rad-2026-11-referral-12"); got != "takedown-rad-2026-11-referral-12.reminder" {
		t.Errorf("ReminderID = %q", got)
	}
}

// TestReminderRefused: only an escalated removal order with something
// pending has a reminder.
func TestReminderRefused(t *testing.T) {
	t.Parallel()
	for name, change := range map[string]func(*Batch){
		"voluntary referral": func(b *Batch) {
			b.Referral.LegalBasis, b.Referral.Order = takedown.BasisReferral, nil
		},
		"order not escalated": func(b *Batch) { b.Referral.EscalatedAt = nil },
		"escalated at zero":   func(b *Batch) { b.Referral.EscalatedAt = &time.Time{} },
		"not received":        func(b *Batch) { b.Referral.ReceivedAt = nil },
		"no deadline":         func(b *Batch) { b.Referral.Deadline = nil },
		"all answered": func(b *Batch) {
			for i := range b.Items {
				b.Items[i].Outcome = takedown.OutcomeRejected
			}
		},
		"incomplete order": func(b *Batch) { b.Referral.Order.Redress = "" },
	} {
		b := reminderBatch(4)
		change(&b)
		if _, err := RenderEmail(b); err == nil {
			t.Errorf("%s: e-mail rendered", name)
		}
		if _, err := RenderWebhook(b); err == nil {
			t.Errorf("%s: webhook rendered", name)
		}
		// Without Reminder the same batch is an order like any other.
		if b.Referral.Validate() == nil {
			b.Reminder = false
			if _, err := RenderEmail(b); err != nil {
				t.Errorf("%s: the batch itself does not render: %v", name, err)
			}
		}
	}
}

func TestPermanent(t *testing.T) {
	t.Parallel()
	perm := &Error{Channel: takedown.ChannelEmail, Code: 550, Permanent: true, Err: errors.New("550 no such mailbox")}
	temp := &Error{Channel: takedown.ChannelWebhook, Code: 503, Err: errors.New("answered 503")}
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{perm, true},
		{fmt.Errorf("delivering: %w", perm), true},
		{temp, false},
		{errors.New("anything else"), false},
		{nil, false},
	} {
		if got := Permanent(tc.err); got != tc.want {
			t.Errorf("Permanent(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
	if got := perm.Error(); got != "email delivery failed (permanent): 550 no such mailbox" {
		t.Errorf("Error() = %q", got)
	}
}
