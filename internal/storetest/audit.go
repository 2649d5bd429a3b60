package storetest

import (
	"context"
	"crypto/ed25519"
	"strings"
	"testing"
	"time"

	"github.com/takedown-project/takedown"
)

// Tamperer is a backend whose test wrapper can run raw SQL behind the
// store's back, as an intruder with database access would.
type Tamperer interface {
	Tamper(ctx context.Context, sql string) error
}

// chainOfChanges makes one change of every kind the store records, as a
// user through a token, and returns the bundle.
func chainOfChanges(t *testing.T, open Opener) *holdBundle {
	hb := setupHolds(t, open, "alpha", "beta")
	u := &takedown.User{Name: "dave", Agency: "aa-iru", Roles: []takedown.Role{takedown.RoleCoordinator}}
	if err := hb.db.CreateUser(ctx, u, ""); err != nil {
		t.Fatal(err)
	}
	actx := takedown.WithActor(ctx, &takedown.Actor{User: u, Via: takedown.ViaToken, TokenID: 7, Scopes: []takedown.Scope{takedown.ScopeWrite}})
	h := hb.hold(takedown.HoldItem)
	h.ItemID = hb.items["alpha"]
	if err := hb.db.PlaceHold(actx, h); err != nil {
		t.Fatal(err)
	}
	if _, err := hb.db.CreateReferral(actx, &takedown.Referral{OperationID: hb.op.ID, Provider: "telegram", LegalBasis: takedown.BasisReferral}, []int64{hb.items["beta"]}); err != nil {
		t.Fatal(err)
	}
	if _, err := hb.db.ReleaseHold(actx, h.ID); err != nil {
		t.Fatal(err)
	}
	tok := &takedown.Token{User: "dave", Scopes: []takedown.Scope{takedown.ScopeRead}, ExpiresAt: time.Now().Add(time.Hour)}
	if err := hb.db.CreateToken(actx, tok, hash("dave-token")); err != nil {
		t.Fatal(err)
	}
	return hb
}

func testAudit(t *testing.T, open Opener) {
	hb := chainOfChanges(t, open)
	head, n, err := takedown.VerifyAudit(ctx, hb.db)
	if err != nil {
		t.Fatal(err)
	}
	evs, err := hb.db.ListAudit(ctx, takedown.AuditFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if int64(len(evs)) != n || head.Seq != n {
		t.Fatalf("verified %d events up to %d, listed %d", n, head.Seq, len(evs))
	}
	seen := map[string]string{}
	for _, e := range evs {
		seen[e.Action] = e.Actor
	}
	for action, actor := range map[string]string{
		"agency.create":    "system:takedown",
		"operation.create": "system:takedown",
		"provider.create":  "system:takedown",
		"items.submit":     "system:takedown",
		"user.create":      "system:takedown",
		"hold.place":       "user:dave via token 7",
		"referral.create":  "user:dave via token 7",
		"hold.release":     "user:dave via token 7",
		"token.create":     "user:dave via token 7",
	} {
		if got, ok := seen[action]; !ok || got != actor {
			t.Errorf("event %s by %q, want by %q (seen: %v)", action, got, actor, ok)
		}
	}
	// Filters select without breaking the order.
	ofOp, err := hb.db.ListAudit(ctx, takedown.AuditFilter{Operation: "rad-1"})
	if err != nil || len(ofOp) == 0 {
		t.Fatalf("events of the operation: %d, %v", len(ofOp), err)
	}
	for _, e := range ofOp {
		if e.Operation != "rad-1" {
			t.Errorf("event %d of operation %q in a filter on rad-1", e.Seq, e.Operation)
		}
	}
	page, _ := hb.db.ListAudit(ctx, takedown.AuditFilter{AfterSeq: 2, Limit: 3})
	if len(page) != 3 || page[0].Seq != 3 {
		t.Errorf("a page of events after 2: %d events from %d", len(page), page[0].Seq)
	}

	// A signed head checks a later copy of the chain.
	_, key, _ := ed25519.GenerateKey(nil)
	signed := takedown.SignHead(head, time.Now(), key)
	if err := signed.Check(key.Public().(ed25519.PublicKey)); err != nil {
		t.Fatal(err)
	}
	if err := signed.Contains(evs[head.Seq-1]); err != nil {
		t.Error(err)
	}
	forged := *signed
	forged.Head.Seq++
	if forged.Check(nil) == nil {
		t.Error("a changed signed head still verifies")
	}
}

// testAuditTamper shows that each kind of tampering with the stored chain
// is caught, and says where.
func testAuditTamper(t *testing.T, open Opener) {
	tampers := []struct {
		name, sql, want string
	}{
		{"edited", `UPDATE audit_events SET subject = 'hold:999' WHERE seq = 5`, "event 5"},
		{"edited details", `UPDATE audit_events SET details = '{"note":"nothing to see"}' WHERE seq = 6`, "event 6"},
		{"deleted", `DELETE FROM audit_events WHERE seq = 4`, "missing"},
		{"inserted", `UPDATE audit_events SET seq = seq + 1000 WHERE seq >= 4;
			UPDATE audit_events SET seq = seq - 999 WHERE seq >= 1004;
			INSERT INTO audit_events (seq, at, actor, action, subject, operation, details, prev_hash, hash)
				SELECT 4, at, actor, 'hold.release', subject, operation, details, hash, hash FROM audit_events WHERE seq = 3`, "event 4"},
		{"reordered", `UPDATE audit_events SET seq = -1 WHERE seq = 4;
			UPDATE audit_events SET seq = 4 WHERE seq = 5;
			UPDATE audit_events SET seq = 5 WHERE seq = -1`, "event 4"},
		{"cut off the end", `DELETE FROM audit_events WHERE seq = (SELECT max(seq) FROM audit_events)`, "cut off"},
	}
	for _, tt := range tampers {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			hb := chainOfChanges(t, open)
			if _, _, err := takedown.VerifyAudit(ctx, hb.db); err != nil {
				t.Fatalf("before tampering: %v", err)
			}
			tm, ok := hb.db.(Tamperer)
			if !ok {
				t.Fatal("the backend's test wrapper cannot tamper")
			}
			if err := tm.Tamper(ctx, tt.sql); err != nil {
				t.Fatal(err)
			}
			_, _, err := takedown.VerifyAudit(ctx, hb.db)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("after the chain was %s: %v, want an error naming %q", tt.name, err, tt.want)
			}
		})
	}
}
