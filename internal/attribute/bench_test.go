package attribute

import (
	"context"
	"fmt"
	"net/netip"
	"testing"

	"github.com/takedown-project/takedown"
)

// benchItems makes n items as an operation has them: most on platforms,
// the rest thousands of pages on a few hundred websites, some on claimed
// domains, some found by network, some on IP addresses, some nowhere.
func benchItems(n int) []*takedown.Item {
	platforms := takedown.Platforms[:len(takedown.Platforms)-1]
	items := make([]*takedown.Item, n)
	for i := range items {
		it := &takedown.Item{ID: int64(i + 1), Platform: takedown.PlatformWeb, Kind: takedown.KindWebsite}
		site := i % 300
		switch {
		case i%5 < 3: // three in five on a platform
			it.Platform = platforms[i%len(platforms)]
			it.URL = fmt.Sprintf("https://%s.example/item/%d", it.Platform, i)
		case site < 100:
			it.URL = fmt.Sprintf("https://site%d.example.org/page/%d", site, i)
		case site < 280:
			it.URL = fmt.Sprintf("https://www.site%d.test/page/%d", site, i)
		default:
			it.URL = fmt.Sprintf("http://192.0.2.%d/page/%d", site-279, i)
		}
		items[i] = it
	}
	return items
}

// benchResolve answers at once, as a warm local resolver would: the
// benchmark measures attribution, not DNS.
func benchResolve(_ context.Context, host string) ([]netip.Addr, error) {
	var n int
	fmt.Sscanf(host, "www.site%d.test", &n)
	switch n % 3 {
	case 0:
		return []netip.Addr{netip.AddrFrom4([4]byte{192, 0, 2, byte(n)})}, nil // claimed network
	case 1:
		return []netip.Addr{netip.MustParseAddr("2001:db8:2::1")}, nil // unclaimed network
	default:
		return []netip.Addr{netip.AddrFrom4([4]byte{203, 0, 113, byte(n)})}, nil // in no network
	}
}

// BenchmarkAttribute is one attribution round of a 26,000-item operation:
// building the tables, opening the database, and attributing every item
// with cold caches.
func BenchmarkAttribute(b *testing.B) {
	items := benchItems(26_000)
	db := writeMMDB(b, "Test-ASN")
	providers := directory()
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		a, err := New(providers, Options{ASNDatabase: db, Resolve: benchResolve})
		if err != nil {
			b.Fatal(err)
		}
		as := a.AttributeAll(ctx, items)
		if len(as) != len(items) || as[0].Provider == "" {
			b.Fatalf("unexpected result %+v", as[0])
		}
		a.Close()
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(len(items)), "ns/item")
}
