package evidence

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"

	gowarc "github.com/nlnwa/gowarc/v3"
	"golang.org/x/net/html"
)

// A capture is shown to people as data, never as a page: the headers of
// each answer as text, the text a page holds without its scripts, styles
// or markup, and the images alone, as images. Nothing of the captured
// page can run in a reader's browser.

// View is what a capture's file holds, ready to be shown.
type View struct {
	Responses []ResponseView
}

// ResponseView is one answer of a capture.
type ResponseView struct {
	Index       int
	TargetURI   string
	Date        string
	IP          string
	Status      string
	Headers     []string // "Name: value", sorted
	ContentType string
	Size        int
	Truncated   string
	// Text is the visible text of an HTML answer (title and body, no
	// script or style), or the body of a plain-text one.
	Text string
	// Image says the answer is an image the UI may show.
	Image bool
}

// maxViewText bounds the text shown of one page.
const maxViewText = 64 << 10

// ReadView reads a capture's WARC file from the store.
func ReadView(ctx context.Context, blobs BlobStore, location string) (*View, error) {
	v := &View{}
	err := eachResponse(ctx, blobs, location, func(i int, rec gowarc.WarcRecord, resp gowarc.HttpResponseBlock, body []byte) bool {
		h := resp.HttpHeader()
		rv := ResponseView{Index: i, TargetURI: rec.WarcHeader().Get(gowarc.WarcTargetURI), Date: rec.WarcHeader().Get(gowarc.WarcDate),
			IP: rec.WarcHeader().Get(gowarc.WarcIPAddress), Status: resp.HttpStatusLine(), Size: len(body),
			Truncated: rec.WarcHeader().Get(gowarc.WarcTruncated)}
		if h != nil {
			rv.ContentType = h.Get("Content-Type")
			for name, vals := range *h {
				for _, val := range vals {
					rv.Headers = append(rv.Headers, name+": "+val)
				}
			}
			sort.Strings(rv.Headers)
		}
		ct := strings.ToLower(rv.ContentType)
		switch {
		case strings.HasPrefix(ct, "text/html"), strings.HasPrefix(ct, "application/xhtml"):
			rv.Text = visibleText(body)
		case strings.HasPrefix(ct, "text/plain"):
			rv.Text = string(body[:min(len(body), maxViewText)])
		case ImageType(ct) != "":
			rv.Image = true
		}
		v.Responses = append(v.Responses, rv)
		return true
	})
	return v, err
}

// ImageType returns the image type the UI serves for a content type, or
// "" for anything it does not show as an image (SVG is a document that
// can hold scripts, and is shown as nothing).
func ImageType(contentType string) string {
	ct, _, _ := strings.Cut(strings.ToLower(strings.TrimSpace(contentType)), ";")
	switch ct {
	case "image/jpeg", "image/png", "image/gif", "image/webp":
		return ct
	}
	return ""
}

// ReadResource returns the body and image type of the index-th answer of
// a capture, if it is an image.
func ReadResource(ctx context.Context, blobs BlobStore, location string, index int) ([]byte, string, error) {
	var body []byte
	var ct string
	err := eachResponse(ctx, blobs, location, func(i int, _ gowarc.WarcRecord, resp gowarc.HttpResponseBlock, b []byte) bool {
		if i != index {
			return true
		}
		if h := resp.HttpHeader(); h != nil {
			ct = ImageType(h.Get("Content-Type"))
		}
		body = b
		return false
	})
	if err != nil {
		return nil, "", err
	}
	if body == nil || ct == "" {
		return nil, "", fmt.Errorf("answer %d of the capture is no image", index)
	}
	return body, ct, nil
}

// eachResponse calls f with each response record of a capture, numbered
// from 1, until f returns false.
func eachResponse(ctx context.Context, blobs BlobStore, location string, f func(int, gowarc.WarcRecord, gowarc.HttpResponseBlock, []byte) bool) error {
	rc, err := blobs.Open(ctx, location)
	if err != nil {
		return err
	}
	defer rc.Close()
	r, err := gowarc.NewWarcFileReaderFromStream(rc, 0)
	if err != nil {
		return err
	}
	defer r.Close()
	i := 0
	for rec, err := range r.Records() {
		if err != nil {
			return fmt.Errorf("read the capture: %w", err)
		}
		wr := rec.WarcRecord
		if wr.Type() != gowarc.Response {
			rec.Close()
			continue
		}
		i++
		resp, ok := wr.Block().(gowarc.HttpResponseBlock)
		if !ok {
			rec.Close()
			continue
		}
		pr, err := resp.PayloadBytes()
		if err != nil {
			rec.Close()
			return err
		}
		body, err := io.ReadAll(io.LimitReader(pr, 16<<20))
		rec.Close()
		if err != nil {
			return err
		}
		if !f(i, wr, resp, body) {
			return nil
		}
	}
	return nil
}

// visibleText is what a reader of the page sees as text: the title and
// the body's text, without scripts, styles, templates or markup, with
// block elements on lines of their own.
func visibleText(page []byte) string {
	var b strings.Builder
	z := html.NewTokenizer(bytes.NewReader(page))
	skip := 0
	for b.Len() < maxViewText {
		tt := z.Next()
		switch tt {
		case html.ErrorToken:
			return strings.TrimSpace(collapse(b.String()))
		case html.StartTagToken, html.EndTagToken:
			name, _ := z.TagName()
			switch string(name) {
			case "script", "style", "noscript", "template", "svg", "iframe", "object":
				if tt == html.StartTagToken {
					skip++
				} else if skip > 0 {
					skip--
				}
			case "p", "div", "br", "li", "h1", "h2", "h3", "h4", "title", "tr", "section", "article", "header", "footer":
				b.WriteString("\n")
			}
		case html.TextToken:
			if skip == 0 {
				b.Write(z.Text())
				b.WriteString(" ")
			}
		}
	}
	return strings.TrimSpace(collapse(b.String()))
}

// collapse keeps one space between words and no empty lines.
func collapse(s string) string {
	var lines []string
	for _, l := range strings.Split(s, "\n") {
		if l = strings.Join(strings.Fields(l), " "); l != "" {
			lines = append(lines, l)
		}
	}
	return strings.Join(lines, "\n")
}

// ServeImage writes an image of a capture with headers that keep it an
// image: its own type, no sniffing, and a policy that lets nothing run.
func ServeImage(w http.ResponseWriter, body []byte, imageType string) {
	h := w.Header()
	h.Set("Content-Type", imageType)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "default-src 'none'; sandbox")
	h.Set("Content-Disposition", "inline")
	h.Set("Cache-Control", "private, max-age=3600")
	w.Write(body)
}

// Response is one answer a capture keeps, for programs that read what a
// page showed (the resurgence signals).
type Response struct {
	TargetURI   string
	Status      int
	ContentType string
	Body        []byte
}

// ReadResponses returns the answers a capture's file holds, in order.
func ReadResponses(ctx context.Context, blobs BlobStore, location string) ([]Response, error) {
	var out []Response
	err := eachResponse(ctx, blobs, location, func(_ int, rec gowarc.WarcRecord, resp gowarc.HttpResponseBlock, body []byte) bool {
		r := Response{TargetURI: rec.WarcHeader().Get(gowarc.WarcTargetURI), Status: resp.HttpStatusCode(), Body: body}
		if h := resp.HttpHeader(); h != nil {
			r.ContentType = h.Get("Content-Type")
		}
		out = append(out, r)
		return true
	})
	return out, err
}
