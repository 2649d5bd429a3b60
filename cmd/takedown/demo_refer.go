package main

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/takedown-project/takedown"
	"github.com/takedown-project/takedown/internal/attribute"
	"github.com/takedown-project/takedown/internal/auth"
	"github.com/takedown-project/takedown/internal/refer"
	"github.com/takedown-project/takedown/internal/simnet"
)

// demoChannels is how each simulated provider takes referrals in the demo:
// one channel each besides the portal, so that every channel is at work
// and each batch reaches a provider once.
var demoChannels = map[string]takedown.Channel{
	"telegram": takedown.ChannelAPI,
	"x":        takedown.ChannelWebhook,
	"youtube":  takedown.ChannelEmail,
	"filehost": takedown.ChannelEmail,
	"webhost":  takedown.ChannelWebhook,
}

// demoProviders puts the simulated providers into the directory: the
// built-in entries of the platforms get the simulator's contacts, and the
// simulated file and web hosts are added with the domains they serve. It
// returns the provider code of each simulated platform.
func demoProviders(ctx context.Context, db database, info simnet.Info) (map[string]string, error) {
	codes := map[string]string{}
	for _, sp := range info.Providers {
		code := sp.Platform
		p, err := db.FindProvider(ctx, code)
		fresh := takedown.ErrorCode(err) == takedown.ENOTFOUND
		if fresh {
			p = &takedown.Provider{Code: code, Name: sp.Name + " (simulated)"}
		} else if err != nil {
			return nil, err
		}
		if !takedown.ValidPlatform(takedown.Platform(code)) {
			// A host, not a platform: its websites are found by domain.
			p.Domains = slices.Clone(sp.Domains)
		}
		p.Languages = []string{"en"}
		p.Contacts = takedown.ProviderContacts{}
		switch demoChannels[sp.Platform] {
		case takedown.ChannelAPI:
			p.Contacts.API = &takedown.APIContact{URL: sp.API, Token: sp.Token}
		case takedown.ChannelWebhook:
			p.Contacts.Webhook = &takedown.WebhookContact{URL: sp.Webhook, Secret: sp.WebhookSecret}
		default:
			p.Contacts.AbuseEmail = sp.AbuseEmail
		}
		if fresh {
			err = db.CreateProvider(ctx, p)
		} else {
			err = db.UpdateProvider(ctx, p)
		}
		if err != nil {
			return nil, fmt.Errorf("provider %s: %w", code, err)
		}
		codes[sp.Platform] = code
	}
	return codes, nil
}

// demoLiaisons makes a liaison user with a token for each simulated
// provider, through which the simulator acknowledges and answers the
// batches it gets by e-mail and webhook. It returns platform -> token.
func demoLiaisons(ctx context.Context, db database, codes map[string]string) (map[string]string, error) {
	tokens := map[string]string{}
	for platform, code := range codes {
		name := "liaison-" + code
		u := &takedown.User{Name: name, DisplayName: "Liaison of " + code + " (simulated)", Provider: code, Roles: []takedown.Role{takedown.RoleProvider}}
		if err := db.CreateUser(ctx, u, ""); err != nil && takedown.ErrorCode(err) != takedown.ECONFLICT {
			return nil, err
		}
		secret, prefix, hash := auth.NewToken()
		t := &takedown.Token{User: name, Name: "simulator", Prefix: prefix, Scopes: []takedown.Scope{takedown.ScopeRead, takedown.ScopeWrite}, ExpiresAt: time.Now().Add(7 * 24 * time.Hour)}
		if err := db.CreateToken(ctx, t, hash); err != nil {
			return nil, err
		}
		tokens[platform] = secret
	}
	return tokens, nil
}

// demoOrder is the removal order the demo issues to the channel service,
// the way a competent authority would fill in Annex I. Invented.
func demoOrder(now time.Time) *takedown.RemovalOrder {
	return &takedown.RemovalOrder{
		IssuingAuthority: "Competent Authority Alpha (simulated)",
		Reference:        "RO-" + now.UTC().Format("2006-0102") + "-DEMO",
		Contact:          "orders@authority-alpha.example",
		LegalBasis:       "Regulation (EU) 2021/784, Article 3",
		Reasons:          "terrorist content within Article 2(7)(a) and (c): material inciting and soliciting the commission of terrorist offences (simulated)",
		IssuedAt:         now.UTC().Truncate(time.Second),
		Redress:          "an administrative review before the issuing authority, then the courts of its member state (Article 9)",
	}
}

// demoRefer batches the whole operation (or, with only, these items):
// removal orders to the channel service, voluntary referrals to everyone
// else.
func demoRefer(ctx context.Context, db database, op *takedown.Operation, codes map[string]string, only map[int64]bool) (*refer.Result, error) {
	plan := refer.Planner(db, attribute.Options{}, time.Now)
	var others []string
	for platform, code := range codes {
		if platform != "telegram" {
			others = append(others, code)
		}
	}
	slices.Sort(others)
	res := &refer.Result{}
	for _, rule := range []refer.Rule{
		{LegalBasis: takedown.BasisRemovalOrder, Order: demoOrder(time.Now()), Providers: []string{codes["telegram"]}, Only: only},
		{LegalBasis: takedown.BasisReferral, Providers: others, Only: only},
	} {
		if len(rule.Providers) == 0 || rule.Providers[0] == "" {
			continue
		}
		r, err := plan(ctx, op.ID, rule)
		if err != nil {
			return nil, err
		}
		res.Referrals = append(res.Referrals, r.Referrals...)
		res.Held = append(res.Held, r.Held...)
		res.Attributed += r.Attributed
		// Each round counts the items no provider takes; the last
		// round's count is the queue.
		res.Unattributed = r.Unattributed
		res.Waiting = r.Waiting
	}
	return res, nil
}

// referralProgress is how far the operation's referrals are.
type referralProgress struct {
	batches, delivered, acknowledged, dead int
	items, answered                        int
	outcomes                               map[takedown.Outcome]int
	// status counts the operation's items by verification status.
	status map[takedown.ItemStatus]int
}

func (p referralProgress) String() string {
	var parts []string
	for _, o := range []takedown.Outcome{takedown.OutcomeRemoved, takedown.OutcomeDisabled, takedown.OutcomeRejected, takedown.OutcomeNotFound, takedown.OutcomeNeedInfo} {
		if n := p.outcomes[o]; n > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", o, n))
		}
	}
	s := fmt.Sprintf("%d/%d batches delivered, %d receipts confirmed; %d of %d items answered", p.delivered, p.batches, p.acknowledged, p.answered, p.items)
	if len(parts) > 0 {
		s += ": " + strings.Join(parts, ", ")
	}
	if p.dead > 0 {
		s += fmt.Sprintf("; %d batches failed", p.dead)
	}
	var seen []string
	for _, st := range []takedown.ItemStatus{takedown.ItemConfirmed, takedown.ItemOffline, takedown.ItemOnline, takedown.ItemReinstated} {
		if n := p.status[st]; n > 0 {
			seen = append(seen, fmt.Sprintf("%s %d", st, n))
		}
	}
	if len(seen) > 0 {
		s += " | probed: " + strings.Join(seen, ", ")
	}
	return s
}

// readProgress reads the progress of the operation's referral batches
// with the given IDs.
func readProgress(ctx context.Context, db database, op *takedown.Operation, batches []int64) (referralProgress, error) {
	all, err := db.ListReferrals(ctx, takedown.ReferralFilter{OperationID: op.ID})
	if err != nil {
		return referralProgress{}, err
	}
	var rs []*takedown.Referral
	for _, r := range all {
		if slices.Contains(batches, r.ID) {
			rs = append(rs, r)
		}
	}
	status, err := db.CountByStatus(ctx, op.ID)
	if err != nil {
		return referralProgress{}, err
	}
	p := referralProgress{batches: len(rs), outcomes: map[takedown.Outcome]int{}, status: status}
	for _, r := range rs {
		switch r.Status {
		case takedown.ReferralDelivered, takedown.ReferralAnswered:
			p.delivered++
		case takedown.ReferralFailed:
			p.dead++
		}
		// A liaison's acknowledgement, or a provider API's acceptance
		// of the report: either confirms the receipt.
		if r.AcknowledgedAt != nil || slices.ContainsFunc(r.Deliveries, func(d takedown.Delivery) bool {
			return d.Channel == takedown.ChannelAPI && d.State == takedown.DeliveryDelivered
		}) {
			p.acknowledged++
		}
		for o, n := range r.Counts {
			p.items += n
			p.outcomes[o] += n
			if o.Final() {
				p.answered += n
			}
		}
	}
	return p, nil
}

// watchReferrals prints the referrals' progress whenever it changes, at
// most every interval, until done says so or ctx ends.
func watchReferrals(ctx context.Context, w io.Writer, db database, op *takedown.Operation, batches []int64, interval time.Duration, done func(referralProgress) bool) (referralProgress, error) {
	last := ""
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		p, err := readProgress(ctx, db, op, batches)
		if ctx.Err() != nil {
			return p, nil
		}
		if err != nil {
			return p, err
		}
		if s := p.String(); s != last {
			fmt.Fprintf(w, "   %s  %s\n", time.Now().Format("15:04:05"), s)
			last = s
		}
		if done != nil && done(p) {
			return p, nil
		}
		select {
		case <-ctx.Done():
			return p, nil
		case <-t.C:
		}
	}
}
