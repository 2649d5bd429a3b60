package probe

import (
	"context"
	"errors"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/takedown-project/takedown"
)

func TestGuardCheck(t *testing.T) {
	t.Parallel()
	loop := []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}
	tests := []struct {
		addr  string
		allow []netip.Prefix
		ok    bool
	}{
		{"8.8.8.8", nil, true},
		{"93.184.215.14", nil, true},
		{"2606:4700::6810:84e5", nil, true},
		{"::ffff:8.8.8.8", nil, true},
		{"127.0.0.1", nil, false},
		{"127.255.255.254", nil, false},
		{"127.0.0.1", loop, true},
		{"::1", nil, false},
		{"::1", loop, true},
		{"::ffff:127.0.0.1", nil, false},
		{"::ffff:127.0.0.1", loop, true},
		{"::ffff:10.1.2.3", nil, false},
		{"64:ff9b::7f00:1", nil, false}, // NAT64 of 127.0.0.1
		{"64:ff9b::808:808", nil, true}, // NAT64 of 8.8.8.8
		{"2002:a00:1::1", nil, false},   // 6to4 of 10.0.0.1
		{"2002:808:808::1", nil, true},  // 6to4 of 8.8.8.8
		{"::127.0.0.1", nil, false},     // IPv4-compatible
		{"0.0.0.0", nil, false},
		{"0.1.2.3", nil, false},
		{"::", nil, false},
		{"10.0.0.1", nil, false},
		{"172.16.0.1", nil, false},
		{"172.31.255.255", nil, false},
		{"172.32.0.1", nil, true},
		{"192.168.1.1", nil, false},
		{"100.64.0.1", nil, false},
		{"100.127.255.255", nil, false},
		{"100.128.0.1", nil, true},
		{"169.254.169.254", nil, false}, // cloud metadata
		{"fe80::1", nil, false},
		{"fe80::1%eth0", nil, false},
		{"fc00::1", nil, false},
		{"fd12:3456::1", nil, false},
		{"224.0.0.1", nil, false},
		{"239.255.255.250", nil, false},
		{"ff02::1", nil, false},
		{"255.255.255.255", nil, false},
		{"240.0.0.1", nil, false},
		{"192.0.2.1", nil, false},
		{"198.51.100.1", nil, false},
		{"203.0.113.1", nil, false},
		{"198.18.0.1", nil, false},
		{"192.0.0.8", nil, false},
		{"2001:db8::1", nil, false},
		{"2001:0:4136:e378::1", nil, false}, // Teredo
		{"10.9.8.7", []netip.Prefix{netip.MustParsePrefix("10.9.0.0/16")}, true},
	}
	for _, tt := range tests {
		g := guard{allow: tt.allow}
		err := g.check(netip.MustParseAddr(tt.addr))
		if (err == nil) != tt.ok {
			t.Errorf("check(%s, allow %v) = %v, want ok %v", tt.addr, tt.allow, err, tt.ok)
		}
		if err != nil && !errors.Is(err, ErrGuard) {
			t.Errorf("check(%s) = %v, not an ErrGuard", tt.addr, err)
		}
	}
	if err := (guard{}).check(netip.Addr{}); err == nil {
		t.Error("the zero address passed")
	}
}

func TestGuardControl(t *testing.T) {
	t.Parallel()
	g := guard{}
	for _, a := range []string{"127.0.0.1:80", "[::1]:443", "[::ffff:127.0.0.1]:80", "10.0.0.1:8080", "nonsense"} {
		if err := g.control("tcp", a, nil); err == nil {
			t.Errorf("control(%s) passed", a)
		}
	}
	if err := g.control("tcp4", "8.8.8.8:443", nil); err != nil {
		t.Errorf("control(8.8.8.8:443) = %v", err)
	}
}

func TestCheckURL(t *testing.T) {
	t.Parallel()
	tests := []struct {
		url string
		ok  bool
	}{
		{"https://t.me/s/some_channel", true},
		{"http://example.com:8080/x", true},
		{"http://8.8.8.8/", true},
		{"http://[2606:4700::1]/", true},
		{"http://a1.example/", true},
		{"http://example.123abc/", true},
		{"http://127.0.0.1/", false},
		{"http://2130706433/", false},
		{"http://0x7f.1/", false},
		{"http://0x7F000001/", false},
		{"http://017700000001/", false},
		{"http://0177.0.0.1/", false},
		{"http://127.1/", false},
		{"http://1.2.3/", false},
		{"http://134744072/", false}, // 8.8.8.8, but ambiguous all the same
		{"http://example.com.0x10/", false},
		{"http://[::1]/", false},
		{"http://[::ffff:127.0.0.1]/", false},
		{"http://[::ffff:7f00:1]/", false},
		{"http://[fe80::1%25eth0]/", false},
		{"ftp://example.com/", false},
		{"file:///etc/passwd", false},
		{"gopher://example.com/", false},
		{"javascript:alert(1)", false},
		{"//example.com/", false},
		{"http:///path", false},
		{"http://example.com:99999/", false},
	}
	for _, tt := range tests {
		u, err := url.Parse(tt.url)
		if err != nil {
			if tt.ok {
				t.Errorf("parse %s: %v", tt.url, err)
			}
			continue
		}
		err = guard{}.checkURL(u)
		if (err == nil) != tt.ok {
			t.Errorf("checkURL(%s) = %v, want ok %v", tt.url, err, tt.ok)
		}
	}
}

// TestNumericHostsNeverLookedUp: what the system resolver makes of
// 2130706433 depends on it (glibc's answers 127.0.0.1, Go's own says no
// such host): such hosts are refused before any lookup or dial, in a URL
// or in a redirect.
func TestNumericHostsNeverLookedUp(t *testing.T) {
	t.Parallel()
	var lookups, hits atomic.Int32
	srv := loopbackServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		http.Redirect(w, r, "http://"+r.URL.Query().Get("to")+"/", http.StatusFound)
	}))
	p := newTestProber(t, Config{
		Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")},
		Resolve: func(ctx context.Context, host string) ([]netip.Addr, error) {
			lookups.Add(1)
			return []netip.Addr{netip.MustParseAddr("127.0.0.1")}, nil
		},
	})
	forms := []string{"2130706433", "0x7f.1", "017700000001", "0x7f000001", "127.1", "0177.0.0.01", "0x7f.0.0.1"}
	for _, f := range forms {
		for _, u := range []string{"http://" + f + "/", "http://" + f + ":" + srv.port + "/", srv.URL + "/?to=" + f} {
			o := p.Probe(context.Background(), takedown.ProbeTarget{URL: u})
			if o.Verdict != takedown.VerdictUnknown || o.Reason != takedown.ReasonRefused || o.Rule != "guard" {
				t.Errorf("%s: %s/%s/%s (%s), want unknown/refused/guard", u, o.Verdict, o.Reason, o.Rule, o.Error)
			}
		}
	}
	if n := lookups.Load(); n != 0 {
		t.Errorf("%d lookups of numeric hosts", n)
	}
	if n := hits.Load(); int(n) != len(forms) {
		t.Errorf("server hit %d times, want %d (the redirecting page only)", n, len(forms))
	}
}

func TestLoopbackNameRefused(t *testing.T) {
	t.Parallel()
	var hits atomic.Int32
	srv := loopbackServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.Write([]byte("hello"))
	}))
	resolve := func(ctx context.Context, host string) ([]netip.Addr, error) {
		if host == "innocent.example" {
			return []netip.Addr{netip.MustParseAddr("127.0.0.1")}, nil
		}
		return nil, errors.New("unknown test host")
	}
	target := takedown.ProbeTarget{ItemID: 7, URL: "http://innocent.example:" + srv.port + "/page"}

	guarded := newTestProber(t, Config{Resolve: resolve})
	o := guarded.Probe(context.Background(), target)
	if o.Verdict != takedown.VerdictUnknown || o.Reason != takedown.ReasonRefused || o.Rule != "guard" {
		t.Errorf("guarded: %+v, want unknown/refused/guard", o)
	}
	if !strings.Contains(o.Error, "loopback") || o.ItemID != 7 {
		t.Errorf("guarded: error %q, item %d", o.Error, o.ItemID)
	}
	if hits.Load() != 0 {
		t.Fatal("the guarded probe reached the server")
	}

	allowed := newTestProber(t, Config{Resolve: resolve, Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}})
	o = allowed.Probe(context.Background(), target)
	if o.Verdict != takedown.VerdictOnline || o.Status != 200 || o.Bytes != 5 {
		t.Errorf("allowed: %+v, want online, 200, 5 bytes", o)
	}
}

func TestIPv6LoopbackAndMappedRefused(t *testing.T) {
	t.Parallel()
	srv := loopbackServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("reached: %s", r.Host)
	}))
	resolve := func(ctx context.Context, host string) ([]netip.Addr, error) {
		switch host {
		case "mapped.example":
			return []netip.Addr{netip.MustParseAddr("::ffff:127.0.0.1")}, nil
		case "localhost":
			return []netip.Addr{netip.MustParseAddr("127.0.0.1"), netip.MustParseAddr("::1")}, nil
		case "six.example":
			return []netip.Addr{netip.MustParseAddr("::1")}, nil
		case "mixed.example": // one public address does not save a private one
			return []netip.Addr{netip.MustParseAddr("93.184.215.14"), netip.MustParseAddr("127.0.0.1")}, nil
		}
		return nil, errors.New("unknown test host")
	}
	p := newTestProber(t, Config{Resolve: resolve})
	for _, u := range []string{
		"http://[::1]:" + srv.port + "/",
		"http://[::ffff:127.0.0.1]:" + srv.port + "/",
		"http://[::ffff:7f00:1]:" + srv.port + "/",
		"http://[0:0:0:0:0:ffff:7f00:0001]:" + srv.port + "/",
		"http://mapped.example:" + srv.port + "/",
		"http://six.example:" + srv.port + "/",
		"http://mixed.example:" + srv.port + "/",
		"http://127.0.0.1:" + srv.port + "/",
		"http://localhost:" + srv.port + "/",
	} {
		o := p.Probe(context.Background(), takedown.ProbeTarget{URL: u})
		if o.Reason != takedown.ReasonRefused {
			t.Errorf("%s: %s/%s (%s), want refused", u, o.Verdict, o.Reason, o.Error)
		}
	}
}
