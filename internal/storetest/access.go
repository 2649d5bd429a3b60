package storetest

import (
	"bytes"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/takedown-project/takedown"
)

// hash stands for a credential hash: the store keeps what it is given.
func hash(s string) []byte { return bytes.Repeat([]byte(s), 32/len(s)+1)[:32] }

func testProviders(t *testing.T, open Opener) {
	db := open(t)
	p := &takedown.Provider{Code: "telegram", Name: "Telegram", Platforms: []takedown.Platform{takedown.PlatformTelegram, takedown.PlatformTelegram}}
	if err := db.CreateProvider(ctx, p); err != nil {
		t.Fatal(err)
	}
	if p.ID == 0 || p.CreatedAt.IsZero() || len(p.Platforms) != 1 {
		t.Errorf("CreateProvider did not set ID and CreatedAt or normalise platforms: %+v", p)
	}
	wantCode(t, db.CreateProvider(ctx, &takedown.Provider{Code: "telegram", Name: "Again"}), takedown.ECONFLICT)
	wantCode(t, db.CreateProvider(ctx, &takedown.Provider{Code: "x", Name: "X", Platforms: []takedown.Platform{"myspace"}}), takedown.EINVALID)
	if err := db.CreateProvider(ctx, &takedown.Provider{Code: "hoster", Name: "A web host"}); err != nil {
		t.Fatal(err)
	}
	got, err := db.FindProvider(ctx, "telegram")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(p, got); diff != "" {
		t.Errorf("FindProvider mismatch (-want +got):\n%s", diff)
	}
	_, err = db.FindProvider(ctx, "nobody")
	wantCode(t, err, takedown.ENOTFOUND)
	all, err := db.ListProviders(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 2 || all[0].Code != "hoster" || len(all[0].Platforms) != 0 || all[0].Platforms == nil {
		t.Errorf("ListProviders: %+v", all)
	}
}

func testUsers(t *testing.T, open Opener) {
	b := setup(t, open)
	db := b.db
	if err := db.CreateProvider(ctx, &takedown.Provider{Code: "telegram", Name: "Telegram"}); err != nil {
		t.Fatal(err)
	}
	alice := &takedown.User{Name: "alice", DisplayName: "Alice", Email: "alice@unit-a.example", Agency: "aa-iru", Roles: []takedown.Role{takedown.RoleAnalyst, takedown.RoleCoordinator, takedown.RoleAnalyst}}
	if err := db.CreateUser(ctx, alice, "argon2id$hash-of-alice"); err != nil {
		t.Fatal(err)
	}
	if alice.ID == 0 || alice.AgencyID != b.a.ID || !alice.HasPassword || len(alice.Roles) != 2 {
		t.Errorf("CreateUser did not set ID, agency, password flag or normalise roles: %+v", alice)
	}
	liaison := &takedown.User{Name: "tg-liaison", Provider: "telegram", Roles: []takedown.Role{takedown.RoleProvider}}
	if err := db.CreateUser(ctx, liaison, ""); err != nil {
		t.Fatal(err)
	}
	for name, u := range map[string]*takedown.User{
		"taken":             {Name: "alice", Agency: "aa-iru", Roles: []takedown.Role{takedown.RoleAnalyst}},
		"unknown agency":    {Name: "bob", Agency: "nobody", Roles: []takedown.Role{takedown.RoleAnalyst}},
		"unknown provider":  {Name: "bob", Provider: "nobody", Roles: []takedown.Role{takedown.RoleProvider}},
		"no role":           {Name: "bob", Agency: "aa-iru"},
		"analyst alone":     {Name: "bob", Roles: []takedown.Role{takedown.RoleAnalyst}},
		"provider + agency": {Name: "bob", Agency: "aa-iru", Provider: "telegram", Roles: []takedown.Role{takedown.RoleProvider}},
		"provider + admin":  {Name: "bob", Provider: "telegram", Roles: []takedown.Role{takedown.RoleProvider, takedown.RoleAdmin}},
	} {
		err := db.CreateUser(ctx, u, "")
		want := takedown.EINVALID
		if name == "taken" {
			want = takedown.ECONFLICT
		}
		if takedown.ErrorCode(err) != want {
			t.Errorf("%s: CreateUser error %v, want %s", name, err, want)
		}
	}
	got, err := db.FindUser(ctx, "alice")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(alice, got); diff != "" {
		t.Errorf("FindUser mismatch (-want +got):\n%s", diff)
	}
	u, h, err := db.PasswordHash(ctx, "alice")
	if err != nil || h != "argon2id$hash-of-alice" || u.Name != "alice" {
		t.Errorf("PasswordHash: %v %q %v", u, h, err)
	}
	_, err = db.FindUser(ctx, "nobody")
	wantCode(t, err, takedown.ENOTFOUND)

	disabled, roles, subject, newHash := true, []takedown.Role{takedown.RoleAuditor}, "https://idp.example#alice", "argon2id$new"
	upd, err := db.UpdateUser(ctx, "alice", takedown.UserUpdate{Disabled: &disabled, Roles: &roles, OIDCSubject: &subject, PasswordHash: &newHash})
	if err != nil {
		t.Fatal(err)
	}
	if !upd.Disabled || !upd.Has(takedown.RoleAuditor) || upd.Has(takedown.RoleAnalyst) {
		t.Errorf("UpdateUser: %+v", upd)
	}
	if _, h, _ := db.PasswordHash(ctx, "alice"); h != newHash {
		t.Errorf("password hash after update: %q", h)
	}
	byOIDC, err := db.FindUserByOIDC(ctx, subject)
	if err != nil || byOIDC.Name != "alice" {
		t.Errorf("FindUserByOIDC: %v %v", byOIDC, err)
	}
	_, err = db.FindUserByOIDC(ctx, "https://idp.example#nobody")
	wantCode(t, err, takedown.ENOTFOUND)
	_, err = db.UpdateUser(ctx, "tg-liaison", takedown.UserUpdate{OIDCSubject: &subject})
	wantCode(t, err, takedown.ECONFLICT)
	bad := []takedown.Role{takedown.RoleAnalyst}
	_, err = db.UpdateUser(ctx, "tg-liaison", takedown.UserUpdate{Roles: &bad})
	wantCode(t, err, takedown.EINVALID)
	_, err = db.UpdateUser(ctx, "nobody", takedown.UserUpdate{Disabled: &disabled})
	wantCode(t, err, takedown.ENOTFOUND)
	users, err := db.ListUsers(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(users) != 2 || users[0].Name != "alice" || users[1].Provider != "telegram" || users[1].HasPassword {
		t.Errorf("ListUsers: %+v", users)
	}
}

func testTokens(t *testing.T, open Opener) {
	b := setup(t, open)
	db := b.db
	u := &takedown.User{Name: "svc", Agency: "aa-iru", Roles: []takedown.Role{takedown.RoleAnalyst}}
	if err := db.CreateUser(ctx, u, ""); err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC().Truncate(time.Microsecond)
	tok := &takedown.Token{User: "svc", Name: "importer", Prefix: "tdk_abcd", Scopes: []takedown.Scope{takedown.ScopeWrite}, ExpiresAt: now.Add(time.Hour)}
	if err := db.CreateToken(ctx, tok, hash("secret-1")); err != nil {
		t.Fatal(err)
	}
	if tok.ID == 0 || tok.CreatedAt.IsZero() || tok.UserID != u.ID {
		t.Errorf("CreateToken did not set ID, CreatedAt or user: %+v", tok)
	}
	wantCode(t, db.CreateToken(ctx, &takedown.Token{User: "nobody", Scopes: []takedown.Scope{takedown.ScopeRead}, ExpiresAt: now.Add(time.Hour)}, hash("secret-2")), takedown.ENOTFOUND)
	wantCode(t, db.CreateToken(ctx, &takedown.Token{User: "svc", Scopes: []takedown.Scope{takedown.ScopeRead}, ExpiresAt: now.Add(-time.Hour)}, hash("secret-3")), takedown.EINVALID)
	expiring := &takedown.Token{User: "svc", Prefix: "tdk_efgh", Scopes: []takedown.Scope{takedown.ScopeRead}, ExpiresAt: now.Add(time.Minute)}
	if err := db.CreateToken(ctx, expiring, hash("secret-4")); err != nil {
		t.Fatal(err)
	}

	gotTok, gotUser, err := db.TokenBySecret(ctx, hash("secret-1"), now.Add(time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if gotTok.ID != tok.ID || gotUser.Name != "svc" || gotUser.Agency != "aa-iru" {
		t.Errorf("TokenBySecret: %+v %+v", gotTok, gotUser)
	}
	if again, _ := db.FindToken(ctx, tok.ID); again.LastUsedAt == nil {
		t.Error("the token's use was not recorded")
	}
	_, _, err = db.TokenBySecret(ctx, hash("unknown"), now)
	wantCode(t, err, takedown.EUNAUTHORIZED)
	_, _, err = db.TokenBySecret(ctx, hash("secret-4"), now.Add(2*time.Minute))
	wantCode(t, err, takedown.EUNAUTHORIZED)

	list, err := db.ListTokens(ctx, "svc")
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 || list[0].ID != expiring.ID {
		t.Errorf("ListTokens not newest first: %+v", list)
	}
	for range 2 { // revoking twice is fine
		r, err := db.RevokeToken(ctx, tok.ID)
		if err != nil || r.RevokedAt == nil {
			t.Fatalf("RevokeToken: %+v %v", r, err)
		}
	}
	_, _, err = db.TokenBySecret(ctx, hash("secret-1"), now.Add(time.Second))
	wantCode(t, err, takedown.EUNAUTHORIZED)
	_, err = db.RevokeToken(ctx, 999999)
	wantCode(t, err, takedown.ENOTFOUND)

	// A disabled user's tokens stop working.
	other := &takedown.Token{User: "svc", Prefix: "tdk_ijkl", Scopes: []takedown.Scope{takedown.ScopeRead}, ExpiresAt: now.Add(time.Hour)}
	if err := db.CreateToken(ctx, other, hash("secret-5")); err != nil {
		t.Fatal(err)
	}
	off := true
	if _, err := db.UpdateUser(ctx, "svc", takedown.UserUpdate{Disabled: &off}); err != nil {
		t.Fatal(err)
	}
	_, _, err = db.TokenBySecret(ctx, hash("secret-5"), now)
	wantCode(t, err, takedown.EUNAUTHORIZED)
}

func testSessions(t *testing.T, open Opener) {
	b := setup(t, open)
	db := b.db
	u := &takedown.User{Name: "carol", Agency: "bb-iru", Roles: []takedown.Role{takedown.RoleCoordinator}}
	if err := db.CreateUser(ctx, u, "h"); err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC().Truncate(time.Microsecond)
	s := &takedown.Session{UserID: u.ID, CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(12 * time.Hour), Address: "127.0.0.1", UserAgent: "test", Via: "password"}
	if err := db.CreateSession(ctx, s, hash("session-1")); err != nil {
		t.Fatal(err)
	}
	idle := 30 * time.Minute
	got, gotUser, err := db.SessionByID(ctx, hash("session-1"), now.Add(20*time.Minute), idle)
	if err != nil || got.ID != s.ID || gotUser.Name != "carol" {
		t.Fatalf("SessionByID: %+v %+v %v", got, gotUser, err)
	}
	// Activity at +20 min keeps it alive until +50 min.
	if _, _, err := db.SessionByID(ctx, hash("session-1"), now.Add(45*time.Minute), idle); err != nil {
		t.Errorf("a session used 25 min ago ended: %v", err)
	}
	_, _, err = db.SessionByID(ctx, hash("session-1"), now.Add(2*time.Hour), idle)
	wantCode(t, err, takedown.EUNAUTHORIZED)

	// The absolute expiry ends even a busy session.
	busy := &takedown.Session{UserID: u.ID, CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(time.Hour)}
	if err := db.CreateSession(ctx, busy, hash("session-2")); err != nil {
		t.Fatal(err)
	}
	for m := 10; m <= 50; m += 10 {
		if _, _, err := db.SessionByID(ctx, hash("session-2"), now.Add(time.Duration(m)*time.Minute), idle); err != nil {
			t.Fatalf("busy session at +%d min: %v", m, err)
		}
	}
	_, _, err = db.SessionByID(ctx, hash("session-2"), now.Add(61*time.Minute), idle)
	wantCode(t, err, takedown.EUNAUTHORIZED)

	third := &takedown.Session{UserID: u.ID, CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(time.Hour)}
	if err := db.CreateSession(ctx, third, hash("session-3")); err != nil {
		t.Fatal(err)
	}
	if err := db.EndSession(ctx, hash("session-3")); err != nil {
		t.Fatal(err)
	}
	_, _, err = db.SessionByID(ctx, hash("session-3"), now, idle)
	wantCode(t, err, takedown.EUNAUTHORIZED)
	if err := db.EndSession(ctx, hash("never")); err != nil {
		t.Errorf("ending an unknown session: %v", err)
	}
	_, _, err = db.SessionByID(ctx, hash("never"), now, idle)
	wantCode(t, err, takedown.EUNAUTHORIZED)
}

func testLogins(t *testing.T, open Opener) {
	db := open(t)
	now := time.Now().UTC().Truncate(time.Microsecond)
	for i, a := range []takedown.LoginAttempt{
		{Account: "alice", Address: "10.0.0.1", At: now.Add(-2 * time.Hour), Reason: "wrong password"},
		{Account: "alice", Address: "10.0.0.1", At: now.Add(-5 * time.Minute), Reason: "wrong password"},
		{Account: "alice", Address: "10.0.0.2", At: now.Add(-4 * time.Minute), Reason: "wrong password"},
		{Account: "bob", Address: "10.0.0.1", At: now.Add(-3 * time.Minute), Reason: "no such user"},
	} {
		if err := db.RecordLogin(ctx, a); err != nil {
			t.Fatalf("attempt %d: %v", i, err)
		}
	}
	byAccount, byAddress, err := db.FailedLogins(ctx, "alice", "10.0.0.1", now.Add(-15*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if byAccount != 2 || byAddress != 2 {
		t.Errorf("failed logins in 15 min: %d for alice, %d from 10.0.0.1; want 2 and 2", byAccount, byAddress)
	}
	// A success forgives the account's earlier failures, not the
	// address's.
	if err := db.RecordLogin(ctx, takedown.LoginAttempt{Account: "alice", Address: "10.0.0.1", At: now.Add(-time.Minute), OK: true}); err != nil {
		t.Fatal(err)
	}
	byAccount, byAddress, _ = db.FailedLogins(ctx, "alice", "10.0.0.1", now.Add(-15*time.Minute))
	if byAccount != 0 || byAddress != 2 {
		t.Errorf("after a success: %d failures for alice, %d from 10.0.0.1; want 0 and 2", byAccount, byAddress)
	}
	evs, err := db.ListAudit(ctx, takedown.AuditFilter{})
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, e := range evs {
		actions = append(actions, e.Action)
	}
	want := []string{"login.fail", "login.fail", "login.fail", "login.fail", "login.ok"}
	if diff := cmp.Diff(want, actions, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("audit events of logins mismatch (-want +got):\n%s", diff)
	}
}

// testSharedSubmissions: whether a submission is shared is stored and read
// back, and sharing is no part of what makes two submissions the same.
func testSharedSubmissions(t *testing.T, open Opener) {
	b := setup(t, open)
	s := b.sub(b.a, "shared_one", "visible to all")
	s.Submission.Shared = true
	res := b.submit(t, s, b.sub(b.b, "shared_one", "private to B"))
	it, err := b.db.FindItem(ctx, res[0].ItemID)
	if err != nil {
		t.Fatal(err)
	}
	if len(it.Submissions) != 2 || !it.Submissions[0].Shared || it.Submissions[1].Shared {
		t.Errorf("shared flags not kept: %+v %+v", it.Submissions[0], it.Submissions[1])
	}
	again := b.sub(b.a, "shared_one", "visible to all")
	if r := b.submit(t, again); r[0].Outcome != takedown.SubmitDuplicate {
		t.Errorf("the same submission unshared is %s, want a duplicate", r[0].Outcome)
	}
}
