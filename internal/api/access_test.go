package api

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/takedown-project/takedown"
)

// TestAccess walks every route of the API with every role, on the
// resources of the caller's own tenant and on a second tenant's, and
// checks the status and that nothing of another tenant shows in any
// answer. A route without an entry in the table fails the test: whoever
// adds a route decides who may call it.

// The callers: each role of tenant A (agency aa-iru, provider p-one),
// the tenant-less roles, a read-only token, and no token at all.
var accessRoles = []string{"anonymous", "admin", "auditor", "coordinator", "analyst", "reader", "provider"}

// accessFixture is two tenants with an operation, items, a hold and a
// referral each, with secrets that must not cross.
type accessFixture struct {
	b      *testBundle
	tokens map[string]string // role -> token of tenant A's user
	opA    *takedown.Operation
	opB    *takedown.Operation
	itemA  int64
	itemB  int64
	holdA  int64
	holdB  int64
	refA   int64
	refB   int64
	// noticeA and noticeB are notifications to agency A and B.
	noticeA int64
	noticeB int64
	// matchA and matchB are matches of candidates against removed items.
	matchA int64
	matchB int64
	seq    atomic.Int64
}

// Markers of what tenant B holds, which tenant A's users must never read,
// and of A's private matter, which its provider must never read.
var (
	secretsOfB = []string{"SECRET-B", "beta_secret_chan", "rad-b", "coord-b", "analyst-b", "liaison-two"}
	secretsOfA = []string{"SECRET-A", "coord-a", "analyst-a"}
)

func newAccessFixture(t *testing.T) *accessFixture {
	b := setup(t)
	f := &accessFixture{b: b, tokens: map[string]string{}}
	ctx := context.Background()
	db := b.db
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	for _, a := range []string{"aa-iru", "bb-iru", "cc-iru"} {
		must(db.CreateAgency(ctx, &takedown.Agency{Code: a, Name: "Agency " + a}))
	}
	must(db.CreateProvider(ctx, &takedown.Provider{Code: "p-one", Name: "Provider one", Platforms: []takedown.Platform{takedown.PlatformTelegram}}))
	must(db.CreateProvider(ctx, &takedown.Provider{Code: "p-two", Name: "Provider two", Platforms: []takedown.Platform{takedown.PlatformX}}))
	f.opA = &takedown.Operation{Slug: "rad-a", Name: "Operation of A", Status: takedown.OperationOpen, Agencies: []string{"aa-iru"}, Evidence: takedown.EvidenceOff}
	f.opB = &takedown.Operation{Slug: "rad-b", Name: "Operation of B", Status: takedown.OperationOpen, Agencies: []string{"bb-iru"}, Evidence: takedown.EvidenceOff}
	must(db.CreateOperation(ctx, f.opA))
	must(db.CreateOperation(ctx, f.opB))

	user := func(name, agency, provider string, role takedown.Role, scope takedown.Scope) string {
		return b.user(t, &takedown.User{Name: name, Agency: agency, Provider: provider, Roles: []takedown.Role{role}}, scope)
	}
	f.tokens["admin"] = b.token
	// The auditor's token may write, so that its role, not its token,
	// is what keeps it from changing anything.
	f.tokens["auditor"] = user("the-auditor", "", "", takedown.RoleAuditor, takedown.ScopeWrite)
	f.tokens["coordinator"] = user("coord-a", "aa-iru", "", takedown.RoleCoordinator, takedown.ScopeWrite)
	f.tokens["analyst"] = user("analyst-a", "aa-iru", "", takedown.RoleAnalyst, takedown.ScopeWrite)
	f.tokens["reader"] = user("analyst-a", "aa-iru", "", takedown.RoleAnalyst, takedown.ScopeRead)
	f.tokens["provider"] = user("liaison-one", "", "p-one", takedown.RoleProvider, takedown.ScopeWrite)
	f.tokens["anonymous"] = ""
	coordB := user("coord-b", "bb-iru", "", takedown.RoleCoordinator, takedown.ScopeWrite)
	user("liaison-two", "", "p-two", takedown.RoleProvider, takedown.ScopeRead)
	_ = coordB

	// Each tenant's matter, made through the API by its own people.
	var sub struct{ Item takedown.Item }
	b.doAs(t, f.tokens["analyst"], "POST", "/api/v1/operations/rad-a/items", map[string]any{"url": "https://t.me/alpha_public_chan", "notes": "SECRET-A-NOTE"}, 201, &sub)
	f.itemA = sub.Item.ID
	b.doAs(t, coordB, "POST", "/api/v1/operations/rad-b/items", map[string]any{"url": "https://t.me/beta_secret_chan", "notes": "SECRET-B-NOTE"}, 201, &sub)
	f.itemB = sub.Item.ID
	var h takedown.Hold
	b.doAs(t, f.tokens["analyst"], "POST", "/api/v1/operations/rad-a/holds", map[string]any{"scope": "pattern", "pattern": "t.me/alpha_held_*", "reason": "investigation", "note": "SECRET-A-HOLD"}, 201, &h)
	f.holdA = h.ID
	b.doAs(t, coordB, "POST", "/api/v1/operations/rad-b/holds", map[string]any{"scope": "pattern", "pattern": "t.me/beta_held_*", "reason": "undercover", "note": "SECRET-B-HOLD"}, 201, &h)
	f.holdB = h.ID
	var ref struct{ Referral takedown.Referral }
	b.doAs(t, f.tokens["coordinator"], "POST", "/api/v1/operations/rad-a/referrals", map[string]any{"provider": "p-one", "legal_basis": "referral", "item_ids": []int64{f.itemA}}, 201, &ref)
	f.refA = ref.Referral.ID
	b.doAs(t, coordB, "POST", "/api/v1/operations/rad-b/referrals", map[string]any{"provider": "p-two", "legal_basis": "referral", "item_ids": []int64{f.itemB}}, 201, &ref)
	f.refB = ref.Referral.ID
	// Each tenant's agency is told that a third agency, which takes part
	// in both operations, holds an item it submitted.
	noticeOf := func(op *takedown.Operation, agency, url string) int64 {
		t.Helper()
		must(db.AddParticipant(ctx, op.Slug, "cc-iru"))
		h := &takedown.Hold{OperationID: op.ID, Agency: "cc-iru", Scope: takedown.HoldPattern, Pattern: strings.TrimPrefix(url, "https://"), Reason: takedown.HoldOther, ExpiresAt: time.Now().Add(time.Hour)}
		must(db.PlaceHold(ctx, h))
		ns, err := db.ListNotifications(ctx, takedown.NotificationFilter{OperationID: op.ID, Agency: agency})
		must(err)
		if len(ns) == 0 {
			t.Fatalf("no notification to %s", agency)
		}
		return ns[0].ID
	}
	b.doAs(t, f.tokens["analyst"], "POST", "/api/v1/operations/rad-a/items", map[string]any{"url": "https://t.me/alpha_noticed_chan"}, 201, nil)
	b.doAs(t, coordB, "POST", "/api/v1/operations/rad-b/items", map[string]any{"url": "https://t.me/beta_secret_noticed"}, 201, nil)
	f.noticeA = noticeOf(f.opA, "aa-iru", "https://t.me/alpha_noticed_chan")
	f.noticeB = noticeOf(f.opB, "bb-iru", "https://t.me/beta_secret_noticed")
	f.matchA = f.freshMatch(t, f.opA, "aa-iru", "alpha_m")
	f.matchB = f.freshMatch(t, f.opB, "bb-iru", "beta_secret_m")
	return f
}

// freshMatch makes an open match between two new items of a tenant's
// operation, so that each review is of an open match.
func (f *accessFixture) freshMatch(t *testing.T, op *takedown.Operation, agency, prefix string) int64 {
	t.Helper()
	ctx := context.Background()
	ag, err := f.b.db.FindAgency(ctx, agency)
	if err != nil {
		t.Fatal(err)
	}
	n := f.next()
	var subs []takedown.NewSubmission
	for _, h := range []string{fmt.Sprintf("%s%d_old", prefix, n), fmt.Sprintf("%s%d_new", prefix, n)} {
		subs = append(subs, takedown.NewSubmission{
			Item:       takedown.Recognition{Identity: "telegram:" + h, Canonical: "https://t.me/" + h, Platform: takedown.PlatformTelegram, Kind: takedown.KindChannel, Handle: h},
			Submission: takedown.Submission{AgencyID: ag.ID, RawInput: "https://t.me/" + h, Source: "test", SubmittedAt: time.Now()}})
	}
	res, err := f.b.db.Submit(ctx, op.ID, subs)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.b.db.RecordMatches(ctx, op.ID, time.Now(), []takedown.CandidateMatches{{SuccessorID: res[1].ItemID,
		Pairs: []takedown.ScoredPair{{PredecessorID: res[0].ItemID, Score: 0.9, Signals: map[string]float64{"posts": 0.9}}}}}); err != nil {
		t.Fatal(err)
	}
	ms, err := f.b.db.ListMatches(ctx, takedown.MatchFilter{ItemID: res[1].ItemID})
	if err != nil || len(ms) != 1 {
		t.Fatalf("the fresh match: %v, %v", ms, err)
	}
	return ms[0].ID
}

// next gives write requests names nobody has used.
func (f *accessFixture) next() int64 { return f.seq.Add(1) }

// freshHold places a hold of a tenant to release, so that each release is
// of an active hold.
func (f *accessFixture) freshHold(t *testing.T, op *takedown.Operation, agency string) int64 {
	h := &takedown.Hold{OperationID: op.ID, Agency: agency, Scope: takedown.HoldPattern, Pattern: fmt.Sprintf("t.me/fresh_%d_*", f.next()), Reason: takedown.HoldOther, ExpiresAt: time.Now().Add(time.Hour)}
	if err := f.b.db.PlaceHold(context.Background(), h); err != nil {
		t.Fatal(err)
	}
	return h.ID
}

func (f *accessFixture) freshToken(t *testing.T, user string) int64 {
	tok := &takedown.Token{User: user, Prefix: "tdk_x", Scopes: []takedown.Scope{takedown.ScopeRead}, ExpiresAt: time.Now().Add(time.Hour)}
	if err := f.b.db.CreateToken(context.Background(), tok, []byte(fmt.Sprintf("fresh-token-hash-%032d", f.next()))); err != nil {
		t.Fatal(err)
	}
	return tok.ID
}

// want is the status each role gets. Roles not listed get the default.
type want map[string]int

// accessCase is one route as the access test calls it.
type accessCase struct {
	// path and body for tenant A's resources, and, for routes that have a
	// tenant, for B's (pathB nil: the route has none).
	path  func(t *testing.T, f *accessFixture) string
	pathB func(t *testing.T, f *accessFixture) string
	body  func(f *accessFixture) any
	wantA want
	wantB want
}

func p(s string) func(*testing.T, *accessFixture) string {
	return func(*testing.T, *accessFixture) string { return s }
}

// fill completes a want: anonymous callers get 401 everywhere, and a
// read-only token 403 on writes, unless listed.
func (w want) fill(method string, def int) want {
	out := want{"anonymous": http.StatusUnauthorized}
	for _, r := range accessRoles {
		if r == "anonymous" {
			continue
		}
		out[r] = def
	}
	if method != "GET" {
		out["reader"] = http.StatusForbidden
	}
	for r, s := range w {
		out[r] = s
	}
	return out
}

func accessCases() map[string]accessCase {
	const (
		ok, created, forbidden, notFound = 200, 201, 403, 404
	)
	onlyAuditor := func(s int) want { return want{"auditor": s} }
	opA := func(rest string) func(*testing.T, *accessFixture) string {
		return func(*testing.T, *accessFixture) string { return "/api/v1/operations/rad-a" + rest }
	}
	opB := func(rest string) func(*testing.T, *accessFixture) string {
		return func(*testing.T, *accessFixture) string { return "/api/v1/operations/rad-b" + rest }
	}
	// On B's operations, tenant A's people find nothing; the auditor
	// reads (and writes nothing).
	bRead := onlyAuditor(ok)
	bWrite := onlyAuditor(forbidden)
	return map[string]accessCase{
		"GET /api/v1/openapi.json": {path: p("/api/v1/openapi.json"), wantA: want{"anonymous": ok, "admin": ok, "auditor": ok, "coordinator": ok, "analyst": ok, "reader": ok, "provider": ok}},
		"GET /api/v1/me":           {path: p("/api/v1/me"), wantA: want{"admin": ok, "auditor": ok, "coordinator": ok, "analyst": ok, "reader": ok, "provider": ok}},
		"GET /api/v1/agencies":     {path: p("/api/v1/agencies"), wantA: want{"admin": ok, "auditor": ok, "coordinator": ok, "analyst": ok, "reader": ok}},
		"POST /api/v1/agencies": {path: p("/api/v1/agencies"), body: func(f *accessFixture) any {
			return map[string]any{"code": fmt.Sprintf("new-%d", f.next()), "name": "New"}
		}, wantA: want{"admin": created}},
		"GET /api/v1/agencies/{agency}": {path: p("/api/v1/agencies/aa-iru"), wantA: want{"admin": ok, "auditor": ok, "coordinator": ok, "analyst": ok, "reader": ok}},
		"GET /api/v1/providers":         {path: p("/api/v1/providers"), wantA: want{"admin": ok, "auditor": ok, "coordinator": ok, "analyst": ok, "reader": ok, "provider": ok}},
		"POST /api/v1/providers": {path: p("/api/v1/providers"), body: func(f *accessFixture) any {
			return map[string]any{"code": fmt.Sprintf("prov-%d", f.next()), "name": "New"}
		}, wantA: want{"admin": created}},
		"GET /api/v1/providers/{provider}": {path: p("/api/v1/providers/p-one"), pathB: p("/api/v1/providers/p-two"),
			wantA: want{"admin": ok, "auditor": ok, "coordinator": ok, "analyst": ok, "reader": ok, "provider": ok},
			wantB: want{"admin": ok, "auditor": ok, "coordinator": ok, "analyst": ok, "reader": ok, "provider": notFound}},
		// Only administrators change the directory; a liaison cannot change
		// even its own provider's contacts.
		"PATCH /api/v1/providers/{provider}": {path: p("/api/v1/providers/p-one"), pathB: p("/api/v1/providers/p-two"),
			body:  func(*accessFixture) any { return map[string]any{"languages": []string{"en"}} },
			wantA: want{"admin": ok}, wantB: want{"admin": ok, "auditor": forbidden, "coordinator": forbidden, "analyst": forbidden, "provider": forbidden}},
		"GET /api/v1/users": {path: p("/api/v1/users"), wantA: want{"admin": ok, "auditor": ok}},
		"POST /api/v1/users": {path: p("/api/v1/users"), body: func(f *accessFixture) any {
			return map[string]any{"name": fmt.Sprintf("new-user-%d", f.next()), "roles": []string{"auditor"}}
		}, wantA: want{"admin": created}},
		"GET /api/v1/users/{user}": {path: p("/api/v1/users/coord-a"), pathB: p("/api/v1/users/coord-b"),
			wantA: want{"admin": ok, "auditor": ok, "coordinator": ok, "analyst": notFound, "reader": notFound, "provider": notFound},
			wantB: want{"admin": ok, "auditor": ok, "coordinator": notFound, "analyst": notFound, "reader": notFound, "provider": notFound}},
		"PATCH /api/v1/users/{user}": {path: p("/api/v1/users/coord-a"), pathB: p("/api/v1/users/coord-b"),
			body:  func(*accessFixture) any { return map[string]any{"display_name": "Renamed"} },
			wantA: want{"admin": ok, "auditor": forbidden, "coordinator": forbidden, "analyst": notFound, "provider": notFound},
			wantB: want{"admin": ok, "auditor": forbidden, "coordinator": notFound, "analyst": notFound, "provider": notFound}},
		"GET /api/v1/users/{user}/tokens": {path: p("/api/v1/users/coord-a/tokens"), pathB: p("/api/v1/users/coord-b/tokens"),
			wantA: want{"admin": ok, "auditor": ok, "coordinator": ok, "analyst": notFound, "reader": notFound, "provider": notFound},
			wantB: want{"admin": ok, "auditor": ok, "coordinator": notFound, "analyst": notFound, "reader": notFound, "provider": notFound}},
		"POST /api/v1/users/{user}/tokens": {path: p("/api/v1/users/coord-a/tokens"), pathB: p("/api/v1/users/coord-b/tokens"),
			body:  func(*accessFixture) any { return map[string]any{"scopes": []string{"read"}} },
			wantA: want{"admin": created, "auditor": forbidden, "coordinator": created, "analyst": notFound, "provider": notFound},
			wantB: want{"admin": created, "auditor": forbidden, "coordinator": notFound, "analyst": notFound, "provider": notFound}},
		"DELETE /api/v1/tokens/{token}": {
			path: func(t *testing.T, f *accessFixture) string {
				return "/api/v1/tokens/" + itoa(f.freshToken(t, "coord-a"))
			},
			pathB: func(t *testing.T, f *accessFixture) string {
				return "/api/v1/tokens/" + itoa(f.freshToken(t, "coord-b"))
			},
			wantA: want{"admin": ok, "auditor": notFound, "coordinator": ok, "analyst": notFound, "provider": notFound},
			wantB: want{"admin": ok, "auditor": notFound, "coordinator": notFound, "analyst": notFound, "provider": notFound}},
		"GET /api/v1/operations": {path: p("/api/v1/operations"), wantA: want{"admin": ok, "auditor": ok, "coordinator": ok, "analyst": ok, "reader": ok, "provider": ok}},
		"POST /api/v1/operations": {path: p("/api/v1/operations"), body: func(f *accessFixture) any {
			return map[string]any{"slug": fmt.Sprintf("rad-new-%d", f.next()), "name": "New"}
		}, wantA: want{"coordinator": created}},
		"GET /api/v1/operations/{operation}": {path: opA(""), pathB: opB(""),
			wantA: want{"admin": notFound, "auditor": ok, "coordinator": ok, "analyst": ok, "reader": ok, "provider": notFound}, wantB: bRead},
		"POST /api/v1/operations/{operation}/agencies": {path: opA("/agencies"), pathB: opB("/agencies"),
			body:  func(*accessFixture) any { return map[string]any{"agency": "cc-iru"} },
			wantA: want{"admin": notFound, "auditor": forbidden, "coordinator": ok, "analyst": forbidden, "provider": notFound}, wantB: bWrite},
		"GET /api/v1/operations/{operation}/items": {path: opA("/items"), pathB: opB("/items"),
			wantA: want{"admin": notFound, "auditor": ok, "coordinator": ok, "analyst": ok, "reader": ok, "provider": notFound}, wantB: bRead},
		"POST /api/v1/operations/{operation}/items": {path: opA("/items"), pathB: opB("/items"),
			body: func(f *accessFixture) any {
				return map[string]any{"url": fmt.Sprintf("https://t.me/new_item_%d", f.next())}
			},
			wantA: want{"admin": notFound, "auditor": forbidden, "coordinator": created, "analyst": created, "provider": notFound}, wantB: bWrite},
		"POST /api/v1/operations/{operation}/items/batch": {path: opA("/items/batch"), pathB: opB("/items/batch"),
			body: func(f *accessFixture) any {
				return map[string]any{"items": []map[string]any{{"url": fmt.Sprintf("https://t.me/batch_item_%d", f.next())}}}
			},
			wantA: want{"admin": notFound, "auditor": forbidden, "coordinator": ok, "analyst": ok, "provider": notFound}, wantB: bWrite},
		"GET /api/v1/operations/{operation}/items/{item}": {
			path:  func(t *testing.T, f *accessFixture) string { return "/api/v1/operations/rad-a/items/" + itoa(f.itemA) },
			pathB: func(t *testing.T, f *accessFixture) string { return "/api/v1/operations/rad-b/items/" + itoa(f.itemB) },
			wantA: want{"admin": notFound, "auditor": ok, "coordinator": ok, "analyst": ok, "reader": ok, "provider": notFound}, wantB: bRead},
		"POST /api/v1/operations/{operation}/items/{item}/attribution": {
			path: func(t *testing.T, f *accessFixture) string {
				return "/api/v1/operations/rad-a/items/" + itoa(f.itemA) + "/attribution"
			},
			pathB: func(t *testing.T, f *accessFixture) string {
				return "/api/v1/operations/rad-b/items/" + itoa(f.itemB) + "/attribution"
			},
			body:  func(*accessFixture) any { return map[string]any{"provider": "p-one"} },
			wantA: want{"admin": notFound, "auditor": forbidden, "coordinator": ok, "analyst": forbidden, "provider": notFound}, wantB: bWrite},
		"GET /api/v1/operations/{operation}/items/{item}/observations": {
			path: func(t *testing.T, f *accessFixture) string {
				return "/api/v1/operations/rad-a/items/" + itoa(f.itemA) + "/observations"
			},
			pathB: func(t *testing.T, f *accessFixture) string {
				return "/api/v1/operations/rad-b/items/" + itoa(f.itemB) + "/observations"
			},
			wantA: want{"admin": notFound, "auditor": ok, "coordinator": ok, "analyst": ok, "reader": ok, "provider": notFound}, wantB: bRead},
		"GET /api/v1/operations/{operation}/items/{item}/captures": {
			path: func(t *testing.T, f *accessFixture) string {
				return "/api/v1/operations/rad-a/items/" + itoa(f.itemA) + "/captures"
			},
			pathB: func(t *testing.T, f *accessFixture) string {
				return "/api/v1/operations/rad-b/items/" + itoa(f.itemB) + "/captures"
			},
			wantA: want{"admin": notFound, "auditor": ok, "coordinator": ok, "analyst": ok, "reader": ok, "provider": notFound}, wantB: bRead},
		"GET /api/v1/operations/{operation}/figures": {path: opA("/figures"), pathB: opB("/figures"),
			wantA: want{"admin": notFound, "auditor": ok, "coordinator": ok, "analyst": ok, "reader": ok, "provider": notFound}, wantB: bRead},
		"GET /api/v1/operations/{operation}/resurgence": {path: opA("/resurgence"), pathB: opB("/resurgence"),
			wantA: want{"admin": notFound, "auditor": ok, "coordinator": ok, "analyst": ok, "reader": ok, "provider": notFound}, wantB: bRead},
		"GET /api/v1/operations/{operation}/matches": {path: opA("/matches"), pathB: opB("/matches"),
			wantA: want{"admin": notFound, "auditor": ok, "coordinator": ok, "analyst": ok, "reader": ok, "provider": notFound}, wantB: bRead},
		"GET /api/v1/operations/{operation}/matches/{match}": {
			path: func(t *testing.T, f *accessFixture) string {
				return "/api/v1/operations/rad-a/matches/" + itoa(f.matchA)
			},
			pathB: func(t *testing.T, f *accessFixture) string {
				return "/api/v1/operations/rad-b/matches/" + itoa(f.matchB)
			},
			wantA: want{"admin": notFound, "auditor": ok, "coordinator": ok, "analyst": ok, "reader": ok, "provider": notFound}, wantB: bRead},
		"POST /api/v1/operations/{operation}/matches/{match}/review": {
			path: func(t *testing.T, f *accessFixture) string {
				return "/api/v1/operations/rad-a/matches/" + itoa(f.freshMatch(t, f.opA, "aa-iru", "alpha_m")) + "/review"
			},
			pathB: func(t *testing.T, f *accessFixture) string {
				return "/api/v1/operations/rad-b/matches/" + itoa(f.freshMatch(t, f.opB, "bb-iru", "beta_secret_m")) + "/review"
			},
			body:  func(*accessFixture) any { return map[string]any{"state": "rejected", "note": "a sister channel"} },
			wantA: want{"admin": notFound, "auditor": forbidden, "coordinator": ok, "analyst": ok, "provider": notFound}, wantB: bWrite},
		"GET /api/v1/operations/{operation}/holds": {path: opA("/holds"), pathB: opB("/holds"),
			wantA: want{"admin": notFound, "auditor": ok, "coordinator": ok, "analyst": ok, "reader": ok, "provider": notFound}, wantB: bRead},
		"POST /api/v1/operations/{operation}/holds": {path: opA("/holds"), pathB: opB("/holds"),
			body: func(f *accessFixture) any {
				return map[string]any{"scope": "pattern", "pattern": fmt.Sprintf("t.me/held_%d_*", f.next()), "reason": "other"}
			},
			wantA: want{"admin": notFound, "auditor": forbidden, "coordinator": created, "analyst": created, "provider": notFound}, wantB: bWrite},
		"GET /api/v1/operations/{operation}/holds/{hold}": {
			path:  func(t *testing.T, f *accessFixture) string { return "/api/v1/operations/rad-a/holds/" + itoa(f.holdA) },
			pathB: func(t *testing.T, f *accessFixture) string { return "/api/v1/operations/rad-b/holds/" + itoa(f.holdB) },
			wantA: want{"admin": notFound, "auditor": ok, "coordinator": ok, "analyst": ok, "reader": ok, "provider": notFound}, wantB: bRead},
		"POST /api/v1/operations/{operation}/holds/{hold}/renew": {
			path: func(t *testing.T, f *accessFixture) string {
				return "/api/v1/operations/rad-a/holds/" + itoa(f.holdA) + "/renew"
			},
			pathB: func(t *testing.T, f *accessFixture) string {
				return "/api/v1/operations/rad-b/holds/" + itoa(f.holdB) + "/renew"
			},
			body:  func(*accessFixture) any { return map[string]any{"days": 10} },
			wantA: want{"admin": notFound, "auditor": forbidden, "coordinator": ok, "analyst": ok, "provider": notFound}, wantB: bWrite},
		"POST /api/v1/operations/{operation}/holds/{hold}/release": {
			path: func(t *testing.T, f *accessFixture) string {
				return "/api/v1/operations/rad-a/holds/" + itoa(f.freshHold(t, f.opA, "aa-iru")) + "/release"
			},
			pathB: func(t *testing.T, f *accessFixture) string {
				return "/api/v1/operations/rad-b/holds/" + itoa(f.freshHold(t, f.opB, "bb-iru")) + "/release"
			},
			wantA: want{"admin": notFound, "auditor": forbidden, "coordinator": ok, "analyst": ok, "provider": notFound}, wantB: bWrite},
		"GET /api/v1/operations/{operation}/referrals": {path: opA("/referrals"), pathB: opB("/referrals"),
			wantA: want{"admin": notFound, "auditor": ok, "coordinator": ok, "analyst": forbidden, "reader": forbidden, "provider": notFound}, wantB: bRead},
		"POST /api/v1/operations/{operation}/referrals": {path: opA("/referrals"), pathB: opB("/referrals"),
			body: func(f *accessFixture) any {
				return map[string]any{"provider": "p-one", "legal_basis": "referral", "item_ids": []int64{f.itemA}}
			},
			wantA: want{"admin": notFound, "auditor": forbidden, "coordinator": created, "analyst": forbidden, "provider": notFound}, wantB: bWrite},
		"GET /api/v1/operations/{operation}/referrals/{referral}": {
			path: func(t *testing.T, f *accessFixture) string {
				return "/api/v1/operations/rad-a/referrals/" + itoa(f.refA)
			},
			pathB: func(t *testing.T, f *accessFixture) string {
				return "/api/v1/operations/rad-b/referrals/" + itoa(f.refB)
			},
			wantA: want{"admin": notFound, "auditor": ok, "coordinator": ok, "analyst": forbidden, "reader": forbidden, "provider": ok}, wantB: bRead},
		"GET /api/v1/operations/{operation}/notifications": {path: opA("/notifications"), pathB: opB("/notifications"),
			wantA: want{"admin": notFound, "auditor": ok, "coordinator": ok, "analyst": ok, "reader": ok, "provider": notFound}, wantB: bRead},
		"POST /api/v1/operations/{operation}/notifications/{notification}/read": {
			path: func(t *testing.T, f *accessFixture) string {
				return "/api/v1/operations/rad-a/notifications/" + itoa(f.noticeA) + "/read"
			},
			pathB: func(t *testing.T, f *accessFixture) string {
				return "/api/v1/operations/rad-b/notifications/" + itoa(f.noticeB) + "/read"
			},
			wantA: want{"admin": notFound, "auditor": forbidden, "coordinator": ok, "analyst": ok, "provider": notFound}, wantB: bWrite},
		"POST /api/v1/operations/{operation}/referrals/plan": {path: opA("/referrals/plan"), pathB: opB("/referrals/plan"),
			body:  func(*accessFixture) any { return map[string]any{"legal_basis": "referral"} },
			wantA: want{"admin": notFound, "auditor": forbidden, "coordinator": created, "analyst": forbidden, "provider": notFound}, wantB: bWrite},
		// A coordinator's redelivery of a channel that is not dead is a
		// conflict: the status shows the caller got that far.
		"POST /api/v1/operations/{operation}/referrals/{referral}/redeliver": {
			path: func(t *testing.T, f *accessFixture) string {
				return "/api/v1/operations/rad-a/referrals/" + itoa(f.refA) + "/redeliver"
			},
			pathB: func(t *testing.T, f *accessFixture) string {
				return "/api/v1/operations/rad-b/referrals/" + itoa(f.refB) + "/redeliver"
			},
			body:  func(*accessFixture) any { return map[string]any{"channel": "portal"} },
			wantA: want{"admin": notFound, "auditor": forbidden, "coordinator": http.StatusConflict, "analyst": forbidden, "provider": notFound}, wantB: bWrite},
		"GET /api/v1/referrals": {path: p("/api/v1/referrals"), wantA: want{"provider": ok}},
		// The portal's routes are the liaisons': to anyone else a referral
		// is forbidden here, and to the liaison of another provider it does
		// not exist.
		"GET /api/v1/referrals/{referral}": {
			path:  func(t *testing.T, f *accessFixture) string { return "/api/v1/referrals/" + itoa(f.refA) },
			pathB: func(t *testing.T, f *accessFixture) string { return "/api/v1/referrals/" + itoa(f.refB) },
			wantA: want{"provider": ok}, wantB: want{"admin": forbidden, "auditor": forbidden, "coordinator": forbidden, "analyst": forbidden, "reader": forbidden, "provider": notFound}},
		"POST /api/v1/referrals/{referral}/acknowledge": {
			path: func(t *testing.T, f *accessFixture) string {
				return "/api/v1/referrals/" + itoa(f.refA) + "/acknowledge"
			},
			pathB: func(t *testing.T, f *accessFixture) string {
				return "/api/v1/referrals/" + itoa(f.refB) + "/acknowledge"
			},
			wantA: want{"provider": ok}, wantB: want{"admin": forbidden, "auditor": forbidden, "coordinator": forbidden, "analyst": forbidden, "reader": forbidden, "provider": notFound}},
		"POST /api/v1/referrals/{referral}/answers": {
			path:  func(t *testing.T, f *accessFixture) string { return "/api/v1/referrals/" + itoa(f.refA) + "/answers" },
			pathB: func(t *testing.T, f *accessFixture) string { return "/api/v1/referrals/" + itoa(f.refB) + "/answers" },
			body: func(f *accessFixture) any {
				return map[string]any{"answers": []map[string]any{{"url": "https://t.me/alpha_public_chan", "outcome": "removed"}}}
			},
			wantA: want{"provider": ok}, wantB: want{"admin": forbidden, "auditor": forbidden, "coordinator": forbidden, "analyst": forbidden, "reader": forbidden, "provider": notFound}},
		"GET /api/v1/audit":        {path: p("/api/v1/audit"), wantA: onlyAuditor(ok)},
		"GET /api/v1/audit/verify": {path: p("/api/v1/audit/verify"), wantA: onlyAuditor(ok)},
		"GET /api/v1/recognize": {path: p("/api/v1/recognize?url=https%3A%2F%2Ft.me%2Fsome_channel"),
			wantA: want{"admin": ok, "auditor": ok, "coordinator": ok, "analyst": ok, "reader": ok, "provider": ok}},
	}
}

func TestAccess(t *testing.T) {
	t.Parallel()
	f := newAccessFixture(t)
	cases := accessCases()
	routes := (&Server{}).routes()
	if len(cases) != len(routes) {
		t.Errorf("the access table has %d entries for %d routes", len(cases), len(routes))
	}
	for _, rt := range routes {
		key := rt.method + " " + rt.pattern
		c, ok := cases[key]
		if !ok {
			t.Errorf("route %s has no entry in the access table: say who may call it", key)
			continue
		}
		variants := []struct {
			name string
			path func(*testing.T, *accessFixture) string
			want want
		}{{"own tenant", c.path, c.wantA.fill(rt.method, http.StatusForbidden)}}
		if c.pathB != nil {
			variants = append(variants, struct {
				name string
				path func(*testing.T, *accessFixture) string
				want want
			}{"other tenant", c.pathB, c.wantB.fill(rt.method, http.StatusNotFound)})
		}
		for _, v := range variants {
			for _, role := range accessRoles {
				path := v.path(t, f)
				var body any
				if c.body != nil {
					body = c.body(f)
				}
				status, got := f.probe(t, f.tokens[role], rt.method, path, body)
				if status != v.want[role] {
					t.Errorf("%s %s (%s) as %s: status %d, want %d; body %s", rt.method, path, v.name, role, status, v.want[role], got)
				}
				leaked := secretsOfB
				if role == "provider" {
					leaked = append(leaked, secretsOfA...)
				}
				if role == "admin" || role == "auditor" {
					leaked = nil // no tenant: they read across by design
				}
				for _, s := range leaked {
					// What the caller wrote in the path comes back in
					// the error; it knew that already.
					if strings.Contains(path, s) {
						continue
					}
					if bytes.Contains(got, []byte(s)) {
						t.Errorf("%s %s (%s) as %s: the answer holds %q of another tenant: %s", rt.method, path, v.name, role, s, got)
					}
				}
			}
		}
	}
}

// probe sends one request and returns the status and body, checking the
// answer (not the request: some are wrong on purpose) against the OpenAPI
// document.
func (f *accessFixture) probe(t *testing.T, token, method, path string, body any) (int, []byte) {
	t.Helper()
	var raw []byte
	if body != nil {
		raw, _ = json.Marshal(body)
	}
	req, _ := http.NewRequest(method, f.b.srv.URL+path, bytes.NewReader(raw))
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	got, _ := io.ReadAll(resp.Body)
	vreq, _ := http.NewRequest(method, "http://localhost"+path, bytes.NewReader(raw))
	if token != "" {
		vreq.Header.Set("Authorization", "Bearer "+token)
	}
	if body != nil {
		vreq.Header.Set("Content-Type", "application/json")
	}
	resp.Body = io.NopCloser(bytes.NewReader(got))
	if _, errs := f.b.validator.ValidateHttpResponse(vreq, resp); len(errs) > 0 {
		for _, e := range errs {
			t.Errorf("%s %s: answer does not match openapi.json: %s: %s", method, path, e.Message, e.Reason)
		}
	}
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") && resp.StatusCode >= 400 {
		t.Errorf("%s %s: an error as application/json, want application/problem+json", method, path)
	}
	return resp.StatusCode, got
}
