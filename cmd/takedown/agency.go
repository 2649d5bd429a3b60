package main

import (
	"fmt"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/takedown-project/takedown"
)

func newAgencyCommand(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "agency",
		Short: "Add and list agencies",
	}
	var name, country string
	add := &cobra.Command{
		Use:     "add CODE --name NAME [--country CC]",
		Short:   "Add an agency",
		Example: `  takedown agency add nl-iru --name "Internet referral unit (example)" --country NL`,
		Args:    cobra.ExactArgs(1),
		RunE: withDatabase(g, func(cmd *cobra.Command, args []string, db database) error {
			a := &takedown.Agency{Code: args[0], Name: name, Country: country}
			if err := db.CreateAgency(cmd.Context(), a); err != nil {
				return err
			}
			fmt.Fprintf(g.stdout, "added agency %s (%s)\n", a.Code, a.Name)
			return nil
		}),
	}
	add.Flags().StringVar(&name, "name", "", "a name people read (required)")
	add.Flags().StringVar(&country, "country", "", "ISO 3166-1 alpha-2 country code, e.g. NL")
	_ = add.MarkFlagRequired("name")

	list := &cobra.Command{
		Use:   "list",
		Short: "List agencies",
		Args:  cobra.NoArgs,
		RunE: withDatabase(g, func(cmd *cobra.Command, args []string, db database) error {
			as, err := db.ListAgencies(cmd.Context())
			if err != nil {
				return err
			}
			tw := tabwriter.NewWriter(g.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "CODE\tCOUNTRY\tNAME")
			for _, a := range as {
				fmt.Fprintf(tw, "%s\t%s\t%s\n", a.Code, dash(a.Country), a.Name)
			}
			return tw.Flush()
		}),
	}
	cmd.AddCommand(add, list)
	return cmd
}
