package evidence

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	gowarc "github.com/nlnwa/gowarc/v3"

	"github.com/takedown-project/takedown"
	"github.com/takedown-project/takedown/internal/outbound"
	"github.com/takedown-project/takedown/internal/probe"
	"github.com/takedown-project/takedown/internal/simnet"
)

// world is a running simulator and a capturer that reaches it.
type world struct {
	srv  *simnet.Server
	cap  *Capturer
	dir  string
	blob *FSStore
}

func setup(t *testing.T) *world {
	t.Helper()
	b, err := os.ReadFile("../simnet/scenarios/small.yaml")
	if err != nil {
		t.Fatal(err)
	}
	s, err := simnet.ParseScenario(b)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := simnet.Start(context.Background(), simnet.Config{Scenario: s, Clock: simnet.NewClock(s.Start, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	info := srv.Info()
	out, err := outbound.Simnet(outbound.SimnetInfo{HTTPS: info.HTTPS, HTTP: info.HTTP, SMTP: info.SMTP, CAPEM: info.CAPEM})
	if err != nil {
		t.Fatal(err)
	}
	return newWorld(t, srv, out)
}

func newWorld(t *testing.T, srv *simnet.Server, out *outbound.Config) *world {
	t.Helper()
	p, err := probe.New(probe.Config{Outbound: out, Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}, Classifier: probe.DefaultRules(),
		PerHostRate: 1000, PerHostConcurrency: 4, Timeout: 2 * time.Second, Retries: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	dir := t.TempDir()
	fs, err := NewFSStore(filepath.Join(dir, "blobs"))
	if err != nil {
		t.Fatal(err)
	}
	c, err := New(Config{Fetcher: p, Classifier: probe.DefaultRules(), Blobs: fs, MaxPageBytes: 1 << 20, MaxResources: 4, Software: "takedown test"})
	if err != nil {
		t.Fatal(err)
	}
	return &world{srv: srv, cap: c, dir: dir, blob: fs}
}

// readWARC reads a capture's file back with the library's strict
// validation, checks every digest, and returns the records' headers.
func (w *world) readWARC(t *testing.T, c *takedown.Capture) []*gowarc.WarcFields {
	t.Helper()
	f, err := w.blob.Open(context.Background(), c.Location)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := io.ReadAll(f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	if sum := sha256.Sum256(raw); hex.EncodeToString(sum[:]) != c.SHA256 || int64(len(raw)) != c.Size {
		t.Errorf("the stored file's hash or size is not the capture's")
	}
	r, err := gowarc.NewWarcFileReaderFromStream(bytes.NewReader(raw), 0, gowarc.WithStrictValidation())
	if err != nil {
		t.Fatal(err)
	}
	var headers []*gowarc.WarcFields
	for rec, err := range r.Records() {
		if err != nil {
			t.Fatalf("record %d: %v", len(headers)+1, err)
		}
		if v, err := rec.WarcRecord.ValidateDigest(); err != nil || len(v) > 0 {
			t.Errorf("record %d: digests: %v %v", len(headers)+1, err, v)
		}
		headers = append(headers, rec.WarcRecord.WarcHeader())
		rec.Close()
	}
	if len(headers) != c.Records {
		t.Errorf("%d records read, the capture says %d", len(headers), c.Records)
	}
	return headers
}

func channelURL(t *testing.T, w *simnet.World, live bool) string {
	t.Helper()
	for _, e := range w.Entities {
		if e.Platform == simnet.Telegram && e.Kind == simnet.KindChannel && e.Predecessor == nil {
			return "https://t.me/s/" + e.Handle
		}
	}
	t.Fatal("no channel in the world")
	return ""
}

func TestCaptureChannel(t *testing.T) {
	t.Parallel()
	w := setup(t)
	u := channelURL(t, w.srv.World(), true)
	c, err := w.cap.Capture(context.Background(), Target{ItemID: 7, Operation: "rad-1", URL: u, Platform: takedown.PlatformTelegram, Kind: takedown.KindChannel})
	if err != nil {
		t.Fatal(err)
	}
	if c.State != takedown.CaptureDone || c.Status != 200 || c.Resources == 0 || c.Records != 1+2*(1+c.Resources) {
		t.Fatalf("capture of a live channel: %+v", c)
	}
	hs := w.readWARC(t, c)
	if hs[0].Get(gowarc.WarcType) != "warcinfo" {
		t.Errorf("the first record is %s", hs[0].Get(gowarc.WarcType))
	}
	info := hs[0].Get(gowarc.WarcRecordID)
	for i, h := range hs[1:] {
		typ := h.Get(gowarc.WarcType)
		if want := []string{"request", "response"}[i%2]; typ != want {
			t.Errorf("record %d is %s, want %s", i+2, typ, want)
		}
		if !strings.HasPrefix(h.Get(gowarc.WarcBlockDigest), "sha256:") || h.Get(gowarc.WarcTargetURI) == "" || h.Get(gowarc.WarcDate) == "" ||
			h.Get(gowarc.WarcIPAddress) != "127.0.0.1" || h.Get(gowarc.WarcWarcinfoID) != info {
			t.Errorf("record %d lacks a header: %s", i+2, h)
		}
		if typ == "response" && !strings.HasPrefix(h.Get(gowarc.WarcPayloadDigest), "sha256:") {
			t.Errorf("response %d has no SHA-256 payload digest", i+2)
		}
		if typ == "request" && h.Get(gowarc.WarcConcurrentTo) != hs[i+2].Get(gowarc.WarcRecordID) {
			t.Errorf("request %d does not name its response", i+2)
		}
	}
	if hs[2].Get(gowarc.WarcTargetURI) != u {
		t.Errorf("the page's target %s, want %s", hs[2].Get(gowarc.WarcTargetURI), u)
	}
	// The same capture again is a new file (another date), kept beside.
	again, err := w.cap.Capture(context.Background(), Target{ItemID: 7, URL: u, Platform: takedown.PlatformTelegram, Kind: takedown.KindChannel})
	if err != nil || again.SHA256 == c.SHA256 {
		t.Errorf("a second capture: %+v, %v", again, err)
	}
	checkIndependently(t, w.blob.Root)
}

// A removed channel's page is kept, and the capture says the item was
// gone already; no resource is fetched for it.
func TestCaptureRemoved(t *testing.T) {
	t.Parallel()
	w := setup(t)
	u := channelURL(t, w.srv.World(), true)
	if err := w.srv.SetStatus(u, simnet.StatusRemoved); err != nil {
		t.Fatal(err)
	}
	c, err := w.cap.Capture(context.Background(), Target{ItemID: 1, URL: u, Platform: takedown.PlatformTelegram, Kind: takedown.KindChannel})
	if err != nil {
		t.Fatal(err)
	}
	if c.State != takedown.CaptureFailed || c.Reason != takedown.CaptureRemoved || c.Resources != 0 || c.Location == "" {
		t.Fatalf("capture of a removed channel: %+v", c)
	}
	w.readWARC(t, c)
}

// A huge answer is cut at the cap and kept as a truncated record; a slow
// one ends at the timeout with what came; no answer at all keeps no file.
func TestCaptureHugeSlowAndDown(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/huge":
			rw.Header().Set("Content-Type", "text/html")
			chunk := bytes.Repeat([]byte("<p>filler text of an invented page</p>\n"), 1000)
			for range 400 { // about 15 MB
				if _, err := rw.Write(chunk); err != nil {
					return
				}
			}
		case "/slow":
			rw.Header().Set("Content-Type", "text/html")
			rw.Write([]byte("<html><title>slow</title>"))
			rw.(http.Flusher).Flush()
			select {
			case <-r.Context().Done():
			case <-time.After(10 * time.Second):
			}
		}
	}))
	defer srv.Close()
	w := newWorld(t, nil, &outbound.Config{})
	c, err := w.cap.Capture(context.Background(), Target{ItemID: 1, URL: srv.URL + "/huge", Platform: takedown.PlatformWeb, Kind: takedown.KindWebsite})
	if err != nil {
		t.Fatal(err)
	}
	if c.State != takedown.CaptureFailed || c.Reason != takedown.CaptureTooLarge || c.Size > 2<<20 {
		t.Errorf("a huge page: %+v", c)
	}
	if hs := w.readWARC(t, c); len(hs) != 3 || hs[2].Get(gowarc.WarcTruncated) != "length" {
		t.Errorf("a huge page's records: %v", hs)
	}
	start := time.Now()
	c, err = w.cap.Capture(context.Background(), Target{ItemID: 2, URL: srv.URL + "/slow", Platform: takedown.PlatformWeb, Kind: takedown.KindWebsite})
	if err != nil {
		t.Fatal(err)
	}
	if c.State != takedown.CaptureFailed || c.Reason != takedown.CaptureTimeout || time.Since(start) > 5*time.Second {
		t.Errorf("a slow page: %+v after %s", c, time.Since(start))
	}
	if hs := w.readWARC(t, c); len(hs) != 3 || hs[2].Get(gowarc.WarcTruncated) == "" {
		t.Errorf("a slow page's records: %v", hs)
	}
	down := srv.URL
	srv.Close()
	c, err = w.cap.Capture(context.Background(), Target{ItemID: 3, URL: down + "/", Platform: takedown.PlatformWeb, Kind: takedown.KindWebsite})
	if err != nil || c.State != takedown.CaptureFailed || c.Reason != takedown.CaptureNetwork || c.Location != "" {
		t.Errorf("a host that is down: %+v, %v", c, err)
	}
	checkIndependently(t, w.blob.Root)
}

// checkIndependently has warcio.js read every stored WARC file and check
// every record's digests (.ci/warcio). It runs where the reader is
// installed (npm ci in .ci/warcio, which .ci/run does); CI requires it.
func checkIndependently(t *testing.T, root string) {
	t.Helper()
	script, _ := filepath.Abs("../../.ci/warcio/check.mjs")
	if _, err := os.Stat(filepath.Join(filepath.Dir(script), "node_modules", "warcio")); err != nil {
		if os.Getenv("TAKEDOWN_TEST_REQUIRE_WARCIO") == "1" {
			t.Fatal("warcio.js is not installed in .ci/warcio (npm ci there)")
		}
		t.Log("warcio.js is not installed (npm ci in .ci/warcio): the independent check is skipped")
		return
	}
	files, _ := filepath.Glob(filepath.Join(root, "??", "*.warc.gz"))
	if len(files) == 0 {
		t.Fatal("no WARC file to check")
	}
	out, err := exec.Command("node", append([]string{script}, files...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("warcio.js: %v\n%s", err, out)
	}
	t.Logf("warcio.js:\n%s", out)

	// The check bites: one byte of a page changed, and it fails.
	raw, err := os.ReadFile(files[0])
	if err != nil {
		t.Fatal(err)
	}
	zr, err := gzip.NewReader(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	plain, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	i := bytes.LastIndex(plain, []byte("</"))
	if i < 0 {
		t.Fatal("no page in the file")
	}
	plain[i+2] ^= 0x20
	var tampered bytes.Buffer
	zw := gzip.NewWriter(&tampered)
	zw.Write(plain)
	zw.Close()
	bad := filepath.Join(t.TempDir(), "tampered.warc.gz")
	if err := os.WriteFile(bad, tampered.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("node", script, bad).CombinedOutput(); err == nil || !strings.Contains(string(out), "digest") {
		t.Errorf("warcio.js passed a tampered file: %v\n%s", err, out)
	}
}

func TestResourceURLs(t *testing.T) {
	t.Parallel()
	base, _ := url.Parse("https://t.me/s/example")
	page := `<html><head><meta property="og:image" content="https://cdn.example/a.jpg"><meta name="twitter:image" content="/b.png"></head>
<body><img src="/b.png"><img src="data:image/png;base64,AAAA"><img src="javascript:alert(1)">
<a class="photo" style="background-image:url('https://cdn.example/c.jpg')"></a><img src="d.jpg#x"><img src="e.jpg"></body></html>`
	got := resourceURLs(base, []byte(page), 4)
	want := []string{"https://cdn.example/a.jpg", "https://t.me/b.png", "https://cdn.example/c.jpg", "https://t.me/s/d.jpg"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("resources %q, want %q", got, want)
	}
}

func FuzzResourceURLs(f *testing.F) {
	f.Add([]byte(`<img src="/a.png"><meta property="og:image" content="b.jpg"><i style="background:url(c.gif)">`), 3)
	f.Add([]byte(`<img src="http://[::1">`), 8)
	f.Add([]byte("<"), 1)
	base, _ := url.Parse("https://example.org/p/")
	f.Fuzz(func(t *testing.T, page []byte, max int) {
		max = max % 16
		got := resourceURLs(base, page, max)
		if len(got) > max && max >= 0 {
			t.Fatalf("%d resources, max %d", len(got), max)
		}
		seen := map[string]bool{}
		for _, u := range got {
			if !strings.HasPrefix(u, "http://") && !strings.HasPrefix(u, "https://") || seen[u] {
				t.Fatalf("resource %q in %q", u, got)
			}
			seen[u] = true
		}
	})
}

// A capture reads back as data to show: headers, the page's text without
// its scripts, and images only as images.
func TestReadView(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/page":
			rw.Header().Set("Content-Type", "text/html; charset=utf-8")
			rw.Write([]byte(`<html><head><title>Invented channel</title><script>alert("x")</script><style>p{}</style></head>
<body><p>Filler post one.</p><img src="/a.png"><img src="/b.svg"><noscript>hidden</noscript><p>Filler <b>post</b> two.</p></body></html>`))
		case "/a.png":
			rw.Header().Set("Content-Type", "image/png")
			rw.Write([]byte("\x89PNG\r\n\x1a\nnot really"))
		case "/b.svg":
			rw.Header().Set("Content-Type", "image/svg+xml")
			rw.Write([]byte(`<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>`))
		}
	}))
	defer srv.Close()
	w := newWorld(t, nil, &outbound.Config{})
	c, err := w.cap.Capture(context.Background(), Target{ItemID: 1, URL: srv.URL + "/page", Platform: takedown.PlatformWeb, Kind: takedown.KindWebsite})
	if err != nil || c.Resources != 2 {
		t.Fatalf("capture: %+v %v", c, err)
	}
	v, err := ReadView(context.Background(), w.blob, c.Location)
	if err != nil {
		t.Fatal(err)
	}
	if len(v.Responses) != 3 {
		t.Fatalf("%d answers", len(v.Responses))
	}
	page := v.Responses[0]
	if page.Text != "Invented channel\nFiller post one.\nFiller post two." || page.Image || page.Status != "200 OK" && !strings.HasSuffix(page.Status, "200 OK") {
		t.Errorf("the page's view: %+v", page)
	}
	if !v.Responses[1].Image || v.Responses[2].Image {
		t.Errorf("images: png %v, svg %v (an SVG can hold scripts and is no image to show)", v.Responses[1].Image, v.Responses[2].Image)
	}
	if b, ct, err := ReadResource(context.Background(), w.blob, c.Location, 2); err != nil || ct != "image/png" || !bytes.HasPrefix(b, []byte("\x89PNG")) {
		t.Errorf("the png: %q %s %v", b, ct, err)
	}
	for _, i := range []int{1, 3, 9} {
		if _, _, err := ReadResource(context.Background(), w.blob, c.Location, i); err == nil {
			t.Errorf("answer %d served as an image", i)
		}
	}
}
