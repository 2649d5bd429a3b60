// Package simnet is the simulated internet that takedown's demo and tests
// run against, on loopback only: a channel service with public preview
// pages (Telegram-like), a microblog (X-like), a video site (YouTube-like),
// a file host and a plain web host, each with a provider side (an abuse
// mailbox over SMTP and a takedown API over HTTPS) whose behaviour a
// scenario sets, and an adversary that re-creates removed channels under
// mutated names. Everything in it is invented: names, texts and images are
// generated from the scenario's seed, so the same seed gives the same world.
package simnet

import (
	"bytes"
	_ "embed"
	"encoding/base64"
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/takedown-project/takedown/internal/simnet/synth"
)

// Platform keys of the simulated services. The first three are the
// platforms takedown's recogniser knows; the file host and the web host
// serve invented domains, which it recognises as files and websites.
const (
	Telegram = "telegram"
	X        = "x"
	YouTube  = "youtube"
	FileHost = "filehost"
	WebHost  = "webhost"
)

// PlatformKeys lists the simulated services in display order.
var PlatformKeys = []string{Telegram, X, YouTube, FileHost, WebHost}

// Scenario is a simulated world and how its providers and its adversary
// behave. The zero value of every field means its default (Defaults).
type Scenario struct {
	Name string `yaml:"name" json:"name"`
	// Seed makes the world: the same seed, the same names, texts, images,
	// agency exports and provider decisions.
	Seed uint64 `yaml:"seed" json:"seed"`
	// Start is the scenario time at which the simulator starts.
	Start time.Time `yaml:"start" json:"start"`
	// TimeScale is how many scenario seconds pass per real second, so that
	// removal delays of hours play out in minutes.
	TimeScale float64 `yaml:"time_scale" json:"time_scale"`
	// Region is where requests come from unless they say otherwise (the
	// X-Simnet-Region header): content withheld in this region shows as
	// withheld.
	Region string `yaml:"region" json:"region"`

	Network   NetworkSpec             `yaml:"network" json:"network"`
	Operation OperationSpec           `yaml:"operation" json:"operation"`
	Agencies  []AgencySpec            `yaml:"agencies" json:"agencies"`
	Exports   ExportSpec              `yaml:"exports" json:"exports"`
	Providers map[string]ProviderSpec `yaml:"providers" json:"providers"`
	Adversary AdversarySpec           `yaml:"adversary" json:"adversary"`
	Pages     PageSpec                `yaml:"pages" json:"pages"`
}

// PageSpec is how the content hosts treat their visitors besides showing
// the content: login walls and rate limits, both off by default, so that
// a scenario that does not ask for them gets every page it requests.
type PageSpec struct {
	// LoginWall is the share of microblog accounts whose pages (and
	// posts) send a visitor without a session to the login flow, as X
	// does for much of its content. Which accounts is drawn from the
	// seed (World.LoginWall).
	LoginWall float64 `yaml:"login_wall" json:"login_wall"`
	// RateLimit bounds each client's requests to each content host.
	RateLimit RateLimit `yaml:"rate_limit" json:"rate_limit"`
}

// RateLimit is a token bucket per client and content host: Requests per
// Per on average, in bursts of up to Burst; a request over the limit is
// answered 429 with a Retry-After. The client is the request's source
// address, or its X-Simnet-Client header when it has one; the host is
// the platform for the channel service, the microblog and the video site
// (all their host names share one limit) and the host name for the file
// hosts and the web sites. Limits run in real time, not scenario time: a
// prober's politeness is real. Zero Requests means no limit.
type RateLimit struct {
	Requests int      `yaml:"requests" json:"requests"`
	Per      Duration `yaml:"per" json:"per"`
	Burst    int      `yaml:"burst" json:"burst"`
}

// NetworkSpec sizes the media network.
type NetworkSpec struct {
	// Items is how many distinct items (channels, accounts, posts,
	// invites, files, web pages) the network has.
	Items int `yaml:"items" json:"items"`
	// Outlets is how many media brands share them; each has its logo,
	// languages and links.
	Outlets int `yaml:"outlets" json:"outlets"`
	// Languages the network publishes in (synth's language codes).
	Languages []string `yaml:"languages" json:"languages"`
	// Mix is the share of items by kind; see DefaultMix for the keys.
	Mix map[string]float64 `yaml:"mix" json:"mix"`
	// FileHosts and WebHosts name the invented domains of the file host
	// and the web host's sites' TLD; defaults are under .example.
	FileHosts []string `yaml:"file_hosts" json:"file_hosts"`
}

// Item kinds of the network, the keys of NetworkSpec.Mix.
const (
	MixTelegramChannel = "telegram_channel"
	MixTelegramGroup   = "telegram_group"
	MixTelegramPost    = "telegram_post"
	MixTelegramInvite  = "telegram_invite"
	MixXAccount        = "x_account"
	MixXPost           = "x_post"
	MixYouTubeChannel  = "youtube_channel"
	MixYouTubeVideo    = "youtube_video"
	MixFile            = "file"
	MixWebsite         = "website"
)

// DefaultMix is a network that lives mostly on a channel service, as the
// media networks of the 2019 action did.
var DefaultMix = map[string]float64{
	MixTelegramChannel: 0.08, MixTelegramGroup: 0.02, MixTelegramPost: 0.40, MixTelegramInvite: 0.03,
	MixXAccount: 0.06, MixXPost: 0.12, MixYouTubeChannel: 0.02, MixYouTubeVideo: 0.06,
	MixFile: 0.09, MixWebsite: 0.12,
}

// OperationSpec is the referral action day the demo runs on the world.
type OperationSpec struct {
	Slug string `yaml:"slug" json:"slug"`
	Name string `yaml:"name" json:"name"`
}

// AgencySpec is one participating agency and the export it hands in.
type AgencySpec struct {
	Code    string `yaml:"code" json:"code"`
	Name    string `yaml:"name" json:"name"`
	Country string `yaml:"country" json:"country"`
	// Format is the export profile: one of ExportFormats.
	Format string `yaml:"format" json:"format"`
	// Coverage is the share of the network's items this agency found,
	// besides the ones it is the first to find; 0 means the export
	// spec's.
	Coverage float64 `yaml:"coverage" json:"coverage"`
}

// ExportSpec shapes what the agencies hand in.
type ExportSpec struct {
	// Found is the share of the network's items that at least one agency
	// found; the rest is for discovery later.
	Found float64 `yaml:"found" json:"found"`
	// Coverage is the share of items each agency finds on top of its own
	// share, so that agencies overlap.
	Coverage float64 `yaml:"coverage" json:"coverage"`
	// BadRows is the share of rows that are broken (not a URL, a bad date,
	// a wrong column count, bad UTF-8...).
	BadRows float64 `yaml:"bad_rows" json:"bad_rows"`
	// Repeats is the share of rows an agency lists twice in its own
	// export, verbatim or with other notes.
	Repeats float64 `yaml:"repeats" json:"repeats"`
}

// ProviderSpec is how the provider of one platform answers referrals and
// removal orders.
type ProviderSpec struct {
	Name string `yaml:"name" json:"name"`
	// RemovalDelay is the time from a referral's receipt to removal.
	RemovalDelay Delay `yaml:"removal_delay" json:"removal_delay"`
	// OrderDelay is the same for removal orders, which the Regulation
	// wants answered within one hour.
	OrderDelay Delay `yaml:"order_delay" json:"order_delay"`
	// Shares of decisions; the rest is removed.
	Reject      float64 `yaml:"reject" json:"reject"`
	RegionBlock float64 `yaml:"region_block" json:"region_block"`
	Ignore      float64 `yaml:"ignore" json:"ignore"`
	// Reinstate is the share of removals reversed after ReinstateDelay.
	Reinstate      float64 `yaml:"reinstate" json:"reinstate"`
	ReinstateDelay Delay   `yaml:"reinstate_delay" json:"reinstate_delay"`
	// RejectReasons are given with rejections, one at random.
	RejectReasons []string `yaml:"reject_reasons" json:"reject_reasons"`
	// BlockedRegions are where region blocks apply.
	BlockedRegions []string `yaml:"blocked_regions" json:"blocked_regions"`
	// Token is the bearer token of the takedown API.
	Token string `yaml:"token" json:"token"`
	// WebhookSecret signs the webhooks the provider takes (Standard
	// Webhooks: "whsec_" and the key in base64).
	WebhookSecret string `yaml:"webhook_secret" json:"webhook_secret"`
}

// AdversarySpec is how the network comes back after removals.
type AdversarySpec struct {
	// Recreate is the share of removed channels, groups and accounts that
	// come back under a new name.
	Recreate float64 `yaml:"recreate" json:"recreate"`
	// Delay is the time from a removal to the successor's creation.
	Delay Delay `yaml:"delay" json:"delay"`
	// CrossPlatform is the share of successors made on another platform.
	CrossPlatform float64 `yaml:"cross_platform" json:"cross_platform"`
	// Generations bounds how often one lineage comes back.
	Generations int `yaml:"generations" json:"generations"`
}

// Delay is a distribution of durations: log-normal with the given median
// and 90th percentile, cut at Max. A Delay with only a median is fixed.
type Delay struct {
	Median Duration `yaml:"median" json:"median"`
	P90    Duration `yaml:"p90" json:"p90"`
	Max    Duration `yaml:"max" json:"max"`
}

// Quantile returns the duration at quantile u (0 < u < 1).
func (d Delay) Quantile(u float64) time.Duration {
	med := float64(d.Median.D())
	if med <= 0 {
		return 0
	}
	v := med
	if p90 := float64(d.P90.D()); p90 > med {
		sigma := math.Log(p90/med) / 1.2815515655446004
		u = min(max(u, 1e-9), 1-1e-9)
		v = med * math.Exp(sigma*math.Sqrt2*math.Erfinv(2*u-1))
	}
	if m := float64(d.Max.D()); m > 0 && v > m {
		v = m
	}
	return time.Duration(v)
}

// Duration is a time.Duration written as in Go ("90m", "1h30m") or with a
// day unit ("2d", "1d12h").
type Duration time.Duration

// D returns d as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// ParseDuration reads a Duration.
func ParseDuration(s string) (Duration, error) {
	s = strings.TrimSpace(s)
	var days float64
	if i := strings.IndexByte(s, 'd'); i > 0 {
		n, err := strconv.ParseFloat(s[:i], 64)
		if err != nil || n < 0 {
			return 0, fmt.Errorf("duration %q: want e.g. 90m, 6h or 2d", s)
		}
		days, s = n, s[i+1:]
	}
	var rest time.Duration
	if s != "" {
		var err error
		if rest, err = time.ParseDuration(s); err != nil || rest < 0 {
			return 0, fmt.Errorf("duration %q: want e.g. 90m, 6h or 2d", s)
		}
	}
	total := days*24*float64(time.Hour) + float64(rest)
	if total > float64(math.MaxInt64/2) {
		return 0, fmt.Errorf("duration %q is too long", s)
	}
	return Duration(total), nil
}

func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	v, err := ParseDuration(n.Value)
	if err != nil {
		return fmt.Errorf("line %d: %w", n.Line, err)
	}
	*d = v
	return nil
}

func (d Duration) MarshalYAML() (any, error) { return d.String(), nil }

func (d Duration) String() string { return time.Duration(d).String() }

// ExportFormats are the agency export profiles the generator writes: CSV
// with takedown's column names, CSV the way other tools name and order
// columns (semicolon or tab separated), JSON Lines with either key set,
// a STIX 2.1 bundle and a MISP event.
var ExportFormats = []string{"csv", "csv-semicolon", "csv-tab", "csv-reordered", "jsonl", "jsonl-aliases", "stix", "misp"}

//go:embed scenarios/demo.yaml
var demoScenario []byte

// Demo returns the scenario `takedown demo` runs by default: eleven
// agencies, about 26,000 items.
func Demo() *Scenario {
	s, err := ParseScenario(demoScenario)
	if err != nil {
		panic("the embedded demo scenario is broken: " + err.Error())
	}
	return s
}

// MaxItems bounds a scenario's network, so a typo cannot ask for a world
// that does not fit in memory.
const MaxItems = 2_000_000

// ParseScenario reads a scenario from YAML (of which JSON is a subset),
// fills in defaults and validates it. Unknown fields are errors: a typo
// must not silently leave a default in place.
func ParseScenario(b []byte) (*Scenario, error) {
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	s := &Scenario{}
	if err := dec.Decode(s); err != nil {
		if err.Error() == "EOF" {
			return nil, fmt.Errorf("scenario: empty")
		}
		return nil, fmt.Errorf("scenario: %w", err)
	}
	s.applyDefaults()
	if err := s.Validate(); err != nil {
		return nil, err
	}
	return s, nil
}

// applyDefaults fills what the scenario left out.
func (s *Scenario) applyDefaults() {
	if s.Name == "" {
		s.Name = "scenario"
	}
	if s.Start.IsZero() {
		s.Start = time.Date(2026, 11, 18, 6, 0, 0, 0, time.UTC)
	}
	if s.TimeScale == 0 {
		s.TimeScale = 60
	}
	if s.Region == "" {
		s.Region = "EU"
	}
	n := &s.Network
	if n.Items == 0 {
		n.Items = 2000
	}
	if n.Outlets == 0 {
		n.Outlets = max(1, n.Items/600)
	}
	if len(n.Languages) == 0 {
		n.Languages = []string{"ar", "en", "fr", "de", "ru", "tr"}
	}
	if len(n.Mix) == 0 {
		n.Mix = DefaultMix
	}
	if len(n.FileHosts) == 0 {
		n.FileHosts = []string{"filedrop.example", "sharebox.example"}
	}
	if s.Operation.Slug == "" {
		s.Operation.Slug = "rad-" + s.Start.Format("2006-01")
	}
	if s.Operation.Name == "" {
		s.Operation.Name = "Referral action day " + s.Start.Format("2 January 2006") + " (simulated)"
	}
	if len(s.Agencies) == 0 {
		s.Agencies = DefaultAgencies(11)
	}
	for i := range s.Agencies {
		if s.Agencies[i].Format == "" {
			s.Agencies[i].Format = ExportFormats[i%len(ExportFormats)]
		}
	}
	e := &s.Exports
	if e.Found == 0 {
		e.Found = 0.95
	}
	if e.Coverage == 0 {
		e.Coverage = 0.04
	}
	if e.BadRows == 0 {
		e.BadRows = 0.01
	}
	if e.Repeats == 0 {
		e.Repeats = 0.02
	}
	if s.Providers == nil {
		s.Providers = map[string]ProviderSpec{}
	}
	for _, p := range PlatformKeys {
		ps := s.Providers[p]
		ps.applyDefaults(p)
		s.Providers[p] = ps
	}
	a := &s.Adversary
	if a.Recreate == 0 {
		a.Recreate = 0.35
	}
	if a.Delay.Median == 0 {
		a.Delay = Delay{Median: Duration(6 * time.Hour), P90: Duration(48 * time.Hour), Max: Duration(7 * 24 * time.Hour)}
	}
	if a.CrossPlatform == 0 {
		a.CrossPlatform = 0.15
	}
	if a.Generations == 0 {
		a.Generations = 3
	}
	s.Pages.RateLimit = s.Pages.RateLimit.withDefaults()
}

// withDefaults fills a limit's period (a minute) and burst (its requests).
func (l RateLimit) withDefaults() RateLimit {
	if l.Requests > 0 && l.Per == 0 {
		l.Per = Duration(time.Minute)
	}
	if l.Requests > 0 && l.Burst == 0 {
		l.Burst = l.Requests
	}
	return l
}

// validate reports what is wrong with a limit, after defaults.
func (l RateLimit) validate() error {
	switch {
	case l.Requests < 0 || l.Burst < 0:
		return fmt.Errorf("requests %d and burst %d: want 0 or more", l.Requests, l.Burst)
	case l.Requests > 0 && l.Per <= 0:
		return fmt.Errorf("per %v: want a positive duration", l.Per)
	}
	return nil
}

func (p *ProviderSpec) applyDefaults(platform string) {
	if p.Name == "" {
		p.Name = providerNames[platform]
	}
	if p.RemovalDelay.Median == 0 {
		p.RemovalDelay = Delay{Median: Duration(3 * time.Hour), P90: Duration(30 * time.Hour), Max: Duration(10 * 24 * time.Hour)}
	}
	if p.OrderDelay.Median == 0 {
		p.OrderDelay = Delay{Median: Duration(25 * time.Minute), P90: Duration(55 * time.Minute), Max: Duration(6 * time.Hour)}
	}
	if p.ReinstateDelay.Median == 0 {
		p.ReinstateDelay = Delay{Median: Duration(2 * 24 * time.Hour), P90: Duration(6 * 24 * time.Hour)}
	}
	if len(p.RejectReasons) == 0 {
		p.RejectReasons = []string{
			"no violation of our terms of service found",
			"the content is news reporting",
			"manifest error: the URL does not identify the content",
			"insufficient information to locate the content",
		}
	}
	if len(p.BlockedRegions) == 0 {
		p.BlockedRegions = []string{"EU"}
	}
	if p.Token == "" {
		p.Token = "simnet-" + platform + "-token"
	}
	if p.WebhookSecret == "" {
		p.WebhookSecret = webhookSecretPrefix + base64.StdEncoding.EncodeToString([]byte("simnet-"+platform+"-webhook-secret"))
	}
}

// webhookSecretPrefix starts a Standard Webhooks secret.
const webhookSecretPrefix = "whsec_"

// providerNames are the simulated providers' names: invented, marked as
// simulated.
var providerNames = map[string]string{
	Telegram: "Channel service (simulated Telegram)",
	X:        "Microblog (simulated X)",
	YouTube:  "Video site (simulated YouTube)",
	FileHost: "File host (simulated)",
	WebHost:  "Web host (simulated)",
}

// DefaultAgencies returns n invented agencies of as many countries.
func DefaultAgencies(n int) []AgencySpec {
	countries := []string{"NL", "BE", "DE", "FR", "ES", "IT", "AT", "PL", "SE", "PT", "CZ", "DK", "FI", "IE", "GR", "HU", "RO", "SK", "SI", "HR", "LT", "LV", "EE", "LU", "BG", "CY", "MT"}
	greek := []string{"Alpha", "Bravo", "Charlie", "Delta", "Echo", "Foxtrot", "Golf", "Hotel", "India", "Juliett", "Kilo", "Lima", "Mike", "November", "Oscar", "Papa", "Quebec", "Romeo", "Sierra", "Tango", "Uniform", "Victor", "Whiskey", "Xray", "Yankee", "Zulu", "Omega"}
	out := make([]AgencySpec, n)
	for i := range out {
		c := countries[i%len(countries)]
		out[i] = AgencySpec{
			Code:    strings.ToLower(c) + "-iru",
			Name:    "Referral Unit " + greek[i%len(greek)] + " (" + c + ", simulated)",
			Country: c,
		}
		if i >= len(countries) {
			out[i].Code = fmt.Sprintf("%s-iru-%d", strings.ToLower(c), i/len(countries)+1)
		}
	}
	return out
}

// Validate reports what is wrong with a scenario after defaults.
func (s *Scenario) Validate() error {
	var errs []string
	bad := func(format string, args ...any) { errs = append(errs, fmt.Sprintf(format, args...)) }
	share := func(name string, v float64) {
		if v < 0 || v > 1 || math.IsNaN(v) {
			bad("%s is %v; a share is between 0 and 1", name, v)
		}
	}
	if s.TimeScale <= 0 || s.TimeScale > 1e6 || math.IsNaN(s.TimeScale) {
		bad("time_scale %v: want a positive number up to 1000000", s.TimeScale)
	}
	if s.Network.Items < 10 || s.Network.Items > MaxItems {
		bad("network.items %d: want 10 to %d", s.Network.Items, MaxItems)
	}
	if s.Network.Outlets < 1 || s.Network.Outlets > s.Network.Items/5 {
		bad("network.outlets %d: want 1 to items/5 (%d)", s.Network.Outlets, s.Network.Items/5)
	}
	total := 0.0
	for k, v := range s.Network.Mix {
		if _, ok := DefaultMix[k]; !ok {
			keys := make([]string, 0, len(DefaultMix))
			for k := range DefaultMix {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			bad("network.mix: unknown kind %q (kinds: %s)", k, strings.Join(keys, ", "))
		}
		share("network.mix."+k, v)
		total += v
	}
	if total <= 0 {
		bad("network.mix: no item kind has a share")
	}
	for _, l := range s.Network.Languages {
		if !slices.Contains(synth.Languages, l) {
			bad("network.languages: unknown language %q (languages: %s)", l, strings.Join(synth.Languages, ", "))
		}
	}
	for _, h := range s.Network.FileHosts {
		if !strings.HasSuffix(h, ".example") || strings.ContainsAny(h, "/: ") {
			bad("network.file_hosts: %q must be a host name under .example (the simulator never names a real domain)", h)
		}
	}
	if len(s.Agencies) == 0 || len(s.Agencies) > 100 {
		bad("agencies: want 1 to 100, have %d", len(s.Agencies))
	}
	seen := map[string]bool{}
	for i, a := range s.Agencies {
		if a.Code == "" || a.Name == "" {
			bad("agencies[%d]: needs a code and a name", i)
		}
		if seen[a.Code] {
			bad("agencies[%d]: code %q appears twice", i, a.Code)
		}
		seen[a.Code] = true
		if !slices.Contains(ExportFormats, a.Format) {
			bad("agencies[%d]: format %q: want one of %s", i, a.Format, strings.Join(ExportFormats, ", "))
		}
		share(fmt.Sprintf("agencies[%d].coverage", i), a.Coverage)
	}
	share("exports.found", s.Exports.Found)
	share("exports.coverage", s.Exports.Coverage)
	share("exports.repeats", s.Exports.Repeats)
	if s.Exports.BadRows < 0 || s.Exports.BadRows > 0.5 {
		bad("exports.bad_rows %v: want 0 to 0.5", s.Exports.BadRows)
	}
	for k, p := range s.Providers {
		if !slices.Contains(PlatformKeys, k) {
			bad("providers: unknown platform %q (platforms: %s)", k, strings.Join(PlatformKeys, ", "))
		}
		for name, v := range map[string]float64{"reject": p.Reject, "region_block": p.RegionBlock, "ignore": p.Ignore, "reinstate": p.Reinstate} {
			share("providers."+k+"."+name, v)
		}
		if p.Reject+p.RegionBlock+p.Ignore > 1 {
			bad("providers.%s: reject + region_block + ignore is more than 1", k)
		}
		if key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(p.WebhookSecret, webhookSecretPrefix)); err != nil || len(key) == 0 || !strings.HasPrefix(p.WebhookSecret, webhookSecretPrefix) {
			bad("providers.%s.webhook_secret: want whsec_ and a key in base64", k)
		}
	}
	share("pages.login_wall", s.Pages.LoginWall)
	if err := s.Pages.RateLimit.validate(); err != nil {
		bad("pages.rate_limit: %v", err)
	}
	a := s.Adversary
	share("adversary.recreate", a.Recreate)
	share("adversary.cross_platform", a.CrossPlatform)
	if a.Generations < 1 || a.Generations > 20 {
		bad("adversary.generations %d: want 1 to 20", a.Generations)
	}
	if len(errs) > 0 {
		sort.Strings(errs)
		return fmt.Errorf("scenario %s: %s", s.Name, strings.Join(errs, "; "))
	}
	return nil
}
