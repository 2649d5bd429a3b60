// Package directory reads provider directory files (YAML or JSON: a list
// of providers with their platforms, domains, networks, languages and
// contacts) and ships the entries of the platforms takedown recognises,
// with their contacts left for the operator to fill in.
package directory

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/takedown-project/takedown"
)

//go:embed builtin.yaml
var builtin []byte

// Builtin returns the shipped entries.
func Builtin() []*takedown.Provider {
	ps, err := Parse(builtin)
	if err != nil {
		panic("the built-in provider directory is broken: " + err.Error())
	}
	return ps
}

// entry is a provider as a directory file writes it.
type entry struct {
	Code      string   `yaml:"code"`
	Name      string   `yaml:"name"`
	Platforms []string `yaml:"platforms"`
	Domains   []string `yaml:"domains"`
	ASNs      []uint32 `yaml:"asns"`
	Languages []string `yaml:"languages"`
	Contacts  contacts `yaml:"contacts"`
}

type contacts struct {
	AbuseEmail string `yaml:"abuse_email"`
	OrderEmail string `yaml:"order_email"`
	Webhook    *struct {
		URL    string `yaml:"url"`
		Secret string `yaml:"secret"`
	} `yaml:"webhook"`
	API *struct {
		URL   string `yaml:"url"`
		Token string `yaml:"token"`
	} `yaml:"api"`
}

// MaxProviders bounds a directory file.
const MaxProviders = 10000

// Parse reads a directory file: a YAML (or JSON) list of providers.
// Unknown fields, repeated codes and invalid entries are errors that name
// the entry; nothing of a bad file is taken.
func Parse(b []byte) ([]*takedown.Provider, error) {
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	var entries []entry
	if err := dec.Decode(&entries); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, takedown.Errorf(takedown.EINVALID, "provider directory: empty")
		}
		return nil, takedown.Errorf(takedown.EINVALID, "provider directory: %v", err)
	}
	if len(entries) > MaxProviders {
		return nil, takedown.Errorf(takedown.EINVALID, "provider directory: %d entries, more than %d", len(entries), MaxProviders)
	}
	seen := map[string]bool{}
	var out []*takedown.Provider
	for i, e := range entries {
		p := &takedown.Provider{Code: e.Code, Name: e.Name, Domains: lower(e.Domains), ASNs: e.ASNs, Languages: lower(e.Languages)}
		for _, pl := range e.Platforms {
			p.Platforms = append(p.Platforms, takedown.Platform(strings.ToLower(pl)))
		}
		c := e.Contacts
		p.Contacts.AbuseEmail, p.Contacts.OrderEmail = c.AbuseEmail, c.OrderEmail
		if c.Webhook != nil {
			p.Contacts.Webhook = &takedown.WebhookContact{URL: c.Webhook.URL, Secret: c.Webhook.Secret}
		}
		if c.API != nil {
			p.Contacts.API = &takedown.APIContact{URL: c.API.URL, Token: c.API.Token}
		}
		if err := p.Validate(); err != nil {
			return nil, takedown.Errorf(takedown.EINVALID, "provider directory: entry %d: %s", i+1, takedown.ErrorMessage(err))
		}
		if seen[p.Code] {
			return nil, takedown.Errorf(takedown.EINVALID, "provider directory: entry %d: code %q appears twice", i+1, p.Code)
		}
		seen[p.Code] = true
		p.Normalize()
		out = append(out, p)
	}
	return out, nil
}

func lower(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = strings.ToLower(strings.TrimSpace(s))
	}
	return out
}

// Render writes providers as a directory file, secrets included: the
// file an operator keeps to set up another installation.
func Render(ps []*takedown.Provider) ([]byte, error) {
	var entries []map[string]any
	for _, p := range ps {
		e := map[string]any{"code": p.Code, "name": p.Name}
		if len(p.Platforms) > 0 {
			e["platforms"] = p.Platforms
		}
		if len(p.Domains) > 0 {
			e["domains"] = p.Domains
		}
		if len(p.ASNs) > 0 {
			e["asns"] = p.ASNs
		}
		if len(p.Languages) > 0 {
			e["languages"] = p.Languages
		}
		c := map[string]any{}
		if p.Contacts.AbuseEmail != "" {
			c["abuse_email"] = p.Contacts.AbuseEmail
		}
		if p.Contacts.OrderEmail != "" {
			c["order_email"] = p.Contacts.OrderEmail
		}
		if w := p.Contacts.Webhook; w != nil {
			c["webhook"] = withSecret("url", w.URL, "secret", w.Secret)
		}
		if a := p.Contacts.API; a != nil {
			c["api"] = withSecret("url", a.URL, "token", a.Token)
		}
		if len(c) > 0 {
			e["contacts"] = c
		}
		entries = append(entries, e)
	}
	b, err := yaml.Marshal(entries)
	if err != nil {
		return nil, fmt.Errorf("render the provider directory: %w", err)
	}
	return b, nil
}

// withSecret writes a contact, its secret only when there is one.
func withSecret(urlKey, url, secretKey, secret string) map[string]string {
	m := map[string]string{urlKey: url}
	if secret != "" {
		m[secretKey] = secret
	}
	return m
}
