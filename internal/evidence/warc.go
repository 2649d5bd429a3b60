// Package evidence preserves items before they disappear: a capture of an
// item's page and the resources that identify it (avatar, banner, images
// of the visible posts) as WARC 1.1 records, fetched through the prober's
// safe client, kept in a content-addressed blob store, and exported in
// packages whose every hash can be checked.
package evidence

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	gowarc "github.com/nlnwa/gowarc/v3"

	"github.com/takedown-project/takedown/internal/probe"
)

// recordOptions make WARC 1.1 records with SHA-256 block and payload
// digests (base16, "sha256:<hex>") computed by the library.
func recordOptions() []gowarc.WarcRecordOption {
	return []gowarc.WarcRecordOption{
		gowarc.WithVersion(gowarc.V1_1),
		gowarc.WithDefaultDigestAlgorithm("sha256"),
		gowarc.WithDefaultDigestEncoding(gowarc.Base16),
		gowarc.WithAddMissingDigest(true),
		gowarc.WithAddMissingContentLength(true),
		gowarc.WithAddMissingRecordId(true),
		gowarc.WithFixContentLength(false),
		gowarc.WithFixDigest(false),
		gowarc.WithStrictValidation(),
	}
}

// warcWriter writes records to w, each in a gzip member of its own (as
// WARC files are kept: a reader can seek to any record).
type warcWriter struct {
	w       io.Writer
	m       gowarc.Marshaler
	records int
}

func newWARCWriter(w io.Writer) *warcWriter {
	return &warcWriter{w: w, m: gowarc.NewMarshaler()}
}

func (ww *warcWriter) write(rec gowarc.WarcRecord) error {
	return ww.writeLevel(rec, gzip.DefaultCompression)
}

// writeLevel writes a record at a compression level: images and other
// compressed media gain nothing from deflate's search for matches, which
// was most of a capture's time, and are only Huffman-coded.
func (ww *warcWriter) writeLevel(rec gowarc.WarcRecord, level int) error {
	defer rec.Close()
	pool := &gzipPools[0]
	if level == gzip.HuffmanOnly {
		pool = &gzipPools[1]
	}
	gz, _ := pool.Get().(*gzip.Writer)
	if gz == nil {
		var err error
		if gz, err = gzip.NewWriterLevel(ww.w, level); err != nil {
			return err
		}
	} else {
		gz.Reset(ww.w)
	}
	defer pool.Put(gz)
	if _, _, err := ww.m.Marshal(gz, rec, 0); err != nil {
		return fmt.Errorf("write a WARC %s record: %w", rec.Type(), err)
	}
	if err := gz.Close(); err != nil {
		return err
	}
	ww.records++
	return nil
}

// gzipPools keep compressors (about a megabyte of state each) for reuse,
// at the default level and Huffman-only.
var gzipPools [2]sync.Pool

// build finishes a record, or says what was wrong with it.
func build(b gowarc.WarcRecordBuilder) (gowarc.WarcRecord, error) {
	rec, validation, err := b.Build()
	if err != nil {
		return nil, fmt.Errorf("build a WARC record: %w", err)
	}
	if len(validation) > 0 {
		rec.Close()
		return nil, fmt.Errorf("build a WARC record: %v", validation[0])
	}
	return rec, nil
}

// warcinfo says what made the file and for what.
func (ww *warcWriter) warcinfo(at time.Time, filename string, fields [][2]string) (string, error) {
	b := gowarc.NewRecordBuilder(gowarc.Warcinfo, recordOptions()...)
	b.AddWarcHeaderTime(gowarc.WarcDate, at)
	b.AddWarcHeader(gowarc.WarcFilename, filename)
	b.AddWarcHeader(gowarc.ContentType, gowarc.ApplicationWarcFields)
	var body strings.Builder
	for _, f := range fields {
		fmt.Fprintf(&body, "%s: %s\r\n", f[0], strings.NewReplacer("\r", " ", "\n", " ").Replace(f[1]))
	}
	if _, err := b.WriteString(body.String()); err != nil {
		return "", err
	}
	rec, err := build(b)
	if err != nil {
		return "", err
	}
	id := angle(rec.RecordId())
	return id, ww.write(rec)
}

// exchange writes a request record and its response record, linked.
func (ww *warcWriter) exchange(x probe.Exchange, warcinfoID string) error {
	target := x.Request.URL.String()
	ip := ""
	if host, _, err := net.SplitHostPort(x.RemoteAddr); err == nil {
		ip = host
	}

	rb := gowarc.NewRecordBuilder(gowarc.Response, recordOptions()...)
	rb.AddWarcHeader(gowarc.WarcTargetURI, target)
	rb.AddWarcHeaderTime(gowarc.WarcDate, x.At)
	rb.AddWarcHeader(gowarc.ContentType, "application/http;msgtype=response")
	rb.AddWarcHeader(gowarc.WarcWarcinfoID, warcinfoID)
	if ip != "" {
		rb.AddWarcHeader(gowarc.WarcIPAddress, ip)
	}
	if x.Truncated {
		// The answer went on past the cap; a read error cut it short.
		reason := "length"
		if x.ReadErr != nil {
			reason = "disconnect"
			if strings.Contains(x.ReadErr.Error(), "deadline") || strings.Contains(x.ReadErr.Error(), "timeout") {
				reason = "time"
			}
		}
		rb.AddWarcHeader(gowarc.WarcTruncated, reason)
	}
	if _, err := rb.Write(responseBytes(x)); err != nil {
		return err
	}
	resp, err := build(rb)
	if err != nil {
		return err
	}

	qb := gowarc.NewRecordBuilder(gowarc.Request, recordOptions()...)
	qb.AddWarcHeader(gowarc.WarcTargetURI, target)
	qb.AddWarcHeaderTime(gowarc.WarcDate, x.At)
	qb.AddWarcHeader(gowarc.ContentType, "application/http;msgtype=request")
	qb.AddWarcHeader(gowarc.WarcWarcinfoID, warcinfoID)
	qb.AddWarcHeader(gowarc.WarcConcurrentTo, angle(resp.RecordId()))
	if ip != "" {
		qb.AddWarcHeader(gowarc.WarcIPAddress, ip)
	}
	if _, err := qb.Write(requestBytes(x)); err != nil {
		resp.Close()
		return err
	}
	req, err := build(qb)
	if err != nil {
		resp.Close()
		return err
	}
	if err := ww.write(req); err != nil {
		resp.Close()
		return err
	}
	return ww.writeLevel(resp, levelFor(x.Response.Header.Get("Content-Type")))
}

func levelFor(contentType string) int {
	ct := strings.ToLower(contentType)
	for _, compressed := range []string{"image/", "video/", "audio/", "application/zip", "application/gzip", "application/pdf", "application/octet-stream", "font/woff"} {
		if strings.HasPrefix(ct, compressed) && !strings.HasPrefix(ct, "image/svg") && !strings.HasPrefix(ct, "image/bmp") {
			return gzip.HuffmanOnly
		}
	}
	return gzip.DefaultCompression
}

// angle writes a record ID the way WARC headers carry it: <urn:uuid:...>.
func angle(id string) string {
	if strings.HasPrefix(id, "<") {
		return id
	}
	return "<" + id + ">"
}

// requestBytes is the request as it went on the wire (HTTP/1.1 form).
func requestBytes(x probe.Exchange) []byte {
	r := x.Request
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s %s HTTP/1.1\r\n", r.Method, r.URL.RequestURI())
	fmt.Fprintf(&b, "Host: %s\r\n", r.URL.Host)
	h := r.Header.Clone()
	h.Del("Host")
	_ = h.Write(&b)
	b.WriteString("\r\n")
	return b.Bytes()
}

// responseBytes is the answer: its status line, its headers as they came
// (less the transfer coding, which the client undid), and its body as
// read.
func responseBytes(x probe.Exchange) []byte {
	r := x.Response
	var b bytes.Buffer
	proto := r.Proto
	if proto == "" || proto == "HTTP/2.0" {
		// WARC readers expect an HTTP/1.x status line; HTTP/2's is
		// written the way archiving crawlers write it.
		proto = "HTTP/1.1"
	}
	text := http.StatusText(r.StatusCode)
	if _, after, ok := strings.Cut(r.Status, " "); ok && after != "" {
		text = after
	}
	fmt.Fprintf(&b, "%s %d %s\r\n", proto, r.StatusCode, text)
	h := r.Header.Clone()
	h.Del("Transfer-Encoding")
	if len(r.TransferEncoding) > 0 || r.ContentLength < 0 {
		// The body's length is what was read.
		h.Set("Content-Length", strconv.Itoa(len(x.Body)))
	}
	_ = h.Write(&b)
	b.WriteString("\r\n")
	b.Write(x.Body)
	return b.Bytes()
}
