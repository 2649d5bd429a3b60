package probe

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"syscall"
)

// ErrGuard is what every refusal of the safety guard wraps: the prober
// will not connect to an address of this machine, of its networks, or of
// no one, nor follow a URL it cannot read unambiguously.
var ErrGuard = errors.New("refused by the safety guard")

// GuardError says what the guard refused and why.
type GuardError struct {
	// Target is the address or URL refused.
	Target string
	// Why names the range or the rule ("loopback", "private", "scheme").
	Why string
}

func (e *GuardError) Error() string {
	return fmt.Sprintf("%s: %s (%s)", ErrGuard, e.Target, e.Why)
}

func (e *GuardError) Unwrap() error { return ErrGuard }

// forbidden are the ranges a probe never reaches unless the operator
// allows them: this machine, private and carrier networks, link-local,
// multicast, reserved, documentation and benchmarking ranges, and the
// IPv6 forms that carry an IPv4 address or lead to one through a relay.
var forbidden = func() []namedPrefix {
	var ps []namedPrefix
	for _, r := range []struct{ why, cidrs string }{
		{"this network", "0.0.0.0/8"},
		{"private", "10.0.0.0/8 172.16.0.0/12 192.168.0.0/16 fc00::/7"},
		{"carrier-grade NAT", "100.64.0.0/10"},
		{"loopback", "127.0.0.0/8 ::1/128"},
		{"link-local", "169.254.0.0/16 fe80::/10"},
		{"IETF protocol assignments", "192.0.0.0/24"},
		{"documentation", "192.0.2.0/24 198.51.100.0/24 203.0.113.0/24 2001:db8::/32 3fff::/20"},
		{"6to4 relay", "192.88.99.0/24"},
		{"benchmarking", "198.18.0.0/15 2001:2::/48"},
		{"multicast", "224.0.0.0/4 ff00::/8"},
		{"reserved", "240.0.0.0/4"}, // 255.255.255.255, the broadcast address, is in it
		{"unspecified", "::/128"},
		{"IPv4-compatible", "::/96"},
		{"discard-only", "100::/64"},
		{"local-use NAT64", "64:ff9b:1::/48"},
		{"Teredo", "2001::/32"},
		{"ORCHID", "2001:10::/28 2001:20::/28"},
		{"site-local", "fec0::/10"},
	} {
		for c := range strings.FieldsSeq(r.cidrs) {
			ps = append(ps, namedPrefix{netip.MustParsePrefix(c), r.why})
		}
	}
	return ps
}()

type namedPrefix struct {
	netip.Prefix
	why string
}

var (
	nat64  = netip.MustParsePrefix("64:ff9b::/96")
	sixTo4 = netip.MustParsePrefix("2002::/16")
)

// guard decides which addresses a probe may connect to.
type guard struct {
	allow []netip.Prefix
}

// check returns nil if a connection to a is permitted, a *GuardError
// otherwise. An IPv4 address written as IPv6 (mapped, NAT64, 6to4) is
// judged as the IPv4 address it leads to.
func (g guard) check(a netip.Addr) error {
	if !a.IsValid() {
		return &GuardError{Target: "no address", Why: "invalid"}
	}
	a = a.WithZone("")
	v4, embedded := embeddedV4(a)
	if g.allowed(a) || (embedded && g.allowed(v4)) {
		return nil
	}
	if why := forbiddenWhy(a); why != "" {
		return &GuardError{Target: a.String(), Why: why}
	}
	if embedded {
		if why := forbiddenWhy(v4); why != "" {
			return &GuardError{Target: a.String(), Why: why + " (" + v4.String() + ")"}
		}
	}
	return nil
}

func (g guard) allowed(a netip.Addr) bool {
	for _, p := range g.allow {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

func forbiddenWhy(a netip.Addr) string {
	for _, p := range forbidden {
		if p.Contains(a) {
			return p.why
		}
	}
	return ""
}

// embeddedV4 returns the IPv4 address an IPv6 address stands for: the
// mapped form ::ffff:a.b.c.d, the well-known NAT64 prefix and 6to4.
func embeddedV4(a netip.Addr) (netip.Addr, bool) {
	switch {
	case a.Is4In6():
		return a.Unmap(), true
	case nat64.Contains(a):
		b := a.As16()
		return netip.AddrFrom4([4]byte(b[12:16])), true
	case sixTo4.Contains(a):
		b := a.As16()
		return netip.AddrFrom4([4]byte(b[2:6])), true
	}
	return netip.Addr{}, false
}

// control is the dialer's last word: it sees the address the socket is
// about to connect to, whatever resolved it.
func (g guard) control(_, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return &GuardError{Target: address, Why: "not an address"}
	}
	return g.check(ap.Addr())
}

// checkURL refuses what is not an absolute http or https URL, and hosts
// written as IPv4 in another form than four decimal numbers (2130706433,
// 0x7f.1, 017700000001): resolvers and browsers disagree on what they
// mean, so a probe never guesses. An IP literal is checked against the
// guard at once; names are checked when they resolve, on every dial.
func (g guard) checkURL(u *url.URL) error {
	if u.Scheme != "http" && u.Scheme != "https" {
		return &GuardError{Target: u.Redacted(), Why: "not http or https"}
	}
	host := u.Hostname()
	if host == "" {
		return &GuardError{Target: u.Redacted(), Why: "no host"}
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return &GuardError{Target: u.Redacted(), Why: "bad port"}
		}
	}
	if strings.Contains(u.Host, "[") {
		a, err := netip.ParseAddr(host)
		if err != nil {
			return &GuardError{Target: u.Redacted(), Why: "bad IPv6 literal"}
		}
		return g.check(a)
	}
	if a, err := netip.ParseAddr(host); err == nil {
		return g.check(a)
	}
	if looksNumeric(host) {
		return &GuardError{Target: u.Redacted(), Why: "IPv4 address in a non-canonical form"}
	}
	return nil
}

// looksNumeric says a host would be read as an IPv4 address by the URL
// standard (its last label is a number, decimal, octal or hex), which is
// never a DNS name worth probing.
func looksNumeric(host string) bool {
	host = strings.TrimSuffix(host, ".")
	last := host[strings.LastIndexByte(host, '.')+1:]
	if last == "" {
		return false
	}
	if l := strings.ToLower(last); strings.HasPrefix(l, "0x") {
		_, err := strconv.ParseUint("0"+l[2:], 16, 64)
		return err == nil
	}
	for _, c := range last {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// resolveFunc looks up the addresses of a host name.
type resolveFunc func(ctx context.Context, host string) ([]netip.Addr, error)

func defaultResolve(ctx context.Context, host string) ([]netip.Addr, error) {
	return net.DefaultResolver.LookupNetIP(ctx, "ip", host)
}
