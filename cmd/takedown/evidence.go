package main

import (
	"context"
	"fmt"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/takedown-project/takedown"
	"github.com/takedown-project/takedown/internal/evidence"
	"github.com/takedown-project/takedown/internal/jobs"
	"github.com/takedown-project/takedown/internal/probe"
)

// evidenceStore opens the evidence folder: --evidence, or beside a SQLite
// database (takedown.db keeps its captures in takedown.evidence). A
// deployment on PostgreSQL names a folder every process reaches.
func evidenceStore(g *globals) (*evidence.FSStore, error) {
	dir := g.evidence
	if dir == "" {
		if isPostgres(g.db) {
			return nil, takedown.Errorf(takedown.EINVALID, "with PostgreSQL, --evidence (TAKEDOWN_EVIDENCE) must name the evidence folder every process reaches")
		}
		dir = strings.TrimSuffix(g.db, filepath.Ext(g.db)) + ".evidence"
	}
	return evidence.NewFSStore(dir)
}

// captureOptions are how items are captured: the prober's client and its
// limits, and the capture's own.
type captureOptions struct {
	probes       probeOptions
	resources    int
	pageBytes    int64
	concurrency  int
	resourceSize int64
	// on: this process captures due items on schedule (serve, worker).
	on bool
}

func (o *captureOptions) register(cmd *cobra.Command) {
	o.probes.register(cmd.Flags(), false)
	cmd.Flags().StringVar(&o.probes.simnet, "simnet", "", "simulator description (simnet.json): capture from the simulated internet instead")
	o.registerCapture(cmd.Flags(), false)
}

// registerCapture registers the capture's own flags; scheduled adds the
// switch of serve's and worker's capture job.
func (o *captureOptions) registerCapture(f *pflag.FlagSet, scheduled bool) {
	if scheduled {
		f.BoolVar(&o.on, "captures", true, "capture the items that operations asking for evidence need, before their referral, in this process (--captures=false leaves it to others)")
	}
	f.IntVar(&o.resources, "capture-resources", 8, "images kept beside a page at most (avatar, banner, the visible posts' images)")
	f.Int64Var(&o.pageBytes, "capture-max-bytes", 4<<20, "bytes kept of a page at most (a larger one is kept truncated, and the capture fails too_large)")
	f.Int64Var(&o.resourceSize, "capture-max-resource-bytes", 2<<20, "bytes kept of an image at most")
	f.IntVar(&o.concurrency, "capture-concurrency", 8, "captures at once (the prober's per-host limits apply within)")
}

// capturer builds the capturer on the prober's client.
func (o *captureOptions) capturer(g *globals) (*evidence.Capturer, *probe.Prober, error) {
	p, err := o.probes.prober()
	if err != nil {
		return nil, nil, err
	}
	blobs, err := evidenceStore(g)
	if err != nil {
		p.Close()
		return nil, nil, err
	}
	c, err := evidence.New(evidence.Config{Fetcher: p, Classifier: probe.DefaultRules(), Blobs: blobs, MaxResources: o.resources,
		MaxPageBytes: o.pageBytes, MaxResourceBytes: o.resourceSize, Software: "takedown (https://github.com/takedown-project/takedown)"})
	if err != nil {
		p.Close()
		return nil, nil, err
	}
	return c, p, nil
}

func newEvidenceCommand(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "evidence",
		Short: "Preserve items as WARC captures, export them as packages, and verify packages",
	}
	cmd.AddCommand(newEvidenceCaptureCommand(g), newEvidenceExportCommand(g), newEvidenceVerifyCommand(g))
	return cmd
}

func newEvidenceCaptureCommand(g *globals) *cobra.Command {
	o := &captureOptions{}
	var operation, status, platform, progressMode string
	var items []int64
	cmd := &cobra.Command{
		Use:   "capture --operation OP [--item ID...] [--status S] [--platform P]",
		Short: "Capture items now: their page and identifying images as WARC records",
		Long: `capture preserves the items the filters select (every item of the
operation by default): the item's page and the images that identify it
(avatar, banner, images of the visible posts) as WARC 1.1 records with
SHA-256 digests, fetched through the prober's client (its guard against
private addresses, its limits and politeness), kept in the evidence store
under the file's SHA-256, and recorded with it in the audit chain. A
capture that fails (no answer, the item gone already, too large) is
recorded with its reason and keeps what was fetched.`,
		Example: `  takedown evidence capture --operation rad-2026-11
  takedown evidence capture --operation rad-2026-11 --item 42 --item 43`,
		Args: cobra.NoArgs,
		RunE: withDatabase(g, func(cmd *cobra.Command, args []string, db database) error {
			ctx := cmd.Context()
			op, err := db.FindOperation(ctx, operation)
			if err != nil {
				return err
			}
			c, p, err := o.capturer(g)
			if err != nil {
				return err
			}
			defer p.Close()
			f := takedown.ItemFilter{OperationID: op.ID, Status: takedown.ItemStatus(status), Platform: takedown.Platform(platform)}
			sum, err := captureItems(ctx, g, db, c, op, f, items, o.concurrency, progressMode)
			if err != nil {
				return err
			}
			sum.print(g)
			return nil
		}),
	}
	o.register(cmd)
	fl := cmd.Flags()
	fl.StringVar(&operation, "operation", "", "the operation (required)")
	fl.Int64SliceVar(&items, "item", nil, "only this item (repeat for more)")
	fl.StringVar(&status, "status", "", "only items of this status: "+statusList())
	fl.StringVar(&platform, "platform", "", "only items of this platform")
	fl.StringVar(&progressMode, "progress", "auto", "progress bar: auto (on a terminal), always or never")
	_ = cmd.MarkFlagRequired("operation")
	return cmd
}

// captureSummary counts what a run of captures did.
type captureSummary struct {
	captures  int
	states    stateCounts
	bytes     int64
	resources int
	elapsed   time.Duration
}

// captureItems captures the items f (or ids) selects, concurrency at a
// time, and records each capture.
func captureItems(ctx context.Context, g *globals, db database, c *evidence.Capturer, op *takedown.Operation, f takedown.ItemFilter, ids []int64, concurrency int, progressMode string) (*captureSummary, error) {
	switch progressMode {
	case "auto", "always", "never":
	default:
		return nil, takedown.Errorf(takedown.EINVALID, "--progress %q: want auto, always or never", progressMode)
	}
	concurrency = max(concurrency, 1)
	var targets []evidence.Target
	add := func(it *takedown.Item) {
		targets = append(targets, evidence.Target{ItemID: it.ID, Operation: op.Slug, URL: it.URL, Platform: it.Platform, Kind: it.Kind, Handle: it.Handle})
	}
	if len(ids) > 0 {
		for _, id := range ids {
			it, err := db.FindItem(ctx, id)
			if err != nil {
				return nil, err
			}
			if it.OperationID != op.ID {
				return nil, takedown.Errorf(takedown.ENOTFOUND, "no item %d in operation %s", id, op.Slug)
			}
			add(it)
		}
	} else if err := takedown.EachItem(ctx, db, f, func(it *takedown.Item) error { add(it); return nil }); err != nil {
		return nil, err
	}
	bar := newCountProgress(g.stderr, progressMode, "capture", int64(len(targets)))
	sum := &captureSummary{states: stateCounts{}}
	start := time.Now()
	ok := false
	defer func() { bar.finish(ok) }()

	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	work := make(chan evidence.Target)
	var mu sync.Mutex
	var wg sync.WaitGroup
	for range concurrency {
		wg.Go(func() {
			for t := range work {
				capt, err := c.Capture(ctx, t)
				if err == nil {
					err = db.RecordCapture(ctx, capt)
				}
				if err != nil {
					cancel(fmt.Errorf("capture of item %d: %w", t.ItemID, err))
					continue
				}
				mu.Lock()
				sum.captures++
				sum.states.add(capt)
				sum.bytes += capt.Size
				sum.resources += capt.Resources
				mu.Unlock()
				bar.add(1)
			}
		})
	}
feed:
	for _, t := range targets {
		select {
		case work <- t:
		case <-ctx.Done():
			break feed
		}
	}
	close(work)
	wg.Wait()
	if err := context.Cause(ctx); err != nil {
		return nil, err
	}
	ok = true
	sum.elapsed = time.Since(start)
	return sum, nil
}

// stateCounts counts captures by "state" or "state/reason".
type stateCounts map[string]int

func (c stateCounts) add(capt *takedown.Capture) {
	key := string(capt.State)
	if capt.Reason != "" {
		key += "/" + capt.Reason
	}
	c[key]++
}

// String says them in one line: "captured 1480, failed/removed 20".
func (c stateCounts) String() string {
	var parts []string
	for k, n := range c {
		parts = append(parts, fmt.Sprintf("%s %d", k, n))
	}
	sort.Strings(parts)
	return strings.Join(parts, ", ")
}

func (s *captureSummary) print(g *globals) {
	fmt.Fprintf(g.stdout, "%d items captured in %s: %.1f MB of WARC files, %d images beside the pages\n",
		s.captures, s.elapsed.Round(time.Millisecond), float64(s.bytes)/(1<<20), s.resources)
	var keys []string
	for k := range s.states {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	tw := tabwriter.NewWriter(g.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "STATE\tREASON\tITEMS")
	for _, k := range keys {
		st, reason, _ := strings.Cut(k, "/")
		fmt.Fprintf(tw, "%s\t%s\t%d\n", st, dash(reason), s.states[k])
	}
	tw.Flush()
}

func newEvidenceExportCommand(g *globals) *cobra.Command {
	var operation, out string
	var items []int64
	cmd := &cobra.Command{
		Use:   "export (--item ID... | --operation OP) --out DIR",
		Short: "Write an evidence package: captures, manifest, records and audit events of items",
		Long: `export writes an evidence package to a new folder: the WARC files of the
items' captures (checked against their SHA-256 on the way out of the store),
each item's record (its submissions, verification, every probe, its
captures and its referral trail), the audit events that concern the items
and their referrals, and a manifest (manifest.json and manifest.csv) with
every file's SHA-256 and size. takedown evidence verify checks a package.`,
		Example: `  takedown evidence export --item 42 --out case-42
  takedown evidence export --operation rad-2026-11 --out rad-2026-11-evidence`,
		Args: cobra.NoArgs,
		RunE: withDatabase(g, func(cmd *cobra.Command, args []string, db database) error {
			ctx := cmd.Context()
			if (operation == "") == (len(items) == 0) {
				return takedown.Errorf(takedown.EINVALID, "name the items: --item ID (repeatable) or --operation OP")
			}
			blobs, err := evidenceStore(g)
			if err != nil {
				return err
			}
			var ids []int64
			var op *takedown.Operation
			if operation != "" {
				if op, err = db.FindOperation(ctx, operation); err != nil {
					return err
				}
				f := takedown.ItemFilter{OperationID: op.ID, Limit: takedown.MaxPageSize}
				for {
					page, err := db.ListItems(ctx, f)
					if err != nil {
						return err
					}
					for _, it := range page.Items {
						ids = append(ids, it.ID)
					}
					if f.Cursor = page.NextCursor; f.Cursor == "" {
						break
					}
				}
			} else {
				ids = items
			}
			records, events, slug, err := exportRecords(ctx, db, ids)
			if err != nil {
				return err
			}
			m, err := evidence.Export(ctx, out, slug, records, events, blobs, time.Now())
			if err != nil {
				return err
			}
			var size int64
			for _, f := range m.Files {
				size += f.Size
			}
			fmt.Fprintf(g.stdout, "%s: %d items, %d files (%.1f MB), %d audit events; check it with: takedown evidence verify %s\n",
				out, len(m.Items), len(m.Files), float64(size)/(1<<20), len(events), out)
			return nil
		}),
	}
	f := cmd.Flags()
	f.Int64SliceVar(&items, "item", nil, "an item to export (repeat for more)")
	f.StringVar(&operation, "operation", "", "export every item of this operation")
	f.StringVar(&out, "out", "", "the package's folder (new or empty; required)")
	_ = cmd.MarkFlagRequired("out")
	return cmd
}

// exportRecords gathers what a package says of the items, and the audit
// events about them and their referrals, in chain order.
func exportRecords(ctx context.Context, db database, ids []int64) ([]evidence.ItemRecord, []*takedown.AuditEvent, string, error) {
	var records []evidence.ItemRecord
	slug := ""
	ops, err := db.ListOperations(ctx)
	if err != nil {
		return nil, nil, "", err
	}
	opByID := map[int64]*takedown.Operation{}
	for _, op := range ops {
		opByID[op.ID] = op
	}
	referrals := map[int64][]*takedown.Referral{} // by operation
	subjects := map[string]bool{}
	for _, id := range ids {
		it, err := db.FindItem(ctx, id)
		if err != nil {
			return nil, nil, "", err
		}
		op := opByID[it.OperationID]
		if op == nil {
			return nil, nil, "", takedown.Errorf(takedown.ENOTFOUND, "item %d belongs to no operation", id)
		}
		if slug == "" {
			slug = op.Slug
		} else if slug != op.Slug {
			return nil, nil, "", takedown.Errorf(takedown.EINVALID, "items %d and %d are of different operations: a package is of one", ids[0], id)
		}
		rec := evidence.ItemRecord{Item: it}
		if rec.Verification, err = db.FindVerification(ctx, id); err != nil {
			return nil, nil, "", err
		}
		rec.Verification.Derive()
		if rec.Observations, err = db.ListObservations(ctx, id, takedown.MaxPageSize); err != nil {
			return nil, nil, "", err
		}
		if rec.Captures, err = db.ListCaptures(ctx, id); err != nil {
			return nil, nil, "", err
		}
		refs, ok := referrals[op.ID]
		if !ok {
			list, err := db.ListReferrals(ctx, takedown.ReferralFilter{OperationID: op.ID})
			if err != nil {
				return nil, nil, "", err
			}
			for _, r := range list {
				full, err := db.FindReferral(ctx, r.ID)
				if err != nil {
					return nil, nil, "", err
				}
				refs = append(refs, full)
			}
			referrals[op.ID] = refs
		}
		rec.Referrals = []*takedown.Referral{}
		for _, r := range refs {
			for _, ri := range r.Items {
				if ri.ItemID == id {
					rec.Referrals = append(rec.Referrals, r)
					subjects["referral:"+strconv.FormatInt(r.ID, 10)] = true
					break
				}
			}
		}
		subjects["item:"+strconv.FormatInt(id, 10)] = true
		records = append(records, rec)
	}
	// The events of the operation, those about these items and their
	// referrals (submissions are recorded per import, under the
	// operation, and kept when they name one of the items).
	var events []*takedown.AuditEvent
	after := int64(0)
	for {
		evs, err := db.ListAudit(ctx, takedown.AuditFilter{AfterSeq: after, Limit: 5000, Operation: slug})
		if err != nil {
			return nil, nil, "", err
		}
		if len(evs) == 0 {
			break
		}
		for _, e := range evs {
			if subjects[e.Subject] {
				events = append(events, e)
			}
		}
		after = evs[len(evs)-1].Seq
	}
	return records, events, slug, nil
}

func newEvidenceVerifyCommand(g *globals) *cobra.Command {
	var againstChain bool
	cmd := &cobra.Command{
		Use:   "verify PACKAGE",
		Short: "Check an evidence package: every file's hash, nothing added or removed, the audit extract",
		Long: `verify checks an evidence package: every file against the SHA-256 and size in
its manifest, that no file was added or removed, that every capture's WARC
file is there under its hash with an audit event that names that hash, and
that every audit event carries the hash of its content. With --chain it also
compares every event with the audit chain of the database (--db). It exits
with status 3 when the package fails, and says why.`,
		Example: `  takedown evidence verify case-42
  takedown evidence verify --chain case-42`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			var chain evidence.ChainEvent
			if againstChain {
				db, err := openDatabase(ctx, g)
				if err != nil {
					return err
				}
				defer db.Close()
				chain = func(ctx context.Context, seq int64) (*takedown.AuditEvent, error) {
					evs, err := db.ListAudit(ctx, takedown.AuditFilter{AfterSeq: seq - 1, Limit: 1})
					if err != nil {
						return nil, err
					}
					if len(evs) == 0 || evs[0].Seq != seq {
						return nil, takedown.Errorf(takedown.ENOTFOUND, "no event %d", seq)
					}
					return evs[0], nil
				}
			}
			r, err := evidence.Verify(ctx, args[0], chain)
			if err != nil {
				return err
			}
			against := "each event's own hash"
			if r.ChainChecked {
				against = "the database's audit chain"
			}
			if !r.OK() {
				fmt.Fprintf(g.stdout, "%s FAILS verification:\n", args[0])
				for _, p := range r.Problems {
					fmt.Fprintf(g.stdout, "  %s\n", p)
				}
				return exitError{3}
			}
			fmt.Fprintf(g.stdout, "%s verifies: %d files, %d captures, %d audit events checked (against %s)\n", args[0], r.Files, r.Captures, r.Events, against)
			return nil
		},
	}
	cmd.Flags().BoolVar(&againstChain, "chain", false, "compare the audit events with the database's chain too")
	return cmd
}

// evidenceJob builds the scheduled captures of the job workers, on the
// prober's client and limits; nil with --captures=false.
func (o *captureOptions) evidenceJob(g *globals, db database, probes *probeOptions) (*jobs.Evidence, error) {
	if !o.on {
		return nil, nil
	}
	o.probes = *probes
	c, _, err := o.capturer(g)
	if err != nil {
		return nil, fmt.Errorf("captures: %w (or --captures=false to leave them to other processes)", err)
	}
	return &jobs.Evidence{Store: db, Capturer: c, Concurrency: o.concurrency}, nil
}
