package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/takedown-project/takedown"
	"github.com/takedown-project/takedown/internal/auth"
)

// loadOptions say how hard and how long the load generator drives the API.
type loadOptions struct {
	operation   string
	agencies    int
	duration    time.Duration
	maxRequests int
	importShare float64
	batch       int
}

// loadAgency is one simulated agency: its code and its analyst's token.
type loadAgency struct {
	code, token string
}

// loadResult is what one request took.
type loadResult struct {
	kind    string
	elapsed time.Duration
	failed  bool
}

func newBenchLoadCommand(g *globals) *cobra.Command {
	o := &loadOptions{}
	cmd := &cobra.Command{
		Use:   "load --operation OP [--agencies 11] [--duration 60s] [--max-requests N]",
		Short: "Drive the API as agencies importing and browsing at once, and report requests/s and latencies",
		Long: `load starts takedown serve on the database --db names (on loopback, port 0)
and drives its API as --agencies agencies at once, each an analyst with
a token of its own (agencies load-01, load-02, ... are added to the
operation, with their users and tokens, if they are not there): most
requests browse (the item list's first and next pages, filtered by
platform, status and agency, a text search, an item, the operation's
figures), the rest (--import-share) import a batch of new URLs of their
own. It stops after --duration or --max-requests, whichever comes first,
and reports the sustained requests per second and the latencies (p50,
p99) overall and per kind of request. Only loopback is ever loaded.`,
		Example: `  takedown sample --rows 1000000 --out big && takedown --db big.db import ...   # a million items first
  takedown --db big.db bench load --operation op --duration 60s`,
		Args: cobra.NoArgs,
		RunE: withDatabase(g, func(cmd *cobra.Command, args []string, db database) error {
			return runLoad(cmd.Context(), g, db, o)
		}),
	}
	f := cmd.Flags()
	f.StringVar(&o.operation, "operation", "", "the operation (required)")
	f.IntVar(&o.agencies, "agencies", 11, "agencies at once, each one client")
	f.DurationVar(&o.duration, "duration", time.Minute, "how long to drive the API")
	f.IntVar(&o.maxRequests, "max-requests", 1_000_000, "stop after this many requests")
	f.Float64Var(&o.importShare, "import-share", 0.1, "the share of requests that import")
	f.IntVar(&o.batch, "batch", 100, "URLs in one import request")
	_ = cmd.MarkFlagRequired("operation")
	return cmd
}

// loadSetup adds the load agencies to the operation, each with an
// analyst, and returns them with fresh tokens.
func loadSetup(ctx context.Context, db database, op *takedown.Operation, n int) ([]loadAgency, error) {
	out := make([]loadAgency, n)
	for i := range n {
		code := fmt.Sprintf("load-%02d", i+1)
		if _, err := db.FindAgency(ctx, code); takedown.ErrorCode(err) == takedown.ENOTFOUND {
			if err := db.CreateAgency(ctx, &takedown.Agency{Code: code, Name: "Load agency " + code[5:]}); err != nil {
				return nil, err
			}
		} else if err != nil {
			return nil, err
		}
		if !slices.Contains(op.Agencies, code) {
			if err := db.AddParticipant(ctx, op.Slug, code); err != nil {
				return nil, err
			}
		}
		user := code + "-analyst"
		if _, err := db.FindUser(ctx, user); takedown.ErrorCode(err) == takedown.ENOTFOUND {
			u := &takedown.User{Name: user, Roles: []takedown.Role{takedown.RoleAnalyst}, Agency: code}
			if err := db.CreateUser(ctx, u, ""); err != nil {
				return nil, err
			}
		} else if err != nil {
			return nil, err
		}
		secret, prefix, hash := auth.NewToken()
		t := &takedown.Token{User: user, Name: "bench load", Prefix: prefix, Scopes: []takedown.Scope{takedown.ScopeRead, takedown.ScopeWrite}, ExpiresAt: time.Now().Add(24 * time.Hour)}
		if err := db.CreateToken(ctx, t, hash); err != nil {
			return nil, err
		}
		out[i] = loadAgency{code: code, token: secret}
	}
	return out, nil
}

func runLoad(ctx context.Context, g *globals, db database, o *loadOptions) error {
	op, err := db.FindOperation(ctx, o.operation)
	if err != nil {
		return err
	}
	if o.agencies < 1 || o.agencies > 99 {
		return takedown.Errorf(takedown.EINVALID, "--agencies %d: want 1 to 99", o.agencies)
	}
	agencies, err := loadSetup(ctx, db, op, o.agencies)
	if err != nil {
		return err
	}
	// The search index catches up first, as a running deployment's job
	// keeps it (the server here runs no jobs).
	for {
		n, err := db.IndexSearch(ctx, 10000)
		if err != nil {
			return err
		}
		if n == 0 {
			break
		}
	}
	// The server under load, on loopback, in this process.
	serveCtx, stopServe := context.WithCancel(ctx)
	defer stopServe()
	ready := make(chan string, 1)
	served := make(chan error, 1)
	so := &serveOptions{listen: "127.0.0.1:0", jobs: false, sessionIdle: time.Hour, sessionMax: time.Hour, ready: func(addr string) { ready <- addr }}
	go func() { served <- serveDB(serveCtx, g, so, db) }()
	var base string
	select {
	case addr := <-ready:
		base = "http://" + addr + "/api/v1/operations/" + url.PathEscape(op.Slug)
	case err := <-served:
		return err
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: o.agencies * 2}, Timeout: time.Minute}

	fmt.Fprintf(g.stderr, "driving %s with %d agencies for %s (at most %d requests)\n", op.Slug, o.agencies, o.duration, o.maxRequests)
	runCtx, stop := context.WithTimeout(ctx, o.duration)
	defer stop()
	var (
		mu      sync.Mutex
		results []loadResult
		sent    int
	)
	take := func() bool {
		mu.Lock()
		defer mu.Unlock()
		if sent >= o.maxRequests {
			return false
		}
		sent++
		return true
	}
	start := time.Now()
	var wg sync.WaitGroup
	for i, a := range agencies {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := &loadClient{http: client, base: base, token: a.token, agency: a.code, r: rand.New(rand.NewPCG(uint64(i), 7)), batch: o.batch}
			var mine []loadResult
			for runCtx.Err() == nil && take() {
				kind := c.pick(o.importShare)
				t0 := time.Now()
				err := c.do(runCtx, kind)
				if runCtx.Err() != nil {
					break // cut by the end of the run, not an answer
				}
				mine = append(mine, loadResult{kind: kind, elapsed: time.Since(t0), failed: err != nil})
				if err != nil {
					g.logger.Warn("load request failed", "kind", kind, "error", err)
				}
			}
			mu.Lock()
			results = append(results, mine...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	stopServe()
	if err := <-served; err != nil {
		return err
	}
	writeLoadReport(g.stdout, results, elapsed)
	return nil
}

// loadClient is one agency's analyst.
type loadClient struct {
	http          *http.Client
	base, token   string
	agency        string
	r             *rand.Rand
	batch         int
	cursor        string
	lastItem      int64
	importCounter int
}

var loadKinds = []string{"list", "next page", "filter", "search", "item", "figures"}

// pick chooses what the analyst does next.
func (c *loadClient) pick(importShare float64) string {
	if c.r.Float64() < importShare {
		return "import"
	}
	return loadKinds[c.r.IntN(len(loadKinds))]
}

func (c *loadClient) do(ctx context.Context, kind string) error {
	var path string
	var body any
	switch kind {
	case "list":
		path = "/items?limit=50"
	case "next page":
		if c.cursor == "" {
			path = "/items?limit=50"
		} else {
			path = "/items?limit=50&cursor=" + url.QueryEscape(c.cursor)
		}
	case "filter":
		path = []string{"/items?limit=50&platform=telegram", "/items?limit=50&status=submitted", "/items?limit=50&agency=" + c.agency, "/items?limit=50&kind=post"}[c.r.IntN(4)]
	case "search":
		path = "/items?limit=50&q=" + []string{"relay", "news", "media", "example", "t.me/"}[c.r.IntN(5)]
	case "item":
		if c.lastItem == 0 {
			path = "/items?limit=50"
		} else {
			path = fmt.Sprintf("/items/%d", c.lastItem)
		}
	case "figures":
		path = "/figures"
	case "import":
		items := make([]map[string]string, c.batch)
		for i := range items {
			c.importCounter++
			items[i] = map[string]string{"url": fmt.Sprintf("https://t.me/%s_load_%d_%d", strings.ReplaceAll(c.agency, "-", "_"), time.Now().UnixNano()%1_000_000_000, c.importCounter), "notes": "load test"}
		}
		path, body = "/items/batch", map[string]any{"items": items}
	}
	method := "GET"
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		method, rd = "POST", bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode >= 300 {
		return fmt.Errorf("%s %s: %d %s", method, path, resp.StatusCode, bytes.TrimSpace(b))
	}
	if strings.HasPrefix(path, "/items?") {
		var page struct {
			Items []struct {
				ID int64 `json:"id"`
			} `json:"items"`
			NextCursor string `json:"next_cursor"`
		}
		if json.Unmarshal(b, &page) == nil {
			if kind == "list" || kind == "next page" {
				c.cursor = page.NextCursor
			}
			if len(page.Items) > 0 {
				c.lastItem = page.Items[c.r.IntN(len(page.Items))].ID
			}
		}
	}
	return nil
}

// writeLoadReport writes the sustained rate and the latencies, overall
// and per kind of request.
func writeLoadReport(w io.Writer, results []loadResult, elapsed time.Duration) {
	if len(results) == 0 {
		fmt.Fprintln(w, "no request was answered")
		return
	}
	by := map[string][]time.Duration{}
	failed := map[string]int{}
	for _, r := range results {
		by[r.kind] = append(by[r.kind], r.elapsed)
		by["all"] = append(by["all"], r.elapsed)
		if r.failed {
			failed[r.kind]++
			failed["all"]++
		}
	}
	fmt.Fprintf(w, "%d requests in %s: %.0f requests/s sustained, %d failed\n", len(results), elapsed.Round(time.Millisecond), float64(len(results))/elapsed.Seconds(), failed["all"])
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "REQUEST\tCOUNT\tFAILED\tP50\tP99\tMAX")
	kinds := make([]string, 0, len(by))
	for k := range by {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	for _, k := range kinds {
		d := by[k]
		slices.Sort(d)
		fmt.Fprintf(tw, "%s\t%d\t%d\t%s\t%s\t%s\n", k, len(d), failed[k], quantile(d, 0.5), quantile(d, 0.99), d[len(d)-1].Round(10*time.Microsecond))
	}
	tw.Flush()
}

// quantile reads a sorted list at q.
func quantile(d []time.Duration, q float64) time.Duration {
	i := int(float64(len(d)-1) * q)
	return d[i].Round(10 * time.Microsecond)
}
