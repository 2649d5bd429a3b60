package attribute

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/maxmind/mmdbwriter"
	"github.com/maxmind/mmdbwriter/mmdbtype"

	"github.com/takedown-project/takedown"
)

// The test networks are documentation ranges (RFC 5737, RFC 3849): no
// test reaches a real host, and no test resolves a real name.
var testNetworks = []struct {
	cidr string
	asn  uint32
	org  string
}{
	{"192.0.2.0/24", 64500, "Example Hosting"},
	{"198.51.100.0/24", 64501, "Unclaimed Networks"},
	{"2001:db8:1::/48", 64502, "Example Cloud"},
	{"2001:db8:2::/48", 64501, "Unclaimed Networks"},
	{"2001:db8:3::/48", 64503, ""}, // a record without an organisation
	// 203.0.113.0/24 and the rest are in no network.
}

// writeMMDB builds an IP-to-ASN database of testNetworks, as GeoLite2-ASN
// lays it out, and returns its path.
func writeMMDB(tb testing.TB, dbType string) string {
	tb.Helper()
	w, err := mmdbwriter.New(mmdbwriter.Options{DatabaseType: dbType, RecordSize: 24, IncludeReservedNetworks: true})
	if err != nil {
		tb.Fatal(err)
	}
	for _, n := range testNetworks {
		_, network, err := net.ParseCIDR(n.cidr)
		if err != nil {
			tb.Fatal(err)
		}
		rec := mmdbtype.Map{"autonomous_system_number": mmdbtype.Uint32(n.asn)}
		if n.org != "" {
			rec["autonomous_system_organization"] = mmdbtype.String(n.org)
		}
		if err := w.Insert(network, rec); err != nil {
			tb.Fatal(err)
		}
	}
	path := filepath.Join(tb.TempDir(), "asn.mmdb")
	f, err := os.Create(path)
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := w.WriteTo(f); err != nil {
		tb.Fatal(err)
	}
	if err := f.Close(); err != nil {
		tb.Fatal(err)
	}
	return path
}

// directory is a provider directory with one provider per platform, a few
// domain claims (one on a subdomain of another, one in Unicode) and two
// networks.
func directory() []*takedown.Provider {
	return []*takedown.Provider{
		{Code: "telegram", Platforms: []takedown.Platform{takedown.PlatformTelegram}},
		{Code: "xcorp", Platforms: []takedown.Platform{takedown.PlatformX}},
		{Code: "meta", Platforms: []takedown.Platform{takedown.PlatformFacebook, takedown.PlatformInstagram}},
		{Code: "google", Platforms: []takedown.Platform{takedown.PlatformYouTube}, Domains: []string{"blogspot.com"}},
		{Code: "bytedance", Platforms: []takedown.Platform{takedown.PlatformTikTok}},
		{Code: "example-registrar", Domains: []string{"example.org", "example.net"}},
		{Code: "blog-host", Domains: []string{"blog.example.org"}},
		{Code: "buecher", Domains: []string{"bücher.example"}},
		{Code: "hoster", ASNs: []uint32{64500}},
		{Code: "cloud", ASNs: []uint32{64502, 64503}},
	}
}

// fakeDNS answers from a table and counts the questions. A question about
// an IP address fails the test: those must not reach DNS.
type fakeDNS struct {
	t       testing.TB
	answers map[string][]string // host → addresses; "!notfound", "!error" fail
	mu      sync.Mutex
	asked   map[string]int
}

func newFakeDNS(t testing.TB) *fakeDNS {
	return &fakeDNS{t: t, asked: map[string]int{}, answers: map[string][]string{
		"hosted.test":           {"192.0.2.10"},
		"v6.test":               {"2001:db8:1::5"},
		"noorg.test":            {"2001:db8:3::1"},
		"mixed.test":            {"2001:db8:1::7", "198.51.100.7"},
		"mapped.test":           {"::ffff:192.0.2.30"},
		"unclaimed.test":        {"198.51.100.7"},
		"unclaimed-twice.test":  {"203.0.113.1", "2001:db8:2::8", "198.51.100.8"},
		"nowhere.test":          {"203.0.113.9"},
		"nowhere-twice.test":    {"203.0.113.9", "2001:db8:ffff::1"},
		"evil-example.org":      {"198.51.100.66"},
		"example.org.evil.test": {"203.0.113.66"},
		"nxdomain.test":         {"!notfound"},
		"servfail.test":         {"!error"},
		"empty.test":            {},
	}}
}

func (d *fakeDNS) Resolve(ctx context.Context, host string) ([]netip.Addr, error) {
	d.mu.Lock()
	d.asked[host]++
	d.mu.Unlock()
	if _, err := netip.ParseAddr(host); err == nil {
		d.t.Errorf("Resolve(%q): an IP address was sent to DNS", host)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	answer, ok := d.answers[host]
	if !ok {
		d.t.Errorf("Resolve(%q): a host the test did not expect", host)
		return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
	}
	var out []netip.Addr
	for _, a := range answer {
		switch a {
		case "!notfound":
			return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
		case "!error":
			return nil, errors.New("server misbehaving")
		}
		out = append(out, netip.MustParseAddr(a))
	}
	return out, nil
}

func (d *fakeDNS) count(host string) int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.asked[host]
}

func newAttributor(t testing.TB, providers []*takedown.Provider, opts Options) *Attributor {
	t.Helper()
	a, err := New(providers, opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() {
		if err := a.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return a
}

func web(url string) *takedown.Item {
	return &takedown.Item{ID: 7, URL: url, Platform: takedown.PlatformWeb, Kind: takedown.KindWebsite}
}

func want(provider, via string) takedown.ItemAttribution {
	return takedown.ItemAttribution{ItemID: 7, Provider: provider, Via: via}
}

func TestAttributePlatforms(t *testing.T) {
	t.Parallel()
	a := newAttributor(t, directory(), Options{})
	tests := []struct {
		platform takedown.Platform
		url      string
		want     string
	}{
		{takedown.PlatformTelegram, "https://t.me/some_channel", "telegram"},
		{takedown.PlatformX, "https://x.com/someone", "xcorp"},
		{takedown.PlatformFacebook, "https://www.facebook.com/somepage", "meta"},
		{takedown.PlatformInstagram, "https://www.instagram.com/someone/", "meta"},
		{takedown.PlatformYouTube, "https://www.youtube.com/watch?v=dQw4w9WgXcQ", "google"},
		{takedown.PlatformTikTok, "https://www.tiktok.com/@someone", "bytedance"},
	}
	tested := map[takedown.Platform]bool{takedown.PlatformWeb: true}
	for _, tt := range tests {
		tested[tt.platform] = true
		t.Run(string(tt.platform), func(t *testing.T) {
			t.Parallel()
			it := &takedown.Item{ID: 7, URL: tt.url, Platform: tt.platform, Kind: takedown.KindAccount}
			if diff := cmp.Diff(want(tt.want, "platform"), a.Attribute(t.Context(), it)); diff != "" {
				t.Errorf("mismatch (-want +got):\n%s", diff)
			}
		})
	}
	for _, p := range takedown.Platforms {
		if !tested[p] {
			t.Errorf("platform %q is not tested", p)
		}
	}
}

func TestAttributePlatformWithoutProvider(t *testing.T) {
	t.Parallel()
	// Its host's domain claim or network does not stand in for the
	// platform: its items are the platform operator's to remove.
	providers := []*takedown.Provider{{Code: "hoster", Domains: []string{"t.me"}, ASNs: []uint32{64500}}}
	a := newAttributor(t, providers, Options{ASNDatabase: writeMMDB(t, "Test-ASN"), Resolve: newFakeDNS(t).Resolve})
	it := &takedown.Item{ID: 7, URL: "https://t.me/some_channel", Platform: takedown.PlatformTelegram, Kind: takedown.KindChannel}
	if diff := cmp.Diff(want("", "none: no provider runs platform telegram"), a.Attribute(t.Context(), it)); diff != "" {
		t.Errorf("mismatch (-want +got):\n%s", diff)
	}
}

func TestAttributeDomains(t *testing.T) {
	t.Parallel()
	dns := newFakeDNS(t)
	a := newAttributor(t, directory(), Options{ASNDatabase: writeMMDB(t, "Test-ASN"), Resolve: dns.Resolve})
	tests := []struct {
		name string
		url  string
		want takedown.ItemAttribution
	}{
		{"exact", "https://example.org/page", want("example-registrar", "domain example.org")},
		{"second claim", "http://example.net/", want("example-registrar", "domain example.net")},
		{"subdomain", "https://www.example.org/page", want("example-registrar", "domain example.org")},
		{"deep subdomain", "https://a.b.c.example.org/", want("example-registrar", "domain example.org")},
		{"longest suffix", "https://blog.example.org/post", want("blog-host", "domain blog.example.org")},
		{"under longest suffix", "https://my.blog.example.org/post", want("blog-host", "domain blog.example.org")},
		{"sibling of longest suffix", "https://blogs.example.org/", want("example-registrar", "domain example.org")},
		{"upper case", "HTTPS://WWW.Example.ORG/Page", want("example-registrar", "domain example.org")},
		{"port", "https://example.org:8443/x", want("example-registrar", "domain example.org")},
		{"trailing dot", "http://example.org./", want("example-registrar", "domain example.org")},
		{"user information", "http://example.org@evil-example.org/", want("", "none: AS64501 (Unclaimed Networks) is no provider's")},
		{"IDN claimed in Unicode", "https://xn--bcher-kva.example/buch", want("buecher", "domain xn--bcher-kva.example")},
		{"IDN subdomain", "https://shop.xn--bcher-kva.example/", want("buecher", "domain xn--bcher-kva.example")},
		{"private public suffix", "https://someblog.blogspot.com/", want("google", "domain someblog.blogspot.com")},
		{"file", "https://files.example.org/a.pdf", want("example-registrar", "domain example.org")},
		{"lookalike prefix", "https://evil-example.org/", want("", "none: AS64501 (Unclaimed Networks) is no provider's")},
		{"lookalike suffix", "https://example.org.evil.test/", want("", "none: 203.0.113.66 is in no network of the ASN database")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			it := web(tt.url)
			if tt.name == "file" {
				it.Kind = takedown.KindFile
			}
			if diff := cmp.Diff(tt.want, a.Attribute(t.Context(), it)); diff != "" {
				t.Errorf("%s: mismatch (-want +got):\n%s", tt.url, diff)
			}
		})
	}
	t.Cleanup(func() {
		if n := dns.count("example.org"); n != 0 {
			t.Errorf("a claimed domain went to DNS %d times", n)
		}
	})
}

func TestAttributeNetworks(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		url  string
		want takedown.ItemAttribution
	}{
		{"IPv4", "https://hosted.test/page", want("hoster", "network AS64500 (Example Hosting)")},
		{"IPv6", "https://v6.test/", want("cloud", "network AS64502 (Example Cloud)")},
		{"no organisation", "https://noorg.test/", want("cloud", "network AS64503")},
		{"claimed network wins", "https://mixed.test/", want("cloud", "network AS64502 (Example Cloud)")},
		{"IPv4-mapped IPv6", "https://mapped.test/", want("hoster", "network AS64500 (Example Hosting)")},
		{"unknown ASN", "https://unclaimed.test/", want("", "none: AS64501 (Unclaimed Networks) is no provider's")},
		{"unknown ASN, several addresses", "https://unclaimed-twice.test/", want("", "none: AS64501 (Unclaimed Networks) is no provider's")},
		{"in no network", "https://nowhere.test/", want("", "none: 203.0.113.9 is in no network of the ASN database")},
		{"several in no network", "https://nowhere-twice.test/", want("", "none: no address of host is in a network of the ASN database")},
		{"no such host", "https://nxdomain.test/", want("", "none: no address for host")},
		{"no addresses", "https://empty.test/", want("", "none: no address for host")},
		{"resolver error", "https://servfail.test/", want("", "none: address lookup failed: server misbehaving")},
		{"IPv4 literal", "http://192.0.2.44/x", want("hoster", "network AS64500 (Example Hosting)")},
		{"IPv6 literal", "http://[2001:db8:1::9]:8080/x", want("cloud", "network AS64502 (Example Cloud)")},
		{"IPv4-mapped literal", "http://[::ffff:192.0.2.45]/", want("hoster", "network AS64500 (Example Hosting)")},
		{"literal with unknown ASN", "http://[2001:db8:2::1]/", want("", "none: AS64501 (Unclaimed Networks) is no provider's")},
		{"literal in no network", "http://203.0.113.5/", want("", "none: 203.0.113.5 is in no network of the ASN database")},
		{"no host", "http:///path", want("", "none: no host in URL")},
	}
	a := newAttributor(t, directory(), Options{ASNDatabase: writeMMDB(t, "GeoLite2-ASN"), Resolve: newFakeDNS(t).Resolve})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if diff := cmp.Diff(tt.want, a.Attribute(t.Context(), web(tt.url))); diff != "" {
				t.Errorf("%s: mismatch (-want +got):\n%s", tt.url, diff)
			}
		})
	}
}

func TestAttributeWithoutLookups(t *testing.T) {
	t.Parallel()
	db := writeMMDB(t, "DBIP-ASN-Lite (compat=GeoLite2-ASN)")
	tests := []struct {
		name string
		opts Options
		url  string
		want takedown.ItemAttribution
	}{
		{"no resolver, name", Options{ASNDatabase: db}, "https://hosted.test/", want("", "none: no provider claims the domain, and address lookups are off")},
		{"no resolver, IPv4 literal", Options{ASNDatabase: db}, "http://192.0.2.44/", want("hoster", "network AS64500 (Example Hosting)")},
		{"no resolver, IPv6 literal", Options{ASNDatabase: db}, "http://[2001:db8:1::1]/", want("cloud", "network AS64502 (Example Cloud)")},
		{"no resolver, domain", Options{ASNDatabase: db}, "https://www.example.org/", want("example-registrar", "domain example.org")},
		{"no database, name", Options{Resolve: newFakeDNS(t).Resolve}, "https://hosted.test/", want("", "none: no provider claims the domain, and there is no ASN database")},
		{"no database, literal", Options{Resolve: newFakeDNS(t).Resolve}, "http://192.0.2.44/", want("", "none: no provider claims the domain, and there is no ASN database")},
		{"no database, domain", Options{}, "https://example.org/", want("example-registrar", "domain example.org")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			a := newAttributor(t, directory(), tt.opts)
			if diff := cmp.Diff(tt.want, a.Attribute(t.Context(), web(tt.url))); diff != "" {
				t.Errorf("%s: mismatch (-want +got):\n%s", tt.url, diff)
			}
		})
	}
}

func TestAttributeCachesLookups(t *testing.T) {
	t.Parallel()
	dns := newFakeDNS(t)
	a := newAttributor(t, directory(), Options{ASNDatabase: writeMMDB(t, "Test-ASN"), Resolve: dns.Resolve})
	var items []*takedown.Item
	for i := range 50 {
		items = append(items, web(fmt.Sprintf("https://hosted.test/page/%d", i)), web(fmt.Sprintf("https://nxdomain.test/%d", i)))
	}
	a.AttributeAll(t.Context(), items)
	a.Attribute(t.Context(), web("https://hosted.test/again"))
	a.Attribute(t.Context(), web("https://nxdomain.test/again"))
	for _, host := range []string{"hosted.test", "nxdomain.test"} {
		if n := dns.count(host); n != 1 {
			t.Errorf("%s was looked up %d times, want once", host, n)
		}
	}
}

func TestAttributeCacheIsBounded(t *testing.T) {
	t.Parallel()
	a := newAttributor(t, directory(), Options{ASNDatabase: writeMMDB(t, "Test-ASN")})
	var items []*takedown.Item
	for i := range MaxCachedHosts + 500 {
		items = append(items, web(fmt.Sprintf("http://192.0.%d.%d/", 2+i/256, i%256)))
	}
	a.AttributeAll(t.Context(), items)
	a.mu.Lock()
	n := len(a.hosts)
	a.mu.Unlock()
	if n != MaxCachedHosts {
		t.Errorf("%d hosts cached, want %d", n, MaxCachedHosts)
	}
}

func TestAttributeCancelled(t *testing.T) {
	t.Parallel()
	dns := newFakeDNS(t)
	a := newAttributor(t, directory(), Options{ASNDatabase: writeMMDB(t, "Test-ASN"), Resolve: dns.Resolve})
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	got := a.AttributeAll(ctx, []*takedown.Item{web("https://hosted.test/"), web("https://example.org/")})
	wantCut := []takedown.ItemAttribution{
		want("", "none: address lookup cut short: context canceled"),
		want("example-registrar", "domain example.org"), // needs no lookup
	}
	if diff := cmp.Diff(wantCut, got); diff != "" {
		t.Errorf("cancelled: mismatch (-want +got):\n%s", diff)
	}
	// What was cut short is not remembered.
	if diff := cmp.Diff(want("hoster", "network AS64500 (Example Hosting)"), a.Attribute(t.Context(), web("https://hosted.test/"))); diff != "" {
		t.Errorf("after cancelling: mismatch (-want +got):\n%s", diff)
	}
}

func TestAttributeCancelledDuringLookup(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(t.Context())
	calls := 0
	resolve := func(ctx context.Context, host string) ([]netip.Addr, error) {
		calls++
		if calls == 1 {
			cancel()
			return nil, &net.DNSError{Err: "operation was canceled", Name: host}
		}
		return []netip.Addr{netip.MustParseAddr("192.0.2.1")}, nil
	}
	a := newAttributor(t, directory(), Options{ASNDatabase: writeMMDB(t, "Test-ASN"), Resolve: resolve})
	if diff := cmp.Diff(want("", "none: address lookup cut short: context canceled"), a.Attribute(ctx, web("https://hosted.test/"))); diff != "" {
		t.Errorf("cancelled: mismatch (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(want("hoster", "network AS64500 (Example Hosting)"), a.Attribute(t.Context(), web("https://hosted.test/"))); diff != "" {
		t.Errorf("after cancelling: mismatch (-want +got):\n%s", diff)
	}
}

func TestAttributeAll(t *testing.T) {
	t.Parallel()
	dns := newFakeDNS(t)
	a := newAttributor(t, directory(), Options{ASNDatabase: writeMMDB(t, "Test-ASN"), Resolve: dns.Resolve})
	urls := []string{"https://hosted.test/1", "https://t.me/x", "https://example.org/", "https://v6.test/", "https://nxdomain.test/",
		"https://hosted.test/2", "http://[2001:db8:1::1]/", "https://unclaimed.test/", "https://mixed.test/", "https://servfail.test/"}
	var items []*takedown.Item
	for i, u := range urls {
		it := web(u)
		it.ID = int64(100 + i)
		if strings.Contains(u, "t.me") {
			it.Platform = takedown.PlatformTelegram
		}
		items = append(items, it)
	}
	items = append(items, nil)
	got := a.AttributeAll(t.Context(), items)

	// The same, one by one, from a fresh Attributor.
	b := newAttributor(t, directory(), Options{ASNDatabase: writeMMDB(t, "Test-ASN"), Resolve: newFakeDNS(t).Resolve})
	var wantAll []takedown.ItemAttribution
	for _, it := range items {
		wantAll = append(wantAll, b.Attribute(t.Context(), it))
	}
	if diff := cmp.Diff(wantAll, got); diff != "" {
		t.Errorf("mismatch (-want +got):\n%s", diff)
	}
	if got[0].ItemID != 100 || got[0].Provider != "hoster" || got[1].Provider != "telegram" || got[len(got)-1].Via != "none: no item" {
		t.Errorf("unexpected results %+v", got)
	}
	if got := a.AttributeAll(t.Context(), nil); len(got) != 0 {
		t.Errorf("AttributeAll(nil) = %v, want none", got)
	}
}

func TestAttributeConcurrently(t *testing.T) {
	t.Parallel()
	a := newAttributor(t, directory(), Options{ASNDatabase: writeMMDB(t, "Test-ASN"), Resolve: newFakeDNS(t).Resolve})
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for _, u := range []string{"https://hosted.test/", "https://v6.test/", "http://192.0.2.1/", "https://example.org/"} {
				if got := a.Attribute(t.Context(), web(u)); got.Provider == "" {
					t.Errorf("%s: not attributed: %+v", u, got)
				}
			}
		})
	}
	wg.Wait()
}

func TestNewRejects(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		providers []*takedown.Provider
		want      []string // in the message
	}{
		{"platform claimed twice", []*takedown.Provider{
			{Code: "b-telegram", Platforms: []takedown.Platform{takedown.PlatformTelegram}},
			{Code: "a-telegram", Platforms: []takedown.Platform{takedown.PlatformX, takedown.PlatformTelegram}},
		}, []string{"platform telegram", `"a-telegram"`, `"b-telegram"`}},
		{"domain claimed twice", []*takedown.Provider{
			{Code: "one", Domains: []string{"example.org"}},
			{Code: "two", Domains: []string{"Example.ORG."}},
		}, []string{"domain example.org", `"one"`, `"two"`}},
		{"IDN claimed twice", []*takedown.Provider{
			{Code: "one", Domains: []string{"bücher.example"}},
			{Code: "two", Domains: []string{"xn--bcher-kva.example"}},
		}, []string{"domain xn--bcher-kva.example", `"one"`, `"two"`}},
		{"ASN claimed twice", []*takedown.Provider{
			{Code: "one", ASNs: []uint32{64500, 64501}},
			{Code: "two", ASNs: []uint32{64501}},
		}, []string{"AS64501", `"one"`, `"two"`}},
		{"public suffix", []*takedown.Provider{{Code: "one", Domains: []string{"co.uk"}}}, []string{`"one"`, "co.uk", "public suffix"}},
		{"empty domain", []*takedown.Provider{{Code: "one", Domains: []string{""}}}, []string{`"one"`, "example.org"}},
		{"top-level domain", []*takedown.Provider{{Code: "one", Domains: []string{"org"}}}, []string{`"one"`, `"org"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			a, err := New(tt.providers, Options{})
			if err == nil {
				a.Close()
				t.Fatal("New accepted the directory")
			}
			if code := takedown.ErrorCode(err); code != takedown.EINVALID {
				t.Errorf("error code %q, want %q (%v)", code, takedown.EINVALID, err)
			}
			for _, w := range tt.want {
				if msg := takedown.ErrorMessage(err); !strings.Contains(msg, w) {
					t.Errorf("message %q does not say %q", msg, w)
				}
			}
		})
	}
}

func TestNewAcceptsRepeatsWithinOneProvider(t *testing.T) {
	t.Parallel()
	p := &takedown.Provider{Code: "one", Platforms: []takedown.Platform{"x", "x"}, Domains: []string{"example.org", "EXAMPLE.org"}, ASNs: []uint32{1, 1}}
	a := newAttributor(t, []*takedown.Provider{p, nil, p}, Options{})
	if diff := cmp.Diff(want("one", "domain example.org"), a.Attribute(t.Context(), web("https://example.org/"))); diff != "" {
		t.Errorf("mismatch (-want +got):\n%s", diff)
	}
}

func TestNewDatabaseErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	corrupt := filepath.Join(dir, "corrupt.mmdb")
	if err := os.WriteFile(corrupt, []byte(strings.Repeat("not a MaxMind database\n", 100)), 0o600); err != nil {
		t.Fatal(err)
	}
	truncated := filepath.Join(dir, "truncated.mmdb")
	good, err := os.ReadFile(writeMMDB(t, "Test-ASN"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(truncated, good[:len(good)/3], 0o600); err != nil {
		t.Fatal(err)
	}
	empty := filepath.Join(dir, "empty.mmdb")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "missing.mmdb")
	city := writeMMDB(t, "GeoLite2-City")
	tests := []struct {
		name string
		path string
		want []string
	}{
		{"missing", missing, []string{missing, "no such file"}},
		{"directory", dir, []string{dir, "cannot be read"}},
		{"corrupt", corrupt, []string{corrupt, "cannot be read as a MaxMind DB"}},
		{"truncated", truncated, []string{truncated, "cannot be read as a MaxMind DB"}},
		{"empty", empty, []string{empty, "cannot be read as a MaxMind DB"}},
		{"not ASN", city, []string{city, `"GeoLite2-City"`, "not an IP-to-ASN database"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			a, err := New(directory(), Options{ASNDatabase: tt.path})
			if err == nil {
				a.Close()
				t.Fatal("New accepted the database")
			}
			if code := takedown.ErrorCode(err); code != takedown.EINVALID {
				t.Errorf("error code %q, want %q (%v)", code, takedown.EINVALID, err)
			}
			for _, w := range tt.want {
				if msg := takedown.ErrorMessage(err); !strings.Contains(msg, w) {
					t.Errorf("message %q does not say %q", msg, w)
				}
			}
		})
	}
}

func TestHostOf(t *testing.T) {
	t.Parallel()
	tests := []struct {
		url  string
		host string
		ip   string
	}{
		{"https://example.org/x", "example.org", ""},
		{"https://Example.ORG:8080/x", "example.org", ""},
		{"https://example.org.?q", "example.org", ""},
		{"https://user:pw@example.org/", "example.org", ""},
		{"example.org/x", "example.org", ""},
		{"http://192.0.2.1:81/", "192.0.2.1", "192.0.2.1"},
		{"http://[2001:DB8::1]:81/", "2001:db8::1", "2001:db8::1"},
		{"http://[::ffff:192.0.2.1]/", "192.0.2.1", "192.0.2.1"},
		{"http://[fe80::1%25eth0]/", "fe80::1", "fe80::1"},
		{"http://[2001:db8::1/", "", ""},
		{"http://[nonsense]/", "", ""},
		{"http:///x", "", ""},
	}
	for _, tt := range tests {
		host, ip := hostOf(tt.url)
		var gotIP string
		if ip.IsValid() {
			gotIP = ip.String()
		}
		if diff := cmp.Diff([]string{tt.host, tt.ip}, []string{host, gotIP}); diff != "" {
			t.Errorf("hostOf(%q): mismatch (-want +got):\n%s", tt.url, diff)
		}
	}
}
