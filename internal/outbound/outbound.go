// Package outbound is how takedown reaches other hosts: one dialer and one
// HTTP client configuration, shared by everything that fetches pages or
// sends mail. In simulator mode (demo and tests) a host-to-address override
// sends every connection to the simulated internet on loopback, whatever
// host an item's URL names, and the client trusts the simulator's CA and
// nothing else; items keep their real-looking URLs, and nothing can leak to
// a real platform. The override is off unless a caller turns it on.
package outbound

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"strings"
	"time"
)

// Config is how outbound connections are made.
type Config struct {
	// UserAgent identifies takedown to the sites it reads.
	UserAgent string
	// Override maps "host:port", or "*:port" for every host, to the
	// address to dial instead. Empty means connect where the address
	// says.
	Override map[string]string
	// RootCAs, when set, are the only certificate authorities trusted
	// (the simulator's, in simulator mode); nil means the system's.
	RootCAs *x509.CertPool
	// Simulated says the override leads to the simulated internet.
	Simulated bool
	// DialTimeout bounds a connection attempt; 0 means 10 s.
	DialTimeout time.Duration
}

// DefaultUserAgent names takedown and where to read about it, as polite
// crawlers do.
const DefaultUserAgent = "takedown/1 (+https://github.com/takedown-project/takedown; referral verification)"

// Route returns the address a connection to addr ("host:port") goes to.
func (c *Config) Route(addr string) string {
	if len(c.Override) == 0 {
		return addr
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	host = strings.TrimSuffix(strings.ToLower(host), ".")
	if to, ok := c.Override[net.JoinHostPort(host, port)]; ok {
		return to
	}
	if to, ok := c.Override["*:"+port]; ok {
		return to
	}
	return addr
}

// ErrNoRoute is returned in simulator mode for a port the simulator does
// not stand in for: the connection is refused rather than let out.
var ErrNoRoute = errors.New("outbound: simulator mode has no route for this port")

// DialContext connects to addr, or to where the override sends it.
func (c *Config) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	to := c.Route(addr)
	if c.Simulated && to == addr {
		return nil, fmt.Errorf("dial %s: %w", addr, ErrNoRoute)
	}
	timeout := c.DialTimeout
	if timeout == 0 {
		timeout = 10 * time.Second
	}
	d := net.Dialer{Timeout: timeout, KeepAlive: 30 * time.Second}
	return d.DialContext(ctx, network, to)
}

// TLSConfig is the client TLS configuration: the configured roots, and
// the server name of the URL (not of the overridden address), so that
// certificates are checked against the host the item names.
func (c *Config) TLSConfig() *tls.Config {
	return &tls.Config{RootCAs: c.RootCAs, MinVersion: tls.VersionTLS12}
}

// Transport returns an HTTP transport that connects through c.
func (c *Config) Transport() *http.Transport {
	t := &http.Transport{
		DialContext:           c.DialContext,
		TLSClientConfig:       c.TLSConfig(),
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          1000,
		MaxIdleConnsPerHost:   64,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ResponseHeaderTimeout: 30 * time.Second,
		ExpectContinueTimeout: time.Second,
	}
	if !c.Simulated {
		// A proxy from the environment is the operator's to choose; in
		// simulator mode nothing may go anywhere but the simulator.
		t.Proxy = http.ProxyFromEnvironment
	}
	return t
}

// HTTPClient returns a client that connects through c and sends its
// User-Agent.
func (c *Config) HTTPClient(timeout time.Duration) *http.Client {
	ua := c.UserAgent
	if ua == "" {
		ua = DefaultUserAgent
	}
	return &http.Client{Transport: userAgent{ua, c.Transport()}, Timeout: timeout}
}

type userAgent struct {
	ua   string
	next http.RoundTripper
}

func (u userAgent) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Header.Get("User-Agent") == "" {
		r = r.Clone(r.Context())
		r.Header.Set("User-Agent", u.ua)
	}
	return u.next.RoundTrip(r)
}

// SimnetInfo is the part of a running simulator's description
// (simnet.Info, written as simnet.json) that outbound connections need.
type SimnetInfo struct {
	HTTPS string `json:"https"`
	HTTP  string `json:"http"`
	SMTP  string `json:"smtp"`
	CAPEM string `json:"ca_pem"`
}

// Simnet returns the configuration of simulator mode: every host's ports
// 443, 80 and 25/465/587 lead to the simulator, whose CA alone is trusted.
func Simnet(info SimnetInfo) (*Config, error) {
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM([]byte(info.CAPEM)) {
		return nil, errors.New("outbound: the simulator description has no CA certificate")
	}
	if info.HTTPS == "" || info.HTTP == "" || info.SMTP == "" {
		return nil, errors.New("outbound: the simulator description lacks an address (https, http, smtp)")
	}
	return &Config{
		Override:  map[string]string{"*:443": info.HTTPS, "*:80": info.HTTP, "*:25": info.SMTP, "*:465": info.SMTP, "*:587": info.SMTP},
		RootCAs:   pool,
		Simulated: true,
	}, nil
}

// LoadSimnet reads a simulator description file (simnet.json) and returns
// the configuration of simulator mode.
func LoadSimnet(path string) (*Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("simulator description: %w", err)
	}
	var info SimnetInfo
	if err := json.Unmarshal(b, &info); err != nil {
		return nil, fmt.Errorf("simulator description %s: %w", path, err)
	}
	c, err := Simnet(info)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return c, nil
}
