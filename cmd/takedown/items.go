package main

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/takedown-project/takedown"
)

func newItemsCommand(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "items",
		Short: "List and show the items of an operation",
	}
	var f takedown.ItemFilter
	var operation, platform, kind, status string
	var limit int
	var asJSON bool
	list := &cobra.Command{
		Use:     "list --operation OP [filters]",
		Short:   "List items, newest first",
		Example: `  takedown items list --operation rad-2026-11 --platform telegram --agency nl-iru`,
		Args:    cobra.NoArgs,
		RunE: withDatabase(g, func(cmd *cobra.Command, args []string, db database) error {
			op, err := db.FindOperation(cmd.Context(), operation)
			if err != nil {
				return err
			}
			f.OperationID, f.Platform, f.Kind, f.Status = op.ID, takedown.Platform(platform), takedown.Kind(kind), takedown.ItemStatus(status)
			enc := json.NewEncoder(g.stdout)
			tw := tabwriter.NewWriter(g.stdout, 0, 4, 2, ' ', 0)
			if !asJSON {
				fmt.Fprintln(tw, "ID\tPLATFORM\tKIND\tSUBMISSIONS\tSTATUS\tURL")
			}
			// Page through until limit items are shown (0: all).
			shown := 0
			for {
				f.Limit = takedown.MaxPageSize
				if limit > 0 {
					f.Limit = min(limit-shown, takedown.MaxPageSize)
				}
				page, err := db.ListItems(cmd.Context(), f)
				if err != nil {
					return err
				}
				for _, it := range page.Items {
					if asJSON {
						if err := enc.Encode(it); err != nil {
							return err
						}
					} else {
						fmt.Fprintf(tw, "%d\t%s\t%s\t%d\t%s\t%s\n", it.ID, it.Platform, it.Kind, it.SubmissionCount, it.Status, it.URL)
					}
				}
				shown += len(page.Items)
				if page.NextCursor == "" || (limit > 0 && shown >= limit) {
					break
				}
				f.Cursor = page.NextCursor
			}
			return tw.Flush()
		}),
	}
	lf := list.Flags()
	lf.StringVar(&operation, "operation", "", "slug of the operation (required)")
	lf.StringVar(&platform, "platform", "", "only this platform: "+joinAny(takedown.Platforms))
	lf.StringVar(&kind, "kind", "", "only this kind: "+joinAny(takedown.Kinds))
	lf.StringVar(&f.Agency, "agency", "", "only items submitted by this agency")
	lf.StringVar(&status, "status", "", "only items in this status")
	lf.StringVar(&f.Text, "q", "", "only items whose handle, URL or title contains this text")
	lf.IntVar(&limit, "limit", 100, "show at most this many items (0: all)")
	lf.BoolVar(&asJSON, "json", false, "write one JSON object per item")
	_ = list.MarkFlagRequired("operation")

	show := &cobra.Command{
		Use:   "show ID",
		Short: "Show an item with all its submissions, as JSON",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := strconv.ParseInt(args[0], 10, 64)
			if err != nil {
				return takedown.Errorf(takedown.EINVALID, "item ID %q is not a number", args[0])
			}
			db, err := openDatabase(cmd.Context(), g)
			if err != nil {
				return err
			}
			defer db.Close()
			item, err := db.FindItem(cmd.Context(), id)
			if err != nil {
				return err
			}
			enc := json.NewEncoder(g.stdout)
			enc.SetIndent("", "  ")
			enc.SetEscapeHTML(false)
			return enc.Encode(item)
		},
	}
	cmd.AddCommand(list, show)
	return cmd
}

func joinAny[T ~string](vs []T) string {
	s := make([]string, len(vs))
	for i, v := range vs {
		s[i] = string(v)
	}
	return strings.Join(s, ", ")
}
