package outbound_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/takedown-project/takedown/internal/outbound"
	"github.com/takedown-project/takedown/internal/simnet"
)

func TestRoute(t *testing.T) {
	t.Parallel()
	c := &outbound.Config{Override: map[string]string{"*:443": "127.0.0.1:9443", "t.me:443": "127.0.0.1:1111"}}
	tests := []struct{ addr, want string }{
		{"t.me:443", "127.0.0.1:1111"},
		{"T.ME.:443", "127.0.0.1:1111"},
		{"x.com:443", "127.0.0.1:9443"},
		{"x.com:80", "x.com:80"},
		{"[::1]:443", "127.0.0.1:9443"},
		{"no-port", "no-port"},
	}
	for _, tt := range tests {
		if got := c.Route(tt.addr); got != tt.want {
			t.Errorf("Route(%q) = %q, want %q", tt.addr, got, tt.want)
		}
	}
	if got := (&outbound.Config{}).Route("t.me:443"); got != "t.me:443" {
		t.Errorf("without an override, Route changes the address: %q", got)
	}
}

// startSimnet starts a small simulated internet and writes its
// description the way `takedown simnet serve` does.
func startSimnet(t *testing.T) (*simnet.Server, string) {
	t.Helper()
	s, err := simnet.ParseScenario([]byte("seed: 3\nnetwork: {items: 200, outlets: 2}\n"))
	if err != nil {
		t.Fatal(err)
	}
	srv, err := simnet.Start(context.Background(), simnet.Config{Scenario: s})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	b, _ := json.Marshal(srv.Info())
	path := filepath.Join(t.TempDir(), "simnet.json")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return srv, path
}

// In simulator mode an item's own URL reaches the simulated platform, its
// certificate checks out against the simulator's CA, and a port the
// simulator does not stand in for is refused instead of let out.
func TestSimnetMode(t *testing.T) {
	t.Parallel()
	srv, path := startSimnet(t)
	cfg, err := outbound.LoadSimnet(path)
	if err != nil {
		t.Fatal(err)
	}
	var channel string
	for _, e := range srv.World().Entities {
		if e.Platform == simnet.Telegram && e.Kind == simnet.KindChannel {
			channel = e.URL
			break
		}
	}
	client := cfg.HTTPClient(10 * time.Second)
	resp, err := client.Get(strings.Replace(channel, "https://t.me/", "https://telegram.me/s/", 1))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), "tgme_channel_info") {
		t.Errorf("channel preview through the override: %s", resp.Status)
	}
	// Plain HTTP is moved to HTTPS by the simulated service, and the
	// client follows.
	resp, err = client.Get(strings.Replace(channel, "https://", "http://", 1))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Request.URL.Scheme != "https" {
		t.Errorf("http:// URL: %s at %s, want 200 after the move to https", resp.Status, resp.Request.URL)
	}
	if _, err := cfg.DialContext(context.Background(), "tcp", "t.me:8443"); !errors.Is(err, outbound.ErrNoRoute) {
		t.Errorf("dial to an unrouted port in simulator mode: %v, want ErrNoRoute", err)
	}
	// Without the simulator's CA the same connection fails: nothing but
	// takedown's client in simulator mode trusts it.
	untrusting := *cfg
	untrusting.RootCAs = nil
	if _, err := untrusting.HTTPClient(5 * time.Second).Get(channel); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Errorf("a client without the simulator's CA: %v, want a certificate error", err)
	}
}

func TestLoadSimnetErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for name, content := range map[string]string{
		"notjson.json": "{",
		"noca.json":    `{"https": "127.0.0.1:1", "http": "127.0.0.1:2", "smtp": "127.0.0.1:3", "ca_pem": ""}`,
		"noaddr.json":  `{"ca_pem": "-----BEGIN CERTIFICATE-----\nMIIBLTCB1KADAgECAgEBMAoGCCqGSM49BAMCMAAwHhcNMjYwMTAxMDAwMDAwWhcNMjcwMTAxMDAwMDAwWjAAMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE\n-----END CERTIFICATE-----\n"}`,
	} {
		path := filepath.Join(dir, name)
		os.WriteFile(path, []byte(content), 0o600)
		if _, err := outbound.LoadSimnet(path); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	if _, err := outbound.LoadSimnet(filepath.Join(dir, "missing.json")); err == nil {
		t.Error("a missing file: no error")
	}
}
