package main

import (
	"context"
	"database/sql"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	_ "modernc.org/sqlite"
)

// TestSignIn follows the README: an agency, an administrator made on the
// command line, then the browser: sign in, add a user, make a token, sign
// out; with the security headers and the cross-origin protection the UI
// relies on.
func TestSignIn(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	db := filepath.Join(dir, "takedown.db")
	mustRun(t, "--db", db, "agency", "add", "nl-iru", "--name", "Unit NL", "--country", "NL")
	if code, out, errOut := runTakedown(t, "correct horse battery staple\n", "--db", db, "user", "add", "ada", "--roles", "admin,coordinator", "--agency", "nl-iru", "--password-stdin"); code != 0 {
		t.Fatalf("user add: %d %s %s", code, out, errOut)
	}
	if code, _, errOut := runTakedown(t, "short\n", "--db", db, "user", "add", "bob", "--roles", "auditor", "--password-stdin"); code == 0 || !strings.Contains(errOut, "12 characters") {
		t.Errorf("a short password was taken: %s", errOut)
	}
	// Another agency holds a channel nl-iru reported: nl-iru is told.
	mustRun(t, "--db", db, "agency", "add", "be-iru", "--name", "Unit BE")
	mustRun(t, "--db", db, "operation", "create", "rad-1", "--name", "Day", "--agencies", "nl-iru,be-iru")
	mustRun(t, "--db", db, "import", "--operation", "rad-1", "--agency", "nl-iru", "../../examples/agency-a.csv")
	mustRun(t, "--db", db, "hold", "place", "--operation", "rad-1", "--agency", "be-iru", "--handle", "telegram:example_news_relay", "--reason", "investigation", "--note", "be case 9")

	base := serveForTest(t, db)
	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	get := func(path string) (*http.Response, string) {
		t.Helper()
		resp, err := browser.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return resp, string(b)
	}
	post := func(path string, form url.Values) (*http.Response, string) {
		t.Helper()
		req, _ := http.NewRequest("POST", base+path, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", base) // what a browser sends from the page
		resp, err := browser.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return resp, string(b)
	}

	// Signed out, every page leads to the login.
	if resp, _ := get("/users"); resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/login") {
		t.Fatalf("signed out: %s to %q, want a redirect to /login", resp.Status, resp.Header.Get("Location"))
	}
	resp, body := get("/login")
	if resp.StatusCode != 200 || !strings.Contains(body, `name="password"`) {
		t.Fatalf("login page: %s", resp.Status)
	}
	csp := resp.Header.Get("Content-Security-Policy")
	if !strings.Contains(csp, "default-src 'none'") || strings.Contains(csp, "unsafe-inline") || resp.Header.Get("X-Frame-Options") != "DENY" {
		t.Errorf("security headers: CSP %q, X-Frame-Options %q", csp, resp.Header.Get("X-Frame-Options"))
	}
	if strings.Contains(body, "<script") {
		t.Error("the login page has a script")
	}
	resp, body = post("/login", url.Values{"user": {"ada"}, "password": {"wrong password here"}, "next": {"/"}})
	if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(body, "wrong user name or password") {
		t.Errorf("wrong password: %s", resp.Status)
	}
	// A form posted from another site is refused before it is read.
	req, _ := http.NewRequest("POST", base+"/login", strings.NewReader(url.Values{"user": {"ada"}, "password": {"correct horse battery staple"}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", "https://evil.example")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusForbidden {
		t.Errorf("cross-site login post: %v %v, want 403", resp.Status, err)
	}

	resp, _ = post("/login", url.Values{"user": {"ada"}, "password": {"correct horse battery staple"}, "next": {"/users"}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/users" {
		t.Fatalf("login: %s to %q", resp.Status, resp.Header.Get("Location"))
	}
	cookie := resp.Header.Get("Set-Cookie")
	if !strings.Contains(cookie, "HttpOnly") || !strings.Contains(cookie, "SameSite") {
		t.Errorf("session cookie %q lacks HttpOnly or SameSite", cookie)
	}
	resp, body = get("/users")
	if resp.StatusCode != 200 || !strings.Contains(body, "ada") || resp.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("users page: %s", resp.Status)
	}
	resp, body = get("/")
	notice := regexp.MustCompile(`action="/notices/(\d+)/read"`).FindStringSubmatch(body)
	if resp.StatusCode != 200 || !strings.Contains(body, "held for deconfliction") || notice == nil {
		t.Errorf("the home page shows no deconfliction notice: %s", body)
	} else {
		post("/notices/"+notice[1]+"/read", nil)
		if _, after := get("/"); strings.Contains(after, `action="/notices/`+notice[1]+`/read"`) {
			t.Error("a notice marked read still shows")
		}
	}
	// An open redirect after login is not followed.
	resp, _ = post("/login", url.Values{"user": {"ada"}, "password": {"correct horse battery staple"}, "next": {"//evil.example/x"}})
	if loc := resp.Header.Get("Location"); loc != "/" {
		t.Errorf("login with next=//evil.example sends to %q, want /", loc)
	}

	// Add an analyst, make a token for it, and use the token on the API.
	resp, _ = post("/users", url.Values{"name": {"nl-analyst"}, "tenant": {"agency:nl-iru"}, "roles": {"analyst"}, "display_name": {"<b>Analyst</b>"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("add user: %s", resp.Status)
	}
	resp, body = get("/users/nl-analyst")
	if resp.StatusCode != 200 || strings.Contains(body, "<b>Analyst</b>") || !strings.Contains(body, "&lt;b&gt;Analyst&lt;/b&gt;") {
		t.Errorf("the user's page: %s; a display name with HTML must show escaped", resp.Status)
	}
	resp, body = post("/users/nl-analyst/tokens", url.Values{"name": {"script"}, "scope": {"read"}, "days": {"7"}})
	secret := regexp.MustCompile(`tdk_[A-Za-z0-9_-]{43}`).FindString(body)
	if resp.StatusCode != http.StatusCreated || secret == "" {
		t.Fatalf("create token: %s, no secret on the page", resp.Status)
	}
	if _, again := get("/users/nl-analyst"); strings.Contains(again, secret) {
		t.Error("the token's secret shows again on the user's page")
	}
	apiReq, _ := http.NewRequest("GET", base+"/api/v1/me", nil)
	apiReq.Header.Set("Authorization", "Bearer "+secret)
	if resp, err := http.DefaultClient.Do(apiReq); err != nil || resp.StatusCode != 200 {
		t.Errorf("the new token on the API: %v %v", resp.Status, err)
	}

	// Sign out: the session is over.
	resp, _ = post("/logout", nil)
	if resp.StatusCode != http.StatusSeeOther {
		t.Errorf("logout: %s", resp.Status)
	}
	if resp, _ := get("/"); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("after logout, /: %s, want a redirect to the login", resp.Status)
	}
	out := mustRun(t, "--db", db, "audit", "list", "--limit", "1000")
	for _, action := range []string{"login.fail", "login.ok", "user.create", "token.create", "session.end"} {
		if !strings.Contains(out, action) {
			t.Errorf("no %s event in the audit chain", action)
		}
	}
	if out := mustRun(t, "--db", db, "audit", "verify"); !strings.Contains(out, "verified") {
		t.Errorf("audit verify: %s", out)
	}
}

// TestAuditCommands: verify, a signed head, and a chain changed behind
// takedown's back, on the command line.
func TestAuditCommands(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	db := filepath.Join(dir, "takedown.db")
	mustRun(t, "--db", db, "agency", "add", "nl-iru", "--name", "Unit NL")
	mustRun(t, "--db", db, "operation", "create", "rad-1", "--name", "Day", "--agencies", "nl-iru")
	mustRun(t, "--db", db, "import", "--operation", "rad-1", "--agency", "nl-iru", "../../examples/agency-a.csv")
	mustRun(t, "--db", db, "hold", "place", "--operation", "rad-1", "--agency", "nl-iru", "--handle", "telegram:example_news_relay", "--reason", "investigation")
	key := filepath.Join(dir, "audit")
	mustRun(t, "audit", "keygen", "--out", key)
	if code, _, _ := runTakedown(t, "", "audit", "keygen", "--out", key); code == 0 {
		t.Error("keygen overwrote a key")
	}
	head := filepath.Join(dir, "head.json")
	mustRun(t, "--db", db, "audit", "head", "--sign", key+".key", "--out", head)
	mustRun(t, "--db", db, "agency", "add", "be-iru", "--name", "Unit BE") // the chain grows on
	out := mustRun(t, "--db", db, "audit", "verify", "--head", head, "--public-key", key+".pub")
	if !strings.Contains(out, "verified") || !strings.Contains(out, "holds the head") {
		t.Errorf("verify with a signed head: %s", out)
	}
	if out := mustRun(t, "--db", db, "audit", "list", "--subject", "hold:1"); !strings.Contains(out, "hold.place") || !strings.Contains(out, "cli:") {
		t.Errorf("the hold's event, by the command line's user: %s", out)
	}

	// Someone with the file edits an event: verify says where, exit 3.
	tamper(t, db, `UPDATE audit_events SET details = '{"agency":"nobody"}' WHERE action = 'hold.place'`)
	code, out, _ := runTakedown(t, "", "--db", db, "audit", "verify")
	if code != 3 || !strings.Contains(out, "BROKEN") || !strings.Contains(out, "changed") {
		t.Errorf("verify of an edited chain: exit %d, %s", code, out)
	}
}

func tamper(t *testing.T, path, query string) {
	t.Helper()
	raw, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	if _, err := raw.Exec(query); err != nil {
		t.Fatal(err)
	}
}

// serveForTest serves the UI and the API on db, without jobs, on a free
// loopback port until the test ends, and returns its base URL.
func serveForTest(t *testing.T, db string) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	g := &globals{db: db, logLevel: "error", logFormat: "text", stdin: strings.NewReader(""), stdout: io.Discard, stderr: io.Discard}
	g.logger, _ = newLogger(io.Discard, "error", "text")
	ready := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		done <- serve(ctx, g, &serveOptions{listen: "127.0.0.1:0", jobs: false, sessionIdle: time.Hour, sessionMax: time.Hour, ready: func(addr string) { ready <- addr }})
	}()
	// At the end, the server stops and closes the database before the
	// test's folder goes.
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			t.Error("serve did not stop")
		}
	})
	select {
	case addr := <-ready:
		return "http://" + addr
	case err := <-done:
		done <- err // for the cleanup: it has stopped
		t.Fatalf("serve: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not start")
	}
	return ""
}
