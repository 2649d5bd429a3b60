package main

import (
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/takedown-project/takedown"
)

func newOperationCommand(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "operation",
		Short: "Create and list operations (action days, campaigns)",
	}
	var name, description, evidence, successors string
	var agencies []string
	create := &cobra.Command{
		Use:     "create SLUG --name NAME [--agencies A,B]",
		Short:   "Create an operation with its participating agencies",
		Example: `  takedown operation create rad-2026-11 --name "Referral action day November 2026" --agencies nl-iru,be-iru`,
		Args:    cobra.ExactArgs(1),
		RunE: withDatabase(g, func(cmd *cobra.Command, args []string, db database) error {
			op := &takedown.Operation{Slug: args[0], Name: name, Description: description, Status: takedown.OperationOpen, Agencies: agencies, Evidence: takedown.EvidencePolicy(evidence),
				Successors: takedown.SuccessorPolicy(successors)}
			if err := db.CreateOperation(cmd.Context(), op); err != nil {
				return err
			}
			fmt.Fprintf(g.stdout, "created operation %s (%s) with agencies: %s; evidence: %s; successors: %s\n", op.Slug, op.Name, listOrNone(op.Agencies), op.Evidence, op.Successors)
			return nil
		}),
	}
	create.Flags().StringVar(&name, "name", "", "a name people read (required)")
	create.Flags().StringVar(&description, "description", "", "what the operation is about")
	create.Flags().StringSliceVar(&agencies, "agencies", nil, "codes of the participating agencies, comma-separated")
	create.Flags().StringVar(&successors, "successors", "review", "resurgence: review (watch for successors of removed items and list them for review), refer (and put confirmed successors into the next referral batch), off")
	create.Flags().StringVar(&evidence, "evidence", "before", "evidence before referral: before (an item goes once a capture was tried), required (once it was captured), off (referrals do not wait)")
	_ = create.MarkFlagRequired("name")

	join := &cobra.Command{
		Use:     "join OPERATION AGENCY...",
		Short:   "Let agencies take part in an operation",
		Example: `  takedown operation join rad-2026-11 fr-pharos`,
		Args:    cobra.MinimumNArgs(2),
		RunE: withDatabase(g, func(cmd *cobra.Command, args []string, db database) error {
			for _, a := range args[1:] {
				if err := db.AddParticipant(cmd.Context(), args[0], a); err != nil {
					return err
				}
			}
			op, err := db.FindOperation(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			fmt.Fprintf(g.stdout, "operation %s: agencies %s\n", op.Slug, listOrNone(op.Agencies))
			return nil
		}),
	}

	list := &cobra.Command{
		Use:   "list",
		Short: "List operations, newest first",
		Args:  cobra.NoArgs,
		RunE: withDatabase(g, func(cmd *cobra.Command, args []string, db database) error {
			ops, err := db.ListOperations(cmd.Context())
			if err != nil {
				return err
			}
			tw := tabwriter.NewWriter(g.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "SLUG\tSTATUS\tCREATED\tAGENCIES\tNAME")
			for _, op := range ops {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", op.Slug, op.Status, op.CreatedAt.Format("2006-01-02 15:04"), listOrNone(op.Agencies), op.Name)
			}
			return tw.Flush()
		}),
	}
	cmd.AddCommand(create, join, list)
	return cmd
}

func listOrNone(s []string) string {
	if len(s) == 0 {
		return "(none)"
	}
	return strings.Join(s, ",")
}
