package main

import (
	"fmt"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/takedown-project/takedown"
)

func newHoldCommand(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "hold",
		Short: "Place, list, renew and release deconfliction holds",
		Long: `A hold is an agency's claim that something must stay online for an
investigation. While it is active, nothing it covers is referred: one item,
every item of a handle on a platform (a channel and its posts), or every item
whose canonical URL (without scheme) matches a pattern with '*'. Items
submitted later are covered too. Other agencies see only "held for
deconfliction; contact the coordinator"; the holder and the coordinators see
the details. A hold runs 30 days unless given more (at most 180) and can be
renewed.`,
	}
	var operation, agency, handle, pattern, reason, note string
	var item int64
	var days int
	place := &cobra.Command{
		Use:   "place --operation OP --agency AG (--item ID | --handle PLATFORM:HANDLE | --pattern P) --reason R",
		Short: "Place a hold",
		Example: `  takedown hold place --operation rad-2026-11 --agency be-iru --handle telegram:news_relay --reason investigation --note "case 2026/17"
  takedown hold place --operation rad-2026-11 --agency be-iru --pattern 't.me/news_relay*' --reason undercover --days 60`,
		Args: cobra.NoArgs,
		RunE: withDatabase(g, func(cmd *cobra.Command, args []string, db database) error {
			op, err := db.FindOperation(cmd.Context(), operation)
			if err != nil {
				return err
			}
			h := &takedown.Hold{OperationID: op.ID, Agency: agency, Reason: takedown.HoldReason(reason), Note: note,
				ExpiresAt: time.Now().Add(time.Duration(days) * 24 * time.Hour)}
			switch {
			case item != 0 && handle == "" && pattern == "":
				h.Scope, h.ItemID = takedown.HoldItem, item
			case handle != "" && item == 0 && pattern == "":
				p, hd, ok := strings.Cut(handle, ":")
				if !ok {
					return takedown.Errorf(takedown.EINVALID, "--handle %q: want PLATFORM:HANDLE, e.g. telegram:news_relay", handle)
				}
				h.Scope, h.Platform, h.Handle = takedown.HoldHandle, takedown.Platform(p), strings.ToLower(strings.TrimPrefix(hd, "@"))
			case pattern != "" && item == 0 && handle == "":
				h.Scope, h.Pattern = takedown.HoldPattern, pattern
			default:
				return takedown.Errorf(takedown.EINVALID, "say what the hold covers with one of --item, --handle or --pattern")
			}
			if err := db.PlaceHold(cmd.Context(), h); err != nil {
				return err
			}
			fmt.Fprintf(g.stdout, "hold %d placed by %s on %s until %s\n", h.ID, h.Agency, holdScope(h), h.ExpiresAt.Format(time.RFC3339))
			return nil
		}),
	}
	pf := place.Flags()
	pf.StringVar(&operation, "operation", "", "the operation (required)")
	pf.StringVar(&agency, "agency", "", "the holding agency (required)")
	pf.Int64Var(&item, "item", 0, "hold one item, by ID")
	pf.StringVar(&handle, "handle", "", "hold every item of a handle: PLATFORM:HANDLE")
	pf.StringVar(&pattern, "pattern", "", "hold every item whose URL without scheme matches, '*' for any characters")
	pf.StringVar(&reason, "reason", "", "investigation, undercover, source_protection, legal_process or other (required)")
	pf.StringVar(&note, "note", "", "the reason in words, for the holder and the coordinators")
	pf.IntVar(&days, "days", 30, "days the hold runs (at most 180)")
	_ = place.MarkFlagRequired("operation")
	_ = place.MarkFlagRequired("agency")
	_ = place.MarkFlagRequired("reason")

	var active bool
	list := &cobra.Command{
		Use:   "list --operation OP [--agency AG] [--active]",
		Short: "List holds, newest first",
		Args:  cobra.NoArgs,
		RunE: withDatabase(g, func(cmd *cobra.Command, args []string, db database) error {
			op, err := db.FindOperation(cmd.Context(), operation)
			if err != nil {
				return err
			}
			f := takedown.HoldFilter{OperationID: op.ID, Agency: agency}
			if active {
				f.ActiveAt = time.Now()
			}
			hs, err := db.ListHolds(cmd.Context(), f)
			if err != nil {
				return err
			}
			now := time.Now()
			tw := tabwriter.NewWriter(g.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tAGENCY\tCOVERS\tREASON\tSTATE\tUNTIL\tNOTE")
			for _, h := range hs {
				fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\n", h.ID, h.Agency, holdScope(h), h.Reason, h.State(now), h.ExpiresAt.Format(time.RFC3339), dash(h.Note))
			}
			return tw.Flush()
		}),
	}
	lf := list.Flags()
	lf.StringVar(&operation, "operation", "", "the operation (required)")
	lf.StringVar(&agency, "agency", "", "one agency's holds only")
	lf.BoolVar(&active, "active", false, "active holds only")
	_ = list.MarkFlagRequired("operation")

	renew := &cobra.Command{
		Use:   "renew ID [--days N]",
		Short: "Run an active hold for N more days from now",
		Args:  cobra.ExactArgs(1),
		RunE: withDatabase(g, func(cmd *cobra.Command, args []string, db database) error {
			id, err := strconv.ParseInt(args[0], 10, 64)
			if err != nil {
				return takedown.Errorf(takedown.EINVALID, "hold ID %q is not a number", args[0])
			}
			h, err := db.RenewHold(cmd.Context(), id, time.Now().Add(time.Duration(days)*24*time.Hour))
			if err != nil {
				return err
			}
			fmt.Fprintf(g.stdout, "hold %d runs until %s\n", h.ID, h.ExpiresAt.Format(time.RFC3339))
			return nil
		}),
	}
	renew.Flags().IntVar(&days, "days", 30, "days from now (at most 180)")

	release := &cobra.Command{
		Use:   "release ID",
		Short: "End a hold now: what it covered may be referred",
		Args:  cobra.ExactArgs(1),
		RunE: withDatabase(g, func(cmd *cobra.Command, args []string, db database) error {
			id, err := strconv.ParseInt(args[0], 10, 64)
			if err != nil {
				return takedown.Errorf(takedown.EINVALID, "hold ID %q is not a number", args[0])
			}
			h, err := db.ReleaseHold(cmd.Context(), id)
			if err != nil {
				return err
			}
			fmt.Fprintf(g.stdout, "hold %d released\n", h.ID)
			return nil
		}),
	}
	cmd.AddCommand(place, list, renew, release)
	return cmd
}

func holdScope(h *takedown.Hold) string {
	switch h.Scope {
	case takedown.HoldItem:
		return "item " + strconv.FormatInt(h.ItemID, 10)
	case takedown.HoldHandle:
		return string(h.Platform) + ":" + h.Handle
	}
	return "pattern " + h.Pattern
}
