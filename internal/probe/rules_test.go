package probe

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/takedown-project/takedown"
	"github.com/takedown-project/takedown/internal/outbound"
)

func mustRules(t testing.TB, src string) *Rules {
	t.Helper()
	rs, err := LoadRules([]byte(src))
	if err != nil {
		t.Fatalf("LoadRules: %v", takedown.ErrorMessage(err))
	}
	return rs
}

// page200 is an HTML answer.
func page200(url, body string) *Response {
	return &Response{Status: 200, URL: url, FinalURL: url, Header: http.Header{"Content-Type": {"text/html; charset=utf-8"}}, Body: []byte(body)}
}

func TestDefaultRules(t *testing.T) {
	t.Parallel()
	rs := DefaultRules()
	if rs != DefaultRules() {
		t.Error("DefaultRules compiles the rules again on each call")
	}
	for _, p := range takedown.Platforms {
		names := rs.RuleNames(p)
		def := rs.RuleNames("no-such-platform")
		if len(names) < len(def) || !slices.Equal(names[len(names)-len(def):], def) {
			t.Errorf("%s: the default rules do not close its chain", p)
		}
		for _, n := range names[:len(names)-len(def)] {
			if !strings.HasPrefix(n, string(p)+"/") {
				t.Errorf("%s: rule %q is not named after its platform", p, n)
			}
		}
	}
	for _, section := range slices.Collect(mapKeys(rs.sections)) {
		for _, r := range rs.sections[section] {
			if !strings.HasPrefix(r.name, section+"/") {
				t.Errorf("rule %q of %s is not named after its section", r.name, section)
			}
		}
	}
	// The no-answer rules come first among the default ones, and the
	// chain ends in a rule that takes any status.
	def := rs.RuleNames("")
	if def[0] != "default/guard" || def[len(def)-1] != "default/unexplained" {
		t.Errorf("default rules: %v", def)
	}
}

func mapKeys[K comparable, V any](m map[K]V) func(func(K) bool) {
	return func(yield func(K) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

func TestLoadRulesErrors(t *testing.T) {
	t.Parallel()
	rule := func(section, body string) string {
		return section + ":\n  - name: t/r\n" + body
	}
	ok := "    match: {status: [200]}\n    verdict: online\n    reason: present\n"
	tests := []struct {
		name, src string
		want      []string // in the one error message, all of them
	}{
		{"empty", "", []string{"empty"}},
		{"not yaml", "telegram: [", []string{"classification rules: yaml"}},
		{"not a mapping", "- a\n- b\n", []string{"want a mapping of platforms"}},
		{"unknown platform", rule("myspace", ok), []string{`unknown platform "myspace"`, "telegram, x, facebook"}},
		{"section not a list", "telegram: {name: a}\n", []string{"telegram: want a list of rules"}},
		{"section twice", rule("x", ok) + "x:\n  - name: t/s\n" + ok, []string{"platform x appears twice"}},
		{"rule not a mapping", "web:\n  - just a string\n", []string{"web rule 1 (line 2): want a mapping"}},
		{"no name", "web:\n  - match: {status: [200]}\n    verdict: online\n    reason: present\n", []string{`rule "#1" (web, line 2): the rule has no name`}},
		{"bad regex", rule("telegram", "    match: {body_regex: '(unclosed'}\n    verdict: offline\n    reason: removed\n"),
			[]string{`rule "t/r" (telegram, line 2): body_regex: error parsing regexp`}},
		{"bad url regex", rule("x", "    match: {redirect: '[z-a]'}\n    verdict: unknown\n    reason: login_wall\n"), []string{`rule "t/r" (x, line 2): redirect:`}},
		{"unknown verdict", rule("web", "    match: {status: [200]}\n    verdict: gone\n    reason: removed\n"), []string{`rule "t/r"`, `unknown verdict "gone"`}},
		{"unknown reason", rule("web", "    match: {status: [200]}\n    verdict: offline\n    reason: vanished\n"), []string{`rule "t/r"`, `unknown reason "vanished"`, "removed, suspended, not_found, withheld"}},
		{"reason of another verdict", rule("web", "    match: {status: [200]}\n    verdict: online\n    reason: removed\n"), []string{`rule "t/r"`, `reason "removed" does not go with verdict online`}},
		{"no conditions", rule("web", "    verdict: online\n    reason: present\n"), []string{`rule "t/r" (web, line 2): the rule has no conditions`}},
		{"only ignore_case", rule("web", "    match: {ignore_case: true}\n    verdict: online\n    reason: present\n"), []string{"no conditions"}},
		{"unknown field", rule("web", ok+"    verdic: online\n"), []string{`rule "t/r"`, "unknown field verdic"}},
		{"unknown match field", rule("web", "    match: {status: [200], bodi: [x]}\n    verdict: online\n    reason: present\n"), []string{`rule "t/r"`, "unknown field match.bodi"}},
		{"unknown kind", rule("web", "    kinds: [channel, tweet]\n"+ok), []string{`rule "t/r"`, `unknown kind "tweet"`}},
		{"bad status", rule("web", "    match: {status: [200, 2x, 600-500, 99, abc]}\n    verdict: online\n    reason: present\n"),
			[]string{`status: "2x"`, `status: "600-500"`, `status: "99"`, `status: "abc"`}},
		{"unknown error kind", rule("web", "    match: {error: [timeout, hiccup]}\n    verdict: unknown\n    reason: network\n"), []string{`rule "t/r"`, `unknown kind "hiccup"`}},
		{"error with status", rule("web", "    match: {error: [any], status: [200]}\n    verdict: unknown\n    reason: network\n"), []string{`rule "t/r"`, "only url goes with it"}},
		{"empty text", rule("web", "    match: {body: ['']}\n    verdict: online\n    reason: present\n"), []string{"body: an empty text matches everything"}},
		{"bad header", rule("web", "    match: {header: {'Bad Header': x}}\n    verdict: online\n    reason: present\n"), []string{`header: "Bad Header" is not a header name`}},
		{"bad header regex", rule("web", "    match: {header: {Server: '('}}\n    verdict: online\n    reason: present\n"), []string{"header Server:"}},
		{"name twice", "web:\n  - name: a\n" + ok + "x:\n  - name: a\n" + ok, []string{`rule "a" (x, line 7): the name is used by the rule on line 2 too`}},
		{"disabled with more", rule("web", "    disable: true\n    verdict: online\n"), []string{"a disabled rule has a name and nothing else"}},
		{"wrong type", rule("web", "    match: {status: 200}\n    verdict: online\n    reason: present\n"), []string{`rule "t/r"`, "cannot unmarshal"}},
		{"all at once", "web:\n  - name: a\n    match: {body_regex: '('}\n    verdict: online\n    reason: present\n  - name: b\n    verdict: offline\n    reason: present\n",
			[]string{`rule "a"`, "body_regex", `rule "b"`, "no conditions", `reason "present" does not go with verdict offline`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rs, err := LoadRules([]byte(tt.src))
			if err == nil {
				t.Fatalf("loaded %v, want an error", rs.RuleNames(""))
			}
			if takedown.ErrorCode(err) != takedown.EINVALID {
				t.Errorf("error code %s, want %s", takedown.ErrorCode(err), takedown.EINVALID)
			}
			msg := takedown.ErrorMessage(err)
			for _, w := range tt.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q\nlacks %q", msg, w)
				}
			}
		})
	}
}

func TestRulesOrder(t *testing.T) {
	t.Parallel()
	rs := mustRules(t, `
default:
  - name: d/ok
    match: {status: [2xx]}
    verdict: online
    reason: present
telegram:
  - name: tg/posts
    kinds: [post]
    match: {status: [200]}
    verdict: offline
    reason: removed
  - name: tg/first
    match: {status: [200-204]}
    verdict: unknown
    reason: unexpected
  - name: tg/second
    match: {status: [200]}
    verdict: offline
    reason: not_found
x:
`)
	r := page200("https://t.me/a", "")
	for _, tt := range []struct {
		platform takedown.Platform
		kind     takedown.Kind
		want     string
	}{
		{takedown.PlatformTelegram, takedown.KindPost, "tg/posts"},
		{takedown.PlatformTelegram, takedown.KindChannel, "tg/first"}, // the first that matches, not the most specific
		{takedown.PlatformX, takedown.KindAccount, "d/ok"},            // an empty section: the default rules
		{takedown.PlatformWeb, takedown.KindWebsite, "d/ok"},
		{"myspace", takedown.KindAccount, "d/ok"}, // no section at all
	} {
		if v := rs.Classify(tt.platform, tt.kind, r); v.Rule != tt.want {
			t.Errorf("%s %s: rule %s, want %s", tt.platform, tt.kind, v.Rule, tt.want)
		}
	}
	if v := rs.Classify(takedown.PlatformX, takedown.KindAccount, &Response{Status: 500}); v != (Verdict{takedown.VerdictUnknown, takedown.ReasonUnexpected, NoRule}) {
		t.Errorf("no rule matches: %+v", v)
	}
	if v := rs.Classify(takedown.PlatformX, takedown.KindAccount, nil); v.Rule != NoRule {
		t.Errorf("nil response: %+v", v)
	}
}

// TestConditions checks each condition alone and in company.
func TestConditions(t *testing.T) {
	t.Parallel()
	type probe struct {
		r    *Response
		want bool
	}
	redirectTo := func(loc string) *Response {
		return &Response{Status: 302, URL: "https://a.example/x", FinalURL: "https://a.example/x", Header: http.Header{"Location": {loc}}}
	}
	tests := []struct {
		name, match string
		kinds       string
		probes      []probe
	}{
		{"status code, class, range", "status: [204, 3xx, 450-452]", "", []probe{
			{&Response{Status: 204}, true}, {&Response{Status: 200}, false}, {&Response{Status: 307}, true},
			{&Response{Status: 451}, true}, {&Response{Status: 453}, false},
		}},
		{"an answer is not an error", "status: [1xx, 2xx, 3xx, 4xx, 5xx, 6xx, 7xx, 8xx, 9xx]", "", []probe{
			{&Response{Err: errors.New("boom")}, false}, {&Response{Status: 200, Guarded: true}, false},
		}},
		{"header present", "header: {Retry-After: ''}", "", []probe{
			{&Response{Status: 429, Header: http.Header{"Retry-After": {"5"}}}, true}, {&Response{Status: 429, Header: http.Header{}}, false},
		}},
		{"header regex, any value, name in any case", "header: {x-robots-tag: '^noindex$'}", "", []probe{
			{&Response{Status: 200, Header: http.Header{"X-Robots-Tag": {"all", "noindex"}}}, true},
			{&Response{Status: 200, Header: http.Header{"X-Robots-Tag": {"noindex, nofollow"}}}, false},
		}},
		{"url", "url: '^https://t\\.me/s/'", "", []probe{
			{&Response{Status: 200, URL: "https://t.me/s/a"}, true}, {&Response{Status: 200, URL: "https://t.me/a"}, false},
		}},
		{"final url, or the url without redirects", "final_url: '/gone$'", "", []probe{
			{&Response{Status: 200, URL: "https://a.example/x", FinalURL: "https://a.example/gone"}, true},
			{&Response{Status: 200, URL: "https://a.example/gone"}, true},
			{&Response{Status: 200, URL: "https://a.example/x", FinalURL: "https://a.example/x"}, false},
		}},
		{"redirect: any hop, relative or absolute, a final 3xx, the final URL", "redirect: '^(?:https://a\\.example)?/login'", "", []probe{
			{&Response{Status: 200, URL: "https://a.example/x", Redirects: []string{"https://a.example/y", "/login?next=x"}}, true},
			{&Response{Status: 200, URL: "https://a.example/x", Redirects: []string{"https://a.example/login"}}, true},
			{redirectTo("/login?next=%2Fx"), true},
			{redirectTo("/elsewhere"), false},
			{&Response{Status: 200, URL: "https://a.example/x", FinalURL: "https://a.example/login"}, true},
			{&Response{Status: 200, URL: "https://a.example/login", FinalURL: "https://a.example/login"}, false},
			{&Response{Status: 200, URL: "https://a.example/x", Header: http.Header{"Location": {"/login"}}}, false}, // a Location on a 200 is no redirect
		}},
		{"title, entities decoded", "title: '^Account Suspended$'", "", []probe{
			{page200("", "<html><head><TITLE lang=en>\n Account&#32;Suspended </TITLE></head>"), true},
			{page200("", "<html><head><title>Welcome</title></head><body>Account Suspended</body>"), false},
			{page200("", "<html><titles>Account Suspended</titles>"), false},
			{page200("", "<title>Account Suspended"), true},
		}},
		{"body: any of", "body: [alpha, beta]", "", []probe{
			{page200("", "xx beta xx"), true}, {page200("", "gamma"), false}, {page200("", "ALPHA"), false},
		}},
		{"body ignoring case", "body: [Alpha]\n      ignore_case: true", "", []probe{
			{page200("", "xx ALPHA xx"), true}, {page200("", "alpha"), true}, {page200("", "alp ha"), false},
		}},
		{"body lacks", "body: [title]\n      body_lacks: [extra, more]", "", []probe{
			{page200("", "title"), true}, {page200("", "title extra"), false}, {page200("", "title more"), false},
		}},
		{"body regex, ignoring case", "body_regex: 'doesn.{1,6}t exist'\n      ignore_case: true", "", []probe{
			{page200("", "This account DOESN’T exist"), true}, {page200("", "doesn&#39;t exist"), true}, {page200("", "does not exist"), false},
		}},
		{"all conditions hold", "status: [200]\n      body: [a]\n      body_regex: 'b'", "", []probe{
			{page200("", "ab"), true}, {page200("", "a"), false}, {page200("", "b"), false}, {&Response{Status: 404, Body: []byte("ab")}, false},
		}},
		{"kinds", "status: [200]", "[post, file]", []probe{
			{page200("", ""), true}, // the kind of this table's probes is post
		}},
		{"no answer of some kinds", "error: [timeout, refused]", "", []probe{
			{&Response{Err: context.DeadlineExceeded}, true}, {&Response{Err: io.EOF}, false}, {&Response{Status: 200}, false},
			{&Response{Err: errors.New("x"), Guarded: true}, false},
		}},
		{"no answer at all, for some URLs", "error: [any]\n      url: 'example'", "", []probe{
			{&Response{URL: "https://a.example/", Err: io.EOF}, true}, {&Response{URL: "https://a.test/", Err: io.EOF}, false},
			{&Response{URL: "https://a.example/", Guarded: true}, true}, {&Response{URL: "https://a.example/"}, true},
		}},
		{"guard", "error: [guard]", "", []probe{
			{&Response{Guarded: true, Err: errors.New("refused")}, true},
			{&Response{Status: 302, Guarded: true}, true}, // refused on the way: no answer, whatever came before
			{&Response{Err: fmt.Errorf("dial: %w", outbound.ErrNoRoute)}, true},
			{&Response{Err: io.EOF}, false},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			kinds := ""
			if tt.kinds != "" {
				kinds = "    kinds: " + tt.kinds + "\n"
			}
			rs := mustRules(t, "web:\n  - name: r\n"+kinds+"    match:\n      "+tt.match+"\n    verdict: unknown\n    reason: unexpected\n")
			for i, p := range tt.probes {
				if p.r.Header == nil {
					p.r.Header = http.Header{}
				}
				got := rs.Classify(takedown.PlatformWeb, takedown.KindPost, p.r).Rule == "r"
				if got != p.want {
					t.Errorf("probe %d (status %d, %q): matched %v, want %v", i, p.r.Status, p.r.Body, got, p.want)
				}
			}
		})
	}
	// A rule for other kinds does not match.
	rs := mustRules(t, "web:\n  - name: r\n    kinds: [file]\n    match: {status: [200]}\n    verdict: online\n    reason: present\n")
	if v := rs.Classify(takedown.PlatformWeb, takedown.KindWebsite, page200("", "")); v.Rule == "r" {
		t.Error("a rule for files matched a website")
	}
}

func TestMerge(t *testing.T) {
	t.Parallel()
	base := mustRules(t, `
telegram:
  - {name: tg/a, match: {body: [a]}, verdict: online, reason: present}
  - {name: tg/b, match: {body: [b]}, verdict: offline, reason: removed}
  - {name: tg/c, match: {body: [c]}, verdict: offline, reason: not_found}
default:
  - {name: d/any, match: {status: [2xx]}, verdict: online, reason: present}
`)
	over := mustRules(t, `
telegram:
  - {name: tg/new, match: {body: [new]}, verdict: unknown, reason: login_wall}
  - {name: tg/b, match: {body: [b]}, verdict: offline, reason: suspended}
  - {name: tg/c, disable: true}
x:
  - {name: x/only, match: {status: [200]}, verdict: unknown, reason: unexpected}
default:
  - {name: d/new, match: {body: [a]}, verdict: unknown, reason: challenge}
`)
	m := Merge(base, over)
	if got, want := m.RuleNames(takedown.PlatformTelegram), []string{"tg/new", "tg/b", "tg/a", "d/new", "d/any"}; !slices.Equal(got, want) {
		t.Errorf("telegram after the merge: %v, want %v", got, want)
	}
	if got, want := m.RuleNames(takedown.PlatformX), []string{"x/only", "d/new", "d/any"}; !slices.Equal(got, want) {
		t.Errorf("x after the merge: %v, want %v", got, want)
	}
	tg := takedown.PlatformTelegram
	for _, tt := range []struct {
		body   string
		rule   string
		reason string
	}{
		{"b", "tg/b", takedown.ReasonSuspended}, // replaced by the override's rule of that name
		{"c", "d/any", takedown.ReasonPresent},  // disabled: the next rule that matches
		{"a new", "tg/new", takedown.ReasonLoginWall},
		{"a", "tg/a", takedown.ReasonPresent}, // platform rules before default ones, override or not
	} {
		if v := m.Classify(tg, takedown.KindChannel, page200("", tt.body)); v.Rule != tt.rule || v.Reason != tt.reason {
			t.Errorf("body %q: %s %s, want %s %s", tt.body, v.Rule, v.Reason, tt.rule, tt.reason)
		}
	}
	// The arguments do not change.
	if got := base.RuleNames(tg); !slices.Equal(got, []string{"tg/a", "tg/b", "tg/c", "d/any"}) {
		t.Errorf("base changed: %v", got)
	}
	if v := base.Classify(tg, takedown.KindChannel, page200("", "b")); v.Reason != takedown.ReasonRemoved {
		t.Errorf("base classifies b as %s", v.Reason)
	}
	if got := over.RuleNames(tg); !slices.Equal(got, []string{"tg/new", "tg/b", "d/new"}) {
		t.Errorf("override's own chain: %v (a disabled rule is no rule)", got)
	}
	// nil is no rules.
	if got := Merge(nil, base).RuleNames(tg); !slices.Equal(got, base.RuleNames(tg)) {
		t.Errorf("Merge(nil, base): %v", got)
	}
	if got := Merge(base, nil).RuleNames(tg); !slices.Equal(got, base.RuleNames(tg)) {
		t.Errorf("Merge(base, nil): %v", got)
	}
	// Over the defaults: an operator's rule for a platform wins.
	own := mustRules(t, "telegram:\n  - {name: ops/contact-is-present, match: {body: [you can contact]}, verdict: online, reason: present}\n")
	r := page200("https://t.me/a", `<div class="tgme_page_description">If you have Telegram, you can contact @a right away.</div>`)
	if v := DefaultRules().Classify(tg, takedown.KindChannel, r); v.Verdict != takedown.VerdictOffline {
		t.Fatalf("defaults: %+v", v)
	}
	if v := Merge(DefaultRules(), own).Classify(tg, takedown.KindChannel, r); v.Rule != "ops/contact-is-present" {
		t.Errorf("override over the defaults: %+v", v)
	}
}

// TestMarkers classifies answers as the real platforms give them (as far
// as known; the simulator does not imitate all of them), and pages whose
// owners write what notices say.
func TestMarkers(t *testing.T) {
	t.Parallel()
	rs := DefaultRules()
	with := func(r *Response, f func(*Response)) *Response { f(r); return r }
	redirected := func(url string, hops ...string) *Response {
		r := page200(url, "<html><title>x</title></html>")
		r.Redirects, r.FinalURL = hops, hops[len(hops)-1]
		return r
	}
	type want struct {
		verdict takedown.Verdict
		reason  string
	}
	var (
		present   = want{takedown.VerdictOnline, takedown.ReasonPresent}
		notFound  = want{takedown.VerdictOffline, takedown.ReasonNotFound}
		withheld  = want{takedown.VerdictOffline, takedown.ReasonWithheld}
		suspended = want{takedown.VerdictOffline, takedown.ReasonSuspended}
		removed   = want{takedown.VerdictOffline, takedown.ReasonRemoved}
		login     = want{takedown.VerdictUnknown, takedown.ReasonLoginWall}
		challenge = want{takedown.VerdictUnknown, takedown.ReasonChallenge}
		throttled = want{takedown.VerdictUnknown, takedown.ReasonRateLimited}
		unexpect  = want{takedown.VerdictUnknown, takedown.ReasonUnexpected}
		network   = want{takedown.VerdictUnknown, takedown.ReasonNetwork}
	)
	tests := []struct {
		name     string
		platform takedown.Platform
		kind     takedown.Kind
		r        *Response
		want     want
	}{
		// Owners writing notices into their own pages stay online.
		{"telegram channel describing itself as withheld", takedown.PlatformTelegram, takedown.KindChannel,
			page200("https://t.me/a", `<div class="tgme_page_title">A</div><div class="tgme_page_extra">120 subscribers</div><div class="tgme_page_description">This channel can’t be displayed in your region because it violated local laws. New home: t.me/b</div>`), present},
		{"telegram preview with such a message", takedown.PlatformTelegram, takedown.KindChannel,
			page200("https://t.me/s/a", `<div class="tgme_channel_info">A</div><div class="tgme_widget_message" data-post="a/5">This channel can’t be displayed in your region</div>`), present},
		{"telegram post saying so", takedown.PlatformTelegram, takedown.KindPost,
			page200("https://t.me/a/5", `<div class="tgme_widget_message" data-post="a/5"><div class="tgme_widget_message_text">you can contact us: this channel can’t be displayed in your region soon</div></div>`), present},
		{"x post quoting a suspension", takedown.PlatformX, takedown.KindPost,
			page200("https://x.com/a/status/1", `<article data-testid="tweet"><div data-testid="tweetText">Account suspended. This account doesn’t exist. Follow the backup.</div></article>`), present},
		{"youtube description announcing a termination", takedown.PlatformYouTube, takedown.KindPost,
			page200("https://www.youtube.com/watch?v=a", `{"playabilityStatus":{"status":"OK"},"description":"our old channel has been terminated; this video has been removed for violating nothing"}`), present},

		// Telegram as it answers.
		{"telegram post widget: post not found", takedown.PlatformTelegram, takedown.KindPost,
			page200("https://t.me/a/9?embed=1", `<div class="tgme_widget_message_error">Post not found</div>`), notFound},
		{"telegram channel blocked for its terms", takedown.PlatformTelegram, takedown.KindChannel,
			page200("https://t.me/a", `<div class="tgme_page_title">A</div><div class="tgme_page_description">This channel can't be displayed because it violated Telegram's Terms of Service.</div>`), removed},
		{"telegram page redesigned", takedown.PlatformTelegram, takedown.KindChannel,
			page200("https://t.me/a", `<div class="tg_new_layout">A</div>`), unexpect},

		// X.
		{"x app frame without content", takedown.PlatformX, takedown.KindAccount, page200("https://x.com/a", `<div id="react-root"></div>`), unexpect},
		{"x withheld by law", takedown.PlatformX, takedown.KindPost,
			page200("https://x.com/a/status/1", `<span>This Post from @a has been withheld in Germany based on local law(s).</span>`), withheld},
		{"x protected", takedown.PlatformX, takedown.KindAccount, page200("https://x.com/a", `<span>These posts are protected</span>`), login},
		{"x post deleted", takedown.PlatformX, takedown.KindPost, page200("https://x.com/a/status/1", `<span>This Post was deleted by the Post author.</span>`), notFound},

		// YouTube as it answers.
		{"youtube removed, in the player data", takedown.PlatformYouTube, takedown.KindPost,
			page200("https://www.youtube.com/watch?v=a", `{"playabilityStatus":{"status":"ERROR","reason":"Video unavailable","errorScreen":{"subreason":"This video has been removed for violating YouTube's Community Guidelines"}}}`), removed},
		{"youtube private", takedown.PlatformYouTube, takedown.KindPost,
			page200("https://www.youtube.com/watch?v=a", `{"playabilityStatus":{"status":"LOGIN_REQUIRED","reason":"This video is private"}}`), notFound},
		{"youtube bot check", takedown.PlatformYouTube, takedown.KindPost,
			page200("https://www.youtube.com/watch?v=a", `{"playabilityStatus":{"status":"LOGIN_REQUIRED","reason":"Sign in to confirm you’re not a bot"}}`), challenge},
		{"youtube age gate", takedown.PlatformYouTube, takedown.KindPost,
			page200("https://www.youtube.com/watch?v=a", `{"playabilityStatus":{"status":"LOGIN_REQUIRED","reason":"Sign in to confirm your age"}}`), present},
		{"youtube copyright block", takedown.PlatformYouTube, takedown.KindPost,
			page200("https://www.youtube.com/watch?v=a", `{"reason":"Video unavailable","subreason":"This video contains content from X, who has blocked it in your country on copyright grounds"}`), withheld},
		{"youtube consent", takedown.PlatformYouTube, takedown.KindChannel,
			redirected("https://www.youtube.com/@a", "https://consent.youtube.com/m?continue=https%3A%2F%2Fwww.youtube.com%2F%40a"), login},

		// Facebook.
		{"facebook login redirect", takedown.PlatformFacebook, takedown.KindAccount,
			redirected("https://www.facebook.com/a", "https://www.facebook.com/login/?next=https%3A%2F%2Fwww.facebook.com%2Fa"), login},
		{"facebook login.php", takedown.PlatformFacebook, takedown.KindPost,
			redirected("https://www.facebook.com/a/posts/1", "/login.php?next=%2Fa%2Fposts%2F1"), login},
		{"facebook unavailable", takedown.PlatformFacebook, takedown.KindPost,
			page200("https://www.facebook.com/a/posts/1", `<title>Facebook</title><span>This content isn't available right now</span>`), notFound},
		{"facebook page", takedown.PlatformFacebook, takedown.KindAccount,
			page200("https://www.facebook.com/a", `<title>A | Facebook</title><meta property="og:title" content="A"><meta property="og:url" content="https://www.facebook.com/a">`), present},
		{"facebook login form", takedown.PlatformFacebook, takedown.KindAccount,
			page200("https://www.facebook.com/a", `<title>Log into Facebook</title><input type="password">`), login},

		// Instagram.
		{"instagram login redirect", takedown.PlatformInstagram, takedown.KindAccount,
			redirected("https://www.instagram.com/a/", "https://www.instagram.com/accounts/login/?next=%2Fa%2F"), login},
		{"instagram unavailable", takedown.PlatformInstagram, takedown.KindAccount,
			page200("https://www.instagram.com/a/", `<h2>Sorry, this page isn&#39;t available.</h2><p>The link you followed may be broken, or the page may have been removed.</p>`), notFound},
		{"instagram profile", takedown.PlatformInstagram, takedown.KindAccount,
			page200("https://www.instagram.com/a/", `<meta property="og:type" content="profile"><meta property="og:title" content="A">`), present},
		{"instagram private", takedown.PlatformInstagram, takedown.KindAccount,
			page200("https://www.instagram.com/a/", `<meta property="og:type" content="profile"><h2>This account is private</h2>`), login},

		// TikTok.
		{"tiktok account", takedown.PlatformTikTok, takedown.KindAccount,
			page200("https://www.tiktok.com/@a", `{"webapp.user-detail":{"userInfo":{"user":{"uniqueId":"a"}},"statusCode":0}}`), present},
		{"tiktok missing or banned", takedown.PlatformTikTok, takedown.KindAccount,
			page200("https://www.tiktok.com/@a", `{"webapp.user-detail":{"statusCode":10221,"statusMsg":""}}`), notFound},
		{"tiktok private", takedown.PlatformTikTok, takedown.KindAccount,
			page200("https://www.tiktok.com/@a", `{"webapp.user-detail":{"statusCode":10222}}`), login},
		{"tiktok video gone", takedown.PlatformTikTok, takedown.KindPost,
			page200("https://www.tiktok.com/@a/video/1", `<p>Video currently unavailable</p>`), notFound},
		{"tiktok waf", takedown.PlatformTikTok, takedown.KindAccount,
			page200("https://www.tiktok.com/@a", `<script>window.SlardarWAF={}</script>`), challenge},

		// The web at large.
		{"cloudflare managed challenge", takedown.PlatformWeb, takedown.KindWebsite,
			with(page200("https://a.example/", `<title>Just a moment...</title>`), func(r *Response) { r.Status = 403; r.Header.Set("cf-mitigated", "challenge") }), challenge},
		{"challenge answering 200", takedown.PlatformWeb, takedown.KindWebsite, page200("https://a.example/", `<title>Just a moment...</title>`), challenge},
		{"ddos-guard 403", takedown.PlatformWeb, takedown.KindWebsite,
			with(page200("https://a.example/", `<title>DDoS-Guard</title>`), func(r *Response) { r.Status = 403 }), challenge},
		{"a plain 403", takedown.PlatformWeb, takedown.KindWebsite, with(page200("https://a.example/", `Forbidden`), func(r *Response) { r.Status = 403 }), unexpect},
		{"cpanel suspended", takedown.PlatformWeb, takedown.KindWebsite,
			redirected("https://a.example/", "https://a.example/cgi-sys/suspendedpage.cgi"), suspended},
		{"429 on any platform", takedown.PlatformInstagram, takedown.KindAccount,
			with(page200("https://www.instagram.com/a/", ``), func(r *Response) { r.Status = 429 }), throttled},
		{"410", takedown.PlatformWeb, takedown.KindFile, with(page200("https://a.example/f", ``), func(r *Response) { r.Status = 410 }), notFound},
		{"file host gone page", takedown.PlatformWeb, takedown.KindFile, page200("https://a.example/f/1", `<title>File Not Found - Box</title>`), notFound},
		{"website with that title is a website", takedown.PlatformWeb, takedown.KindWebsite, page200("https://a.example/", `<title>File Not Found - Box</title>`), present},
		{"502", takedown.PlatformWeb, takedown.KindWebsite, with(page200("https://a.example/", ``), func(r *Response) { r.Status = 502 }), network},
		{"redirect not followed", takedown.PlatformWeb, takedown.KindWebsite,
			with(page200("https://a.example/", ``), func(r *Response) { r.Status = 301; r.Header.Set("Location", "https://b.example/") }), unexpect},
		{"login wall on a website", takedown.PlatformWeb, takedown.KindWebsite,
			page200("https://a.example/", `<title>Sign in</title><form><input type=password></form>`), login},
		{"an odd status", takedown.PlatformWeb, takedown.KindWebsite, with(page200("https://a.example/", ``), func(r *Response) { r.Status = 999 }), unexpect},
	}
	for _, tt := range tests {
		if v := rs.Classify(tt.platform, tt.kind, tt.r); v.Verdict != tt.want.verdict || v.Reason != tt.want.reason {
			t.Errorf("%s: %s %s by %s, want %s %s", tt.name, v.Verdict, v.Reason, v.Rule, tt.want.verdict, tt.want.reason)
		}
	}
}

func TestErrorKind(t *testing.T) {
	t.Parallel()
	get := func(c *http.Client, url string) error {
		resp, err := c.Get(url)
		if err == nil {
			resp.Body.Close()
			return errors.New("an answer")
		}
		return err
	}
	// A port nothing listens on.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := ln.Addr().String()
	ln.Close()
	// A server whose certificate no one trusts.
	tlsSrv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	tlsSrv.Config.ErrorLog = log.New(io.Discard, "", 0)
	tlsSrv.StartTLS()
	defer tlsSrv.Close()
	// A server that hangs up at once.
	hang, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer hang.Close()
	go func() {
		for {
			c, err := hang.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	// A server that does not answer in time.
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(5 * time.Second):
		}
	}))
	defer slow.Close()
	plain := &http.Client{Timeout: 5 * time.Second}

	for _, tt := range []struct {
		name string
		r    *Response
		want string
	}{
		{"an answer", &Response{Status: 404}, ""},
		{"guarded", &Response{Guarded: true, Err: errors.New("refused by the safety guard")}, ErrKindGuard},
		{"no route in simulator mode", &Response{Err: fmt.Errorf("dial: %w", outbound.ErrNoRoute)}, ErrKindGuard},
		{"refused", &Response{Err: get(plain, "http://"+closed+"/")}, ErrKindRefused},
		{"tls", &Response{Err: get(plain, tlsSrv.URL)}, ErrKindTLS},
		{"tls by its text", &Response{Err: errors.New("remote error: tls: handshake failure")}, ErrKindTLS},
		{"hung up", &Response{Err: get(plain, "http://"+hang.Addr().String()+"/")}, ErrKindReset},
		{"timeout", &Response{Err: get(&http.Client{Timeout: 100 * time.Millisecond}, slow.URL)}, ErrKindTimeout},
		{"deadline", &Response{Err: context.DeadlineExceeded}, ErrKindTimeout},
		{"dns", &Response{Err: &net.DNSError{Err: "no such host", Name: "a.invalid", IsNotFound: true}}, ErrKindDNS},
		{"http2 stream reset", &Response{Err: errors.New("stream error: stream ID 3; INTERNAL_ERROR; received from peer")}, ErrKindReset},
		{"named by the error", &Response{Err: fmt.Errorf("wrapped: %w", pageError{kind: ErrKindRefused, text: "x"})}, ErrKindRefused},
		{"named wrongly", &Response{Err: pageError{kind: "hiccup", text: "x"}}, ErrKindOther},
		{"anything else", &Response{Err: errors.New("something odd")}, ErrKindOther},
		{"no error, no status", &Response{}, ErrKindOther},
	} {
		if got := ErrorKind(tt.r); got != tt.want {
			t.Errorf("%s (%v): %q, want %q", tt.name, tt.r.Err, got, tt.want)
		}
	}
	// Every kind is one the rules know, and the defaults turn each into
	// an unknown verdict.
	for _, k := range errKinds {
		v := DefaultRules().Classify(takedown.PlatformWeb, takedown.KindWebsite, &Response{Err: pageError{kind: k, text: k}})
		want := takedown.ReasonNetwork
		if k == ErrKindGuard {
			want = takedown.ReasonRefused
		}
		if v.Verdict != takedown.VerdictUnknown || v.Reason != want {
			t.Errorf("%s: %+v", k, v)
		}
	}
}

func FuzzLoadRules(f *testing.F) {
	f.Add(defaultRulesYAML)
	f.Add([]byte("web:\n  - {name: a, match: {status: [2xx], body: [x], ignore_case: true}, verdict: online, reason: present}\n"))
	f.Add([]byte("x:\n  - {name: a, match: {error: [any], url: '^https'}, verdict: unknown, reason: network}\n  - {name: b, disable: true}\n"))
	f.Add([]byte("telegram:\n  - name: a\n    match: {header: {Retry-After: ''}, title: '(?i)x', redirect: '/login'}\n    verdict: unknown\n    reason: rate_limited\n"))
	f.Add([]byte("default: [{name: a, match: {status: ['100-999']}, verdict: unknown, reason: unexpected}]"))
	f.Add([]byte("{"))
	f.Add([]byte("*a: &a [*a]"))
	responses := []*Response{
		page200("https://t.me/a", "<title>x</title>you can contact"),
		{Status: 302, URL: "https://a.example/", Header: http.Header{"Location": {"/login"}}},
		{Err: io.EOF, URL: "https://a.example/"},
		{Guarded: true},
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		rs, err := LoadRules(b)
		if err != nil {
			if takedown.ErrorCode(err) != takedown.EINVALID || takedown.ErrorMessage(err) == "" {
				t.Fatalf("error without a message: %v", err)
			}
			return
		}
		merged := Merge(DefaultRules(), rs)
		for _, p := range append(takedown.Platforms, "other") {
			for _, r := range responses {
				for _, set := range []*Rules{rs, merged} {
					v := set.Classify(p, takedown.KindPost, r)
					if reasons, ok := reasonsOf[v.Verdict]; !ok || !slices.Contains(reasons, v.Reason) || v.Rule == "" {
						t.Fatalf("verdict %+v", v)
					}
				}
			}
		}
	})
}

func BenchmarkClassify(b *testing.B) {
	rs := DefaultRules()
	recs := readPages(b)
	// A large page of a website, which runs through every default rule.
	big := page200("https://a.example/", "<html><head><title>News of the day</title></head><body>"+strings.Repeat("<p>Lorem ipsum dolor sit amet, consectetur adipiscing elit. Vestibulum.</p>\n", 3000)+"</body></html>")
	b.Run("recorded", func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			p := recs[i%len(recs)]
			rs.Classify(p.platform, p.kind, p.resp)
			i++
		}
	})
	b.Run("website-200KB", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(big.Body)))
		for b.Loop() {
			rs.Classify(takedown.PlatformWeb, takedown.KindWebsite, big)
		}
	})
	b.Run("parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			i := 0
			for pb.Next() {
				p := recs[i%len(recs)]
				rs.Classify(p.platform, p.kind, p.resp)
				i++
			}
		})
	})
}
