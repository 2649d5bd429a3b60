package evidence

import (
	"bytes"
	"context"
	"errors"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"golang.org/x/net/html"

	"github.com/takedown-project/takedown"
	"github.com/takedown-project/takedown/internal/canon"
	"github.com/takedown-project/takedown/internal/probe"
)

// Fetcher fetches through the prober's safe client (probe.Prober).
type Fetcher interface {
	Fetch(ctx context.Context, rawURL string, maxBytes int64, record func(probe.Exchange)) *probe.Response
}

// Config is how items are captured.
type Config struct {
	Fetcher Fetcher
	// Classifier says whether the page shows the item (the prober's
	// rules): a capture of an item that is gone already fails "removed".
	Classifier probe.Classifier
	Blobs      BlobStore
	// MaxResources is how many images beside the page are kept (0: 8);
	// MaxPageBytes and MaxResourceBytes cap each body (0: 4 MiB, 2 MiB).
	MaxResources     int
	MaxPageBytes     int64
	MaxResourceBytes int64
	// Software names takedown in the warcinfo record.
	Software string
	Now      func() time.Time
}

// Capturer captures items.
type Capturer struct{ cfg Config }

// New returns a Capturer.
func New(cfg Config) (*Capturer, error) {
	if cfg.Fetcher == nil || cfg.Blobs == nil {
		return nil, errors.New("evidence: a capturer needs a fetcher and a blob store")
	}
	if cfg.MaxResources == 0 {
		cfg.MaxResources = 8
	}
	if cfg.MaxPageBytes == 0 {
		cfg.MaxPageBytes = 4 << 20
	}
	if cfg.MaxResourceBytes == 0 {
		cfg.MaxResourceBytes = 2 << 20
	}
	if cfg.Software == "" {
		cfg.Software = "takedown"
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Capturer{cfg: cfg}, nil
}

// Target is an item to capture.
type Target = takedown.CaptureTarget

// Capture fetches the item's page and up to MaxResources of the images
// that identify it, writes every exchange as WARC request and response
// records after a warcinfo record, and stores the file. A failure of the
// page (no answer, the item gone already, the cap reached) is said in the
// capture, which keeps what was fetched; the error is for the store and
// the context only.
func (c *Capturer) Capture(ctx context.Context, t Target) (*takedown.Capture, error) {
	at := c.cfg.Now().UTC()
	capt := &takedown.Capture{ItemID: t.ItemID, At: at, URL: t.URL}
	bw, err := c.cfg.Blobs.Create(ctx)
	if err != nil {
		return nil, err
	}
	defer bw.Abort()
	ww := newWARCWriter(bw)
	infoID, err := ww.warcinfo(at, "item-"+itoa(t.ItemID)+".warc.gz", [][2]string{
		{"software", c.cfg.Software},
		{"format", "WARC File Format 1.1"},
		{"conformsTo", "https://iipc.github.io/warc-specifications/specifications/warc-format/warc-1.1/"},
		{"description", "capture of an item before its referral"},
		{"operation", t.Operation},
		{"item", itoa(t.ItemID)},
		{"platform", string(t.Platform)},
		{"kind", string(t.Kind)},
		{"isPartOf", t.Operation},
	})
	if err != nil {
		return nil, err
	}
	var writeErr error
	record := func(x probe.Exchange) {
		if writeErr == nil {
			writeErr = ww.exchange(x, infoID)
		}
	}
	page := c.cfg.Fetcher.Fetch(ctx, t.URL, c.cfg.MaxPageBytes, record)
	if writeErr != nil {
		return nil, writeErr
	}
	capt.Status = page.Status
	capt.State = takedown.CaptureDone
	switch {
	case page.Guarded:
		capt.State, capt.Reason = takedown.CaptureFailed, takedown.CaptureRefused
	case page.Err != nil && page.Status == 0:
		capt.State, capt.Reason = takedown.CaptureFailed, takedown.CaptureNetwork
		if isTimeout(page.Err) {
			capt.Reason = takedown.CaptureTimeout
		}
	case page.Err != nil && isTimeout(page.Err):
		capt.State, capt.Reason = takedown.CaptureFailed, takedown.CaptureTimeout
	case page.Truncated:
		capt.State, capt.Reason = takedown.CaptureFailed, takedown.CaptureTooLarge
	}
	if page.Err != nil {
		capt.Error = page.Err.Error()
	}
	if capt.State == takedown.CaptureDone && c.cfg.Classifier != nil {
		switch v := c.cfg.Classifier.Classify(t.Platform, t.Kind, page); v.Verdict {
		case takedown.VerdictOffline:
			capt.State, capt.Reason = takedown.CaptureFailed, takedown.CaptureRemoved
		case takedown.VerdictUnknown:
			capt.State, capt.Reason = takedown.CaptureFailed, takedown.CaptureUnknown
		}
	}
	if capt.State == takedown.CaptureDone {
		// A channel whose page shows no posts is preserved with its
		// public preview, which does: what it said is the evidence, and
		// what finds it again when it comes back.
		if posts := canon.PostsURL(t.Platform, t.Kind, t.Handle); posts != "" && posts != page.FinalURL && ctx.Err() == nil {
			c.cfg.Fetcher.Fetch(ctx, posts, c.cfg.MaxPageBytes, record)
			if writeErr != nil {
				return nil, writeErr
			}
		}
		base, _ := url.Parse(page.FinalURL)
		for _, res := range resourceURLs(base, page.Body, c.cfg.MaxResources) {
			if ctx.Err() != nil {
				break
			}
			r := c.cfg.Fetcher.Fetch(ctx, res, c.cfg.MaxResourceBytes, record)
			if writeErr != nil {
				return nil, writeErr
			}
			if r.Status >= 200 && r.Status < 300 {
				capt.Resources++
			}
		}
	}
	if ww.records <= 1 {
		// Nothing was fetched: there is no file to keep.
		return capt, nil
	}
	blob, err := bw.Commit()
	if err != nil {
		return nil, err
	}
	capt.SHA256, capt.Size, capt.Location, capt.Records = blob.SHA256, blob.Size, blob.Location, ww.records
	return capt, nil
}

func isTimeout(err error) bool {
	return errors.Is(err, context.DeadlineExceeded) || strings.Contains(err.Error(), "timeout") || strings.Contains(err.Error(), "deadline")
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

var cssURL = regexp.MustCompile(`url\(\s*['"]?([^'")\s]+)['"]?\s*\)`)

// resourceURLs are the images that identify an item, in the page's
// order: its social image (og:image, the avatar or banner), images, and
// CSS background images (post photos on channel previews); same-page
// duplicates once, at most max, http(s) only.
func resourceURLs(base *url.URL, page []byte, max int) []string {
	if base == nil || max <= 0 {
		return nil
	}
	var out []string
	seen := map[string]bool{}
	add := func(ref string) {
		ref = strings.TrimSpace(ref)
		if ref == "" || strings.HasPrefix(ref, "data:") || len(out) >= max {
			return
		}
		u, err := base.Parse(ref)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return
		}
		u.Fragment = ""
		if s := u.String(); !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	z := html.NewTokenizer(bytes.NewReader(page))
	for len(out) < max {
		tt := z.Next()
		if tt == html.ErrorToken {
			break
		}
		if tt != html.StartTagToken && tt != html.SelfClosingTagToken {
			continue
		}
		tok := z.Token()
		attr := func(name string) string {
			for _, a := range tok.Attr {
				if a.Key == name {
					return a.Val
				}
			}
			return ""
		}
		switch tok.Data {
		case "meta":
			if p := attr("property"); p == "og:image" || attr("name") == "twitter:image" {
				add(attr("content"))
			}
		case "img":
			add(attr("src"))
		}
		if style := attr("style"); style != "" {
			for _, m := range cssURL.FindAllStringSubmatch(style, -1) {
				add(m[1])
			}
		}
	}
	return out
}
