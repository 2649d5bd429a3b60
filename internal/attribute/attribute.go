// Package attribute decides which online service provider an item is
// referred to. A platform's items go to the provider that runs the
// platform. A plain website goes to the provider that claims its domain,
// else to the one whose network hosts it, found from the site's address
// in an operator-supplied IP-to-ASN database; else to nobody, which puts
// the item in the unattributed queue that operators resolve by hand.
//
// Every answer says how it was reached (ItemAttribution.Via), because an
// operator who disagrees with one needs to see which rule made it.
package attribute

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/oschwald/maxminddb-golang/v2"
	"golang.org/x/net/idna"
	"golang.org/x/net/publicsuffix"

	"github.com/takedown-project/takedown"
)

// MaxCachedHosts bounds the host lookups an Attributor remembers. An
// operation's thousands of pages sit on a few hundred hosts, so this many
// covers any real round while keeping a runaway input from growing the
// cache without end.
const MaxCachedHosts = 10_000

// lookupWorkers is how many hosts AttributeAll looks up at once: DNS
// answers take tens of milliseconds, and a few hundred hosts one after the
// other would take many seconds.
const lookupWorkers = 8

// Options are what network attribution needs from outside.
type Options struct {
	// ASNDatabase is the path of an IP-to-ASN database in MaxMind DB
	// format (GeoLite2-ASN, DB-IP ASN Lite, ...) whose records have
	// autonomous_system_number and autonomous_system_organization; ""
	// for none, and then no website is attributed by network.
	ASNDatabase string
	// Resolve returns the addresses of a host name, in production
	// net.DefaultResolver.LookupNetIP with network "ip". Nil means no
	// address lookups at all: network attribution then works only for
	// hosts that are IP addresses. takedown's demo and tests run without
	// DNS, and an attribution round must not leak which sites are under
	// investigation to a resolver the operator did not choose.
	Resolve func(ctx context.Context, host string) ([]netip.Addr, error)
}

// Attributor attributes items to the providers of one directory. It is
// safe for concurrent use until Close.
type Attributor struct {
	platforms map[takedown.Platform]string // platform → provider code
	domains   map[string]string            // claimed domain, punycode → provider code
	asns      map[uint32]string            // ASN → provider code

	db      *maxminddb.Reader // nil without a database
	resolve func(ctx context.Context, host string) ([]netip.Addr, error)

	mu    sync.Mutex
	hosts map[string]verdict // network verdicts by host
}

// verdict is an attribution without its item.
type verdict struct {
	provider string // provider code, "" for none
	via      string
}

func none(why string) verdict { return verdict{via: "none: " + why} }

// New builds an Attributor for the providers of a directory and opens the
// ASN database, if any. A directory in which two providers claim the same
// platform, domain or ASN is ambiguous, and New refuses it with an
// EINVALID error naming both rather than pick one silently. A database
// that is missing, unreadable or not an ASN database is an EINVALID error
// too. Close the Attributor when done.
func New(providers []*takedown.Provider, opts Options) (*Attributor, error) {
	a := &Attributor{
		platforms: map[takedown.Platform]string{},
		domains:   map[string]string{},
		asns:      map[uint32]string{},
		resolve:   opts.Resolve,
		hosts:     map[string]verdict{},
	}
	// Sorted by code, so that which conflict is reported does not depend
	// on the order the directory came in.
	ps := slices.DeleteFunc(slices.Clone(providers), func(p *takedown.Provider) bool { return p == nil })
	slices.SortFunc(ps, func(p, q *takedown.Provider) int { return cmp.Compare(p.Code, q.Code) })
	for _, p := range ps {
		for _, pl := range p.Platforms {
			if err := claim(a.platforms, pl, p.Code, "platform "+string(pl)); err != nil {
				return nil, err
			}
		}
		for _, d := range p.Domains {
			name, err := domainKey(d)
			if err != nil {
				return nil, takedown.Errorf(takedown.EINVALID, "provider %q: domain %q: %s", p.Code, d, err)
			}
			if err := claim(a.domains, name, p.Code, "domain "+name); err != nil {
				return nil, err
			}
		}
		for _, n := range p.ASNs {
			if err := claim(a.asns, n, p.Code, "AS"+strconv.FormatUint(uint64(n), 10)); err != nil {
				return nil, err
			}
		}
	}
	if opts.ASNDatabase != "" {
		db, err := openASNDatabase(opts.ASNDatabase)
		if err != nil {
			return nil, err
		}
		a.db = db
	}
	return a, nil
}

// claim records that provider code claims key, unless another provider
// has already.
func claim[K comparable](m map[K]string, key K, code, what string) error {
	if other, ok := m[key]; ok && other != code {
		return takedown.Errorf(takedown.EINVALID, "%s is claimed by both provider %q and provider %q: a directory must name one provider for it", what, other, code)
	}
	m[key] = code
	return nil
}

// idnaProfile turns a claimed domain written in Unicode into the ASCII
// form in which hosts arrive (canon maps them the same way).
var idnaProfile = idna.New(idna.MapForLookup(), idna.Transitional(false), idna.StrictDomainName(false), idna.VerifyDNSLength(false))

// domainKey returns a claimed domain as hosts are compared with it: lower
// case, punycode, without a trailing dot.
func domainKey(d string) (string, error) {
	s := strings.TrimSuffix(strings.ToLower(strings.TrimSpace(d)), ".")
	if s == "" || !strings.Contains(s, ".") {
		return "", errors.New("want a domain such as example.org")
	}
	a, err := idnaProfile.ToASCII(s)
	if err != nil {
		return "", fmt.Errorf("not a domain name: %v", err)
	}
	// Anyone can register under a public suffix such as co.uk: no
	// provider hosts all of it, and a claim on it would take every site
	// there. Private suffixes (github.io) are one provider's, and fine.
	if ps, icann := publicsuffix.PublicSuffix(a); icann && ps == a {
		return "", errors.New("is a public suffix, under which anyone can register a domain")
	}
	return a, nil
}

// openASNDatabase opens an IP-to-ASN database and checks that it is one:
// a City or Country database opens just as well, and would leave every
// website unattributed without a word.
func openASNDatabase(path string) (*maxminddb.Reader, error) {
	db, err := maxminddb.Open(path)
	if err != nil {
		return nil, takedown.Errorf(takedown.EINVALID, "ASN database %s cannot be read as a MaxMind DB (.mmdb) file: %v", path, err)
	}
	if t := db.Metadata.DatabaseType; !strings.Contains(strings.ToUpper(t), "ASN") {
		db.Close()
		return nil, takedown.Errorf(takedown.EINVALID, "ASN database %s is of type %q, not an IP-to-ASN database such as GeoLite2-ASN or DB-IP ASN Lite", path, t)
	}
	return db, nil
}

// Close closes the ASN database. Call it once every Attribute call has
// returned.
func (a *Attributor) Close() error {
	if a.db == nil {
		return nil
	}
	db := a.db
	a.db = nil
	return db.Close()
}

// Attribute says which provider the item goes to, and how that was found.
//
// Via is "platform"; "domain example.org" (the site's registrable domain,
// or the claimed domain when a provider claims a subdomain of it);
// "network AS64500 (Organisation)"; or "none: " and why. If ctx ends
// during an address lookup the item comes back as none as well, with Via
// saying the lookup was cut short: check ctx.Err() before storing the
// result.
func (a *Attributor) Attribute(ctx context.Context, it *takedown.Item) takedown.ItemAttribution {
	v, host := a.route(it)
	if host != "" {
		v = a.network(ctx, host)
	}
	return v.of(it)
}

// AttributeAll attributes items, in order. It looks up a few hosts at
// once, each only once. As with Attribute, check ctx.Err() before storing
// the results.
func (a *Attributor) AttributeAll(ctx context.Context, items []*takedown.Item) []takedown.ItemAttribution {
	out := make([]takedown.ItemAttribution, len(items))
	waiting := map[string][]int{} // host → indexes of the items on it
	var hosts []string
	for i, it := range items {
		v, host := a.route(it)
		if host == "" {
			out[i] = v.of(it)
			continue
		}
		if _, ok := waiting[host]; !ok {
			hosts = append(hosts, host)
		}
		waiting[host] = append(waiting[host], i)
	}
	verdicts := make([]verdict, len(hosts))
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(lookupWorkers, len(hosts)) {
		wg.Go(func() {
			for j := int(next.Add(1) - 1); j < len(hosts); j = int(next.Add(1) - 1) {
				verdicts[j] = a.network(ctx, hosts[j])
			}
		})
	}
	wg.Wait()
	for j, host := range hosts {
		for _, i := range waiting[host] {
			out[i] = verdicts[j].of(items[i])
		}
	}
	return out
}

func (v verdict) of(it *takedown.Item) takedown.ItemAttribution {
	var id int64
	if it != nil {
		id = it.ID
	}
	return takedown.ItemAttribution{ItemID: id, Provider: v.provider, Via: v.via}
}

// route attributes what needs no lookup: platform items and websites on a
// claimed domain. For a website it cannot attribute so, it returns the host
// whose network is to be looked up.
func (a *Attributor) route(it *takedown.Item) (verdict, string) {
	if it == nil {
		return none("no item"), ""
	}
	if it.Platform != takedown.PlatformWeb {
		// A platform's items are its operator's to remove, whoever hosts
		// its servers; and the platform's host (t.me) says nothing about
		// the one item.
		if code, ok := a.platforms[it.Platform]; ok {
			return verdict{provider: code, via: "platform"}, ""
		}
		return none("no provider runs platform " + string(it.Platform)), ""
	}
	host, ip := hostOf(it.URL)
	if host == "" {
		return none("no host in URL"), ""
	}
	if !ip.IsValid() {
		if v, ok := a.byDomain(host); ok {
			return v, ""
		}
	}
	if a.db == nil {
		return none("no provider claims the domain, and there is no ASN database"), ""
	}
	return verdict{}, host
}

// byDomain finds the provider claiming the longest suffix of host, so that
// a provider claiming "blog.example.org" takes that site from the one
// claiming "example.org". Only whole labels match: "evil-example.org" is
// not on "example.org".
func (a *Attributor) byDomain(host string) (verdict, bool) {
	for s := host; ; {
		if code, ok := a.domains[s]; ok {
			return verdict{provider: code, via: "domain " + domainShown(host, s)}, true
		}
		i := strings.IndexByte(s, '.')
		if i < 0 {
			return verdict{}, false
		}
		s = s[i+1:]
	}
}

// domainShown names the domain of a match for an operator: the site's
// registrable domain, which is what one recognises, unless the claim is
// more specific than that.
func domainShown(host, claimed string) string {
	reg, err := publicsuffix.EffectiveTLDPlusOne(host)
	if err != nil || len(claimed) > len(reg) {
		return claimed
	}
	return reg
}

// network attributes a host by the networks its addresses are in,
// remembering the answer.
func (a *Attributor) network(ctx context.Context, host string) verdict {
	a.mu.Lock()
	v, ok := a.hosts[host]
	a.mu.Unlock()
	if ok {
		return v
	}
	v, keep := a.lookUp(ctx, host)
	if !keep {
		return v
	}
	a.mu.Lock()
	if len(a.hosts) >= MaxCachedHosts {
		for h := range a.hosts { // any one: the map's order is random
			delete(a.hosts, h)
			break
		}
	}
	a.hosts[host] = v
	a.mu.Unlock()
	return v
}

// lookUp resolves host, unless it is an IP address, and looks its
// addresses up in the ASN database. keep is false for an answer that
// only says ctx ended, which a later call could improve on.
func (a *Attributor) lookUp(ctx context.Context, host string) (v verdict, keep bool) {
	ip, err := netip.ParseAddr(host) // hostOf wrote addresses so
	addrs := []netip.Addr{ip}
	if err != nil {
		if a.resolve == nil {
			return none("no provider claims the domain, and address lookups are off"), true
		}
		if err := ctx.Err(); err != nil {
			return none("address lookup cut short: " + err.Error()), false
		}
		addrs, err = a.resolve(ctx, host)
		if err != nil {
			if ctx.Err() != nil {
				return none("address lookup cut short: " + ctx.Err().Error()), false
			}
			if dnsErr, ok := errors.AsType[*net.DNSError](err); ok && dnsErr.IsNotFound {
				return none("no address for host"), true
			}
			return none("address lookup failed: " + err.Error()), true
		}
		// Sorted, so that round-robin DNS does not change the answer from
		// one round to the next.
		addrs = slices.DeleteFunc(slices.Clone(addrs), func(x netip.Addr) bool { return !x.IsValid() })
		for i := range addrs {
			addrs[i] = addrs[i].Unmap().WithZone("")
		}
		slices.SortFunc(addrs, netip.Addr.Compare)
		addrs = slices.Compact(addrs)
		if len(addrs) == 0 {
			return none("no address for host"), true
		}
	}
	// The first address whose network is a provider's wins; failing that,
	// the first network found is named, so the operator knows whom to add.
	var unclaimed *asRecord
	for _, addr := range addrs {
		var r asRecord
		if err := a.db.Lookup(addr).Decode(&r); err != nil {
			return none(fmt.Sprintf("ASN database lookup of %s failed: %v", addr, err)), true
		}
		if r.Number == 0 {
			continue
		}
		if code, ok := a.asns[r.Number]; ok {
			return verdict{provider: code, via: "network " + r.String()}, true
		}
		if unclaimed == nil {
			unclaimed = &r
		}
	}
	if unclaimed != nil {
		return none(unclaimed.String() + " is no provider's"), true
	}
	if len(addrs) == 1 {
		return none(addrs[0].String() + " is in no network of the ASN database"), true
	}
	return none("no address of host is in a network of the ASN database"), true
}

// asRecord is the part of an IP-to-ASN database record attribution reads.
type asRecord struct {
	Number       uint32 `maxminddb:"autonomous_system_number"`
	Organization string `maxminddb:"autonomous_system_organization"`
}

// String is "AS64500 (Organisation)", or "AS64500" without one.
func (r *asRecord) String() string {
	s := "AS" + strconv.FormatUint(uint64(r.Number), 10)
	if r.Organization != "" {
		s += " (" + r.Organization + ")"
	}
	return s
}

// hostOf returns the host of a URL, lower case, without user
// information, port, brackets or trailing dot; and the address when the
// host is an IP address. Canonical URLs have their host in punycode and
// IPv4 addresses in dotted decimal already.
func hostOf(raw string) (string, netip.Addr) {
	s := raw
	if i := strings.Index(s, "://"); i >= 0 {
		s = s[i+3:]
	}
	if i := strings.IndexAny(s, "/?#"); i >= 0 {
		s = s[:i]
	}
	if i := strings.LastIndexByte(s, '@'); i >= 0 {
		s = s[i+1:]
	}
	if strings.HasPrefix(s, "[") {
		end := strings.IndexByte(s, ']')
		if end < 0 {
			return "", netip.Addr{}
		}
		ip, err := netip.ParseAddr(s[1:end])
		if err != nil {
			return "", netip.Addr{}
		}
		ip = ip.Unmap().WithZone("")
		return ip.String(), ip
	}
	if i := strings.IndexByte(s, ':'); i >= 0 {
		s = s[:i]
	}
	s = strings.TrimSuffix(strings.ToLower(s), ".")
	if ip, err := netip.ParseAddr(s); err == nil {
		ip = ip.Unmap().WithZone("")
		return ip.String(), ip
	}
	return s, netip.Addr{}
}
