package main

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/takedown-project/takedown"
	"github.com/takedown-project/takedown/internal/probe"
)

func newProbeCommand(g *globals) *cobra.Command {
	o := &probeOptions{}
	var operation, status, platform, provider, progressMode string
	var schedule []time.Duration
	var confirmAfter time.Duration
	var batch int
	cmd := &cobra.Command{
		Use:   "probe --operation OP [--status S] [--platform P] [--provider P]",
		Short: "Probe an operation's items now and record what is online and what is offline",
		Long: `probe looks at every item of the operation that the filters select, now, with
the same safe and polite client and the same classification rules as the
scheduled probes of takedown serve and takedown worker, records each
observation with its evidence (status, final URL, the rule that matched,
bytes read, latency, error), and applies it: two offline observations at
least --confirm-after apart confirm a removal, and a confirmed item seen
online again is reinstated. It ends with a summary of the verdicts and of
the changes.`,
		Example: `  takedown probe --operation rad-2026-11
  takedown probe --operation rad-2026-11 --status online --platform telegram`,
		Args: cobra.NoArgs,
		RunE: withDatabase(g, func(cmd *cobra.Command, args []string, db database) error {
			ctx := cmd.Context()
			op, err := db.FindOperation(ctx, operation)
			if err != nil {
				return err
			}
			f := takedown.ItemFilter{OperationID: op.ID, Status: takedown.ItemStatus(status), Platform: takedown.Platform(platform), Provider: provider}
			p, err := o.prober()
			if err != nil {
				return err
			}
			defer p.Close()
			s := takedown.DefaultSchedule
			if len(schedule) > 0 {
				s.After = schedule
			}
			s.ConfirmAfter = confirmAfter
			sum, err := probeItems(ctx, g, db, p, f, s, batch, progressMode)
			if err != nil {
				return err
			}
			sum.print(g)
			return nil
		}),
	}
	o.register(cmd.Flags(), false)
	fl := cmd.Flags()
	fl.StringVar(&o.simnet, "simnet", "", "simulator description (simnet.json): probe the simulated internet instead")
	fl.StringVar(&operation, "operation", "", "the operation (required)")
	fl.StringVar(&status, "status", "", "only items of this status: "+statusList())
	fl.StringVar(&platform, "platform", "", "only items of this platform")
	fl.StringVar(&provider, "provider", "", "only items attributed to this provider")
	fl.DurationSliceVar(&schedule, "probe-schedule", takedown.DefaultSchedule.After, "when the scheduled probes go on from here")
	fl.DurationVar(&confirmAfter, "confirm-after", takedown.DefaultSchedule.ConfirmAfter, "the least time between the two offline observations that confirm a removal")
	fl.IntVar(&batch, "batch", 500, "observations recorded per transaction")
	fl.StringVar(&progressMode, "progress", "auto", "progress bar: auto (on a terminal), always or never")
	_ = cmd.MarkFlagRequired("operation")
	return cmd
}

func statusList() string {
	var ss []string
	for _, s := range takedown.ItemStatuses {
		ss = append(ss, string(s))
	}
	return strings.Join(ss, ", ")
}

// probeSummary counts what a run of probes saw and changed.
type probeSummary struct {
	probed   int
	verdicts map[string]int // "offline/removed", ...
	changes  map[takedown.Change]int
	elapsed  time.Duration
}

// probeItems probes what f selects and records the observations. It
// streams: one goroutine pages through the targets, the prober's pool
// probes them fairly across hosts within its limits, and this goroutine
// records the observations as they end, batch observations per
// transaction, so memory stays flat however many items there are.
func probeItems(ctx context.Context, g *globals, db database, p *probe.Prober, f takedown.ItemFilter, s takedown.Schedule, batch int, progressMode string) (*probeSummary, error) {
	if batch <= 0 {
		batch = 500
	}
	switch progressMode {
	case "auto", "always", "never":
	default:
		return nil, takedown.Errorf(takedown.EINVALID, "--progress %q: want auto, always or never", progressMode)
	}
	counts, err := db.CountByStatus(ctx, f.OperationID)
	if err != nil {
		return nil, err
	}
	total := 0
	for st, n := range counts {
		if f.Status == "" || st == f.Status {
			total += n
		}
	}
	bar := newCountProgress(g.stderr, progressMode, "probe", int64(total))
	sum := &probeSummary{verdicts: map[string]int{}, changes: map[takedown.Change]int{}}
	start := time.Now()
	ok := false
	defer func() { bar.finish(ok) }()

	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	targets := make(chan takedown.ProbeTarget, batch)
	observations := make(chan takedown.Observation, batch)
	go func() {
		defer close(targets)
		after := int64(0)
		for {
			page, err := db.ProbeTargets(ctx, f, after, batch)
			if err != nil {
				cancel(err)
				return
			}
			if len(page) == 0 {
				return
			}
			after = page[len(page)-1].ItemID
			for _, t := range page {
				select {
				case targets <- t:
				case <-ctx.Done():
					return
				}
			}
		}
	}()
	probed := make(chan error, 1)
	go func() { probed <- p.ProbeAll(ctx, targets, observations) }()

	record := func(obs []takedown.Observation) error {
		changes, err := db.RecordObservations(ctx, obs, s)
		if err != nil {
			return err
		}
		for i, o := range obs {
			sum.probed++
			sum.verdicts[string(o.Verdict)+"/"+o.Reason]++
			sum.changes[changes[i]]++
		}
		bar.add(len(obs))
		return nil
	}
	pending := make([]takedown.Observation, 0, batch)
	flush := time.NewTicker(time.Second)
	defer flush.Stop()
	for done := false; !done; {
		select {
		case o, open := <-observations:
			if !open {
				done = true
				break
			}
			pending = append(pending, o)
			if len(pending) < batch {
				continue
			}
		case <-flush.C:
			// Slow hosts: record what has ended at least once a second.
		}
		if len(pending) > 0 {
			if err := record(pending); err != nil {
				cancel(err)
				for range observations {
				}
				return nil, err
			}
			pending = pending[:0]
		}
	}
	if err := context.Cause(ctx); err != nil {
		return nil, err
	}
	if err := <-probed; err != nil {
		return nil, err
	}
	ok = true
	sum.elapsed = time.Since(start)
	return sum, nil
}

func (s *probeSummary) print(g *globals) {
	rate := 0.0
	if s.elapsed > 0 {
		rate = float64(s.probed) / s.elapsed.Seconds()
	}
	fmt.Fprintf(g.stdout, "%d items probed in %s (%.0f/s)\n", s.probed, s.elapsed.Round(time.Millisecond), rate)
	var keys []string
	for k := range s.verdicts {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	tw := tabwriter.NewWriter(g.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "VERDICT\tREASON\tITEMS")
	for _, k := range keys {
		v, r, _ := strings.Cut(k, "/")
		fmt.Fprintf(tw, "%s\t%s\t%d\n", v, r, s.verdicts[k])
	}
	tw.Flush()
	fmt.Fprintf(g.stdout, "changes: %d first seen offline, %d confirmed offline, %d reinstated, %d online\n",
		s.changes[takedown.ChangeOffline], s.changes[takedown.ChangeConfirmed], s.changes[takedown.ChangeReinstated], s.changes[takedown.ChangeOnline])
}
