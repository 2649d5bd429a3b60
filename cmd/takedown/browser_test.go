package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/takedown-project/takedown"
	"github.com/takedown-project/takedown/internal/sqlite"
)

// The UI in a real browser: Debian's headless Chromium driven with
// chromedp. An analyst signs in, imports a file and sees the figures
// change, opens an item and holds it; a provider's liaison answers a
// referral in the portal. `.ci/run` installs Chromium when it is missing
// and requires the test (TAKEDOWN_TEST_REQUIRE_BROWSER=1); elsewhere it
// is skipped without one. On a failure each step's screenshot is kept in
// TAKEDOWN_TEST_ARTIFACTS (or the test's temporary folder, named in the
// log); TAKEDOWN_TEST_SCREENSHOTS=1 keeps every step's.
func TestBrowser(t *testing.T) {
	chrome := requireChromium(t)
	dir := t.TempDir()
	db := filepath.Join(dir, "takedown.db")
	const pw = "correct horse battery staple"
	mustRun(t, "--db", db, "agency", "add", "nl-iru", "--name", "Unit NL")
	mustRun(t, "--db", db, "operation", "create", "rad-1", "--name", "Browser day", "--agencies", "nl-iru", "--evidence", "off")
	for _, u := range [][]string{{"ana", "--roles", "analyst", "--agency", "nl-iru"}, {"liaison", "--roles", "provider", "--provider", "telegram"}} {
		if code, out, errOut := runTakedown(t, pw+"\n", append([]string{"--db", db, "user", "add", u[0]}, append(u[1:], "--password-stdin")...)...); code != 0 {
			t.Fatalf("user add %s: %s %s", u[0], out, errOut)
		}
	}
	// A referral to Telegram, for the liaison to answer.
	mustRun(t, "--db", db, "import", "--operation", "rad-1", "--agency", "nl-iru", "--progress", "never", "../../examples/agency-a.csv")
	mustRun(t, "--db", db, "refer", "--operation", "rad-1", "--provider", "telegram")
	upload := filepath.Join(dir, "finds.csv")
	if err := os.WriteFile(upload, []byte("url,notes\nhttps://t.me/browser_found_one,seen today\nhttps://t.me/browser_found_two,\nnot a url,\n"), 0o600); err != nil {
		t.Fatal(err)
	}

	base := serveForTest(t, db)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	artifacts := os.Getenv("TAKEDOWN_TEST_ARTIFACTS")
	if artifacts == "" {
		artifacts = filepath.Join(dir, "screenshots")
	}
	b := newBrowser(t, ctx, chrome, base, artifacts)

	// The analyst signs in and finds the operation.
	b.login("ana", pw)
	b.run("operation", chromedp.Navigate(base+"/operations/rad-1?live=0"), chromedp.WaitVisible(`h1`))
	before := b.itemsTotal()

	// Imports a file: the figures change.
	b.run("import page", chromedp.Navigate(base+"/operations/rad-1/import"), chromedp.WaitVisible(`#file`))
	b.accessible("the import page")
	b.run("import", chromedp.WaitVisible(`#file`),
		chromedp.SetUploadFiles(`#file`, []string{upload}), chromedp.Click(`form.stacked button[type=submit]`), chromedp.WaitVisible(`#result`))
	var result string
	b.run("import result", chromedp.Text(`section[aria-labelledby=result]`, &result))
	if !strings.Contains(result, "finds.csv is imported") || !regexp.MustCompile(`New items\s+2`).MatchString(result) || !regexp.MustCompile(`Rejected\s+1`).MatchString(result) {
		b.fail("the import's result: %q", result)
	}
	b.run("operation again", chromedp.Navigate(base+"/operations/rad-1?live=0"), chromedp.WaitVisible(`h1`))
	if after := b.itemsTotal(); after != before+2 {
		b.fail("the operation has %d items after the import, %d before: want 2 more", after, before)
	}
	var svg int
	b.run("charts", chromedp.Evaluate(`document.querySelectorAll('svg.chart[role=img] > title').length`, &svg))
	if svg < 3 {
		b.fail("%d charts with a title on the operation page, want at least 3", svg)
	}
	b.accessible("the operation page")

	// Opens an item from the list and holds it.
	b.run("items", chromedp.Navigate(base+"/operations/rad-1/items?q=browser_found_one"), chromedp.WaitVisible(`main`))
	b.run("open the item", chromedp.Click(`a[href*="/items/"]`), chromedp.WaitVisible(`#holds`))
	var heading string
	b.run("item heading", chromedp.Text(`h1`, &heading))
	if !strings.HasPrefix(heading, "Item ") {
		b.fail("the item page's heading: %q", heading)
	}
	b.accessible("the item page")
	b.run("hold", chromedp.SetValue(`#reason`, "investigation"), chromedp.SendKeys(`#note`, "case 2026/41"),
		chromedp.Click(`section[aria-labelledby=holds] button[type=submit]`), chromedp.WaitVisible(`p.done`))
	var held string
	b.run("held", chromedp.Text(`section[aria-labelledby=holds]`, &held, chromedp.ByQuery))
	if !strings.Contains(held, "Held") || !strings.Contains(held, "case 2026/41") {
		b.fail("after holding, the item page says: %q", held)
	}
	b.logout()

	// The liaison answers the referral in the portal.
	b.login("liaison", pw)
	b.run("portal", chromedp.Navigate(base+"/portal"), chromedp.WaitVisible(`main`))
	b.run("open the referral", chromedp.Click(`main a[href^="/portal/referrals/"]`), chromedp.WaitVisible(`form[action$="/answers"]`))
	b.run("acknowledge", chromedp.Click(`form[action$="/acknowledge"] button`), chromedp.WaitVisible(`p.done`))
	// Afresh, without the acknowledgement's message, so that the next
	// message is the answer's.
	var loc string
	b.run("where", chromedp.Location(&loc))
	b.run("referral again", chromedp.Navigate(strings.SplitN(loc, "?", 2)[0]), chromedp.WaitVisible(`form[action$="/answers"]`))
	b.accessible("the portal's referral page")
	var firstItem string
	b.run("first answer", chromedp.AttributeValue(`form[action$="/answers"] input[name=item]`, "value", &firstItem, nil))
	b.run("answer", chromedp.SetValue(`#outcome-`+firstItem, "removed"), chromedp.Click(`form[action$="/answers"] button[type=submit]`), chromedp.WaitVisible(`p.done`))
	var answered string
	b.run("answered", chromedp.Text(`p.done`, &answered))
	if !strings.Contains(answered, "answers are recorded") {
		b.fail("after answering: %q", answered)
	}
	// The answer is in the store.
	st, err := sqlite.Open(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	id, _ := strconv.ParseInt(firstItem, 10, 64)
	refs, err := st.ListReferrals(context.Background(), takedown.ReferralFilter{ItemID: id})
	if err != nil || len(refs) != 1 || refs[0].Counts[takedown.OutcomeRemoved] != 1 || refs[0].AcknowledgedAt == nil {
		t.Errorf("the referral after the liaison's answer: %+v, %v", refs, err)
	}
}

// The demo opens on the dashboard, and the action day unfolds in it: as
// the simulated providers act and the prober confirms, the page's
// figure of items taken offline rises and its charts draw the removals.
func TestDemoDashboard(t *testing.T) {
	chrome := requireChromium(t)
	dir := t.TempDir()
	addr, token, _ := startDemo(t, dir)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	base := "http://" + addr
	artifacts := os.Getenv("TAKEDOWN_TEST_ARTIFACTS")
	if artifacts == "" {
		artifacts = filepath.Join(dir, "screenshots")
	}
	b := newBrowser(t, ctx, chrome, base, artifacts)
	// The demo's user, by its token (the page takes one as the API does).
	b.run("sign in by token", network.Enable(), network.SetExtraHTTPHeaders(network.Headers{"Authorization": "Bearer " + token}))
	b.run("dashboard", chromedp.Navigate(base+"/operations/rad-2026-11"), chromedp.WaitVisible(`h1`))
	var refresh int
	b.run("live", chromedp.Evaluate(`document.querySelectorAll('meta[http-equiv=refresh]').length`, &refresh))
	if refresh != 1 {
		b.fail("the open operation's dashboard does not reload itself")
	}
	deadline := time.Now().Add(2 * time.Minute)
	for {
		var heading string
		var paths int
		b.run("figures", chromedp.Navigate(base+"/operations/rad-2026-11?live=0"), chromedp.WaitVisible(`#taken`),
			chromedp.Text(`#taken`, &heading),
			chromedp.Evaluate(`document.querySelectorAll('svg.chart path').length`, &paths))
		n, _ := strconv.Atoi(strings.TrimSpace(strings.TrimPrefix(heading, "Taken offline:")))
		if n > 0 && paths >= 2 {
			break
		}
		if time.Now().After(deadline) {
			b.fail("two minutes into the demo the dashboard says %q with %d lines drawn", heading, paths)
		}
		time.Sleep(2 * time.Second)
	}
	b.accessible("the demo's dashboard")
}

// requireChromium returns Chromium's path; without one the test is
// skipped, or fails where the browser tests are required (CI).
func requireChromium(t *testing.T) string {
	t.Helper()
	chrome := findChromium()
	if chrome == "" {
		if os.Getenv("TAKEDOWN_TEST_REQUIRE_BROWSER") != "" {
			t.Fatal("no chromium found, and the browser tests are required (apt-get install chromium)")
		}
		t.Skip("no chromium on this machine (apt-get install chromium)")
	}
	return chrome
}

// findChromium returns Chromium's path, "" if there is none.
func findChromium() string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "headless-shell"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// browser is a headless Chromium session of the test.
type browser struct {
	t         *testing.T
	ctx       context.Context
	base      string
	artifacts string
	step      int
}

func newBrowser(t *testing.T, parent context.Context, chrome, base, artifacts string) *browser {
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(chrome), chromedp.NoSandbox, chromedp.WindowSize(1280, 900),
		chromedp.Flag("disable-dev-shm-usage", true))
	alloc, cancelAlloc := chromedp.NewExecAllocator(parent, opts...)
	ctx, cancel := chromedp.NewContext(alloc)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	// The first Run starts the browser and ties it to its context: on
	// the session's own, not on a step's, whose end would close it.
	if err := chromedp.Run(ctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return &browser{t: t, ctx: ctx, base: base, artifacts: artifacts}
}

// run runs a step's actions within a minute, and fails the test with a
// screenshot of the page if they fail.
func (b *browser) run(step string, actions ...chromedp.Action) {
	b.t.Helper()
	b.step++
	ctx, cancel := context.WithTimeout(b.ctx, time.Minute)
	defer cancel()
	if err := chromedp.Run(ctx, actions...); err != nil {
		b.screenshot(step)
		b.t.Fatalf("step %d (%s): %v", b.step, step, err)
	}
	if os.Getenv("TAKEDOWN_TEST_SCREENSHOTS") != "" {
		b.screenshot(step) // every step's, to look at
	}
}

// fail fails the test with a screenshot of the page as it is.
func (b *browser) fail(format string, args ...any) {
	b.t.Helper()
	b.screenshot("failure")
	b.t.Fatalf(format, args...)
}

func (b *browser) screenshot(step string) {
	var png []byte
	ctx, cancel := context.WithTimeout(b.ctx, 20*time.Second)
	defer cancel()
	if err := chromedp.Run(ctx, chromedp.FullScreenshot(&png, 100)); err != nil {
		b.t.Logf("no screenshot: %v", err)
		return
	}
	if err := os.MkdirAll(b.artifacts, 0o755); err != nil {
		b.t.Logf("no screenshot: %v", err)
		return
	}
	name := filepath.Join(b.artifacts, fmt.Sprintf("%s-%02d-%s.png", b.t.Name(), b.step, strings.ReplaceAll(step, " ", "-")))
	if err := os.WriteFile(name, png, 0o644); err == nil {
		b.t.Logf("screenshot: %s", name)
	}
}

func (b *browser) login(user, password string) {
	b.t.Helper()
	b.run("sign in as "+user, chromedp.Navigate(b.base+"/login"), chromedp.WaitVisible(`#user`),
		chromedp.SendKeys(`#user`, user), chromedp.SendKeys(`#password`, password), chromedp.Submit(`#password`),
		chromedp.WaitVisible(`form.signout`))
}

func (b *browser) logout() {
	b.t.Helper()
	b.run("sign out", chromedp.Click(`form.signout button`), chromedp.WaitVisible(`#user`))
}

// accessible checks what a page must have for keyboard and screen-reader
// users: every form control has a label, and the page a main landmark
// and one h1.
func (b *browser) accessible(what string) {
	b.t.Helper()
	var unlabelled []string
	var mains, h1s int
	b.run("accessibility of "+what,
		chromedp.Evaluate(`[...document.querySelectorAll('input:not([type=hidden]), select, textarea')].filter(e => !(e.labels && e.labels.length) && !e.getAttribute('aria-label')).map(e => e.outerHTML.slice(0, 80))`, &unlabelled),
		chromedp.Evaluate(`document.querySelectorAll('main').length`, &mains),
		chromedp.Evaluate(`document.querySelectorAll('h1').length`, &h1s))
	if len(unlabelled) > 0 || mains != 1 || h1s != 1 {
		b.fail("%s: controls without a label %v, %d main landmarks, %d h1", what, unlabelled, mains, h1s)
	}
}

// itemsTotal reads the operation page's count of all items.
func (b *browser) itemsTotal() int {
	b.t.Helper()
	var text string
	b.run("items total", chromedp.Text(`section[aria-labelledby=taken] table tbody tr:last-child td`, &text))
	n, err := strconv.Atoi(strings.TrimSpace(text))
	if err != nil {
		b.fail("the operation page's total %q: %v", text, err)
	}
	return n
}
