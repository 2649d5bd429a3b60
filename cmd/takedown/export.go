package main

import (
	"bufio"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/takedown-project/takedown"
	"github.com/takedown-project/takedown/internal/exchange"
	"github.com/takedown-project/takedown/internal/hashlist"
	"github.com/takedown-project/takedown/internal/misp"
	"github.com/takedown-project/takedown/internal/stix"
)

// exportFormats are what takedown export writes.
var exportFormats = []string{"stix", "misp", "pdq", "pdq-csv"}

// itemWriter is a format's writer: the STIX bundle, the MISP event, the
// hash list.
type itemWriter interface {
	Write(exchange.ExportItem) error
	Close() error
}

// hashWriter writes the items' PDQ hashes as a hash list: the signals a
// platform's matching system takes.
type hashWriter struct {
	w    *hashlist.Writer
	slug string
}

func (h *hashWriter) Write(it exchange.ExportItem) error {
	for _, x := range it.Hashes {
		if x.Algorithm != "pdq" {
			continue
		}
		e := hashlist.Entry{Hash: x, Source: "takedown:" + h.slug, URL: it.Item.URL,
			Labels: []string{string(it.Item.Platform), string(it.Item.Kind), string(it.Item.Status)}}
		if err := h.w.Write(e); err != nil {
			return err
		}
	}
	return nil
}

func (h *hashWriter) Close() error { return h.w.Flush() }

func newExportCommand(g *globals) *cobra.Command {
	var operation, format, out string
	var notes bool
	var f takedown.ItemFilter
	var status, platform, kind string
	cmd := &cobra.Command{
		Use:   "export --operation OP --format stix|misp|pdq|pdq-csv [filters] [--out FILE]",
		Short: "Write an operation's items as a STIX 2.1 bundle, a MISP event or a PDQ hash list",
		Long: `export writes an operation's items, or those the filters select, in the
formats agencies and platforms exchange:

  stix     a STIX 2.1 bundle: an identity per agency, and per item its url
           observable and an observed-data with takedown's status, kind,
           platform and provider as x_takedown_ properties
  misp     one MISP event: an object per item (the url, its title, its
           hashes) with tags for takedown's status, kind, platform and the
           agencies that submitted it
  pdq      the avatar PDQ hashes of the items that have one, one per line
  pdq-csv  the same as CSV: hash,quality,labels,source,url

Submissions' notes and attributes are left out unless --notes is given:
they may say more than a recipient outside the agencies should read.
Identifiers are derived from the operation and the items, so exporting
again gives the same bundle or event, which the recipient updates.`,
		Example: `  takedown export --operation rad-2026-11 --format stix --out rad.stix.json
  takedown export --operation rad-2026-11 --format misp --status confirmed_offline
  takedown export --operation rad-2026-11 --format pdq-csv --out hashes.csv`,
		Args: cobra.NoArgs,
		RunE: withDatabase(g, func(cmd *cobra.Command, args []string, db database) error {
			ctx := cmd.Context()
			if !slices.Contains(exportFormats, format) {
				return takedown.Errorf(takedown.EINVALID, "unknown format %q: want %s", format, strings.Join(exportFormats, ", "))
			}
			op, err := db.FindOperation(ctx, operation)
			if err != nil {
				return err
			}
			f.Status, f.Platform, f.Kind = takedown.ItemStatus(status), takedown.Platform(platform), takedown.Kind(kind)
			var n int
			done := func(out string) string {
				return fmt.Sprintf("%d items of %s written to %s as %s", n, op.Slug, out, format)
			}
			return writeOut(g, out, done, func(dst io.Writer) error {
				buf := bufio.NewWriterSize(dst, 64<<10)
				var w itemWriter
				begin := func(exp exchange.Export) error {
					var err error
					switch format {
					case "stix":
						w, err = stix.NewWriter(buf, exp)
					case "misp":
						w, err = misp.NewWriter(buf, exp)
					case "pdq", "pdq-csv":
						var hw *hashlist.Writer
						hf := hashlist.FormatHex
						if format == "pdq-csv" {
							hf = hashlist.FormatCSV
						}
						hw, err = hashlist.NewWriter(buf, hf)
						w = &hashWriter{w: hw, slug: op.Slug}
					}
					return err
				}
				write := func(it exchange.ExportItem) error { return w.Write(it) } // w is made by begin
				var err error
				if n, err = exchange.Collect(ctx, db, op, exchange.Options{Filter: f, Notes: notes}, begin, write); err != nil {
					return err
				}
				if err := w.Close(); err != nil {
					return err
				}
				return buf.Flush()
			})
		}),
	}
	fl := cmd.Flags()
	fl.StringVar(&operation, "operation", "", "the operation (required)")
	fl.StringVar(&format, "format", "stix", strings.Join(exportFormats, ", "))
	fl.StringVar(&out, "out", "", "write to this file instead of standard output")
	fl.BoolVar(&notes, "notes", false, "keep the submissions' notes and attributes")
	fl.StringVar(&status, "status", "", "only items of this status")
	fl.StringVar(&platform, "platform", "", "only items of this platform")
	fl.StringVar(&kind, "kind", "", "only items of this kind")
	fl.StringVar(&f.Agency, "agency", "", "only items this agency submitted")
	fl.StringVar(&f.Provider, "provider", "", "only items attributed to this provider")
	_ = cmd.MarkFlagRequired("operation")
	return cmd
}
