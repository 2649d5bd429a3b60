package main

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/takedown-project/takedown"
	"github.com/takedown-project/takedown/internal/evidence"
	"github.com/takedown-project/takedown/internal/outbound"
	"github.com/takedown-project/takedown/internal/probe"
	"github.com/takedown-project/takedown/internal/simnet"
)

// takedown bench measures what the issues ask to be measured where a
// go test -bench cannot: side by side with another program, each in a
// process of its own so that its peak memory is its own.

func newBenchCommand(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Measure takedown's throughput and memory against the figures it promises",
	}
	cmd.AddCommand(newBenchProbeCommand(g), newBenchProbeURLsCommand(g), newBenchCaptureCommand(g), newBenchCaptureURLsCommand(g), newBenchLoadCommand(g))
	return cmd
}

// benchProbe is one run of takedown bench probe.
type benchProbe struct {
	items, hosts int
	perHost      int
	rate         float64
	concurrency  int
	httpx        string
	dir          string
}

func newBenchProbeCommand(g *globals) *cobra.Command {
	b := &benchProbe{}
	cmd := &cobra.Command{
		Use:   "probe [--items N] [--hosts H] [--httpx PATH]",
		Short: "Probe N items over H loopback hosts, within the per-host limits, and compare with httpx",
		Long: `bench probe serves H hosts on loopback (addresses 127.1.x.y, one listener
each, HTTPS with a certificate made for the run), writes N item URLs spread
over them (a third of them pages of removed channels), and probes the list
in a child process with takedown's prober: per-host concurrency and rate
limits on, the SSRF guard on (the run allows 127.0.0.0/8), every answer
classified by the built-in rules. It reports probes per second and the
child's peak memory (resident set).

With --httpx, it then runs projectdiscovery/httpx on the same list, in its
own process, with comparable settings: the same number of concurrent
requests, the same timeout, no retries, no global rate limit, status code
and title read from each answer; httpx has no per-host limits, so it
probes with none. The ratio is takedown's rate over httpx's.

Nothing leaves this machine: the hosts are loopback addresses.`,
		Example: `  takedown bench probe
  takedown bench probe --items 1000000
  takedown bench probe --httpx $(go env GOPATH)/bin/httpx`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error { return b.run(cmd.Context(), g) },
	}
	f := cmd.Flags()
	f.IntVar(&b.items, "items", 100_000, "items to probe")
	f.IntVar(&b.hosts, "hosts", 1000, "hosts they are spread over (at most 50,000)")
	f.IntVar(&b.perHost, "per-host", 2, "probes of one host at once")
	f.Float64Var(&b.rate, "rate", 10, "probes of one host per second")
	f.IntVar(&b.concurrency, "concurrency", 256, "probes at once in all (and httpx's -threads)")
	f.StringVar(&b.httpx, "httpx", "", "the httpx program to compare with")
	f.StringVar(&b.dir, "dir", "", "where to write the URL list and certificate (default: a temporary folder)")
	return cmd
}

// benchHost is the loopback address of host i: 127.1.x.y, y from 1 to 200.
func benchHost(i int) netip.Addr {
	return netip.AddrFrom4([4]byte{127, 1 + byte(i/(200*256)), byte(i / 200 % 256), byte(i%200 + 1)})
}

// benchResult is what a prober's run measured.
type benchResult struct {
	Tool     string         `json:"tool"`
	Probes   int            `json:"probes"`
	Seconds  float64        `json:"seconds"`
	PeakRSS  int64          `json:"peak_rss_bytes"`
	Verdicts map[string]int `json:"verdicts"`
	// Conns is how many connections the hosts accepted from it.
	Conns int64 `json:"-"`
}

func (r benchResult) rate() float64 { return float64(r.Probes) / r.Seconds }

func (b *benchProbe) run(ctx context.Context, g *globals) error {
	if b.items < 1 || b.hosts < 1 || b.hosts > 50_000 {
		return takedown.Errorf(takedown.EINVALID, "--items must be at least 1, --hosts from 1 to 50,000")
	}
	dir, cleanup, err := benchDir(b.dir)
	if err != nil {
		return err
	}
	defer cleanup()
	cert, caPath, err := benchCertificate(dir, b.hosts)
	if err != nil {
		return err
	}
	var conns atomic.Int64
	port, closeHosts, err := serveBenchHosts(b.hosts, cert, &conns)
	if err != nil {
		return err
	}
	defer closeHosts()
	list := filepath.Join(dir, "urls.txt")
	if err := writeBenchURLs(list, b.items, b.hosts, port); err != nil {
		return err
	}
	fmt.Fprintf(g.stdout, "%d items over %d hosts on loopback (127.1.0.1-%s, port %d), HTTPS\n", b.items, b.hosts, benchHost(b.hosts-1), port)

	self, err := os.Executable()
	if err != nil {
		return err
	}
	var results []benchResult
	var td benchResult
	err = runBenchChild(ctx, &td, self, "bench", "probe-urls", "--list", list, "--ca", caPath,
		"--per-host", strconv.Itoa(b.perHost), "--rate", strconv.FormatFloat(b.rate, 'g', -1, 64), "--concurrency", strconv.Itoa(b.concurrency))
	if err != nil {
		return fmt.Errorf("takedown's prober: %w", err)
	}
	td.Conns = conns.Swap(0)
	results = append(results, td)
	if b.httpx != "" {
		hx, err := runHTTPX(ctx, b.httpx, list, b.concurrency)
		if err != nil {
			return fmt.Errorf("httpx: %w", err)
		}
		hx.Conns = conns.Swap(0)
		results = append(results, hx)
	}
	tw := tabwriter.NewWriter(g.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "PROBER\tPROBES\tSECONDS\tPROBES/S\tPEAK RSS\tCONNECTIONS\tWHAT IT SAW")
	for _, r := range results {
		fmt.Fprintf(tw, "%s\t%d\t%.2f\t%.0f\t%.0f MB\t%d\t%s\n", r.Tool, r.Probes, r.Seconds, r.rate(), float64(r.PeakRSS)/(1<<20), r.Conns, verdictSummary(r.Verdicts))
	}
	tw.Flush()
	fmt.Fprintf(g.stdout, "takedown: %d per host at once, %g per host per second (at most %.0f probes/s over %d hosts), %d at once in all\n",
		b.perHost, b.rate, b.rate*float64(b.hosts), b.hosts, b.concurrency)
	if len(results) == 2 {
		fmt.Fprintf(g.stdout, "ratio takedown/httpx: %.2f (httpx without per-host limits)\n", results[0].rate()/results[1].rate())
	}
	if td.Probes != b.items {
		return fmt.Errorf("takedown probed %d of %d items", td.Probes, b.items)
	}
	return nil
}

func verdictSummary(m map[string]int) string {
	var parts []string
	for _, k := range []string{"online", "offline", "unknown", "answered", "failed"} {
		if n, ok := m[k]; ok {
			parts = append(parts, fmt.Sprintf("%s %d", k, n))
		}
	}
	return strings.Join(parts, ", ")
}

// benchCertificate makes a self-signed certificate for the hosts'
// addresses, and writes it where the child trusts it from.
func benchCertificate(dir string, hosts int) (tls.Certificate, string, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, "", err
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "takedown bench"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, BasicConstraintsValid: true, IsCA: true,
	}
	for i := range hosts {
		tmpl.IPAddresses = append(tmpl.IPAddresses, benchHost(i).AsSlice())
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, "", err
	}
	path := filepath.Join(dir, "bench-ca.pem")
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		return tls.Certificate{}, "", err
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, path, nil
}

// Pages the hosts serve: a channel that is there, and the page of a name
// that is no channel (removed), both as the channel service shows them.
var (
	benchPresent = []byte(`<!DOCTYPE html><html><head><meta charset="utf-8"><title>Telegram: View @bench_channel</title>` +
		`<meta property="og:title" content="Bench channel"></head><body><div class="tgme_page_wrap"><div class="tgme_page">` +
		`<div class="tgme_page_title"><span dir="auto">Bench channel</span></div><div class="tgme_page_extra">1 204 subscribers</div>` +
		`<div class="tgme_page_description">` + strings.Repeat("Lorem ipsum dolor sit amet, filler text of an invented channel. ", 40) +
		`</div></div></div></body></html>`)
	benchRemoved = []byte(`<!DOCTYPE html><html><head><meta charset="utf-8"><title>Telegram: Contact @bench_gone</title>` +
		`<meta property="og:description" content="You can contact @bench_gone right away."></head><body><div class="tgme_page_wrap">` +
		`<div class="tgme_page"><div class="tgme_page_description">If you have <strong>Telegram</strong>, you can contact ` +
		`<a class="tgme_username_link" href="tg://resolve?domain=bench_gone">@bench_gone</a> right away.</div></div></div></body></html>`)
)

// serveBenchHosts listens on the same port of every host's address.
func serveBenchHosts(hosts int, cert tls.Certificate, conns *atomic.Int64) (int, func(), error) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		if strings.HasSuffix(r.URL.Path, "/gone") {
			w.Write(benchRemoved)
			return
		}
		w.Write(benchPresent)
	})
	srv := &http.Server{Handler: h, TLSConfig: &tls.Config{Certificates: []tls.Certificate{cert}, NextProtos: []string{"h2", "http/1.1"}},
		ReadHeaderTimeout: 10 * time.Second, ErrorLog: log.New(io.Discard, "", 0),
		ConnState: func(_ net.Conn, s http.ConnState) {
			if s == http.StateNew {
				conns.Add(1)
			}
		}}
	var lns []net.Listener
	closeAll := func() {
		srv.Close()
		for _, l := range lns {
			l.Close()
		}
	}
	port := 0
	for i := range hosts {
		l, err := net.Listen("tcp", net.JoinHostPort(benchHost(i).String(), strconv.Itoa(port)))
		if err != nil {
			closeAll()
			return 0, nil, fmt.Errorf("listen on host %d of %d: %w", i+1, hosts, err)
		}
		if port == 0 {
			port = l.Addr().(*net.TCPAddr).Port
		}
		lns = append(lns, l)
		go srv.Serve(tls.NewListener(l, srv.TLSConfig))
	}
	return port, closeAll, nil
}

// writeBenchURLs writes the items' URLs, host by host in turn (as an
// operation's items come, many platforms mixed); every third is removed.
func writeBenchURLs(path string, items, hosts, port int) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	for i := range items {
		state := "live"
		if i%3 == 0 {
			state = "gone"
		}
		fmt.Fprintf(w, "https://%s/s/c%d/%s\n", net.JoinHostPort(benchHost(i%hosts).String(), strconv.Itoa(port)), i, state)
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// runBenchChild runs takedown in a child process (its own memory, its own
// peak) and reads its result into into from the JSON it writes.
func runBenchChild(ctx context.Context, into any, self string, args ...string) error {
	cmd := exec.CommandContext(ctx, self, args...)
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return err
	}
	if err := json.Unmarshal(out, into); err != nil {
		return fmt.Errorf("the child's result: %w", err)
	}
	return nil
}

// benchDir is where a benchmark writes its files: the folder given, or a
// temporary one that cleanup removes.
func benchDir(given string) (dir string, cleanup func(), err error) {
	if given != "" {
		return given, func() {}, nil
	}
	if dir, err = os.MkdirTemp("", "takedown-bench-"); err != nil {
		return "", nil, err
	}
	return dir, func() { os.RemoveAll(dir) }, nil
}

// runHTTPX runs httpx on the list, timed from start to exit.
func runHTTPX(ctx context.Context, httpx, list string, threads int) (benchResult, error) {
	cmd := exec.CommandContext(ctx, httpx, "-l", list, "-silent", "-no-color", "-duc", "-threads", strconv.Itoa(threads),
		"-rl", "1000000", "-timeout", "20", "-retries", "0", "-sc", "-title", "-no-fallback-scheme")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return benchResult{}, err
	}
	cmd.Stderr = os.Stderr
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return benchResult{}, err
	}
	stop := make(chan struct{})
	peak := watchHWM(cmd.Process.Pid, stop)
	answered := 0
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		answered++
	}
	close(stop)
	r := benchResult{Tool: "httpx", PeakRSS: <-peak}
	if err := cmd.Wait(); err != nil {
		return benchResult{}, err
	}
	r.Seconds = time.Since(start).Seconds()
	lines, err := countLines(list)
	if err != nil {
		return r, err
	}
	r.Probes = lines
	r.Verdicts = map[string]int{"answered": answered, "failed": lines - answered}
	return r, nil
}

func countLines(path string) (int, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	n := 0
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		n++
	}
	return n, sc.Err()
}

// Peak memory is the high-water mark of a process's own address space
// (VmHWM in /proc/PID/status). The rusage of a child is no good here:
// Go starts children sharing the parent's memory until exec, and Linux
// keeps the larger of the two peaks in the child's ru_maxrss, so a
// child of a large parent would report the parent's size.

// vmHWM reads a process's peak resident set, in bytes; 0 if unknown.
func vmHWM(pid string) int64 {
	b, err := os.ReadFile("/proc/" + pid + "/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb * 1024
		}
	}
	return 0
}

// watchHWM samples a running process's peak every 20 ms until stop is
// closed, and returns the last sample (for a program that cannot report
// its own, such as httpx).
func watchHWM(pid int, stop <-chan struct{}) <-chan int64 {
	out := make(chan int64, 1)
	go func() {
		var peak int64
		t := time.NewTicker(20 * time.Millisecond)
		defer t.Stop()
		for {
			if v := vmHWM(strconv.Itoa(pid)); v > peak {
				peak = v
			}
			select {
			case <-stop:
				out <- peak
				return
			case <-t.C:
			}
		}
	}()
	return out
}

// newBenchProbeURLsCommand is the child: it probes a list of URLs with
// takedown's prober and writes its result as JSON.
func newBenchProbeURLsCommand(g *globals) *cobra.Command {
	var list, ca string
	var perHost, concurrency int
	var rate float64
	cmd := &cobra.Command{
		Use:    "probe-urls --list FILE --ca FILE",
		Short:  "Probe a list of URLs with takedown's prober (the child of bench probe)",
		Hidden: true,
		Args:   cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			pem, err := os.ReadFile(ca)
			if err != nil {
				return err
			}
			pool := x509.NewCertPool()
			if !pool.AppendCertsFromPEM(pem) {
				return errors.New("no certificate in " + ca)
			}
			p, err := probe.New(probe.Config{
				Outbound: &outbound.Config{RootCAs: pool}, Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}, Classifier: probe.DefaultRules(),
				PerHostConcurrency: perHost, PerHostRate: rate, GlobalConcurrency: concurrency, Timeout: 20 * time.Second, Retries: -1,
			})
			if err != nil {
				return err
			}
			defer p.Close()
			f, err := os.Open(list)
			if err != nil {
				return err
			}
			defer f.Close()
			ctx, cancel := context.WithCancelCause(cmd.Context())
			defer cancel(nil)
			targets := make(chan takedown.ProbeTarget, 1024)
			out := make(chan takedown.Observation, 1024)
			start := time.Now()
			go func() {
				defer close(targets)
				sc := bufio.NewScanner(f)
				for id := int64(1); sc.Scan(); id++ {
					t := takedown.ProbeTarget{ItemID: id, URL: sc.Text(), Platform: takedown.PlatformTelegram, Kind: takedown.KindChannel}
					select {
					case targets <- t:
					case <-ctx.Done():
						return
					}
				}
				if err := sc.Err(); err != nil {
					cancel(err)
				}
			}()
			done := make(chan error, 1)
			go func() { done <- p.ProbeAll(ctx, targets, out) }()
			r := benchResult{Tool: "takedown", Verdicts: map[string]int{}}
			for o := range out {
				r.Probes++
				r.Verdicts[string(o.Verdict)]++
			}
			if err := <-done; err != nil {
				return err
			}
			if err := context.Cause(ctx); err != nil {
				return err
			}
			r.Seconds = time.Since(start).Seconds()
			r.PeakRSS = vmHWM("self")
			return json.NewEncoder(g.stdout).Encode(r)
		},
	}
	f := cmd.Flags()
	f.StringVar(&list, "list", "", "the URLs, one per line")
	f.StringVar(&ca, "ca", "", "the certificate the hosts present (PEM)")
	f.IntVar(&perHost, "per-host", 2, "probes of one host at once")
	f.Float64Var(&rate, "rate", 10, "probes of one host per second")
	f.IntVar(&concurrency, "concurrency", 256, "probes at once in all")
	return cmd
}

// --- captures of evidence ---

type benchCapture struct {
	items, distinct, concurrency int
	dir                          string
}

func newBenchCaptureCommand(g *globals) *cobra.Command {
	b := &benchCapture{}
	cmd := &cobra.Command{
		Use:   "capture [--items N]",
		Short: "Capture N channel pages of the simulated internet with their images, as WARC files",
		Long: `bench capture starts the demo's simulated internet, lists N channel preview
pages of its channel service (cycling through its channels when N is larger),
and captures them in a child process the way takedown preserves evidence:
through the prober's safe client, each page with its avatar and the images
of its visible posts as WARC records, gzip per record, into a
content-addressed store on disk. It reports captures per second, the bytes
stored per second and the child's peak memory.`,
		Example: `  takedown bench capture --items 10000`,
		Args:    cobra.NoArgs,
		RunE:    func(cmd *cobra.Command, args []string) error { return b.run(cmd.Context(), g) },
	}
	f := cmd.Flags()
	f.IntVar(&b.items, "items", 10_000, "pages to capture")
	f.IntVar(&b.distinct, "distinct", 500, "distinct channels they cycle through (the simulator keeps about 4,000 generated images; more channels measure its image generation, not the capture)")
	f.IntVar(&b.concurrency, "concurrency", 32, "captures at once")
	f.StringVar(&b.dir, "dir", "", "where the list, the simulator's description and the captures go (default: a temporary folder)")
	return cmd
}

// benchCaptureResult is what the child measured.
type benchCaptureResult struct {
	Captures  int         `json:"captures"`
	States    stateCounts `json:"states"`
	Resources int         `json:"resources"`
	Bytes     int64       `json:"bytes"`
	Seconds   float64     `json:"seconds"`
	PeakRSS   int64       `json:"peak_rss_bytes"`
}

func (b *benchCapture) run(ctx context.Context, g *globals) error {
	if b.items < 1 || b.concurrency < 1 {
		return takedown.Errorf(takedown.EINVALID, "--items and --concurrency must be at least 1")
	}
	dir, cleanup, err := benchDir(b.dir)
	if err != nil {
		return err
	}
	defer cleanup()
	s := simnet.Demo()
	srv, err := simnet.Start(ctx, simnet.Config{Scenario: s, Clock: simnet.NewClock(s.Start, 1)})
	if err != nil {
		return err
	}
	defer srv.Close()
	info := filepath.Join(dir, "simnet.json")
	if _, err := writeSimnetInfo(srv.Info(), info); err != nil {
		return err
	}
	var channels []string
	for _, e := range srv.World().Entities {
		if e.Platform == simnet.Telegram && e.Kind == simnet.KindChannel {
			channels = append(channels, "https://t.me/s/"+e.Handle)
		}
	}
	if len(channels) == 0 {
		return errors.New("the simulated world has no channel")
	}
	distinct := min(b.distinct, len(channels), b.items)
	writeList := func(name string, n int) (string, error) {
		path := filepath.Join(dir, name)
		f, err := os.Create(path)
		if err != nil {
			return "", err
		}
		w := bufio.NewWriter(f)
		for i := range n {
			fmt.Fprintln(w, channels[i%distinct])
		}
		if err := w.Flush(); err != nil {
			f.Close()
			return "", err
		}
		return path, f.Close()
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	child := func(list, store string) (benchCaptureResult, error) {
		var r benchCaptureResult
		if err := runBenchChild(ctx, &r, self, "bench", "capture-urls", "--list", list, "--simnet", info, "--store", store, "--concurrency", strconv.Itoa(b.concurrency)); err != nil {
			return r, fmt.Errorf("the capturing child: %w", err)
		}
		return r, nil
	}
	// A first pass, not measured, has the simulator make its images.
	warm, err := writeList("warm.txt", distinct)
	if err != nil {
		return err
	}
	if _, err := child(warm, filepath.Join(dir, "warm-evidence")); err != nil {
		return err
	}
	list, err := writeList("channels.txt", b.items)
	if err != nil {
		return err
	}
	fmt.Fprintf(g.stdout, "%d captures of %d distinct channel pages of the simulated internet (HTTPS on loopback), %d at once\n", b.items, distinct, b.concurrency)
	r, err := child(list, filepath.Join(dir, "evidence"))
	if err != nil {
		return err
	}
	fmt.Fprintf(g.stdout, "%d captures in %.2f s: %.0f captures/s, %.1f MB/s stored (%.0f MB of WARC files, %d images beside the pages), %.0f MB peak RSS\n",
		r.Captures, r.Seconds, float64(r.Captures)/r.Seconds, float64(r.Bytes)/r.Seconds/(1<<20), float64(r.Bytes)/(1<<20), r.Resources, float64(r.PeakRSS)/(1<<20))
	fmt.Fprintf(g.stdout, "states: %s\n", r.States)
	if r.Captures != b.items {
		return fmt.Errorf("%d of %d pages captured", r.Captures, b.items)
	}
	return nil
}

// newBenchCaptureURLsCommand is the child: it captures a list of URLs.
func newBenchCaptureURLsCommand(g *globals) *cobra.Command {
	var list, info, store string
	var concurrency int
	cmd := &cobra.Command{
		Use:    "capture-urls --list FILE --simnet FILE --store DIR",
		Short:  "Capture a list of URLs (the child of bench capture)",
		Hidden: true,
		Args:   cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			o := &probeOptions{simnet: info, perHost: concurrency, rate: 100_000, concurrency: concurrency, timeout: 20 * time.Second}
			p, err := o.prober()
			if err != nil {
				return err
			}
			defer p.Close()
			blobs, err := evidence.NewFSStore(store)
			if err != nil {
				return err
			}
			c, err := evidence.New(evidence.Config{Fetcher: p, Classifier: probe.DefaultRules(), Blobs: blobs, Software: "takedown bench"})
			if err != nil {
				return err
			}
			f, err := os.Open(list)
			if err != nil {
				return err
			}
			defer f.Close()
			urls := make(chan string)
			results := make(chan *takedown.Capture)
			errc := make(chan error, concurrency)
			start := time.Now()
			for range concurrency {
				go func() {
					for u := range urls {
						capt, err := c.Capture(cmd.Context(), evidence.Target{URL: u, Platform: takedown.PlatformTelegram, Kind: takedown.KindChannel, Operation: "bench"})
						if err != nil {
							errc <- err
							results <- nil
							continue
						}
						results <- capt
					}
				}()
			}
			go func() {
				defer close(urls)
				sc := bufio.NewScanner(f)
				for sc.Scan() {
					urls <- sc.Text()
				}
			}()
			lines, err := countLines(list)
			if err != nil {
				return err
			}
			r := benchCaptureResult{States: stateCounts{}}
			for range lines {
				capt := <-results
				if capt == nil {
					return <-errc
				}
				r.Captures++
				r.States.add(capt)
				r.Resources += capt.Resources
				r.Bytes += capt.Size
			}
			r.Seconds = time.Since(start).Seconds()
			r.PeakRSS = vmHWM("self")
			return json.NewEncoder(g.stdout).Encode(r)
		},
	}
	f := cmd.Flags()
	f.StringVar(&list, "list", "", "the URLs, one per line")
	f.StringVar(&info, "simnet", "", "the simulator's description")
	f.StringVar(&store, "store", "", "the evidence folder")
	f.IntVar(&concurrency, "concurrency", 32, "captures at once")
	return cmd
}
