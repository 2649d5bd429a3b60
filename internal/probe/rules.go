package probe

import (
	_ "embed"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unicode"

	"go.yaml.in/yaml/v3"

	"github.com/takedown-project/takedown"
)

// Classification rules are data: a YAML file of rules per platform, tried
// in order, the first that matches giving the verdict, its reason and its
// name. rules.yaml, embedded, holds the defaults and documents the format;
// an operator's file of the same format extends or overrides them
// (Merge).
//
//go:generate go test -run ^TestLivePages$ -update .

//go:embed rules.yaml
var defaultRulesYAML []byte

// DefaultSection names the rules that apply to every platform, after the
// platform's own.
const DefaultSection = "default"

// NoRule is the rule name of a verdict no rule made (unknown, unexpected).
const NoRule = "no-rule"

// Rules is a compiled set of classification rules. It implements
// Classifier, is safe for concurrent use and never changes once made.
type Rules struct {
	// sections holds each section's rules in order, by section name (a
	// platform or DefaultSection).
	sections map[string][]*compiledRule
	// chains are the rules Classify tries for a platform: its section's,
	// then the default section's; def is the default section's alone,
	// for a platform without a section.
	chains map[takedown.Platform][]*compiledRule
	def    []*compiledRule
}

// compiledRule is one rule, its conditions compiled.
type compiledRule struct {
	name    string
	section string
	line    int
	disable bool // only in an override: drops the base rule of its name

	kinds []takedown.Kind // empty: any kind
	// noAnswer says the rule matches probes without an answer (it has
	// an error condition), of one of errKinds (nil: any); otherwise it
	// matches answers only.
	noAnswer bool
	errKinds []string

	status                                 []statusRange
	url, finalURL, redirect, title, bodyRE *regexp.Regexp
	headers                                []headerCond
	body, bodyLacks                        [][]byte // lower case when ignoreCase
	ignoreCase                             bool

	verdict takedown.Verdict
	reason  string
}

type statusRange struct{ lo, hi int }

type headerCond struct {
	name string         // canonical
	re   *regexp.Regexp // nil: present is enough
}

// ruleSpec is a rule as written.
type ruleSpec struct {
	Name    string    `yaml:"name"`
	Kinds   []string  `yaml:"kinds"`
	Match   matchSpec `yaml:"match"`
	Verdict string    `yaml:"verdict"`
	Reason  string    `yaml:"reason"`
	Disable bool      `yaml:"disable"`
	Note    string    `yaml:"note"`
}

type matchSpec struct {
	Status     []string          `yaml:"status"`
	Error      []string          `yaml:"error"`
	URL        string            `yaml:"url"`
	FinalURL   string            `yaml:"final_url"`
	Redirect   string            `yaml:"redirect"`
	Header     map[string]string `yaml:"header"`
	Title      string            `yaml:"title"`
	Body       []string          `yaml:"body"`
	BodyLacks  []string          `yaml:"body_lacks"`
	BodyRegex  string            `yaml:"body_regex"`
	IgnoreCase bool              `yaml:"ignore_case"`
}

var (
	ruleFields  = []string{"name", "kinds", "match", "verdict", "reason", "disable", "note"}
	matchFields = []string{"status", "error", "url", "final_url", "redirect", "header", "title", "body", "body_lacks", "body_regex", "ignore_case"}
)

// Error kinds: why a probe got no answer, as ErrorKind tells and rules
// name them (match.error); "any" in a rule matches them all.
const (
	ErrKindTimeout = "timeout" // no answer in time (connecting, the headers, the body)
	ErrKindRefused = "refused" // the connection was refused
	ErrKindReset   = "reset"   // the connection was reset or closed before the answer was whole
	ErrKindTLS     = "tls"     // the TLS handshake failed (certificate, protocol)
	ErrKindDNS     = "dns"     // the host name did not resolve
	ErrKindGuard   = "guard"   // the safety guard refused an address on the way
	ErrKindOther   = "other"   // anything else
)

var errKinds = []string{ErrKindTimeout, ErrKindRefused, ErrKindReset, ErrKindTLS, ErrKindDNS, ErrKindGuard, ErrKindOther}

// reasonsOf lists the reasons each verdict may give.
var reasonsOf = map[takedown.Verdict][]string{
	takedown.VerdictOnline:  {takedown.ReasonPresent},
	takedown.VerdictOffline: {takedown.ReasonRemoved, takedown.ReasonSuspended, takedown.ReasonNotFound, takedown.ReasonWithheld},
	takedown.VerdictUnknown: {takedown.ReasonNetwork, takedown.ReasonLoginWall, takedown.ReasonRateLimited, takedown.ReasonChallenge, takedown.ReasonUnexpected, takedown.ReasonRefused},
}

// Bounds on a rules file, so that a mistake cannot make classification
// slow or the rule names unfit for the observations that record them.
const (
	maxRules       = 2000
	maxNameLength  = 100
	maxTextLength  = 1000 // a body text, a regex
	maxListLength  = 100  // statuses, texts, headers of one rule
	maxRulesLength = 4 << 20
)

// DefaultRules returns the embedded rules (rules.yaml). It panics if they
// do not load: the tests load them.
func DefaultRules() *Rules { return defaultRules() }

var defaultRules = sync.OnceValue(func() *Rules {
	rs, err := LoadRules(defaultRulesYAML)
	if err != nil {
		panic("probe: the embedded rules.yaml does not load: " + takedown.ErrorMessage(err))
	}
	return rs
})

// LoadRules reads and compiles a rules file (the format is rules.yaml's).
// Every problem is reported at once, each naming its rule (or section)
// and line: an unknown platform, field, kind, verdict, reason, status or
// error kind, a bad regex, a rule without conditions, a reason that does
// not go with its verdict, a name used twice. The error is a
// takedown.Error with code EINVALID.
func LoadRules(b []byte) (rs *Rules, err error) {
	defer func() {
		// The YAML decoder is third-party code fed an operator's file:
		// whatever it does with a broken one must be an error, not a
		// crash at start-up.
		if p := recover(); p != nil {
			rs, err = nil, takedown.Errorf(takedown.EINVALID, "classification rules: cannot read the file: %v", p)
		}
	}()
	if len(b) > maxRulesLength {
		return nil, takedown.Errorf(takedown.EINVALID, "classification rules: the file is %d bytes, more than the %d allowed", len(b), maxRulesLength)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return nil, takedown.Errorf(takedown.EINVALID, "classification rules: %v", err)
	}
	if doc.Kind == 0 || len(doc.Content) == 0 {
		return nil, takedown.Errorf(takedown.EINVALID, "classification rules: the file is empty")
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return nil, takedown.Errorf(takedown.EINVALID, "classification rules: line %d: want a mapping of platforms (%s) to lists of rules", root.Line, sectionList())
	}
	var errs []string
	bad := func(format string, args ...any) { errs = append(errs, fmt.Sprintf(format, args...)) }
	rs = &Rules{sections: map[string][]*compiledRule{}}
	names := map[string]int{} // name -> line
	count := 0
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		section := k.Value
		if !validSection(section) {
			bad("line %d: unknown platform %q (platforms: %s)", k.Line, section, sectionList())
			continue
		}
		if _, dup := rs.sections[section]; dup {
			bad("line %d: platform %s appears twice", k.Line, section)
			continue
		}
		rs.sections[section] = nil
		if v.Kind == yaml.ScalarNode && v.Tag == "!!null" {
			continue // an empty section
		}
		if v.Kind != yaml.SequenceNode {
			bad("line %d: %s: want a list of rules", v.Line, section)
			continue
		}
		for j, n := range v.Content {
			count++
			if count > maxRules {
				bad("more than %d rules", maxRules)
				break
			}
			r, rerrs := compileRule(section, j, n)
			errs = append(errs, rerrs...)
			if r == nil {
				continue
			}
			if line, dup := names[r.name]; dup {
				bad("%s: the name is used by the rule on line %d too", r.where(), line)
				continue
			}
			names[r.name] = r.line
			rs.sections[section] = append(rs.sections[section], r)
		}
	}
	if len(errs) > 0 {
		return nil, takedown.Errorf(takedown.EINVALID, "classification rules: %s", strings.Join(errs, "; "))
	}
	rs.link()
	return rs, nil
}

func validSection(s string) bool {
	return s == DefaultSection || takedown.ValidPlatform(takedown.Platform(s))
}

func sectionList() string {
	var ss []string
	for _, p := range takedown.Platforms {
		ss = append(ss, string(p))
	}
	return strings.Join(append(ss, DefaultSection), ", ")
}

func (r *compiledRule) where() string {
	return fmt.Sprintf("rule %q (%s, line %d)", r.name, r.section, r.line)
}

// compileRule compiles the j-th rule of a section; it returns nil and
// what is wrong when it cannot.
func compileRule(section string, j int, n *yaml.Node) (*compiledRule, []string) {
	r := &compiledRule{section: section, line: n.Line}
	if n.Kind != yaml.MappingNode {
		return nil, []string{fmt.Sprintf("%s rule %d (line %d): want a mapping with name, match, verdict and reason", section, j+1, n.Line)}
	}
	// The name first, so that every other error can name the rule.
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == "name" {
			r.name = n.Content[i+1].Value
		}
	}
	if r.name == "" {
		r.name = fmt.Sprintf("#%d", j+1)
	}
	var errs []string
	bad := func(format string, args ...any) {
		errs = append(errs, r.where()+": "+fmt.Sprintf(format, args...))
	}
	unknownFields(n, ruleFields, "", bad)
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == "match" {
			if m := n.Content[i+1]; m.Kind == yaml.MappingNode {
				unknownFields(m, matchFields, "match.", bad)
			}
		}
	}
	var spec ruleSpec
	if err := n.Decode(&spec); err != nil {
		bad("%v", err)
		return nil, errs
	}
	switch {
	case spec.Name == "":
		bad("the rule has no name")
	case len(spec.Name) > maxNameLength:
		bad("the name is longer than %d characters", maxNameLength)
	case strings.IndexFunc(spec.Name, func(c rune) bool { return unicode.IsControl(c) || c == unicode.ReplacementChar }) >= 0:
		bad("the name has control characters")
	}
	if spec.Disable {
		// An override's way to drop a default rule: a name and nothing
		// else.
		r.disable = true
		if spec.Verdict != "" || spec.Reason != "" || len(spec.Kinds) > 0 || !spec.Match.empty() {
			bad("a disabled rule has a name and nothing else (it drops the rule of that name)")
		}
		return r, errs
	}
	for _, k := range spec.Kinds {
		if !takedown.ValidKind(takedown.Kind(k)) {
			bad("unknown kind %q", k)
		}
		r.kinds = append(r.kinds, takedown.Kind(k))
	}
	r.verdict, r.reason = takedown.Verdict(spec.Verdict), spec.Reason
	if reasons, ok := reasonsOf[r.verdict]; !ok {
		bad("unknown verdict %q (want online, offline or unknown)", spec.Verdict)
	} else if !slices.Contains(reasons, spec.Reason) {
		if validReason(spec.Reason) {
			bad("reason %q does not go with verdict %s (it takes %s)", spec.Reason, spec.Verdict, strings.Join(reasons, ", "))
		} else {
			bad("unknown reason %q (for %s: %s)", spec.Reason, spec.Verdict, strings.Join(reasons, ", "))
		}
	}
	r.compileMatch(&spec.Match, bad)
	return r, errs
}

func validReason(s string) bool {
	for _, rs := range reasonsOf {
		if slices.Contains(rs, s) {
			return true
		}
	}
	return false
}

// unknownFields reports keys of mapping n that are not in known.
func unknownFields(n *yaml.Node, known []string, prefix string, bad func(string, ...any)) {
	for i := 0; i+1 < len(n.Content); i += 2 {
		if k := n.Content[i].Value; !slices.Contains(known, k) {
			bad("line %d: unknown field %s%s (fields: %s)", n.Content[i].Line, prefix, k, strings.Join(known, ", "))
		}
	}
}

func (m *matchSpec) empty() bool {
	return len(m.Status) == 0 && len(m.Error) == 0 && m.URL == "" && m.FinalURL == "" && m.Redirect == "" &&
		len(m.Header) == 0 && m.Title == "" && len(m.Body) == 0 && len(m.BodyLacks) == 0 && m.BodyRegex == ""
}

// compileMatch compiles a rule's conditions into r.
func (r *compiledRule) compileMatch(m *matchSpec, bad func(string, ...any)) {
	if m.empty() {
		bad("the rule has no conditions (match: status, error, url, final_url, redirect, header, title, body, body_lacks or body_regex)")
		return
	}
	re := func(field, expr string, ignoreCase bool) *regexp.Regexp {
		if expr == "" {
			return nil
		}
		if len(expr) > maxTextLength {
			bad("%s: the regex is longer than %d characters", field, maxTextLength)
			return nil
		}
		if ignoreCase {
			expr = "(?i)" + expr
		}
		x, err := regexp.Compile(expr)
		if err != nil {
			bad("%s: %v", field, err)
			return nil
		}
		return x
	}
	list := func(field string, n int) bool {
		if n > maxListLength {
			bad("%s: more than %d entries", field, maxListLength)
			return false
		}
		return true
	}
	if len(m.Error) > 0 {
		r.noAnswer = true
		if m.FinalURL != "" || m.Redirect != "" || len(m.Status) > 0 || len(m.Header) > 0 || m.Title != "" || len(m.Body) > 0 || len(m.BodyLacks) > 0 || m.BodyRegex != "" {
			bad("error matches probes without an answer, which have no status, final URL, redirects, headers or body; of those conditions only url goes with it")
		}
		anyKind := slices.Contains(m.Error, "any")
		for _, k := range m.Error {
			switch {
			case k == "any":
			case !slices.Contains(errKinds, k):
				bad("error: unknown kind %q (kinds: %s, any)", k, strings.Join(errKinds, ", "))
			case !anyKind:
				r.errKinds = append(r.errKinds, k)
			}
		}
	}
	if list("status", len(m.Status)) {
		for _, s := range m.Status {
			sr, err := parseStatus(s)
			if err != nil {
				bad("status: %v", err)
				continue
			}
			r.status = append(r.status, sr)
		}
	}
	r.url = re("url", m.URL, false)
	r.finalURL = re("final_url", m.FinalURL, false)
	r.redirect = re("redirect", m.Redirect, false)
	r.title = re("title", m.Title, false)
	r.bodyRE = re("body_regex", m.BodyRegex, m.IgnoreCase)
	if list("header", len(m.Header)) {
		names := make([]string, 0, len(m.Header))
		for name := range m.Header {
			names = append(names, name)
		}
		slices.Sort(names)
		for _, name := range names {
			if !validHeaderName(name) {
				bad("header: %q is not a header name", name)
				continue
			}
			r.headers = append(r.headers, headerCond{name: http.CanonicalHeaderKey(name), re: re("header "+name, m.Header[name], false)})
		}
	}
	texts := func(field string, ss []string) [][]byte {
		if !list(field, len(ss)) {
			return nil
		}
		var out [][]byte
		for _, s := range ss {
			switch {
			case s == "":
				bad("%s: an empty text matches everything", field)
				continue
			case len(s) > maxTextLength:
				bad("%s: a text is longer than %d characters", field, maxTextLength)
				continue
			}
			b := []byte(s)
			if m.IgnoreCase {
				b = lowerASCII(nil, b)
			}
			out = append(out, b)
		}
		return out
	}
	r.body = texts("body", m.Body)
	r.bodyLacks = texts("body_lacks", m.BodyLacks)
	r.ignoreCase = m.IgnoreCase
}

// parseStatus reads a status condition: a code (404), a class (4xx) or a
// range (500-599).
func parseStatus(s string) (statusRange, error) {
	s = strings.TrimSpace(s)
	code := func(x string) (int, bool) {
		n, err := strconv.Atoi(x)
		return n, err == nil && n >= 100 && n <= 999 && len(x) == 3
	}
	if len(s) == 3 && (s[1:] == "xx" || s[1:] == "XX") {
		if d := int(s[0] - '0'); d >= 1 && d <= 9 {
			return statusRange{d * 100, d*100 + 99}, nil
		}
	}
	if lo, hi, ok := strings.Cut(s, "-"); ok {
		l, ok1 := code(strings.TrimSpace(lo))
		h, ok2 := code(strings.TrimSpace(hi))
		if ok1 && ok2 && l <= h {
			return statusRange{l, h}, nil
		}
	} else if n, ok := code(s); ok {
		return statusRange{n, n}, nil
	}
	return statusRange{}, fmt.Errorf("%q: want a code (404), a class (4xx) or a range (500-599), from 100 to 999", s)
}

func validHeaderName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0) {
			return false
		}
	}
	return true
}

// link builds the chains: each platform's rules, then the default ones,
// without the disabled ones (which only an override uses).
func (rs *Rules) link() {
	enabled := func(rules []*compiledRule) []*compiledRule {
		out := []*compiledRule{}
		for _, r := range rules {
			if !r.disable {
				out = append(out, r)
			}
		}
		return out
	}
	rs.def = enabled(rs.sections[DefaultSection])
	rs.chains = map[takedown.Platform][]*compiledRule{}
	for _, p := range takedown.Platforms {
		rs.chains[p] = append(enabled(rs.sections[string(p)]), rs.def...)
	}
}

// Merge returns the rules of base with override's on top, for an
// operator's file over the defaults. For each section (a platform, or
// default):
//
//   - the override's rules come first, in the override's order, then the
//     base's;
//   - an override rule with the name of a base rule of the same section
//     replaces it (the base rule is dropped, the override's stands where
//     the override puts it, at the front); a rule with `disable: true`
//     drops the base rule of its name and adds nothing;
//   - a section only one of them has is taken as it is.
//
// Platform rules are still tried before default rules: an override's
// default rule comes after the base's platform rules, so a rule meant to
// win over a platform's must go in that platform's section. Neither
// argument changes; nil stands for no rules.
func Merge(base, override *Rules) *Rules {
	out := &Rules{sections: map[string][]*compiledRule{}}
	var sections []string
	for _, rs := range []*Rules{override, base} {
		if rs == nil {
			continue
		}
		for s := range rs.sections {
			if !slices.Contains(sections, s) {
				sections = append(sections, s)
			}
		}
	}
	for _, s := range sections {
		var own, theirs []*compiledRule
		if override != nil {
			own = override.sections[s]
		}
		if base != nil {
			theirs = base.sections[s]
		}
		merged := []*compiledRule{}
		names := map[string]bool{}
		for _, r := range own {
			names[r.name] = true
			if !r.disable {
				merged = append(merged, r)
			}
		}
		for _, r := range theirs {
			if !names[r.name] && !r.disable {
				merged = append(merged, r)
			}
		}
		out.sections[s] = merged
	}
	out.link()
	return out
}

// RuleNames returns the names of the rules Classify tries for platform,
// in order: the platform's, then the default ones.
func (rs *Rules) RuleNames(platform takedown.Platform) []string {
	chain, ok := rs.chains[platform]
	if !ok {
		chain = rs.def
	}
	var out []string
	for _, r := range chain {
		out = append(out, r.name)
	}
	return out
}
